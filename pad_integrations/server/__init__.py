"""OpenAI-compatible chatbot backend with persistent, per-user preferences (the ``server`` extra).

    pad keys create --db sqlite:///prefs.db --user alice      # prints the key on its last line
    pad serve --host 127.0.0.1 --port 8000 --db sqlite:///prefs.db [--model DIR]

Endpoints: ``POST /v1/chat/completions`` (plain and streamed), ``GET /v1/models``,
``GET``/``PUT``/``DELETE /v1/users/{user_id}/preferences`` and ``GET /healthz``. Every request carries
``Authorization: Bearer KEY``; the key's principal decides whose preferences guide the answer (a user key
acts as its user only, a tenant key for the users of its namespace; :mod:`.auth`), and the turn is then
observed by the memory.

One process holds one generator; requests are admitted up to a bound (:mod:`.admission`) onto the
process-wide decode queue, whose worker keeps one decode running that requests join and leave between
steps (continuous batching; ``pad serve --scheduler batch`` for batch-at-a-time).

- :mod:`.app`: ``create_app`` and ``serve``;  :mod:`.routes`: one router per endpoint group;
- :mod:`.service`: the completion logic;  :mod:`.protocol`: request schemas;
- :mod:`.responses`: response bodies and SSE;  :mod:`.http`: errors, body-size limit, API key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pad_integrations.server.app import create_app, serve
    from pad_integrations.server.service import ChatService, ServerConfig, default_model_id

__all__ = ["ChatService", "ServerConfig", "create_app", "default_model_id", "serve"]


def __getattr__(name: str) -> Any:
    # Lazy (PEP 562): ``pad keys`` imports .auth, which must not pay for torch and transformers, which
    # the app and the service import through the generation engine.
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from pad_integrations._extras import require

    try:
        import fastapi  # noqa: F401
    except ImportError:
        require("fastapi", "server", "pad serve")  # raises MissingExtraError naming the extra
        raise
    from pad_integrations.server import app, service

    return {"create_app": app.create_app, "serve": app.serve, "ChatService": service.ChatService,
            "ServerConfig": service.ServerConfig, "default_model_id": service.default_model_id}[name]
