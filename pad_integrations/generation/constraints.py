"""Constrained decoding grammars: JSON schema, Lark, and Hermes tool calls, compiled by llguidance.

A :class:`Constraint` is a grammar, checked when it is built (a bad schema is a ``ValueError`` then, not a
failure mid-decode). :meth:`Constraint.matcher` gives one request's parser state over a tokenizer's
vocabulary; :class:`~pad_integrations.generation.token_constraint.TokenConstraint` turns it into exact
token masks (docs/engine.md, "Constrained decoding").

llguidance (https://github.com/guidance-ai/llguidance, MIT) enforces the JSON-schema keywords that matter
for structured output (``pattern``, ``minimum``/``maximum``, ``enum``/``const``, ``minLength``/``maxLength``,
``minItems``/``maxItems``, nested objects through ``$ref``/``$defs``, ``anyOf``/``oneOf``, formats). The
whitespace is ``json.dumps`` style (``", "`` and ``": "``, nothing else) so a model cannot ramble between
tokens, and an object that lists its ``properties`` admits only those keys unless ``additionalProperties``
says otherwise: a constrained model should fill the schema, not invent keys.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import llguidance

HERMES_OPEN = "<tool_call>"
HERMES_CLOSE = "</tool_call>"

# One compile option set everywhere (top-level schemas and the schemas inside tool-call grammars).
_JSON_OPTIONS: dict[str, Any] = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}
_MAX_SCHEMA_CHARS = 200_000  # a schema is hostile input on the server: bound it before compiling


def _closed_objects(schema: Any) -> Any:
    """A copy of ``schema`` where objects that list ``properties`` and say nothing about
    ``additionalProperties`` admit no other key (JSON Schema's default would admit any)."""
    if isinstance(schema, Mapping):
        out = {k: _closed_objects(v) for k, v in schema.items()}
        if isinstance(schema.get("properties"), Mapping) and "additionalProperties" not in schema:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_closed_objects(v) for v in schema]
    return schema


def _check_grammar(grammar: str, what: str) -> str:
    is_error, messages = llguidance.LLMatcher.validate_grammar_with_warnings(grammar)
    if is_error:
        raise ValueError(f"{what} cannot be compiled: {messages[0] if messages else 'unknown error'}")
    return grammar


def json_schema_grammar(schema: Mapping[str, Any]) -> str:
    """The llguidance grammar of one JSON value valid under ``schema``."""
    if not isinstance(schema, Mapping):
        raise TypeError(f"schema must be a JSON schema dict, got {type(schema).__name__}")
    text = json.dumps(_closed_objects(schema))
    if len(text) > _MAX_SCHEMA_CHARS:
        raise ValueError(f"the JSON schema is {len(text)} characters; at most {_MAX_SCHEMA_CHARS} are accepted")
    try:
        grammar = llguidance.LLMatcher.grammar_from_json_schema(text, overrides=_JSON_OPTIONS)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ValueError(f"invalid JSON schema: {exc}") from None
    return _check_grammar(grammar, "the JSON schema")


class Constraint:
    """A grammar the generated text must follow (an llguidance grammar, already checked)."""

    grammar: str

    def matcher(self, tokenizer: llguidance.LLTokenizer) -> llguidance.LLMatcher:
        """A fresh parser state for one request."""
        matcher = llguidance.LLMatcher(tokenizer, self.grammar, log_level=0)
        if matcher.is_error():
            raise ValueError(f"the grammar cannot be used with this tokenizer: {matcher.get_error()}")
        return matcher


class JSONSchemaConstraint(Constraint):
    """The output is one JSON value valid under ``schema`` (``None``: any JSON object)."""

    def __init__(self, schema: Mapping[str, Any] | None = None) -> None:
        self.schema = {"type": "object"} if schema is None else schema
        self.grammar = json_schema_grammar(self.schema)


class LarkConstraint(Constraint):
    """The output follows a Lark grammar (llguidance's dialect: ``start:`` rule, ``%json {...}`` inline)."""

    def __init__(self, lark: str) -> None:
        if not isinstance(lark, str):
            raise TypeError(f"a Lark grammar must be a str, got {type(lark).__name__}")
        if len(lark) > _MAX_SCHEMA_CHARS:
            raise ValueError(f"the grammar is {len(lark)} characters; at most {_MAX_SCHEMA_CHARS} are accepted")
        self.lark = lark
        self.grammar = _check_grammar(llguidance.LLMatcher.grammar_from_lark(lark), "the Lark grammar")


def tool_schemas(
    tools: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]],
) -> dict[str, Mapping[str, Any]]:
    """Tool name -> parameters schema, from OpenAI tool dicts (or a name -> schema mapping)."""
    if isinstance(tools, Mapping):
        schemas = {str(k): v for k, v in tools.items()}
    else:
        schemas = {}
        for tool in tools:
            function = tool.get("function", tool)
            if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
                raise ValueError("every tool needs a name")
            schemas[function["name"]] = function.get("parameters") or {"type": "object", "properties": {}}
    if not schemas:
        raise ValueError("a tool call constraint needs at least one tool")
    return schemas


def _call_rules(schemas: Mapping[str, Mapping[str, Any]]) -> str:
    """Lark rules ``call: <one Hermes call of one of the tools>`` (the name picks the arguments' schema)."""
    alternatives = []
    for i, (name, parameters) in enumerate(schemas.items()):
        try:
            json_schema_grammar(parameters)  # refuse a bad tool schema by name, before the combined grammar
        except ValueError as exc:
            raise ValueError(f"tool {name!r}: {exc}") from None
        arguments = dict(_closed_objects(parameters))
        # Local references ("#/$defs/X") resolve against the root: the definitions move up to the call.
        definitions = {k: arguments.pop(k) for k in ("$defs", "definitions") if k in arguments}
        body = {
            "type": "object",
            "properties": {"name": {"const": name}, "arguments": arguments},
            "required": ["name", "arguments"],
            "additionalProperties": False,
            "x-guidance": _JSON_OPTIONS,
            **definitions,
        }
        alternatives.append(f"call_{i}: %json {json.dumps(body)}")
    options = " | ".join(f"call_{i}" for i in range(len(schemas)))
    return f'call: "\\n" ({options}) "\\n"\n' + "\n".join(alternatives) + "\n"


class ToolCallConstraint(Constraint):
    """The output is one Hermes tool call of one of ``tools`` (OpenAI tool dicts or name -> schema):
    ``<tool_call>\\n{"name": "<tool>", "arguments": <its schema>}\\n</tool_call>``."""

    def __init__(self, tools: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]]) -> None:
        schemas = tool_schemas(tools)
        self.names = list(schemas)
        lark = f"start: {json.dumps(HERMES_OPEN)} call {json.dumps(HERMES_CLOSE)}\n" + _call_rules(schemas)
        self.grammar = _check_grammar(llguidance.LLMatcher.grammar_from_lark(lark), "the tool-call grammar")


class ToolCallTriggerConstraint(Constraint):
    """Free text, in which every ``<tool_call>`` the model opens is a whole call of one of ``tools``
    (``tool_choice="auto"``): a lazy grammar, inactive until the trigger text appears, so plain
    answers are untouched and calls always parse. Any number of calls, text around them allowed."""

    def __init__(self, tools: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]]) -> None:
        schemas = tool_schemas(tools)
        self.names = list(schemas)
        # ``opened[lazy]`` matches text up to the first "<tool_call>" (the shortest match), so free text
        # never contains an unconstrained call; TEXT is everything after the last call.
        lark = (
            "start: (opened call " + json.dumps(HERMES_CLOSE) + ")* TEXT\n"
            "TEXT: /(.|\\n)*/\n"
            "opened[lazy]: TEXT " + json.dumps(HERMES_OPEN) + "\n"
        ) + _call_rules(schemas)
        self.grammar = _check_grammar(llguidance.LLMatcher.grammar_from_lark(lark), "the tool-call grammar")


__all__ = [
    "HERMES_CLOSE",
    "HERMES_OPEN",
    "Constraint",
    "JSONSchemaConstraint",
    "LarkConstraint",
    "ToolCallConstraint",
    "ToolCallTriggerConstraint",
    "json_schema_grammar",
    "tool_schemas",
]
