"""SQL-backed per-user preference memory: infer, store, evolve and serve each user's preferences.

from memory import PreferenceMemory
mem = PreferenceMemory()                       # SQLite in the user data dir (or PAD_MEMORY_URL)
mem.observe("alice", [{"role": "user", "content": "I'm vegetarian; keep answers short."}])
mem.profile("alice").text                      # the compiled preference prompt
"""

from memory.errors import MemoryStoreError, PreferenceMemoryError, UnknownMessageError, UnknownPreferenceError
from memory.profile import Profile
from memory.records import Change, History, ObserveResult, Preference, PreferenceEvent, StoredMessage
from memory.store import PreferenceMemory

__all__ = [
    "Change",
    "History",
    "MemoryStoreError",
    "ObserveResult",
    "Preference",
    "PreferenceEvent",
    "PreferenceMemory",
    "PreferenceMemoryError",
    "Profile",
    "StoredMessage",
    "UnknownMessageError",
    "UnknownPreferenceError",
]
