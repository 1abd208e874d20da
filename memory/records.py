"""The values the memory hands out: preferences, changes, stored messages and history.

Plain frozen dataclasses, detached from any database session, safe to keep and to share across threads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

ChangeAction = Literal["add", "update", "supersede", "remove", "evidence"]


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Preference:
    """One preference of one user. ``text`` is the line it contributes to the compiled prompt."""

    id: str
    kind: str
    value: str
    text: str
    weight: float
    confidence: float
    source: str  # explicit | implicit | feedback | manual
    evidence: tuple[str, ...]  # ids of the messages that support it
    status: str = "active"  # active | superseded | removed (manually, by a retraction, or evicted by the cap)
    key: str = ""
    extractor: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    superseded_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class Change:
    """What one observation, feedback or explicit call did to a preference.

    ``preference`` is the state after the change (for ``remove`` the removed row, status ``removed``);
    ``previous`` is the row it replaced (``supersede``) or its state before (``update``, ``evidence``).
    """

    action: ChangeAction
    preference: Preference
    previous: Preference | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "preference": self.preference.to_dict(),
            "previous": self.previous.to_dict() if self.previous else None,
        }


@dataclass(frozen=True)
class ObserveResult:
    """What ``PreferenceMemory.observe`` did with a turn.

    ``changes``: what the turn's inline reading changed, when it was read on the caller's path.
    ``deferred``: True when that reading was moved to the background worker instead (a turn over the
    inline budget, or one after such a turn of the same user still being read); ``changes`` is then empty
    and ``wait()`` returns them once read. ``pending``: background extractor jobs queued for the turn.
    """

    changes: list[Change]
    message_ids: list[str]
    pending: int = 0  # turns queued for background extractors
    deferred: bool = False
    waiter: Callable[[float | None], list[Change]] | None = field(default=None, repr=False, compare=False)

    def wait(self, timeout: float | None = 10.0) -> list[Change]:
        """The turn's inline changes: ``changes``, or for a deferred reading its changes once done (it is
        run here if the worker has not started it); ``[]`` if it is not done within ``timeout`` seconds."""
        if not self.deferred or self.waiter is None:
            return list(self.changes)
        return self.waiter(timeout)


@dataclass(frozen=True)
class StoredMessage:
    id: str
    role: str
    content: str
    created_at: datetime
    truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class PreferenceEvent:
    """One line of the audit trail: who changed which preference, when, why and on what evidence."""

    action: str
    preference_id: str
    kind: str
    value: str
    previous_value: str | None
    source: str
    extractor: str
    message_id: str | None
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class FeedbackRecord:
    message_id: str
    rating: int | None
    text: str | None
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class History:
    """Everything kept about a user, oldest first."""

    user_id: str
    messages: list[StoredMessage] = field(default_factory=list)
    preferences: list[Preference] = field(default_factory=list)  # every status, superseded included
    events: list[PreferenceEvent] = field(default_factory=list)
    feedback: list[FeedbackRecord] = field(default_factory=list)
    next_cursor: str | None = None  # pass as history(before=...) for the next, older page of messages
