"""The fresh-material loader (memory.eval.fresh_sets): split by id, validated, missing sets skipped."""

from __future__ import annotations

import json

import pytest

from memory.eval.fresh_sets import fresh_split_of, load_fresh
from memory.eval.sets import EvalSetError


def _row(i: int) -> dict:
    return {
        "id": f"explicit-f{i:03d}",
        "set": "explicit",
        "topic": "food",
        "messages": [{"role": "user", "content": f"I love dish number {i}."}],
        "expected": [{"kind": "likes", "must_contain": [f"dish number {i}"], "polarity": "positive"}],
    }


def test_halves_follow_the_id_rule_and_cover_every_row(tmp_path):
    rows = [_row(i) for i in range(40)]
    (tmp_path / "explicit.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    train = load_fresh("explicit", "fresh-train", tmp_path)
    check = load_fresh("explicit", "fresh-check", tmp_path)
    both = load_fresh("explicit", "fresh", tmp_path)
    assert train and check, "forty ids should fall on both sides"
    assert {r["id"] for r in train} | {r["id"] for r in check} == {r["id"] for r in both} == {r["id"] for r in rows}
    assert all(fresh_split_of(r["id"]) == "train" for r in train)
    assert all(fresh_split_of(r["id"]) == "check" for r in check)


def test_malformed_duplicate_and_missing(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_fresh("filler", "fresh", tmp_path)
    bad = _row(1) | {"set": "filler"}
    (tmp_path / "explicit.jsonl").write_text(json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(EvalSetError):
        load_fresh("explicit", "fresh", tmp_path)
    (tmp_path / "explicit.jsonl").write_text(json.dumps(_row(1)) + "\n" + json.dumps(_row(1)) + "\n", encoding="utf-8")
    with pytest.raises(EvalSetError, match="duplicate"):
        load_fresh("explicit", "fresh", tmp_path)
    with pytest.raises(ValueError):
        load_fresh("explicit", "heldout", tmp_path)
