"""Quickstart: a user states a preference in conversation, the memory infers and stores it, and the
next answers follow it, steered at decoding time.

    python3 dev.py demo                       # installs, then runs this file
    .venv/bin/python examples/quickstart.py   # [--db sqlite:///prefs.db] [--user alice] [--strategy amulet]

Offline: the bundled demo model (or, where it is not installed, a tiny model built on the spot, which
is said so: its words are noise, but every step is the real one), and an embedded SQLite database in a
temporary directory unless ``--db`` names one (its location is printed).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from transformers.utils import logging as hf_logging

from memory import PreferenceMemory
from pad_integrations.generation import GuidedGenerator

hf_logging.disable_progress_bar()

STATEMENT = "Hi! I prefer short answers, and please keep it casual."
QUESTIONS = [
    "How do I make a good cup of tea?",
    "What is the best way to start learning Python?",
]
COLUMN = 48


def demo_model_or_tiny(workdir: Path) -> tuple[str, bool]:
    """(model directory, is the demo model)."""
    try:
        from pad_integrations import demo

        path = Path(demo.model_path())
        if (path / "config.json").exists():
            return str(path), True
    except (ImportError, AttributeError, OSError):
        pass
    from pad_integrations.testing.tiny_models import build_tiny_model

    return str(build_tiny_model(workdir / "tiny-model")), False


def wrap(text: str) -> list[str]:
    """Lines of at most COLUMN characters, keeping the answer's own line breaks (lists stay lists)."""
    return [piece for line in (text or "(empty)").splitlines() for piece in textwrap.wrap(line, COLUMN) or [""]]


def side_by_side(left_title: str, left: str, right_title: str, right: str) -> str:
    """Two answers in two columns."""
    lcol = [left_title, "-" * len(left_title), *wrap(left)]
    rcol = [right_title, "-" * len(right_title), *wrap(right)]
    rows = max(len(lcol), len(rcol))
    lcol += [""] * (rows - len(lcol))
    rcol += [""] * (rows - len(rcol))
    return "\n".join(f"  {a:<{COLUMN}}  | {b}" for a, b in zip(lcol, rcol, strict=True))


def words(text: str) -> int:
    return len(text.split())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="SQLAlchemy URL (default: SQLite in a temporary directory)")
    parser.add_argument("--user", default="alice")
    parser.add_argument("--strategy", default="amulet", help="guided strategy: prompt, linear, amulet, pad")
    parser.add_argument("--max-tokens", type=int, default=48)
    args = parser.parse_args(argv)
    started = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="pad-quickstart-") as tmp:
        workdir = Path(tmp)
        url = args.db or f"sqlite:///{workdir / 'preferences.db'}"
        model_dir, is_demo = demo_model_or_tiny(workdir)
        print(f"Model:        {model_dir}")
        if not is_demo:
            print("              (the bundled demo model is not installed here, so this is a tiny randomly")
            print("               initialised model built locally: its words are noise, every step is real)")
        print(f"Preferences:  {url}")
        print(f"Strategy:     {args.strategy}\n")

        generator = GuidedGenerator.from_pretrained(model_dir)
        memory = PreferenceMemory(url=url)
        user = args.user

        # 1. The user states a preference in passing; the memory infers it from the turn.
        print(f"[1] {user} says: {STATEMENT!r}")
        first = generator.generate([{"role": "user", "content": STATEMENT}], max_new_tokens=args.max_tokens)
        print(f"    assistant: {first.text!r}")
        observed = memory.observe(user, [{"role": "user", "content": STATEMENT},
                                         {"role": "assistant", "content": first.text}])
        for change in observed.changes:
            print(f"    inferred:  {change.action} {change.preference.kind} = {change.preference.value}")

        profile = memory.profile(user)
        print(f"\n[2] Stored profile of {user}:")
        for pref in profile.preferences:
            print(f"    - {pref.kind}: {pref.value} (weight {pref.weight:g}, from {pref.source})")
        print(textwrap.indent(profile.text, "    | "))

        # 2. Later questions: the same model, unguided and guided by the stored profile.
        print("\n[3] Next questions, unguided vs guided by the stored profile:")
        totals = {"base": 0, "guided": 0}
        for question in QUESTIONS:
            messages = [{"role": "user", "content": question}]
            base = generator.generate(messages, strategy="base", max_new_tokens=args.max_tokens)
            guided = generator.generate(
                messages, preference=memory.profile(user), strategy=args.strategy, max_new_tokens=args.max_tokens
            )
            totals["base"] += words(base.text)
            totals["guided"] += words(guided.text)
            print(f"\n  Q: {question}")
            print(side_by_side("base (no preferences)", base.text, f"guided ({args.strategy})", guided.text))
            applied = "; ".join(f"{text} (x{weight:g})" for text, weight in guided.trace.preferences)
            print(f"  applied: {applied}")
            print(f"  tokens moved by guidance: {guided.trace.moved_tokens}/{len(guided.trace.tokens)}"
                  f", words: base {words(base.text)} vs guided {words(guided.text)}")

        print(f"\nTotal words: base {totals['base']}, guided {totals['guided']}.")
        print(f"Quickstart finished in {time.perf_counter() - started:.1f}s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
