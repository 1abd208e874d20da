"""Style judges, the synthetic-language grammar check, held-out splits, and `pad eval` end to end."""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import pytest

from pad_integrations.evaluation.adherence import STRATEGIES, AdherenceReport, Sample, evaluate, format_table
from pad_integrations.evaluation.cli import add_eval_arguments, run_eval
from pad_integrations.evaluation.grammar import grammatical_fraction
from pad_integrations.evaluation.judges import JUDGES, adheres
from pad_integrations.training.synthetic_chat import EvalCase, eval_cases, preference_pairs, sft_examples
from pad_integrations.training.synthetic_style import DIMENSIONS, Style, render_answer

CONCISE = "Rain is water."
LONG = ("Certainly. Rain is useful in many everyday situations. Many people learn about rain at some point in "
        "life. Rain has a long and interesting history. The main idea behind rain is simple to state. People "
        "often use rain to solve real problems. I hope this information is useful.")
BULLETS = "Sure.\n- Rain is useful.\n- Rain is wet.\n- Rain falls."
CASUAL = "Hey! It's pretty cool, right? Cheers!"
BEGINNER = "In simple words, rain is like a helpful friend."
EXPERT = "Formally, rain is a parameterized process with clear invariants. In practice, rain trades throughput."
JOKE = "Why did the rain cross the road? To get to the other side, haha!"


@pytest.mark.parametrize(("kind", "value", "text", "expected"), [
    ("verbosity", "concise", CONCISE, True), ("verbosity", "concise", LONG, False),
    ("verbosity", "detailed", LONG, True), ("verbosity", "detailed", CONCISE, False),
    ("formality", "formal", LONG, True), ("formality", "formal", CASUAL, False),
    ("formality", "casual", CASUAL, True), ("formality", "casual", LONG, False),
    ("formality", "formal", "Certainly, it's fine.", False),  # mixed registers are neither
    ("expertise", "beginner", BEGINNER, True), ("expertise", "beginner", EXPERT, False),
    ("expertise", "expert", EXPERT, True), ("expertise", "expert", CONCISE, False),
    ("humor", "playful", JOKE, True), ("humor", "playful", LONG, False),
    ("humor", "serious", LONG, True), ("humor", "serious", JOKE, False), ("humor", "serious", "", False),
    ("format", "bullets", BULLETS, True), ("format", "bullets", LONG, False),
    ("format", "prose", LONG, True), ("format", "prose", BULLETS, False),
    ("format", "bullets", "1. one\n2. two", True), ("format", "prose", "- only one item", False),
    ("format", "bullets", "Sure.\n* one item", True),
])
def test_judges_on_hand_written_examples(kind: str, value: str, text: str, expected: bool) -> None:
    assert adheres(kind, value, text) is expected


def test_judges_cover_every_dimension_and_reject_unknown_kinds() -> None:
    assert set(JUDGES) == set(DIMENSIONS)
    with pytest.raises(ValueError, match="no judge"):
        adheres("language", "french", "Bonjour")


def test_judges_read_the_rendered_styles_exactly() -> None:
    rng = random.Random(0)
    for kind, values in DIMENSIONS.items():
        for value in values:
            for _ in range(20):
                text = render_answer("tea", Style({kind: value}), rng)
                assert adheres(kind, value, text), (kind, value, text)


def test_grammar_check_accepts_the_language_and_rejects_broken_text() -> None:
    assert grammatical_fraction(LONG) == 1.0
    assert grammatical_fraction("Hey there! What's up?") == 1.0
    assert grammatical_fraction(JOKE.replace("rain", "hot air balloons")) == 1.0
    assert grammatical_fraction("Rain is is the a joke haha.") == 0.0
    half = grammatical_fraction("Rain has a long and interesting history. the of of of the the of")
    assert 0.3 < half < 0.9
    assert grammatical_fraction("") == 0.0


def test_eval_prompts_and_phrasings_are_held_out_of_training() -> None:
    train_text = set()
    for ex in sft_examples(3000, 0):
        train_text.update(m["content"] for m in ex.messages if m.get("content"))
    for pair in preference_pairs(500, 1):
        train_text.add(pair.preference)
        train_text.update(m["content"] for m in pair.messages)
    blob = "\n".join(train_text)
    cases = eval_cases(4)
    assert len(cases) == 4 * sum(len(v) for v in DIMENSIONS.values())
    for case in cases:
        assert case.messages[0]["content"] not in train_text
        phrase = case.preference.splitlines()[-1].removeprefix("- ")
        assert phrase not in blob, phrase
    assert any(c.preference.startswith("User preferences") for c in cases)  # memory's header form too


def _case(kind: str, value: str) -> EvalCase:
    return EvalCase(kind, value, "p", [{"role": "user", "content": "q"}])


def test_report_aggregates_per_preference_and_checks_the_target() -> None:
    samples = []
    for strategy, rate in (("prompt", 0.5), ("pad", 1.0)):
        for kind, value in (("verbosity", "concise"), ("humor", "playful")):
            for i in range(4):
                samples.append(Sample(strategy, _case(kind, value), "t", i < 4 * rate, 2.0, 1.0))
    report = AdherenceReport(samples)
    assert report.summary("prompt")["adherence"] == 0.5 and report.summary("pad")["adherence"] == 1.0
    target = report.target()
    assert target["met"] and target["best_guided"] == "pad" and target["adherence_gain"] == 0.5
    data = report.to_json()
    assert set(data["strategies"]) == {"prompt", "pad"}
    assert data["strategies"]["pad"]["per_preference"]["humor:playful"]["n"] == 4
    assert "NOT met" not in format_table(report) and "concise" in format_table(report)


@pytest.fixture(scope="module")
def tiny_generator(tiny_model_dir: Path, tiny_reward_model_dir: Path):
    from pad_integrations.generation import GuidedGenerator

    return GuidedGenerator.from_pretrained(tiny_model_dir, reward_model=tiny_reward_model_dir)


def test_evaluate_runs_every_strategy_end_to_end(tiny_generator) -> None:
    cases = eval_cases(1)[:4]
    report = evaluate(tiny_generator, cases, STRATEGIES, max_new_tokens=8, batch_size=7)
    assert report.strategies == list(STRATEGIES)
    assert len(report.samples) == len(cases) * len(STRATEGIES)
    for sample in report.samples:
        assert sample.nll > 0 and 0.0 <= sample.grammar <= 1.0
        assert sample.adherent == adheres(sample.case.kind, sample.case.value, sample.text)
    # Greedy decoding is deterministic: the same run gives the same texts.
    again = evaluate(tiny_generator, cases, ["base", "pad"], max_new_tokens=8)
    def key(s: Sample) -> tuple[str, str, str]:
        return s.strategy, s.case.preference, s.case.messages[0]["content"]

    by_key = {key(s): s.text for s in report.samples}
    assert all(by_key[key(s)] == s.text for s in again.samples)
    with pytest.raises(ValueError, match="not evaluated"):
        evaluate(tiny_generator, cases, ["base"], strategy_params={"pad": {"w": 1.0}})


def test_cli_prints_json_and_writes_a_plot(tiny_model_dir: Path, tiny_reward_model_dir: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_eval_arguments(parser)
    plot = tmp_path / "eval.png"
    args = parser.parse_args(["--model", str(tiny_model_dir), "--reward-model", str(tiny_reward_model_dir),
                              "--n-prompts", "1", "--max-new-tokens", "6", "--json", "--plot", str(plot),
                              "--param", "pad.w=1.5", "--strategies", "base,prompt,pad", "--greedy"])
    assert run_eval(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["strategies"]) == {"base", "prompt", "pad"}
    for entry in data["strategies"].values():
        assert 0.0 <= entry["adherence"] <= 1.0 and entry["fluency"] > 0
    assert data["settings"]["strategy_params"] == {"pad": {"w": 1.5}}
    assert plot.stat().st_size > 1000

    args = parser.parse_args(["--model", str(tiny_model_dir), "--strategies", "pad", "--n-prompts", "1"])
    assert run_eval(args) == 2
    assert "needs --reward-model" in capsys.readouterr().err
