"""HTTP plumbing of the server: OpenAI-style error bodies and the request-size limit (keys: :mod:`.auth`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from memory.errors import InvalidUserIdError, PreferenceLimitError
from pad_integrations.errors import InvalidRequestError, QueueClosedError

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class APIError(Exception):
    """An error with its HTTP status and OpenAI error fields."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}


def error_body(message: str, *, type: str, code: str | None = None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def error_response(error: APIError) -> JSONResponse:
    return JSONResponse(
        error_body(error.message, type=error.type, code=error.code, param=error.param),
        status_code=error.status,
        headers=error.headers,
    )


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None, str]:
    """(message, param, code) for the first validation error, phrased for a person."""
    errors = exc.errors()
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        detail = (first.get("ctx") or {}).get("error", "")
        return f"The request body is not valid JSON: {detail}".rstrip(": "), None, "invalid_json"
    location = [str(p) for p in first.get("loc", ()) if p != "body"]
    param = ".".join(location) or None
    message = str(first.get("msg", "invalid request")).removeprefix("Value error, ")
    if first.get("type") == "missing":
        message = "field required"
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return (f"Invalid parameter {param}: {message}{more}" if param else f"{message}{more}"), param, "invalid_request"


def install_error_handlers(app: FastAPI) -> None:
    """Every error the server returns has the OpenAI shape ``{"error": {message, type, param, code}}``."""

    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, param, code = _validation_message(exc)
        return error_response(APIError(400, message, param=param, code=code))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return error_response(
            APIError(exc.status_code, str(exc.detail), type=kind, headers=dict(exc.headers or {}))
        )

    # By type, never "every ValueError": a client's mistake is a 400 where it was detected (the engine's
    # planning, the memory's checks of ids and caps); anything else is our bug, a 500 with a log line.
    @app.exception_handler(InvalidRequestError)
    async def _invalid_request(request: Request, exc: InvalidRequestError) -> JSONResponse:
        return error_response(APIError(400, str(exc)))

    @app.exception_handler(InvalidUserIdError)
    async def _invalid_user(request: Request, exc: InvalidUserIdError) -> JSONResponse:
        return error_response(APIError(400, str(exc), param="user"))

    @app.exception_handler(PreferenceLimitError)
    async def _limit(request: Request, exc: PreferenceLimitError) -> JSONResponse:
        return error_response(APIError(409, str(exc), code="preference_limit"))

    @app.exception_handler(QueueClosedError)
    async def _closed(request: Request, exc: QueueClosedError) -> JSONResponse:
        return error_response(APIError(503, str(exc), type="server_error", code="shutting_down"))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(
            APIError(500, f"internal server error ({type(exc).__name__})", type="server_error")
        )


class BodySizeLimit:
    """ASGI middleware: bodies over ``max_bytes`` get 413, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _reject(self, send: Send) -> None:
        body = json.dumps(
            error_body(
                f"The request body is larger than the server's limit of {self.max_bytes} bytes.",
                type="invalid_request_error",
                code="request_too_large",
            )
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    announced = int(value)
                except ValueError:
                    announced = 0
                if announced > self.max_bytes:
                    await self._reject(send)
                    return
        # Bodies are small (the limit is in MiB), so read the whole body first: an oversized one is refused
        # before the application sees a byte of it, and the app gets the body replayed in one message.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await self._reject(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
