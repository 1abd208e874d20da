"""Shared pieces of the reliability suite.

- tricky user ids (slashes, quotes, emoji, SQL) and per-user marker values that name their owner, so a
  leaked preference is recognisable wherever it shows up;
- the load-operation mix (observe / profile / feedback) run by threads here and by processes through
  ``load_worker.py``, each worker keeping a model of what it expects the store to hold;
- the audit comparing the store with the merged model (lost, duplicated, unexpected rows);
- throwaway PostgreSQL databases and process measurements (peak RSS).

Nothing here imports pytest, so ``load_worker.py`` runs it in a plain child process.
"""

from __future__ import annotations

import json
import random
import re
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from memory import MemoryLimits, PreferenceMemory, PreferenceMemoryError
from memory.schema import FeedbackRow, MessageRow, PreferenceRow, UserRow

# Markers are single tokens the rule extractor keeps verbatim: "zq<user>w<worker>n<op>".
MARKER = re.compile(r"zq(\d+)w(\d+)n(\d+)")
# Feedback remarks the rule extractor reads as verbosity corrections: every worker fights over one slot.
VERBOSITY_REMARKS = ("shorter please", "more detail please")


# The load tests check concurrency, not the per-user caps: every like a worker states must stay active.
LOAD_LIMITS = MemoryLimits(max_preferences=100_000, max_per_kind=100_000)


def tricky_user_ids(n: int) -> list[str]:
    """``n`` distinct user ids, most of them hostile to naive string handling."""
    shapes = (
        "plain-{i}",
        "org/{i}/alice",
        "o'brien \"{i}\"",
        "emoji-{i}-🙂🎉",
        "{i}'; DROP TABLE memory_users; --",
        "../../etc/passwd-{i}",
        "ünïcödé {i} 日本語",
        "%{i}%_\\",
    )
    return [shapes[i % len(shapes)].format(i=i) for i in range(n)]


def marker(user_index: int, worker: int, op: int) -> str:
    return f"zq{user_index}w{worker}n{op}"


def marker_owner(value: str) -> int | None:
    """The user index a marker value names, or None when the value is no marker."""
    found = MARKER.search(value)
    return int(found.group(1)) if found else None


@dataclass
class Expected:
    """What a set of operations must have left in the store, per user id."""

    likes: dict[str, set[str]] = field(default_factory=dict)
    messages: dict[str, Counter[str]] = field(default_factory=dict)
    feedback: Counter[str] = field(default_factory=Counter)
    verbosity: set[str] = field(default_factory=set)

    def observed(self, user: str, item: str, contents: Sequence[str]) -> None:
        self.likes.setdefault(user, set()).add(item)
        self.messages.setdefault(user, Counter()).update(contents)

    def merge(self, other: Expected) -> None:
        for user, items in other.likes.items():
            self.likes.setdefault(user, set()).update(items)
        for user, contents in other.messages.items():
            self.messages.setdefault(user, Counter()).update(contents)
        self.feedback.update(other.feedback)
        self.verbosity |= other.verbosity

    def to_json(self) -> dict[str, Any]:
        return {
            "likes": {u: sorted(v) for u, v in self.likes.items()},
            "messages": {u: dict(c) for u, c in self.messages.items()},
            "feedback": dict(self.feedback),
            "verbosity": sorted(self.verbosity),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Expected:
        return cls(
            {u: set(v) for u, v in data["likes"].items()},
            {u: Counter(c) for u, c in data["messages"].items()},
            Counter(data["feedback"]),
            set(data["verbosity"]),
        )


@dataclass
class WorkerReport:
    """One worker's model of its writes, the errors that reached it, and what its reads saw wrong."""

    expected: Expected = field(default_factory=Expected)
    errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    ops: Counter[str] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    peak_rss_mib: float = 0.0  # of the worker's own process (set by load_worker.py)

    def merge(self, other: WorkerReport) -> None:
        self.expected.merge(other.expected)
        self.errors += other.errors
        self.violations += other.violations
        self.ops.update(other.ops)
        for op, values in other.latencies.items():
            self.latencies.setdefault(op, []).extend(values)
        self.seconds = max(self.seconds, other.seconds)
        self.peak_rss_mib = max(self.peak_rss_mib, other.peak_rss_mib)

    def to_json(self) -> dict[str, Any]:
        return {
            "expected": self.expected.to_json(),
            "errors": self.errors,
            "violations": self.violations,
            "ops": dict(self.ops),
            "latencies": self.latencies,
            "seconds": self.seconds,
            "peak_rss_mib": self.peak_rss_mib,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkerReport:
        return cls(
            Expected.from_json(data["expected"]),
            data["errors"],
            data["violations"],
            Counter(data["ops"]),
            data["latencies"],
            data["seconds"],
            data["peak_rss_mib"],
        )


def run_load_worker(
    mem: PreferenceMemory, worker: int, n_ops: int, users: Sequence[str], *, seed: int = 0
) -> WorkerReport:
    """``n_ops`` random observe (40%) / profile / feedback (30% each, on a message this worker stored) calls.

    Every observe states a like that exists nowhere else (its marker names user, worker and op), so the
    union of the workers' models is exactly what the store must hold, whatever the interleaving.
    """
    rng = random.Random(seed * 100_003 + worker)
    index = {u: i for i, u in enumerate(users)}
    report = WorkerReport()
    mine: dict[str, set[str]] = {}  # likes this worker stored per user (read-your-writes)
    message_ids: dict[str, list[str]] = {}
    started = time.perf_counter()
    for op_number in range(n_ops):
        user = rng.choice(users)
        roll = rng.random()
        op = "observe" if roll < 0.4 else "profile" if roll < 0.7 or not message_ids.get(user) else "feedback"
        t0 = time.perf_counter()
        try:
            if op == "observe":
                item = marker(index[user], worker, op_number)
                contents = [f"I like {item}.", f"Noted: {item}."]
                result = mem.observe(user, [{"role": "user", "content": contents[0]},
                                            {"role": "assistant", "content": contents[1]}])
                changes = result.wait()
                added = [c for c in changes if c.action == "add" and c.preference.value == item]
                if len(added) != 1:
                    report.violations.append(f"observe {item!r}: changes {changes!r}")
                report.expected.observed(user, item, contents)
                mine.setdefault(user, set()).add(item)
                message_ids.setdefault(user, []).extend(result.message_ids)
            elif op == "profile":
                profile = mem.profile(user)
                _check_profile(report, user, index[user], profile, mine.get(user, set()))
            else:
                remark = rng.choice(VERBOSITY_REMARKS) if rng.random() < 0.2 else None
                mem.feedback(user, rng.choice(message_ids[user]), rating=rng.choice((-1, 0, 1)), text=remark)
                report.expected.feedback[user] += 1
                if remark is not None:
                    report.expected.verbosity.add(user)
        except Exception as exc:  # every error that reaches a caller is a finding
            report.errors.append(f"{op} for {user!r}: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}")
        report.ops[op] += 1
        report.latencies.setdefault(op, []).append(time.perf_counter() - t0)
    report.seconds = time.perf_counter() - started
    return report


def _check_profile(report: WorkerReport, user: str, user_index: int, profile: Any, mine: set[str]) -> None:
    prefs = [*profile.preferences, *profile.dropped]
    likes = {p.value for p in prefs if p.kind == "likes"}
    for value in likes:
        if marker_owner(value) != user_index:
            report.violations.append(f"profile of {user!r} holds {value!r}, not one of its own")
    missing = mine - likes
    if missing:
        report.violations.append(f"profile of {user!r} lost its own earlier writes {sorted(missing)[:3]}")
    if len({(p.kind, p.key) for p in prefs}) != len(prefs):
        report.violations.append(f"profile of {user!r} lists a slot twice")


@dataclass
class Audit:
    """The store compared with the expected model."""

    lost: int = 0
    duplicated: int = 0
    unexpected: int = 0
    message_mismatches: int = 0
    feedback_mismatches: int = 0
    verbosity_mismatches: int = 0
    details: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.lost or self.duplicated or self.unexpected or self.message_mismatches
            or self.feedback_mismatches or self.verbosity_mismatches
        )


def audit(mem: PreferenceMemory, users: Sequence[str], expected: Expected) -> Audit:
    """Compare every user's stored messages, active preferences and feedback with ``expected``."""
    result = Audit()
    for user in users:
        history = mem.history(user)
        active = [p for p in history.preferences if p.status == "active"]
        likes = Counter(p.value for p in active if p.kind == "likes")
        want = expected.likes.get(user, set())
        lost = want - set(likes)
        extra = set(likes) - want
        dup = sum(n - 1 for n in likes.values() if n > 1)
        result.lost += len(lost)
        result.unexpected += len(extra)
        result.duplicated += dup
        stored = Counter(m.content for m in mem.iter_messages(user))
        if stored != expected.messages.get(user, Counter()):
            result.message_mismatches += 1
        if len(history.feedback) != expected.feedback.get(user, 0):
            result.feedback_mismatches += 1
        verbosity = [p for p in active if p.kind == "verbosity"]
        if len(verbosity) != (1 if user in expected.verbosity else 0):
            result.verbosity_mismatches += 1
        if lost or extra or dup or stored != expected.messages.get(user, Counter()):
            result.details.append(
                f"{user!r}: lost {sorted(lost)[:3]}, unexpected {sorted(extra)[:3]}, dup {dup}, "
                f"messages stored {sum(stored.values())} expected {sum(expected.messages.get(user, Counter()).values())}"
            )
    result.duplicated += len(duplicate_active_slots(mem))
    return result


def duplicate_active_slots(mem: PreferenceMemory) -> list[tuple[int, str]]:
    """(user_pk, slot) pairs holding more than one active preference, straight from SQL."""
    stmt = (
        select(PreferenceRow.user_pk, PreferenceRow.slot)
        .where(PreferenceRow.status == "active")
        .group_by(PreferenceRow.user_pk, PreferenceRow.slot)
        .having(func.count() > 1)
    )
    with mem.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(stmt)]


def consistency_problems(mem: PreferenceMemory) -> list[str]:
    """Structural checks of a store that was interrupted: SQLite integrity, orphans, double actives."""
    problems: list[str] = []
    with mem.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            problems += [f"integrity: {r[0]}" for r in conn.exec_driver_sql("PRAGMA integrity_check") if r[0] != "ok"]
            problems += [f"foreign key: {tuple(r)}" for r in conn.exec_driver_sql("PRAGMA foreign_key_check")]
        users = select(UserRow.pk)
        for table in (MessageRow, PreferenceRow, FeedbackRow):
            orphans = conn.execute(
                select(func.count()).select_from(table).where(table.user_pk.not_in(users))
            ).scalar_one()
            if orphans:
                problems.append(f"{orphans} orphaned rows in {table.__tablename__}")
        dangling = conn.execute(
            select(func.count()).select_from(FeedbackRow).where(FeedbackRow.message_id.not_in(select(MessageRow.id)))
        ).scalar_one()
        if dangling:
            problems.append(f"{dangling} feedback rows point at no message")
    problems += [f"two active preferences in slot {s!r} of user {u}" for u, s in duplicate_active_slots(mem)]
    return problems


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def rss_mib(pid: int) -> tuple[float, float]:
    """(current, peak) resident set size of a running process, in MiB, from /proc."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def figures(title: str, **values: Any) -> str:
    """One line of measured figures, printed (pytest -s shows it) and returned for assertions' messages."""
    line = f"[reliability] {title}: " + ", ".join(f"{k}={v}" for k, v in values.items())
    print(line, flush=True)
    return line


@contextmanager
def fresh_postgres_database(url: str) -> Iterator[str]:
    """A new, empty database on the server of ``url`` (dropped afterwards); yields its URL."""
    base = make_url(url)
    name = f"pad_rel_{uuid.uuid4().hex[:12]}"
    # No pooling: a server restart in between must not leave a dead connection for the DROP.
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def worker_report_from_file(path: Path) -> WorkerReport:
    return WorkerReport.from_json(json.loads(path.read_text()))


__all__ = [
    "VERBOSITY_REMARKS",
    "Audit",
    "Expected",
    "PreferenceMemoryError",
    "WorkerReport",
    "audit",
    "consistency_problems",
    "duplicate_active_slots",
    "figures",
    "fresh_postgres_database",
    "marker",
    "marker_owner",
    "percentile",
    "rss_mib",
    "run_load_worker",
    "tricky_user_ids",
    "worker_report_from_file",
]
