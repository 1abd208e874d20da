"""``pad bench``, ``pad eval`` and ``pad train-persrm``: thin entries into the evaluation and training code.

Their options and logic live with that code (``add_*_arguments`` / ``run_*`` functions); this module only
imports it when the subcommand is chosen, so ``pad --help`` works even where that code or its extra
(``train``) is missing, and says so when the subcommand is run.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable

from pad_integrations.cli.common import CLIError

Command = tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]


def delegated(help_text: str, module: str, add_name: str, run_name: str) -> Command:
    """A subcommand whose ``add_arguments`` and ``run`` are ``module.add_name`` and ``module.run_name``."""

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        try:
            add = getattr(importlib.import_module(module), add_name)
        except (ImportError, AttributeError) as exc:
            # Keep `pad <cmd> --help` usable; running it reports why it is unavailable.
            parser.set_defaults(_unavailable=f"{module}.{add_name}: {exc}")
            parser.epilog = f"Unavailable here: {exc}"
            return
        add(parser)

    def run(args: argparse.Namespace) -> int:
        reason = getattr(args, "_unavailable", None)
        if reason:
            raise CLIError(f"this command is not available in this installation ({reason})")
        return int(getattr(importlib.import_module(module), run_name)(args) or 0)

    return help_text, add_arguments, run


COMMANDS: dict[str, Command] = {
    "bench": delegated(
        "benchmark the decoding strategies against model.generate, side by side (tokens/s, ratios)",
        "pad_integrations.evaluation.bench", "add_bench_arguments", "run_bench",
    ),
    "eval": delegated(
        "measure preference adherence and fluency of the decoding strategies on held-out prompts",
        "pad_integrations.evaluation.cli", "add_eval_arguments", "run_eval",
    ),
    "train-persrm": delegated(
        "train a personalized reward model (PersRM) for your own model from preference pairs (train extra)",
        "pad_integrations.training.cli", "add_train_arguments", "run_train",
    ),
}
