"""The ASGI app around a loaded engine and a preference memory, and ``serve`` (``pad serve``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from fastapi import FastAPI

from pad_integrations._extras import require
from pad_integrations.server.auth import AuthGate, FailureLimiter, KeyStore
from pad_integrations.server.http import BodySizeLimit, install_error_handlers
from pad_integrations.server.routes import chat, health, keys, metrics, preferences
from pad_integrations.server.service import ChatService, ServerConfig

if TYPE_CHECKING:
    from memory import PreferenceMemory
    from pad_integrations.generation import GuidedGenerator

logger = logging.getLogger(__name__)

NO_AUTH_WARNING = (
    "AUTHENTICATION IS OFF (--no-auth): anyone who can reach this server can act as any user: read, "
    "change and delete every user's preferences and messages, and chat as them. For local development only."
)


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    # Every finished turn reaches the memory before the process ends.
    await asyncio.to_thread(app.state.service.flush)


def create_app(
    generator: GuidedGenerator, memory: PreferenceMemory, config: ServerConfig | None = None
) -> FastAPI:
    """The ASGI app around a loaded ``GuidedGenerator`` and a ``PreferenceMemory``.

    With ``config.auth`` (the default) every request needs a key from the memory database's key table
    (``pad keys create``); without it every request acts as anyone, which is logged loudly.
    """
    config = config or ServerConfig()
    app = FastAPI(title="pad-integrations", version="1", lifespan=_lifespan)
    app.state.service = ChatService(generator, memory, config)
    app.state.keys = KeyStore(memory.engine) if config.auth else None
    if not config.auth:
        logger.warning(NO_AUTH_WARNING)
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=config.max_body_bytes)
    # Added last, so it runs first: nothing, not even the body limit, reads a request without a key.
    app.add_middleware(AuthGate, keys=app.state.keys,
                       limiter=FailureLimiter(config.auth_max_failures, config.auth_window_s))
    for module in (health, chat, preferences, keys, metrics):
        app.include_router(module.router)
    return app


def serve(
    *,
    model: str,
    reward_model: str | None = None,
    device: str | None = None,
    dtype: str | None = None,
    db: str | None = None,
    memory: PreferenceMemory | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    config: ServerConfig | None = None,
    log_level: str = "info",
) -> None:
    """Load the model and open the memory (``memory``, else one on ``db``), then serve until interrupted."""
    uvicorn = require("uvicorn", "server", "pad serve")
    from memory import PreferenceMemory
    from pad_integrations.runtime.engines import get_generator

    generator = get_generator(model, reward_model=reward_model, device=device, dtype=dtype)
    memory = memory if memory is not None else PreferenceMemory(url=db)
    config = config or ServerConfig()
    app = create_app(generator, memory, config)
    # uvicorn's 5 s keep-alive races clients that reuse a connection just as it closes (seen as rare
    # connection resets under load in the reliability suite); 60 s matches common client pools.
    uvicorn.run(
        app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=30, timeout_keep_alive=60
    )

