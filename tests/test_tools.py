"""Tool-call markup parsing, whole and streamed (Hermes/Qwen and Llama 3.1 JSON)."""

from __future__ import annotations

import pytest

from pad_integrations.tools import (
    ToolCall,
    ToolCallStreamParser,
    iter_stream_events,
    parse_tool_calls,
    tool_names,
)

MAGIC = [{"type": "function", "function": {"name": "magic_function", "parameters": {"type": "object"}}}]
HERMES = 'Let me check.\n<tool_call>\n{"name": "magic_function", "arguments": {"input": 3}}\n</tool_call>'


def test_hermes_block_is_parsed_and_removed_from_content() -> None:
    content, calls = parse_tool_calls(HERMES)
    assert content == "Let me check."
    assert [(c.name, c.arguments) for c in calls] == [("magic_function", {"input": 3})]
    assert calls[0].id.startswith("call_") and len(calls[0].id) > 10


def test_several_hermes_blocks_and_string_arguments() -> None:
    text = (
        '<tool_call>{"name": "a", "arguments": "{\\"x\\": 1}"}</tool_call>\n'
        '<tool_call>{"name": "b", "arguments": {}}</tool_call>'
    )
    content, calls = parse_tool_calls(text)
    assert content == ""
    assert [(c.name, c.arguments) for c in calls] == [("a", {"x": 1}), ("b", {})]
    assert calls[0].id != calls[1].id


def test_malformed_block_is_kept_as_text() -> None:
    text = "<tool_call>{not json}</tool_call>"
    assert parse_tool_calls(text) == (text, [])


def test_llama31_json_with_and_without_python_tag() -> None:
    for text in (
        '{"name": "magic_function", "parameters": {"input": 3}}',
        '<|python_tag|>{"name": "magic_function", "parameters": {"input": 3}}',
    ):
        content, calls = parse_tool_calls(text, MAGIC)
        assert content == ""
        assert [(c.name, c.arguments) for c in calls] == [("magic_function", {"input": 3})]


def test_llama31_several_calls_separated_by_semicolons() -> None:
    tools = [*MAGIC, {"type": "function", "function": {"name": "other"}}]
    text = '{"name": "magic_function", "parameters": {"input": 1}}; {"name": "other", "parameters": {}}'
    _, calls = parse_tool_calls(text, tools)
    assert [c.name for c in calls] == ["magic_function", "other"]


def test_json_answer_is_not_a_call_when_name_is_not_a_tool() -> None:
    text = '{"name": "Alice", "parameters": {"age": 3}}'
    assert parse_tool_calls(text, MAGIC) == (text, [])
    # A JSON object without an arguments key is an answer, not a call.
    assert parse_tool_calls('{"name": "magic_function"}', MAGIC)[1] == []


def test_plain_text_is_untouched() -> None:
    assert parse_tool_calls("hello {world}") == ("hello {world}", [])
    with pytest.raises(TypeError):
        parse_tool_calls(None)  # type: ignore[arg-type]


def test_tool_call_message_dict_and_tool_names() -> None:
    call = ToolCall(name="f", arguments={"a": 1}, id="call_1")
    assert call.to_message_dict() == {
        "id": "call_1", "type": "function", "function": {"name": "f", "arguments": {"a": 1}}
    }
    assert tool_names(MAGIC) == frozenset({"magic_function"})
    assert tool_names(None) is None


@pytest.mark.parametrize("step", [1, 2, 3, 7, 1000])
def test_stream_parser_holds_markup_at_any_split(step: int) -> None:
    text = HERMES + " done"
    deltas = [text[i:i + step] for i in range(0, len(text), step)]
    events = list(iter_stream_events(deltas))
    released = "".join(e.text for e in events)
    assert "<tool" not in released and "tool_call>" not in released
    assert released.replace("\n", "").strip() == "Let me check. done"
    calls = [e.tool_call for e in events if e.tool_call]
    assert [(c.name, c.arguments) for c in calls] == [("magic_function", {"input": 3})]


def test_stream_parser_releases_text_that_only_looks_like_markup() -> None:
    parser = ToolCallStreamParser()
    out = parser.feed("a <tool") + parser.feed("box> b") + parser.finish()
    assert "".join(e.text for e in out) == "a <toolbox> b"
    parser = ToolCallStreamParser()
    out = parser.feed("x <tool_call>{unclosed") + parser.finish()
    assert "".join(e.text for e in out) == "x <tool_call>{unclosed"


def test_stream_parser_bare_json_is_decided_at_the_end() -> None:
    text = '{"name": "magic_function", "parameters": {"input": 3}}'
    parser = ToolCallStreamParser(MAGIC)
    assert parser.feed(text[:10]) == [] and parser.feed(text[10:]) == []
    events = parser.finish()
    assert [(e.tool_call.name, e.index) for e in events if e.tool_call] == [("magic_function", 0)]
    # A JSON answer that is not a call comes back as text, whole.
    parser = ToolCallStreamParser(MAGIC)
    parser.feed('{"answer": 4}')
    assert [e.text for e in parser.finish()] == ['{"answer": 4}']


TRICKY = (
    'Saying it.\n<tool_call>\n{"name": "say", "arguments": {"text": "a </tool_call> b <tool_call> c"}}\n</tool_call>'
    '\n<tool_call>\n{"name": "say", "arguments": {"text": "}\\"]"}}\n</tool_call> done'
)


@pytest.mark.parametrize("step", [1, 3, 7, 1000])
def test_arguments_may_contain_the_markup_itself(step: int) -> None:
    """The block ends where its JSON ends, not at the first closing tag inside an argument."""
    content, calls = parse_tool_calls(TRICKY)
    assert content == "Saying it.\n\n done"
    assert [c.arguments["text"] for c in calls] == ["a </tool_call> b <tool_call> c", '}"]']
    events = list(iter_stream_events(TRICKY[i : i + step] for i in range(0, len(TRICKY), step)))
    streamed = [e.tool_call.arguments["text"] for e in events if e.tool_call is not None]
    assert streamed == [c.arguments["text"] for c in calls]
    assert "".join(e.text for e in events) == content
    assert [e.index for e in events if e.tool_call is not None] == [0, 1]


def test_a_whole_call_missing_only_its_closing_tag_at_the_end_counts() -> None:
    content, calls = parse_tool_calls('<tool_call>\n{"name": "say", "arguments": {"text": "x"}}\n')
    assert content == "" and [c.name for c in calls] == ["say"]
    content, calls = parse_tool_calls('<tool_call>\n{"name": "say", "arguments": {"text": "x')
    assert calls == [] and content.startswith("<tool_call>")  # cut inside the JSON: kept as text
