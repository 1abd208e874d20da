"""``pad memory show|set|forget|export|history``: read and edit one user's stored preferences."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from pad_integrations.cli.common import (
    CLIError,
    add_db_argument,
    add_json_argument,
    add_user_argument,
    open_memory,
    print_json,
)
from pad_integrations.runtime.profiles import STRENGTH_LEGEND, describe_strength, profile_json

if TYPE_CHECKING:
    from memory import PreferenceMemory

HELP = "show, set, forget, export or list the history of a user's stored preferences"


def _common(parser: argparse.ArgumentParser, *, json_flag: bool = True) -> None:
    add_user_argument(parser)
    add_db_argument(parser)
    if json_flag:
        add_json_argument(parser)


def _weight(text: str) -> float:
    value = float(text)
    if not 0 < value <= 10:
        raise argparse.ArgumentTypeError("must be in (0, 10]")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="the user's active preferences and the prompt text they compile to")
    _common(show)
    set_ = sub.add_parser("set", help="state a preference explicitly (replaces the current one of that kind)")
    _common(set_)
    set_.add_argument("kind", help="e.g. verbosity, formality, expertise, tone, humor, format, language, diet")
    set_.add_argument("value", help="e.g. concise, casual, beginner, vegetarian")
    set_.add_argument("--weight", type=_weight, default=1.0, help="strength, (0, 10] (default 1)")
    set_.add_argument("--text", help="the sentence the model sees (default: the canonical one for the kind)")
    forget = sub.add_parser("forget", help="delete one kind of preference, or everything stored about the user")
    _common(forget)
    forget.add_argument("--kind", help="only this kind of preference")
    forget.add_argument("--yes", "-y", action="store_true", help="do not ask before deleting everything")
    export = sub.add_parser("export", help="everything stored about the user, as JSON")
    _common(export, json_flag=False)
    export.add_argument("--output", "-o", type=Path, help="write to this file instead of stdout")
    export.add_argument("--jsonl", action="store_true",
                        help="stream JSON Lines (a header, then one record per row) in constant memory, "
                        "whatever the history's length")
    history = sub.add_parser("history", help="every change to the user's preferences, oldest first")
    _common(history)


def _show(memory: PreferenceMemory, args: argparse.Namespace) -> None:
    profile = memory.profile(args.user)
    if args.json:
        print_json(profile_json(args.user, profile))
        return
    if not profile.preferences:
        print(f"No stored preferences for {args.user!r}.")
        return
    print(f"Preferences of {args.user!r}:")
    for pref in profile.preferences:
        source = f", {pref.source}" if getattr(pref, "source", None) else ""
        print(f"  {pref.kind}: {pref.value}  ({describe_strength(pref)}{source})")
    print(f"({STRENGTH_LEGEND})")
    print("\nPrompt text:")
    print(profile.text)


def _set(memory: PreferenceMemory, args: argparse.Namespace) -> None:
    memory.set_preference(args.user, args.kind, args.value, text=args.text, weight=args.weight)
    profile = memory.profile(args.user)
    if args.json:
        print_json(profile_json(args.user, profile))
    else:
        print(f"Set {args.kind}={args.value} for {args.user!r}.")


def _confirm(question: str) -> bool:
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _forget(memory: PreferenceMemory, args: argparse.Namespace) -> None:
    if args.kind:
        removed = len(memory.remove_preference(args.user, args.kind))
        message = f"Removed {removed} {args.kind} preference(s) of {args.user!r}."
    else:
        if not args.yes:
            if not sys.stdin.isatty():
                raise CLIError("refusing to delete everything about a user without --yes", code=2)
            if not _confirm(f"Delete every preference and message stored for {args.user!r}?"):
                raise CLIError("nothing deleted", code=1)
        removed = memory.forget(args.user)
        message = f"Forgot everything stored for {args.user!r} ({removed} rows)."
    if args.json:
        print_json({"user": args.user, "kind": args.kind, "removed": removed})
    else:
        print(message)


def _export_lines(memory: PreferenceMemory, args: argparse.Namespace) -> None:
    out = sys.stdout if args.output is None else None
    try:
        with (open(args.output, "w", encoding="utf-8") if out is None else nullcontext(out)) as stream:
            for record in memory.iter_export(args.user):
                stream.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    except OSError as exc:
        raise CLIError(f"could not write {args.output}: {exc}") from None
    if args.output is not None:
        print(f"Exported {args.user!r} to {args.output}.", file=sys.stderr)


def _export(memory: PreferenceMemory, args: argparse.Namespace) -> None:
    if args.jsonl:
        _export_lines(memory, args)
        return
    data = memory.export(args.user)
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if args.output is None:
        print(text)
        return
    try:
        args.output.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise CLIError(f"could not write {args.output}: {exc}") from None
    print(f"Exported {args.user!r} to {args.output}.", file=sys.stderr)


def _history(memory: PreferenceMemory, args: argparse.Namespace) -> None:
    history = memory.history(args.user)
    if args.json:
        print_json({"user": args.user, "events": [e.to_dict() for e in history.events]})
        return
    if not history.events:
        print(f"No preference history for {args.user!r}.")
    for event in history.events:
        change = f"{event.previous_value} -> {event.value}" if event.previous_value else event.value
        print(f"  {event.created_at:%Y-%m-%d %H:%M:%S}  {event.action:<9} {event.kind}: {change}"
              f"  ({event.source})")


ACTIONS = {"show": _show, "set": _set, "forget": _forget, "export": _export, "history": _history}


def run(args: argparse.Namespace) -> int:
    memory = open_memory(args)
    ACTIONS[args.action](memory, args)
    return 0
