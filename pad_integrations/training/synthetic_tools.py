"""Tool-calling conversations for the demo corpus, in the Hermes format of ``CHATML_TEMPLATE``.

Function names, parameter names and values are drawn at random for every example so that the model
learns to copy them from the tool list and the question rather than memorise a few calls.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from pad_integrations.training.synthetic_style import novel_topic

_PREFIXES = ["magic", "secret", "lucky", "special", "compute", "mystery", "quick", "fancy", "super", "tiny",
             "blue", "golden", "hidden", "smart", "odd", "prime", "happy", "wild"]
_SUFFIXES = ["function", "value", "number", "score", "total", "result", "answer", "code", "tool", "helper"]
_PARAMS = ["input", "x", "n", "value", "number", "count", "amount", "a", "q", "k", "size", "level"]
_DESCRIPTIONS = ["Apply a magic function to an input.", "Calculate a magic function.", "Compute a value.",
                 "Return a special number for the input.", "Look up a secret score.", "Run a quick computation."]
_PLACES = ["Paris", "San Francisco, CA", "Tokyo", "New York", "Berlin", "London, UK", "Cairo", "Lima",
           "Austin, TX", "Oslo", "Madrid", "Seattle, WA", "Rome", "Nairobi", "Toronto", "Sydney"]
_LOOKUPS = [("weather", ["It's sunny.", "It is raining.", "Cloudy and cold.", "Warm with a light wind."]),
            ("time", ["It is 3 PM.", "It is 9:15 in the morning.", "It is midnight."]),
            ("population", ["About two million people.", "Roughly 700 thousand people."]),
            ("temperature", ["21 degrees.", "5 degrees.", "30 degrees."])]
_LOOKUP_NAMES = ["get_{x}", "{x}_lookup", "fetch_{x}", "check_{x}", "lookup_{x}"]
_LOOKUP_PARAMS = ["location", "city", "place"]


@dataclass(frozen=True)
class ToolConversation:
    """Messages ending with the assistant turn to learn, plus the tool list."""

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]


def _tool(name: str, description: str, params: dict[str, str], rng: random.Random) -> dict[str, Any]:
    """An OpenAI-style tool as LangChain's ``convert_to_openai_tool`` writes it (bounds included)."""
    properties: dict[str, Any] = {}
    for p, t in params.items():
        spec: dict[str, Any] = {"type": t}
        if t == "integer" and rng.random() < 0.4:
            bound = rng.choice([100, 1000, 10000])
            spec = {"exclusiveMaximum": bound, "exclusiveMinimum": -bound, "type": t}
        properties[p] = spec
    parameters: dict[str, Any] = {"properties": properties, "type": "object"}
    if params:
        parameters = {"properties": properties, "required": list(params), "type": "object"}
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


def _numeric_name(rng: random.Random, no_args: bool = False) -> str:
    # Made-up words as well as common ones, so names are copied from the tool list, never recalled.
    prefix = novel_topic(rng) if rng.random() < 0.3 else rng.choice(_PREFIXES)
    return f"{prefix}_{rng.choice(_SUFFIXES)}" + ("_no_args" if no_args and rng.random() < 0.3 else "")


def _distractor(rng: random.Random, taken: set[str]) -> dict[str, Any]:
    while (name := _numeric_name(rng)) in taken:
        pass
    taken.add(name)
    return _tool(name, rng.choice(_DESCRIPTIONS), {rng.choice(_PARAMS): "integer"}, rng)


def _call(name: str, arguments: dict[str, Any], call_id: str) -> dict[str, Any]:
    return {"role": "assistant", "content": "", "tool_calls": [
        {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}]}


def _numeric_task(rng: random.Random) -> tuple[dict[str, Any], str, dict[str, Any], str]:
    """(tool, question, arguments, tool result) for a one-integer or no-argument function."""
    no_args = rng.random() < 0.2
    name = _numeric_name(rng, no_args)
    if no_args:
        question = rng.choice(["What is the value of {f}()? Use the tool.", "Call {f} for me.",
                               "Use the tool {f} and tell me the result."]).format(f=name)
        return _tool(name, rng.choice(_DESCRIPTIONS), {}, rng), question, {}, str(rng.randint(-20, 99))
    param = rng.choice(_PARAMS)
    value = rng.randint(-50, 250)
    question = rng.choice([
        "What is the value of {f}({v})? Use the tool.", "What is {f}({v})?", "Use the tool to compute {f}({v}).",
        "Call {f} with {p} = {v}.", "What does {f} return for {v}? Use the tool.",
        "Please run {f} on {v}.",
    ]).format(f=name, v=value, p=param)
    return _tool(name, rng.choice(_DESCRIPTIONS), {param: "integer"}, rng), question, {param: value}, str(
        value + rng.randint(-5, 9))


def _lookup_task(rng: random.Random) -> tuple[dict[str, Any], str, dict[str, Any], str]:
    noun, answers = rng.choice(_LOOKUPS)
    name = rng.choice(_LOOKUP_NAMES).format(x=noun)
    param = rng.choice(_LOOKUP_PARAMS)
    place = rng.choice(_PLACES)
    question = rng.choice(["What is the {n} in {p}?", "What's the {n} in {p}?", "Check the {n} for {p}.",
                           "Tell me the {n} in {p}, please."]).format(n=noun, p=place)
    tool = _tool(name, f"Get the {noun} at a location.", {param: "string"}, rng)
    return tool, question, {param: place}, rng.choice(answers)


def _adder_task(rng: random.Random) -> tuple[dict[str, Any], str, dict[str, Any], str]:
    name = rng.choice(["my_adder_tool", "add_numbers", "adder", "sum_tool", "plus"])
    a, b = rng.randint(0, 99), rng.randint(0, 99)
    question = rng.choice(["What is {a} + {b}", "What is {a} + {b}?", "Add {a} and {b}."]).format(a=a, b=b)
    tool = _tool(name, "Add two numbers.", {"a": "integer", "b": "integer"}, rng)
    return tool, question, {"a": a, "b": b}, json.dumps({"result": a + b})


def _answer(arguments: dict[str, Any], name: str, result: str) -> str:
    if result.lstrip("-").isdigit():
        args = ", ".join(str(v) for v in arguments.values())
        return f"The value of {name}({args}) is {result}."
    return f"The tool says: {result}"


def tool_conversation(rng: random.Random, system: str | None = None) -> ToolConversation:
    """A tool call to learn, or (about half the time) the answer after the tool has responded."""
    task = rng.choices([_numeric_task, _lookup_task, _adder_task], weights=[6, 3, 1])[0]
    tool, question, arguments, result = task(rng)
    name = tool["function"]["name"]
    tools = [tool]
    taken = {name}
    for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
        tools.insert(rng.randint(0, len(tools)), _distractor(rng, taken))
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": question})
    call_id = f"call_{rng.randint(0, 10**6)}"
    messages.append(_call(name, arguments, call_id))
    if rng.random() < 0.5:
        messages.append({"role": "tool", "content": result, "tool_call_id": call_id, "name": name})
        messages.append({"role": "assistant", "content": _answer(arguments, name, result)})
    return ToolConversation(messages, tools)
