"""Applying extractor decisions to a user's stored preferences, inside the caller's transaction.

The rules that beat the failures of mem0 and friends: a changed preference supersedes the old row (kept,
linked by ``superseded_by``) so the two are never both active and never both lost; the same preference
stated again, or explicitly and then implicitly, becomes more evidence on one row; a weak implicit signal
never overturns what the user said explicitly.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, update

from memory import taxonomy
from memory.extractors.base import Assert, Decision, Retract
from memory.extractors.clauses import is_injection
from memory.extractors.guard import refuse_value
from memory.profile import render_line
from memory.records import Change, Preference
from memory.schema import EventRow, PreferenceRow, aware, utcnow
from memory.text import clean_for_storage

log = logging.getLogger("memory")

MAX_VALUE_CHARS = 200
MAX_CUSTOM_TEXT_CHARS = 500


def to_record(row: Any) -> Preference:
    """A detached Preference from a stored row (a result row, a PrefState or an ORM object)."""
    return Preference(
        id=row.id,
        kind=row.kind,
        value=row.value,
        text=render_line(row.kind, row.value, row.custom_text),
        weight=row.weight,
        confidence=row.confidence,
        source=row.source,
        evidence=tuple(row.evidence or ()),
        status=row.status,
        key=row.key,
        extractor=row.extractor,
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
        superseded_by=row.superseded_by,
    )


def clean_value(kind: str, value: object) -> str:
    """A stored value: a style dimension's canonical value, or bounded single-line free text."""
    if not isinstance(value, str):
        raise TypeError(f"value must be a str, not {type(value).__name__}")
    if taxonomy.is_style(kind):
        return taxonomy.validate_style_value(kind, value)
    value = re.sub(r"\s+", " ", clean_for_storage(value)).strip()
    if not value:
        raise ValueError("value must not be empty")
    if re.fullmatch(r"[\w'’-]+", value) and value.lower() in _FILLER_WORDS:
        # A reader that lost its noun ('I sat through a 90-minute briefing' -> 'a') names nothing.
        raise ValueError(f"value {value!r} names nothing")
    return value[:MAX_VALUE_CHARS]


def _combine(a: float, b: float) -> float:
    """Two independent pieces of evidence: 1 - (1-a)(1-b), capped below certainty."""
    return round(min(0.99, 1 - (1 - a) * (1 - b)), 4) if max(a, b) < 1.0 else 1.0


# Declarative classes type ``__table__`` as FromClause; these are plain Tables (no __table__ override).
_PREFS = cast(Table, PreferenceRow.__table__)
_INSERT_PREF = insert(_PREFS)
_INSERT_EVENT = insert(cast(Table, EventRow.__table__))
_MUTABLE = (
    "status",
    "weight",
    "confidence",
    "source",
    "custom_text",
    "text",
    "evidence",
    "superseded_by",
    "updated_at",
)
_UPDATE_PREF = (
    update(_PREFS)
    .where(_PREFS.c.id == bindparam("pref_id"))
    .values({name: bindparam(f"new_{name}") for name in _MUTABLE})
)


@dataclass
class PrefState:
    """A working copy of one memory_preferences row, written back with one UPDATE when it changes."""

    id: str
    user_pk: int
    kind: str
    key: str
    slot: str
    value: str
    text: str
    custom_text: str | None
    weight: float
    confidence: float
    source: str
    extractor: str
    status: str
    evidence: list[str]
    superseded_by: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Any) -> PrefState:
        state = cls(**{name: getattr(row, name) for name in _STATE_FIELDS})
        state.evidence = list(state.evidence or ())
        return state

    def params(self) -> dict[str, Any]:
        """The row's columns as insert parameters (``dataclasses.asdict`` deep-copies every value: a fifth of
        a millisecond per insert on the caller's path)."""
        return {name: getattr(self, name) for name in _STATE_FIELDS}


_STATE_FIELDS = tuple(f.name for f in fields(PrefState))


_FAMILY = {"likes": 1, "dislikes": -1, "avoid": -1}
_FILLER_WORDS = frozenset(
    ["a", "an", "the", "my", "our", "of", "to", "for", "in", "on", "at", "with", "and", "or", "any", "some", "very", "really", "just", "much", "more", "most", "own", "good",
     # A pronoun names nothing by itself ('I hate walking boots, they give me blisters' stored dislikes 'they').
     "it", "they", "them", "he", "she", "him", "her", "this", "that", "these", "those", "we", "us", "you", "i", "me"]
)


def _content_words(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9][a-z0-9'-]*", re.sub(r"['’]s\b", "", text.lower()))
    return {w.rstrip("s") for w in words if w not in _FILLER_WORDS}


def _names_the_other(a: str, b: str) -> bool:
    """'hiking' and 'hiking and the outdoors': one value's words all occur in the other."""
    x, y = _content_words(a), _content_words(b)
    return bool(x and y) and (x <= y or y <= x)


class Resolver:
    """Holds one user's active rows for the duration of one transaction and applies decisions to them.

    Every change is written at once with SQLAlchemy Core on the transaction's connection (no ORM unit of
    work on the hot path); the retired row is updated before its successor is inserted, as the unique
    index on active slots requires.
    """

    def __init__(self, conn: Connection, user_pk: int, active: Sequence[Any]) -> None:
        self.conn = conn
        self.user_pk = user_pk
        self.active = {row.slot: PrefState.of(row) for row in active}
        self.changes: list[Change] = []

    def apply(
        self, decisions: Sequence[Decision], message_ids: Sequence[str], default_evidence: Sequence[str]
    ) -> None:
        for decision in decisions:
            if decision.message_index is not None and decision.message_index < len(message_ids):
                evidence = [message_ids[decision.message_index]]
            else:
                evidence = list(default_evidence)
            try:
                if isinstance(decision, Assert):
                    self.affirm(decision, evidence)
                else:
                    self.retract(decision, evidence)
            except (ValueError, TypeError) as exc:
                # An extractor proposed something invalid (an LLM's unknown value, say): skip it, keep the rest.
                log.warning("memory: skipped invalid %s decision %r: %s", decision.extractor, decision, exc)

    def affirm(self, d: Assert, evidence: list[str], *, custom_text: str | None = None) -> None:
        kind = taxonomy.validate_kind(d.kind)
        value = clean_value(kind, d.value)
        # The last check every extracted value passes, whatever path proposed it (the extractors ran the same
        # checks, and the ones by meaning, on their own; this catches a path that forgot). A manual value is
        # the user's own explicit setting: kept, quoted as data in the prompt.
        if not taxonomy.is_style(kind) and d.source != "manual" and (is_injection(value) or refuse_value(kind, value)):
            raise ValueError("value reads as an instruction to the assistant, not a preference")
        key = taxonomy.item_key(kind, value)
        slot = taxonomy.slot(kind, key)
        existing = self.active.get(slot)
        now = utcnow()
        if existing is not None and existing.kind == kind and existing.value.lower() == value.lower():
            self._reinforce(existing, d, evidence, custom_text, now)
            return
        if existing is None and d.source == "implicit" and kind in _FAMILY:
            # An inference that only restates what the user said ('hiking and the outdoors' beside an
            # explicit 'hiking') is more evidence for that row, not a second row.
            said = next(
                (
                    r
                    for r in self.active.values()
                    if _FAMILY.get(r.kind) == _FAMILY[kind]
                    and r.source in ("manual", "explicit", "feedback")
                    and _names_the_other(r.value, value)
                ),
                None,
            )
            if said is not None:
                self._reinforce(said, d, evidence, None, now)
                return
        if (
            existing is not None
            and d.source == "implicit"
            and existing.source in ("manual", "explicit", "feedback")
        ):
            log.debug(
                "memory: implicit %s=%s does not overturn %s %s", kind, value, existing.source, existing.value
            )
            return
        row = PrefState(
            id=uuid.uuid4().hex,
            user_pk=self.user_pk,
            kind=kind,
            key=key,
            slot=slot,
            value=value,
            text=render_line(kind, value, custom_text),
            custom_text=custom_text,
            weight=d.weight,
            confidence=d.confidence,
            source=d.source,
            extractor=d.extractor,
            status="active",
            evidence=list(dict.fromkeys(evidence)),
            superseded_by=None,
            created_at=now,
            updated_at=now,
        )
        if existing is not None:
            before = to_record(existing)
            existing.status, existing.superseded_by, existing.updated_at = "superseded", row.id, now
            self._save(existing)  # retire the old row first: one active row per slot
        self.conn.execute(_INSERT_PREF, row.params())
        self.active[slot] = row
        if existing is not None:
            self._event("supersede", row, previous_value=existing.value, evidence=evidence, now=now)
            self.changes.append(Change("supersede", to_record(row), before))
        else:
            self._event("add", row, evidence=evidence, now=now)
            self.changes.append(Change("add", to_record(row)))

    def _reinforce(
        self, row: PrefState, d: Assert, evidence: list[str], custom_text: str | None, now: datetime
    ) -> None:
        before = to_record(row)
        if d.source == "manual":
            # Explicit control sets the fields; it is an update when anything differs.
            wanted = (d.weight, d.confidence, custom_text, "manual")
            if (row.weight, row.confidence, row.custom_text, row.source) == wanted:
                return
            row.weight, row.confidence, row.custom_text, row.source = wanted
            row.text, row.updated_at = render_line(row.kind, row.value, custom_text), now
            self._save(row)
            self._event("update", row, evidence=evidence, now=now)
            self.changes.append(Change("update", to_record(row), before))
            return
        new_evidence = [e for e in evidence if e not in row.evidence]
        if not new_evidence:
            return  # the same message read twice is not more evidence
        row.evidence = [*row.evidence, *new_evidence]
        row.confidence = _combine(row.confidence, d.confidence)
        row.weight = max(row.weight, d.weight)
        if taxonomy.source_rank(d.source) > taxonomy.source_rank(row.source):
            row.source = d.source
        row.updated_at = now
        self._save(row)
        self._event("evidence", row, evidence=new_evidence, now=now)
        self.changes.append(Change("evidence", to_record(row), before))

    def retract(self, d: Retract, evidence: list[str]) -> None:
        for row in list(self.active.values()):
            if d.preference_id is not None:
                match = row.id == d.preference_id
            else:
                key = d.key if d.key is not None else taxonomy.item_key(d.kind, d.value or "")
                same_slot = row.kind == d.kind and (row.key == key or (d.value is None and d.key is None))
                match = same_slot and (d.value is None or row.value.lower() == d.value.lower())
            if match:
                self.remove(row, evidence, source=d.source)

    def remove(self, row: PrefState, evidence: Sequence[str], *, source: str) -> None:
        now = utcnow()
        row.status, row.updated_at = "removed", now
        self._save(row)
        del self.active[row.slot]
        self._event("remove", row, evidence=evidence, now=now, source=source)
        self.changes.append(Change("remove", to_record(row)))

    def _save(self, row: PrefState) -> None:
        self.conn.execute(
            _UPDATE_PREF, {"pref_id": row.id, **{f"new_{name}": getattr(row, name) for name in _MUTABLE}}
        )

    def _event(
        self,
        action: str,
        row: PrefState,
        *,
        evidence: Sequence[str],
        now: datetime,
        previous_value: str | None = None,
        source: str | None = None,
    ) -> None:
        self.conn.execute(
            _INSERT_EVENT,
            {
                "user_pk": self.user_pk,
                "preference_id": row.id,
                "action": action,
                "kind": row.kind,
                "value": row.value,
                "previous_value": previous_value,
                "source": source or row.source,
                "extractor": row.extractor,
                "message_id": evidence[0] if evidence else None,
                "created_at": now,
            },
        )
