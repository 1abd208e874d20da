"""SQL-backed per-user preference memory: infer, store, evolve and serve each user's preferences.

from memory import PreferenceMemory
mem = PreferenceMemory()                       # SQLite in the user data dir (or PAD_MEMORY_URL)
mem.observe("alice", [{"role": "user", "content": "I'm vegetarian; keep answers short."}])
mem.profile("alice").text                      # the compiled preference prompt
"""

from memory.errors import (
    InvalidUserIdError,
    MemoryStoreError,
    PreferenceLimitError,
    PreferenceMemoryError,
    UnknownMessageError,
)
from memory.limits import MemoryLimits
from memory.messages import normalize_user_id
from memory.profile import Profile
from memory.records import Change, History, ObserveResult, Preference, PreferenceEvent, StoredMessage
from memory.store import PreferenceMemory

__all__ = [
    "Change",
    "History",
    "InvalidUserIdError",
    "MemoryLimits",
    "MemoryStoreError",
    "ObserveResult",
    "Preference",
    "PreferenceEvent",
    "PreferenceLimitError",
    "PreferenceMemory",
    "PreferenceMemoryError",
    "Profile",
    "StoredMessage",
    "UnknownMessageError",
    "normalize_user_id",
]
