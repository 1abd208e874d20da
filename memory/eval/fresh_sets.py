"""Fresh probe material (``memory/eval/fresh/*.jsonl``): sets written after the extractor, by a writer who
never read it, in the row format of ``memory.eval.sets`` (see that folder's README).

Each fresh set is split by id, independently of its content: ``train`` iff
``int(sha256(id).hexdigest(), 16) % 2 == 0``, else ``check``. The ``train`` half may become training
material for the classifier and the instruction guard (``memory.extractors.fresh_training``); the
``check`` half is only ever scored in aggregate (``python -m memory.eval --split fresh-check``), never
trained or tuned on row by row. ``fresh`` scores both halves: the figure to record when a file first lands,
before anything learns from it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from memory.eval.sets import SETS, TOPICS, EvalSetError, read_jsonl, validate_row

FRESH_DIR = Path(__file__).resolve().parent / "fresh"
FRESH_SPLITS: tuple[str, ...] = ("fresh", "fresh-train", "fresh-check")


def fresh_split_of(case_id: str) -> str:
    """``train`` iff sha256(id) is even as an integer, else ``check``."""
    return "train" if int(hashlib.sha256(case_id.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "check"


def validate_fresh_row(row: Any, name: str) -> None:
    """``memory.eval.sets.validate_row``, except that fresh ids read ``fresh-<set>-NNNN`` and topics are
    free-form (any non-empty string): the fresh writer was not bound to the sets' 25 topics."""
    if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not isinstance(row.get("topic"), str):
        raise EvalSetError(f"{row.get('id') if isinstance(row, dict) else '?'}: id and topic must be strings")
    if not row["topic"].strip():
        raise EvalSetError(f"{row['id']}: empty topic")
    validate_row(row | {"id": row["id"].removeprefix("fresh-"), "topic": next(iter(sorted(TOPICS)))}, name)


def fresh_files(name: str, directory: Path = FRESH_DIR) -> list[Path]:
    """The committed fresh files of set ``name`` (``explicit.jsonl``, ``explicit_2.jsonl``, ...)."""
    if name not in SETS:
        raise ValueError(f"unknown set {name!r}; one of {SETS}")
    return sorted(directory.glob(f"{name}*.jsonl"))


def load_fresh(name: str, split: str = "fresh", directory: Path = FRESH_DIR) -> list[dict[str, Any]]:
    """Validated rows of fresh set ``name``: ``fresh`` (both halves), ``fresh-train`` or ``fresh-check``.

    Raises ``FileNotFoundError`` when the set has no fresh file yet (the evaluation then skips it)."""
    if split not in FRESH_SPLITS:
        raise ValueError(f"unknown fresh split {split!r}; one of {FRESH_SPLITS}")
    paths = fresh_files(name, directory)
    if not paths:
        raise FileNotFoundError(f"no fresh {name} set in {directory}")
    want = None if split == "fresh" else split.removeprefix("fresh-")
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for path in paths:
        for lineno, row in read_jsonl(path):
            validate_fresh_row(row, name)
            if row["id"] in seen:
                raise EvalSetError(f"{path.name}:{lineno}: duplicate id {row['id']}")
            seen.add(row["id"])
            if want is None or fresh_split_of(row["id"]) == want:
                rows.append(row)
    return rows
