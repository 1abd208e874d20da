"""The memory's own exceptions. Bad input raises ValueError / TypeError; these cover the rest."""

from __future__ import annotations

from pad_integrations.errors import PADError


class PreferenceMemoryError(PADError):
    """Base class for failures of the preference memory."""


class MemoryStoreError(PreferenceMemoryError):
    """The database failed (after retries) in a way the caller did not cause; the cause is chained."""


class UnknownMessageError(PreferenceMemoryError, KeyError):
    """A message id that does not exist for this user (ids of other users are never revealed)."""


class UnknownPreferenceError(PreferenceMemoryError, KeyError):
    """A preference kind or id that this user has no active preference for."""
