"""Generate and measure: every strategy configuration on every (question, preference) case of a split.

One configuration (a strategy and its parameters) runs as its own ``generate_batch`` calls, so its
tokens/s is its own. ``base`` ignores the preference, so it is generated once per question and seed and
judged against every preference. Each answer gets: the judge's adherence (and graded score), fluency
(per-token NLL under the unsteered model: the base model given the question and the preference as the
system message, i.e. plain prompting's own model, so a styled answer is not penalised for the style that
was asked for; ``nll_base`` is the same without the preference), on-topic (metrics.py) and repetition.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from pad_integrations.evaluation.eval_set import EvalCase, EvalQuestion
from pad_integrations.evaluation.judges import adheres, score
from pad_integrations.evaluation.metrics import (
    answer_logprobs,
    bootstrap_ci,
    distractors,
    repetition_rate,
)
from pad_integrations.generation import GenerationRequest, GuidedGenerator

ON_TOPIC_DISTRACTORS = 3
MIN_ON_TOPIC_WORDS = 3


@dataclass(frozen=True)
class Config:
    """A strategy with parameters; ``label`` names it in tables (e.g. ``linear r=1 +guards``)."""

    strategy: str
    params: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or self.strategy


@dataclass
class Decoding:
    max_new_tokens: int = 128
    temperature: float = 0.7
    batch_size: int = 256


@dataclass
class Answer:
    """One generated answer and its measurements (JSON-ready)."""

    config: str
    seed: int
    question: str
    kind: str
    preference: str
    text: str
    tokens: int
    adherent: bool
    score: float
    nll: float
    nll_base: float
    on_topic: bool
    repetition: float


def _messages(q: EvalQuestion) -> list[dict[str, str]]:
    return [{"role": "user", "content": q.text}]


def _seed(seed: int, qi: int, kind: str) -> int:
    return (seed * 1_000_003 + qi * 7919 + sum(map(ord, kind))) % (2**31)


def generate_config(
    gen: GuidedGenerator,
    config: Config,
    cases: Sequence[EvalCase],
    questions: Sequence[EvalQuestion],
    seed: int,
    decoding: Decoding,
    log: Callable[[str], None] = print,
) -> tuple[list[Answer], dict[str, float]]:
    """Answers of one configuration for one seed, measured, plus its speed ``{tokens, seconds}``."""
    qindex = {q.text: i for i, q in enumerate(questions)}
    # base ignores the preference: one answer per question, judged against every preference
    jobs: list[tuple[EvalQuestion, EvalCase | None]] = (
        [(q, None) for q in questions] if config.strategy == "base" else [(c.question, c) for c in cases]
    )
    requests = [
        GenerationRequest(
            _messages(q), preference=None if c is None else c.preference.text, strategy=config.strategy,
            max_new_tokens=decoding.max_new_tokens, do_sample=True, temperature=decoding.temperature,
            seed=_seed(seed, qindex[q.text], "" if c is None else c.preference.kind),
            strategy_params=dict(config.params),
        )
        for q, c in jobs
    ]
    texts: list[str] = []
    ids: list[list[int]] = []
    t0 = time.perf_counter()
    for start in range(0, len(requests), decoding.batch_size):
        for r in gen.generate_batch(requests[start : start + decoding.batch_size]):
            texts.append(r.text)
            ids.append(list(r.token_ids))
    seconds = time.perf_counter() - t0
    n_tokens = sum(len(i) for i in ids)
    log(f"  {config.name} seed {seed}: {len(requests)} answers, {n_tokens} tokens in {seconds:.1f} s")
    # Expand base answers to every case; measure.
    if config.strategy == "base":
        by_q = {q.text: k for k, (q, _) in enumerate(jobs)}
        rows = [(c, by_q[c.question.text]) for c in cases]
    else:
        rows = [(c, k) for k, c in enumerate(cases)]
    answers = measure(gen, config.name, seed, rows, texts, ids, questions)
    return answers, {"tokens": float(n_tokens), "seconds": seconds}


def measure(
    gen: GuidedGenerator,
    config: str,
    seed: int,
    rows: Sequence[tuple[EvalCase, int]],
    texts: Sequence[str],
    ids: Sequence[Sequence[int]],
    questions: Sequence[EvalQuestion],
) -> list[Answer]:
    """Judge and score ``rows`` (case, index of its answer in ``texts``/``ids``)."""
    fmt = gen.formatter
    qindex = {q.text: i for i, q in enumerate(questions)}
    base_ctx = [fmt.encode(_messages(q)) for q in questions]
    # Each distinct answer once: log p under its own question, the distractors and (per case) the preference.
    unique = sorted({k for _, k in rows})
    answer_q = {}
    for c, k in rows:
        answer_q[k] = qindex[c.question.text]
    pairs_ctx: list[list[int]] = []
    pairs_ans: list[list[int]] = []
    slots: dict[tuple[int, int], int] = {}
    for k in unique:
        qi = answer_q[k]
        for qj in [qi, *distractors(len(questions), qi, ON_TOPIC_DISTRACTORS)]:
            slots[(k, qj)] = len(pairs_ctx)
            pairs_ctx.append(base_ctx[qj])
            pairs_ans.append(list(ids[k]))
    pref_slots: list[int] = []
    for c, k in rows:
        pref_slots.append(len(pairs_ctx))
        pairs_ctx.append(fmt.encode(_messages(c.question), system_extra=c.preference.text))
        pairs_ans.append(list(ids[k]))
    batch = 64 if str(next(gen.model.parameters()).device) != "cpu" else 8
    lps = answer_logprobs(gen.model, pairs_ctx, pairs_ans, gen.pad_token_id, batch_size=batch)
    out: list[Answer] = []
    for (c, k), ps in zip(rows, pref_slots, strict=True):
        qi = answer_q[k]
        own, n = lps[slots[(k, qi)]]
        others = [lps[slots[(k, qj)]][0] for qj in distractors(len(questions), qi, ON_TOPIC_DISTRACTORS)]
        text = texts[k]
        on_topic = len(text.split()) >= MIN_ON_TOPIC_WORDS and n > 0 and all(own > o for o in others)
        pref_lp, _ = lps[ps]
        out.append(Answer(
            config=config, seed=seed, question=c.question.text, kind=c.preference.kind,
            preference=c.preference.text, text=text, tokens=len(ids[k]),
            adherent=adheres(c.preference.kind, text), score=score(c.preference.kind, text),
            nll=-pref_lp / n if n else float("nan"), nll_base=-own / n if n else float("nan"),
            on_topic=on_topic, repetition=repetition_rate(text),
        ))
    return out


def summarise(answers: Sequence[Answer], speed: dict[str, float] | None = None) -> dict[str, Any]:
    """Per-kind adherence, then macro averages over kinds (each preference kind weighs the same) with CIs.

    Confidence intervals: 95 % bootstrap over questions (answers to one question are not independent).
    """
    kinds = sorted({a.kind for a in answers})
    per_kind = {}
    for kind in kinds:
        rows = [a for a in answers if a.kind == kind]
        per_kind[kind] = {"adherence": _mean(a.adherent for a in rows), "n": len(rows)}
    # Macro average: weight each answer by 1/(its kind's count), so every kind counts the same.
    weight = {k: 1.0 / per_kind[k]["n"] for k in kinds}

    def macro(values: Callable[[Answer], float]) -> tuple[float, float, float]:
        # Bootstrap over questions of the kind-balanced mean: scale each answer by its weight · #kinds.
        scaled = [values(a) * weight[a.kind] * len(answers) / len(kinds) for a in answers]
        return bootstrap_ci(scaled, [a.question for a in answers])

    out: dict[str, Any] = {
        "n_answers": len(answers),
        "n_questions": len({a.question for a in answers}),
        "n_kinds": len(kinds),
        "adherence": macro(lambda a: float(a.adherent)),
        "score": macro(lambda a: a.score),
        "on_topic": bootstrap_ci([float(a.on_topic) for a in answers], [a.question for a in answers]),
        "repetition": bootstrap_ci([a.repetition for a in answers], [a.question for a in answers]),
        "nll": _mean(a.nll for a in answers if a.nll == a.nll),
        "nll_base": _mean(a.nll_base for a in answers if a.nll_base == a.nll_base),
        "mean_tokens": _mean(a.tokens for a in answers),
        "per_kind": per_kind,
    }
    if speed:
        out["tokens_per_s"] = speed["tokens"] / speed["seconds"] if speed["seconds"] else float("nan")
    return out


def answers_json(answers: Sequence[Answer]) -> list[dict[str, Any]]:
    return [asdict(a) for a in answers]


def _mean(values: Any) -> float:
    vals = [float(v) for v in values]
    return sum(vals) / len(vals) if vals else float("nan")
