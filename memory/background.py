"""A worker thread that runs slow extractors (LLM, embeddings) and resumed turns off the request path.

The queue is only a schedule: every job reads its turn from the database, where ``observe`` committed it
(with its ``pending`` bits) before queuing anything, so a job lost with the process is resumed at the
next start (``PreferenceMemory.resume_pending``).

Two priorities: ``urgent`` work (a turn's inline reading that ``observe`` moved off the caller's path, which
the user's next request may be waiting for) runs before queued background extractor jobs; within one
priority, first in first out, so one user's turns are read in the order they were observed.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("memory")

_local = threading.local()


def on_worker_thread() -> bool:
    """True on a memory background worker's thread (the embedding model runs its forward passes for it on
    a lane of their own, so they never hold up a caller's)."""
    return bool(getattr(_local, "worker", False))


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
