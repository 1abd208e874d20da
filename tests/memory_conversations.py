"""Shared by the tests that feed the default extractors hand-written conversations and read back what they
kept (tests/test_memory_filler_classes.py, tests/test_memory_implicit_*.py)."""

from __future__ import annotations

import itertools

from memory.store import PreferenceMemory

_users = itertools.count()


def stored_preferences(mem: PreferenceMemory, *turns: str, extractor: str | None = None) -> list[tuple[str, str]]:
    """What the default extractors keep from a conversation of turns, each a fresh user ('A: ...' is an
    assistant turn, anything else a user turn): (kind, lower-cased value) of every active preference, or of those
    one ``extractor`` kept ('implicit')."""
    uid = f"user-{next(_users)}"
    for turn in turns:
        role, content = ("assistant", turn[2:].strip()) if turn.startswith("A:") else ("user", turn)
        mem.observe(uid, [{"role": role, "content": content}])
    assert mem.flush(timeout=60)
    kept = mem.profile(uid, max_chars=None).preferences
    return [(p.kind, p.value.lower()) for p in kept if extractor is None or p.extractor == extractor]
