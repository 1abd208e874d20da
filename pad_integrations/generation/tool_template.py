"""Tool syntax for chat templates that have none (SmolLM2's ChatML template, the default model's).

Such a template silently drops ``tools=``, so the model never sees the tools and never calls one. This
module writes them into the conversation the way Hermes / Qwen2.5 templates do, in plain ChatML text
the template does render:

- the system message gets a ``# Tools`` section: every tool's OpenAI definition as one JSON line inside
  ``<tools></tools>``, and the instruction to answer with ``<tool_call>\\n{"name": ..., "arguments":
  ...}\\n</tool_call>``;
- an assistant message's ``tool_calls`` become those ``<tool_call>`` blocks in its content;
- ``tool`` messages (results) become a user turn of ``<tool_response>\\n...\\n</tool_response>`` blocks
  (consecutive results in one turn), as Qwen2.5's template renders them.

The model's reply is read back by :mod:`pad_integrations.tools` (the same Hermes parser every
template uses), and in ``tool_choice="auto"`` the adapters decode under
:class:`~pad_integrations.generation.constraints.ToolCallTriggerConstraint`, so a call the model opens
always parses.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

TOOLS_SECTION = """# Tools

You may call one or more functions to assist with the user query.

You are provided with function signatures within <tools></tools> XML tags:
<tools>
{tools}
</tools>

For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:
<tool_call>
{{"name": <function-name>, "arguments": <args-json-object>}}
</tool_call>"""


def tools_section(tools: Sequence[Mapping[str, Any]]) -> str:
    """The ``# Tools`` system section for OpenAI-style tool dicts."""
    lines = []
    for tool in tools:
        function = tool.get("function", tool)
        lines.append(json.dumps({"type": "function", "function": dict(function)}, ensure_ascii=False))
    return TOOLS_SECTION.format(tools="\n".join(lines))


def _call_block(call: Mapping[str, Any]) -> str:
    function = call.get("function", call)
    arguments = function.get("arguments", {})
    if isinstance(arguments, str):  # the OpenAI wire form: a JSON-encoded string
        with contextlib.suppress(json.JSONDecodeError):  # else kept as the string the caller gave
            arguments = json.loads(arguments) if arguments.strip() else {}
    body = json.dumps({"name": function.get("name"), "arguments": arguments}, ensure_ascii=False)
    return f"<tool_call>\n{body}\n</tool_call>"


def hermes_messages(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``messages`` with tool calls and tool results as Hermes-style text (see the module docstring);
    the ``# Tools`` section goes into the system message separately (:func:`tools_section`)."""
    out: list[dict[str, Any]] = []
    results_turn = False  # the last message is a user turn made of tool results
    for message in messages:
        role = message.get("role")
        content = message.get("content") or ""
        if role == "assistant" and message.get("tool_calls"):
            blocks = "\n".join(_call_block(c) for c in message["tool_calls"])
            out.append({"role": "assistant", "content": f"{content}\n{blocks}".strip()})
            results_turn = False
        elif role == "tool":
            block = f"<tool_response>\n{content}\n</tool_response>"
            if results_turn:
                out[-1]["content"] += "\n" + block
            else:
                out.append({"role": "user", "content": block})
            results_turn = True
        else:
            out.append({k: v for k, v in message.items() if k not in ("tool_calls", "tool_call_id", "name")})
            results_turn = False
    return out


__all__ = ["TOOLS_SECTION", "hermes_messages", "tools_section"]
