"""Server requests on the process-wide decode queue, with admission control.

Decoding goes through :class:`pad_integrations.models_cache.DecodeQueue`, the same queue the LangChain
and LlamaIndex adapters use: one worker thread runs everything waiting as one ``generate_batch``, so
concurrent users share decode steps. The server adds what a network service needs on top:

- a bound: at most ``max_pending`` requests admitted (waiting or decoding); beyond that
  :class:`Admission` refuses at once and the server answers 429 with Retry-After, instead of an
  unbounded backlog in memory;
- the bridge to asyncio: streamed text and the final result arrive, in order, on one
  ``asyncio.Queue`` per request through ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any


class QueueFullError(RuntimeError):
    """Too many requests are admitted already; retry later."""


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


class Job:
    """One admitted request: ``events`` receives Delta* then Done or Failed, on the submitting loop."""

    def __init__(self, decode_queue: Any, request: Any, *, stream: bool, release: Any) -> None:
        self._loop = asyncio.get_running_loop()
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self._release = release
        self._future: Future[Any] = decode_queue.submit(request, self._on_delta if stream else None)
        # Runs on the worker thread right after the last delta was posted, so Done comes last.
        self._future.add_done_callback(self._on_done)

    def _post(self, event: Event) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening any more
            self._loop.call_soon_threadsafe(self.events.put_nowait, event)

    def _on_delta(self, text: str) -> None:
        if text:
            self._post(Delta(text))

    def _on_done(self, future: Future[Any]) -> None:
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._release)
        if future.cancelled():
            return
        error = future.exception()
        self._post(Failed(error) if error is not None else Done(future.result()))

    def abandon(self) -> None:
        """The client went away: a request that has not started decoding is dropped."""
        self._future.cancel()

    async def result(self) -> Any:
        """Wait for the final result (deltas, if any, are skipped)."""
        while True:
            event = await self.events.get()
            if isinstance(event, Done):
                return event.result
            if isinstance(event, Failed):
                raise event.error


class Admission:
    """Counts admitted requests (on the event loop only, so no lock) and refuses beyond ``max_pending``."""

    def __init__(self, decode_queue: Any, max_pending: int) -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self.decode_queue = decode_queue
        self.max_pending = max_pending
        self.in_flight = 0

    def _release(self) -> None:
        self.in_flight -= 1

    def submit(self, request: Any, *, stream: bool = False) -> Job:
        if self.in_flight >= self.max_pending:
            raise QueueFullError(f"the server is busy: {self.max_pending} requests are already in progress")
        job = Job(self.decode_queue, request, stream=stream, release=self._release)
        self.in_flight += 1
        return job
