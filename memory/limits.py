"""How much the memory keeps per user: active preferences, preferences applied per turn, messages.

Every bound is configurable through ``PreferenceMemory(limits=MemoryLimits(...))``; the defaults keep a
user's row counts, and so the cost of ``observe`` and ``profile``, independent of how long they have chatted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

# Retention trims at most this many messages per write, so the first write after lowering a limit (or
# after an upgrade that found 100k old messages) never holds the write lock for long; later writes go on.
# (500 per write cost 175 ms per observe while a 100k-message user caught up on a busy machine.)
TRIM_BATCH = 64
HISTORY_PAGE = 100  # messages per history() page by default
MAX_PAGE = 1_000
HISTORY_ROWS = 1_000  # latest events, feedback and inactive preference rows shown by history()


@dataclass(frozen=True)
class MemoryLimits:
    """Per-user bounds. ``None`` turns a message bound off.

    - ``max_preferences``: active content preferences (likes, allergies, custom kinds, ...). Style
      dimensions (verbosity, formality, ...) hold one value each and are not counted, so a flood of
      likes can never displace them. Over the cap the lowest-ranked rows are evicted (status
      ``removed``, event source ``evicted``): lowest priority (safety kinds rank highest, then manual >
      explicit > feedback > implicit, then weight x confidence), then least evidence, then oldest.
    - ``max_per_kind``: active preferences of one content kind, so likes cannot crowd out allergies.
    - ``max_decisions_per_turn``: preferences one turn may assert (safety and style first).
    - ``max_messages`` / ``max_message_age``: retention of stored messages (oldest first; a message
      still owed an extraction is never trimmed).
    """

    max_preferences: int = 100
    max_per_kind: int = 40
    max_decisions_per_turn: int = 20
    max_messages: int | None = 10_000
    max_message_age: timedelta | None = None

    def __post_init__(self) -> None:
        for name in ("max_preferences", "max_per_kind", "max_decisions_per_turn", "max_messages"):
            value = getattr(self, name)
            if value is None and name == "max_messages":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int")
        if self.max_message_age is not None and (
            not isinstance(self.max_message_age, timedelta) or self.max_message_age <= timedelta(0)
        ):
            raise ValueError("max_message_age must be a positive timedelta or None")

    @property
    def trim_slack(self) -> int:
        """Messages allowed over ``max_messages`` before a trim, so trimming runs every few dozen writes."""
        return 0 if self.max_messages is None else max(16, self.max_messages // 50)
