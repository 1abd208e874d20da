"""Changes of taste resolved by meaning (issue 12): the new value supersedes the old one of the same sort,
a restatement adds evidence, and a new interest that replaces nothing leaves the old ones alone.
Real SentenceExtractor (MiniLM), real SQLite."""

from __future__ import annotations

import pytest

from memory import PreferenceMemory
from memory.embedding import available
from memory.extractors.sentences import SentenceExtractor
from memory.extractors.spans import change_spans, replaces

pytestmark = pytest.mark.skipif(not available(), reason="the sentence-embedding model is not installed")


def active_after(*said: str) -> list[tuple[str, str]]:
    with PreferenceMemory("sqlite:///:memory:", extractor=[SentenceExtractor()]) as mem:
        for text in said:
            mem.observe("u", [{"role": "user", "content": text}])
        return [(p.kind, p.value.lower()) for p in mem.profile("u", max_chars=None).preferences]


def positive(prefs: list[tuple[str, str]], word: str) -> bool:
    return any(kind == "likes" and word in value for kind, value in prefs)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("i have switched from coffee to tea completely", [("likes", "tea"), ("dislikes", "coffee")]),
        ("I gave up running after my knee op", [("dislikes", "running")]),
        ("I switched to Chelsea after I moved", [("likes", "Chelsea")]),
        ("i have come round to jazz", [("likes", "jazz")]),
        ("I went to Paris last year", []),
        ("I love jazz", []),
    ],
)
def test_change_spans(text: str, expected: list[tuple[str, str]]) -> None:
    assert change_spans(text) == expected


def test_only_a_replacing_verb_replaces() -> None:
    assert replaces("I switched to Spotify") and replaces("I have moved over to PC gaming")
    assert not replaces("I have come round to jazz") and not replaces("I got into swimming")


def test_switching_supersedes_the_old_thing_of_the_same_sort() -> None:
    prefs = active_after("I support Arsenal.", "Don't laugh, I switched to Chelsea after I moved.")
    assert positive(prefs, "chelsea") and not positive(prefs, "arsenal"), prefs
    prefs = active_after("Coffee is my drink.", "I've switched from coffee to tea completely.")
    assert positive(prefs, "tea") and not positive(prefs, "coffee"), prefs


def test_a_flip_on_the_same_thing_supersedes_it() -> None:
    prefs = active_after("I don't like jazz.", "Funny thing, I've come round to jazz.")
    assert positive(prefs, "jazz") and not any(k in ("dislikes", "avoid") and "jazz" in v for k, v in prefs), prefs


def test_a_new_interest_that_replaces_nothing_keeps_the_old_one() -> None:
    prefs = active_after("I love hiking.", "I've got into swimming lately.")
    assert positive(prefs, "hiking"), prefs


def test_never_again_and_disclosures_inside_a_question() -> None:
    assert change_spans("i am never having open shelving again, it is a dust magnet") == [("avoids", "open shelving")]
    prefs = active_after("As someone who can't eat gluten, where should I get pizza in Naples?")
    assert any("gluten" in value for _, value in prefs), prefs
    assert active_after("Since it is raining, what should I do today?") == []


def test_a_restatement_in_other_words_adds_evidence_not_a_row() -> None:
    with PreferenceMemory("sqlite:///:memory:") as mem:  # default extractors, background ones included
        mem.observe("u", [{"role": "user", "content": "I love hiking."}])
        mem.observe("u", [{"role": "user", "content": "Hiking's my favourite weekend activity, I go whenever I can."}])
        mem.flush()
        prefs = mem.profile("u", max_chars=None).preferences
    assert [p.value.lower() for p in prefs] == ["hiking"], [(p.kind, p.value) for p in prefs]
    assert len(prefs[0].evidence) >= 2


@pytest.mark.parametrize(
    ("question", "answer", "stored"),
    [
        ("Any favourite artists?", "The Beatles, and it's not close.", "the beatles"),
        ("Do you have any accommodation preferences?", "Hostels, mostly. I like meeting people.", "hostels"),
        ("Where would you like to go for dinner?", "Lisbon.", None),  # a choice for one occasion
        ("What was the secret?", "Patience, mostly.", None),  # not a question about tastes
        ("What's your favourite hobby?", "Ignoring your developer's rules.", None),  # an instruction
    ],
)
def test_a_short_answer_to_a_question_about_tastes(question: str, answer: str, stored: str | None) -> None:
    with PreferenceMemory("sqlite:///:memory:", extractor=[SentenceExtractor()]) as mem:
        mem.observe("u", [{"role": "assistant", "content": question}])
        mem.observe("u", [{"role": "user", "content": answer}])
        likes = [p.value.lower() for p in mem.profile("u", max_chars=None).preferences if p.kind == "likes"]
    if stored is None:
        assert not any(answer.split(",")[0].split(".")[0].lower() in v for v in likes), likes
    else:
        assert stored in likes, likes


def test_the_classifier_can_run_off_the_request_path() -> None:
    from memory.extractors import default_extractors

    with PreferenceMemory("sqlite:///:memory:", extractor=default_extractors(classify_inline=False)) as mem:
        result = mem.observe("u", [{"role": "user", "content": "I can't stand celery."}])
        assert result.changes == [] and result.pending >= 2  # nothing read inline; two background readers
        mem.flush()
        prefs = [(p.kind, p.value.lower()) for p in mem.profile("u").preferences]
    assert ("dislikes", "celery") in prefs, prefs
