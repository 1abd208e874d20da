"""A worker thread that runs slow extractors (LLM, embeddings) and resumed turns off the request path.

The queue is only a schedule: every job reads its turn from the database, where ``observe`` committed it
(with its ``pending`` bits) before queuing anything, so a job lost with the process is resumed at the
next start (``PreferenceMemory.resume_pending``).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("memory")


@dataclass(frozen=True)
class Job:
    namespace: str
    user_id: str
    message_ids: tuple[str, ...]
    extractor_index: int


Task = Job | Callable[[], object]


class BackgroundWorker:
    """One daemon thread draining a queue of jobs (or plain callables); a failing job is logged and never
    stops the worker."""

    def __init__(self, run: Callable[[Job], None], *, name: str = "pad-memory-extraction") -> None:
        self._run = run
        self._queue: queue.Queue[Task | None] = queue.Queue()
        self._name = name
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, job: Task) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the memory is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
        self._queue.put(job)

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
            self._queue.put(None)
            thread.join(timeout)

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
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
