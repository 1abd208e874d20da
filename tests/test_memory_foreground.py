"""Background work gives way to the request path (memory.background.foreground): while a caller is inside
observe/profile, the store's worker does not start its next step; the wait is bounded, a caller that waits
for background work does not hold it up, and a worker's own calls never count.

Real worker threads, a real PreferenceMemory on SQLite. No timing is asserted: where a test needs the
worker to be held, the bound (``YIELD_MAX_S``) is raised to a minute, so a check that the worker has not
run yet can only fail if the gate is broken.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from memory import PreferenceMemory, background
from memory.background import BackgroundWorker, foreground
from memory.extractors.base import Decision, ExtractionContext
from memory.extractors.rules import RuleExtractor


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker waits for the request path for up to a minute at each yield point."""
    monkeypatch.setattr(background, "YIELD_MAX_S", 60.0)


@pytest.fixture
def worker() -> BackgroundWorker:
    w = BackgroundWorker(lambda job: None, name="test-foreground")
    yield w
    w.close()


def test_worker_waits_while_a_caller_is_on_the_request_path(held: None, worker: BackgroundWorker) -> None:
    ran = threading.Event()
    with foreground.running():
        assert foreground.active == 1
        worker.submit(ran.set)
        assert not ran.wait(0.3), "the worker started a job while a caller was on the request path"
    assert ran.wait(10)
    assert foreground.active == 0


def test_the_wait_is_bounded(worker: BackgroundWorker) -> None:
    """With the shipped bound, a steady request path slows background work down but never starves it."""
    ran = threading.Event()
    with foreground.running():
        worker.submit(ran.set)
        assert ran.wait(10), "the worker never ran while the request path stayed busy"


def test_a_caller_waiting_for_background_work_does_not_hold_it_up(held: None, worker: BackgroundWorker) -> None:
    ran = threading.Event()
    with foreground.running():
        with foreground.waiting():
            assert foreground.active == 0
            worker.submit(ran.set)
            assert ran.wait(10), "a caller waiting for the worker still held it up"
        assert foreground.active == 1
    assert foreground.active == 0


def test_nesting_counts_once_and_waiting_outside_is_a_no_op() -> None:
    with foreground.waiting():
        assert foreground.active == 0
    with foreground.running():
        with foreground.running():
            assert foreground.active == 1
        assert foreground.active == 1
    assert foreground.active == 0


def test_a_workers_own_calls_never_count(worker: BackgroundWorker) -> None:
    seen: list[int] = []
    done = threading.Event()

    def job() -> None:
        with foreground.running():
            seen.append(foreground.active)
        done.set()

    worker.submit(job)
    assert done.wait(10)
    assert seen == [0]


class Recorder:
    """A background extractor that notes that it ran (reads nothing)."""

    name = "recorder"
    runs_inline = False

    def __init__(self) -> None:
        self.started = threading.Event()

    def extract(self, context: ExtractionContext) -> list[Decision]:
        self.started.set()
        return []


def test_the_stores_background_extractor_waits_for_a_busy_request_path(held: None, tmp_path: Path) -> None:
    """Another caller is mid-request (the outer block): the turn observed now is stored and read inline at
    once, and its background reading waits until no caller is on the request path."""
    recorder = Recorder()
    with PreferenceMemory(f"sqlite:///{tmp_path / 'm.db'}", extractor=[RuleExtractor(), recorder]) as mem:
        with foreground.running():
            result = mem.observe("alice", [{"role": "user", "content": "I am vegetarian."}])
            assert [c.preference.value for c in result.changes] == ["vegetarian"]
            assert not recorder.started.wait(0.3), "background work ran beside the request path"
        assert recorder.started.wait(10)
        assert mem.flush(10)


def test_while_a_caller_waits_for_background_work_nothing_yields(held: None, worker: BackgroundWorker) -> None:
    """Another caller is mid-request the whole time: a caller that waits for background work (its deferred
    reading, ``flush``) would otherwise wait out every yield of the worker's."""
    other_in, other_out = threading.Event(), threading.Event()

    def other_caller() -> None:
        with foreground.running():
            other_in.set()
            other_out.wait(30)

    threading.Thread(target=other_caller, daemon=True).start()
    assert other_in.wait(10)
    ran = threading.Event()
    try:
        with foreground.waiting():
            worker.submit(ran.set)
            assert ran.wait(10), "the worker kept yielding to another caller while this one waited for it"
        assert foreground.active == 1  # the other caller still counts
    finally:
        other_out.set()
