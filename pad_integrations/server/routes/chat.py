"""``POST /v1/chat/completions``: plain and streamed (server-sent events) completions."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from pad_integrations.runtime.bridge import Delta, Done, Event, Failed
from pad_integrations.server.admission import ClientGone, Job
from pad_integrations.server.http import APIError, error_body
from pad_integrations.server.protocol import ChatCompletionRequest
from pad_integrations.server.responses import DONE, ChunkWriter, completion_body, completion_id, sse
from pad_integrations.server.service import ChatService, get_service, split_tool_calls
from pad_integrations.tools import ToolCallStreamParser

logger = logging.getLogger(__name__)

router = APIRouter()


@router.post("/v1/chat/completions")
async def chat_completions(
    body: ChatCompletionRequest, request: Request, service: ChatService = Depends(get_service)
) -> Any:
    job, info, messages = await service.start(body, request)
    if body.stream:
        events = job.events()
        try:
            first = await job.first_event_unless_gone(events, request.is_disconnected)
        except asyncio.CancelledError:
            job.abandon()
            raise
        except ClientGone:
            return Response(status_code=499)
        if isinstance(first, Failed):  # refused before its first token: an HTTP error like a plain request's
            raise first.error
        return StreamingResponse(
            _stream(service, body, job, info, messages, first, events),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    try:
        result = await job.result_unless_gone(request.is_disconnected)
    except asyncio.CancelledError:
        job.abandon()
        raise
    except ClientGone:
        return Response(status_code=499)  # nobody reads it (nginx's "client closed request")
    content, calls = split_tool_calls(result.text, body.offered_tools)
    extra = await service.finished(body, messages, result, info)  # the turn is stored before the answer goes
    return JSONResponse(
        completion_body(
            id=completion_id(),
            model=service.model_id,
            created=int(time.time()),
            content=content,
            tool_calls=calls,
            finish_reason="tool_calls" if calls else result.finish_reason,
            usage=result.usage,
            extra=extra,
        )
    )


async def _stream(
    service: ChatService,
    body: ChatCompletionRequest,
    job: Job,
    info: dict,
    messages: list[dict],
    first: Event,
    rest: AsyncIterator[Event],
) -> AsyncIterator[str]:
    """SSE events of one streamed completion (``first``, already received, then ``rest``). Tool-call markup
    is held back and sent as tool_calls deltas."""
    writer = ChunkWriter(id=completion_id(), model=service.model_id)
    tools = body.offered_tools
    parser = ToolCallStreamParser(tools) if tools else None
    calls = 0
    finished = False

    def chunks(events: list) -> list[str]:
        nonlocal calls
        out = []
        for event in events:
            if event.tool_call is not None:
                out.append(writer.tool_call(event.tool_call, event.index))
                calls += 1
            elif event.text:
                out.append(writer.text(event.text))
        return out

    try:
        yield writer.role()
        async for event in _chained(first, rest):
            if isinstance(event, Delta):
                for chunk in chunks(parser.feed(event.text)) if parser else [writer.text(event.text)]:
                    yield chunk
            elif isinstance(event, Failed):
                logger.error("streamed generation failed: %r", event.error)
                yield sse(error_body(f"generation failed: {event.error}", type="server_error"))
                finished = True
                break
            elif isinstance(event, Done):
                for chunk in chunks(parser.finish()) if parser else []:
                    yield chunk
                result = event.result
                try:  # the turn is stored before the last chunk goes
                    extra = await service.finished(body, messages, result, info)
                except APIError as exc:
                    yield sse(error_body(exc.message, type=exc.type, code=exc.code))
                    finished = True
                    break
                yield writer.finish("tool_calls" if calls else result.finish_reason, extra)
                if body.include_usage:
                    yield writer.usage(result.usage)
                finished = True
                break
        yield DONE
    finally:
        if not finished:
            job.abandon()


async def _chained(first: Event, rest: AsyncIterator[Event]) -> AsyncIterator[Event]:
    yield first
    async for event in rest:
        yield event
