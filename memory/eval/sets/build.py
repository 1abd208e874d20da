"""Build the independent evaluation sets (JSONL) from the hand-written sources in ``source/``.

Run ``python -m memory.eval.sets.build`` after editing a source file; the JSONL files are committed.
The sources were written by hand by the ``memeval`` helper without reading the extractor.

Source grammar
--------------
Expectation list: ``exp;exp;...`` where one ``exp`` is ``[?]K[.aspect][+|-]:term/term/...``

* ``K``: L=likes (default +), D=dislikes (-), A=avoids (-), C=constraint (+), S=style (+), N=name (+)
* ``?`` marks the expectation optional; ``+``/``-`` override the default polarity.
* terms are lowercased substrings; any one appearing in a stored preference names the thing.

Explicit sources (``explicit_*.txt``): one case per line, ``topic | expectations | text``; the text may be
``A> assistant turn >> user turn`` to give the user message a prior assistant turn.

Block sources (implicit, filler, changes, injection, style): blocks start with a header line
``=== topic | field | field ...`` followed by ``U: ...`` / ``A: ...`` lines (one message each). Header fields:

* implicit/style: ``=== topic | expectations``
* filler: ``=== topic | category``
* changes: ``=== topic | change | final expectations | superseded expectations`` or
  ``=== topic | repeat N | final expectations`` (N = total active preferences expected at the end)
* injection: ``=== topic | hostile | marker~marker~...`` or ``=== topic | benign | expectations``

In message text ``\\uXXXX`` is replaced by that code point (zero-width, bidi and look-alike letters) and
``\\n`` by a newline (one source line is one message).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from memory.eval.sets import SETS, split_of, validate_row

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "source"

_KINDS = {
    "L": ("likes", "positive"),
    "D": ("dislikes", "negative"),
    "A": ("avoids", "negative"),
    "C": ("constraint", "positive"),
    "S": ("style", "positive"),
    "N": ("name", "positive"),
}
_EXP = re.compile(r"^(\?)?([LDACSN])(?:\.([a-z_]+))?([+-])?:(.+)$")
_UNI = re.compile(r"\\u([0-9a-fA-F]{4})")


def parse_expectations(spec: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in spec.split(";"):
        part = part.strip()
        if not part or part == "-":
            continue
        m = _EXP.match(part)
        if not m:
            raise ValueError(f"bad expectation {part!r}")
        optional, letter, aspect, sign, terms = m.groups()
        kind, polarity = _KINDS[letter]
        if sign:
            polarity = "positive" if sign == "+" else "negative"
        exp: dict[str, Any] = {
            "kind": kind,
            "must_contain": [t.strip().lower() for t in terms.split("/") if t.strip()],
            "polarity": polarity,
        }
        if aspect:
            exp["aspect"] = aspect
        if optional:
            exp["optional"] = True
        out.append(exp)
    return out


def _unescape(text: str) -> str:
    return _UNI.sub(lambda m: chr(int(m.group(1), 16)), text.replace("\\n", "\n"))


def _lines(path: Path) -> list[str]:
    return [ln.rstrip("\n") for ln in path.read_text(encoding="utf-8").splitlines()]


def build_explicit() -> list[dict[str, Any]]:
    rows = []
    for path in sorted(SOURCE.glob("explicit_*.txt")):
        for ln in _lines(path):
            if not ln.strip() or ln.startswith("#"):
                continue
            topic, spec, text = (p.strip() for p in ln.split("|", 2))
            messages = []
            if text.startswith("A>"):
                assistant, user = text[2:].split(">>", 1)
                messages.append({"role": "assistant", "content": _unescape(assistant.strip())})
                text = user.strip()
            messages.append({"role": "user", "content": _unescape(text)})
            rows.append({"topic": topic, "messages": messages, "expected": parse_expectations(spec)})
    return rows


def _blocks(path: Path) -> list[tuple[list[str], list[dict[str, str]]]]:
    blocks: list[tuple[list[str], list[dict[str, str]]]] = []
    for ln in _lines(path):
        if not ln.strip() or ln.startswith("#"):
            continue
        if ln.startswith("==="):
            blocks.append(([p.strip() for p in ln[3:].split("|")], []))
            continue
        role = {"U:": "user", "A:": "assistant"}.get(ln[:2])
        if role is None or not blocks:
            raise ValueError(f"{path.name}: bad line {ln!r}")
        blocks[-1][1].append({"role": role, "content": _unescape(ln[2:].strip())})
    return blocks


def build_blocks(name: str) -> list[dict[str, Any]]:
    rows = []
    for path in sorted(SOURCE.glob(f"{name}_*.txt")):
        for header, messages in _blocks(path):
            topic = header[0]
            row: dict[str, Any] = {"topic": topic, "messages": messages}
            if name in ("implicit", "style"):
                row["expected"] = parse_expectations(header[1])
            elif name == "filler":
                row["category"] = header[1]
                row["expected"] = []
            elif name == "changes":
                kind = header[1]
                row["expected"] = []
                if kind == "change":
                    row["case_type"] = "change"
                    row["expected_final"] = parse_expectations(header[2])
                    row["superseded"] = parse_expectations(header[3])
                elif kind.startswith("repeat"):
                    row["case_type"] = "repeat"
                    row["expected_count"] = int(kind.split()[1])
                    row["expected_final"] = parse_expectations(header[2])
                else:
                    raise ValueError(f"bad changes header {header}")
            elif name == "injection":
                row["case_type"] = header[1]
                if header[1] == "hostile":
                    row["expected"] = []
                    row["payload_markers"] = [m.strip().lower() for m in header[2].split("~") if m.strip()]
                else:
                    row["expected"] = parse_expectations(header[2])
                    row["payload_markers"] = []
            rows.append(row)
    return rows


def build(out_dir: Path = HERE) -> dict[str, int]:
    """Write ``<name>_<split>.jsonl`` for every set into ``out_dir``; return the row counts."""
    counts: dict[str, int] = {}
    for name in SETS:
        rows = build_explicit() if name == "explicit" else build_blocks(name)
        by_split: dict[str, list[dict[str, Any]]] = {"dev": [], "heldout": []}
        for i, row in enumerate(rows, 1):
            row = {"id": f"{name}-{i:04d}", "set": name, **row}
            validate_row(row, name)
            by_split[split_of(row["id"])].append(row)
        for split, items in by_split.items():
            with (out_dir / f"{name}_{split}.jsonl").open("w", encoding="utf-8") as fh:
                for row in items:
                    fh.write(json.dumps(row, ensure_ascii=True) + "\n")
            counts[f"{name}_{split}"] = len(items)
    return counts


if __name__ == "__main__":
    for key, n in build().items():
        print(f"{key}: {n}")
