"""Server requests on the process-wide decode queue, with admission control.

Decoding goes through :class:`pad_integrations.runtime.decode_queue.DecodeQueue`, the same queue the
LangChain and LlamaIndex adapters use: one worker thread runs everything waiting as one
``generate_batch``, so concurrent users share decode steps. The server adds a bound: at most
``max_pending`` requests admitted (waiting or decoding); beyond that :class:`Admission` refuses at once
and the server answers 429 with Retry-After, instead of an unbounded backlog in memory. Results reach
the request's task through the shared :class:`pad_integrations.runtime.bridge.ResultStream`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING

from pad_integrations.runtime.bridge import Event, ResultStream

if TYPE_CHECKING:
    from pad_integrations.generation import GenerationRequest, GenerationResult
    from pad_integrations.runtime.decode_queue import DecodeQueue


class QueueFullError(RuntimeError):
    """Too many requests are admitted already; retry later."""


class Job:
    """One admitted request: :meth:`events` yields Delta* then Done or Failed, on the submitting loop."""

    def __init__(
        self, decode_queue: DecodeQueue, request: GenerationRequest, *, stream: bool, release: Callable[[], None]
    ) -> None:
        loop = asyncio.get_running_loop()
        self._stream = ResultStream(loop)
        self._future: Future[GenerationResult] = decode_queue.submit(
            request, self._stream.on_delta if stream else None
        )

        def released(_: Future[GenerationResult]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is counting any more
                loop.call_soon_threadsafe(release)

        # Registered first, so the slot is free by the time the caller sees Done.
        self._future.add_done_callback(released)
        self._stream.attach(self._future)

    def events(self) -> AsyncIterator[Event]:
        return self._stream.aevents()

    def abandon(self) -> None:
        """The client went away: a request that has not started decoding is dropped."""
        self._future.cancel()

    async def result(self) -> GenerationResult:
        """Wait for the final result (deltas, if any, are skipped)."""
        return await self._stream.aresult()


class Admission:
    """Counts admitted requests (on the event loop only, so no lock) and refuses beyond ``max_pending``."""

    def __init__(self, decode_queue: DecodeQueue, max_pending: int) -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self.decode_queue = decode_queue
        self.max_pending = max_pending
        self.in_flight = 0

    def _release(self) -> None:
        self.in_flight -= 1

    def submit(self, request: GenerationRequest, *, stream: bool = False) -> Job:
        if self.in_flight >= self.max_pending:
            raise QueueFullError(f"the server is busy: {self.max_pending} requests are already in progress")
        job = Job(self.decode_queue, request, stream=stream, release=self._release)
        self.in_flight += 1
        return job
