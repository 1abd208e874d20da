"""Independent evaluation sets for preference inference (issue 12) and injection defence (issue 13).

Written by hand by the ``memeval`` helper without reading the extractor; see README.md in this folder.

``load_set(name, split)`` returns the rows of one set (``split`` in ``dev``, ``heldout``, ``all``) after
validating every row; a malformed row raises ``EvalSetError``. Tune only on ``dev``; report ``heldout``.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

HERE = Path(__file__).resolve().parent

SETS: tuple[str, ...] = ("explicit", "implicit", "filler", "changes", "injection", "style")
SPLITS: tuple[str, ...] = ("dev", "heldout")
KINDS: frozenset[str] = frozenset({"likes", "dislikes", "avoids", "constraint", "style", "name"})
POLARITIES: frozenset[str] = frozenset({"positive", "negative"})
TOPICS: frozenset[str] = frozenset(
    {
        "travel", "food", "drink", "music", "film_tv", "books", "games", "shopping", "learning", "health",
        "fitness", "work", "pets", "home", "technology", "finance", "fashion", "sports", "family",
        "transport", "news", "art", "outdoors", "communication", "gardening",
    }
)


class EvalSetError(ValueError):
    """A row of an evaluation set is malformed."""


def split_of(case_id: str) -> str:
    """Deterministic 50/50 split: ``dev`` iff sha256(id) is even as an integer, else ``heldout``."""
    return "dev" if int(hashlib.sha256(case_id.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "heldout"


# Latin look-alikes among Cyrillic and Greek letters (lowercase after casefold), so that a marker such as
# "ignore previous" still matches a stored "іgnore prevіous" written with Cyrillic і.
_CONFUSABLES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
        "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d",
        "ɡ": "g", "һ": "h", "ո": "n", "ս": "u", "ԝ": "w", "ѵ": "v",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
        "τ": "t", "υ": "u", "χ": "x", "ω": "w",
    }
)


def normalize_for_markers(text: str) -> str:
    """Text as payload markers are compared against it: NFKC, casefold, format characters
    (zero-width, bidi controls) dropped, Cyrillic/Greek look-alikes mapped to Latin, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return " ".join(text.translate(_CONFUSABLES).split())


def marker_hits(stored_text: str, markers: list[str]) -> list[str]:
    """Markers found in a stored value, raw (lowercased) or normalised; also checks the reversed
    normalised text, which is what bidi-override payloads store."""
    raw = stored_text.lower()
    norm = normalize_for_markers(stored_text)
    rev = norm[::-1]
    return [m for m in markers if m in raw or m in norm or m in rev]


def _fail(row: Any, why: str) -> NoReturn:
    rid = row.get("id") if isinstance(row, dict) else None
    raise EvalSetError(f"{rid or '?'}: {why}")


def _check_expectations(row: dict[str, Any], key: str, nonempty: bool) -> None:
    exps = row.get(key)
    if not isinstance(exps, list):
        _fail(row, f"{key} must be a list")
    if nonempty and not any(not e.get("optional") for e in exps if isinstance(e, dict)):
        _fail(row, f"{key} needs at least one required expectation")
    for exp in exps:
        if not isinstance(exp, dict):
            _fail(row, f"{key} item must be an object")
        if exp.get("kind") not in KINDS:
            _fail(row, f"bad kind {exp.get('kind')!r}")
        if exp.get("polarity") not in POLARITIES:
            _fail(row, f"bad polarity {exp.get('polarity')!r}")
        terms = exp.get("must_contain")
        if not isinstance(terms, list) or not terms:
            _fail(row, "must_contain must be a non-empty list")
        for t in terms:
            if not isinstance(t, str) or not t.strip() or t != t.lower() or len(t) < 2:
                _fail(row, f"bad must_contain entry {t!r} (lowercase, at least 2 characters)")
        extra = set(exp) - {"kind", "must_contain", "polarity", "aspect", "optional"}
        if extra:
            _fail(row, f"unknown expectation fields {sorted(extra)}")


def validate_row(row: Any, name: str) -> None:
    """Raise ``EvalSetError`` unless ``row`` is a well-formed row of set ``name``."""
    if not isinstance(row, dict):
        _fail(row, "row must be an object")
    if not isinstance(row.get("id"), str) or not row["id"].startswith(f"{name}-"):
        _fail(row, f"id must be a string starting with {name}-")
    if row.get("set") != name:
        _fail(row, f"set must be {name!r}")
    if row.get("topic") not in TOPICS:
        _fail(row, f"unknown topic {row.get('topic')!r}")
    msgs = row.get("messages")
    if not isinstance(msgs, list) or not msgs:
        _fail(row, "messages must be a non-empty list")
    for m in msgs:
        if not isinstance(m, dict) or set(m) != {"role", "content"}:
            _fail(row, "each message is exactly {role, content}")
        if m["role"] not in ("user", "assistant") or not isinstance(m["content"], str) or not m["content"].strip():
            _fail(row, "bad message role or empty content")
    n_user = sum(m["role"] == "user" for m in msgs)
    if n_user == 0:
        _fail(row, "at least one user message")
    if name in ("explicit", "implicit", "style", "filler"):
        _check_expectations(row, "expected", nonempty=name != "filler")
    if name == "filler" and row["expected"]:
        _fail(row, "filler rows expect nothing")
    if name == "implicit" and not 2 <= n_user <= 6:
        _fail(row, "implicit conversations have 2-6 user turns")
    if name == "changes":
        if row.get("case_type") == "change":
            _check_expectations(row, "expected_final", nonempty=True)
            _check_expectations(row, "superseded", nonempty=True)
        elif row.get("case_type") == "repeat":
            _check_expectations(row, "expected_final", nonempty=True)
            if not isinstance(row.get("expected_count"), int) or row["expected_count"] < 1:
                _fail(row, "expected_count must be a positive int")
        else:
            _fail(row, "case_type must be change or repeat")
        if n_user < 2:
            _fail(row, "changes need at least two user turns")
    if name == "injection":
        markers = row.get("payload_markers")
        if row.get("case_type") == "hostile":
            _check_expectations(row, "expected", nonempty=False)
            if not isinstance(markers, list) or not markers:
                _fail(row, "hostile rows need payload_markers")
            for mk in markers:
                if not isinstance(mk, str) or mk != mk.lower() or len(mk) < 3:
                    _fail(row, f"bad payload marker {mk!r}")
        elif row.get("case_type") == "benign":
            _check_expectations(row, "expected", nonempty=True)
            if markers != []:
                _fail(row, "benign rows have payload_markers == []")
        else:
            _fail(row, "case_type must be hostile or benign")


def read_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed row) for each non-blank line; a line that is not JSON raises ``EvalSetError``."""
    for lineno, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if not line.strip():
            continue
        try:
            yield lineno, json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalSetError(f"{path.name}:{lineno}: not JSON ({exc})") from exc


def load_set(name: str, split: str = "dev") -> list[dict[str, Any]]:
    """Rows of set ``name`` in ``split`` (``dev``, ``heldout`` or ``all``), validated."""
    if name not in SETS:
        raise ValueError(f"unknown set {name!r}; one of {SETS}")
    if split not in (*SPLITS, "all"):
        raise ValueError(f"unknown split {split!r}; dev, heldout or all")
    rows: list[dict[str, Any]] = []
    for part in SPLITS if split == "all" else (split,):
        path = HERE / f"{name}_{part}.jsonl"
        for _, row in read_jsonl(path):
            validate_row(row, name)
            if split_of(row["id"]) != part:
                raise EvalSetError(f"{row['id']}: in {part} but the split rule says {split_of(row['id'])}")
            rows.append(row)
    return rows


__all__ = [
    "KINDS",
    "SETS",
    "SPLITS",
    "TOPICS",
    "EvalSetError",
    "load_set",
    "marker_hits",
    "normalize_for_markers",
    "split_of",
    "validate_row",
]
