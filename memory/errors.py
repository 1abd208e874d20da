"""The memory's own exceptions. Bad input raises ValueError / TypeError; these cover the rest.

The memory is a library of its own: it imports nothing from ``pad_integrations``.
"""

from __future__ import annotations


class PreferenceMemoryError(Exception):
    """Base class for failures of the preference memory."""


class MemoryStoreError(PreferenceMemoryError):
    """The database failed (after retries) in a way the caller did not cause; the cause is chained."""


class UnknownMessageError(PreferenceMemoryError, KeyError):
    """A message id that does not exist for this user (ids of other users are never revealed)."""


class InvalidUserIdError(PreferenceMemoryError, ValueError):
    """A user id (or namespace, or message id) that is empty, too long, or could pass for another one:
    control, zero-width or bidi characters, leading or trailing spaces. A server answers it with 400."""


class PreferenceLimitError(PreferenceMemoryError, ValueError):
    """An explicit set would exceed the user's cap on active preferences and nothing lower may make room."""
