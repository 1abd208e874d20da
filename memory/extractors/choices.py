"""Implicit signals: the user picks one of the options the assistant offered.

'Would you like a short summary or a detailed walkthrough?' -> 'The short one, please.' says something
about verbosity without the user ever stating a preference; it is stored as an implicit, lower-confidence
signal that an explicit statement outranks.
"""

from __future__ import annotations

import re

from memory.extractors.clauses import Clause

_I = re.IGNORECASE
MAX_OFFER_CHARS = 2_000
_LINE_OPTION = re.compile(r"^\s*(?:\d+[.)]|[-*•]|[a-d][.)]|option \d+:?)\s+(.+)$", re.MULTILINE | _I)
_LEAD = re.compile(
    r"^.*?\b(?:would you (?:like|prefer)|do you (?:want|prefer)|should i (?:give you|write|make it|use|keep it)?|"
    r"shall i (?:give you|write|make it|use|keep it)?|prefer|want)\s+",
    _I,
)
_ORDINALS = {
    0: r"\b(?:first|1st|former|option (?:1|a|one)|the 1|number one|a\))",
    1: r"\b(?:second|2nd|latter|option (?:2|b|two)|the 2|number two|b\))",
    2: r"\b(?:third|3rd|option (?:3|c|three)|the 3|number three)",
}
_STOP = {
    "the",
    "a",
    "an",
    "one",
    "please",
    "i",
    "would",
    "like",
    "prefer",
    "want",
    "ok",
    "okay",
    "yes",
    "sure",
    "go",
    "with",
    "let",
    "us",
    "do",
    "that",
    "this",
    "version",
    "option",
    "thanks",
    "thank",
    "you",
}


def offered_options(assistant_text: str) -> list[str]:
    """The options an assistant message offers: a list of lines, or 'A or B?' in a question."""
    assistant_text = assistant_text[-MAX_OFFER_CHARS:]  # options close a message; bounds the scan
    lines = [m.group(1).strip() for m in _LINE_OPTION.finditer(assistant_text)]
    if 2 <= len(lines) <= 6:
        return lines
    for sentence in re.split(r"(?<=[.!?])\s+", assistant_text):
        if sentence.rstrip().endswith("?") and re.search(r"\bor\b", sentence, _I):
            body = _LEAD.sub("", sentence.rstrip(" ?"))
            parts = [
                p.strip(" ,") for p in re.split(r",\s*(?:or\s+)?|\s+or\s+", body, flags=_I) if p.strip(" ,")
            ]
            if 2 <= len(parts) <= 5:
                return parts
    return []


def chosen_option(reply: str, options: list[str]) -> str | None:
    """The option a short reply picks, by ordinal or by the words it shares with exactly one option."""
    if len(reply.split()) > 10 or re.search(r"\b(?:both|neither|either|none|all of them)\b", reply, _I):
        return None
    digit = re.fullmatch(r"\s*(?:option\s+)?(\d)\s*[.!)]?\s*(?:please)?[.!]?\s*", reply, _I)
    if digit and 1 <= int(digit.group(1)) <= len(options):
        return options[int(digit.group(1)) - 1]
    for index, pattern in _ORDINALS.items():
        if index < len(options) and re.search(pattern, reply, _I):
            return options[index]
    if re.search(r"\b(?:last|latter)\b", reply, _I):
        return options[-1]
    words = {w for w in re.findall(r"[a-z0-9-]+", reply.lower()) if w not in _STOP}
    scores = [len(words & set(re.findall(r"[a-z0-9-]+", o.lower()))) for o in options]
    best = max(scores, default=0)
    return options[scores.index(best)] if best and scores.count(best) == 1 else None


def choice_clause(option: str) -> Clause:
    """The chosen option read as the user's own preference statement ('I prefer <option>')."""
    return Clause(
        text=f"I prefer {option}",
        question=False,
        standing=False,
        task=False,
        hedged=False,
        intense=False,
        request=False,
    )
