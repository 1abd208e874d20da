"""Changes of taste resolved by meaning (issue 12): the new value supersedes the old one of the same sort,
a restatement adds evidence, and a new interest that replaces nothing leaves the old ones alone.
Real SentenceExtractor (MiniLM), real SQLite."""

from __future__ import annotations

import pytest

from memory import PreferenceMemory
from memory.embedding import available
from memory.extractors.base import Assert, Retract
from memory.extractors.classifier import shared_classifier
from memory.extractors.implicit import ImplicitExtractor
from memory.extractors.sentences import (
    SAME_SORT_SIMILARITY,
    SAME_THING_SIMILARITY,
    SentenceExtractor,
    resolve_by_meaning,
)
from memory.extractors.spans import change_spans, replaces
from memory.records import Preference

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
        ("i have switched from cola to sparkling water", [("likes", "sparkling water"), ("dislikes", "cola")]),
        ("I gave up rowing after my shoulder surgery", [("dislikes", "rowing")]),
        ("I switched to Everton when I changed jobs", [("likes", "Everton")]),
        ("i have come round to opera", [("likes", "opera")]),
        ("I went to Paris last year", []),
        ("I love jazz", []),
    ],
)
def test_change_spans(text: str, expected: list[tuple[str, str]]) -> None:
    assert change_spans(text) == expected


def test_only_a_replacing_verb_replaces() -> None:
    assert replaces("I switched to Tidal") and replaces("I have moved over to Xbox gaming")
    assert not replaces("I have come round to opera") and not replaces("I got into climbing")


def test_switching_supersedes_the_old_thing_of_the_same_sort() -> None:
    prefs = active_after("I support Everton.", "Go on, laugh: I switched to Liverpool when I changed jobs.")
    assert positive(prefs, "liverpool") and not positive(prefs, "everton"), prefs
    prefs = active_after("Cola is my drink.", "I've switched from cola to sparkling water for good.")
    assert positive(prefs, "sparkling water") and not positive(prefs, "cola"), prefs


def test_a_flip_on_the_same_thing_supersedes_it() -> None:
    prefs = active_after("I don't like opera.", "Strange but true, I've come round to opera.")
    assert positive(prefs, "opera") and not any(k in ("dislikes", "avoid") and "opera" in v for k, v in prefs), prefs


def test_a_new_interest_that_replaces_nothing_keeps_the_old_one() -> None:
    prefs = active_after("I love hiking.", "I've got into swimming lately.")
    assert positive(prefs, "hiking"), prefs


def test_never_again_and_disclosures_inside_a_question() -> None:
    assert change_spans("i am never having open shelving again, it is a dust magnet") == [("avoids", "open shelving")]
    prefs = active_after("Since I can't eat gluten, which bakery in Lyon should I try?")
    assert any("gluten" in value for _, value in prefs), prefs
    assert active_after("Since it is raining, what should I do today?") == []


def test_a_restatement_in_other_words_adds_evidence_not_a_row() -> None:
    with PreferenceMemory("sqlite:///:memory:") as mem:  # default extractors, background ones included
        mem.observe("u", [{"role": "user", "content": "I love hiking."}])
        mem.observe("u", [{"role": "user", "content": "Nothing beats a long hike at the weekend for me."}])
        mem.flush()
        prefs = mem.profile("u", max_chars=None).preferences
    assert [p.value.lower() for p in prefs] == ["hiking"], [(p.kind, p.value) for p in prefs]
    assert len(prefs[0].evidence) >= 2


@pytest.mark.parametrize(
    ("question", "answer", "stored"),
    [
        ("Any favourite artists?", "The Beatles, and it's not close.", "the beatles"),
        ("Do you have any accommodation preferences?", "Campsites, mostly. I like sleeping outdoors.", "campsites"),
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


# --- Inferences resolved against what is stored (memory.extractors.sentences.resolve_by_meaning) -----------------


def _stored(kind: str, value: str, source: str) -> Preference:
    """A stored row: ``source`` 'implicit' is the inferrer's own, anything else was read from the user's words."""
    extractor = "implicit" if source == "implicit" else "sentences"
    return Preference(id=f"{kind}-{value}", kind=kind, value=value, text=value, weight=1.0, confidence=0.9,
                      source=source, evidence=("m0",), extractor=extractor)


def _inferred(kind: str, value: str) -> Assert:
    return Assert(kind, value, "implicit", 0.6, 1.0, 0, "implicit")


def _resolved(found: list[Assert], *active: Preference) -> list[tuple[str, str, str]]:
    decisions = resolve_by_meaning(
        list(found), list(active), shared_classifier().encoder,
        same_thing=SAME_THING_SIMILARITY, same_sort=SAME_SORT_SIMILARITY, concepts=True,
    )
    return [
        ("retract", d.kind, d.preference_id or "") if isinstance(d, Retract) else ("assert", d.kind, d.value)
        for d in decisions
    ]


def test_an_inference_named_by_its_concept_restates_the_users_words() -> None:
    # 'cycling' (a concept's name) and 'cycle to work' share a stem and are close enough in meaning (the model
    # alone rates them 0.54, under the 0.7 of two wordings of one thing): the stored row gets the evidence.
    said = _stored("likes", "cycle to work", "explicit")
    assert _resolved([_inferred("likes", "cycling")], said) == [("assert", "likes", "cycle to work")]
    assert _resolved([_inferred("likes", "quiet, calm places")], _stored("likes", "quiet bistros", "explicit")) == [
        ("assert", "likes", "quiet bistros")
    ]


def test_an_inference_of_another_thing_of_the_same_sort_stays_its_own_row() -> None:
    # The model rates two football clubs close; no shared word, so neither is the other.
    assert _resolved([_inferred("likes", "Brentford")], _stored("likes", "Chelsea", "explicit")) == [
        ("assert", "likes", "Brentford")
    ]


def test_an_inference_supersedes_an_inference_but_never_what_was_said_outright() -> None:
    guessed = _stored("likes", "spicy food", "implicit")
    assert _resolved([_inferred("avoid", "spicy food, hot sauce")], guessed) == [
        ("retract", "likes", guessed.id),
        ("assert", "avoid", "spicy food, hot sauce"),
    ]
    for source in ("explicit", "manual"):
        said = _stored("likes", "spicy curries", source)
        assert _resolved([_inferred("avoid", "spicy food, hot sauce")], said) == [
            ("assert", "avoid", "spicy food, hot sauce")
        ]
    # The sentence reader's reading of an aside is 'implicit' too, but the user's words: not the inferrer's to retract.
    aside = Preference(id="a", kind="likes", value="spicy curries", text="spicy curries", weight=1.0, confidence=0.6,
                       source="implicit", evidence=("m0",), extractor="sentences")
    assert _resolved([_inferred("avoid", "spicy food, hot sauce")], aside) == [("assert", "avoid", "spicy food, hot sauce")]


def test_an_inferred_restatement_of_a_manual_preference_adds_evidence_not_a_row() -> None:
    with PreferenceMemory("sqlite:///:memory:", extractor=[ImplicitExtractor()]) as mem:
        mem.set_preference("u", "likes", "cycle everywhere")
        mem.observe("u", [{"role": "user", "content": "Sold my car three years ago, the e-bike does every errand."}])
        mem.flush()
        likes = [p for p in mem.profile("u", max_chars=None).preferences if p.kind == "likes"]
    assert [p.value for p in likes] == ["cycle everywhere"]
    assert len(likes[0].evidence) == 1  # a manual row cites no message; the inference cites this one


@pytest.mark.parametrize(
    ("inferred", "stored"),
    [
        (("avoid", "cold weather"), ("avoid", "hot weather")),  # two things sharing their head word
        (("avoid", "fried, fatty and creamy food"), ("avoid", "spicy food")),
        (("avoid", "loud, noisy places"), ("likes", "quiet, calm places")),  # complementary, not opposite
        (("likes", "quiet, calm places"), ("avoid", "loud, noisy places")),
    ],
)
def test_inferences_sharing_only_a_head_word_stay_apart(inferred: tuple[str, str], stored: tuple[str, str]) -> None:
    assert _resolved([_inferred(*inferred)], _stored(*stored, "implicit")) == [("assert", *inferred)]


@pytest.mark.parametrize("value", ["a", "The", "my", "and", "they", "It", "those"])
def test_a_value_of_one_function_word_is_refused(value: str) -> None:
    from memory.resolve import clean_value

    with pytest.raises(ValueError, match="names nothing"):
        clean_value("dislikes", value)
    assert clean_value("likes", "Al") == "Al"  # a short name is a name
