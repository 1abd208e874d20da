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
