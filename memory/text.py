"""Text hygiene: what may be stored, what may be matched, and what may enter a prompt."""

from __future__ import annotations

import re
import unicodedata

# Lone surrogates cannot be encoded to UTF-8 (every driver rejects them); PostgreSQL rejects NUL in text.
_SURROGATES = re.compile(r"[\ud800-\udfff]")
# C0/C1 controls except tab and newline, plus zero-width and bidi controls that hide text from a reader.
_CONTROLS = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]"
)
# Chat-template and role markers of the common model families.
_ROLE_MARKERS = re.compile(
    r"<\|[^|>]{0,40}\|>|</?s>|\[/?INST\]|<</?SYS>>|<start_of_turn>|<end_of_turn>", re.IGNORECASE
)
_QUOTES = re.compile(r"[\"“”„‟«»＂`]")
_SPACES = re.compile(r"\s+")


def clean_for_storage(text: str) -> str:
    """Text any database accepts: lone surrogates become U+FFFD, NUL and other controls are dropped."""
    text = _SURROGATES.sub("\ufffd", text)
    return _CONTROLS.sub("", text)


def normalize_for_matching(text: str) -> str:
    """NFKC (full-width and compatibility forms fold to ASCII), typographic apostrophes, no hidden chars."""
    text = unicodedata.normalize("NFKC", clean_for_storage(text))
    return text.replace("’", "'").replace("‘", "'").replace("ʼ", "'")


def quote_as_data(text: str, *, max_chars: int = 80) -> str:
    """Render user-derived text as one quoted, single-line datum that cannot end its quote or start a turn.

    Role markers are removed, every kind of double quote becomes a single quote, whitespace (newlines
    included) collapses to one space, and the result is capped at ``max_chars`` characters.
    """
    text = normalize_for_matching(text)
    text = _ROLE_MARKERS.sub(" ", text)
    text = _QUOTES.sub("'", text)
    text = _SPACES.sub(" ", text).strip()
    if len(text) > max_chars:
        text = text[: max_chars - 1].rstrip() + "…"
    return f'"{text}"'


def slug(text: str) -> str:
    """A stable, case- and space-insensitive key for a free-text value ('Peanut Butter ' -> 'peanut butter')."""
    text = normalize_for_matching(text).lower()
    text = re.sub(r"[^\w\s-]", " ", text)
    text = re.sub(r"^(?:the|a|an|some|my)\s+", "", _SPACES.sub(" ", text).strip())
    return text[:120]
