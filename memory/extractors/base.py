"""The one interface every extractor implements, and the decisions it returns.

An extractor reads a turn (plus the user's active preferences and the assistant message the user is
answering) and returns decisions: ``Assert`` a preference (the store turns it into add, evidence or
supersede) or ``Retract`` one. It never touches the database, so extractors are easy to test and a slow
one can run on a background thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from memory.messages import TurnMessage
from memory.records import Preference


@dataclass(frozen=True)
class Assert:
    kind: str
    value: str
    source: str  # explicit | implicit | feedback
    confidence: float
    weight: float = 1.0
    message_index: int | None = None  # which message of the turn is the evidence (None: all user messages)
    extractor: str = ""
    text: str | None = None  # custom text (rendered as quoted data)


@dataclass(frozen=True)
class Retract:
    kind: str
    value: str | None = None  # only this value (None: whatever is active in the slot)
    key: str | None = None  # item of a multi-slot kind (None: derived from value)
    preference_id: str | None = None
    source: str = "explicit"
    message_index: int | None = None
    extractor: str = ""


Decision = Assert | Retract


@dataclass(frozen=True)
class ExtractionContext:
    messages: Sequence[TurnMessage]
    active: Sequence[Preference] = ()
    previous_assistant: str | None = None  # the last assistant message before this turn
    feedback: bool = False  # the user messages are feedback on an assistant answer
    extra: dict[str, object] = field(default_factory=dict)


@runtime_checkable
class Extractor(Protocol):
    name: str
    runs_inline: bool  # False: the store runs it on its background worker, off the request path

    def extract(self, context: ExtractionContext) -> list[Decision]: ...
