"""The bundled demo model: plain Hugging Face loading, size, chat template, and what it can do."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from pad_integrations import demo
from pad_integrations.evaluation.grammar import grammatical_fraction
from pad_integrations.generation.reward_model import VALUE_HEAD_FILE, PersonalizedRewardModel
from pad_integrations.tools import parse_tool_calls

DEMO_DIR = Path(demo.__file__).parent
MAGIC = {"type": "function", "function": {
    "name": "magic_function", "description": "Apply a magic function to an input.",
    "parameters": {"properties": {"input": {"exclusiveMaximum": 1000, "exclusiveMinimum": -1000, "type": "integer"}},
                   "required": ["input"], "type": "object"}}}


@pytest.fixture(scope="module")
def base():
    tokenizer = AutoTokenizer.from_pretrained(demo.model_path())
    model = AutoModelForCausalLM.from_pretrained(demo.model_path())
    return model.eval(), tokenizer


def _greedy(base, messages, tools=None, max_new_tokens=60) -> str:
    model, tokenizer = base
    ids = tokenizer.apply_chat_template(messages, tools=tools, add_generation_prompt=True, return_tensors="pt",
                                        return_dict=True)
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)


def test_package_data_is_small() -> None:
    files = [p for p in DEMO_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert sum(p.stat().st_size for p in files) <= 15 * 1024 * 1024
    assert len(files) <= 20


def test_both_directories_load_with_plain_from_pretrained(base) -> None:
    model, tokenizer = base
    assert next(model.parameters()).dtype == torch.float32  # float16 on disk, float32 declared
    rm_tokenizer = AutoTokenizer.from_pretrained(demo.reward_model_path())
    rm_model = AutoModelForCausalLM.from_pretrained(demo.reward_model_path())
    assert rm_tokenizer.get_vocab() == tokenizer.get_vocab()
    assert rm_model.config.vocab_size == model.config.vocab_size
    assert (Path(demo.reward_model_path()) / VALUE_HEAD_FILE).is_file()
    rm = PersonalizedRewardModel.from_pretrained(demo.reward_model_path())
    assert rm.v_head is not None
    rm.check_compatible(tokenizer, model.config.vocab_size)


def test_chat_template_is_chatml_with_tools(base) -> None:
    _, tokenizer = base
    text = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tools=[MAGIC], tokenize=False,
                                         add_generation_prompt=True)
    assert text.startswith("<|im_start|>system\n# Tools") and '"name": "magic_function"' in text
    assert text.endswith("<|im_start|>assistant\n")
    assert tokenizer.eos_token == "<|im_end|>"


@pytest.mark.parametrize("greeting", ["Hello", "Hi there"])
def test_answers_a_greeting_in_its_english(base, greeting: str) -> None:
    text = _greedy(base, [{"role": "user", "content": greeting}])
    assert text.strip() and grammatical_fraction(text) == 1.0, text


def test_answers_a_question_in_its_english(base) -> None:
    text = _greedy(base, [{"role": "user", "content": "Tell me about tea."}], max_new_tokens=120)
    assert "tea" in text.lower() and grammatical_fraction(text) >= 0.8, text


def test_emits_a_well_formed_tool_call_when_asked_to_use_a_tool(base) -> None:
    # The demo model writes the Hermes markup and valid JSON, but does not reliably copy the function
    # name and argument values from the tool list (docs/training.md, "Limits").
    text = _greedy(base, [{"role": "user", "content": "What is the value of magic_function(3)? Use the tool."}],
                   tools=[MAGIC])
    assert text.startswith("<tool_call>\n") and text.endswith("</tool_call>"), text
    _, calls = parse_tool_calls(text)
    assert len(calls) == 1 and isinstance(calls[0].arguments, dict), text


def test_answers_with_the_tool_result(base) -> None:
    messages = [
        {"role": "user", "content": "What is the weather in San Francisco, CA?"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function", "function": {
            "name": "get_weather", "arguments": {"location": "San Francisco, CA"}}}]},
        {"role": "tool", "content": "It's sunny.", "tool_call_id": "c1", "name": "get_weather"},
    ]
    weather = {"type": "function", "function": {
        "name": "get_weather", "description": "Get the weather at a location.",
        "parameters": {"properties": {"location": {"type": "string"}}, "required": ["location"], "type": "object"}}}
    text = _greedy(base, messages, tools=[weather])
    assert "It's sunny." in text and "<tool_call>" not in text, text


@pytest.mark.slow
def test_recipe_is_deterministic(tmp_path: Path) -> None:
    from pad_integrations.training.demo_recipe import main

    def build(name: str) -> dict[str, str]:
        out = tmp_path / name
        args = ["--out", str(out), "--workdir", str(tmp_path / f"{name}-work"), "--quiet",
                "--n-sft-examples", "120", "--sft-steps", "3", "--n-pairs", "16", "--dpo-steps", "2",
                "--head-steps", "1", "--hidden-size", "32", "--num-heads", "2", "--intermediate-size", "64",
                "--num-layers", "1", "--vocab-size", "400"]
        assert main(args) == 0
        return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(out.rglob("*")) if p.is_file()}

    first, second = build("a"), build("b")
    assert first == second
    assert {"base/model.safetensors", "persrm/model.safetensors", "persrm/value_head.safetensors"} <= set(first)
