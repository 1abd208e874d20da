"""The tiny models' real chat templates: Qwen2.5-Instruct's and Llama 3.1-Instruct's, verbatim.

``pad_integrations.testing.tiny_models`` ships both as the models ship them (sources in its comments);
the hashes below pin the exact text, so an edit that "tidies" a template fails here. The rest checks what
the real templates do and that the engine handles it: Qwen2.5 inserts its default system prompt and renders
tools in the system turn; Llama 3.1 always writes its date lines, and with tools adds "Environment:
ipython" and puts the tool definitions into the first user message. (The default model's own template,
read from its GGUF file, is checked in tests/test_default_model.py.)
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pad_integrations import GuidedGenerator
from pad_integrations.testing.tiny_models import LLAMA31_TEMPLATE, QWEN25_TEMPLATE, TinySpec, build_tiny_model

QWEN_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
TOOL = {
    "type": "function",
    "function": {
        "name": "steeping_time",
        "description": "Minutes to steep a kind of tea.",
        "parameters": {"type": "object", "properties": {"tea": {"type": "string"}}, "required": ["tea"]},
    },
}
HI = [{"role": "user", "content": "How long for green tea?"}]
CALL = {"role": "assistant", "content": "", "tool_calls": [
    {"id": "c1", "type": "function", "function": {"name": "steeping_time", "arguments": {"tea": "green"}}}]}


def test_the_templates_are_the_shipped_text() -> None:
    assert len(QWEN25_TEMPLATE) == 2507 and hashlib.sha256(QWEN25_TEMPLATE.encode()).hexdigest() == (
        "cd8e9439f0570856fd70470bf8889ebd8b5d1107207f67a5efb46e342330527f")
    assert len(LLAMA31_TEMPLATE) == 4614 and hashlib.sha256(LLAMA31_TEMPLATE.encode()).hexdigest() == (
        "e10ca381b1ccc5cf9db52e371f3b6651576caee0a630b452e2816b2d404d4b65")


@pytest.fixture(scope="module")
def qwen(tmp_path_factory: pytest.TempPathFactory) -> GuidedGenerator:
    path = build_tiny_model(tmp_path_factory.mktemp("tiny-qwen25"), TinySpec(arch="qwen2", template="qwen2.5", seed=5))
    return GuidedGenerator.from_pretrained(path)


@pytest.fixture(scope="module")
def llama(tiny_llama_dir: Path) -> GuidedGenerator:
    return GuidedGenerator.from_pretrained(tiny_llama_dir)


def render(g: GuidedGenerator, messages, **kw) -> str:
    return g.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **kw)


def test_qwen25_default_system_prompt_and_tools_section(qwen: GuidedGenerator) -> None:
    assert render(qwen, HI) == (f"<|im_start|>system\n{QWEN_SYSTEM}<|im_end|>\n"
                                "<|im_start|>user\nHow long for green tea?<|im_end|>\n<|im_start|>assistant\n")
    with_tools = render(qwen, HI, tools=[TOOL])
    assert with_tools.startswith(f"<|im_start|>system\n{QWEN_SYSTEM}\n\n# Tools\n\nYou may call one or more functions")
    assert '"name": "steeping_time"' in with_tools and "</tools>\n\nFor each function call" in with_tools
    history = render(qwen, [*HI, CALL, {"role": "tool", "content": "2 minutes", "tool_call_id": "c1"}])
    assert ('<tool_call>\n{"name": "steeping_time", "arguments": {"tea": "green"}}\n</tool_call><|im_end|>'
            in history)
    assert "<|im_start|>user\n<tool_response>\n2 minutes\n</tool_response><|im_end|>" in history


def test_the_engine_keeps_qwens_default_system_line_and_uses_its_tools(qwen: GuidedGenerator) -> None:
    formatter = qwen.formatter
    assert formatter.default_system == QWEN_SYSTEM and formatter.renders_tools and formatter.supports_system
    text = qwen.tokenizer.decode(formatter.encode(HI, system_extra="Answer in one sentence."))
    assert text.startswith(f"<|im_start|>system\n{QWEN_SYSTEM}\n\nAnswer in one sentence.<|im_end|>")
    tools_text = qwen.tokenizer.decode(formatter.encode(HI, tools=[TOOL]))
    assert tools_text == render(qwen, HI, tools=[TOOL])  # the template's own tool section, no fallback
    assert qwen.count_tokens(HI, tools=[TOOL]) > qwen.count_tokens(HI)
    result = qwen.generate(HI, strategy="base", max_new_tokens=3, tools=[TOOL])
    assert result.usage.input_tokens == qwen.count_tokens(HI, tools=[TOOL]) and result.token_ids


def test_llama31_date_lines_tool_section_and_single_bos(llama: GuidedGenerator) -> None:
    plain = render(llama, HI)
    assert plain == ("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                     "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|>"
                     "<|start_header_id|>user<|end_header_id|>\n\nHow long for green tea?<|eot_id|>"
                     "<|start_header_id|>assistant<|end_header_id|>\n\n")
    with_tools = render(llama, HI, tools=[TOOL])
    assert "<|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython\nCutting Knowledge Date" in with_tools
    user_turn = with_tools.split("<|start_header_id|>user<|end_header_id|>\n\n", 1)[1]
    assert user_turn.startswith("Given the following functions, please respond with a JSON for a function call")
    assert '"name": "steeping_time"' in user_turn and user_turn.index("steeping_time") < user_turn.index("green tea")
    history = render(llama, [*HI, CALL, {"role": "tool", "content": "2 minutes", "tool_call_id": "c1"}])
    assert '{"name": "steeping_time", "parameters": {"tea": "green"}}<|eot_id|>' in history
    # A string is "iterable" to Jinja, so the shipped template JSON-quotes a plain-text tool result.
    assert '<|start_header_id|>ipython<|end_header_id|>\n\n"2 minutes"<|eot_id|>' in history
    formatter = llama.formatter
    assert formatter.renders_tools and formatter.default_system is None
    ids = formatter.encode(HI, tools=[TOOL])
    assert ids.count(llama.tokenizer.convert_tokens_to_ids("<|begin_of_text|>")) == 1
    assert llama.tokenizer.decode(ids) == with_tools


def test_a_llama31_system_message_follows_the_date_lines(llama: GuidedGenerator) -> None:
    text = render(llama, [{"role": "system", "content": "Be brief."}, *HI])
    assert "Today Date: 26 Jul 2024\n\nBe brief.<|eot_id|>" in text
    ids = llama.formatter.encode(HI, system_extra="Answer in one sentence.")
    assert "Today Date: 26 Jul 2024\n\nAnswer in one sentence.<|eot_id|>" in llama.tokenizer.decode(ids)
