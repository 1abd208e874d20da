"""Deterministic style judges, one per dimension of ``memory.phrases.STYLE_PHRASES``.

Each judge reads a response and says which value of its dimension the response shows, or ``None`` when
it shows neither. The markers cover the demo model's synthetic English and common English, so the
judges also give a rough reading on real models. A response adheres to a preference ``(kind, value)``
when the judge of ``kind`` returns ``value``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_WORD = re.compile(r"[A-Za-z0-9']+")
_LIST_LINE = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+\S", re.MULTILINE)

CONCISE_MAX_WORDS = 20
DETAILED_MIN_WORDS = 45

FORMAL_MARKERS = ("certainly", "good day", "thank you for your question", "i would be pleased", "kind regards",
                  "i hope this information", "please let me know if you require", "how may i assist",
                  "thank you for asking", "dear ", "sincerely")
CASUAL_MARKERS = ("hey", "sure thing", "cool", "alright", "cheers", "hope that helps", "what's up", "it's",
                  "i'm", "that's", "here's", "don't", "you're", "gonna", "awesome", "yeah")
BEGINNER_MARKERS = ("in simple words", "think of", "imagine", "you can picture", "like a", "simply put",
                    "in other words", "for example")
EXPERT_MARKERS = ("parameterized", "invariant", "throughput", "latency", "asymptotic", "stochastic",
                  "empirically", "canonical", "heuristic", "rigorous", "orthogonal", "decomposition",
                  "variance", "formally", "complexity", "algorithm")
HUMOR_MARKERS = ("haha", "lol", "joke", "pun", "funny", "with a wink", "😄", "😂", "🙂")


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _has_any(text: str, markers: tuple[str, ...]) -> bool:
    low = text.lower()
    return any(re.search(rf"(?<![a-z']){re.escape(m.strip())}(?![a-z'])", low) for m in markers)


def judge_verbosity(text: str) -> str | None:
    n = len(_words(text))
    if n == 0:
        return None
    if n <= CONCISE_MAX_WORDS:
        return "concise"
    return "detailed" if n >= DETAILED_MIN_WORDS else None


def judge_formality(text: str) -> str | None:
    formal, casual = _has_any(text, FORMAL_MARKERS), _has_any(text, CASUAL_MARKERS)
    if formal and not casual:
        return "formal"
    if casual and not formal:
        return "casual"
    return None


def judge_expertise(text: str) -> str | None:
    beginner, expert = _has_any(text, BEGINNER_MARKERS), _has_any(text, EXPERT_MARKERS)
    if expert and not beginner:
        return "expert"
    if beginner and not expert:
        return "beginner"
    return None


def judge_humor(text: str) -> str | None:
    if not _words(text):
        return None
    return "playful" if _has_any(text, HUMOR_MARKERS) else "serious"


def judge_format(text: str) -> str | None:
    if not _words(text):
        return None
    return "bullets" if _LIST_LINE.search(text) else "prose"


JUDGES: dict[str, Callable[[str], str | None]] = {
    "verbosity": judge_verbosity,
    "formality": judge_formality,
    "expertise": judge_expertise,
    "humor": judge_humor,
    "format": judge_format,
}


def adheres(kind: str, value: str, text: str) -> bool:
    """Whether ``text`` shows the style ``value`` of dimension ``kind``."""
    try:
        judge = JUDGES[kind]
    except KeyError:
        raise ValueError(f"no judge for {kind!r}; judged dimensions: {sorted(JUDGES)}") from None
    return judge(text) == value
