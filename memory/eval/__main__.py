"""python -m memory.eval --split dev|heldout|fresh|fresh-train|fresh-check [--fresh] [--json] [--sets ...] [-v]

Scores preference inference on the independent evaluation sets (``memory/eval/sets``). Tune on ``dev``
only; report ``heldout``. ``fresh*`` scores the later-written probe sets in ``memory/eval/fresh``
(``--fresh`` = ``--split fresh-check``, the half never trained on: only its aggregate figures are printed,
``-v`` lists no misses for it, nor for ``heldout`` or ``fresh``). ``--rules`` scores the rule extractor alone
(the baseline). The legacy rule-eval files still run with ``python -m memory.eval FILE.jsonl`` (regression data).
"""

from __future__ import annotations

import argparse
import json
import sys

from memory.eval.evaluate import evaluate, load_conversations


def _print_report(report: dict) -> None:
    print(f"split: {report['split']}")
    for name, r in report["sets"].items():
        line = f"\n[{name}] rows {r['rows']}, stored {r['stored']}"
        if "recall" in r:
            line += (
                f", recall {r['recall']:.3f} ({r['hit']}/{r['expected']}), precision {r['precision']:.3f}, "
                f"kind agreement {r['kind_agreement']}"
            )
        if "stored_per_conversation" in r:
            line += f", stored per conversation {r['stored_per_conversation']:.3f}"
        if "cases" in r:
            line += f", cases passed {r['cases_passed']}/{r['cases']}"
        if "hostile_rows" in r:
            line += (
                f", hostile rows {r['hostile_rows']}: payload stored in {r['hostile_rows_with_payload_stored']}, "
                f"preferences stored {r['preferences_stored_from_hostile_rows']}"
            )
        print(line)
        for key in ("by_kind", "by_topic"):
            if r.get(key):
                cells = ", ".join(
                    f"{k} {v['recall']:.2f} ({v['hit']}/{v['total']})" for k, v in r[key].items()
                )
                print(f"  recall {key[3:]}: {cells}")
        if r.get("precision_by_stored_kind"):
            cells = ", ".join(f"{k} {v:.2f}" for k, v in r["precision_by_stored_kind"].items())
            print(f"  precision by stored kind: {cells}")
    lat = report["observe_latency"]
    print(
        f"\nobserve(): {lat['calls']} calls, wall p50 {lat['wall_ms']['p50']} ms, p99 {lat['wall_ms']['p99']} ms, "
        f"max {lat['wall_ms']['max']} ms; CPU p50 {lat['cpu_ms']['p50']} ms, p99 {lat['cpu_ms']['p99']} ms "
        f"(process); request path p50 {lat['request_cpu_ms']['p50']} ms, p99 {lat['request_cpu_ms']['p99']} ms"
    )


# Splits whose misses may be read row by row: the rest are scored in aggregate only (held out, or never trained on).
_LISTABLE = ("dev", "fresh-train")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", nargs="?", help="a legacy rule-eval JSONL file (conversations.jsonl format)")
    parser.add_argument(
        "--split",
        choices=("dev", "heldout", "fresh", "fresh-train", "fresh-check"),
        default="dev",
        help="dev/heldout: memory/eval/sets; fresh (both halves), fresh-train, fresh-check: memory/eval/fresh",
    )
    parser.add_argument("--fresh", action="store_true", help="shorthand for --split fresh-check")
    parser.add_argument("--sets", help="comma-separated set names (default: all)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--rules", action="store_true", help="score the rule extractor alone")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="list every miss and spurious preference"
    )
    args = parser.parse_args(argv)
    if args.path:
        conversations = load_conversations(args.path)
        legacy = evaluate(conversations)
        print(
            f"{len(conversations)} conversations, {legacy.overall.tp + legacy.overall.fn} gold preferences\n"
        )
        print(legacy.table())
        if args.verbose:
            for conv_id, error in legacy.errors:
                print(f"  {conv_id}: {error}")
        return
    if args.fresh:
        args.split = "fresh-check"
    from memory.eval.scoring import evaluate_sets
    from memory.extractors.rules import RuleExtractor

    report = evaluate_sets(
        args.split,
        names=args.sets.split(",") if args.sets else None,
        extractor=RuleExtractor() if args.rules else None,
        progress=None if args.json else lambda s: print(s, file=sys.stderr),
    )
    if args.verbose and args.split not in _LISTABLE:
        print(f"-v lists misses for {', '.join(_LISTABLE)} only; {args.split} is scored in aggregate", file=sys.stderr)
        args.verbose = False
    if args.json:
        if not args.verbose:
            report.pop("errors")
        json.dump(report, sys.stdout, indent=2)
        print()
        return
    _print_report(report)
    if args.verbose:
        for name, errors in report["errors"].items():
            for error in errors:
                print(f"  [{name}] {error}")


if __name__ == "__main__":
    main()
