"""OpenAI-compatible chatbot backend with persistent, per-user preferences (the ``server`` extra).

    pad serve --host 127.0.0.1 --port 8000 --db sqlite:///prefs.db [--model DIR] [--api-key KEY]

Endpoints: ``POST /v1/chat/completions`` (plain and streamed), ``GET /v1/models``,
``GET``/``PUT``/``DELETE /v1/users/{user_id}/preferences`` and ``GET /healthz``. The OpenAI ``user``
field picks whose preferences guide the answer; the turn is then observed by the memory.

One process holds one generator; requests are admitted up to a bound (:mod:`.admission`) onto the
process-wide decode queue, whose worker keeps one decode running that requests join and leave between
steps (continuous batching; ``pad serve --scheduler batch`` for batch-at-a-time).

- :mod:`.app`: ``create_app`` and ``serve``;  :mod:`.routes`: one router per endpoint group;
- :mod:`.service`: the completion logic;  :mod:`.protocol`: request schemas;
- :mod:`.responses`: response bodies and SSE;  :mod:`.http`: errors, body-size limit, API key.
"""

from __future__ import annotations

from pad_integrations._extras import require

try:
    import fastapi  # noqa: F401
except ImportError:
    require("fastapi", "server", "pad serve")  # raises MissingExtraError naming the extra
    raise

from pad_integrations.server.app import create_app, serve
from pad_integrations.server.service import ChatService, ServerConfig, default_model_id

__all__ = ["ChatService", "ServerConfig", "create_app", "default_model_id", "serve"]
