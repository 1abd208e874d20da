"""Clear errors for optional features whose extra is not installed."""

from __future__ import annotations

import importlib
from types import ModuleType


class MissingExtraError(ImportError):
    """Raised when a feature needs an optional dependency group that is not installed."""


def require(module: str, extra: str, feature: str | None = None) -> ModuleType:
    """Import ``module`` or raise an error that names the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        what = feature or module
        raise MissingExtraError(
            f"{what} needs the optional dependency {module!r}, which is not installed. "
            f"Install it with: pip install 'pad-integrations[{extra}]'"
        ) from exc
