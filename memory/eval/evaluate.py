"""Run conversations through a real PreferenceMemory and score the final profiles against gold.

Each JSONL line: ``{"id", "turns": [{"observe": [messages]} | {"feedback": {"text"?, "rating"?}}],
"gold": [{"kind", "value", "source"}], "tags"}``. Feedback applies to the latest assistant message.
A predicted preference matches a gold one of the same kind when the values are equal, or, for free-text
kinds, when one contains the other ('experienced backend engineer' ~ 'backend engineer'). True positives
and misses are counted under the gold source, false positives under the predicted source.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memory.extractors.base import Extractor
from memory.store import PreferenceMemory
from memory.taxonomy import is_style
from memory.text import slug

DEFAULT_SET = Path(__file__).with_name("conversations.jsonl")


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class EvalReport:
    overall: Score = field(default_factory=Score)
    by_kind: dict[str, Score] = field(default_factory=lambda: defaultdict(Score))
    by_source: dict[str, Score] = field(default_factory=lambda: defaultdict(Score))
    negatives: int = 0  # conversations whose gold is empty
    clean_negatives: int = 0  # ... where nothing was stored
    errors: list[tuple[str, str]] = field(default_factory=list)  # (conversation id, what went wrong)

    def table(self) -> str:
        def row(name: str, s: Score) -> str:
            return f"{name:<16}{s.tp:>5}{s.fp:>5}{s.fn:>5}{s.precision:>9.2f}{s.recall:>8.2f}{s.f1:>7.2f}"

        header = f"{'':<16}{'tp':>5}{'fp':>5}{'fn':>5}{'precision':>9}{'recall':>8}{'f1':>7}"
        lines = ["by kind", header, *(row(k, s) for k, s in sorted(self.by_kind.items()))]
        lines += ["", "by source", header, *(row(k, s) for k, s in sorted(self.by_source.items()))]
        lines += ["", row("overall", self.overall)]
        lines.append(f"negative conversations with nothing stored: {self.clean_negatives}/{self.negatives}")
        return "\n".join(lines)


def load_conversations(path: str | Path = DEFAULT_SET) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _matches(kind: str, predicted: str, gold: str) -> bool:
    a, b = slug(predicted), slug(gold)
    return a == b if is_style(kind) else bool(a and b) and (a == b or a in b or b in a)


def evaluate(
    conversations: Iterable[dict[str, Any]] | None = None,
    *,
    extractor: Extractor | Sequence[Extractor] | None = None,
    url: str = "sqlite:///:memory:",
) -> EvalReport:
    """Score the final active profile of every conversation (one user per conversation, one store)."""
    report = EvalReport()
    with PreferenceMemory(url, namespace="eval", extractor=extractor) as mem:
        for conv in conversations if conversations is not None else load_conversations():
            uid = f"eval-{conv['id']}"
            mem.forget(uid)
            last_assistant = None
            for turn in conv["turns"]:
                if "observe" in turn:
                    result = mem.observe(uid, turn["observe"])
                    roles = [m["role"] for m in turn["observe"]]
                    if "assistant" in roles:
                        last_assistant = result.message_ids[len(roles) - 1 - roles[::-1].index("assistant")]
                elif last_assistant is not None:
                    mem.feedback(uid, last_assistant, **turn["feedback"])
            mem.flush()
            predicted = list(mem.profile(uid, max_chars=None).preferences)
            gold = list(conv["gold"])
            if not gold:
                report.negatives += 1
                report.clean_negatives += not predicted
            for g in gold:
                hit = next(
                    (
                        p
                        for p in predicted
                        if p.kind == g["kind"] and _matches(g["kind"], p.value, g["value"])
                    ),
                    None,
                )
                for score in (report.overall, report.by_kind[g["kind"]], report.by_source[g["source"]]):
                    if hit is not None:
                        score.tp += 1
                    else:
                        score.fn += 1
                if hit is not None:
                    predicted.remove(hit)
                else:
                    report.errors.append((conv["id"], f"missed {g['kind']}={g['value']}"))
            for p in predicted:
                for score in (report.overall, report.by_kind[p.kind], report.by_source[p.source]):
                    score.fp += 1
                report.errors.append((conv["id"], f"spurious {p.kind}={p.value} ({p.source})"))
    return report
