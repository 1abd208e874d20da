"""The decode queue: every caller of one engine shares batched decodes.

All decoding goes through one :class:`DecodeQueue` per engine: one worker thread takes every request
waiting at that moment and runs them as one ``generate_batch`` call. A lone request starts at once;
requests that arrive while a decode runs (two users at the same time, ``batch``, ``abatch``) share
the next batched decode instead of threads fighting over one model. :func:`batch_group` marks the
members of one ``batch``/``abatch`` call so that they meet in one decode.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pad_integrations.errors import GenerationError, QueueClosedError

if TYPE_CHECKING:
    from pad_integrations.generation import GenerationRequest, GenerationResult, GuidedGenerator

logger = logging.getLogger(__name__)

DeltaCallback = Callable[[str], None]

_queues: dict[int, DecodeQueue] = {}
_queues_lock = threading.Lock()


def get_decode_queue(engine: GuidedGenerator) -> DecodeQueue:
    """The single decode queue of ``engine`` (created on first use)."""
    queue = _queues.get(id(engine))
    if queue is None or queue.engine is not engine:
        with _queues_lock:
            queue = _queues.get(id(engine))
            if queue is None or queue.engine is not engine:
                queue = DecodeQueue(engine)
                _queues[id(engine)] = queue
    return queue


def close_all() -> None:
    """Close and forget every decode queue; running decodes finish normally."""
    with _queues_lock:
        for queue in _queues.values():
            queue.close()
        _queues.clear()


class BatchGroup:
    """A known number of requests (one ``batch``/``abatch`` call) that should share one decode.

    The queue holds a group's requests until every member submitted or gave up (an error before
    submission, an LLM-cache hit), with a time limit so that a miscount costs latency, never a hang.
    """

    def __init__(self, size: int, max_wait_s: float = 2.0) -> None:
        if size < 1:
            raise ValueError("a batch group needs at least one member")
        self.size = size
        self.max_wait_s = max_wait_s
        self.settled = 0
        self.last_activity = time.monotonic()
        self._queues: set[DecodeQueue] = set()
        self._lock = threading.Lock()

    def is_complete(self) -> bool:
        return self.settled >= self.size or time.monotonic() - self.last_activity >= self.max_wait_s

    def wait_left(self) -> float:
        return max(0.0, self.max_wait_s - (time.monotonic() - self.last_activity))

    def settle(self, queue: DecodeQueue | None = None) -> None:
        """One member is done with the group: it submitted (to ``queue``) or gave up."""
        with self._lock:
            self.settled += 1
            self.last_activity = time.monotonic()
            if queue is not None:
                self._queues.add(queue)
            waiting = list(self._queues)
        for q in waiting:
            q.wake()


_current_group: contextvars.ContextVar[BatchGroup | None] = contextvars.ContextVar(
    "pad_batch_group", default=None
)


@contextlib.contextmanager
def batch_group(size: int) -> Iterator[BatchGroup]:
    """Mark the requests made in this context (and the threads/tasks it starts) as one batch."""
    group = BatchGroup(size)
    token = _current_group.set(group)
    try:
        yield group
    finally:
        _current_group.reset(token)


@dataclass
class _Membership:
    submitted: bool = False


_membership: contextvars.ContextVar[_Membership | None] = contextvars.ContextVar("pad_membership", default=None)


@contextlib.contextmanager
def group_member() -> Iterator[None]:
    """Wrap one member's work up to its submission; ending without one settles it, so the rest go on."""
    group = _current_group.get()
    marker = _Membership()
    token = _membership.set(marker)
    try:
        yield
    finally:
        _membership.reset(token)
        if group is not None and not marker.submitted:
            group.settle()


@dataclass(frozen=True)
class QueueStats:
    """A snapshot of one decode queue (the server's ``/metrics`` reads it).

    Counters (``*_total``) only grow; ``in_flight_rows`` and ``queued`` are gauges; ``tokens_per_s`` is
    the rate of generated tokens over the last :data:`RATE_WINDOW_S` seconds.
    """

    in_flight_rows: int  # requests being decoded (prefilling or stepping) now
    queued: int  # requests submitted and not decoding yet
    tokens_generated_total: int  # tokens chosen, over every row of every decode
    decode_steps_total: int  # decode steps (one forward per model kind) run
    prefill_tokens_total: int  # prompt tokens encoded, over every context of every row
    cancelled_total: int  # requests cancelled (by the caller or a disconnected client)
    requests_total: int  # requests submitted
    tokens_per_s: float  # generated tokens per second over the recent window


RATE_WINDOW_S = 10.0


@dataclass
class _Pending:
    request: GenerationRequest
    on_delta: DeltaCallback | None
    future: Future[GenerationResult] = field(default_factory=Future)
    group: BatchGroup | None = None


class DecodeQueue:
    """One worker thread per engine that runs everything waiting as one batched decode."""

    def __init__(self, engine: GuidedGenerator, max_batch_size: int = 32) -> None:
        self.engine = engine
        self.max_batch_size = max_batch_size
        self._pending: list[_Pending] = []
        self._cond = threading.Condition()
        self._closed = False
        self.decodes = 0  # number of generate_batch calls so far (observability, tests)
        self._counts = {"tokens": 0, "steps": 0, "prefill": 0, "cancelled": 0, "requests": 0, "rows": 0}
        self._recent: list[tuple[float, int]] = []  # (time, tokens) per finished row, for tokens_per_s
        self._worker = threading.Thread(target=self._run, name="pad-decode", daemon=True)
        self._worker.start()

    def submit(self, request: GenerationRequest, on_delta: DeltaCallback | None = None) -> Future[GenerationResult]:
        """Queue ``request``; the future resolves to its GenerationResult (or the decode's exception)."""
        group = _current_group.get()
        membership = _membership.get()
        if membership is not None:
            membership.submitted = True
        item = _Pending(request, on_delta, group=group)
        with self._cond:
            if self._closed:
                raise QueueClosedError("this decode queue is closed: the process is shutting down")
            self._pending.append(item)
            self._counts["requests"] += 1
        if group is not None:
            group.settle(self)
        self.wake()
        return item.future

    def stats(self) -> QueueStats:
        """Counters and gauges of this queue, for metrics."""
        with self._cond:
            now = time.monotonic()
            self._recent = [(t, n) for t, n in self._recent if now - t <= RATE_WINDOW_S]
            c = self._counts
            return QueueStats(
                in_flight_rows=c["rows"], queued=len(self._pending), tokens_generated_total=c["tokens"],
                decode_steps_total=c["steps"], prefill_tokens_total=c["prefill"], cancelled_total=c["cancelled"],
                requests_total=c["requests"], tokens_per_s=sum(n for _, n in self._recent) / RATE_WINDOW_S,
            )

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _take_ready(self) -> list[_Pending] | None:
        with self._cond:
            while True:
                if self._closed and not self._pending:
                    return None
                ready = [p for p in self._pending if p.group is None or p.group.is_complete()]
                if ready:
                    ready = ready[: self.max_batch_size]
                    taken = set(map(id, ready))
                    self._pending = [p for p in self._pending if id(p) not in taken]
                    return ready
                waits = [p.group.wait_left() for p in self._pending if p.group is not None]
                self._cond.wait(timeout=min(waits) + 0.001 if waits else None)

    def _run(self) -> None:
        while (batch := self._take_ready()) is not None:
            live = [p for p in batch if p.future.set_running_or_notify_cancel()]
            if live:
                self._decode(live)

    def _decode(self, live: list[_Pending]) -> None:
        self.decodes += 1
        self._counts["rows"] = len(live)
        try:
            self._decode_rows(live)
        finally:
            self._counts["rows"] = 0

    def _decode_rows(self, live: list[_Pending]) -> None:

        streamed: set[int] = set()

        def on_delta(index: int, delta: str) -> None:
            callback = live[index].on_delta
            if callback is None:
                return
            streamed.add(index)
            try:
                callback(delta)
            except Exception:  # a broken consumer must not stop the other rows
                logger.exception("streaming callback failed; the decode goes on")

        try:
            results = self.engine.generate_batch([p.request for p in live], on_delta=on_delta)
        except BaseException as exc:
            if len(live) > 1 and isinstance(exc, (ValueError, TypeError, GenerationError)):
                # One caller's bad input (or parameters that overflow to NaN scores) must not fail the
                # others: decode each on its own, except rows whose text already went out (a retry would
                # send it twice).
                for i, p in enumerate(live):
                    if i in streamed:
                        p.future.set_exception(exc)
                    else:
                        self._decode_rows([p])
                return
            for p in live:
                p.future.set_exception(exc)
            return
        with self._cond:
            now = time.monotonic()
            for result in results:
                self._counts["tokens"] += result.usage.output_tokens
                self._counts["prefill"] += result.usage.input_tokens
                self._recent.append((now, result.usage.output_tokens))
            self._counts["steps"] += max((r.usage.output_tokens for r in results), default=0)
        for p, result in zip(live, results, strict=True):
            p.future.set_result(result)
