"""GuidedGenerator: personalized decoding of a frozen local causal LM, token by token.

The loop: every context of every request is one sequence of one left-padded batch with one KV cache
(a PersRM, if used, runs its contexts in its own cache in the same step); each step reads the last
position's logits, lets each request's strategy turn its contexts' logits into scores, samples or takes
the argmax with transformers' warpers, and feeds the chosen token to every context of the request.
Finished requests are pruned from the caches.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    LogitsProcessorList,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from pad_integrations.errors import ConfigurationError, GenerationError, ModelLoadError
from pad_integrations.generation.batch import CachedBatch
from pad_integrations.generation.constraints import Constraint
from pad_integrations.generation.contexts import (
    ChatFormatter,
    Preferences,
    build_contexts,
    normalize_messages,
    normalize_preference,
)
from pad_integrations.generation.reward_model import PersonalizedRewardModel, check_same_vocabulary
from pad_integrations.generation.sequence_reward import SequenceRewardScorer, is_sequence_classifier
from pad_integrations.generation.strategies import StepView, Strategy, make_strategy, normalised_weights
from pad_integrations.generation.text import StopMatcher, TextTracker, normalize_stop
from pad_integrations.generation.token_constraint import TokenConstraint, check_constraint
from pad_integrations.generation.types import GenerationRequest, GenerationResult, TokenTrace, Trace, Usage

DeltaCallback = Callable[[int, str], None]


@dataclass
class _Plan:
    """A request resolved to token ids: what the loop needs and nothing else."""

    strategy: Strategy
    preferences: Preferences
    contexts: dict[str, list[int]]
    max_new_tokens: int
    do_sample: bool
    temperature: float
    top_p: float
    top_k: int
    seed: int | None
    stop: tuple[str, ...]
    constraint: Constraint | None = None

    @property
    def n_prefs(self) -> int:
        return len(self.preferences)


@dataclass
class _Row:
    """A request in flight."""

    index: int
    plan: _Plan
    slots: dict[str, dict[str, int]]  # model kind ("base", "persrm", "sequence") -> context -> sequence
    group_key: tuple[Any, ...]
    warpers: LogitsProcessorList
    generator: torch.Generator | None
    stops: StopMatcher
    tracker: TextTracker
    limit: int
    weights: torch.Tensor
    generated: list[int] = field(default_factory=list)
    traces: list[TokenTrace] = field(default_factory=list)
    finish_reason: str | None = None
    constraint: TokenConstraint | None = None


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
        self.context_window = int(
            getattr(model.config, "max_position_embeddings", None) or getattr(tokenizer, "model_max_length", 2048)
        )
        self.formatter = ChatFormatter(tokenizer)
        self.vocab_size = int(model.get_output_embeddings().weight.shape[0])
        self.eos_token_ids = _eos_ids(model, tokenizer)
        self.pad_token_id = _pad_id(model, tokenizer, self.eos_token_ids)
        self.persrm: PersonalizedRewardModel | None = None
        self.sequence_rm: PreTrainedModel | None = None
        self.reward_label = 0  # which output of a multi-output sequence reward model is the reward
        if reward_model is not None:
            self._attach_reward_model(reward_model)
        self._lock = threading.RLock()

    @classmethod
    def from_pretrained(
        cls,
        model_id_or_path: str | Path,
        reward_model: PersonalizedRewardModel | PreTrainedModel | str | Path | None = None,
        device: str | torch.device | None = None,
        dtype: torch.dtype | str | None = None,
    ) -> GuidedGenerator:
        """Load a causal LM and its tokenizer from a local directory or hub id (float32 on CPU by default)."""
        dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
        source = str(model_id_or_path)
        try:
            tokenizer = AutoTokenizer.from_pretrained(source)
            model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype or torch.float32)
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"cannot load model {source!r}: {exc}") from exc
        if device is not None:
            model.to(device)
        gen = cls(model, tokenizer)
        gen.model_name = source
        if reward_model is not None:
            if isinstance(reward_model, (str, Path)):
                gen._attach_reward_model(*_load_reward_model(reward_model, device, dtype))
            else:
                gen._attach_reward_model(reward_model)
        return gen

    def _attach_reward_model(self, reward_model: Any, rm_tokenizer: PreTrainedTokenizerBase | None = None) -> None:
        if isinstance(reward_model, (str, Path)):
            reward_model, rm_tokenizer = _load_reward_model(reward_model, self.model.device, self.model.dtype)
        if isinstance(reward_model, PersonalizedRewardModel):
            reward_model.check_compatible(self.tokenizer, self.vocab_size)
            self.persrm = reward_model.eval()
        elif is_sequence_classifier(reward_model):
            check_same_vocabulary(
                self.tokenizer, rm_tokenizer, None,
                int(reward_model.get_input_embeddings().num_embeddings), what="sequence reward model",
            )
            self.sequence_rm = reward_model.eval()
        elif isinstance(reward_model, PreTrainedModel):
            self._attach_reward_model(PersonalizedRewardModel(reward_model))
        else:
            raise TypeError(
                "reward_model must be a PersonalizedRewardModel, a causal LM, a sequence classifier or a path; "
                f"got {type(reward_model).__name__}"
            )

    # -- public API -----------------------------------------------------------------------------
    def count_tokens(self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None = None) -> int:
        """Prompt tokens of ``messages`` rendered with the chat template (generation prompt included)."""
        return len(self.formatter.encode(normalize_messages(messages), tools=tools))

    def generate(
        self,
        messages: Sequence[Mapping[str, Any]],
        preference: Any = None,
        strategy: str = "amulet",
        max_new_tokens: int = 256,
        do_sample: bool = False,
        temperature: float = 1.0,
        top_p: float = 1.0,
        top_k: int = 0,
        seed: int | None = None,
        stop: str | Sequence[str] | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        constraint: Constraint | None = None,
        **strategy_params: Any,
    ) -> GenerationResult:
        """Decode one reply; ``constraint`` (e.g. ``JSONSchemaConstraint``) restricts it to a grammar."""
        request = GenerationRequest(
            messages, preference, strategy, max_new_tokens, do_sample, temperature, top_p, top_k, seed, stop,
            tools, strategy_params, constraint,
        )
        return self.generate_batch([request])[0]

    def stream(
        self,
        messages: Sequence[Mapping[str, Any]],
        preference: Any = None,
        strategy: str = "amulet",
        max_new_tokens: int = 256,
        do_sample: bool = False,
        temperature: float = 1.0,
        top_p: float = 1.0,
        top_k: int = 0,
        seed: int | None = None,
        stop: str | Sequence[str] | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        constraint: Constraint | None = None,
        **strategy_params: Any,
    ) -> GenerationStream:
        """Like ``generate`` but an iterator of text deltas; ``.result`` is set once it is exhausted.

        Bad input raises here, before the first delta. The model lock is held while the stream is being
        consumed; exhaust or ``close()`` it.
        """
        request = GenerationRequest(
            messages, preference, strategy, max_new_tokens, do_sample, temperature, top_p, top_k, seed, stop,
            tools, strategy_params, constraint,
        )
        plans = [self._plan(request)]
        return GenerationStream(self, plans)

    def generate_batch(
        self, requests: Sequence[GenerationRequest], on_delta: DeltaCallback | None = None
    ) -> list[GenerationResult]:
        """Decode requests with mixed preferences, strategies and sampling parameters in one batch."""
        plans = [self._plan(r) for r in requests]
        return self._run_plans(plans, on_delta)

    def generate_ids(
        self,
        contexts: Mapping[str, Any],
        strategy: str = "amulet",
        max_new_tokens: int = 256,
        do_sample: bool = False,
        temperature: float = 1.0,
        top_p: float = 1.0,
        top_k: int = 0,
        seed: int | None = None,
        stop: str | Sequence[str] | None = None,
        weights: Sequence[float] | None = None,
        **strategy_params: Any,
    ) -> GenerationResult:
        """The same loop fed token ids per context: ``{"base": [...], "preference": [...] | [[...], ...]}``.

        Several preference contexts take ``weights`` (default 1 each); PAD/ARGS with several preferences
        also need a ``"joined"`` context. The trace names preferences ``"<ids:i>"``.
        """
        plan = self._plan_from_ids(
            contexts, strategy, max_new_tokens, do_sample, temperature, top_p, top_k, seed, stop, weights,
            strategy_params,
        )
        return self._run_plans([plan], None)[0]

    def generate_ids_batch(
        self,
        contexts: Sequence[Mapping[str, Any]],
        strategy: str = "amulet",
        max_new_tokens: int = 256,
        do_sample: bool = False,
        temperature: float = 1.0,
        top_p: float = 1.0,
        top_k: int = 0,
        seed: int | None = None,
        stop: str | Sequence[str] | None = None,
        weights: Sequence[float] | None = None,
        **strategy_params: Any,
    ) -> list[GenerationResult]:
        """``generate_ids`` for several rows at once, decoded in one batch (benchmarks, parity runs)."""
        plans = [
            self._plan_from_ids(
                c, strategy, max_new_tokens, do_sample, temperature, top_p, top_k, seed, stop, weights,
                strategy_params,
            )
            for c in contexts
        ]
        return self._run_plans(plans, None)

    # -- planning -------------------------------------------------------------------------------
    def _plan(self, request: GenerationRequest) -> _Plan:
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
        self, contexts: Mapping[str, Any], strategy_name: str, max_new_tokens: int, do_sample: bool,
        temperature: float, top_p: float, top_k: int, seed: int | None, stop: Any,
        weights: Sequence[float] | None, strategy_params: dict[str, Any],
    ) -> _Plan:
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
        request = GenerationRequest(
            [], None, strategy_name, max_new_tokens, do_sample, temperature, top_p, top_k, seed, stop
        )
        return self._make_plan(strategy, preferences, {k: ids[k] for k in needed}, request)

    def _make_plan(
        self, strategy: Strategy, preferences: Preferences, contexts: dict[str, list[int]], request: GenerationRequest
    ) -> _Plan:
        _check_sampling(request)
        check_constraint(request.constraint)
        kind = strategy.reward_model_kind if strategy.rm_contexts(len(preferences)) else None
        if kind == "persrm" and self.persrm is None:
            raise ConfigurationError(f"strategy {strategy.name!r} needs a PersRM: GuidedGenerator(..., reward_model=...)")
        if kind == "sequence" and self.sequence_rm is None:
            raise ConfigurationError(
                f"strategy {strategy.name!r} needs a sequence-classification reward model: "
                "GuidedGenerator(..., reward_model=<AutoModelForSequenceClassification or its path>)"
            )
        for name, ids in contexts.items():
            if len(ids) >= self.context_window:
                what = "prompt" if name == "base" else f"prompt with preference ({name})"
                raise ValueError(
                    f"the {what} has {len(ids)} tokens; the context window is {self.context_window} "
                    "(shorten the conversation or the preference)"
                )
        return _Plan(
            strategy, preferences, contexts, request.max_new_tokens, request.do_sample, float(request.temperature),
            float(request.top_p), int(request.top_k), request.seed, normalize_stop(request.stop),
            request.constraint,
        )

    # -- the loop -------------------------------------------------------------------------------
    def _run_plans(self, plans: list[_Plan], on_delta: DeltaCallback | None) -> list[GenerationResult]:
        results: list[GenerationResult | None] = [None] * len(plans)
        for event in self._decode(plans, on_delta is not None):
            index, delta, result = event
            if delta and on_delta is not None:
                on_delta(index, delta)
            if result is not None:
                results[index] = result
        return [r for r in results if r is not None]

    def _decode(self, plans: list[_Plan], streaming: bool) -> Iterator[tuple[int, str, GenerationResult | None]]:
        """Yield ``(request index, text delta, result or None)`` as decoding proceeds."""
        with self._lock:
            rows = [self._row(i, plan) for i, plan in enumerate(plans)]
            for row in rows:
                if row.plan.max_new_tokens == 0:
                    row.finish_reason = "length"
                    yield row.index, "", self._result(row)
            active = [r for r in rows if r.finish_reason is None]
            if not active:
                return
            batches = self._prefill(active)
            groups = self._groups(active)
            step = 0
            while True:
                chosen = self._choose(active, groups, batches, step)
                done = False
                for row, token in zip(active, chosen, strict=True):
                    self._advance(row, token)
                    if row.finish_reason is not None:
                        done = True
                        result = self._result(row)
                        yield row.index, row.tracker.final(result.text), result
                    elif streaming:
                        delta = row.tracker.delta(row.generated)
                        if delta:
                            yield row.index, delta, None
                if done:
                    active = [r for r in active if r.finish_reason is None]
                    if not active:
                        return
                    self._prune(active, batches)
                    groups = self._groups(active)
                step += 1
                last = {r.index: r.generated[-1] for r in active}
                for batch in batches.values():
                    batch.logits = batch.runner.step(torch.tensor([last[o] for o in batch.owner], dtype=torch.long))

    def _row(self, index: int, plan: _Plan) -> _Row:
        n = plan.n_prefs
        longest = max(len(ids) for ids in plan.contexts.values())
        weights = torch.tensor([normalised_weights([w for _, w in plan.preferences])], dtype=torch.float32)
        stops = StopMatcher(self.tokenizer, plan.stop)
        generator = None
        if plan.do_sample:
            generator = torch.Generator(device=self.model.device)
            generator.manual_seed(plan.seed if plan.seed is not None else int(torch.randint(0, 2**62, (1,))))
        slots = {"base": {name: -1 for name in plan.strategy.contexts(n)}}
        rm_names = plan.strategy.rm_contexts(n)
        if rm_names:
            slots[str(plan.strategy.reward_model_kind)] = {name: -1 for name in rm_names}
        return _Row(
            index=index,
            plan=plan,
            slots=slots,
            group_key=plan.strategy.group_key(n),
            warpers=_warpers(plan),
            generator=generator,
            stops=stops,
            tracker=TextTracker(self.tokenizer, stops),
            limit=min(plan.max_new_tokens, self.context_window - longest),
            weights=weights.reshape(1, max(n, 1)) if n else torch.ones(1, 1),
            constraint=(
                TokenConstraint(
                    plan.constraint, self.tokenizer, self.eos_token_ids,
                    min(plan.max_new_tokens, self.context_window - longest),
                )
                if plan.constraint
                else None
            ),
        )

    def _prefill(self, rows: list[_Row]) -> dict[str, _Batch]:
        """One batch per model: every context of every row is one left-padded sequence of it."""
        batches: dict[str, _Batch] = {}
        sequences: dict[str, list[list[int]]] = {}
        for row in rows:
            for kind, names in row.slots.items():
                if kind not in batches:
                    batches[kind], sequences[kind] = _Batch(self._new_runner(kind), []), []
                for name in names:
                    names[name] = len(sequences[kind])
                    sequences[kind].append(row.plan.contexts[name])
                    batches[kind].owner.append(row.index)
        for kind, batch in batches.items():
            batch.logits = batch.runner.prefill(sequences[kind])
        return batches

    def _new_runner(self, kind: str) -> Any:
        if kind == "base":
            return CachedBatch(self.model, self.pad_token_id)
        if kind == "persrm":
            return CachedBatch(self.persrm, self.pad_token_id)
        assert self.sequence_rm is not None
        return SequenceRewardScorer(self.sequence_rm, self.pad_token_id, self.reward_label)

    def _groups(self, rows: list[_Row]) -> list[_Group]:
        """Rows that share a strategy, its parameters and a preference count are scored together."""
        by_key: dict[tuple[Any, ...], list[int]] = {}
        for i, row in enumerate(rows):
            by_key.setdefault(row.group_key, []).append(i)
        groups = []
        for members in by_key.values():
            first = rows[members[0]]
            groups.append(_Group(
                positions=torch.tensor(members, dtype=torch.long),
                rows=[rows[i] for i in members],
                strategy=first.plan.strategy,
                n_prefs=first.plan.n_prefs,
                index={
                    kind: {
                        name: torch.tensor([rows[i].slots[kind][name] for i in members], dtype=torch.long)
                        for name in names
                    }
                    for kind, names in first.slots.items()
                },
                weights=torch.cat([rows[i].weights for i in members]),
                reference=first.plan.strategy.reference(first.plan.n_prefs),
            ))
        return groups

    def _choose(self, rows: list[_Row], groups: list[_Group], batches: dict[str, _Batch], step: int) -> list[int]:
        """Strategy scores per group of rows, then argmax or sampling; records the trace."""
        logits = batches["base"].logits
        assert logits is not None
        if bool(torch.isnan(logits).any() or torch.isposinf(logits).any()):
            raise GenerationError(
                f"the model produced NaN or +inf logits at step {step}; "
                "check the model's dtype and weights (float16 overflow is a common cause)"
            )
        views = [self._view(g, batches) for g in groups]
        self._score_candidates(groups, views, batches)
        scores = logits.new_empty((len(rows), logits.shape[-1]))
        references = logits.new_zeros((len(rows), logits.shape[-1]))
        has_reference = torch.zeros(len(rows), dtype=torch.bool)
        for group, view in zip(groups, views, strict=True):
            scores[group.positions] = group.strategy.scores(view, group.n_prefs)
            if group.reference is not None:
                references[group.positions] = view.logp(group.reference)
                has_reference[group.positions] = True
        if torch.isnan(scores).any() or torch.isneginf(scores).all(dim=-1).any():
            raise GenerationError(f"a strategy produced NaN scores or excluded every token at step {step}")
        chosen: list[int] = scores.argmax(dim=-1).tolist()
        for i, row in enumerate(rows):
            if row.constraint is not None:  # restricts the choice only: the scores stay the strategy's
                chosen[i] = (
                    row.constraint.choose_sampled(scores[i], lambda s, row=row: self._sample(row, s))
                    if row.plan.do_sample
                    else row.constraint.choose_greedy(scores[i])
                )
            elif row.plan.do_sample:
                chosen[i] = self._sample(row, scores[i])
        self._trace(rows, scores, references, has_reference, chosen)
        return chosen

    @staticmethod
    def _view(group: _Group, batches: dict[str, _Batch]) -> StepView:
        per_kind: dict[str, dict[str, torch.Tensor]] = {}
        for kind, names in group.index.items():
            logits = batches[kind].logits
            per_kind[kind] = {} if logits is None else {n: logits.index_select(0, idx) for n, idx in names.items()}
        return StepView(logits=per_kind["base"], rm_logits=per_kind.get("persrm", {}), weights=group.weights)

    @staticmethod
    def _score_candidates(groups: list[_Group], views: list[StepView], batches: dict[str, _Batch]) -> None:
        """Sequence-level rewards: each group names its candidates, then one forward scores them all."""
        batch = batches.get("sequence")
        if batch is None:
            return
        wanted: dict[int, torch.Tensor] = {}
        for group, view in zip(groups, views, strict=True):
            if "sequence" in group.index:
                candidates = group.strategy.candidates(view, group.n_prefs)[1]  # type: ignore[attr-defined]
                for j, row in enumerate(group.rows):
                    wanted[row.index] = candidates[j]
        width = max(len(c) for c in wanted.values())
        # Groups may ask for different k: pad by repeating a candidate, then keep each group's own k.
        padded = torch.stack([torch.cat([c, c[-1:].expand(width - len(c))]) for c in (wanted[o] for o in batch.owner)])
        rewards = batch.runner.score(padded)
        for group, view in zip(groups, views, strict=True):
            if "sequence" in group.index:
                (slots,) = group.index["sequence"].values()
                view.candidate_rewards = rewards.index_select(0, slots)[:, : len(wanted[group.rows[0].index])]

    def _sample(self, row: _Row, scores: torch.Tensor) -> int:
        ids = torch.as_tensor([row.generated[-1:] or [0]], dtype=torch.long)
        warped = row.warpers(ids, scores[None].clone())
        probs = torch.softmax(warped, dim=-1)
        return int(torch.multinomial(probs, 1, generator=row.generator)[0, 0])

    def _trace(
        self, rows: list[_Row], scores: torch.Tensor, references: torch.Tensor, has_reference: torch.Tensor,
        chosen: list[int],
    ) -> None:
        """Per row: the chosen token's rank under the unguided distribution and KL(guided ‖ unguided)."""
        ranks: list[int | None] = [None] * len(rows)
        kls: list[float | None] = [None] * len(rows)
        if bool(has_reference.any()):
            idx = has_reference.nonzero()[:, 0]
            ref = references.index_select(0, idx)
            guided = torch.log_softmax(scores.index_select(0, idx), dim=-1)
            token = torch.tensor(chosen, dtype=torch.long).index_select(0, idx)[:, None]
            rank = (ref > ref.gather(-1, token)).sum(-1)
            p = guided.exp()
            kl = torch.where(p > 0, p * (guided - ref), torch.zeros_like(p)).sum(-1).clamp(min=0)
            for j, i in enumerate(idx.tolist()):
                ranks[i], kls[i] = int(rank[j]), float(kl[j])
        for i, row in enumerate(rows):
            row.traces.append(TokenTrace(chosen[i], "", ranks[i], kls[i]))

    def _advance(self, row: _Row, token: int) -> None:
        row.generated.append(token)
        closed = row.constraint is not None and row.constraint.accept(token)
        if closed or token in self.eos_token_ids or row.stops.hit(row.generated):
            row.finish_reason = "stop"
        elif len(row.generated) >= row.limit:
            row.finish_reason = "length"

    @staticmethod
    def _prune(active: list[_Row], batches: dict[str, _Batch]) -> None:
        """Drop finished rows' sequences from every cache; a batch nobody needs any more goes away."""
        keep_ids = {r.index for r in active}
        for kind in list(batches):
            batch = batches[kind]
            keep = [s for s, owner in enumerate(batch.owner) if owner in keep_ids]
            if len(keep) == len(batch.owner):
                continue
            if not keep:
                del batches[kind]
                continue
            remap = {old: new for new, old in enumerate(keep)}
            batch.runner.select(torch.tensor(keep, dtype=torch.long))
            batch.owner = [batch.owner[s] for s in keep]
            if batch.logits is not None:
                batch.logits = batch.logits[keep]
            for row in active:
                names = row.slots.get(kind, {})
                for name in names:
                    names[name] = remap[names[name]]

    def _result(self, row: _Row) -> GenerationResult:
        plan = row.plan
        ids = [t for t in row.generated if t not in self.eos_token_ids]
        text = row.tracker.decode(ids)
        text, cut = row.stops.cut(text)
        if cut:
            ids = _ids_covering(row.tracker, ids, len(text))
        traces = row.traces[: len(ids)]
        if traces:
            pieces = [self.tokenizer.decode([t.token_id], skip_special_tokens=True) for t in traces]
            traces = [TokenTrace(t.token_id, piece, t.base_rank, t.kl) for t, piece in zip(traces, pieces, strict=True)]
        main = plan.strategy.main(plan.n_prefs)
        input_tokens = len(plan.contexts.get(main, next(iter(plan.contexts.values()))))
        params = {**plan.strategy.params}
        if getattr(plan.strategy, "k", None) is not None and plan.strategy.name == "amulet":
            params["k"] = plan.strategy.k
        trace = Trace(plan.strategy.name, list(plan.preferences), params, traces)
        return GenerationResult(
            text=text,
            token_ids=ids,
            usage=Usage(input_tokens, len(ids), input_tokens + len(ids)),
            trace=trace,
            finish_reason=row.finish_reason or "length",  # type: ignore[arg-type]
        )


@dataclass
class _Group:
    """Active rows scored together, with the batch indices of their contexts."""

    positions: torch.Tensor  # positions of the rows in the active list
    rows: list[_Row]
    strategy: Strategy
    n_prefs: int
    index: dict[str, dict[str, torch.Tensor]]  # model kind -> context -> sequence indices
    weights: torch.Tensor
    reference: str | None


@dataclass
class _Batch:
    runner: CachedBatch
    owner: list[int]
    logits: torch.Tensor | None = None


class GenerationStream(Iterator[str]):
    """Iterator of text deltas of one request; ``result`` holds the GenerationResult once exhausted."""

    def __init__(self, generator: GuidedGenerator, plans: list[_Plan]) -> None:
        self._events = generator._decode(plans, streaming=True)
        self.result: GenerationResult | None = None

    def __iter__(self) -> GenerationStream:
        return self

    def __next__(self) -> str:
        for _, delta, result in self._events:
            if result is not None:
                self.result = result
            if delta:
                return delta
        raise StopIteration

    def close(self) -> None:
        """Stop decoding early and release the model."""
        self._events.close()


# -- helpers ------------------------------------------------------------------------------------
def _ids_covering(tracker: TextTracker, ids: list[int], n_chars: int) -> list[int]:
    """The shortest prefix of ``ids`` whose text covers the first ``n_chars`` characters."""
    for n in range(len(ids) + 1):
        if len(tracker.decode(ids[:n])) >= n_chars:
            return ids[:n]
    return ids


def _warpers(plan: _Plan) -> LogitsProcessorList:
    warpers = LogitsProcessorList()
    if not plan.do_sample:
        return warpers
    if plan.temperature != 1.0:
        warpers.append(TemperatureLogitsWarper(plan.temperature))
    if plan.top_k:
        warpers.append(TopKLogitsWarper(plan.top_k))
    if plan.top_p < 1.0:
        warpers.append(TopPLogitsWarper(plan.top_p))
    return warpers


def _check_sampling(request: GenerationRequest) -> None:
    n = request.max_new_tokens
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"max_new_tokens must be an int >= 0, got {n!r}")
    if request.do_sample:
        if not isinstance(request.temperature, (int, float)) or not request.temperature > 0:
            raise ValueError(f"temperature must be > 0 when sampling, got {request.temperature!r}")
        if not isinstance(request.top_p, (int, float)) or not 0 < request.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {request.top_p!r}")
        if isinstance(request.top_k, bool) or not isinstance(request.top_k, int) or request.top_k < 0:
            raise ValueError(f"top_k must be an int >= 0, got {request.top_k!r}")
    if request.seed is not None and (isinstance(request.seed, bool) or not isinstance(request.seed, int)):
        raise TypeError(f"seed must be an int or None, got {request.seed!r}")


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

    try:
        config = AutoConfig.from_pretrained(str(path))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load reward model {str(path)!r}: {exc}") from exc
    if not any(a.endswith("ForSequenceClassification") for a in (config.architectures or [])):
        return PersonalizedRewardModel.from_pretrained(path, device=device, dtype=dtype or torch.float32), None
    model = AutoModelForSequenceClassification.from_pretrained(str(path), dtype=dtype or torch.float32)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError):
        tokenizer = None
    return (model.to(device) if device is not None else model), tokenizer
