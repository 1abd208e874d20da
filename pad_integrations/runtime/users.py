"""Whose turn it is: a context variable naming the current user.

For frameworks that pass no per-call arguments to the LLM (LlamaIndex engines and agents):
``with user_context("alice"): engine.query(...)``. It follows threads and asyncio tasks started inside
the context.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

_current_user: contextvars.ContextVar[str | None] = contextvars.ContextVar("pad_user_id", default=None)


def check_user_id(user_id: object) -> str | None:
    """A user id is a non-empty string (or None for "no user")."""
    if user_id is None:
        return None
    if not isinstance(user_id, str):
        raise TypeError(f"user_id must be a str, not {type(user_id).__name__}")
    if not user_id.strip():
        raise ValueError("user_id must not be empty")
    return user_id


def current_user() -> str | None:
    """The user set by the innermost :func:`user_context`, or None."""
    return _current_user.get()


@contextlib.contextmanager
def user_context(user_id: str | None) -> Iterator[None]:
    """Run the enclosed calls on behalf of ``user_id`` (``with user_context("alice"): engine.query(...)``)."""
    token = _current_user.set(check_user_id(user_id))
    try:
        yield
    finally:
        _current_user.reset(token)
