"""Text hygiene: what may be stored, what may be matched, and what may enter a prompt."""

from __future__ import annotations

import re
import unicodedata

import regex

# Lone surrogates cannot be encoded to UTF-8 (every driver rejects them); PostgreSQL rejects NUL in text.
_SURROGATES = re.compile(r"[\ud800-\udfff]")
# C0/C1 controls except tab and newline, plus zero-width and bidi controls that hide text from a reader.
# The zero-width non-joiner and joiner (U+200C, U+200D) are kept: they build emoji sequences (👩‍💻) and are
# spelling in Persian and Indic scripts, so removing them would alter what the user wrote.
_CONTROLS = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]"
)
# For matching and prompts: every invisible format character (soft hyphen, tag characters, bidi and
# zero-width marks), so none can split a keyword ('ig\u00adnore') or smuggle text past a reader.
_FORMAT = regex.compile(r"[\p{Cf}--[\u200c\u200d]]", regex.V1)
_JOINERS = re.compile(r"[\u200c\u200d]+")
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


def _keep_joiners_inside_a_script(match: re.Match[str]) -> str:
    """A joiner run between two non-ASCII, non-space characters (an emoji sequence, a Persian or Indic word)."""
    text, start, end = match.string, match.start(), match.end()
    if start > 0 and end < len(text):
        before, after = text[start - 1], text[end]
        if not (before.isascii() or after.isascii() or before.isspace() or after.isspace()):
            return match.group()
    return ""


def normalize_for_matching(text: str) -> str:
    """NFKC (full-width and compatibility forms fold to ASCII), typographic apostrophes, no hidden chars.

    Format characters are removed; a zero-width joiner or non-joiner survives only between two non-ASCII
    characters, where it is part of an emoji or a word, and never next to ASCII, where it could only hide
    an English keyword from the patterns ('ig\u200dnore'). The check runs after NFKC, which folds
    full-width letters to ASCII.
    """
    text = clean_for_storage(text)
    if text.isascii():
        return text
    text = _FORMAT.sub("", unicodedata.normalize("NFKC", text))
    text = _JOINERS.sub(_keep_joiners_inside_a_script, text)
    return text.replace("’", "'").replace("‘", "'").replace("ʼ", "'")


def as_datum(text: str, *, max_chars: int = 80) -> str:
    """User-derived text made safe to place between double quotes in a prompt (without the quotes).

    Hidden characters and role markers are removed, every kind of double quote becomes a single quote,
    whitespace (newlines included) collapses to one space, and the result is capped at ``max_chars``.
    """
    text = normalize_for_matching(text)
    text = _ROLE_MARKERS.sub(" ", text)
    text = _QUOTES.sub("'", text)
    text = _SPACES.sub(" ", text).strip()
    if len(text) > max_chars:
        text = text[: max_chars - 1].rstrip() + "…"
    return text


def quote_as_data(text: str, *, max_chars: int = 80) -> str:
    """Render user-derived text as one quoted, single-line datum that cannot end its quote or start a turn."""
    return f'"{as_datum(text, max_chars=max_chars)}"'


def slug(text: str) -> str:
    """A stable, case- and space-insensitive key for a free-text value ('Peanut Butter ' -> 'peanut butter').

    A value without a letter or digit ('🍕') is keyed on its symbols, so two such values keep two slots.
    """
    folded = _SPACES.sub(" ", normalize_for_matching(text).lower()).strip()
    words = _SPACES.sub(" ", re.sub(r"[^\w\s-]", " ", folded)).strip()
    return re.sub(r"^(?:the|a|an|some|my)\s+", "", words or folded)[:120]
