"""Tool calls in model output: parsing (whole text and streamed) and rendering, framework-agnostic.

The chat template renders the tool *definitions*; this module reads the model's tool-call markup back
and converts calls to the engine's message dicts. Two formats are understood:

- Hermes / Qwen2.5: ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``, any number of
  blocks, possibly after some text.
- Llama 3.1 JSON: the whole reply is ``{"name": ..., "parameters": {...}}`` (optionally after
  ``<|python_tag|>``; several calls separated by ``;`` or newlines).

A bare JSON reply is only taken as a call when its name is one of the offered tools (when the caller
says which), so a JSON answer to a JSON-mode prompt is never mistaken for a call.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pad_integrations.generation.types import ToolCallDict

HERMES_OPEN = "<tool_call>"
HERMES_CLOSE = "</tool_call>"
PYTHON_TAG = "<|python_tag|>"
_ARGUMENT_KEYS = ("arguments", "parameters", "args")


@dataclass(frozen=True)
class ToolCall:
    """One parsed call: ``arguments`` is always a dict."""

    name: str
    arguments: dict[str, Any]
    id: str | None = field(default_factory=lambda: new_tool_call_id())  # None: a caller's call without one

    def to_message_dict(self) -> ToolCallDict:
        """The engine's (OpenAI-style) form, as found in an assistant message's ``tool_calls``."""
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


def new_tool_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


def tool_names(tools: Iterable[Mapping[str, Any]] | None) -> frozenset[str] | None:
    """Names of OpenAI-style tool dicts, or None when no tools are given."""
    if tools is None:
        return None
    names = set()
    for tool in tools:
        fn = tool.get("function", tool)
        if isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
            names.add(fn["name"])
    return frozenset(names)


def _call_from_obj(obj: Any, allowed: frozenset[str] | None) -> ToolCall | None:
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
        return None
    name = obj["name"]
    if allowed is not None and name not in allowed:
        return None
    arguments: Any = {}
    for key in _ARGUMENT_KEYS:
        if key in obj:
            arguments = obj[key]
            break
    if isinstance(arguments, str):
        # Some models emit the arguments as a JSON-encoded string (the OpenAI wire form).
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError:
            return None
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        return None
    return ToolCall(name=name, arguments=arguments)


def _json_objects(text: str) -> list[Any] | None:
    """All JSON values in ``text`` separated only by whitespace, ``;`` or ``,``; None if anything else."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n;,":
            pos += 1
        if pos >= len(text):
            return values
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            return None
        values.append(value)


def _parse_bare_json(text: str, allowed: frozenset[str] | None) -> list[ToolCall] | None:
    body = text.strip()
    if body.startswith(PYTHON_TAG):
        body = body[len(PYTHON_TAG):]
    if not body.lstrip().startswith(("{", "[")):
        return None
    values = _json_objects(body)
    if not values:
        return None
    flat: list[Any] = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    calls = [_call_from_obj(v, allowed) for v in flat]
    if any(c is None for c in calls):
        return None
    # A dict with only a "name" (no arguments key) is too weak a signal on its own.
    if not any(k in v for v in flat for k in _ARGUMENT_KEYS):
        return None
    return [c for c in calls if c is not None]


_SEPARATORS = " \t\r\n;,"


def _scan_block(text: str, start: int, final: bool) -> tuple[int, list[ToolCall] | None] | None:
    """Read the Hermes block opening at ``text[start]``: ``(end, calls)`` for a whole block, ``(end, None)``
    for a malformed one, None when more (streamed) text is needed.

    The JSON after the opening tag is decoded first and only then the closing tag expected, so an
    argument that contains the text ``</tool_call>`` cannot end the block early. At the end of the text
    (``final``) a block whose calls are whole but whose closing tag is missing still counts.
    """
    decoder = json.JSONDecoder()
    pos = start + len(HERMES_OPEN)
    values: list[Any] = []
    while True:
        while pos < len(text) and text[pos] in _SEPARATORS:
            pos += 1
        if text.startswith(HERMES_CLOSE, pos) or (final and pos >= len(text)):
            end = min(len(text), pos + len(HERMES_CLOSE))
            calls = [_call_from_obj(v, None) for v in values]
            if not calls or any(c is None for c in calls):
                return end, None
            return end, [c for c in calls if c is not None]
        if not final and HERMES_CLOSE.startswith(text[pos:]):
            return None  # the closing tag may be arriving
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            if not final:
                return None  # most likely JSON still arriving; finish() decides otherwise
            close = text.find(HERMES_CLOSE, pos)
            return (len(text) if close < 0 else close + len(HERMES_CLOSE)), None
        values.append(value)


def parse_tool_calls(
    text: str, tools: Iterable[Mapping[str, Any]] | None = None
) -> tuple[str, list[ToolCall]]:
    """Split ``text`` into (content without tool-call markup, tool calls).

    ``tools`` (OpenAI-style dicts) restricts which names count as calls; Hermes blocks naming an
    unknown tool are kept as calls anyway (the markup is explicit), bare JSON is not.
    Malformed markup is left in the content untouched, so nothing the model wrote is lost.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    allowed = tool_names(tools)
    calls: list[ToolCall] = []
    kept: list[str] = []
    last = pos = 0
    while (start := text.find(HERMES_OPEN, pos)) >= 0:
        scanned = _scan_block(text, start, final=True)
        assert scanned is not None  # final scans always decide
        end, block = scanned
        pos = max(end, start + len(HERMES_OPEN))
        if block is None:
            continue
        kept.append(text[last:start])
        calls.extend(block)
        last = end
    if calls:
        kept.append(text[last:])
        return "".join(kept).strip(), calls
    bare = _parse_bare_json(text, allowed)
    if bare:
        return "", bare
    return text, []


def _longest_partial_suffix(text: str, marker: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``marker``."""
    for n in range(min(len(marker) - 1, len(text)), 0, -1):
        if marker.startswith(text[-n:]):
            return n
    return 0


@dataclass
class StreamEvent:
    """What the stream parser releases: plain text, or a complete tool call (with its position)."""

    text: str = ""
    tool_call: ToolCall | None = None
    index: int = 0


class ToolCallStreamParser:
    """Turn streamed text deltas into text events and tool-call events, holding back markup.

    Text that might be the start of ``<tool_call>`` is held until it is decided; a Hermes block is
    released as one tool call when it closes. When tools are offered and the reply opens with
    ``{``/``[``/``<|python_tag|>`` (the Llama 3.1 form), the reply is held until ``finish()`` and then
    parsed as a whole; if it is not a call, it is released as text.
    """

    def __init__(self, tools: Iterable[Mapping[str, Any]] | None = None) -> None:
        self._tools = list(tools) if tools is not None else None
        self._buffer = ""
        self._in_block = False
        self._bare_json: bool | None = None if self._tools else False
        self._count = 0

    def _call_events(self, calls: list[ToolCall]) -> list[StreamEvent]:
        events = []
        for call in calls:
            events.append(StreamEvent(tool_call=call, index=self._count))
            self._count += 1
        return events

    def feed(self, delta: str) -> list[StreamEvent]:
        self._buffer += delta
        if self._bare_json is None:
            head = self._buffer.lstrip()
            if not head:
                return []
            if head.startswith(("{", "[")) or head.startswith(PYTHON_TAG):
                self._bare_json = True
            elif PYTHON_TAG.startswith(head):
                return []
            else:
                self._bare_json = False
        if self._bare_json:
            return []
        return self._drain()

    def _drain(self) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        while self._buffer:
            if self._in_block:
                scanned = _scan_block(self._buffer, 0, final=False)
                if scanned is None:
                    break  # the block is not whole yet
                end, calls = scanned
                block, self._buffer = self._buffer[:end], self._buffer[end:]
                self._in_block = False
                if calls:
                    events.extend(self._call_events(calls))
                else:
                    events.append(StreamEvent(text=block))
                continue
            start = self._buffer.find(HERMES_OPEN)
            if start >= 0:
                if start:
                    events.append(StreamEvent(text=self._buffer[:start]))
                self._buffer = self._buffer[start:]
                self._in_block = True
                continue
            hold = _longest_partial_suffix(self._buffer, HERMES_OPEN)
            ready = self._buffer[: len(self._buffer) - hold]
            if ready:
                events.append(StreamEvent(text=ready))
            self._buffer = self._buffer[len(ready):]
            break
        return events

    def finish(self) -> list[StreamEvent]:
        """Release everything still held: an unclosed block or a non-call JSON reply comes out as text."""
        rest, self._buffer = self._buffer, ""
        self._in_block = False
        if not rest:
            return []
        content, calls = parse_tool_calls(rest, self._tools)
        events = [StreamEvent(text=content)] if content else []
        return events + self._call_events(calls)


def iter_stream_events(
    deltas: Iterable[str], tools: Iterable[Mapping[str, Any]] | None = None
) -> Iterator[StreamEvent]:
    """Convenience: run a whole delta iterator through a :class:`ToolCallStreamParser`."""
    parser = ToolCallStreamParser(tools)
    for delta in deltas:
        yield from parser.feed(delta)
    yield from parser.finish()


def arguments_json(arguments: Mapping[str, Any]) -> str:
    """Arguments as the JSON string that streaming tool-call chunks carry."""
    return json.dumps(dict(arguments), ensure_ascii=False)
