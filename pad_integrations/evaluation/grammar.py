"""A grammar check for the demo model's synthetic English: which sentences are well formed.

The synthetic language has a finite set of sentence templates (``training.synthetic_style``) with a
topic slot; a sentence is grammatical when it matches one of them, with any topic. This measures the
fluency of the demo model exactly (a broken or run-on sentence matches nothing); on real models it is
meaningless, and the evaluation reports per-token NLL as the general fluency measure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from pad_integrations.training import synthetic_style as s

# A topic: one to three lowercase or capitalised words.
_TOPIC = r"[A-Za-z][A-Za-z'-]*(?: [A-Za-z][A-Za-z'-]*){0,2}"


def _template_regex(template: str) -> str:
    parts = re.split(r"(\{t\}|\{T\})", template)
    return "".join(_TOPIC if p in ("{t}", "{T}") else re.escape(p) for p in parts)


@lru_cache(maxsize=1)
def _sentence_pattern() -> re.Pattern[str]:
    templates = [*s.FACTS, *s.BEGINNER, *s.EXPERT, *s.JOKES, s.SHORT_JOKE, s.SUMMARY, *s.OPEN_FORMAL, *s.CLOSE_FORMAL, *s.OPEN_CASUAL,
                 *s.CLOSE_CASUAL, *s.OPEN_NEUTRAL]
    greetings = {s.render_greeting(s.Style({"formality": f} if f else {}), _FixedChoice(i), how_are_you=h)
                 for f in (None, "formal", "casual") for i in (0, 1) for h in (False, True)}
    extras = [" I promise my jokes are better than my puns, haha.",
              " I can answer questions, explain topics, and use tools when they are available."]
    alternatives = [_template_regex(t) for t in templates]
    alternatives += [re.escape(g) + "(?:" + "|".join(re.escape(e) for e in extras) + ")*" for g in greetings]
    return re.compile("|".join(f"(?:{a})" for a in sorted(alternatives, key=len, reverse=True)))


class _FixedChoice:
    """Stands in for ``random.Random`` to enumerate the greeting variants deterministically."""

    def __init__(self, index: int) -> None:
        self.index = index

    def choice(self, seq: Sequence[str]) -> str:
        return seq[min(self.index, len(seq) - 1)]


def grammatical_fraction(text: str) -> float:
    """Share of the response's characters covered by well-formed sentences of the synthetic language."""
    lines = [line.strip() for line in text.strip().splitlines()]
    lines = [line[2:].strip() if line.startswith("- ") else line for line in lines]
    lines = [line for line in lines if line]
    total = sum(len(line) for line in lines)
    if not total:
        return 0.0
    pattern = _sentence_pattern()
    covered = 0
    for line in lines:
        # Sentences are matched one after another from the start; the rest of the line is ungrammatical.
        pos = 0
        while pos < len(line) and (m := pattern.match(line, pos)) and m.end() > pos:
            covered += m.end() - pos
            pos = m.end()
            while pos < len(line) and line[pos] == " ":
                covered += 1
                pos += 1
    return covered / total
