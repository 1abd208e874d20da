"""OpenAI response bodies: chat completions, streamed chunks and server-sent events."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from pad_integrations.tools import ToolCall, arguments_json


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def usage_body(usage: Any) -> dict[str, int]:
    return {
        "prompt_tokens": int(usage.input_tokens),
        "completion_tokens": int(usage.output_tokens),
        "total_tokens": int(usage.total_tokens),
    }


def tool_call_body(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": arguments_json(call.arguments)}}


def completion_body(
    *,
    id: str,
    model: str,
    created: int,
    content: str,
    tool_calls: list[ToolCall],
    finish_reason: str,
    usage: Any,
    extra: dict[str, Any],
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content if content or not tool_calls else None}
    if tool_calls:
        message["tool_calls"] = [tool_call_body(call) for call in tool_calls]
    return {
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        "usage": usage_body(usage),
        "pad": extra,
    }


class ChunkWriter:
    """Builds the ``chat.completion.chunk`` events of one streamed completion, as SSE lines."""

    def __init__(self, *, id: str, model: str) -> None:
        self.id = id
        self.model = model
        self.created = int(time.time())

    def _event(self, choices: list[dict[str, Any]], **extra: Any) -> str:
        body = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
            **extra,
        }
        return sse(body)

    def delta(self, delta: dict[str, Any], finish_reason: str | None = None) -> str:
        return self._event([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}])

    def role(self) -> str:
        return self.delta({"role": "assistant", "content": ""})

    def text(self, text: str) -> str:
        return self.delta({"content": text})

    def tool_call(self, call: ToolCall, index: int) -> str:
        return self.delta({"tool_calls": [{"index": index, **tool_call_body(call)}]})

    def finish(self, finish_reason: str, extra: dict[str, Any]) -> str:
        return self._event(
            [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": finish_reason}], pad=extra
        )

    def usage(self, usage: Any) -> str:
        return self._event([], usage=usage_body(usage))


def sse(data: dict[str, Any] | str) -> str:
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {payload}\n\n"


DONE = sse("[DONE]")
