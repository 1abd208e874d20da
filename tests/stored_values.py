"""What one user turn stores, end to end, in a real memory (the ``mem`` fixture of ``tests/conftest.py``)."""

from __future__ import annotations

from memory import PreferenceMemory


def stored(mem: PreferenceMemory, uid: str, text: str) -> list[str]:
    """The values stored for ``uid`` after it says ``text`` (as stored: callers fold case where they compare)."""
    mem.observe(uid, [{"role": "user", "content": text}])
    mem.flush()
    return [p.value for p in mem.profile(uid, max_chars=None).preferences]
