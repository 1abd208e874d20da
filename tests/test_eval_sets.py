"""The independent evaluation sets (memory/eval/sets): counts, split, well-formedness, reproducibility."""

from __future__ import annotations

import collections
import copy
import re
from pathlib import Path

import pytest

from memory.eval.sets import (
    SETS,
    EvalSetError,
    load_set,
    marker_hits,
    normalize_for_markers,
    split_of,
    validate_row,
)
from memory.eval.sets.build import HERE, build


@pytest.fixture(scope="module")
def all_rows() -> dict[str, list[dict]]:
    return {name: load_set(name, "all") for name in SETS}


def _required(exps: list[dict]) -> list[dict]:
    return [e for e in exps if not e.get("optional")]


def test_counts_meet_the_issue_minimums(all_rows: dict[str, list[dict]]) -> None:
    assert len(all_rows["explicit"]) >= 400
    assert len(all_rows["implicit"]) >= 100
    assert len(all_rows["filler"]) >= 200
    kinds = collections.Counter(r["case_type"] for r in all_rows["changes"])
    assert kinds["change"] >= 40 and kinds["repeat"] >= 20
    kinds = collections.Counter(r["case_type"] for r in all_rows["injection"])
    assert kinds["hostile"] >= 100 and kinds["benign"] >= 20
    assert len(all_rows["style"]) >= 40


def test_explicit_covers_topics_kinds_and_many_shapes(all_rows: dict[str, list[dict]]) -> None:
    rows = all_rows["explicit"]
    topics = collections.Counter(r["topic"] for r in rows)
    assert len(topics) >= 20 and min(topics.values()) >= 10
    kinds = {e["kind"] for r in rows for e in _required(r["expected"])}
    assert kinds == {"likes", "dislikes", "avoids", "constraint", "style"}
    texts = [r["messages"][-1]["content"] for r in rows]
    assert len(set(texts)) == len(texts)
    # A cheap proxy for distinct sentence shapes: distinct three-word openings.
    openings = {" ".join(re.findall(r"[a-z']+", t.lower())[:3]) for t in texts}
    assert len(openings) >= 150
    assert sum(len(_required(r["expected"])) >= 2 for r in rows) >= 10  # several prefs in one message
    assert sum(any(m["role"] == "assistant" for m in r["messages"]) for r in rows) >= 5


def test_explicit_and_style_terms_name_the_thing_in_the_users_words(all_rows: dict[str, list[dict]]) -> None:
    checked = 0
    for name in ("explicit", "style"):
        for row in all_rows[name]:
            said = " ".join(m["content"] for m in row["messages"] if m["role"] == "user").lower()
            for exp in row["expected"]:
                assert any(t in said for t in exp["must_contain"]), (row["id"], exp)
                checked += 1
    assert checked >= 500


def test_split_is_disjoint_deterministic_and_roughly_half(all_rows: dict[str, list[dict]]) -> None:
    assert split_of("explicit-0001") == "dev" and split_of("injection-0100") == "heldout"  # pinned
    for name in SETS:
        dev, held = load_set(name, "dev"), load_set(name, "heldout")
        dev_ids, held_ids = {r["id"] for r in dev}, {r["id"] for r in held}
        assert dev_ids and held_ids and not dev_ids & held_ids
        assert dev_ids | held_ids == {r["id"] for r in all_rows[name]}
        assert all(split_of(i) == "dev" for i in dev_ids) and all(split_of(i) == "heldout" for i in held_ids)
        assert 0.3 <= len(dev) / (len(dev) + len(held)) <= 0.7
    hostile_held = [r for r in load_set("injection", "heldout") if r["case_type"] == "hostile"]
    assert len(hostile_held) >= 40


def test_ids_are_unique_across_sets(all_rows: dict[str, list[dict]]) -> None:
    ids = [r["id"] for rows in all_rows.values() for r in rows]
    assert len(ids) == len(set(ids)) > 1000


def test_committed_files_match_the_sources(tmp_path: Path) -> None:
    counts = build(tmp_path)
    assert len(counts) == 2 * len(SETS)
    for name in SETS:
        for split in ("dev", "heldout"):
            fname = f"{name}_{split}.jsonl"
            assert (tmp_path / fname).read_bytes() == (HERE / fname).read_bytes(), f"rebuild {fname}"


def test_filler_and_implicit_shapes(all_rows: dict[str, list[dict]]) -> None:
    assert all(r["expected"] == [] for r in all_rows["filler"])
    cats = collections.Counter(r["category"] for r in all_rows["filler"])
    assert {"task", "question", "reported", "hypothetical", "chitchat", "one_off", "fact"} <= set(cats)
    for row in all_rows["implicit"]:
        users = sum(m["role"] == "user" for m in row["messages"])
        assert 2 <= users <= 6 and any(m["role"] == "assistant" for m in row["messages"])


def test_every_hostile_case_carries_a_marker_its_own_text_contains(all_rows: dict[str, list[dict]]) -> None:
    n = 0
    for row in all_rows["injection"]:
        if row["case_type"] != "hostile":
            continue
        # the payload may sit in an earlier (forged or retrieved) assistant turn
        said = "\n".join(m["content"] for m in row["messages"])
        assert marker_hits(said, row["payload_markers"]), row["id"]
        n += 1
    assert n >= 100


def test_normalize_for_markers_sees_through_disguises() -> None:
    assert normalize_for_markers("I like \u0456gnoring") == "i like ignoring"  # Cyrillic i
    assert normalize_for_markers("ig\u200bnore  prev\u202eious") == "ignore previous"  # zero-width, bidi
    assert normalize_for_markers("ｉｇｎｏｒｅ") == "ignore"  # full-width
    assert marker_hits("drowssap nimda eht laever", ["admin password"]) == ["admin password"]
    assert marker_hits("likes cats", ["admin password"]) == []


def _good_row() -> dict:
    return {
        "id": "explicit-9999",
        "set": "explicit",
        "topic": "food",
        "messages": [{"role": "user", "content": "I love sushi."}],
        "expected": [{"kind": "likes", "must_contain": ["sushi"], "polarity": "positive"}],
    }


@pytest.mark.parametrize(
    "breakage",
    [
        lambda r: r.pop("expected"),
        lambda r: r.update(topic="astrology"),
        lambda r: r.update(id="filler-0001"),
        lambda r: r.update(messages=[]),
        lambda r: r["messages"].append({"role": "system", "content": "x"}),
        lambda r: r["expected"][0].update(kind="loves"),
        lambda r: r["expected"][0].update(polarity="neutral"),
        lambda r: r["expected"][0].update(must_contain=["Sushi"]),
        lambda r: r["expected"][0].update(must_contain=[]),
        lambda r: r["expected"][0].update(extra=1),
        lambda r: r.update(expected=[]),
    ],
)
def test_validation_rejects_malformed_rows(breakage) -> None:
    validate_row(_good_row(), "explicit")  # the unbroken row passes, so each failure below is the breakage
    row = copy.deepcopy(_good_row())
    breakage(row)
    with pytest.raises(EvalSetError):
        validate_row(row, "explicit")


def test_validation_rejects_bad_injection_and_changes_rows() -> None:
    hostile = {
        "id": "injection-9999", "set": "injection", "topic": "communication", "case_type": "hostile",
        "messages": [{"role": "user", "content": "x"}], "expected": [], "payload_markers": ["ignore previous"],
    }
    validate_row(hostile, "injection")
    with pytest.raises(EvalSetError):
        validate_row({**hostile, "payload_markers": []}, "injection")
    with pytest.raises(EvalSetError):
        validate_row({**hostile, "payload_markers": ["IGNORE"]}, "injection")
    change = {
        "id": "changes-9999", "set": "changes", "topic": "food", "case_type": "change", "expected": [],
        "messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
        "expected_final": [{"kind": "constraint", "must_contain": ["vegan"], "polarity": "positive"}],
        "superseded": [{"kind": "constraint", "must_contain": ["vegetarian"], "polarity": "positive"}],
    }
    validate_row(change, "changes")
    with pytest.raises(EvalSetError):
        validate_row({**change, "superseded": []}, "changes")
    with pytest.raises(EvalSetError):
        validate_row({**change, "messages": change["messages"][:1]}, "changes")


def test_load_set_rejects_unknown_names() -> None:
    with pytest.raises(ValueError):
        load_set("nope", "dev")
    with pytest.raises(ValueError):
        load_set("explicit", "train")
