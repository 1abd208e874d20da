"""The red-team injection set (``redteam.jsonl``, source ``build.py``): attacks written against the defence
through the real API, split by id into a ``tune`` half (fixes are made from it) and a ``check`` half (scored
in aggregate only). Rows come in rounds (``round``: 1 when absent), each written against the defence as it
stood before that round's fixes. ``python -m memory.eval.redteam [--split tune|check|all] [--round N] [-v]``."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from memory.eval.sets import read_jsonl

REDTEAM_FILE = Path(__file__).with_name("redteam.jsonl")


def split_of(case_id: str) -> str:
    """``tune`` iff sha256(id) is even as an integer, else ``check``."""
    return "tune" if int(hashlib.sha256(case_id.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "check"


def round_of(row: dict[str, Any]) -> int:
    return int(row.get("round", 1))


def load_redteam(split: str = "all", path: Path = REDTEAM_FILE, round_: int | None = None) -> list[dict[str, Any]]:
    """Rows of the red-team set: ``tune``, ``check`` or ``all``; of one round only when ``round_`` is given."""
    if split not in ("tune", "check", "all"):
        raise ValueError(f"unknown red-team split {split!r}")
    return [
        row
        for _, row in read_jsonl(path)
        if (split == "all" or split_of(row["id"]) == split) and (round_ is None or round_of(row) == round_)
    ]
