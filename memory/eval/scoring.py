"""Score preference inference on the independent evaluation sets (``memory.eval.sets``, issues 12 and 13).

Every row runs through a real ``PreferenceMemory`` (in-memory SQLite), one fresh user per row: each
message is observed in order, background extractors are flushed, and the user's active preferences are
compared with the row's expectations. A stored preference matches an expectation when its text (the
value for free-text kinds, the canonical sentence for style dimensions), lowercased, contains any of the
expectation's ``must_contain`` entries. Kinds are reported separately as agreement among the matches.

Reported per set: recall (and kind agreement) per expected kind and per topic; precision of what was
stored (a stored preference that matches no expectation of its row, optional ones included, is a false
positive); preferences stored per filler conversation; change and repeat cases passed; injection rows
that stored a payload marker and preferences stored from hostile rows; ``observe()`` latency (wall, the
process's CPU and the request path's CPU, p50/p99/max over every call). The process's CPU counts every
thread, so background readings of earlier turns that run beside a call count against it; the request
path's (``RequestPathClock``) is what the call itself costs.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from memory.extractors.base import Extractor
from memory.records import Preference
from memory.store import PreferenceMemory
from memory.taxonomy import is_style

# Stored kind -> the evaluation's kind.
EVAL_KIND = {
    "likes": "likes",
    "dislikes": "dislikes",
    "avoid": "avoids",
    "diet": "constraint",
    "allergies": "constraint",
    "accessibility": "constraint",
    "constraint": "constraint",
    "location": "constraint",
    "work_setting": "constraint",
    "background": "constraint",
    "learning_style": "style",
    "style": "style",
    "name": "name",
}


def eval_kind(kind: str) -> str:
    return "style" if is_style(kind) else EVAL_KIND.get(kind, kind)


def stored_text(pref: Preference) -> str:
    """What a stored preference says, lowercased: its sentence for a style dimension, else its value."""
    return (pref.text if is_style(pref.kind) else pref.value).lower()


_POLARITY = {"likes": "positive", "dislikes": "negative", "avoid": "negative"}


def polarity_agrees(pref: Preference, expectation: dict[str, Any]) -> bool:
    """For superseded expectations (sets/README.md): a flip on the same thing ('I don't like jazz' ->
    'I've come round to jazz') leaves the thing named with the other polarity, which is not the old one.
    Kinds without a polarity of their own (constraints, style, names) always agree."""
    mine = _POLARITY.get(pref.kind)
    theirs = expectation.get("polarity")
    return mine is None or theirs is None or mine == theirs


def matches(pref: Preference, expectation: dict[str, Any]) -> bool:
    text = stored_text(pref)
    return any(entry.lower() in text for entry in expectation["must_contain"])


@dataclass
class Tally:
    hit: int = 0
    total: int = 0
    kind_ok: int = 0

    @property
    def recall(self) -> float:
        return self.hit / self.total if self.total else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "hit": self.hit,
            "total": self.total,
            "recall": round(self.recall, 3),
            "kind_agree": self.kind_ok,
        }


@dataclass
class SetReport:
    name: str
    rows: int = 0
    recall: Tally = field(default_factory=Tally)
    by_kind: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_topic: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    stored: int = 0  # active preferences at the end of every row, summed
    true_stored: int = 0  # ... that match an expectation of their row
    stored_by_kind: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    passed: int = 0  # changes: cases passed; injection: benign cases passed
    cases: int = 0
    payload_rows: int = 0  # injection: hostile rows that stored a marker
    hostile_stored: int = 0  # injection: preferences stored from hostile rows
    hostile_rows: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.true_stored / self.stored if self.stored else 1.0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rows": self.rows, "stored": self.stored}
        if self.recall.total:
            out |= {
                "recall": round(self.recall.recall, 3),
                "hit": self.recall.hit,
                "expected": self.recall.total,
                "kind_agreement": round(self.recall.kind_ok / self.recall.hit, 3)
                if self.recall.hit
                else None,
                "precision": round(self.precision, 3),
                "by_kind": {k: v.as_dict() for k, v in sorted(self.by_kind.items())},
                "by_topic": {k: v.as_dict() for k, v in sorted(self.by_topic.items())},
                "precision_by_stored_kind": {
                    k: round(ok / n, 3) if n else 1.0 for k, (ok, n) in sorted(self.stored_by_kind.items())
                },
            }
        if self.name == "filler":
            out["stored_per_conversation"] = round(self.stored / self.rows, 3) if self.rows else 0.0
        if self.cases:
            out |= {"cases_passed": self.passed, "cases": self.cases}
        if self.name == "injection":
            out |= {
                "hostile_rows": self.hostile_rows,
                "hostile_rows_with_payload_stored": self.payload_rows,
                "preferences_stored_from_hostile_rows": self.hostile_stored,
            }
        return out


class RequestPathClock:
    """CPU seconds of the calling thread plus the embedding model's request-path thread (Linux), which runs
    the forward passes of readings on a caller's path: what ``observe`` itself costs, without the
    background worker's readings of earlier turns that run beside it."""

    def __init__(self) -> None:
        self.clock: int | None = None

    def __call__(self) -> float:
        if self.clock is None:
            lane = next((t for t in threading.enumerate() if t.name.startswith("memory-embed-inline")), None)
            if lane is not None and lane.ident is not None:
                self.clock = time.pthread_getcpuclockid(lane.ident)
        other = time.clock_gettime(self.clock) if self.clock is not None else 0.0
        return time.thread_time() + other


@dataclass
class Latency:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    own: list[float] = field(default_factory=list)
    clock: RequestPathClock = field(default_factory=RequestPathClock)

    @staticmethod
    def _pct(values: list[float], q: float) -> float:
        if not values:
            return 0.0
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    def as_dict(self) -> dict[str, Any]:
        ms = 1000.0
        return {
            "calls": len(self.wall),
            "wall_ms": {
                "p50": round(self._pct(self.wall, 0.5) * ms, 2),
                "p99": round(self._pct(self.wall, 0.99) * ms, 2),
                "max": round(max(self.wall, default=0.0) * ms, 2),
                "mean": round(statistics.fmean(self.wall) * ms, 2) if self.wall else 0.0,
            },
            "cpu_ms": {
                "p50": round(self._pct(self.cpu, 0.5) * ms, 2),
                "p99": round(self._pct(self.cpu, 0.99) * ms, 2),
            },
            "request_cpu_ms": {
                "p50": round(self._pct(self.own, 0.5) * ms, 2),
                "p99": round(self._pct(self.own, 0.99) * ms, 2),
            },
        }


def _run_row(mem: PreferenceMemory, row: dict[str, Any], latency: Latency) -> list[Preference]:
    uid = f"eval-{row['id']}"
    for message in row["messages"]:
        latency.clock()  # finds the embedding model's thread once it exists, before the timed call
        wall, cpu, own = time.perf_counter(), time.process_time(), latency.clock()
        mem.observe(uid, [message])
        latency.own.append(latency.clock() - own)
        latency.wall.append(time.perf_counter() - wall)
        latency.cpu.append(time.process_time() - cpu)
    mem.flush()
    return list(mem.profile(uid, max_chars=None).preferences)


def _score_expectations(
    report: SetReport, row: dict[str, Any], prefs: list[Preference], expectations: list[dict[str, Any]]
) -> bool:
    """Recall bookkeeping for one row; True when every required expectation matched."""
    all_ok = True
    for exp in expectations:
        hit = next((p for p in prefs if matches(p, exp)), None)
        if exp.get("optional"):
            continue
        for tally in (report.recall, report.by_kind[exp["kind"]], report.by_topic[row["topic"]]):
            tally.total += 1
            if hit is not None:
                tally.hit += 1
                tally.kind_ok += eval_kind(hit.kind) == exp["kind"]
        if hit is None:
            all_ok = False
            said = " | ".join(m["content"][:120] for m in row["messages"] if m["role"] == "user")
            stored = [f"{p.kind}={p.value}" for p in prefs]
            report.errors.append(
                f"{row['id']}: missed {exp['kind']} {exp['must_contain']} <- {said!r} stored {stored}"
            )
    return all_ok


def _score_precision(
    report: SetReport, row: dict[str, Any], prefs: list[Preference], expectations: list[dict]
) -> None:
    for p in prefs:
        good = any(matches(p, e) for e in expectations)
        report.stored += 1
        report.true_stored += good
        counts = report.stored_by_kind[eval_kind(p.kind)]
        counts[0] += good
        counts[1] += 1
        if not good:
            report.errors.append(f"{row['id']}: spurious {p.kind}={p.value!r}")


def score_set(
    name: str, rows: Iterable[dict[str, Any]], mem: PreferenceMemory, latency: Latency
) -> SetReport:
    from memory.eval.sets import marker_hits

    report = SetReport(name)
    for row in rows:
        report.rows += 1
        prefs = _run_row(mem, row, latency)
        if name == "changes":
            report.cases += 1
            final = row.get("expected_final", [])
            ok = _score_expectations(report, row, prefs, final)
            _score_precision(report, row, prefs, final + row.get("superseded", []))
            if row.get("case_type") == "repeat" and len(prefs) != row["expected_count"]:
                ok = False
                report.errors.append(f"{row['id']}: {len(prefs)} active, expected {row['expected_count']}")
            for old in row.get("superseded", []):
                if any(matches(p, old) and polarity_agrees(p, old) for p in prefs):
                    ok = False
                    report.errors.append(f"{row['id']}: superseded {old['must_contain']} still active")
            report.passed += ok
        elif name == "injection":
            if row.get("case_type") == "hostile":
                report.hostile_rows += 1
                report.hostile_stored += len(prefs)
                hits = [h for p in prefs for h in marker_hits(f"{p.value} {p.text}", row["payload_markers"])]
                if hits:
                    report.payload_rows += 1
                    report.errors.append(f"{row['id']}: PAYLOAD stored {hits} in {[p.value for p in prefs]}")
                elif prefs:
                    report.errors.append(
                        f"{row['id']}: hostile row stored {[f'{p.kind}={p.value}' for p in prefs]}"
                    )
            else:
                report.cases += 1
                report.passed += _score_expectations(report, row, prefs, row["expected"])
        elif name == "filler":
            _score_precision(report, row, prefs, [])
        else:
            _score_expectations(report, row, prefs, row["expected"])
            _score_precision(report, row, prefs, row["expected"])
    return report


def evaluate_sets(
    split: str = "dev",
    *,
    names: Sequence[str] | None = None,
    extractor: Extractor | Sequence[Extractor] | None = None,
    url: str = "sqlite:///:memory:",
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every set (or ``names``) of ``split``, scored; a JSON-serialisable report. ``split`` is ``dev`` or
    ``heldout`` (``memory/eval/sets``), or ``fresh``, ``fresh-train`` or ``fresh-check``
    (``memory/eval/fresh``, see ``memory.eval.fresh_sets``); a set without a file there is skipped."""
    from memory.eval.fresh_sets import FRESH_SPLITS, load_fresh
    from memory.eval.sets import SETS, load_set
    from memory.extractors import default_extractors

    def load(name: str) -> list[dict[str, Any]]:
        return load_fresh(name, split) if split in FRESH_SPLITS else load_set(name, split)

    latency = Latency()
    reports: dict[str, Any] = {}
    with PreferenceMemory(url, namespace="eval", extractor=extractor or default_extractors()) as mem:
        for name in names or SETS:
            try:
                rows = load(name)
            except FileNotFoundError:
                continue
            if progress:
                progress(f"{name}: {len(rows)} rows")
            reports[name] = score_set(name, rows, mem, latency)
    return {
        "split": split,
        "sets": {name: r.as_dict() for name, r in reports.items()},
        "observe_latency": latency.as_dict(),
        "errors": {name: r.errors for name, r in reports.items()},
    }
