"""A user's memory as the front ends use it: resolving ``memory=``, and recording finished turns.

- :func:`resolve_memory`: ``memory=`` may be a ``PreferenceMemory`` or a database URL; one memory
  object per URL per process, so adapter copies share one connection pool.
- :class:`TurnRecorder`: records finished turns off the request path, in order, on one background
  thread per memory; reading a user's profile first waits for that user's own pending turns (see
  :func:`pad_integrations.runtime.profiles.read_profile`), so a preference stated in one call steers the
  very next call (read-your-writes) without making anyone wait for another user's extraction.
- :func:`new_turn`: the part of a resent conversation that is new in this call.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from typing import Any, Literal, Protocol, runtime_checkable

logger = logging.getLogger(__name__)

RecordMode = Literal["background", "inline", "off"]


@runtime_checkable
class MemoryLike(Protocol):
    """What the adapters need from a preference memory (``memory.PreferenceMemory`` has it)."""

    def profile(self, user_id: str) -> Any: ...

    def observe(self, user_id: str, messages: Sequence[Any]) -> Any: ...


_memories: dict[str, Any] = {}
_memories_lock = threading.Lock()


def resolve_memory(memory: Any) -> MemoryLike | None:
    """``None``, a memory object, or a database URL (one shared ``PreferenceMemory`` per URL)."""
    if memory is None:
        return None
    if isinstance(memory, str):
        with _memories_lock:
            if memory not in _memories:
                from memory import PreferenceMemory

                _memories[memory] = PreferenceMemory(url=memory)
            return _memories[memory]
    if not isinstance(memory, MemoryLike):
        raise TypeError(
            "memory must be a PreferenceMemory, a database URL or None, not " + type(memory).__name__
        )
    return memory


class TurnRecorder:
    """Records turns into one memory on a background thread, keeping each user's turns in order."""

    def __init__(self, memory: MemoryLike) -> None:
        # Weak, so that a memory the application dropped (and its connection pool) can be collected;
        # queued turns hold their memory strongly until they are stored.
        self._memory = weakref.ref(memory)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pad-memory")
        self._pending: dict[str, set[Future[Any]]] = {}
        self._lock = threading.Lock()

    def record(self, user_id: str, messages: Sequence[Any], mode: RecordMode = "background") -> Any:
        """Store the turn; ``inline`` returns memory.observe's result, ``background`` a Future."""
        if mode == "off":
            return None
        memory = self.memory
        if mode == "inline":
            self.wait_for(user_id)
            return memory.observe(user_id, list(messages))
        future = self._executor.submit(self._observe, memory, user_id, list(messages))
        with self._lock:
            self._pending.setdefault(user_id, set()).add(future)
        future.add_done_callback(lambda f: self._done(user_id, f))
        return future

    def submit(self, user_id: str, work: Any) -> Future[Any]:
        """Run ``work()`` on this recorder's thread as part of ``user_id``'s pending turns, so that
        :meth:`wait_for` (read-your-writes) waits for it too. The server reads a committed turn this way."""
        future = self._executor.submit(work)
        with self._lock:
            self._pending.setdefault(user_id, set()).add(future)
        future.add_done_callback(lambda f: self._done(user_id, f))
        return future

    @property
    def memory(self) -> MemoryLike:
        memory = self._memory()
        if memory is None:
            raise RuntimeError("the memory of this recorder no longer exists")
        return memory

    @staticmethod
    def _observe(memory: MemoryLike, user_id: str, messages: list[Any]) -> Any:
        try:
            return memory.observe(user_id, messages)
        except Exception:
            # The reply already went out; the caller cannot handle this, so make it loud in the logs.
            logger.exception("recording a turn for a user failed; the turn was not stored")
            raise

    def _done(self, user_id: str, future: Future[Any]) -> None:
        with self._lock:
            pending = self._pending.get(user_id)
            if pending is not None:
                pending.discard(future)
                if not pending:
                    del self._pending[user_id]

    def wait_for(self, user_id: str, timeout: float | None = 30.0) -> None:
        """Wait until this user's earlier turns are stored (read-your-writes for the next call)."""
        with self._lock:
            pending = list(self._pending.get(user_id, ()))
        if pending:
            wait_futures(pending, timeout=timeout)

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every turn recorded so far is stored (and the memory's own background extraction)."""
        with self._lock:
            pending = [f for fs in self._pending.values() for f in fs]
        wait_futures(pending, timeout=timeout)
        memory_flush = getattr(self._memory(), "flush", None)
        if callable(memory_flush):
            memory_flush(timeout)


_recorders: weakref.WeakKeyDictionary[Any, TurnRecorder] = weakref.WeakKeyDictionary()


def recorder_for(memory: MemoryLike) -> TurnRecorder:
    """The process-wide recorder of ``memory`` (one per memory object, gone with it)."""
    with _memories_lock:
        recorder = _recorders.get(memory)
        if recorder is None:
            recorder = TurnRecorder(memory)
            _recorders[memory] = recorder
        return recorder


def new_turn(messages: Sequence[Any], role_of: Any) -> list[Any]:
    """The part of a conversation that is new in this call: what follows the last assistant message.

    Callers resend the whole history on every call; recording it again would duplicate it and let old
    statements count again after the user changed their mind. System messages are the application's,
    not the user's, so they are never mined for preferences.
    """
    start = 0
    for i, message in enumerate(messages):
        if role_of(message) == "assistant":
            start = i + 1
    return [m for m in messages[start:] if role_of(m) != "system"]
