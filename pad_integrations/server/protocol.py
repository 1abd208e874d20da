"""Request bodies of the OpenAI-compatible server, validated with pydantic, and their conversion to the
engine's message dicts.

Unknown OpenAI parameters are ignored (as OpenAI-compatible servers usually do), but parameters whose
meaning we cannot honour (``n > 1``, ``logprobs``) are rejected with a clear message instead of being
silently dropped. ``response_format`` (``json_object``, ``json_schema``) and a forced ``tool_choice``
(``required`` or a named function) decode under a grammar, as ChatPAD does (docs/integrations.md).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from pad_integrations.generation.constraints import (
    Constraint,
    JSONSchemaConstraint,
    ToolCallConstraint,
    ToolCallTriggerConstraint,
)

# As the OpenAI API: at most 4 stop strings; each is matched against the text at every step, so its length
# is bounded too (16 stops of 60 kB once cost 5 GiB and a second per token).
MAX_STOP_STRINGS = 4
MAX_STOP_CHARS = 256
# OpenAI's own limit on functions per request. Each tool becomes part of a grammar (llguidance) whose
# build grows with the tools: 5,000 tools took 13 s, so the count is refused before anything is built.
MAX_TOOLS = 128
MAX_USER_ID_CHARS = 256


class TextPart(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["text"]
    text: str


class FunctionCallIn(BaseModel):
    name: str
    arguments: str | dict[str, Any] = "{}"


class ToolCallIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    type: Literal["function"] = "function"
    function: FunctionCallIn


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCallIn] | None = None
    tool_call_id: str | None = None

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)

    def to_engine(self) -> dict[str, Any]:
        """The engine's message dict: ``developer`` is a system message, tool arguments become dicts."""
        message: dict[str, Any] = {
            "role": "system" if self.role == "developer" else self.role,
            "content": self.text(),
        }
        if self.tool_calls:
            message["tool_calls"] = [_engine_tool_call(call) for call in self.tool_calls]
        if self.tool_call_id is not None:
            message["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            message["name"] = self.name
        return message


def _engine_tool_call(call: ToolCallIn) -> dict[str, Any]:
    arguments = call.function.arguments
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"tool call {call.function.name!r} has arguments that are not valid JSON: {exc}"
            ) from None
        if not isinstance(arguments, dict):
            raise ValueError(f"tool call {call.function.name!r} arguments must be a JSON object")
    return {"id": call.id, "type": "function", "function": {"name": call.function.name, "arguments": arguments}}


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ResponseFormat(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str


StrategyParam = float | int | bool | str | None


class ChatCompletionRequest(BaseModel):
    """``POST /v1/chat/completions``. ``strategy`` and ``strategy_params`` are PAD's extensions (extra_body)."""

    model_config = ConfigDict(extra="ignore")

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    top_k: int | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    seed: int | None = None
    user: str | None = Field(default=None, max_length=MAX_USER_ID_CHARS)
    tools: list[dict[str, Any]] | None = Field(default=None, max_length=MAX_TOOLS)
    tool_choice: str | dict[str, Any] | None = None
    n: int = Field(default=1, ge=1)
    logprobs: bool | None = None
    response_format: ResponseFormat | None = None
    strategy: str | None = None
    strategy_params: dict[str, StrategyParam] | None = None

    @field_validator("stop")
    @classmethod
    def _check_stop(cls, value: str | list[str] | None) -> list[str] | None:
        if value is None:
            return None
        stops = [value] if isinstance(value, str) else value
        if len(stops) > MAX_STOP_STRINGS:
            raise ValueError(f"at most {MAX_STOP_STRINGS} stop strings are supported")
        if any(not s for s in stops):
            raise ValueError("stop strings must not be empty")
        if any(len(s) > MAX_STOP_CHARS for s in stops):
            raise ValueError(f"each stop string is at most {MAX_STOP_CHARS} characters")
        return stops or None

    @field_validator("user")
    @classmethod
    def _check_user(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("user must not be blank")
        return value

    @field_validator("n")
    @classmethod
    def _one_choice(cls, value: int) -> int:
        if value != 1:
            raise ValueError("only n=1 is supported")
        return value

    @field_validator("logprobs")
    @classmethod
    def _no_logprobs(cls, value: bool | None) -> bool | None:
        if value:
            raise ValueError("logprobs are not supported")
        return value

    @field_validator("response_format")
    @classmethod
    def _known_format(cls, value: ResponseFormat | None) -> ResponseFormat | None:
        if value is not None and value.type not in ("text", "json_object", "json_schema"):
            raise ValueError(f"response_format {value.type!r} is not supported; use text, json_object or json_schema")
        return value

    @field_validator("tool_choice")
    @classmethod
    def _known_choice(cls, value: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
        if isinstance(value, dict):
            function = value.get("function")
            if value.get("type") != "function" or not isinstance(function, dict) or not isinstance(
                function.get("name"), str
            ):
                raise ValueError('a named tool_choice is {"type": "function", "function": {"name": "<tool>"}}')
        elif value not in (None, "auto", "none", "required"):
            raise ValueError("tool_choice must be 'auto', 'none', 'required' or a named function")
        return value

    _instruction: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _choices(self) -> ChatCompletionRequest:
        """Cheap consistency checks of tools, tool_choice and response_format, and the instruction they
        add. The grammar itself is built by :meth:`build_constraint`, after admission and off the event
        loop: its cost grows with the schema and the tools."""
        tools = self.offered_tools
        forced = self.forced_tool
        if self.tool_choice == "required" and not tools:
            raise ValueError("tool_choice 'required' needs tools")
        if forced is not None:
            if not tools or forced not in _tool_names(tools):
                raise ValueError(f"tool_choice names {forced!r}, which is not one of the tools")
            self._instruction = f"Answer by calling the tool {forced!r} with the arguments it needs."
        elif self.tool_choice == "required":
            self._instruction = "Answer by calling one of the tools."
        elif self.response_format is not None and self.response_format.type == "json_object":
            self._instruction = "Answer with one JSON object only."
        elif self.response_format is not None and self.response_format.type == "json_schema":
            spec = getattr(self.response_format, "json_schema", None)
            if not isinstance(spec, dict) or not isinstance(spec.get("schema", {}), dict):
                raise ValueError('response_format json_schema needs {"json_schema": {"name": ..., "schema": {...}}}')
            self._instruction = (
                "Answer with one JSON value that follows this JSON schema:\n"
                + json.dumps(self.json_schema, ensure_ascii=False)
            )
        return self

    @property
    def json_schema(self) -> dict[str, Any] | None:
        """The schema of a ``json_schema`` response format (``{"type": "object"}`` when it gives none)."""
        if self.response_format is None or self.response_format.type != "json_schema":
            return None
        spec = getattr(self.response_format, "json_schema", None) or {}
        return spec.get("schema") or {"type": "object"}

    def build_constraint(self) -> Constraint | None:
        """The grammar the reply decodes under (ValueError for a schema it cannot hold). Costly: call it
        once, with an admission slot, off the event loop."""
        tools = self.offered_tools
        if tools and (self.forced_tool is not None or self.tool_choice == "required"):
            return ToolCallConstraint(tools)
        if self.response_format is not None and self.response_format.type == "json_object":
            return JSONSchemaConstraint(None)
        if (schema := self.json_schema) is not None:
            return JSONSchemaConstraint(schema)
        if tools:
            return ToolCallTriggerConstraint(tools)  # auto: a call the model opens always parses
        return None

    @property
    def forced_tool(self) -> str | None:
        """The tool a named ``tool_choice`` forces."""
        return self.tool_choice["function"]["name"] if isinstance(self.tool_choice, dict) else None

    @property
    def instruction(self) -> str | None:
        """What the system message adds so the model knows what the grammar will hold it to."""
        return self._instruction

    @property
    def token_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    @property
    def offered_tools(self) -> list[dict[str, Any]] | None:
        if self.tool_choice == "none" or not self.tools:
            return None
        forced = self.forced_tool
        return [t for t in self.tools if forced in _tool_names([t])] if forced is not None else self.tools

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)

    def engine_messages(self) -> list[dict[str, Any]]:
        return [message.to_engine() for message in self.messages]


class PreferenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=64)
    value: str = Field(min_length=1, max_length=2000)
    weight: float = Field(default=1.0, gt=0.0, le=10.0)
    text: str | None = Field(default=None, max_length=2000)


class PreferencesPut(BaseModel):
    """``PUT /v1/users/{user_id}/preferences``: upsert these; with ``replace`` also drop every preference not listed."""

    model_config = ConfigDict(extra="forbid")

    preferences: list[PreferenceIn] = Field(max_length=100)
    replace: bool = False


def _tool_names(tools: list[dict[str, Any]]) -> list[str]:
    return [str(t.get("function", t).get("name")) for t in tools if isinstance(t, dict)]
