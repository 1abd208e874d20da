"""Concurrent observe load, shared by the concurrency tests and the benchmark (run in worker processes)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

# A conversation that exercises every write path: add, evidence, supersede, remove, plain chat.
SCRIPT: tuple[str, ...] = (
    "I'm vegetarian, and please keep your answers short.",
    "How do I sort a list in Python?",
    "I prefer short answers.",
    "Actually, I eat fish now.",
    "I'm allergic to peanuts.",
    "That was way too technical.",
    "I don't mind long answers.",
    "What's the weather like on Mars?",
)


@dataclass
class LoadReport:
    observed: int = 0
    errors: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    write_waits_ms: list[float] = field(default_factory=list)  # waits for the write lock before each write


def observe_load(
    url: str, namespace: str, user_ids: Sequence[str], turns: int, extractor: str = "rules"
) -> LoadReport:
    """Observe ``turns`` scripted turns for each user (round robin), timing each call; errors are collected.

    ``extractor``: "rules" (the offline rule extractor; the figures of the write path) or "default"
    (whatever ``PreferenceMemory()`` picks, a model-backed one where installed)."""
    from memory import PreferenceMemory
    from memory.extractors.rules import RuleExtractor

    report = LoadReport()
    chosen = RuleExtractor() if extractor == "rules" else None
    with PreferenceMemory(url, namespace=namespace, extractor=chosen) as mem:
        for turn in range(turns):
            for user in user_ids:
                text = SCRIPT[turn % len(SCRIPT)]
                start = time.perf_counter()
                try:
                    mem.observe(
                        user, [{"role": "user", "content": text}, {"role": "assistant", "content": "Sure."}]
                    )
                except Exception as exc:  # the point is to count what would reach a caller
                    report.errors.append(f"{type(exc).__name__}: {exc}")
                report.latencies_ms.append((time.perf_counter() - start) * 1000)
                report.observed += 1
        report.write_waits_ms = [w * 1000 for w in mem.write_waits()]
    return report
