"""The ``pad`` command: :mod:`.main` (entry point and dispatch), one module per command group
(:mod:`.chat`, :mod:`.memory`, :mod:`.serve`, :mod:`.research`), shared options in :mod:`.common`.

``python -m pad_integrations.cli ...`` runs it too.
"""

from __future__ import annotations

from pad_integrations.cli.main import COMMANDS, build_parser, main

__all__ = ["COMMANDS", "build_parser", "main"]
