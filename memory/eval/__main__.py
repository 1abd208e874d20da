"""python -m memory.eval [conversations.jsonl] [-v]: precision/recall of the rule extractor by kind and source."""

from __future__ import annotations

import argparse

from memory.eval.evaluate import DEFAULT_SET, evaluate, load_conversations


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", default=str(DEFAULT_SET))
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="list every miss and spurious preference"
    )
    args = parser.parse_args(argv)
    conversations = load_conversations(args.path)
    report = evaluate(conversations)
    print(f"{len(conversations)} conversations, {report.overall.tp + report.overall.fn} gold preferences\n")
    print(report.table())
    if args.verbose:
        for conv_id, error in report.errors:
            print(f"  {conv_id}: {error}")


if __name__ == "__main__":
    main()
