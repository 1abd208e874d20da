"""Constrained decoding: output that must stay a valid prefix of a JSON schema value or a tool call.

A :class:`Constraint` is a per-request, character-level grammar: :meth:`Constraint.start` returns a fresh
:class:`CharValidator` whose ``feed`` accepts or refuses text. The engine (see
:class:`TokenConstraint`) turns it into token choices lazily: it tests candidates in descending score
order and never scans the vocabulary in Python (docs/engine.md, "Constrained decoding").

The JSON grammar covers what Pydantic, TypedDict and LangChain tool schemas produce: objects with
``properties``/``required`` (and ``additionalProperties``), string, integer, number, boolean, null,
``enum``/``const``, arrays of ``items``, nested objects through ``$ref``/``$defs``, ``anyOf``/``oneOf``/
``allOf`` with one member, and lists of types. Whitespace is the ``json.dumps`` style only: one optional
space after ``:`` and ``,``, none elsewhere, so a model cannot ramble between tokens.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_ESCAPES = frozenset('"\\/bfnrtu')
_MAX_NUMBER_CHARS = 17  # a longer number is rambling, not a value (and loses float precision anyway)
_MAX_EXPONENT_DIGITS = 2  # 1e99 is plenty; 7e401 would parse as inf


class _Frame:
    """One open value on the parser stack. ``feed`` returns True (consumed), False (refused) or None
    (this value is complete and the character belongs to the enclosing frame)."""

    def feed(self, ch: str, parser: CharValidator) -> bool | None:
        raise NotImplementedError

    def complete(self) -> bool:
        return False

    def extendable(self) -> bool:
        """Whether more text may follow once this value is complete (numbers, ``1`` vs ``12`` enums)."""
        return False

    def finish(self) -> str:
        """Short text that moves this (incomplete, innermost open) value towards its end."""
        raise NotImplementedError

    def clone(self) -> _Frame:
        return copy.copy(self)


class _Literal(_Frame):
    """One of a few fixed strings (true/false/null, enum and const values as JSON)."""

    def __init__(self, options: Sequence[str]) -> None:
        self.options = tuple(dict.fromkeys(options))
        self.pos = 0

    def feed(self, ch: str, parser: CharValidator) -> bool | None:
        alive = tuple(o for o in self.options if len(o) > self.pos and o[self.pos] == ch)
        if alive:
            self.options, self.pos = alive, self.pos + 1
            return True
        return None if self.complete() else False

    def complete(self) -> bool:
        return any(len(o) == self.pos for o in self.options)

    def extendable(self) -> bool:
        return any(len(o) > self.pos for o in self.options)

    def finish(self) -> str:
        return min(self.options, key=len)[self.pos :]


class _String(_Frame):
    """A JSON string after its opening quote; ``maxLength`` is honoured."""

    def __init__(self, max_length: int | None) -> None:
        self.max_length = max_length
        self.length = 0
        self.escape = 0  # 0: none, 1: after backslash, 2..5: hex digits of \\uXXXX still expected
        self.closed = False

    def feed(self, ch: str, parser: CharValidator) -> bool | None:
        if self.closed:
            return None
        if self.escape == 1:
            if ch not in _ESCAPES:
                return False
            self.escape = 5 if ch == "u" else 0
            return True
        if self.escape:
            if ch not in _HEX:
                return False
            self.escape = 0 if self.escape == 2 else self.escape - 1
            return True
        if ch == '"':
            self.closed = True
            return True
        if ord(ch) < 0x20:
            return False
        if self.max_length is not None and self.length >= self.max_length:
            return False
        self.length += 1
        if ch == "\\":
            self.escape = 1
        return True

    def complete(self) -> bool:
        return self.closed

    def finish(self) -> str:
        return "n" if self.escape == 1 else "0" if self.escape else '"'


class _Number(_Frame):
    """A JSON number (or integer) after its first character: a small state machine."""

    _NEXT: ClassVar[dict[str, dict[str, str]]] = {
        "sign": {"0": "zero", "19": "int"},
        "zero": {".": "dot", "e": "e"},
        "int": {"d": "int", ".": "dot", "e": "e"},
        "dot": {"d": "frac"},
        "frac": {"d": "frac", "e": "e"},
        "e": {"s": "esign", "d": "exp"},
        "esign": {"d": "exp"},
        "exp": {"d": "exp"},
    }

    def __init__(self, first: str, integer: bool) -> None:
        self.integer = integer
        self.state = "sign" if first == "-" else "zero" if first == "0" else "int"
        self.length = 1
        self.exponent_digits = 0

    def feed(self, ch: str, parser: CharValidator) -> bool | None:
        if ch in _DIGITS:
            classes = ("d", "0" if ch == "0" else "19")
        else:
            classes = ({"e": "e", "E": "e", "+": "s", "-": "s", ".": "."}.get(ch, ""),)
        if self.integer and classes[0] in (".", "e"):
            classes = ()
        table = self._NEXT[self.state]
        for cls in classes:
            if cls in table and self.length < _MAX_NUMBER_CHARS:
                if table[cls] == "exp":
                    if self.exponent_digits >= _MAX_EXPONENT_DIGITS:
                        continue
                    self.exponent_digits += 1
                self.state, self.length = table[cls], self.length + 1
                return True
        return None if self.complete() else False

    def complete(self) -> bool:
        return self.state in ("zero", "int", "frac", "exp")

    def finish(self) -> str:
        return "0"  # only asked while incomplete: after "-", ".", "e" or an exponent sign

    def extendable(self) -> bool:
        return self.length < _MAX_NUMBER_CHARS and not (
            self.state == "exp" and self.exponent_digits >= _MAX_EXPONENT_DIGITS
        )


class _Container(_Frame):
    """What objects and arrays share: their punctuation state and whether they are closed."""

    def __init__(self) -> None:
        self.state = "start"  # start, value (a child is open), after_value, after_comma, ...
        self.space_used = False
        self.closed = False
        self.count = 0

    def complete(self) -> bool:
        return self.closed


class _Object(_Container):
    def __init__(self, schema: Mapping[str, Any], schemas: _Schemas) -> None:
        super().__init__()
        self.schemas = schemas
        self.properties: dict[str, Any] = dict(schema.get("properties") or {})
        self.required = [k for k in schema.get("required") or [] if isinstance(k, str)]
        # Listed properties mean "these keys only" unless additionalProperties says otherwise: a
        # constrained model should fill the schema, not invent keys.
        extra = schema.get("additionalProperties", "properties" not in schema)
        self.extra: Any = {} if extra is True else extra if isinstance(extra, Mapping) else None
        self.used: set[str] = set()
        self.key: _Frame | None = None
        self.raw_key = ""
        self.current = ""

    def clone(self) -> _Object:
        new = copy.copy(self)
        new.used = set(self.used)
        new.key = self.key.clone() if self.key is not None else None
        return new

    def finish(self) -> str:
        missing = [k for k in self.required if k not in self.used]
        if self.state == "key":
            assert self.key is not None
            return self.key.finish()
        if self.state == "colon":
            return ":"
        if self.state == "before_value":
            return minimal_value(self.properties.get(self.current, self.extra), self.schemas)
        if self.state == "after_value":
            return ", " if missing else "}"
        if self.state == "after_comma":  # a key must follow: a required one, else any allowed one
            unused = [k for k in self.properties if k not in self.used]
            key = (missing or unused or ["_"])[0]
            return json.dumps(key, ensure_ascii=False)
        return json.dumps(missing[0], ensure_ascii=False) if missing else "}"  # start

    def _more_keys(self) -> bool:
        return self.extra is not None or any(k not in self.used for k in self.properties)

    def feed(self, ch: str, parser: CharValidator) -> bool | None:
        if self.closed:
            return None
        state = self.state
        if state in ("start", "after_comma") and ch == '"' and self._more_keys():
            names = [json.dumps(k, ensure_ascii=False)[1:] for k in self.properties if k not in self.used]
            self.key = _String(None) if self.extra is not None else _Literal(names)
            self.raw_key, self.state = "", "key"
            return True
        if state == "after_comma" and ch == " " and not self.space_used:
            self.space_used = True
            return True
        if state in ("start", "after_value") and ch == "}":
            if any(k not in self.used for k in self.required):
                return False
            self.closed = True
            return True
        if state == "after_value" and ch == "," and self._more_keys():
            self.state, self.space_used = "after_comma", False
            return True
        if state == "key":
            assert self.key is not None
            if self.key.feed(ch, parser) is not True:
                return False
            self.raw_key += ch
            if self.key.complete():
                name = json.loads('"' + self.raw_key)
                if name in self.used:
                    return False
                self.used.add(name)
                self.current, self.state, self.key = name, "colon", None
            return True
        if state == "colon" and ch == ":":
            self.state, self.space_used = "before_value", False
            return True
        if state == "before_value":
            if ch == " " and not self.space_used:
                self.space_used = True
                return True
            self.state = "after_value"
            self.count += 1
            return parser.push_value(self.properties.get(self.current, self.extra), ch, self.schemas)
        return False


class _Array(_Container):
    def __init__(self, schema: Mapping[str, Any], schemas: _Schemas) -> None:
        super().__init__()
        self.schemas = schemas
        self.items: Any = schema.get("items", {})
        self.min_items = int(schema.get("minItems", 0) or 0)
        self.max_items = schema.get("maxItems")

    def finish(self) -> str:
        return _array_finish(self)

    def feed(self, ch: str, parser: CharValidator) -> bool | None:
        if self.closed:
            return None
        state = self.state
        if state == "after_comma" and ch == " " and not self.space_used:
            self.space_used = True
            return True
        if state in ("start", "after_value") and ch == "]":
            if self.count < self.min_items:
                return False
            self.closed = True
            return True
        if state == "after_value" and ch == ",":
            if self.max_items is not None and self.count >= int(self.max_items):
                return False
            self.state, self.space_used = "after_comma", False
            return True
        if state in ("start", "after_comma"):
            if state == "start" and self.max_items == 0 and ch != "]":
                return False
            self.state = "after_value"
            self.count += 1
            return parser.push_value(self.items, ch, self.schemas)
        return False


def _array_finish(array: _Array) -> str:
    if array.state == "after_comma" or (array.state == "start" and array.count < array.min_items):
        return minimal_value(array.items, array.schemas)
    return ", " if array.count < array.min_items else "]"


class _Schemas:
    """Resolves ``$ref`` against the root schema's ``$defs``/``definitions``."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def resolve(self, schema: Any) -> Mapping[str, Any]:
        seen = 0
        while isinstance(schema, Mapping) and "$ref" in schema:
            ref = str(schema["$ref"])
            if not ref.startswith("#"):
                raise ValueError(f"only local $ref are supported, got {ref!r}")
            target: Any = self.root
            for part in ref.lstrip("#/").split("/"):
                if part:
                    target = target[part.replace("~1", "/").replace("~0", "~")]
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **rest}
            seen += 1
            if seen > 64:
                raise ValueError("recursive $ref chain")
        if schema is True or schema is None:
            return {}
        if schema is False:
            raise ValueError("a false schema accepts nothing")
        if not isinstance(schema, Mapping):
            raise TypeError(f"a JSON schema must be a dict, got {type(schema).__name__}")
        all_of = schema.get("allOf")
        if all_of:
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for part in all_of:
                merged = {**self.resolve(part), **merged}
            return merged
        return schema

    def alternatives(self, schema: Any) -> list[Mapping[str, Any]]:
        """The schema as a flat list of single-type alternatives."""
        schema = self.resolve(schema)
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                base = {k: v for k, v in schema.items() if k not in (key, "default", "title", "description")}
                out: list[Mapping[str, Any]] = []
                for alt in schema[key]:
                    out.extend(self.alternatives({**base, **self.resolve(alt)} if base else alt))
                return out
        kind = schema.get("type")
        if isinstance(kind, list):
            return [{**schema, "type": k} for k in kind]
        return [schema]


def _literal_options(schema: Mapping[str, Any]) -> list[str] | None:
    if "const" in schema:
        return [json.dumps(schema["const"], ensure_ascii=False)]
    if "enum" in schema:
        return [json.dumps(v, ensure_ascii=False) for v in schema["enum"]]
    return None


def minimal_value(schema: Any, schemas: _Schemas) -> str:
    """The shortest simple JSON text valid under ``schema`` (null where allowed, else the smallest)."""
    options = schemas.alternatives(schema)
    chosen = next((a for a in options if a.get("type") == "null"), options[0])
    literals = _literal_options(chosen)
    if literals is not None:
        return min(literals, key=len)
    kind = chosen.get("type")
    if kind == "object":
        properties = chosen.get("properties") or {}
        fields = [
            f"{json.dumps(k, ensure_ascii=False)}: {minimal_value(properties.get(k, {}), schemas)}"
            for k in chosen.get("required") or []
        ]
        return "{" + ", ".join(fields) + "}"
    if kind == "array":
        return "[" + ", ".join([minimal_value(chosen.get("items", {}), schemas)] * int(chosen.get("minItems", 0))) + "]"
    if kind == "string":
        return '"' + "a" * int(chosen.get("minLength", 0)) + '"'
    return {"integer": "0", "number": "0", "boolean": "false"}.get(str(kind), "null")


_STARTS = {"object": "{", "array": "[", "string": '"', "boolean": "tf", "null": "n"}


def _accepts_start(schema: Mapping[str, Any], ch: str) -> bool:
    literals = _literal_options(schema)
    if literals is not None:
        return any(o.startswith(ch) for o in literals)
    kind = schema.get("type")
    if kind is None:
        return ch in '{["tfn-0123456789'
    if kind in ("number", "integer"):
        return ch == "-" or ch in _DIGITS
    return ch in _STARTS.get(kind, "")


class CharValidator:
    """Incremental check that text is a prefix of one valid value; ``clone`` before trying text."""

    def __init__(self, schemas: _Schemas, top: Any, prefix_frames: Sequence[_Frame] = ()) -> None:
        self.schemas = schemas
        self.stack: list[_Frame] = list(prefix_frames)
        self.root = top
        self.started = bool(prefix_frames)
        self.finished = False

    def clone(self) -> CharValidator:
        new = copy.copy(self)
        new.stack = [f.clone() for f in self.stack]
        return new

    def push_value(self, schema: Any, ch: str, schemas: _Schemas | None = None) -> bool:
        """Open a value of ``schema`` (refs resolved by ``schemas``) whose first character is ``ch``."""
        schemas = schemas or self.schemas
        for alt in schemas.alternatives(schema):
            if not _accepts_start(alt, ch):
                continue
            literals = _literal_options(alt)
            kind = alt.get("type")
            frame: _Frame
            if literals is not None:
                frame = _Literal(literals)
                frame.feed(ch, self)
            elif ch == "{":
                frame = _Object(alt, schemas)
            elif ch == "[":
                frame = _Array(alt, schemas)
            elif ch == '"':
                max_length = alt.get("maxLength")
                frame = _String(int(max_length) if max_length is not None else None)
            elif ch in "tf":
                frame = _Literal(["true", "false"])
                frame.feed(ch, self)
            elif ch == "n":
                frame = _Literal(["null"])
                frame.feed(ch, self)
            else:
                frame = _Number(ch, integer=kind == "integer")
            self.stack.append(frame)
            return True
        return False

    def feed(self, text: str) -> bool:
        """Consume ``text``; False (state then undefined: feed a clone) when it leaves the grammar."""
        return all(self._feed_char(ch) for ch in text)

    def _feed_char(self, ch: str) -> bool:
        if not self.started:
            self.started = True
            return self.push_value(self.root, ch)
        while self.stack:
            result = self.stack[-1].feed(ch, self)
            if result is True:
                return True
            if result is False:
                return False
            self.stack.pop()  # the value was complete: the character belongs to its parent
        return False

    def closing_text(self) -> str:
        """The shortest text this procedure finds that makes the output complete (for a token budget)."""
        if not self.started:
            return minimal_value(self.root, self.schemas)
        trial, out = self.clone(), ""
        while not trial.complete():
            frame = next(f for f in reversed(trial.stack) if not f.complete())
            piece = frame.finish()
            if not piece or not trial.feed(piece):
                raise AssertionError(f"cannot close {out!r}")  # a bug in a frame's finish, not bad input
            out += piece
        return out

    def complete(self) -> bool:
        """The text so far is a whole value (end of output allowed)."""
        return self.started and all(f.complete() for f in self.stack)

    def closed(self) -> bool:
        """Complete and nothing may follow (so decoding stops here)."""
        return self.complete() and not any(f.extendable() for f in self.stack)


class _Tail(_Frame):
    """Fixed text after a value (the end of a tool call)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def feed(self, ch: str, parser: CharValidator) -> bool | None:
        if self.pos < len(self.text) and self.text[self.pos] == ch:
            self.pos += 1
            return True
        return False

    def complete(self) -> bool:
        return self.pos == len(self.text)

    def finish(self) -> str:
        return self.text[self.pos :]


class _Slot(_Frame):
    """A value of ``schema`` not yet begun: its first character opens it in this frame's place."""

    def __init__(self, schema: Any, schemas: _Schemas) -> None:
        self.schema, self.schemas = schema, schemas

    def feed(self, ch: str, parser: CharValidator) -> bool | None:
        parser.stack.pop()
        return parser.push_value(self.schema, ch, self.schemas)

    def finish(self) -> str:
        return minimal_value(self.schema, self.schemas)


_CALL_HEAD = '<tool_call>\n{"name": '
_CALL_ARGS = ', "arguments": '
_CALL_TAIL = "}\n</tool_call>"


class _ToolName(_Literal):
    """The head of a Hermes call up to its arguments; the tool's name picks the arguments' schema."""

    def __init__(self, tools: Mapping[str, _Schemas]) -> None:
        super().__init__([_CALL_HEAD + json.dumps(n, ensure_ascii=False) + _CALL_ARGS for n in tools])
        self.tools = tools

    def feed(self, ch: str, parser: CharValidator) -> bool | None:
        if not super().feed(ch, parser):
            return False
        if self.complete():
            name = json.loads(self.options[0][len(_CALL_HEAD) : -len(_CALL_ARGS)])
            schemas = self.tools[name]
            parser.stack[-1:] = [_Tail(_CALL_TAIL), _Slot(schemas.root, schemas)]
        return True


class Constraint:
    """A grammar the generated text must follow; :meth:`start` gives a fresh validator per request."""

    def start(self) -> CharValidator:
        raise NotImplementedError


class JSONSchemaConstraint(Constraint):
    """The output is one JSON value valid under ``schema`` (``{}`` or ``{"type": "object"}``: any object)."""

    def __init__(self, schema: Mapping[str, Any] | None = None) -> None:
        schema = {"type": "object"} if schema is None else schema
        if not isinstance(schema, Mapping):
            raise TypeError(f"schema must be a JSON schema dict, got {type(schema).__name__}")
        self.schema = schema
        self._schemas = _Schemas(schema)
        self._schemas.alternatives(schema)  # refuse a malformed schema now, not mid-decode

    def start(self) -> CharValidator:
        return CharValidator(self._schemas, self.schema)


class ToolCallConstraint(Constraint):
    """The output is one Hermes tool call of one of ``tools`` (OpenAI tool dicts or name -> schema):
    ``<tool_call>\\n{"name": "<tool>", "arguments": <its schema>}\\n</tool_call>``."""

    def __init__(self, tools: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]]) -> None:
        if isinstance(tools, Mapping):
            schemas = dict(tools)
        else:
            schemas = {}
            for tool in tools:
                function = tool.get("function", tool)
                if "name" not in function:
                    raise ValueError("every tool needs a name")
                schemas[str(function["name"])] = function.get("parameters") or {"type": "object", "properties": {}}
        if not schemas:
            raise ValueError("a tool call constraint needs at least one tool")
        self.names = list(schemas)
        self._tools = {name: _Schemas(schema) for name, schema in schemas.items()}
        for checked in self._tools.values():
            checked.alternatives(checked.root)

    def start(self) -> CharValidator:
        return CharValidator(_Schemas({}), None, [_ToolName(self._tools)])
