"""GuidedGenerator: personalized decoding of a frozen local causal LM, token by token.

The front of the engine: loading (the model, its tokenizer, a reward model), the public entry points
(``generate``, ``stream``, ``generate_batch``, ``generate_ids``) and planning (a request resolved to
token ids per context, checked before any decoding). The decode loop itself is :mod:`.loop`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from pad_integrations.errors import ConfigurationError, InvalidRequestError, ModelLoadError
from pad_integrations.generation.constraints import Constraint
from pad_integrations.generation.contexts import (
    ChatFormatter,
    Preferences,
    build_contexts,
    normalize_messages,
    normalize_preference,
)
from pad_integrations.generation.loop import DecodeLoop, Event, LoopModels, Plan
from pad_integrations.generation.reward_kinds import (
    CandidateRewardModel,
    NextTokenRewardModel,
    RewardModelKind,
    requirement,
)
from pad_integrations.generation.reward_model import (
    PersonalizedRewardModel,
    check_same_vocabulary,
    is_adapter_dir,
)
from pad_integrations.generation.sequence_reward import is_sequence_classifier
from pad_integrations.generation.strategies import Strategy, make_strategy
from pad_integrations.generation.text import normalize_stop
from pad_integrations.generation.token_constraint import check_constraint
from pad_integrations.generation.types import GenerationRequest, GenerationResult, SamplingSettings
from pad_integrations.loading import hub_kwargs, model_kwargs_with, quiet_progress

DeltaCallback = Callable[[int, str], None]


class GuidedGenerator:
    """Decode a frozen causal LM under each user's preferences (see docs/engine.md)."""

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        reward_model: PersonalizedRewardModel | PreTrainedModel | str | Path | None = None,
    ) -> None:
        if not isinstance(tokenizer, PreTrainedTokenizerBase):
            raise TypeError(f"tokenizer must be a transformers tokenizer, got {type(tokenizer).__name__}")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.model_name = str(getattr(model.config, "_name_or_path", "") or type(model).__name__)
        window = getattr(model.config, "max_position_embeddings", None) or getattr(tokenizer, "model_max_length", None)
        self.context_window = int(window) if window is not None else 2048
        self.formatter = ChatFormatter(tokenizer)
        self.vocab_size = int(model.get_output_embeddings().weight.shape[0])
        self.eos_token_ids = _eos_ids(model, tokenizer)
        self.pad_token_id = _pad_id(model, tokenizer, self.eos_token_ids)
        self.reward_models: dict[str, RewardModelKind] = {}  # kind -> the loaded reward model of that kind
        if reward_model is not None:
            self._attach_reward_model(reward_model)
        self._lock = threading.RLock()

    @classmethod
    def from_pretrained(
        cls,
        model_id_or_path: str | Path | None = None,
        reward_model: PersonalizedRewardModel | PreTrainedModel | str | Path | None = None,
        device: str | torch.device | None = None,
        dtype: torch.dtype | str | None = None,
        model_kwargs: dict[str, Any] | None = None,
    ) -> GuidedGenerator:
        """Load a causal LM and its tokenizer from a local directory or hub id (float32 on CPU by default);
        omitted, the default model, SmolLM2-135M-Instruct (``pad_integrations.demo.model_path()``).
        ``dtype="auto"`` keeps the checkpoint's dtype; ``model_kwargs`` go to both ``from_pretrained``
        calls (``revision``, ``trust_remote_code``; ``attn_implementation`` and the like to the model)."""
        dtype = getattr(torch, dtype) if isinstance(dtype, str) and dtype != "auto" else dtype
        model_kwargs = dict(model_kwargs or {})
        shared = {k: model_kwargs[k] for k in ("revision", "trust_remote_code", "token") if k in model_kwargs}
        if model_id_or_path is None:
            from pad_integrations import demo

            model_id_or_path = demo.model_path()
        source = str(model_id_or_path)
        offline = hub_kwargs(source, model_kwargs)  # a hub id with no network fails now, not after retries
        try:
            with quiet_progress():  # no "Loading weights" bar on every library, CLI and server load
                tokenizer = AutoTokenizer.from_pretrained(source, **shared, **offline)
                model = AutoModelForCausalLM.from_pretrained(
                    source, dtype=dtype or torch.float32, **model_kwargs_with(offline, model_kwargs)
                )
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"cannot load model {source!r}: {exc}") from exc
        if device is not None:
            torch.nn.Module.to(model, device)  # (transformers' own ``to`` wrapper hides the signature)
        gen = cls(model, tokenizer)
        gen.model_name = source
        if reward_model is not None:
            gen._attach_reward_model(reward_model)  # a path loads on the model's device and dtype
        return gen

    def _attach_reward_model(self, reward_model: Any, rm_tokenizer: PreTrainedTokenizerBase | None = None) -> None:
        if isinstance(reward_model, (str, Path)) and is_adapter_dir(reward_model):
            # A LoRA PersRM runs over this generator's own weights: one copy in memory, adapter on only
            # inside the PersRM's forward (the lock below serialises it with the base passes).
            with quiet_progress():  # peft loads the adapter through transformers: no "Loading weights" bar
                reward_model = PersonalizedRewardModel.from_adapter(self.model, reward_model)
        elif isinstance(reward_model, (str, Path)):
            reward_model, rm_tokenizer = _load_reward_model(reward_model, self.model.device, self.model.dtype)
        if isinstance(reward_model, PersonalizedRewardModel):
            reward_model.check_compatible(self.tokenizer, self.vocab_size)
            self._add_reward_model(NextTokenRewardModel(reward_model.eval()))
        elif is_sequence_classifier(reward_model):
            check_same_vocabulary(
                self.tokenizer, rm_tokenizer, None,
                int(reward_model.get_input_embeddings().num_embeddings), what="sequence reward model",
            )
            self._add_reward_model(CandidateRewardModel(reward_model.eval()))
        elif isinstance(reward_model, PreTrainedModel):
            self._attach_reward_model(PersonalizedRewardModel(reward_model))
        else:
            raise TypeError(
                "reward_model must be a PersonalizedRewardModel, a causal LM, a sequence classifier or a path; "
                f"got {type(reward_model).__name__}"
            )

    def _add_reward_model(self, reward_model: RewardModelKind) -> None:
        self.reward_models[reward_model.kind] = reward_model

    @property
    def persrm(self) -> PersonalizedRewardModel | None:
        """The PersRM, if one is loaded (``pad`` needs it)."""
        loaded = self.reward_models.get(NextTokenRewardModel.kind)
        return None if loaded is None else loaded.model

    @property
    def sequence_rm(self) -> PreTrainedModel | None:
        """The sequence-classification reward model, if one is loaded (``args`` needs it)."""
        loaded = self.reward_models.get(CandidateRewardModel.kind)
        return None if loaded is None else loaded.model

    def check_strategy(self, strategy: str | Strategy, n_preferences: int = 1, **params: Any) -> Strategy:
        """The strategy, made and checked against what this generator has loaded: ValueError for an unknown
        strategy or bad parameters, ConfigurationError when it needs a reward model that is not loaded
        (with ``n_preferences`` preferences; with none, no strategy reads a reward model)."""
        if isinstance(strategy, str):
            strategy = make_strategy(strategy, **params)
        kind = strategy.reward_model_kind if strategy.rm_contexts(n_preferences) else None
        if kind is not None:
            loaded = self.reward_models.get(kind)
            if loaded is None:
                raise ConfigurationError(f"strategy {strategy.name!r} needs {requirement(kind)}")
            loaded.check_strategy(strategy)
        return strategy

    # -- public API -----------------------------------------------------------------------------
    def count_tokens(self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None = None) -> int:
        """Prompt tokens of ``messages`` rendered with the chat template (generation prompt included);
        messages the engine would refuse raise InvalidRequestError, as ``generate`` does."""
        with _client_mistakes():
            return len(self.formatter.encode(normalize_messages(messages), tools=tools))

    def generate(
        self,
        messages: Sequence[Mapping[str, Any]],
        preference: Any = None,
        strategy: str = "amulet",
        sampling: SamplingSettings | None = None,
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        constraint: Constraint | None = None,
        **options: Any,
    ) -> GenerationResult:
        """Decode one reply.

        ``options`` are :class:`SamplingSettings` fields (``max_new_tokens``, ``do_sample``, ``temperature``,
        ``top_p``, ``top_k``, ``seed``, ``stop``), over ``sampling``; any other keyword is a parameter of
        the strategy. ``constraint`` (e.g. ``JSONSchemaConstraint``) restricts the reply to a grammar.
        """
        request = _request(messages, preference, strategy, sampling, tools, constraint, options)
        return self.generate_batch([request])[0]

    def stream(
        self,
        messages: Sequence[Mapping[str, Any]],
        preference: Any = None,
        strategy: str = "amulet",
        sampling: SamplingSettings | None = None,
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        constraint: Constraint | None = None,
        **options: Any,
    ) -> GenerationStream:
        """Like ``generate`` but an iterator of text deltas; ``.result`` is set once it is exhausted."""
        return self.stream_request(_request(messages, preference, strategy, sampling, tools, constraint, options))

    def stream_request(self, request: GenerationRequest) -> GenerationStream:
        """Stream one prepared request. Bad input raises here, before the first delta. The model lock is
        held while the stream is being consumed; exhaust or ``close()`` it."""
        return GenerationStream(self, [self._plan(request)])

    def generate_batch(
        self, requests: Sequence[GenerationRequest], on_delta: DeltaCallback | None = None
    ) -> list[GenerationResult]:
        """Decode requests with mixed preferences, strategies and sampling settings in one batch."""
        plans = [self._plan(r) for r in requests]
        return self._run_plans(plans, on_delta)

    def generate_ids(
        self,
        contexts: Mapping[str, Any],
        strategy: str = "amulet",
        sampling: SamplingSettings | None = None,
        *,
        weights: Sequence[float] | None = None,
        **options: Any,
    ) -> GenerationResult:
        """The same loop fed token ids per context: ``{"base": [...], "preference": [...] | [[...], ...]}``.

        Several preference contexts take ``weights`` (default 1 each); PAD/ARGS with several preferences
        also need a ``"joined"`` context. The trace names preferences ``"<ids:i>"``. ``options`` as in
        :meth:`generate`.
        """
        return self.generate_ids_batch([contexts], strategy, sampling, weights=weights, **options)[0]

    def generate_ids_batch(
        self,
        contexts: Sequence[Mapping[str, Any]],
        strategy: str = "amulet",
        sampling: SamplingSettings | None = None,
        *,
        weights: Sequence[float] | None = None,
        **options: Any,
    ) -> list[GenerationResult]:
        """``generate_ids`` for several rows at once, decoded in one batch (benchmarks, parity runs)."""
        settings, strategy_params = SamplingSettings.split(options, sampling)
        plans = [self._plan_from_ids(c, strategy, settings, weights, strategy_params) for c in contexts]
        return self._run_plans(plans, None)

    # -- planning -------------------------------------------------------------------------------
    def _plan(self, request: GenerationRequest) -> Plan:
        with _client_mistakes():
            return self._plan_request(request)

    def _plan_request(self, request: GenerationRequest) -> Plan:
        if not isinstance(request, GenerationRequest):
            raise TypeError(f"requests must be GenerationRequest objects, got {type(request).__name__}")
        params = dict(request.strategy_params)
        prompt_style = params.pop("prompt_style", "chat")
        strategy = make_strategy(request.strategy, **params)
        preferences = normalize_preference(request.preference)
        strategy.check_preferences(preferences)
        messages = normalize_messages(request.messages)
        names = list(dict.fromkeys([*strategy.contexts(len(preferences)), *strategy.rm_contexts(len(preferences))]))
        contexts = build_contexts(
            self.formatter, messages, preferences, names, prompt_style=prompt_style, tools=request.tools
        )
        return self._make_plan(strategy, preferences, contexts, request)

    def _plan_from_ids(
        self, contexts: Mapping[str, Any], strategy_name: str, sampling: SamplingSettings,
        weights: Sequence[float] | None, strategy_params: dict[str, Any],
    ) -> Plan:
        with _client_mistakes():
            return self._plan_ids(contexts, strategy_name, sampling, weights, strategy_params)

    def _plan_ids(
        self, contexts: Mapping[str, Any], strategy_name: str, sampling: SamplingSettings,
        weights: Sequence[float] | None, strategy_params: dict[str, Any],
    ) -> Plan:
        if not isinstance(contexts, Mapping):
            raise TypeError('contexts must be a dict like {"base": [ids], "preference": [ids]}')
        unknown = set(contexts) - {"base", "preference", "joined"}
        if unknown:
            raise ValueError(f"unknown context name(s) {sorted(unknown)}; use base, preference, joined")
        prefs_ids = contexts.get("preference") or []
        if prefs_ids and isinstance(prefs_ids[0], int):
            prefs_ids = [prefs_ids]
        weights = list(weights) if weights is not None else [1.0] * len(prefs_ids)
        if len(weights) != len(prefs_ids):
            raise ValueError(f"{len(weights)} weights for {len(prefs_ids)} preference contexts")
        preferences = normalize_preference([(f"<ids:{i}>", w) for i, w in enumerate(weights)])
        if len(preferences) != len(prefs_ids):
            raise ValueError("weights must be non-zero")
        strategy = make_strategy(strategy_name, **strategy_params)
        strategy.check_preferences(preferences)
        ids: dict[str, list[int]] = {f"pref{i}": _check_ids(p, f"preference[{i}]") for i, p in enumerate(prefs_ids)}
        if "base" in contexts:
            ids["base"] = _check_ids(contexts["base"], "base")
        if "joined" in contexts:
            ids["joined"] = _check_ids(contexts["joined"], "joined")
        elif len(prefs_ids) == 1:
            ids["joined"] = ids["pref0"]
        needed = set(strategy.contexts(len(preferences))) | set(strategy.rm_contexts(len(preferences)))
        missing = needed - ids.keys()
        if missing:
            raise ValueError(f"strategy {strategy_name!r} needs context(s) {sorted(missing)} here")
        request = GenerationRequest([], None, strategy_name, sampling)
        return self._make_plan(strategy, preferences, {k: ids[k] for k in needed}, request)

    def _make_plan(
        self, strategy: Strategy, preferences: Preferences, contexts: dict[str, list[int]], request: GenerationRequest
    ) -> Plan:
        request.sampling.check()
        check_constraint(request.constraint)
        self.check_strategy(strategy, len(preferences))
        for name, ids in contexts.items():
            if len(ids) >= self.context_window:
                what = "prompt" if name == "base" else f"prompt with preference ({name})"
                raise ValueError(
                    f"the {what} has {len(ids)} tokens; the context window is {self.context_window} "
                    "(shorten the conversation or the preference)"
                )
        return Plan(strategy, preferences, contexts, request.sampling, normalize_stop(request.sampling.stop),
                    request.constraint)

    # -- decoding -------------------------------------------------------------------------------
    def _run_plans(self, plans: list[Plan], on_delta: DeltaCallback | None) -> list[GenerationResult]:
        results: list[GenerationResult | None] = [None] * len(plans)
        for index, delta, result in self._decode(plans, on_delta is not None):
            if isinstance(result, BaseException):
                raise result  # one-shot decodes fail as a whole (the decode queue fails the row alone)
            if delta and on_delta is not None:
                on_delta(index, delta)
            if result is not None:
                results[index] = result
        return [r for r in results if r is not None]

    def _decode(self, plans: list[Plan], streaming: bool) -> Generator[Event, None, None]:
        """Yield ``(request index, text delta, result or None)`` as decoding proceeds (model lock held)."""
        with self._lock:
            yield from DecodeLoop(self.loop_models(), plans).run(streaming)

    def loop_models(self) -> LoopModels:
        """What a :class:`DecodeLoop` runs: this generator's model, tokenizer facts and reward models."""
        return LoopModels(
            self.model, self.tokenizer, self.eos_token_ids, self.pad_token_id, self.context_window,
            dict(self.reward_models),
        )

    def plan(self, request: GenerationRequest) -> Plan:
        """``request`` resolved to token ids and checked (InvalidRequestError for bad input), for a
        caller that runs its own :class:`DecodeLoop` (the continuous decode queue)."""
        return self._plan(request)


class GenerationStream(Iterator[str]):
    """Iterator of text deltas of one request; ``result`` holds the GenerationResult once exhausted."""

    def __init__(self, generator: GuidedGenerator, plans: list[Plan]) -> None:
        self._events = generator._decode(plans, streaming=True)
        self.result: GenerationResult | None = None

    def __iter__(self) -> GenerationStream:
        return self

    def __next__(self) -> str:
        for _, delta, result in self._events:
            if isinstance(result, BaseException):
                raise result
            if result is not None:
                self.result = result
            if delta:
                return delta
        raise StopIteration

    def close(self) -> None:
        """Stop decoding early and release the model."""
        self._events.close()


# -- helpers ------------------------------------------------------------------------------------
@contextlib.contextmanager
def _client_mistakes() -> Iterator[None]:
    """Bad input found while planning is the caller's mistake: an InvalidRequestError (still a ValueError)."""
    try:
        yield
    except InvalidRequestError:
        raise
    except ValueError as exc:
        raise InvalidRequestError(str(exc)) from exc


def _request(
    messages: Sequence[Mapping[str, Any]], preference: Any, strategy: str, sampling: SamplingSettings | None,
    tools: Sequence[Mapping[str, Any]] | None, constraint: Constraint | None, options: Mapping[str, Any],
) -> GenerationRequest:
    """``generate``/``stream`` arguments as one request: sampling fields in ``options`` go to the sampling
    settings, the rest are the strategy's parameters."""
    settings, strategy_params = SamplingSettings.split(options, sampling)
    return GenerationRequest(
        messages, preference, strategy, settings, tools=tools, strategy_params=strategy_params, constraint=constraint
    )


def _check_ids(ids: Any, what: str) -> list[int]:
    if isinstance(ids, torch.Tensor):
        ids = ids.reshape(-1).tolist()
    if not isinstance(ids, Sequence) or not ids or not all(isinstance(t, int) and not isinstance(t, bool) for t in ids):
        raise ValueError(f"context {what!r} must be a non-empty list of token ids")
    return list(ids)


def _eos_ids(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> frozenset[int]:
    ids: set[int] = set()
    config_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for value in (config_eos, tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, (list, tuple)):
            ids.update(int(v) for v in value)
    return frozenset(ids)


def _pad_id(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, eos: frozenset[int]) -> int:
    for value in (tokenizer.pad_token_id, getattr(model.generation_config, "pad_token_id", None)):
        if isinstance(value, int):
            return value
    return min(eos) if eos else 0  # masked out anyway: any valid id will do


def _load_reward_model(path: str | Path, device: Any, dtype: Any) -> tuple[Any, PreTrainedTokenizerBase | None]:
    """A PersRM, or a sequence classifier (by its config's architecture) with its tokenizer if it has one."""
    from transformers import AutoConfig, AutoModelForSequenceClassification

    offline = hub_kwargs(str(path), what="reward model")
    try:
        config = AutoConfig.from_pretrained(str(path), **offline)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load reward model {str(path)!r}: {exc}") from exc
    if not any(a.endswith("ForSequenceClassification") for a in (config.architectures or [])):
        with quiet_progress():
            rm = PersonalizedRewardModel.from_pretrained(
                path, device=device, dtype=dtype or torch.float32, **model_kwargs_with(offline)
            )
        return rm, None
    with quiet_progress():
        model = AutoModelForSequenceClassification.from_pretrained(
            str(path), dtype=dtype or torch.float32, **model_kwargs_with(offline)
        )
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError):
        tokenizer = None
    return (model.to(device) if device is not None else model), tokenizer
