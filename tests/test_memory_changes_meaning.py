"""Changes resolved by meaning, not only by slot (issue 12), second part: how a change of taste is said without a
'switched from X to Y' ('cut sugar out', 'no more late nights', 'off the booze for good', 'gone gluten-free'), and
how the turn that says it retires the stored row it is about. All sentences here are written for these tests.
"""

from __future__ import annotations

import pytest
from resolve_by_angle import decide, stored_row

from memory import PreferenceMemory
from memory.embedding import available
from memory.extractors.base import Assert
from memory.extractors.sentences import (
    CHANGED_THING_SIMILARITY,
    SAME_THING_SIMILARITY,
    SentenceExtractor,
)
from memory.extractors.spans import change_spans, states_a_stop


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The thing inside the verb: what was stopped, abstained from or left.
        ("we have cut red meat out for good", [("avoids", "red meat")]),
        ("i have cut out fizzy drinks", [("avoids", "fizzy drinks")]),
        ("no more late-night gaming for me", [("avoids", "late-night gaming")]),
        ("i am off the cigarettes for good", [("avoids", "cigarettes")]),
        ("i am done with reality shows", [("dislikes", "reality shows")]),
        ("I have not touched sugar in years", [("avoids", "sugar")]),
        ("i am so over reality shows", [("dislikes", "reality shows")]),
        ("went gluten-free last spring", [("avoids", "gluten")]),
        ("I have deleted my Twitter account", [("avoids", "Twitter account")]),
        # 'gave up on X': the preposition belongs to the verb, and 'gave up on me' names nothing.
        ("gave up on sourdough baking", [("dislikes", "sourdough baking")]),
        ("my back gave up on me", []),
        # Someone else's stop is not the speaker's change of taste.
        ("the coach gave up on me years ago", []),
        ("my old laptop has not played games in years", []),
        # A new taste said as a change.
        ("my flatmate got me into bouldering", [("likes", "bouldering")]),
        ("switched the work laptop to ubuntu last month", [("likes", "ubuntu")]),
        ("I only want decaf now", [("likes", "decaf")]),
        ("i have grown out of horror films", [("dislikes", "horror films")]),
        ("I do not enjoy camping any more", [("dislikes", "camping")]),
        # Not a change of taste.
        ("we moved house to Bristol", []),
        ("I moved to Leeds last year", []),  # a move of house names no taste
        ("the stencil was cut out of card", []),
        ("I want no more than three options", []),
        ("I cut my fringe myself", []),
        # Going somewhere, a day off, finished work, joy, missing or neglecting something: no taste given up.
        ("I am off to the pool now", []),
        ("we are off work now", []),
        ("I am done with my tax return", []),
        ("I am over the moon about the new flat", []),
        ("we cut the recipe out of a magazine", []),
        ("I have not been to Lisbon in years", []),
        ("I have not played chess in months", []),
        ("I have not touched my guitar in years", []),
    ],
)
def test_a_change_said_around_its_thing(text: str, expected: list[tuple[str, str]]) -> None:
    assert change_spans(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no more squash, I row instead", [("avoids", "squash"), ("likes", "row")]),
        ("went meat-free in March, so it's lentil burgers for me now", [("avoids", "meat"), ("likes", "lentil burgers")]),
        ("I grew out of it, these days it's jigsaw puzzles", [("likes", "jigsaw puzzles")]),
    ],
)
def test_what_takes_the_place_of_a_thing_given_up(text: str, expected: list[tuple[str, str]]) -> None:
    assert change_spans(text) == expected


def test_a_bare_thing_with_now_is_read_only_beside_a_stop() -> None:
    assert change_spans("Decaf only now") == []
    assert change_spans("Decaf only now", after_a_stop=True) == [("likes", "Decaf")]
    assert states_a_stop("Gave up on caffeine") and not states_a_stop("The printer gave up on me")


# --- The turn that says a change retires the stored opposite (sentences.resolve_by_meaning, ``turned``) ----------

def test_a_change_retires_the_stored_opposite_it_is_only_near() -> None:
    stored = stored_row("likes", "three lattes a day")
    new = Assert("avoid", "caffeine", "explicit", 0.8, 1.0, 1, "sentences")
    near = (CHANGED_THING_SIMILARITY + SAME_THING_SIMILARITY) / 2
    assert decide(new, stored, near, turned={1}) == [("retract", stored.id), ("assert", "caffeine")]
    # The same reading in a turn that says no change is another row beside it; so is one too far from it.
    assert decide(new, stored, near, turned=set()) == [("assert", "caffeine")]
    assert decide(new, stored, CHANGED_THING_SIMILARITY - 0.1, turned={1}) == [("assert", "caffeine")]


def test_a_change_retires_only_the_opposite_polarity() -> None:
    stored = stored_row("likes", "three lattes a day")
    new = Assert("likes", "oat flat whites", "explicit", 0.8, 1.0, 1, "sentences")
    assert decide(new, stored, 0.6, turned={1}) == [("assert", "oat flat whites")]


def test_two_names_are_two_things_however_close_the_model_rates_them() -> None:
    stored = stored_row("likes", "Leeds United")
    new = Assert("likes", "Leicester City", "explicit", 0.8, 1.0, 1, "sentences")
    assert decide(new, stored, 0.75, turned=set()) == [("assert", "Leicester City")]
    # Near-identical names are still one thing.
    assert decide(new, stored, 0.9, turned=set()) == [("assert", "Leeds United")]


def test_the_other_end_of_a_scale() -> None:
    stored = stored_row("likes", "somewhere hot")
    cooler = Assert("likes", "somewhere cool", "explicit", 0.8, 1.0, 1, "sentences")
    # Never the same thing, however close; a turn that says a change swaps one end for the other.
    assert decide(cooler, stored, 0.9, turned=set()) == [("assert", "somewhere cool")]
    assert decide(cooler, stored, 0.9, turned={1}) == [("retract", stored.id), ("assert", "somewhere cool")]
    # The other end disliked is no contradiction of the liked one: both stay.
    colder = Assert("dislikes", "cold weather", "explicit", 0.8, 1.0, 1, "sentences")
    assert decide(colder, stored_row("likes", "hot weather"), 0.8, turned={1}) == [("assert", "cold weather")]


# --- End to end: real SentenceExtractor (MiniLM), real SQLite --------------------------------------------------

needs_model = pytest.mark.skipif(not available(), reason="the sentence-embedding model is not installed")


def active_after(*said: str) -> list[tuple[str, str]]:
    with PreferenceMemory("sqlite:///:memory:", extractor=[SentenceExtractor()]) as mem:
        for text in said:
            mem.observe("u", [{"role": "user", "content": text}])
        return [(p.kind, p.value.lower()) for p in mem.profile("u", max_chars=None).preferences]


def liked(prefs: list[tuple[str, str]], word: str) -> bool:
    return any(kind == "likes" and word in value for kind, value in prefs)


@needs_model
def test_a_stop_and_what_took_its_place() -> None:
    prefs = active_after("Tennis is my weekend thing.", "My elbow is shot, so no more tennis — I play golf instead.")
    assert not liked(prefs, "tennis") and liked(prefs, "golf"), prefs
    prefs = active_after("I grow tomatoes every summer.", "Gave up on tomatoes, blight every year. It's chillies now.")
    assert not liked(prefs, "tomato") and liked(prefs, "chillies"), prefs


@needs_model
def test_a_change_told_with_when_it_happened_is_read() -> None:
    # 'last week' closes the gate on one-off news, not on a change of taste.
    prefs = active_after("I use a Windows laptop.", "Switched my laptop to Ubuntu last week, not going back.")
    assert liked(prefs, "ubuntu"), prefs


@needs_model
def test_a_new_favourite_said_with_instead_replaces_the_old_one() -> None:
    prefs = active_after("I support Leeds United.", "These days I follow Leicester City instead.")
    assert not liked(prefs, "leeds") and liked(prefs, "leicester"), prefs


@needs_model
def test_a_restatement_with_still_is_no_change_of_mind() -> None:
    with PreferenceMemory("sqlite:///:memory:", extractor=[SentenceExtractor()]) as mem:
        mem.observe("u", [{"role": "user", "content": "I love opera."}])
        mem.observe("u", [{"role": "user", "content": "Opera is still my favourite, nothing beats it."}])
        prefs = mem.profile("u", max_chars=None).preferences
    assert [(p.kind, p.value.lower()) for p in prefs] == [("likes", "opera")]
    assert len(prefs[0].evidence) == 2


@needs_model
def test_a_new_variant_of_a_stored_thing_is_its_own_row_in_a_change() -> None:
    prefs = active_after("I love a flat white in the morning.", "Went dairy-free this spring, so it's oat flat whites now.")
    assert liked(prefs, "oat flat whites"), prefs


def _final_profile(turns: list[str]) -> set[tuple[str, str]]:
    memory = PreferenceMemory("sqlite://")
    try:
        for turn in turns:
            memory.observe("u", [{"role": "user", "content": turn}])
        memory.flush()  # a turn read in the background under load is in the profile too
        return {(p.kind, p.value.lower()) for p in memory.profile("u").preferences}
    finally:
        memory.close()


@pytest.mark.skipif(not available(), reason="the sentence-embedding model is not installed")
def test_a_narrower_exception_keeps_the_general_taste() -> None:
    # 'pesto pasta' disliked names 'pasta' and more: an exception to the liking, not a change of mind.
    final = _final_profile(["I love pasta.", "Actually, I hate pesto pasta."])
    assert ("likes", "pasta") in final and any(k == "dislikes" and "pesto" in v for k, v in final)


@pytest.mark.skipif(not available(), reason="the sentence-embedding model is not installed")
def test_still_with_an_outright_verb_is_no_misreading() -> None:
    # 'still' keeps a stored taste against a misread opposite, never against a hatred said outright.
    final = _final_profile(["I love Paris.", "I still hate the Paris metro at peak times."])
    assert ("likes", "paris") in final and any(k == "dislikes" and "metro" in v for k, v in final)


@pytest.mark.skipif(not available(), reason="the sentence-embedding model is not installed")
def test_missing_a_place_keeps_liking_it() -> None:
    final = _final_profile(["I love Lisbon.", "We have not been to Lisbon in years, I really miss it."])
    assert ("likes", "lisbon") in final and not any(k in ("avoid", "dislikes") and "lisbon" in v for k, v in final)


@pytest.mark.skipif(not available(), reason="the sentence-embedding model is not installed")
def test_a_dislike_sharing_only_a_word_stem_keeps_the_liking() -> None:
    # 'baked beans' and 'baking' share a stem, not a thing: the liking stays beside the dislike.
    final = _final_profile(["I love baking.", "I hate baked beans."])
    assert ("likes", "baking") in final and ("dislikes", "baked beans") in final
