"""Observing finished turns off the request path, in order per user, without losing any.

The reply goes out first; the memory learns from the turn afterwards. Each user's observations run one
after another (a later turn never overtakes an earlier one), and anything that reads or changes a
user's preferences first waits for that user's pending observations, so the next request already sees
what the previous turn taught (read-your-writes) and a ``forget`` is never undone by a late observe.
A failing observe is retried with backoff and logged with the turn if it still fails; shutdown waits
for every pending observation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

logger = logging.getLogger(__name__)


class TurnRecorder:
    def __init__(self, memory: Any, *, attempts: int = 3, backoff_s: float = 0.2) -> None:
        self._memory = memory
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._tails: dict[str, asyncio.Task[None]] = {}

    def record(self, user_id: str, messages: Sequence[dict[str, Any]]) -> None:
        """Schedule ``memory.aobserve(user_id, messages)`` after the user's earlier observations."""
        previous = self._tails.get(user_id)
        task = asyncio.create_task(self._observe(previous, user_id, list(messages)))
        self._tails[user_id] = task

        def forget_tail(done: asyncio.Task[None]) -> None:
            if self._tails.get(user_id) is done:
                del self._tails[user_id]

        task.add_done_callback(forget_tail)

    async def _observe(self, previous: asyncio.Task[None] | None, user_id: str, messages: list[dict]) -> None:
        if previous is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(previous)
        for attempt in range(1, self._attempts + 1):
            try:
                await self._memory.aobserve(user_id, messages)
                return
            except ValueError:
                logger.exception("memory rejected the turn of user %r", user_id)
                return
            except Exception:
                if attempt == self._attempts:
                    logger.exception("could not record a turn of user %r after %d attempts: %r",
                                     user_id, attempt, messages)
                    return
                await asyncio.sleep(self._backoff_s * 2 ** (attempt - 1))

    async def settled(self, user_id: str) -> None:
        """Wait until every observation of ``user_id`` scheduled so far has finished."""
        task = self._tails.get(user_id)
        if task is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(task)

    @property
    def pending(self) -> int:
        return len(self._tails)

    async def drain(self) -> None:
        """Wait for every pending observation (server shutdown)."""
        while self._tails:
            await asyncio.gather(*list(self._tails.values()), return_exceptions=True)


def new_turn(messages: Sequence[dict[str, Any]], reply: str) -> list[dict[str, Any]]:
    """What a request adds to the conversation: the user messages after the last assistant turn, and the reply.

    Clients resend the whole history with every request; observing only the new part keeps each message
    stored once. System messages are the application's, not the user's, and are not observed.
    """
    start = 0
    for i, message in enumerate(messages):
        if message["role"] == "assistant":
            start = i + 1
    new = [m for m in messages[start:] if m["role"] == "user"]
    return [*({"role": "user", "content": m["content"]} for m in new), {"role": "assistant", "content": reply}]
