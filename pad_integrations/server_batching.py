"""A bounded queue in front of one generator, drained by a worker thread into ``generate_batch``.

Requests that wait together decode together: the worker takes everything queued (up to ``max_batch``)
and runs one ``generate_batch`` over it, so concurrent users share each decode step. The queue is
bounded: when it is full, :meth:`BatchScheduler.submit` raises :class:`QueueFullError` at once (the
server answers 429 with Retry-After) instead of holding an unbounded backlog in memory.

Results and streamed text cross from the worker thread to the event loop with
``loop.call_soon_threadsafe``, in order, on one ``asyncio.Queue`` per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

logger = logging.getLogger(__name__)


class BatchGenerator(Protocol):
    def generate_batch(self, requests: Sequence[Any], on_delta: Any = None) -> list[Any]: ...


class QueueFullError(RuntimeError):
    """The scheduler's queue is full; retry later."""


class SchedulerClosedError(RuntimeError):
    """The scheduler is shutting down and takes no new work."""


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Done:
    result: Any


@dataclass(frozen=True)
class Failed:
    error: BaseException


Event = Delta | Done | Failed


@dataclass
class Job:
    """One request in flight. ``events`` receives Delta* then Done or Failed, on the submitting loop."""

    request: Any
    stream: bool
    loop: asyncio.AbstractEventLoop
    events: asyncio.Queue[Event] = field(default_factory=asyncio.Queue)
    abandoned: threading.Event = field(default_factory=threading.Event)
    emitted: bool = False

    def post(self, event: Event) -> None:
        """Deliver ``event`` from the worker thread; a closed loop means nobody is listening any more."""
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.events.put_nowait, event)

    def abandon(self) -> None:
        """The client went away: skip the job if it has not started, drop its output otherwise."""
        self.abandoned.set()

    async def result(self) -> Any:
        """Wait for the final result (deltas, if any, are skipped)."""
        while True:
            event = await self.events.get()
            if isinstance(event, Done):
                return event.result
            if isinstance(event, Failed):
                raise event.error


class BatchScheduler:
    """Owns the worker thread; one per generator."""

    def __init__(
        self,
        generator: BatchGenerator,
        *,
        max_pending: int = 64,
        max_batch: int = 8,
        batch_window_s: float = 0.005,
    ) -> None:
        if max_pending < 1 or max_batch < 1:
            raise ValueError("max_pending and max_batch must be at least 1")
        if batch_window_s < 0:
            raise ValueError("batch_window_s must not be negative")
        self._generator = generator
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=max_pending)
        self.max_pending = max_pending
        self.max_batch = max_batch
        self._window = batch_window_s
        self._thread: threading.Thread | None = None
        self._closed = False
        self.batches_run = 0
        self.largest_batch = 0

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="pad-batcher", daemon=True)
            self._thread.start()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Finish the queued work, then end the worker thread."""
        self._closed = True
        if self._thread is not None:
            self._queue.put(None)  # blocks only while the queue is full, i.e. until the worker takes one
            self._thread.join(timeout)
            self._thread = None

    def submit(self, request: Any, *, stream: bool = False) -> Job:
        """Queue ``request``; must be called on the event loop that will read the job's events."""
        if self._closed:
            raise SchedulerClosedError("the server is shutting down")
        job = Job(request=request, stream=stream, loop=asyncio.get_running_loop())
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            raise QueueFullError(
                f"the server is busy: {self.max_pending} requests are already waiting"
            ) from None
        return job

    def _take_batch(self) -> tuple[list[Job], bool]:
        """Block for one job, then gather what else arrives within the window. Returns (jobs, stop)."""
        first = self._queue.get()
        if first is None:
            return [], True
        jobs = [first]
        deadline = time.monotonic() + self._window
        while len(jobs) < self.max_batch:
            try:
                job = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if job is None:
                # Stop after this batch; put the sentinel back so the loop sees it next.
                self._queue.put(None)
                break
            jobs.append(job)
        return [j for j in jobs if not j.abandoned.is_set()], False

    def _work(self) -> None:
        while True:
            jobs, stop = self._take_batch()
            if stop:
                return
            if jobs:
                self._run(jobs)

    def _run(self, jobs: list[Job]) -> None:
        def on_delta(index: int, text: str) -> None:
            job = jobs[index]
            if job.stream and text and not job.abandoned.is_set():
                job.emitted = True
                job.post(Delta(text))

        self.batches_run += 1
        self.largest_batch = max(self.largest_batch, len(jobs))
        try:
            results = self._generator.generate_batch([j.request for j in jobs], on_delta=on_delta)
        except Exception as exc:
            if len(jobs) == 1:
                jobs[0].post(Failed(exc))
                return
            # One bad request must not fail its neighbours: rerun alone those that have shown nothing
            # yet; a stream that already sent text cannot be restarted and gets the error.
            logger.warning("batch of %d failed (%s); retrying its requests one by one", len(jobs), exc)
            for job in jobs:
                if job.emitted:
                    job.post(Failed(exc))
                else:
                    self._run([job])
            return
        for job, result in zip(jobs, results, strict=True):
            job.post(Done(result))
