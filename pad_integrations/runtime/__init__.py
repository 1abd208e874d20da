"""What every front end (LangChain, LlamaIndex, the server, the CLI) shares.

- :mod:`~pad_integrations.runtime.engines`: one loaded engine per model, process-wide.
- :mod:`~pad_integrations.runtime.decode_queue`: one decode queue per engine; callers share batched decodes.
- :mod:`~pad_integrations.runtime.bridge`: deltas and results from the decode thread to a thread or a task.
- :mod:`~pad_integrations.runtime.requests`: the one place settings + a user's profile become a request.
- :mod:`~pad_integrations.runtime.users`: the current user (``with user_context("alice"): ...``).
- :mod:`~pad_integrations.runtime.recording`: ``memory=`` resolution and recording finished turns.
- :mod:`~pad_integrations.runtime.profiles`: reading a user's profile and showing it.

Importing this package is light: torch loads when an engine is first made.
"""

from __future__ import annotations

from pad_integrations.runtime.bridge import ResultStream
from pad_integrations.runtime.decode_queue import DecodeQueue, batch_group, get_decode_queue
from pad_integrations.runtime.engines import get_generator
from pad_integrations.runtime.recording import TurnRecorder, recorder_for, resolve_memory
from pad_integrations.runtime.users import current_user, user_context

__all__ = [
    "DecodeQueue",
    "ResultStream",
    "TurnRecorder",
    "batch_group",
    "current_user",
    "get_decode_queue",
    "get_generator",
    "recorder_for",
    "resolve_memory",
    "user_context",
]
