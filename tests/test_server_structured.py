"""Structured output and forced tool calls over HTTP: the real server, the real openai client and
langchain-openai's ChatOpenAI, on a tiny random model that would never write JSON or a call on its own
(so every valid reply below is the grammar's doing)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import openai
import pytest
from pydantic import BaseModel, Field
from test_server import LiveServer, start_server

from memory import PreferenceMemory
from pad_integrations import runtime
from pad_integrations.server import ServerConfig, create_app
from pad_integrations.server.auth import KeyStore


class Joke(BaseModel):
    """A joke."""

    setup: str = Field(max_length=30)
    punchline: str = Field(max_length=30)
    rating: int = Field(ge=1, le=5)
    tone: Literal["dry", "silly"]


WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 20}},
                   "required": ["city"]}}}
ADD = {"type": "function", "function": {
    "name": "add", "description": "Add two integers.",
    "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                   "required": ["a", "b"]}}}
ASK = [{"role": "user", "content": "Tell me a joke, and what is the weather in Paris?"}]


@pytest.fixture(scope="module")
def live(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    memory = PreferenceMemory(url=f"sqlite:///{tmp_path_factory.mktemp('structured-db') / 'memory.db'}")
    key = KeyStore(memory.engine).create("tenant", namespace=memory.namespace)[0]
    generator = runtime.get_generator(str(tiny_model_dir))
    server = start_server(create_app(generator, memory, ServerConfig(max_tokens=96)))
    yield server, key
    server.stop()
    memory.close()


@pytest.fixture
def client(live: tuple[LiveServer, str]) -> openai.OpenAI:
    server, key = live
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0, timeout=120)


def model_id(client: openai.OpenAI) -> str:
    return client.models.list().data[0].id


def test_the_model_is_listed_under_its_directory_name(client: openai.OpenAI, tiny_model_dir: Path) -> None:
    assert model_id(client) == tiny_model_dir.name  # never an absolute path


def test_parse_with_a_pydantic_model(client: openai.OpenAI) -> None:
    """openai's chat.completions.parse sends a strict json_schema response_format."""
    completion = client.chat.completions.parse(model=model_id(client), messages=ASK, response_format=Joke,
                                               max_tokens=96)
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Joke) and 1 <= parsed.rating <= 5
    assert Joke.model_validate_json(completion.choices[0].message.content or "") == parsed


def test_json_object_mode(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model=model_id(client), messages=ASK, max_tokens=64,
                                           response_format={"type": "json_object"})
    assert isinstance(json.loads(reply.choices[0].message.content or ""), dict)


@pytest.mark.parametrize("choice", ["required", {"type": "function", "function": {"name": "add"}}])
@pytest.mark.parametrize("stream", [False, True])
def test_forced_tool_calls(client: openai.OpenAI, choice: Any, stream: bool) -> None:
    body = {"model": model_id(client), "messages": ASK, "tools": [WEATHER, ADD], "tool_choice": choice,
            "max_tokens": 96}
    if stream:
        chunks = list(client.chat.completions.create(**body, stream=True))
        calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
        finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    else:
        reply = client.chat.completions.create(**body)
        calls = list(reply.choices[0].message.tool_calls or [])
        finish = [reply.choices[0].finish_reason]
        content = reply.choices[0].message.content or ""
    assert finish == ["tool_calls"] and len(calls) == 1 and "<tool_call>" not in content
    names = {"add"} if isinstance(choice, dict) else {"add", "get_weather"}
    assert calls[0].function.name in names
    arguments = json.loads(calls[0].function.arguments)
    assert set(arguments) == ({"a", "b"} if calls[0].function.name == "add" else {"city"})


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "bogus"}}}},
         "bogus"),
        ({"response_format": {"type": "yaml"}}, "yaml"),
        ({"tools": [ADD], "tool_choice": {"type": "function", "function": {"name": "mul"}}}, "mul"),
        ({"tool_choice": "required"}, "tools"),
    ],
)
def test_bad_formats_and_choices_get_400(client: openai.OpenAI, change: dict, fragment: str) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=model_id(client), messages=ASK, **change)
    assert fragment in json.dumps(info.value.body)


@pytest.mark.parametrize("method", ["json_schema", "function_calling", "json_mode"])
def test_chat_openai_with_structured_output_every_method(live: tuple[LiveServer, str], method: str) -> None:
    from langchain_openai import ChatOpenAI

    server, key = live
    model = openai.OpenAI(base_url=f"{server.url}/v1", api_key=key).models.list().data[0].id
    llm = ChatOpenAI(model=model, base_url=f"{server.url}/v1", api_key=key, max_retries=0, max_tokens=96)
    if method == "json_mode":  # the prompt, not a schema, says what to write: any JSON object comes back
        result = llm.with_structured_output(None, method="json_mode").invoke("A joke as JSON, please.")
        assert isinstance(result, dict)
    else:
        result = llm.with_structured_output(Joke, method=method).invoke("Tell me a joke.")
        assert isinstance(result, Joke)
    forced = llm.bind_tools([ADD], tool_choice="add").invoke("What is 2 + 3?")
    assert [c["name"] for c in forced.tool_calls] == ["add"]
