"""Constrained decoding: the JSON-schema / tool-call grammar, and the engine hook on a tiny random model."""

from __future__ import annotations

import json
from typing import Literal

import pytest
import torch
from pydantic import BaseModel, Field

from pad_integrations.errors import GenerationError
from pad_integrations.generation import (
    GenerationRequest,
    GuidedGenerator,
    JSONSchemaConstraint,
    PersonalizedRewardModel,
    ToolCallConstraint,
)
from pad_integrations.generation.token_constraint import TokenConstraint, single_char_tokens
from pad_integrations.tools import parse_tool_calls


class Address(BaseModel):
    city: str = Field(max_length=12)
    zip_code: int


class Person(BaseModel):
    name: str = Field(max_length=16)
    kind: Literal["friend", "colleague"]
    address: Address
    tags: list[str] = Field(max_length=3)
    score: float | None = None
    active: bool


class Flat(BaseModel):
    count: int
    ratio: float


SCHEMAS = {
    "nested": Person.model_json_schema(),
    "flat": Flat.model_json_schema(),
    "enum": {"type": "object", "properties": {"colour": {"enum": ["red", "green", 3, None]}}, "required": ["colour"]},
    "array": {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 4},
}
TOOLS = [
    {"type": "function", "function": {"name": "add", "parameters": Flat.model_json_schema()}},
    {"type": "function", "function": {"name": "find_person", "parameters": Person.model_json_schema()}},
    {"type": "function", "function": {"name": "ping", "parameters": {"type": "object", "properties": {}}}},
]
MESSAGES = [{"role": "user", "content": "Fill the form please."}]


def prefix_ok(constraint, text: str) -> bool:
    return constraint.start().feed(text)


# -- the grammar --------------------------------------------------------------------------------
def test_json_schema_accepts_exactly_the_valid_prefixes() -> None:
    c = JSONSchemaConstraint(SCHEMAS["nested"])
    full = json.dumps({
        "name": 'Ann "A\\u00e9"', "kind": "friend", "address": {"city": "Oslo", "zip_code": -12},
        "tags": ["a", "b"], "score": None, "active": True,
    })
    for n in range(len(full) + 1):
        assert prefix_ok(c, full[:n]), full[:n]
    v = c.start()
    assert v.feed(full) and v.complete() and v.closed()
    for bad in (
        '{"name": 1', '{"kind": "enemy"', '{"extra"', '{ "name"', '{"name":  "x"', '{"name"\n',
        '{"address": {"city": "x", "zip_code": 1.5', '{"tags": ["a", "b", "c", "d"', "[",
        '{"name": "x"}',  # required keys missing
        '{"name": "x", "name"',  # a key twice
        '{"name": "01234567890123456"',  # maxLength
    ):
        assert not prefix_ok(c, bad), bad


def test_optional_enum_array_and_generic_object() -> None:
    enum = JSONSchemaConstraint(SCHEMAS["enum"])
    for ok in ('{"colour": "red"}', '{"colour": 3}', '{"colour": null}'):
        v = enum.start()
        assert v.feed(ok) and v.closed(), ok
    assert not prefix_ok(enum, '{"colour": "blue')
    array = JSONSchemaConstraint(SCHEMAS["array"])
    assert not prefix_ok(array, "[]") and prefix_ok(array, "[1, 2, 3, 4]") and not prefix_ok(array, "[1,2,3,4,")
    anything = JSONSchemaConstraint(None)  # json_mode: any object
    v = anything.start()
    assert v.feed('{"a": [1, {"b": null}], "c": true, "d": -1.5e3}') and v.closed()
    assert not prefix_ok(anything, "[1]")
    number = JSONSchemaConstraint({"type": "number"}).start()
    assert number.feed("12") and number.complete() and not number.closed()  # "123" may follow
    assert not prefix_ok(JSONSchemaConstraint({"type": "number"}), "1e999")  # would parse as inf


def test_tool_call_grammar() -> None:
    c = ToolCallConstraint(TOOLS)
    call = '<tool_call>\n{"name": "add", "arguments": {"count": 2, "ratio": 0.5}}\n</tool_call>'
    v = c.start()
    assert v.feed(call) and v.closed()
    v = c.start()
    assert v.feed('<tool_call>\n{"name": "ping", "arguments": {}}\n</tool_call>') and v.closed()
    assert not prefix_ok(c, '<tool_call>\n{"name": "mul')
    assert not prefix_ok(c, '<tool_call>\n{"name": "add", "arguments": {"name"')  # another tool's key
    assert not prefix_ok(c, "Sure, ")
    with pytest.raises(ValueError):
        ToolCallConstraint([])
    with pytest.raises(TypeError):
        JSONSchemaConstraint("not a schema")  # type: ignore[arg-type]


# -- the engine hook ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gen(tiny_model_dir) -> GuidedGenerator:
    return GuidedGenerator.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="module")
def pad_gen(tiny_model_dir, tiny_reward_model_dir) -> GuidedGenerator:
    persrm = PersonalizedRewardModel.from_pretrained(tiny_reward_model_dir, value_head=True)
    return GuidedGenerator.from_pretrained(tiny_model_dir, reward_model=persrm)


def check_schema_valid(name: str, value: object) -> None:
    if name == "nested":
        Person.model_validate(value)
    elif name == "flat":
        Flat.model_validate(value)
    elif name == "enum":
        assert value["colour"] in ("red", "green", 3, None)  # type: ignore[index]
    else:
        assert isinstance(value, list) and 1 <= len(value) <= 4 and all(isinstance(x, int) for x in value)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
@pytest.mark.parametrize("do_sample", [False, True])
def test_constrained_output_is_schema_valid(gen: GuidedGenerator, name: str, do_sample: bool) -> None:
    for seed in (0, 1) if do_sample else (0,):
        result = gen.generate(
            MESSAGES, preference="be brief", max_new_tokens=160, do_sample=do_sample, temperature=1.3, seed=seed,
            constraint=JSONSchemaConstraint(SCHEMAS[name]),
        )
        assert result.finish_reason == "stop", result.text
        check_schema_valid(name, json.loads(result.text))


def test_a_tight_budget_still_closes_the_value(gen: GuidedGenerator) -> None:
    """Near max_new_tokens every candidate must leave room for the shortest completion."""
    schema = {"type": "object", "properties": {"note": {"type": "string"}, "n": {"type": "integer"}},
              "required": ["note", "n"]}
    for seed in range(4):
        result = gen.generate(
            MESSAGES, max_new_tokens=24, do_sample=True, temperature=1.5, seed=seed,
            constraint=JSONSchemaConstraint(schema),
        )
        value = json.loads(result.text)
        assert isinstance(value["note"], str) and isinstance(value["n"], int)
        assert len(result.token_ids) <= 24


@pytest.mark.parametrize("strategy", ["amulet", "pad", "base"])
def test_constraint_composes_with_strategies_and_batches(
    gen: GuidedGenerator, pad_gen: GuidedGenerator, strategy: str
) -> None:
    engine = pad_gen if strategy == "pad" else gen
    requests = [
        GenerationRequest(MESSAGES, "be brief", strategy, 120, constraint=ToolCallConstraint(TOOLS)),
        GenerationRequest(MESSAGES, "be brief", strategy, 12),  # unconstrained, same batch
        GenerationRequest(
            MESSAGES, "be brief", strategy, 160, True, seed=3, constraint=JSONSchemaConstraint(SCHEMAS["nested"])
        ),
    ]
    called, free, structured = engine.generate_batch(requests)
    content, calls = parse_tool_calls(called.text, TOOLS)
    assert content == "" and len(calls) == 1 and calls[0].name in {"add", "find_person", "ping"}
    Person.model_validate(json.loads(structured.text))
    assert free.token_ids == engine.generate(MESSAGES, "be brief", strategy, 12).token_ids
    assert called.trace.strategy == strategy and len(called.trace.tokens) == len(called.token_ids)


def test_streamed_constrained_output_matches(gen: GuidedGenerator) -> None:
    constraint = JSONSchemaConstraint(SCHEMAS["flat"])
    stream = gen.stream(MESSAGES, max_new_tokens=80, constraint=constraint)
    text = "".join(stream)
    assert stream.result is not None and text == stream.result.text
    assert text == gen.generate(MESSAGES, max_new_tokens=80, constraint=constraint).text
    Flat.model_validate_json(text)


def test_greedy_takes_the_best_valid_token(gen: GuidedGenerator) -> None:
    """Lazy masking is exact for greedy: every token scored above the chosen one is invalid there."""
    token_constraint = TokenConstraint(JSONSchemaConstraint(SCHEMAS["enum"]), gen.tokenizer, gen.eos_token_ids)
    scores = torch.randn(gen.vocab_size, generator=torch.Generator().manual_seed(1))
    while not token_constraint.validator.closed():
        token = token_constraint.choose_greedy(scores)
        better = (scores > scores[token]).nonzero()[:, 0].tolist()
        assert not any(token_constraint._allowed(t) for t in better)
        token_constraint.accept(token)
        scores = scores.roll(5)
    assert json.loads(token_constraint.text())["colour"] in ("red", "green", 3, None)


def test_candidates_checked_stay_far_below_the_vocabulary(gen: GuidedGenerator) -> None:
    """Efficiency by count, not time: per step the constraint tests a few candidates, never the vocabulary."""
    scores = torch.randn(gen.vocab_size, generator=torch.Generator().manual_seed(0))
    token_constraint = TokenConstraint(JSONSchemaConstraint(SCHEMAS["flat"]), gen.tokenizer, gen.eos_token_ids)
    steps = 0
    while not token_constraint.validator.closed() and steps < 60:
        token = token_constraint.choose_greedy(scores)
        token_constraint.accept(token)
        steps += 1
        scores = scores.roll(7)
    Flat.model_validate_json(token_constraint.text())
    # Random scores: a valid token is usually among the first few; the fallback bounds the rest.
    bound = 8 + 64 + 512 + len(single_char_tokens(gen.tokenizer)) + len(gen.eos_token_ids)
    assert token_constraint.checked < steps * bound
    assert token_constraint.checked / steps < gen.vocab_size / 4


def test_adversarial_scores_use_the_single_character_fallback(gen: GuidedGenerator) -> None:
    """Valid tokens ranked last: greedy tests its bounded chunks, then the single-character tokens."""
    token_constraint = TokenConstraint(ToolCallConstraint(TOOLS), gen.tokenizer, gen.eos_token_ids)
    head = gen.tokenizer.encode("<", add_special_tokens=False)
    scores = torch.zeros(gen.vocab_size)
    scores[head] = -100.0  # the only valid first characters, ranked last
    token = token_constraint.choose_greedy(scores)
    assert gen.tokenizer.decode([token]) == "<"
    assert token_constraint.checked <= min(512, gen.vocab_size) + len(single_char_tokens(gen.tokenizer))


def test_bad_constraint_is_refused(gen: GuidedGenerator) -> None:
    with pytest.raises(TypeError, match="constraint"):
        gen.generate(MESSAGES, max_new_tokens=4, constraint={"type": "object"})  # type: ignore[arg-type]


def test_dead_end_raises_a_clear_error(gen: GuidedGenerator) -> None:
    # An enum value no ASCII continuation can spell with single-character tokens, ranked below all.
    constraint = JSONSchemaConstraint({"enum": ["\u2603\u2603"]})
    token_constraint = TokenConstraint(constraint, gen.tokenizer, gen.eos_token_ids)
    with pytest.raises(GenerationError, match="constraint"):
        for _ in range(3):
            token_constraint.accept(token_constraint.choose_greedy(torch.zeros(gen.vocab_size)))
