"""PersRM training on real tiny models: data validation, DPO stages, checkpoints and exact resume."""

from __future__ import annotations

import argparse
import json
import math
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

from pad_integrations.errors import TokenizerMismatchError
from pad_integrations.generation.reward_model import (
    HEAD_WEIGHT_KEY,
    VALUE_HEAD_FILE,
    PersonalizedRewardModel,
    load_value_head,
)
from pad_integrations.training.cli import add_train_arguments, run_train
from pad_integrations.training.data import PreferenceDataError, PreferencePair, load_pairs, save_pairs
from pad_integrations.training.loop import LoopConfig, batch_schedule
from pad_integrations.training.persrm import PersRMTrainingConfig, train_persrm

TOPICS = ["rain", "tea", "bread", "music"]


def _pairs() -> list[PreferencePair]:
    pairs = []
    for t in TOPICS:
        pairs.append(PreferencePair(f"Tell me about {t}.", "Keep answers short and to the point.",
                                    f"{t.capitalize()} is good.",
                                    f"{t.capitalize()} is good, and there is a lot more to say about {t} today."))
        pairs.append(PreferencePair([{"role": "user", "content": f"What is {t}?"}], "Be playful and add a little humor.",
                                    f"{t.capitalize()} is fun, haha!", f"{t.capitalize()} is a thing."))
    return pairs


def _config(**kw) -> PersRMTrainingConfig:
    base = {"beta": 0.5, "lr": 3e-3, "stage1_steps": 4, "stage2_steps": 2, "stage2_lr": 1e-2, "batch_size": 4,
            "checkpoint_every": 2, "seed": 3}
    return PersRMTrainingConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def lora_persrm(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PersRM trained as a LoRA adapter (stage 1) plus a trained head (stage 2)."""
    pytest.importorskip("peft")
    out = tmp_path_factory.mktemp("lora-persrm")
    result = train_persrm(_pairs(), tiny_model_dir, out, _config(lora_rank=4, stage1_steps=6, stage2_steps=2),
                          progress=False, plot_path=None)
    assert result.history["stage1"][-1]["loss"] < result.history["stage1"][0]["loss"]
    return out


def _weights(path: Path) -> dict[str, torch.Tensor]:
    model = AutoModelForCausalLM.from_pretrained(path)
    tensors = {k: v.detach().clone() for k, v in model.state_dict().items()}
    head = path / VALUE_HEAD_FILE
    if head.exists():
        tensors.update(load_file(str(head)))
    return tensors


def test_jsonl_malformed_lines_are_reported_with_their_numbers(tmp_path: Path) -> None:
    good = _pairs()[0].to_json()
    lines = [good, "{not json", "", json.dumps({"prompt": "x", "preference": "p", "chosen": "a"}),
             json.dumps([1, 2]), json.dumps({"prompt": [], "preference": "p", "chosen": "a", "rejected": "b"}),
             json.dumps({"prompt": "x", "preference": "p", "chosen": "same", "rejected": "same"}), good]
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(PreferenceDataError) as info:
        load_pairs(path)
    numbers = [n for n, _ in info.value.problems]
    assert numbers == [2, 4, 5, 6, 7]
    message = str(info.value)
    assert "line 2: invalid JSON" in message and "line 4: missing field(s): rejected" in message
    assert "line 7: 'chosen' and 'rejected' are identical" in message
    assert isinstance(info.value, ValueError)


def test_jsonl_round_trip_keeps_string_and_chat_prompts(tmp_path: Path) -> None:
    pairs = _pairs()
    path = save_pairs(pairs, tmp_path / "p.jsonl")
    assert load_pairs(path) == pairs
    assert pairs[1].messages == [{"role": "user", "content": "What is rain?"}]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(PreferenceDataError, match="no preference pairs"):
        load_pairs(empty)
    with pytest.raises(FileNotFoundError):
        load_pairs(tmp_path / "missing.jsonl")


def test_training_lowers_the_dpo_loss_and_saves_a_loadable_persrm(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "rm"
    result = train_persrm(_pairs(), tiny_model_dir, out, _config(stage1_steps=24, stage2_steps=8),
                          progress=False)
    stage1 = [h["loss"] for h in result.history["stage1"]]
    # Policy and reference start equal and the reference reads the preference too: the first loss is ln 2.
    assert stage1[0] == pytest.approx(math.log(2), abs=1e-4)
    assert sum(stage1[-4:]) / 4 < 0.5 * math.log(2)
    assert result.metrics["stage1_reward_accuracy"] > 0.9
    assert (out / "loss_curve.png").stat().st_size > 1000
    assert not (out / "checkpoints").exists()  # cleaned up after success
    rm = PersonalizedRewardModel.from_pretrained(out)
    assert rm.v_head is not None
    assert not torch.equal(rm.v_head.summary.weight, torch.eye(rm.hidden_size))
    AutoModelForCausalLM.from_pretrained(out)  # the plain backbone loads too
    saved = json.loads((out / "training_args.json").read_text())
    assert saved["config"]["reference_sees_preference"] is True and saved["pairs"] == len(_pairs())


def test_reference_without_preference_changes_the_objective(tiny_model_dir: Path, tmp_path: Path) -> None:
    result = train_persrm(_pairs(), tiny_model_dir, tmp_path / "rm",
                          _config(stage1_steps=1, stage2_steps=0, reference_sees_preference=False),
                          progress=False, plot_path=None)
    # The reference no longer reads the preference, so policy and reference differ from the first step.
    assert result.history["stage1"][0]["loss"] != pytest.approx(math.log(2), abs=1e-4)
    assert not (tmp_path / "rm" / VALUE_HEAD_FILE).exists()


def test_stage2_trains_only_the_head(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "rm"
    train_persrm(_pairs(), tiny_model_dir, out, _config(stage1_steps=0, stage2_steps=3), progress=False,
                 plot_path=None)
    base, trained = _weights(tiny_model_dir), _weights(out)
    for key, tensor in base.items():
        assert torch.equal(tensor, trained[key]), key
    assert not torch.equal(trained[HEAD_WEIGHT_KEY], torch.eye(trained[HEAD_WEIGHT_KEY].shape[0]))


def test_resume_from_a_checkpoint_reproduces_the_uninterrupted_run(tiny_model_dir: Path, tmp_path: Path) -> None:
    full_ckpt = tmp_path / "ckpt-full"
    train_persrm(_pairs(), tiny_model_dir, tmp_path / "full", _config(), progress=False, plot_path=None,
                 checkpoint_dir=full_ckpt, keep_checkpoints=True)
    assert (full_ckpt / "stage1-step2.pt").exists() and (full_ckpt / "stage2-step2.pt").exists()

    # A run that stopped after step 2 of stage 1: only that checkpoint exists.
    crashed = tmp_path / "ckpt-crashed"
    crashed.mkdir()
    shutil.copy(full_ckpt / "stage1-step2.pt", crashed)
    train_persrm(_pairs(), tiny_model_dir, tmp_path / "resumed", _config(), progress=False, plot_path=None,
                 checkpoint_dir=crashed, resume=True)
    full, resumed = _weights(tmp_path / "full"), _weights(tmp_path / "resumed")
    assert full.keys() == resumed.keys()
    for key in full:
        assert torch.equal(full[key], resumed[key]), key
    history = json.loads((tmp_path / "resumed" / "training_args.json").read_text())["metrics"]
    assert history == json.loads((tmp_path / "full" / "training_args.json").read_text())["metrics"]


def test_resume_refuses_a_checkpoint_of_other_settings(tiny_model_dir: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt"
    train_persrm(_pairs(), tiny_model_dir, tmp_path / "a", _config(stage2_steps=0), progress=False,
                 plot_path=None, checkpoint_dir=ckpt, keep_checkpoints=True)
    with pytest.raises(ValueError, match="other settings or data"):
        train_persrm(_pairs(), tiny_model_dir, tmp_path / "b", _config(stage2_steps=0, beta=0.9), progress=False,
                     plot_path=None, checkpoint_dir=ckpt, resume=True)


def test_vocabulary_mismatch_is_rejected_before_training(tiny_model_dir: Path, tiny_llama_dir: Path,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "rm"
    with pytest.raises(TokenizerMismatchError, match="reference model"):
        train_persrm(_pairs(), tiny_model_dir, out, _config(), reference_model=tiny_llama_dir, progress=False)
    assert not out.exists()


def test_tokenizer_larger_than_the_model_vocabulary_is_rejected(tiny_model_dir: Path, tmp_path: Path) -> None:
    shrunk = tmp_path / "shrunk"
    shutil.copytree(tiny_model_dir, shrunk)
    model = AutoModelForCausalLM.from_pretrained(shrunk)
    model.resize_token_embeddings(model.config.vocab_size - 10)
    model.save_pretrained(shrunk)
    with pytest.raises(TokenizerMismatchError, match="output logits"):
        train_persrm(_pairs(), shrunk, tmp_path / "rm", _config(), progress=False)
    assert not (tmp_path / "rm").exists()


def test_lora_training_saves_an_adapter_and_head_only(lora_persrm: Path, tiny_model_dir: Path) -> None:
    names = sorted(p.name for p in lora_persrm.iterdir())
    assert names == ["adapter_config.json", "adapter_model.safetensors", "training_args.json", VALUE_HEAD_FILE]
    adapter = load_file(str(lora_persrm / "adapter_model.safetensors"))
    assert adapter and all("lora_" in k for k in adapter)
    assert any(v.abs().sum() > 0 for k, v in adapter.items() if "lora_B" in k)  # stage 1 moved the adapter
    assert json.loads((lora_persrm / "adapter_config.json").read_text())["base_model_name_or_path"] == str(
        tiny_model_dir)


def _base_and_persrm(model_dir: Path, adapter_dir: Path):
    base = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    storage = {n: p.data_ptr() for n, p in base.named_parameters()}
    with torch.no_grad():
        before = base(IDS).logits
    rm = PersonalizedRewardModel.from_adapter(base, adapter_dir)
    return base, rm, storage, before


IDS = torch.tensor([[5, 17, 33, 2, 9, 41, 7], [8, 8, 21, 30, 4, 12, 19]])


def test_adapter_off_gives_the_base_logits_exactly_and_one_weight_copy(lora_persrm: Path,
                                                                       tiny_model_dir: Path) -> None:
    base, rm, storage, before = _base_and_persrm(tiny_model_dir, lora_persrm)
    assert rm.model is base and rm.adapter_name == "persrm" and rm.v_head is not None
    # One copy of the weights: every base tensor keeps its storage; the PersRM adds only LoRA + head.
    # (peft wraps each adapted Linear: its weight is now reached as ``<module>.base_layer.weight``.)
    after = {n.replace(".base_layer", ""): p.data_ptr() for n, p in base.named_parameters() if "lora_" not in n}
    assert after == storage
    extra = sum(p.numel() for n, p in base.named_parameters() if "lora_" in n)
    assert 0 < extra < 0.2 * sum(p.numel() for n, p in base.named_parameters() if "lora_" not in n)
    with torch.no_grad():
        assert torch.equal(base(IDS).logits, before)  # attached but off
        on = rm(IDS).logits
        assert torch.equal(base(IDS).logits, before)  # off again after a PersRM pass
        assert not torch.allclose(on, before, atol=1e-4)  # the PersRM pass differs: the adapter ran
        assert torch.equal(rm(IDS).logits, on)  # and is reproducible


def test_persrm_pass_equals_a_separately_merged_model(lora_persrm: Path, tiny_model_dir: Path) -> None:
    from peft import PeftModel

    _, rm, _, _ = _base_and_persrm(tiny_model_dir, lora_persrm)
    merged = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), lora_persrm)
    merged = merged.merge_and_unload().eval()
    assert not any("lora_" in n for n, _ in merged.named_parameters())
    reference = PersonalizedRewardModel(merged, load_value_head(lora_persrm / VALUE_HEAD_FILE,
                                                                merged.config.hidden_size)).eval()
    with torch.no_grad():
        torch.testing.assert_close(rm(IDS).logits, reference(IDS).logits, atol=2e-5, rtol=1e-5)


def test_engine_applies_the_adapter_over_its_own_model(lora_persrm: Path, tiny_model_dir: Path) -> None:
    from pad_integrations.generation import GuidedGenerator

    gen = GuidedGenerator.from_pretrained(tiny_model_dir, reward_model=lora_persrm)
    plain = GuidedGenerator.from_pretrained(tiny_model_dir)
    assert gen.persrm is not None and gen.persrm.model is gen.model  # shared, not a second copy
    messages = [{"role": "user", "content": "Tell me about rain."}]
    pref = "Keep answers short and to the point."
    guided = gen.generate(messages, preference=pref, strategy="pad", max_new_tokens=12)
    assert len(guided.token_ids) > 0
    # Base passes inside the same engine, before and after PAD decodes, are the base model's exactly.
    for _ in range(2):
        ours = gen.generate(messages, preference=pref, strategy="prompt", max_new_tokens=12)
        theirs = plain.generate(messages, preference=pref, strategy="prompt", max_new_tokens=12)
        assert ours.text == theirs.text and ours.token_ids == theirs.token_ids
        gen.generate(messages, preference=pref, strategy="pad", max_new_tokens=12)
    # The PAD answer is the one a separately merged PersRM gives (greedy, same scores up to rounding).
    from peft import PeftModel

    merged = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), lora_persrm)
    rm = PersonalizedRewardModel(merged.merge_and_unload().eval(),
                                 load_value_head(lora_persrm / VALUE_HEAD_FILE, gen.model.config.hidden_size))
    other = GuidedGenerator.from_pretrained(tiny_model_dir, reward_model=rm)
    assert other.persrm is not None and other.persrm.model is not other.model
    assert other.generate(messages, preference=pref, strategy="pad", max_new_tokens=12).text == guided.text


def test_full_model_persrm_directories_still_load(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "full"
    train_persrm(_pairs(), tiny_model_dir, out, _config(stage1_steps=2, stage2_steps=1), progress=False,
                 plot_path=None)
    from pad_integrations.generation import GuidedGenerator

    gen = GuidedGenerator.from_pretrained(tiny_model_dir, reward_model=out)
    assert gen.persrm is not None and gen.persrm.adapter_name is None and gen.persrm.model is not gen.model
    assert gen.generate([{"role": "user", "content": "Hi"}], preference="Be brief.", strategy="pad",
                        max_new_tokens=4).token_ids


def test_lora_training_resumes_bit_identically(tiny_model_dir: Path, tmp_path: Path) -> None:
    config = _config(lora_rank=4)
    full_ckpt = tmp_path / "ckpt-full"
    train_persrm(_pairs(), tiny_model_dir, tmp_path / "full", config, progress=False, plot_path=None,
                 checkpoint_dir=full_ckpt, keep_checkpoints=True)
    crashed = tmp_path / "ckpt-crashed"
    crashed.mkdir()
    shutil.copy(full_ckpt / "stage1-step2.pt", crashed)
    train_persrm(_pairs(), tiny_model_dir, tmp_path / "resumed", config, progress=False, plot_path=None,
                 checkpoint_dir=crashed, resume=True)
    for name in ("adapter_model.safetensors", VALUE_HEAD_FILE):
        full, resumed = load_file(str(tmp_path / "full" / name)), load_file(str(tmp_path / "resumed" / name))
        assert full.keys() == resumed.keys() and full
        for key in full:
            assert torch.equal(full[key], resumed[key]), key


def test_batch_schedule_is_seeded_and_groups_lengths() -> None:
    config = LoopConfig(steps=10, batch_size=4, lr=1e-3, seed=1)
    lengths = [i % 7 * 10 for i in range(40)]
    first = batch_schedule(40, config, lengths)
    assert first == batch_schedule(40, config, lengths)
    assert first != batch_schedule(40, LoopConfig(steps=10, batch_size=4, lr=1e-3, seed=2), lengths)
    assert sorted(i for b in first for i in b) == list(range(40))  # one epoch covers every item once
    spread = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in first)
    assert spread < sum(max(lengths) - min(lengths) for _ in first) / 2
    with pytest.raises(ValueError):
        LoopConfig(steps=0, batch_size=1, lr=1e-3)


def test_cli_reports_bad_lines_and_trains(tiny_model_dir: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(_pairs()[0].to_json() + "\n{oops\n")
    args = parser.parse_args([str(bad), "--base", str(tiny_model_dir), "--out", str(tmp_path / "x")])
    assert run_train(args) == 2
    assert "line 2: invalid JSON" in capsys.readouterr().err

    data = save_pairs(_pairs(), tmp_path / "good.jsonl")
    out = tmp_path / "rm"
    args = parser.parse_args([str(data), "--base", str(tiny_model_dir), "--out", str(out), "--stage1-steps", "2",
                              "--stage2-steps", "1", "--batch-size", "4", "--lr", "1e-3", "--no-progress"])
    assert run_train(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["output_dir"] == str(out) and "stage1_final_loss" in printed
    assert (out / VALUE_HEAD_FILE).exists() and (out / "loss_curve.png").exists()


def test_sft_weight_adds_the_chosen_nll(tiny_model_dir: Path, tmp_path: Path) -> None:
    result = train_persrm(_pairs(), tiny_model_dir, tmp_path / "rm", _config(stage1_steps=2, stage2_steps=0,
                                                                             sft_weight=0.5),
                          progress=False, plot_path=None)
    first = result.history["stage1"][0]
    assert first["chosen_nll"] > 0
    assert first["loss"] == pytest.approx(math.log(2) + 0.5 * first["chosen_nll"], rel=1e-5)


# -- the real-model recipe (run here on the tiny model: same pipeline, same judges) ---------------------------
def test_training_prompts_are_disjoint_from_the_eval_set_and_peer_fixtures() -> None:
    import re

    from pad_integrations.evaluation import eval_set
    from pad_integrations.evaluation.judges import KINDS
    from pad_integrations.training.real_prompts import PREFERENCES, QUESTIONS

    ours = [q.text.lower() for q in QUESTIONS]
    theirs = [q.lower() for q in eval_set.PROMPTS_DEV + eval_set.PROMPTS_HELDOUT]
    assert len(ours) >= 60 and len(theirs) >= 40 and len(set(ours)) == len(ours)
    assert not set(ours) & set(theirs)
    # No paraphrase either: content words of any two questions overlap by less than 40% (Jaccard).
    stop = {"what", "how", "do", "does", "is", "a", "the", "i", "why", "can", "to", "of", "and", "for", "my", "in",
            "should", "are", "me", "you", "at", "on", "with", "from", "it", "get", "make", "good", "some", "we",
            "that"}

    def content(text: str) -> set[str]:
        return set(re.findall(r"[a-z]+", text)) - stop

    checked = 0
    for a in ours:
        for b in theirs:
            wa, wb = content(a), content(b)
            assert len(wa & wb) < 0.4 * len(wa | wb), (a, b)
            checked += 1
    assert checked == len(ours) * len(theirs)
    assert not {p.text for p in PREFERENCES} & {p.text for p in eval_set.PREFERENCES}
    assert {p.kind for p in PREFERENCES} <= set(KINDS) and len({p.kind for p in PREFERENCES}) >= 10
    # Nothing from the peer suite's fixtures (issue 18).
    blob = " ".join(ours + [p.text.lower() for p in PREFERENCES])
    for marker in ("magic_function", "my_adder_tool", "san francisco", "it's sunny", "weather in"):
        assert marker not in blob


def test_cases_are_seeded_and_vegetarian_only_asks_about_food() -> None:
    from pad_integrations.training.real_prompts import QUESTIONS
    from pad_integrations.training.real_recipe import RecipeConfig, make_cases

    config = RecipeConfig()
    cases = make_cases(config)
    assert cases == make_cases(config) and cases != make_cases(RecipeConfig(seed=1))
    food = {q.text for q in QUESTIONS if q.food}
    veg = [c for c in cases if c.kind == "vegetarian"]
    assert veg and all(c.question in food for c in veg)
    assert len(cases) == len(QUESTIONS) * config.prefs_per_question


def test_pairs_are_the_best_and_worst_well_formed_samples_by_the_judges() -> None:
    from pad_integrations.training.real_recipe import (
        Case,
        RecipeConfig,
        Sample,
        rank_pairs,
        repetition_rate,
        trim_unfinished,
    )

    # An answer cut by the token limit keeps only its complete sentences or lines.
    assert trim_unfinished("Air rises. It cools and the wat") == "Air rises."
    assert trim_unfinished("- one\n- two\n- thr") == "- one\n- two" and trim_unfinished("no end") == ""

    case = Case("How do clouds form over mountains?", "bullets", "Give me your answers as a list of bullet points.")
    listed = Sample("- Air rises.\n- It cools.\n- Water condenses.", True, True, 12)
    prose = Sample("Air rises over the slope, cools and its water condenses into clouds.", False, True, 14)
    unfinished = Sample("- Air rises\n- It cools\n- Water", True, False, 128)  # cut off: not well formed
    looping = Sample("clouds form clouds form clouds form clouds form clouds form", False, True, 10)
    assert repetition_rate(looping.text) > 0.5 and repetition_rate(prose.text) == 0
    pairs = rank_pairs([case], [[unfinished, prose, looping, listed]], RecipeConfig())
    assert len(pairs) == 1
    _, chosen, rejected = pairs[0]
    assert chosen is listed and rejected is prose and chosen.score > rejected.score
    assert unfinished.score > 0  # every sample was scored, even the ones left out
    # Samples the judge cannot tell apart give no pair.
    same = [Sample("Air rises and cools.", True, True, 5), Sample("Clouds come from cooling air.", False, True, 6)]
    assert rank_pairs([case], [same], RecipeConfig()) == []


def test_real_recipe_builds_a_loadable_adapter_from_the_models_own_answers(tiny_model_dir: Path,
                                                                           tmp_path: Path) -> None:
    from pad_integrations.generation import GuidedGenerator
    from pad_integrations.training.real_recipe import RecipeConfig, build

    config = RecipeConfig().smoke()
    # The tiny model writes no sentences: its cut answers are kept whole rather than trimmed to nothing.
    config = type(config)(**{**config.__dict__, "max_questions": 4, "samples_per_case": 4, "max_new_tokens": 12,
                             "trim_unfinished": False})
    out = tmp_path / "persrm"
    report = build(out, config, model_dir=str(tiny_model_dir), base_name=str(tiny_model_dir), progress=False,
                   smoke=True)
    assert sorted(p.name for p in out.iterdir()) == [
        "adapter_config.json", "adapter_model.safetensors", "report.json", VALUE_HEAD_FILE]
    assert all(t.dtype == torch.float16 for t in load_file(str(out / "adapter_model.safetensors")).values())
    counts = report["counts"]
    assert counts["samples"] == counts["cases"] * 4 and counts["train_pairs"] > 0
    saved = json.loads((out / "report.json").read_text())
    held = set(saved["heldout_questions"])
    assert held and all((p["split"] == "heldout") == (p["prompt"] in held) for p in saved["pairs"])
    scores = {(c["question"], s["text"]): s["score"] for c in saved["cases"] for s in c["samples"]}
    for p in saved["pairs"]:
        assert scores[(p["prompt"], p["chosen"])] > scores[(p["prompt"], p["rejected"])]
    assert 0 <= saved["reward_accuracy"]["train"]["accuracy"] <= 1
    gen = GuidedGenerator.from_pretrained(tiny_model_dir, reward_model=out)
    assert gen.persrm is not None and gen.persrm.model is gen.model
    assert gen.generate([{"role": "user", "content": "Hi"}], preference="Be brief.", strategy="pad",
                        max_new_tokens=4).token_ids
