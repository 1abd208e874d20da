"""Constrained decoding: the grammars (llguidance), exact masks, budget-aware closing, and the engine hook
on a tiny random model (which would never write JSON or a tool call on its own)."""

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
from pad_integrations.generation.constraints import LarkConstraint, ToolCallTriggerConstraint
from pad_integrations.generation.token_constraint import TokenConstraint, closing_path
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


class Home(BaseModel):
    """The issue's case: a nested optional field before a required one."""

    street: str
    zip: str | None = None
    city: str


class Owner(BaseModel):
    name: str
    home: Home


class Flat(BaseModel):
    count: int
    ratio: float


class Order(BaseModel):
    code: str = Field(pattern=r"^[A-Z]{3}-[0-9]{2}$")
    qty: int = Field(ge=1, le=10)
    size: Literal["S", "M", "L"]


SCHEMAS = {
    "nested": Person.model_json_schema(),
    "flat": Flat.model_json_schema(),
    "enum": {"type": "object", "properties": {"colour": {"enum": ["red", "green", 3, None]}}, "required": ["colour"]},
    "array": {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 4},
    "keywords": Order.model_json_schema(),
}
TOOLS = [
    {"type": "function", "function": {"name": "add", "parameters": Flat.model_json_schema()}},
    {"type": "function", "function": {"name": "find_person", "parameters": Person.model_json_schema()}},
    {"type": "function", "function": {"name": "ping", "parameters": {"type": "object", "properties": {}}}},
]
MESSAGES = [{"role": "user", "content": "Fill the form please."}]


@pytest.fixture(scope="module")
def gen(tiny_model_dir) -> GuidedGenerator:
    return GuidedGenerator.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="module")
def pad_gen(tiny_model_dir, tiny_reward_model_dir) -> GuidedGenerator:
    persrm = PersonalizedRewardModel.from_pretrained(tiny_reward_model_dir, value_head=True)
    return GuidedGenerator.from_pretrained(tiny_model_dir, reward_model=persrm)


def state(gen: GuidedGenerator, constraint, text: str = "", limit: int | None = None) -> tuple[bool, TokenConstraint]:
    """Feed ``text`` (as the tokenizer splits it) to a fresh constraint; whether all of it was admitted."""
    tc = TokenConstraint(constraint, gen.tokenizer, gen.eos_token_ids, limit)
    ids = gen.tokenizer.encode(text, add_special_tokens=False) if text else []
    admitted = tc.matcher.try_consume_tokens(ids)
    tc.generated.extend(ids[:admitted])
    tc.closing = None  # computed for the empty output: stale now
    return admitted == len(ids), tc


def prefix_ok(gen: GuidedGenerator, constraint, text: str) -> bool:
    return state(gen, constraint, text)[0]


def whole(gen: GuidedGenerator, constraint, text: str) -> bool:
    ok, tc = state(gen, constraint, text)
    return ok and tc.complete()


# -- the grammars --------------------------------------------------------------------------------
def test_json_schema_accepts_exactly_the_valid_prefixes(gen: GuidedGenerator) -> None:
    c = JSONSchemaConstraint(SCHEMAS["nested"])
    full = json.dumps({
        "name": 'Ann "A\\u00e9"', "kind": "friend", "address": {"city": "Oslo", "zip_code": -12},
        "tags": ["a", "b"], "score": None, "active": True,
    })
    checked = 0
    for n in range(len(full) + 1):
        assert prefix_ok(gen, c, full[:n]), full[:n]
        checked += 1
    assert checked == len(full) + 1 and whole(gen, c, full)
    for bad in (
        '{"name": 1', '{"name": "x", "kind": "enemy"', '{"extra"', '{ "name"', '{"name":  "x"', '{"name"\n',
        '{"name": "x", "kind": "friend", "address": {"city": "x", "zip_code": 1.5', "[",
        '{"name": "x"}',  # required keys missing
        '{"name": "01234567890123456"',  # maxLength
    ):
        assert not prefix_ok(gen, c, bad), bad


def test_keywords_pattern_bounds_and_enum_are_enforced(gen: GuidedGenerator) -> None:
    c = JSONSchemaConstraint(SCHEMAS["keywords"])
    good = '{"code": "ABC-12", "qty": 10, "size": "M"}'
    assert whole(gen, c, good)
    Order.model_validate_json(good)
    for bad in ('{"code": "AB1', '{"code": "ABC-123', '{"code": "ABC-12", "qty": 55555',
                '{"code": "ABC-12", "qty": 0', '{"code": "ABC-12", "qty": 11', '{"code": "ABC-12", "qty": 1, "size": "X'):
        assert not prefix_ok(gen, c, bad), bad


def test_optional_enum_array_and_generic_object(gen: GuidedGenerator) -> None:
    enum = JSONSchemaConstraint(SCHEMAS["enum"])
    for ok in ('{"colour": "red"}', '{"colour": 3}', '{"colour": null}'):
        assert whole(gen, enum, ok), ok
    assert not prefix_ok(gen, enum, '{"colour": "blue')
    array = JSONSchemaConstraint(SCHEMAS["array"])
    assert not prefix_ok(gen, array, "[]") and whole(gen, array, "[1, 2, 3, 4]")
    assert not prefix_ok(gen, array, "[1, 2, 3, 4,")
    anything = JSONSchemaConstraint(None)  # json_mode: any object
    assert whole(gen, anything, '{"a": [1, {"b": null}], "c": true, "d": -1.5e3}')
    assert not prefix_ok(gen, anything, "[1]")
    ok, number = state(gen, JSONSchemaConstraint({"type": "number"}), "12")
    assert ok and number.complete() and not number.matcher.is_stopped()  # "123" may follow


def test_bad_schemas_and_grammars_are_refused_when_built() -> None:
    with pytest.raises(ValueError, match="JSON schema"):
        JSONSchemaConstraint({"type": "string", "pattern": "["})
    with pytest.raises(ValueError, match="JSON schema"):
        JSONSchemaConstraint({"type": "bogus"})
    with pytest.raises(TypeError):
        JSONSchemaConstraint("not a schema")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Lark"):
        LarkConstraint("start: missing_rule")
    with pytest.raises(ValueError):
        ToolCallConstraint([])
    with pytest.raises(ValueError, match="JSON schema"):
        ToolCallConstraint({"broken": {"type": "string", "pattern": "("}})


def test_lark_grammar(gen: GuidedGenerator) -> None:
    c = LarkConstraint('start: "yes" | "no" | NUM\nNUM: /[0-9]{1,3}/')
    assert whole(gen, c, "yes") and whole(gen, c, "42") and not prefix_ok(gen, c, "maybe")
    result = gen.generate(MESSAGES, max_new_tokens=8, constraint=c)
    assert result.text in ("yes", "no") or result.text.isdigit()


def test_tool_call_grammar(gen: GuidedGenerator) -> None:
    c = ToolCallConstraint(TOOLS)
    assert whole(gen, c, '<tool_call>\n{"name": "add", "arguments": {"count": 2, "ratio": 0.5}}\n</tool_call>')
    assert whole(gen, c, '<tool_call>\n{"name": "ping", "arguments": {}}\n</tool_call>')
    assert not prefix_ok(gen, c, '<tool_call>\n{"name": "mul')
    assert not prefix_ok(gen, c, '<tool_call>\n{"name": "add", "arguments": {"name"')  # another tool's key
    assert not prefix_ok(gen, c, "Sure, ")


def test_auto_tool_grammar_leaves_text_free_and_constrains_calls(gen: GuidedGenerator) -> None:
    c = ToolCallTriggerConstraint(TOOLS)
    assert whole(gen, c, "Any text at all, {even} [brackets] and <tags>.")
    call = '<tool_call>\n{"name": "add", "arguments": {"count": 2, "ratio": 0.5}}\n</tool_call>'
    assert whole(gen, c, "Let me add.\n" + call)
    assert whole(gen, c, call + "\nand " + call + "\nDone.")
    assert not prefix_ok(gen, c, "Let me add.\n<tool_call>\n{\"name\": \"mul")  # not an offered tool
    assert not prefix_ok(gen, c, "x <tool_call>\nnot json")
    ok, opened = state(gen, c, "x <tool_call>")
    assert ok and not opened.complete()  # an opened call must be finished
    # An argument may contain the closing tag: the grammar knows where the JSON ends.
    say = {"say": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}}
    tricky = '<tool_call>\n{"name": "say", "arguments": {"text": "</tool_call>"}}\n</tool_call>'
    assert whole(gen, ToolCallTriggerConstraint(say), "ok " + tricky)
    content, calls = parse_tool_calls("ok " + tricky)
    assert content == "ok" and [c.arguments for c in calls] == [{"text": "</tool_call>"}]


# -- exact masks --------------------------------------------------------------------------------
def library_allowed(tc: TokenConstraint, vocab_size: int) -> set[int]:
    """The tokens llguidance admits next, read through its one-byte-per-token API (not the bitmask this
    project unpacks), and checked against its one-token validation: a mask token is always valid (the
    mask may hold back a valid but non-canonical split of text the grammar forces)."""
    bias = tc.matcher.deep_copy().compute_logit_bias()
    allowed = {t for t in range(min(vocab_size, tc.vocab.size)) if bias[t]}
    assert all(tc.matcher.validate_tokens([t]) == 1 for t in allowed)
    return allowed


def test_greedy_takes_the_best_valid_token(gen: GuidedGenerator) -> None:
    tc = TokenConstraint(JSONSchemaConstraint(SCHEMAS["nested"]), gen.tokenizer, gen.eos_token_ids)
    scores = torch.randn(gen.vocab_size, generator=torch.Generator().manual_seed(1))
    steps = 0
    while not tc.matcher.is_stopped() and steps < 40:
        allowed = library_allowed(tc, gen.vocab_size)
        token = tc.choose_greedy(scores)
        assert token == max(allowed, key=lambda t: float(scores[t]))
        tc.accept(token)
        steps += 1
        scores = scores.roll(5)
    assert steps == 40 or tc.complete()
    assert tc.masks == steps  # one exact mask per step


def test_sampling_sees_exactly_the_valid_tokens(gen: GuidedGenerator) -> None:
    """No top-k pool: every admitted token keeps its score, every other one is -inf."""
    ok, tc = state(gen, ToolCallTriggerConstraint(TOOLS), 'Sure. <tool_call>\n{"name": "add", "arguments": {"count": ')
    assert ok
    scores = torch.randn(gen.vocab_size, generator=torch.Generator().manual_seed(2))
    seen: list[torch.Tensor] = []

    def sample(masked: torch.Tensor) -> int:
        seen.append(masked.clone())
        return int(torch.isfinite(masked).nonzero()[-1, 0])  # the highest-id admitted token

    token = tc.choose_sampled(scores, sample)
    finite = set(torch.isfinite(seen[0]).nonzero()[:, 0].tolist())
    assert finite == library_allowed(tc, gen.vocab_size) and len(finite) > 1
    assert all(float(seen[0][t]) == float(scores[t]) for t in finite)
    assert gen.tokenizer.decode([token]).strip()[:1] in set("-0123456789")


# -- budgets ----------------------------------------------------------------------------------------
def test_closing_path_is_short_and_valid_for_nested_schemas(gen: GuidedGenerator) -> None:
    for model in (Person, Owner, Order):
        _, tc = state(gen, JSONSchemaConstraint(model.model_json_schema()))
        path = closing_path(tc.matcher, tc.vocab)
        assert path is not None
        model.model_validate_json(gen.tokenizer.decode(path))
    # From the middle of a nested object (the issue's case: `{"` then the optional zip before city).
    ok, tc = state(gen, JSONSchemaConstraint(Owner.model_json_schema()), '{"name": "Al", "home": {"street": "Main')
    assert ok
    path = closing_path(tc.matcher, tc.vocab)
    assert path is not None
    text = tc.text() + gen.tokenizer.decode(path)
    assert Owner.model_validate_json(text).home.street.startswith("Main")
    assert '"zip"' not in text  # optional keys are skipped, not filled


@pytest.mark.parametrize("model", [Person, Owner, Order])
@pytest.mark.parametrize("budget", ["minimum", 96, 256])
def test_a_tight_budget_still_closes_the_value(gen: GuidedGenerator, model: type[BaseModel], budget) -> None:
    """Sampling hot from a random model: every reply is whole and valid, at the minimum budget too."""
    constraint = JSONSchemaConstraint(model.model_json_schema())
    minimum = len(closing_path(state(gen, constraint)[1].matcher, state(gen, constraint)[1].vocab) or [])
    limit = minimum if budget == "minimum" else max(budget, minimum)
    for seed in range(1 if budget == 256 else 2):
        result = gen.generate(
            MESSAGES, max_new_tokens=limit, do_sample=True, temperature=1.5, seed=seed, constraint=constraint,
        )
        model.model_validate_json(result.text)
        assert len(result.token_ids) <= limit


def test_budget_below_the_shortest_answer_is_a_clear_error(gen: GuidedGenerator) -> None:
    constraint = JSONSchemaConstraint(Person.model_json_schema())
    _, tc = state(gen, constraint)
    minimum = len(closing_path(tc.matcher, tc.vocab) or [])
    assert minimum > 5
    with pytest.raises(ValueError, match=f"at least {minimum}"):
        gen.generate(MESSAGES, max_new_tokens=minimum - 1, constraint=constraint)
    assert Person.model_validate_json(gen.generate(MESSAGES, max_new_tokens=minimum, constraint=constraint).text)


def test_a_reply_closed_by_the_budget_reports_length(gen: GuidedGenerator) -> None:
    schema = {"type": "object", "properties": {"note": {"type": "string"}}, "required": ["note"]}
    constraint = JSONSchemaConstraint(schema)
    roomy = gen.generate(MESSAGES, max_new_tokens=200, do_sample=True, temperature=1.5, seed=0, constraint=constraint)
    tight = gen.generate(MESSAGES, max_new_tokens=16, do_sample=True, temperature=1.5, seed=0, constraint=constraint)
    json.loads(tight.text)
    assert tight.finish_reason == "length" and len(tight.token_ids) <= 16
    assert len(roomy.token_ids) > 16  # the random model would have rambled on: the budget did cut it


# -- the engine hook ------------------------------------------------------------------------------
def check_schema_valid(name: str, value: object) -> None:
    if name == "nested":
        Person.model_validate(value)
    elif name == "flat":
        Flat.model_validate(value)
    elif name == "keywords":
        Order.model_validate(value)
    elif name == "enum":
        assert value["colour"] in ("red", "green", 3, None)  # type: ignore[index]
    else:
        assert isinstance(value, list) and 1 <= len(value) <= 4 and all(isinstance(x, int) for x in value)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
@pytest.mark.parametrize("do_sample", [False, True])
def test_constrained_output_is_schema_valid(gen: GuidedGenerator, name: str, do_sample: bool) -> None:
    for seed in (0, 1) if do_sample else (0,):
        result = gen.generate(
            MESSAGES, preference="be brief", max_new_tokens=96, do_sample=do_sample, temperature=1.3, seed=seed,
            constraint=JSONSchemaConstraint(SCHEMAS[name]),
        )
        check_schema_valid(name, json.loads(result.text))


@pytest.mark.parametrize("strategy", ["amulet", "pad", "base"])
def test_constraint_composes_with_strategies_and_batches(
    gen: GuidedGenerator, pad_gen: GuidedGenerator, strategy: str
) -> None:
    engine = pad_gen if strategy == "pad" else gen
    requests = [
        GenerationRequest(MESSAGES, "be brief", strategy, max_new_tokens=120, constraint=ToolCallConstraint(TOOLS)),
        GenerationRequest(MESSAGES, "be brief", strategy, max_new_tokens=12),  # unconstrained, same batch
        GenerationRequest(
            MESSAGES, "be brief", strategy, max_new_tokens=160, do_sample=True, seed=3,
            constraint=JSONSchemaConstraint(SCHEMAS["nested"]),
        ),
    ]
    called, free, structured = engine.generate_batch(requests)
    content, calls = parse_tool_calls(called.text, TOOLS)
    assert content == "" and len(calls) == 1 and calls[0].name in {"add", "find_person", "ping"}
    Person.model_validate(json.loads(structured.text))
    assert free.token_ids == engine.generate(MESSAGES, "be brief", strategy, max_new_tokens=12).token_ids
    assert called.trace.strategy == strategy and len(called.trace.tokens) == len(called.token_ids)


def test_auto_tool_calls_from_a_random_model_always_parse(gen: GuidedGenerator) -> None:
    """Whatever the model writes, a call it opens is finished as a valid call of an offered tool."""
    constraint = ToolCallTriggerConstraint(TOOLS)
    for seed in range(6):
        result = gen.generate(MESSAGES, max_new_tokens=120, do_sample=True, temperature=1.0, seed=seed,
                              constraint=constraint)
        content, calls = parse_tool_calls(result.text, TOOLS)
        assert "<tool_call>" not in content
        assert len(calls) == result.text.count("<tool_call>")
    # Force the opening: the rest must follow the grammar (the random model would not on its own).
    ok, tc = state(gen, constraint, "Let me check. <tool_call>", limit=200)
    assert ok
    rng = torch.Generator().manual_seed(0)
    while not tc.complete():
        tc.accept(tc.choose_greedy(torch.randn(gen.vocab_size, generator=rng)))
    _, calls = parse_tool_calls(tc.text(), TOOLS)
    assert len(calls) == 1 and calls[0].name in {"add", "find_person", "ping"}


def test_streamed_constrained_output_matches(gen: GuidedGenerator) -> None:
    constraint = JSONSchemaConstraint(SCHEMAS["flat"])
    stream = gen.stream(MESSAGES, max_new_tokens=80, constraint=constraint)
    text = "".join(stream)
    assert stream.result is not None and text == stream.result.text
    assert text == gen.generate(MESSAGES, max_new_tokens=80, constraint=constraint).text
    Flat.model_validate_json(text)


def test_strategy_excluding_every_valid_token_follows_the_closing_path(gen: GuidedGenerator) -> None:
    """All valid tokens scored -inf (e.g. outside PAD's top-k): the closing path's token is taken."""
    tc = TokenConstraint(JSONSchemaConstraint({"enum": ["\u2603\u2603"]}), gen.tokenizer, gen.eos_token_ids)
    scores = torch.full((gen.vocab_size,), float("-inf"))
    for _ in range(30):
        token = tc.choose_greedy(scores)
        if token in gen.eos_token_ids or tc.accept(token):
            break
    assert json.loads(tc.text()) == "\u2603\u2603"


def test_bad_constraint_is_refused(gen: GuidedGenerator) -> None:
    with pytest.raises(TypeError, match="constraint"):
        gen.generate(MESSAGES, max_new_tokens=4, constraint={"type": "object"})  # type: ignore[arg-type]


def test_token_against_the_grammar_is_an_error(gen: GuidedGenerator) -> None:
    tc = TokenConstraint(JSONSchemaConstraint(SCHEMAS["flat"]), gen.tokenizer, gen.eos_token_ids)
    bad = gen.tokenizer.encode("x", add_special_tokens=False)[0]
    with pytest.raises(GenerationError, match="against the constraint"):
        tc.accept(bad)
