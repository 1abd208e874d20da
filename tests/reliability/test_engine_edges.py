"""Engine edges: non-finite logits, stop strings across token boundaries, the context window, a model
without a chat template, and a reward model with another tokenizer. Each has one defined behaviour."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import torch
from transformers import AutoModelForCausalLM

from pad_integrations import GenerationRequest, GuidedGenerator
from pad_integrations.errors import (
    GenerationError,
    InvalidRequestError,
    ModelLoadError,
    TokenizerMismatchError,
)
from pad_integrations.generation import PersonalizedRewardModel
from pad_integrations.generation.strategies import STRATEGIES, StepView, Strategy
from pad_integrations.runtime import DecodeQueue, batch_group
from pad_integrations.testing.tiny_models import TinySpec, build_tiny_model, default_corpus, train_tokenizer

pytestmark = pytest.mark.reliability

MESSAGES = [{"role": "user", "content": "Explain the weather briefly, please."}]
PREF = "Keep answers short and to the point."
GUIDED = ("base", "prompt", "linear", "amulet")


@pytest.fixture(scope="module")
def gen(tiny_model_dir) -> GuidedGenerator:
    return GuidedGenerator.from_pretrained(tiny_model_dir)


class LogitFault:
    """A forward hook on the LM head that corrupts the logits of chosen sequences of the batch."""

    def __init__(self, gen: GuidedGenerator) -> None:
        self.mode: str | None = None
        self.rows: slice = slice(None)
        self.handle = gen.model.get_output_embeddings().register_forward_hook(self)

    def __call__(self, module: torch.nn.Module, args: tuple, out: torch.Tensor) -> torch.Tensor:
        if self.mode == "nan":
            out[self.rows] = float("nan")
        elif self.mode == "posinf":
            out[self.rows, ..., 7] = float("inf")
        elif self.mode == "neginf":
            out[self.rows] = float("-inf")
        return out


@pytest.fixture
def fault(gen) -> Iterator[LogitFault]:
    hook = LogitFault(gen)
    yield hook
    hook.handle.remove()


@pytest.mark.parametrize("mode", ["nan", "posinf"])
@pytest.mark.parametrize("strategy", GUIDED)
@pytest.mark.parametrize("do_sample", [False, True])
def test_nan_or_inf_logits_are_a_generation_error_and_free_the_model(gen, fault, mode, strategy, do_sample):
    fault.mode = mode
    with pytest.raises(GenerationError, match=r"NaN|inf"):
        gen.generate(MESSAGES, preference=PREF, strategy=strategy, max_new_tokens=4, do_sample=do_sample, seed=3)
    fault.mode = None
    assert gen.generate(MESSAGES, preference=PREF, strategy=strategy, max_new_tokens=2).usage.output_tokens <= 2


def test_nan_in_one_sequence_of_a_batch_is_detected(gen, fault):
    fault.mode, fault.rows = "nan", slice(0, 1)  # only the first context of the first request
    requests = [GenerationRequest(MESSAGES, PREF, "amulet", max_new_tokens=3),
                GenerationRequest(MESSAGES, None, "base", max_new_tokens=3)]
    with pytest.raises(GenerationError, match="NaN"):
        gen.generate_batch(requests)


@pytest.mark.parametrize("do_sample", [False, True])
def test_every_token_excluded_is_a_generation_error(gen, fault, do_sample):
    fault.mode = "neginf"
    with pytest.raises(GenerationError):
        gen.generate(MESSAGES, strategy="base", max_new_tokens=3, do_sample=do_sample, seed=1)


def test_an_overflowing_parameter_is_refused_before_any_decoding(gen):
    """r=1e308 used to pass validation and overflow (1+r)·logp to NaN mid-decode; it is now out of the
    documented range and refused up front, as a client mistake."""
    with pytest.raises(InvalidRequestError, match=r"r must be a number in \[-100, 100\]"):
        gen.generate(MESSAGES, preference=PREF, strategy="linear", max_new_tokens=3, r=1e308)


class _NaNScores(Strategy):
    """A strategy that poisons its rows with NaN scores, as a numerically broken one would."""

    name = "test-nan-scores"

    def contexts(self, n_prefs: int) -> list[str]:
        return ["base"]

    def scores(self, view: StepView, n_prefs: int) -> torch.Tensor:
        return torch.full_like(view.logits["base"], float("nan"))


def test_a_request_whose_scores_turn_nan_fails_alone_in_a_shared_decode(gen, monkeypatch):
    """Whatever makes one request's scores NaN, in a shared decode queue that request must fail on its
    own, never take other users' rows with it."""
    monkeypatch.setitem(STRATEGIES, _NaNScores.name, _NaNScores)
    queue = DecodeQueue(gen)
    try:
        poisoned = GenerationRequest(MESSAGES, PREF, _NaNScores.name, max_new_tokens=3)
        healthy = [GenerationRequest(MESSAGES, f"Mention zq{i}.", "amulet", max_new_tokens=3) for i in range(3)]
        with batch_group(4):  # all four meet in one decode
            futures = [queue.submit(r) for r in [poisoned, *healthy]]
        with pytest.raises(GenerationError, match="NaN"):
            futures[0].result(timeout=120)
        assert [f.result(timeout=120).usage.output_tokens <= 3 for f in futures[1:]] == [True] * 3
    finally:
        queue.close()


@pytest.mark.parametrize("where", ["message", "preference"])
def test_a_lone_surrogate_works_or_is_a_value_error_that_says_so(gen, where):
    messages = [{"role": "user", "content": "Hi \ud800 there" if where == "message" else "Hi"}]
    preference = "Be brief \udfff." if where == "preference" else None
    try:
        result = gen.generate(messages, preference=preference, strategy="amulet", max_new_tokens=2)
    except ValueError as exc:
        assert "surrogate" in str(exc)
    else:
        assert result.usage.output_tokens <= 2


# -- stop strings ----------------------------------------------------------------------------------


def _spanning_stop(gen: GuidedGenerator, ids: list[int]) -> tuple[str, int]:
    """A stop string made of the end of one generated token and the start of the next, and where it starts."""
    pieces = [gen.tokenizer.decode([t]) for t in ids]
    text = "".join(pieces)
    offset = 0
    for left, right in itertools.pairwise(pieces):
        offset += len(left)
        if len(left.strip()) >= 2 and len(right.strip()) >= 2:
            stop = left[-2:] + right[:2]
            if text.find(stop) == offset - 2:  # its first occurrence is the one across this boundary
                return stop, offset - 2
    raise AssertionError(f"no two adjacent multi-character tokens in {pieces!r}")


@pytest.mark.parametrize("strategy", ["base", "amulet"])
def test_a_stop_string_spanning_tokens_cuts_text_tokens_and_stream_alike(gen, strategy):
    free = gen.generate(MESSAGES, preference=PREF, strategy=strategy, max_new_tokens=24)
    stop, at = _spanning_stop(gen, free.token_ids)
    res = gen.generate(MESSAGES, preference=PREF, strategy=strategy, max_new_tokens=24, stop=[stop])
    assert (res.text, res.finish_reason) == (free.text[:at], "stop")
    # The kept tokens are the unconstrained run's, up to and including the one where the stop begins.
    assert res.token_ids == free.token_ids[: len(res.token_ids)]
    assert gen.tokenizer.decode(res.token_ids).startswith(res.text)
    assert res.usage.output_tokens == len(res.token_ids) < len(free.token_ids)
    stream = gen.stream(MESSAGES, preference=PREF, strategy=strategy, max_new_tokens=24, stop=[stop])
    deltas = list(stream)
    assert "".join(deltas) == res.text and stream.result.text == res.text


def test_a_stop_string_in_the_prompt_only_never_stops_the_answer(gen):
    free = gen.generate(MESSAGES, max_new_tokens=8, strategy="base")
    word = "weather"  # in the prompt
    assert word not in free.text
    res = gen.generate(MESSAGES, max_new_tokens=8, strategy="base", stop=[word])
    assert (res.text, res.token_ids) == (free.text, free.token_ids)


# -- the context window ---------------------------------------------------------------------------


@pytest.fixture
def narrow(tiny_model_dir) -> GuidedGenerator:
    return GuidedGenerator.from_pretrained(tiny_model_dir)


def test_each_row_of_a_batch_stops_at_its_own_room_in_the_context_window(narrow):
    short = [{"role": "user", "content": "Hi."}]
    long = [{"role": "user", "content": "Explain the weather in detail, please, thank you. " * 3}]
    n_short, n_long = narrow.count_tokens(short), narrow.count_tokens(long)
    narrow.context_window = n_long + 2
    results = narrow.generate_batch(
        [GenerationRequest(short, None, "base", max_new_tokens=40),
         GenerationRequest(long, None, "base", max_new_tokens=40)]
    )
    rooms = [narrow.context_window - n_short, 2]
    for result, room in zip(results, rooms, strict=True):
        assert len(result.token_ids) <= room
        assert result.finish_reason == "length" or len(result.token_ids) < room
    assert results[1].finish_reason == "length" and len(results[1].token_ids) == 2


def test_a_prompt_that_fills_the_window_is_a_clear_value_error(narrow):
    narrow.context_window = narrow.count_tokens(MESSAGES)
    with pytest.raises(ValueError, match="context window"):
        narrow.generate(MESSAGES, strategy="base", max_new_tokens=3)


def test_a_one_megabyte_message_is_a_value_error_not_a_crash(gen):
    with pytest.raises(ValueError, match="context window"):
        gen.generate([{"role": "user", "content": "weather " * 131_072}], strategy="base", max_new_tokens=2)


# -- a model without a chat template ----------------------------------------------------------------


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> GuidedGenerator:
    directory = build_tiny_model(tmp_path_factory.mktemp("tiny-plain"), TinySpec(arch="llama", template="none", seed=4))
    return GuidedGenerator.from_pretrained(directory)


@pytest.mark.parametrize("strategy", GUIDED)
def test_a_model_without_chat_template_decodes_with_the_documented_fallback(plain, strategy):
    assert not plain.tokenizer.chat_template
    res = plain.generate(MESSAGES, preference=PREF, strategy=strategy, max_new_tokens=3)
    assert res.finish_reason in ("stop", "length") and len(res.token_ids) <= 3
    messages = [{"role": "system", "content": "Be kind."}, *MESSAGES]
    ids = plain.formatter.encode(messages, system_extra=PREF)
    text = plain.tokenizer.decode(ids)
    assert text.count(plain.tokenizer.bos_token) <= 1  # whatever the tokenizer adds, never twice
    assert text.endswith("Assistant:") and f"System: Be kind.\n\n{PREF}" in text and "User: Explain" in text


def test_tools_on_a_model_without_chat_template_are_refused(plain):
    tool = {"type": "function", "function": {"name": "magic_function", "parameters": {"type": "object"}}}
    with pytest.raises(ValueError, match="template"):
        plain.generate(MESSAGES, strategy="base", max_new_tokens=2, tools=[tool])


# -- a reward model with another tokenizer ------------------------------------------------------------


def test_a_reward_model_with_another_tokenizer_is_refused_at_load(tiny_model_dir, tiny_llama_dir, tmp_path):
    with pytest.raises(TokenizerMismatchError) as info:
        GuidedGenerator.from_pretrained(tiny_model_dir, reward_model=tiny_llama_dir)
    assert isinstance(info.value, (ValueError, ModelLoadError)) and "PersRM" in str(info.value)
    # The same vocabulary size with different token ids: caught by comparing the vocabularies.
    other = train_tokenizer(default_corpus(seed=11)[::-1], vocab_size=600, template="chatml")
    twin = build_tiny_model(tmp_path / "twin", TinySpec(seed=11), tokenizer=other)
    base = GuidedGenerator.from_pretrained(tiny_model_dir)
    if len(other) == len(base.tokenizer):
        assert other.get_vocab() != base.tokenizer.get_vocab()
    with pytest.raises(TokenizerMismatchError):
        GuidedGenerator.from_pretrained(tiny_model_dir, reward_model=twin)
    foreign = PersonalizedRewardModel(AutoModelForCausalLM.from_pretrained(tiny_llama_dir))
    with pytest.raises(TokenizerMismatchError):
        GuidedGenerator(base.model, base.tokenizer, reward_model=foreign)
