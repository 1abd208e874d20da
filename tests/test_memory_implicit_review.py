"""Review findings on the implicit extractor's new classes (bodily triggers, devotion): each case read wrongly
before its fix. Pure functions of memory.extractors.implicit; no model needed."""

from __future__ import annotations

import pytest

from memory.extractors.implicit import asked_about, devoted_to, devotion_marked, named_trigger


@pytest.mark.parametrize(
    ("clause", "value", "expected"),
    [
        # Diabetes is no reaction to something eaten: the concept's value stays.
        ("I have taken insulin every day since 2010.", "sugar (diabetes)", "sugar (diabetes)"),
        ("I've had a reaction to them before.", "nuts (allergy)", "nuts (allergy)"),
        # The class the rule is for still works.
        ("Last time I ate coconut my throat swelled up", "nuts (allergy)", "coconut (allergy)"),
    ],
)
def test_named_trigger_names_only_something_eaten(clause: str, value: str, expected: str) -> None:
    assert named_trigger(clause, value) == expected


@pytest.mark.parametrize(
    ("clause", "marked"),
    [("Ha, that makes two of us!", False), ("That makes four dogs now.", True), ("This makes it three cats.", True)],
)
def test_that_makes_counts_things_not_people(clause: str, marked: bool) -> None:
    assert devotion_marked(clause, clause) is marked


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What's a good film to watch with Grandma?", None),
        ("Can you suggest a gift for Auntie Jean?", "gift"),
        ("Any ideas for a present for Sarah?", "present"),
        ("What channel is the Ashes on?", "Ashes"),
        ("Can you recommend a good bird seed?", "bird seed"),
    ],
)
def test_a_question_names_things_not_the_people_it_is_for(question: str, expected: str | None) -> None:
    assert asked_about(question) == expected


def test_small_talk_with_a_frequency_does_not_borrow_the_question() -> None:
    assert devoted_to("Same every year, honestly.", "", ("Can you suggest a gift for Auntie Jean?",)) is None
    assert devoted_to("I've taken a week off to watch every ball", "", ("What channel is the Ashes on?",)) == "Ashes"


@pytest.mark.parametrize(
    ("clause", "value", "expected"),
    [
        ("I had a really bad reaction after eating prawns, my lips swelled up.", "shellfish (allergy)", "prawns (allergy)"),
        ("Whenever I eat too quickly my stomach cramps up.", "dairy (lactose intolerance)", "dairy (lactose intolerance)"),
    ],
)
def test_how_a_reaction_went_is_no_trigger(clause: str, value: str, expected: str) -> None:
    assert named_trigger(clause, value) == expected


@pytest.mark.parametrize(
    "clause",
    [
        "I hate driving into London every morning.",
        "I hated every single episode of Friends.",
        "Just spent 3 hours on hold with the bank.",
        "I spent 6 hours in traffic on the motorway.",
        "I have a catch-up call with Sarah every Monday.",
        "I argue with Dave every single day.",
        "I visit my mum in Leeds every weekend.",
        "My wife and I go to the market every Saturday and I love it.",
    ],
)
def test_a_frequency_in_a_complaint_or_with_a_place_or_person_names_no_pastime(clause: str) -> None:
    assert devoted_to(clause, clause, ()) is None


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("I'm up a Munro most weekends", "Munro"),
        ("That makes four dogs now", "dogs"),
        ("Just passed 2,000 hours in Factorio", "Factorio"),
        ("I've finished every Halo", "Halo"),
    ],
)
def test_a_pastime_said_by_its_frequency_is_still_named(clause: str, expected: str) -> None:
    assert devoted_to(clause, clause, ()) == expected


def test_a_place_in_the_question_is_not_the_pastime() -> None:
    assert devoted_to("I walk the dog every morning.", "", ("What's the weather like in Leeds tomorrow?",)) is None
