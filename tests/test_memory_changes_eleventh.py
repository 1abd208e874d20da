"""Changes of mind read by meaning (issue 12), eleventh session: a dislike said through doing the thing ('stopped
drinking X') or with a time word ('lately X') is a change of mind about the X stored, not a narrower exception; a
verb given up with its object left out names nothing; what a thing does to the speaker, told in a turn that says a
change, is a reason to avoid it; and a name asked for as a wish replaces the stored one. All sentences here are
written for these tests.
"""

from __future__ import annotations

import numpy as np
import pytest
from resolve_by_angle import decide, stored_row

from memory import PreferenceMemory
from memory.embedding import available
from memory.extractors.base import Assert
from memory.extractors.content_rules import _name
from memory.extractors.implicit import _wants
from memory.extractors.sentences import (
    SentenceExtractor,
    _habit_polarity,
    _harm_spans,
    _loved_no_more,
)
from memory.extractors.spans import change_spans, clean_phrase

# --- Doing the thing, or when, names the same thing (sentences._variant_of, _DOING_WORDS) --------------------------

@pytest.mark.parametrize(
    ("stored", "new"),
    [
        (("likes", "espresso"), ("dislikes", "drinking espresso")),
        (("likes", "audiobooks"), ("dislikes", "lately audiobooks")),
        (("likes", "sunny"), ("dislikes", "sunny places")),
        (("likes", "vinyl records"), ("dislikes", "buying vinyl records")),
    ],
)
def test_a_dislike_of_doing_the_thing_retires_the_liking(stored: tuple[str, str], new: tuple[str, str]) -> None:
    row = stored_row(*stored)
    reading = Assert(new[0], new[1], "explicit", 0.8, 1.0, 1, "sentences")
    assert decide(reading, row, 0.8, turned={1}) == [("retract", row.id), ("assert", new[1])]
    # Said without a change, it contradicts the stored liking all the same: the newer word wins.
    assert decide(reading, row, 0.8, turned=set()) == [("retract", row.id), ("assert", new[1])]


def test_a_narrower_thing_disliked_stays_an_exception() -> None:
    # 'anchovies on pizza' names more than 'pizza': an exception beside the liking, as before.
    row = stored_row("likes", "pizza")
    reading = Assert("dislikes", "anchovies on pizza", "explicit", 0.8, 1.0, 1, "sentences")
    assert decide(reading, row, 0.8, turned={1}) == [("assert", "anchovies on pizza")]


# --- Values: time words and verbs whose object was left out (spans.py) -----------------------------------------------

def test_a_time_word_opening_a_clause_is_no_part_of_the_thing() -> None:
    assert clean_phrase("Lately audiobooks") == "audiobooks"
    assert clean_phrase("these days audiobooks") == "audiobooks"
    assert clean_phrase("recently bouldering") == "bouldering"
    assert clean_phrase("These days it is hostels or nothing") == "hostels or nothing"


def test_a_verb_given_up_without_its_object_names_nothing() -> None:
    assert change_spans("I have stopped watching") == []
    assert change_spans("I have given up buying") == []
    # With its object, or a verb that is a pastime by itself, it still does.
    assert change_spans("I have stopped watching reality shows") == [("dislikes", "watching reality shows")]
    assert change_spans("I have stopped drinking") == [("dislikes", "drinking")]


def test_a_habit_denied_with_any_more_is_given_up() -> None:
    assert change_spans("I am not eating figs any more") == [("avoids", "figs")]
    assert change_spans("we are not buying fast fashion any more") == [("avoids", "fast fashion")]


# --- What a thing does to the speaker (sentences._harm_spans) -------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Cheese gives me migraines these days", [("avoids", "Cheese")]),
        ("black tea was making me shaky", [("avoids", "black tea")]),
        ("Red meat makes me feel sick now", [("avoids", "Red meat")]),
        ("Dairy really upsets my stomach", [("avoids", "Dairy")]),
        # The piece of a clause that says it, beside the change: 'switched to X, Y was making me ill'.
        ("I have switched to rooibos, black tea was making me shaky", [("avoids", "black tea")]),
        # A pronoun names its thing in the clause before; a person is no thing to avoid; a good effect is no harm.
        ("it gives me a headache", []),
        ("My flatmate makes me anxious", []),
        ("Yoga makes me feel calm", []),
    ],
)
def test_what_a_thing_does_to_the_speaker(text: str, expected: list[tuple[str, str]]) -> None:
    assert _harm_spans(text) == expected


# --- A habit taken up again, and a love said in the past (sentences._habit_polarity, _loved_no_more) ------------------

def test_a_habit_taken_up_now_is_no_avoidance() -> None:
    # The classifier reads 'I eat X now' as an avoidance; said plainly, with no word against it, it is a liking.
    assert _habit_polarity("I eat lentils now", [("avoids", "eat lentils")]) == [("likes", "lentils")]
    assert _habit_polarity("we drink cider again", [("dislikes", "drink cider")]) == [("likes", "cider")]
    assert _habit_polarity("I do not eat lentils now", [("avoids", "eat lentils")]) == [("avoids", "eat lentils")]


def test_a_diet_given_up_is_no_sign_against_what_is_eaten_now() -> None:
    # The implicit reader took the negation of 'not vegetarian any more' as one against the chicken eaten now.
    no_probe = np.zeros(0)
    assert _wants("I am not vegetarian any more, I eat chicken now", 1.0, no_probe)
    assert _wants("I stopped being vegan last year", 1.0, no_probe)
    assert not _wants("I do not eat chicken any more", 1.0, no_probe)


@pytest.mark.parametrize(
    ("text", "thing"),
    [
        ("I used to love golf but I find it dull now.", "golf"),
        ("I used to be into board games, but they bore me these days.", "board games"),
        ("I used to enjoy camping but I have gone off it.", "camping"),
        # Someone else's verdict, or a love that grew.
        ("I used to love karaoke but my husband can not stand it.", None),
        ("I used to like olives but now I adore them.", None),
    ],
)
def test_a_love_said_in_the_past_and_turned_against(text: str, thing: str | None) -> None:
    assert _loved_no_more(text) == thing


# --- A name asked for as a wish (content_rules._NAMED) ---------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Actually, I would prefer it if you called me Thomas", "Thomas"),
        ("I would rather you called me Rebecca from now on", "Rebecca"),
        ("I prefer to be called Sam", "Sam"),
        ("My manager called me Rob by mistake", None),
        # the telephone sense, with a time (reviewer9: these stored the names 'ASAP' and 'Monday')
        ("I'd rather you called me ASAP if the plans move.", None),
        ("I'd like it if you called me Thursday afternoon.", None),
        ("Please call me first thing tomorrow.", None),
    ],
)
def test_a_name_asked_for_as_a_wish(text: str, name: str | None) -> None:
    names = [s.value for s in _name(text, {})]
    assert names == ([name] if name else [])


# --- End to end: real SentenceExtractor (MiniLM), real SQLite --------------------------------------------------

needs_model = pytest.mark.skipif(not available(), reason="the sentence-embedding model is not installed")


def active_after(*said: str) -> list[tuple[str, str]]:
    with PreferenceMemory("sqlite:///:memory:", extractor=[SentenceExtractor()]) as mem:
        for text in said:
            mem.observe("u", [{"role": "user", "content": text}]).wait(timeout=None)
        return [(p.kind, p.value.lower()) for p in mem.profile("u", max_chars=None).preferences]


@needs_model
def test_stopped_doing_a_liked_thing_leaves_onestored_row() -> None:
    prefs = active_after("I love espresso.", "I've stopped drinking espresso, it keeps me up at night.")
    assert ("likes", "espresso") not in prefs and any("espresso" in v for _, v in prefs), prefs


@needs_model
def test_a_harm_told_as_a_change_retires_the_liking() -> None:
    prefs = active_after("I love cheese.", "Cheese gives me migraines these days.")
    assert ("likes", "cheese") not in prefs and ("avoid", "cheese") in prefs, prefs


@needs_model
def test_a_diet_given_up_is_no_avoidance_of_what_is_eaten_now() -> None:
    prefs = active_after("I'm vegetarian.", "I'm not vegetarian any more, I eat lamb now.")
    assert ("diet", "vegetarian") not in prefs and not any(k == "avoid" for k, _ in prefs), prefs


@needs_model
def test_a_diet_given_up_is_no_avoidance_with_the_default_readers() -> None:
    """The same with every default reader (the implicit one included) and a flush: the implicit reader's
    concept path read the clause 'I eat pork now' without the diet given up and stored avoid 'pork'."""
    with PreferenceMemory("sqlite:///:memory:") as mem:
        mem.observe("u", [{"role": "user", "content": "I'm not veggie any more, I eat pork now."}])
        mem.flush()
        prefs = [(p.kind, p.value.lower()) for p in mem.profile("u", max_chars=None).preferences]
    assert not any(k == "avoid" for k, _ in prefs), prefs


@needs_model
def test_a_new_name_replaces_the_old_one() -> None:
    prefs = active_after("Call me Bex.", "I'd rather you called me Rebecca from now on.")
    assert [v for k, v in prefs if k == "name"] == ["rebecca"], prefs
