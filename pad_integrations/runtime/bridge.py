"""The one bridge from the decode thread to a caller: text deltas, then the final result, in order.

The decode queue calls ``on_delta`` on its worker thread and resolves a ``Future`` when the request is
done. A :class:`ResultStream` turns both into one ordered sequence of events for a caller that is a
plain thread (``queue.Queue``) or an asyncio task (``asyncio.Queue`` fed through
``loop.call_soon_threadsafe``): ``Delta``\\* then ``Done`` or ``Failed``.

Order holds because the future's done-callback runs on the worker thread right after the last delta
was posted (or at once on the caller's thread, if the future was already done: its deltas went first).

A reader that stops early (a ``for`` loop left by ``break``, a generator closed or garbage-collected, a
cancelled task) cancels the request: :meth:`ResultStream.cancel` runs when the event iterators end before
the final event, and the decode queue drops the row at its next step.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pad_integrations.generation import GenerationResult


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Done:
    result: GenerationResult


@dataclass(frozen=True)
class Failed:
    error: BaseException


Event = Delta | Done | Failed


class ResultStream:
    """The events of one queued request, for a thread (``loop=None``) or for the tasks of ``loop``.

    ``on_delta`` is the decode queue's streaming callback; :meth:`attach` takes the request's future.
    Read with :meth:`events`/:meth:`deltas` (threads) or :meth:`aevents`/:meth:`adeltas` (asyncio); after
    the deltas, :meth:`result` returns the final result or raises the decode's error.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop
        self._sync: queue.Queue[Event] | None = queue.Queue() if loop is None else None
        self._async: asyncio.Queue[Event] | None = asyncio.Queue() if loop is not None else None
        self._final: Done | Failed | None = None
        self._future: Future[GenerationResult] | None = None

    def _post(self, event: Event) -> None:
        if self._sync is not None:
            self._sync.put(event)
            return
        assert self._loop is not None and self._async is not None
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening any more
            self._loop.call_soon_threadsafe(self._async.put_nowait, event)

    def on_delta(self, text: str) -> None:
        if text:
            self._post(Delta(text))

    def attach(self, future: Future[GenerationResult]) -> None:
        self._future = future
        future.add_done_callback(self._on_done)

    def cancel(self) -> None:
        """Nobody will read the rest: cancel the request (a no-op once it ended)."""
        if self._final is None and self._future is not None:
            self._future.cancel()

    def _on_done(self, future: Future[GenerationResult]) -> None:
        if future.cancelled():
            self._post(Failed(CancelledError()))
            return
        error = future.exception()
        self._post(Failed(error) if error is not None else Done(future.result()))

    def _seen(self, event: Event) -> bool:
        """Remember the final event; True when ``event`` ends the stream."""
        if isinstance(event, (Done, Failed)):
            self._final = event
            return True
        return False

    def events(self) -> Iterator[Event]:
        assert self._sync is not None, "this stream delivers to an event loop; use aevents()"
        try:
            while self._final is None:
                event = self._sync.get()
                self._seen(event)
                yield event
        finally:
            self.cancel()  # left before the end (closed, collected, an exception in the reader)

    async def aevents(self) -> AsyncIterator[Event]:
        assert self._async is not None, "this stream delivers to a thread; use events()"
        try:
            while self._final is None:
                event = await self._async.get()
                self._seen(event)
                yield event
        finally:
            self.cancel()

    def deltas(self) -> Iterator[str]:
        try:
            for event in self.events():
                if isinstance(event, Delta):
                    yield event.text
        finally:
            self.cancel()

    async def adeltas(self) -> AsyncIterator[str]:
        try:
            async for event in self.aevents():
                if isinstance(event, Delta):
                    yield event.text
        finally:
            self.cancel()

    def result(self) -> GenerationResult:
        """The final result once the stream ended (read to the end first); raises the decode's error."""
        if self._final is None:
            for _ in self.events():
                pass
        if isinstance(self._final, Failed):
            raise self._final.error
        assert isinstance(self._final, Done)
        return self._final.result

    async def aresult(self) -> GenerationResult:
        """Wait for the final result (deltas, if any, are skipped)."""
        async for _ in self.aevents():
            pass
        return self.result()
