"""Quiet model loads: no transformers progress bar ("Loading weights ...") inside :func:`quiet_progress`.

Shared by the memory's sentence encoder and ``pad_integrations`` (which re-exports it from
``pad_integrations.loading``): there must be exactly one hook, since two that chain each other would
call each other forever. Nothing global is switched off: a pass-through tqdm hook is installed on first
use and acts only inside the context (this thread or task), so the user's own setting
(``transformers.utils.logging.enable_progress_bar``), a hook they installed, and other threads' loads
are untouched. transformers is imported only when a block is entered.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Callable, Iterator
from typing import Any

_quiet: contextvars.ContextVar[bool] = contextvars.ContextVar("pad_quiet_progress", default=False)
_hook_lock = threading.Lock()
_chained_hook: Callable[..., Any] | None = None  # a hook someone else installed before ours
_fallback_depth = 0  # transformers without set_tqdm_hook: nested quiet sections (global switch)
_fallback_was_enabled = False


def _quiet_hook(factory: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if _quiet.get():
        return factory(*args, **{**kwargs, "disable": True})
    if _chained_hook is not None:
        return _chained_hook(factory, args, kwargs)
    return factory(*args, **kwargs)


@contextlib.contextmanager
def quiet_progress() -> Iterator[None]:
    """No transformers progress bars inside this block (this thread/task only); the rest is unchanged."""
    global _chained_hook, _fallback_depth, _fallback_was_enabled
    from transformers.utils import logging as hf_logging

    set_hook = getattr(hf_logging, "set_tqdm_hook", None)
    if set_hook is None:  # an older transformers: switch bars off globally while any quiet block runs
        with _hook_lock:
            if _fallback_depth == 0:
                _fallback_was_enabled = hf_logging.is_progress_bar_enabled()
                hf_logging.disable_progress_bar()
            _fallback_depth += 1
        try:
            yield
        finally:
            with _hook_lock:
                _fallback_depth -= 1
                if _fallback_depth == 0 and _fallback_was_enabled:
                    hf_logging.enable_progress_bar()
        return
    with _hook_lock:
        previous = set_hook(_quiet_hook)
        if previous is not _quiet_hook:  # first use, or someone replaced ours since: keep theirs working
            _chained_hook = previous
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)
