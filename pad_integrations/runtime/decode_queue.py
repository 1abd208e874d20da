"""The decode queue: every caller of one engine shares one running decode.

All decoding goes through one :class:`DecodeQueue` per engine, whose worker thread owns a
:class:`~pad_integrations.generation.loop.DecodeLoop`. In the default ``continuous`` mode the loop never
waits for a batch to end: before every decode step the worker admits waiting requests (first come, first
served, within the :class:`SchedulerConfig` budgets), plans them (a request whose planning fails fails
alone), runs one step for every row in flight, hands out the text deltas and results, and drops rows
whose future was cancelled. A short request that arrives during a long decode gets its first token at
the next step or the one after; a cancelled or abandoned request stops costing compute at the next step.

``scheduler="batch"`` keeps the former batch-at-a-time behaviour (everything waiting is decoded as one
batch; requests arriving meanwhile wait for the whole batch), for comparison. :func:`batch_group` marks
the members of one ``batch``/``abatch`` call so that they join the decode together.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures._base import CANCELLED_AND_NOTIFIED, RUNNING
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pad_integrations.errors import InvalidRequestError, QueueClosedError

if TYPE_CHECKING:
    from pad_integrations.generation import GenerationRequest, GenerationResult, GuidedGenerator  # noqa: F401
    from pad_integrations.generation.loop import DecodeLoop, Event, Plan

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

Scheduler = Literal["continuous", "batch"]


@dataclass(frozen=True)
class SchedulerConfig:
    """How a decode queue admits requests into its running decode (docs/engine.md, "Scheduling").

    - ``mode``: ``"continuous"`` (requests join and leave the running decode between steps) or ``"batch"``
      (everything waiting is decoded as one batch to the end; arrivals wait for the next batch).
    - ``max_tokens_in_flight``: bound on the sum, over the requests in flight, of their prompt tokens (every
      context) plus ``max_new_tokens`` per context: a proxy for KV-cache memory and per-step cost. A
      request that does not fit waits (first come, first served: nobody overtakes it); one larger than the
      whole bound runs alone.
    - ``max_prefill_tokens``: prompt tokens encoded per step (continuous mode). A request's prefill runs in
      its own caches and joins the batch when complete; a longer prompt is encoded in chunks over several
      steps, so it cannot stall the next token of the rows already decoding (a newcomer's own prefill
      still waits for the long one: docs/serving.md).
    - ``max_request_tokens``: per-request budget (same measure as above); a request over it is refused with
      :class:`~pad_integrations.errors.InvalidRequestError`. None: no per-request limit.
    """

    mode: Scheduler = "continuous"
    max_tokens_in_flight: int = 65536
    max_prefill_tokens: int = 512
    max_request_tokens: int | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("continuous", "batch"):
            raise ValueError(f"scheduler mode must be 'continuous' or 'batch', not {self.mode!r}")
        if self.max_tokens_in_flight < 1 or self.max_prefill_tokens < 1:
            raise ValueError("max_tokens_in_flight and max_prefill_tokens must be positive")
        if self.max_request_tokens is not None and self.max_request_tokens < 1:
            raise ValueError("max_request_tokens must be positive (or None)")


def plan_cost(plan: Plan) -> int:
    """A request's size for the scheduler: prompt tokens of every context plus its new tokens per context."""
    return sum(len(ids) for ids in plan.contexts.values()) + plan.sampling.max_new_tokens * len(plan.contexts)


class DecodeFuture(Future["GenerationResult"]):
    """The future :meth:`DecodeQueue.submit` returns. ``cancel()`` works while decoding too: the future is
    cancelled at once and the row leaves the decode at the next step. For observability it records the
    queue's decode-step count when it was submitted, when its first token was chosen, and the last step
    it took part in."""

    def __init__(self, queue: DecodeQueue) -> None:
        super().__init__()
        self._queue = queue
        self._item: _Pending | None = None
        self.submitted_at_step: int | None = None
        self.first_token_at_step: int | None = None
        self.last_step: int | None = None  # the last decode step in which this row chose a token

    def cancel(self) -> bool:
        if self.cancelled():
            return True  # once only (a stream may cancel from several places)
        if super().cancel():  # not running yet: the worker skips it
            self._queue._cancelled(self, running=False)
            return True
        with self._condition:
            if self._state != RUNNING:
                return False
            self._state = CANCELLED_AND_NOTIFIED
            for waiter in self._waiters:
                waiter.add_cancelled(self)
            self._condition.notify_all()
        self._invoke_callbacks()  # type: ignore[attr-defined]  # (Future's own, as its cancel() does)
        self._queue._cancelled(self, running=True)
        return True


@dataclass(eq=False)
class _Pending:
    request: GenerationRequest
    on_delta: DeltaCallback | None
    future: DecodeFuture
    group: BatchGroup | None = None
    plan: Plan | None = None
    cost: int = 0
    row: int | None = None  # the row id in the running decode, once admitted


class DecodeQueue:
    """One worker thread per engine that keeps one decode running and feeds requests into it."""

    def __init__(
        self,
        engine: GuidedGenerator,
        max_batch_size: int = 32,
        scheduler: Scheduler | SchedulerConfig = "continuous",
    ) -> None:
        self.engine = engine
        self.max_batch_size = max_batch_size  # rows in flight at most
        self.scheduler = scheduler if isinstance(scheduler, SchedulerConfig) else SchedulerConfig(mode=scheduler)
        self._pending: list[_Pending] = []  # submitted, not planned yet
        self._planned: deque[_Pending] = deque()  # planned, waiting for room (worker thread only)
        self._rows: dict[int, _Pending] = {}  # row id -> request in the running decode
        self._to_cancel: list[_Pending] = []
        self._ids = itertools.count()
        self._loop: DecodeLoop | None = None
        self._tokens_in_flight = 0
        self._cond = threading.Condition()
        self._closed = False
        self.decodes = 0  # admission rounds (batch mode: batches) that started rows (observability, tests)
        self._counts = {"tokens": 0, "steps": 0, "prefill": 0, "cancelled": 0, "requests": 0}
        self._recent: deque[tuple[float, int]] = deque()  # (time, tokens) per step, for tokens_per_s
        self._worker = threading.Thread(target=self._run, name="pad-decode", daemon=True)
        self._worker.start()

    # -- callers' side ---------------------------------------------------------------------------
    def submit(self, request: GenerationRequest, on_delta: DeltaCallback | None = None) -> DecodeFuture:
        """Queue ``request``; the future resolves to its GenerationResult (or its error). ``cancel()`` on
        it drops the request, before or during its decode."""
        group = _current_group.get()
        membership = _membership.get()
        if membership is not None:
            membership.submitted = True
        future = DecodeFuture(self)
        item = _Pending(request, on_delta, future, group=group)
        future._item = item
        with self._cond:
            if self._closed:
                raise QueueClosedError("this decode queue is closed: the process is shutting down")
            future.submitted_at_step = self._counts["steps"]
            self._pending.append(item)
            self._counts["requests"] += 1
        if group is not None:
            group.settle(self)
        self.wake()
        return future

    def stats(self) -> QueueStats:
        """Counters and gauges of this queue, for metrics."""
        with self._cond:
            now = time.monotonic()
            while self._recent and now - self._recent[0][0] > RATE_WINDOW_S:
                self._recent.popleft()
            c = self._counts
            queued = sum(not p.future.done() for p in self._pending) + len(self._planned)
            return QueueStats(
                in_flight_rows=len(self._rows), queued=queued, tokens_generated_total=c["tokens"],
                decode_steps_total=c["steps"], prefill_tokens_total=c["prefill"], cancelled_total=c["cancelled"],
                requests_total=c["requests"], tokens_per_s=sum(n for _, n in self._recent) / RATE_WINDOW_S,
            )

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def close(self) -> None:
        """Accept nothing new; what was submitted is still decoded, then the worker ends."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _cancelled(self, future: DecodeFuture, running: bool) -> None:
        with self._cond:
            self._counts["cancelled"] += 1
            if running and future._item is not None:
                self._to_cancel.append(future._item)
            self._cond.notify_all()

    # -- the worker ------------------------------------------------------------------------------
    def _busy(self) -> bool:
        return bool(self._rows or self._planned or self._to_cancel or (self._loop is not None and not self._loop.idle))

    def _take(self) -> list[_Pending] | None:
        """Requests ready to plan (whole batch groups, first come); None once closed and drained."""
        with self._cond:
            while True:
                busy = self._busy()
                if self._closed and not self._pending and not busy:
                    return None
                batch = self.scheduler.mode == "batch"
                room = self.max_batch_size - len(self._rows) - len(self._planned)
                if batch and busy:
                    room = 0  # batch mode: arrivals wait for the running batch to end
                ready = [p for p in self._pending if p.group is None or p.group.is_complete()] if room > 0 else []
                if ready or busy:
                    taken = ready[:room]
                    ids = set(map(id, taken))
                    self._pending = [p for p in self._pending if id(p) not in ids]
                    return taken
                waits = [p.group.wait_left() for p in self._pending if p.group is not None]
                self._cond.wait(timeout=min(waits) + 0.001 if waits else None)

    def _run(self) -> None:
        while (taken := self._take()) is not None:
            try:
                self._plan(taken)
                self._admit()
                self._step()
            except BaseException as exc:  # the decode itself broke (not one row): fail what it held
                logger.exception("decode step failed; failing the requests in flight")
                self._fail_all(exc)

    def _plan(self, taken: list[_Pending]) -> None:
        limit = self.scheduler.max_request_tokens
        for item in taken:
            if item.future.done():
                continue  # cancelled while waiting
            try:
                item.plan = self.engine.plan(item.request)
                item.cost = plan_cost(item.plan)
                if limit is not None and item.cost > limit:
                    raise InvalidRequestError(
                        f"the request needs {item.cost} tokens (prompt contexts plus max_tokens per context); "
                        f"this server's per-request budget is {limit}: shorten the prompt or lower max_tokens"
                    )
            except BaseException as exc:  # this request's own mistake: it alone fails
                _settle(item.future, exc)
                continue
            self._planned.append(item)

    def _admit(self) -> None:
        """Start planned requests, first come first served, while the budgets allow."""
        from pad_integrations.generation.loop import DecodeLoop

        if self._loop is None or self._loop.idle:
            chunk = None if self.scheduler.mode == "batch" else self.scheduler.max_prefill_tokens
            self._loop = DecodeLoop(self.engine.loop_models(), max_prefill_tokens=chunk)
        started = 0
        while self._planned:
            item = self._planned[0]
            if self._rows and (
                len(self._rows) >= self.max_batch_size
                or self._tokens_in_flight + item.cost > self.scheduler.max_tokens_in_flight
            ):
                break  # the head waits for room; nobody overtakes it
            self._planned.popleft()
            if not item.future.set_running_or_notify_cancel():
                continue
            assert item.plan is not None
            item.row = next(self._ids)
            try:
                self._loop.add(item.row, item.plan)  # may refuse the request (a grammar that cannot fit)
            except BaseException as exc:
                _settle(item.future, exc)
                continue
            self._rows[item.row] = item
            self._tokens_in_flight += item.cost
            started += 1
        if started:
            self.decodes += 1

    def _step(self) -> None:
        loop = self._loop
        if loop is None:
            return
        with self._cond:
            cancels, self._to_cancel = self._to_cancel, []
        for item in cancels:
            if item.row is not None and self._rows.pop(item.row, None) is not None:
                loop.cancel(item.row)
                self._tokens_in_flight -= item.cost
        if loop.idle:
            return
        steps, tokens, prefill = loop.steps, loop.tokens, loop.prefill_tokens
        with self.engine._lock:
            events = loop.step()
        with self._cond:
            self._counts["steps"] += loop.steps - steps
            self._counts["tokens"] += loop.tokens - tokens
            self._counts["prefill"] += loop.prefill_tokens - prefill
            if loop.tokens > tokens:
                self._recent.append((time.monotonic(), loop.tokens - tokens))
            step = self._counts["steps"]
        self._deliver(events, step)

    def _deliver(self, events: list[Event], step: int) -> None:
        for row, delta, result in events:
            item = self._rows.get(row)
            if item is None:
                continue  # cancelled meanwhile
            future = item.future
            if not isinstance(result, BaseException):
                future.last_step = step
                if future.first_token_at_step is None:
                    future.first_token_at_step = step
            if delta and item.on_delta is not None and not future.done():
                try:
                    item.on_delta(delta)
                except Exception:  # a broken consumer must not stop the other rows
                    logger.exception("streaming callback failed; the decode goes on")
            if result is not None:
                del self._rows[row]
                self._tokens_in_flight -= item.cost
                _settle(future, result)

    def _fail_all(self, exc: BaseException) -> None:
        items = list(self._rows.values())
        self._rows.clear()
        self._tokens_in_flight = 0
        self._loop = None
        for item in items:
            _settle(item.future, exc)


def _settle(future: Future[Any], outcome: Any) -> None:
    """Resolve ``future`` with a result or an exception, unless it was cancelled (or settled) already."""
    try:
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
    except Exception:  # InvalidStateError: cancelled meanwhile, nobody waits for it
        pass
