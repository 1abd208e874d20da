"""A worker thread that runs slow extractors (LLM, embeddings) and resumed turns off the request path.

The queue is only a schedule: every job reads its turn from the database, where ``observe`` committed it
(with its ``pending`` bits) before queuing anything, so a job lost with the process is resumed at the
next start (``PreferenceMemory.resume_pending``).

Two priorities: ``urgent`` work (a turn's inline reading that ``observe`` moved off the caller's path, which
the user's next request may be waiting for) runs before queued background extractor jobs; within one
priority, first in first out, so one user's turns are read in the order they were observed.

Background work also gives way to the request path (``foreground``): while any caller in the process is
inside ``observe``/``read_turn``/``commit_turn``/``profile``, a worker waits before it starts its next job,
before each database step and before each forward pass of the embedding model, for at most ``YIELD_MAX_S``
at a time (so a steady stream of requests slows background work down but never starves it), and not at all
while some caller waits for background work (a deferred reading it needs, ``flush``). On a machine with few
cores the two otherwise share the CPU and the interpreter lock: run back to back, a background reading
doubled the p99 of the ``observe`` calls it overlapped (``benchmarks/observe_cost.py``, with and without ``--isolated``).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

log = logging.getLogger("memory")

_local = threading.local()


def on_worker_thread() -> bool:
    """True on a memory background worker's thread (the embedding model runs its forward passes for it on
    a lane of their own, so they never hold up a caller's)."""
    return bool(getattr(_local, "worker", False))


# The longest a background worker waits for the request path at one yield point: at a steady stream of
# requests, background work still advances a step (a job's start, a sentence's forward pass) this often.
YIELD_MAX_S = 0.05


class Foreground:
    """How many threads (any but a worker's) are on the request path right now, process-wide, and a place
    for background work to wait until there are none."""

    def __init__(self) -> None:
        self._active = 0
        self._waiters = 0  # threads waiting for background work now: while any does, nothing yields
        self._idle = threading.Condition()
        self._depth = threading.local()  # this thread's nesting of ``running`` (minus ``waiting``)

    def _add(self, n: int) -> None:
        with self._idle:
            self._active += n
            if not self._active:
                self._idle.notify_all()

    @contextmanager
    def running(self) -> Iterator[None]:
        """The block is request-path work: background work waits for it (a worker's own calls never count;
        nested blocks count once)."""
        if on_worker_thread():
            yield
            return
        depth = getattr(self._depth, "n", 0)
        self._depth.n = depth + 1
        if not depth:
            self._add(1)
        try:
            yield
        finally:
            self._depth.n = depth
            if not depth:
                self._add(-1)

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """This thread now waits for background work (a deferred reading it needs, ``flush``): while it
        does, background work does not yield at all, whoever else is on the request path (else the waiter
        would wait out each of the worker's yields), and a waiter inside ``running`` does not count."""
        if on_worker_thread():
            yield
            return
        depth = getattr(self._depth, "n", 0)
        self._depth.n = 0
        with self._idle:
            self._waiters += 1
            self._active -= bool(depth)
            self._idle.notify_all()
        try:
            yield
        finally:
            self._depth.n = depth
            with self._idle:
                self._waiters -= 1
                self._active += bool(depth)

    def yield_to(self) -> None:
        """On a worker thread: wait, at most ``YIELD_MAX_S`` seconds, until no thread is on the request path
        (or one waits for background work). Anywhere else: return at once."""
        if not self._active or self._waiters or not on_worker_thread():
            return
        with self._idle:
            self._idle.wait_for(lambda: not self._active or self._waiters, YIELD_MAX_S)

    @property
    def active(self) -> int:
        """Threads on the request path now."""
        return self._active


foreground = Foreground()


@dataclass(frozen=True)
class Job:
    namespace: str
    user_id: str
    message_ids: tuple[str, ...]
    extractor_index: int


Task = Job | Callable[[], object]
URGENT, NORMAL, STOP = 0, 1, 2


class BackgroundWorker:
    """One daemon thread draining a queue of jobs (or plain callables); a failing job is logged and never
    stops the worker."""

    def __init__(self, run: Callable[[Job], None], *, name: str = "pad-memory-extraction") -> None:
        self._run = run
        self._queue: queue.PriorityQueue[tuple[int, int, Task | None]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._name = name
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, job: Task, *, urgent: bool = False) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the memory is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
        self._queue.put((URGENT if urgent else NORMAL, next(self._order), job))

    @property
    def closed(self) -> bool:
        return self._closed

    def pending(self) -> int:
        return self._queue.unfinished_tasks

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every submitted job has run; False when the timeout passed first."""
        done = threading.Event()

        def wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)

    def close(self, timeout: float | None = 10.0) -> None:
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put((STOP, next(self._order), None))  # after everything queued
            thread.join(timeout)

    def _loop(self) -> None:
        _local.worker = True
        while True:
            _, _, job = self._queue.get()
            try:
                if job is None:
                    return
                foreground.yield_to()
                if isinstance(job, Job):
                    self._run(job)
                else:
                    job()
            except Exception:
                log.exception(
                    "memory: background job failed (user %r); its turn stays pending for the next resume",
                    getattr(job, "user_id", None),
                )
            finally:
                self._queue.task_done()
