"""The ``pad`` command. Each subcommand registers itself in ``COMMANDS``; ``pad --help`` lists them.

Exit codes: 0 success, 1 a runtime failure (model or database unavailable, ...), 2 a usage error (bad
arguments or input), 130 interrupted. Expected failures print ``pad: error: ...`` on stderr without a
traceback; set ``PAD_DEBUG=1`` to see one for unexpected errors.

Only the chosen subcommand's arguments are built, so ``pad --help`` and ``pad memory ...`` import
neither torch nor the training and evaluation code; ``pad --help`` imports no SQLAlchemy either
(tests/test_imports.py checks both).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from pad_integrations import __version__
from pad_integrations._extras import MissingExtraError
from pad_integrations.cli import chat, keys, research, serve
from pad_integrations.cli import memory as memory_cmd
from pad_integrations.cli.common import CLIError
from pad_integrations.errors import ConfigurationError, InvalidRequestError, PADError

# name -> (help, add_arguments(parser), run(args) -> exit code)
Command = tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
COMMANDS: dict[str, Command] = {
    "chat": (chat.HELP, chat.add_arguments, chat.run),
    "memory": (memory_cmd.HELP, memory_cmd.add_arguments, memory_cmd.run),
    "serve": (serve.HELP, serve.add_arguments, serve.run),
    "keys": (keys.HELP, keys.add_arguments, keys.run),
    **research.COMMANDS,
}


def _chosen_command(argv: Sequence[str]) -> str | None:
    for token in argv:
        if not token.startswith("-"):
            return token if token in COMMANDS else None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv``, only the subcommand named there gets its arguments built."""
    chosen = _chosen_command(argv) if argv is not None else None
    parser = argparse.ArgumentParser(prog="pad", description="Personalized decoding for local LLMs.")
    parser.add_argument("--version", action="version", version=f"pad-integrations {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, add_arguments, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if argv is None or name == chosen:
            add_arguments(p)
        p.set_defaults(_run=run)
    return parser


def _fail(message: str, code: int) -> int:
    print(f"pad: error: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (argparse printed it)
        return exc.code if isinstance(exc.code, int) else 2
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`pad ... | head`); stay quiet like other shell tools.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (keeps the interpreter from complaining at exit)
        return 141
    except Exception as exc:
        return _failure(exc)


def _memory_errors() -> tuple[type[Exception], ...]:
    """The memory's base error, if the memory was imported at all: importing ``memory`` here would pull in
    SQLAlchemy for every ``pad --help``, and an exception of that class cannot exist before it is."""
    module = sys.modules.get("memory.errors")
    return (module.PreferenceMemoryError,) if module is not None else ()


def _failure(exc: Exception) -> int:
    """Print an expected failure as ``pad: error: ...`` and return its exit code (checked in this order)."""
    if isinstance(exc, CLIError):
        return _fail(str(exc), exc.code)
    if isinstance(exc, ConfigurationError):  # a component (a reward model) this run was not given
        return _fail(str(exc), 1)
    if isinstance(exc, InvalidRequestError):  # bad input the engine refused
        return _fail(str(exc), 2)
    if isinstance(exc, (MissingExtraError, PADError, OSError, *_memory_errors())):
        return _fail(str(exc), 1)
    if isinstance(exc, ValueError):
        return _fail(str(exc), 2)
    if os.environ.get("PAD_DEBUG"):
        traceback.print_exception(exc)
        return 1
    return _fail(f"{exc} ({type(exc).__name__}; set PAD_DEBUG=1 for the traceback)", 1)


if __name__ == "__main__":
    sys.exit(main())
