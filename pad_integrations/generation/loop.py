"""The decode loop and its state: prefill, choose, advance, prune, result.

Every context of every request is one sequence of one left-padded batch with one KV cache per model
(the base model, and each reward model a strategy asked for, run in its own cache in the same step).
Each step reads the last position's logits, lets each group of rows' strategy turn its contexts'
logits into scores, takes the argmax or samples with transformers' warpers, and feeds the chosen token
to every context of the row. Finished rows leave every cache at once.

The loop never names a strategy or a kind of reward model: a strategy declares the contexts it reads
(``contexts``, ``rm_contexts``), the reward-model kind it needs and what its trace reports
(``trace_params``); each kind (:mod:`.reward_kinds`) says what it adds to a step's view.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import torch
from transformers import (
    LogitsProcessorList,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from pad_integrations.errors import GenerationError
from pad_integrations.generation.batch import CachedBatch
from pad_integrations.generation.constraints import Constraint
from pad_integrations.generation.contexts import Preferences
from pad_integrations.generation.reward_kinds import ModelRunner, RewardModelKind
from pad_integrations.generation.strategies import StepView, Strategy, normalised_weights
from pad_integrations.generation.text import StopMatcher, TextTracker
from pad_integrations.generation.token_constraint import TokenConstraint
from pad_integrations.generation.types import (
    FinishReason,
    GenerationResult,
    SamplingSettings,
    TokenTrace,
    Trace,
    Usage,
)

BASE = "base"  # the model kind of the base LM's own contexts; reward models run under their kind's name

Event = tuple[int, str, GenerationResult | None]  # (request index, text delta, result once finished)


@dataclass
class Plan:
    """A request resolved to token ids: what the loop needs and nothing else."""

    strategy: Strategy
    preferences: Preferences
    contexts: dict[str, list[int]]
    sampling: SamplingSettings
    stop: tuple[str, ...]  # sampling.stop, normalised
    constraint: Constraint | None = None

    @property
    def n_prefs(self) -> int:
        return len(self.preferences)


@dataclass(frozen=True)
class LoopModels:
    """What the loop runs: the base model and its tokenizer's facts, and the loaded reward models by kind."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    eos_token_ids: frozenset[int]
    pad_token_id: int
    context_window: int
    reward_models: Mapping[str, RewardModelKind]


@dataclass
class Row:
    """A request in flight."""

    index: int
    plan: Plan
    contexts: dict[str, list[str]]  # model kind -> the contexts it runs for this row
    warpers: LogitsProcessorList
    generator: torch.Generator | None
    stops: StopMatcher
    tracker: TextTracker
    limit: int
    weights: torch.Tensor
    generated: list[int] = field(default_factory=list)
    traces: list[TokenTrace] = field(default_factory=list)
    finish_reason: FinishReason | None = None
    constraint: TokenConstraint | None = None


@dataclass
class Batch:
    """One model's cache: ``entries[s]`` is the (row index, context name) of sequence ``s``."""

    runner: ModelRunner
    entries: list[tuple[int, str]]
    logits: torch.Tensor | None = None

    @property
    def owner(self) -> list[int]:
        return [row for row, _ in self.entries]

    def keep(self, rows: set[int]) -> bool:
        """Drop the sequences of rows not in ``rows``; False when nothing is left."""
        keep = [s for s, (row, _) in enumerate(self.entries) if row in rows]
        if len(keep) == len(self.entries):
            return True
        if not keep:
            return False
        self.runner.select(torch.tensor(keep, dtype=torch.long))
        self.entries = [self.entries[s] for s in keep]
        if self.logits is not None:
            self.logits = self.logits[keep]
        return True


@dataclass
class Group:
    """Active rows scored together (same strategy, parameters and preference count), with the batch
    positions of their contexts and, during a step, their view."""

    positions: torch.Tensor  # positions of the rows in the active list
    rows: list[Row]
    strategy: Strategy
    n_prefs: int
    index: dict[str, dict[str, torch.Tensor]]  # model kind -> context -> sequence positions in its batch
    weights: torch.Tensor
    reference: str | None
    view: StepView = field(default_factory=lambda: StepView(logits={}))


class DecodeLoop:
    """One decode of a list of plans; :meth:`run` yields ``(request index, delta, result or None)``."""

    def __init__(self, models: LoopModels, plans: list[Plan]) -> None:
        self.models = models
        self.device = models.model.device
        self.rows = [self._row(i, plan) for i, plan in enumerate(plans)]
        self.active: list[Row] = []
        self.batches: dict[str, Batch] = {}
        self.groups: list[Group] = []

    def run(self, streaming: bool) -> Iterator[Event]:
        for row in self.rows:
            if row.plan.sampling.max_new_tokens == 0:
                row.finish_reason = "length"
                yield row.index, "", self._result(row)
        self.active = [r for r in self.rows if r.finish_reason is None]
        if not self.active:
            return
        self._prefill()
        self.groups = self._groups()
        step = 0
        while True:
            chosen = self._choose(step)
            done = False
            for row, token in zip(self.active, chosen, strict=True):
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
                self.active = [r for r in self.active if r.finish_reason is None]
                if not self.active:
                    return
                self._prune()
                self.groups = self._groups()
            step += 1
            last = {r.index: r.generated[-1] for r in self.active}
            for batch in self.batches.values():
                batch.logits = batch.runner.step(torch.tensor([last[o] for o in batch.owner], dtype=torch.long))

    # -- setting up ------------------------------------------------------------------------------
    def _row(self, index: int, plan: Plan) -> Row:
        n = plan.n_prefs
        longest = max(len(ids) for ids in plan.contexts.values())
        limit = min(plan.sampling.max_new_tokens, self.models.context_window - longest)
        weights = torch.tensor([normalised_weights([w for _, w in plan.preferences])], dtype=torch.float32)
        stops = StopMatcher(self.models.tokenizer, plan.stop)
        generator = None
        if plan.sampling.do_sample:
            seed = plan.sampling.seed
            generator = torch.Generator(device=self.device)
            generator.manual_seed(seed if seed is not None else int(torch.randint(0, 2**62, (1,))))
        contexts = {BASE: list(plan.strategy.contexts(n))}
        rm_names = plan.strategy.rm_contexts(n)
        if rm_names:
            contexts[str(plan.strategy.reward_model_kind)] = list(rm_names)
        constraint = None
        if plan.constraint is not None:
            constraint = TokenConstraint(plan.constraint, self.models.tokenizer, self.models.eos_token_ids, limit)
        return Row(
            index=index,
            plan=plan,
            contexts=contexts,
            warpers=warpers(plan.sampling),
            generator=generator,
            stops=stops,
            tracker=TextTracker(self.models.tokenizer, stops),
            limit=limit,
            weights=weights.reshape(1, max(n, 1)) if n else torch.ones(1, 1),
            constraint=constraint,
        )

    def _runner(self, kind: str) -> ModelRunner:
        if kind == BASE:
            return CachedBatch(self.models.model, self.models.pad_token_id)
        return self.models.reward_models[kind].new_runner(self.models.pad_token_id)

    def _prefill(self) -> None:
        """One batch per model: every context of every row is one left-padded sequence of it."""
        sequences: dict[str, list[list[int]]] = {}
        for row in self.active:
            for kind, names in row.contexts.items():
                if kind not in self.batches:
                    self.batches[kind], sequences[kind] = Batch(self._runner(kind), []), []
                for name in names:
                    sequences[kind].append(row.plan.contexts[name])
                    self.batches[kind].entries.append((row.index, name))
        for kind, batch in self.batches.items():
            batch.logits = batch.runner.prefill(sequences[kind])

    def _groups(self) -> list[Group]:
        """Rows that share a strategy, its parameters and a preference count are scored together."""
        rows = self.active
        by_key: dict[tuple[Any, ...], list[int]] = {}
        for i, row in enumerate(rows):
            by_key.setdefault(row.plan.strategy.group_key(row.plan.n_prefs), []).append(i)
        where = {kind: {entry: s for s, entry in enumerate(b.entries)} for kind, b in self.batches.items()}
        device = self.device  # every index the loop uses lives where the logits do (CUDA too)
        groups = []
        for members in by_key.values():
            first = rows[members[0]]
            index = {
                kind: {
                    name: torch.tensor(
                        [where[kind][(rows[i].index, name)] for i in members], dtype=torch.long, device=device
                    )
                    for name in names
                }
                for kind, names in first.contexts.items()
            }
            groups.append(Group(
                positions=torch.tensor(members, dtype=torch.long, device=device),
                rows=[rows[i] for i in members],
                strategy=first.plan.strategy,
                n_prefs=first.plan.n_prefs,
                index=index,
                weights=torch.cat([rows[i].weights for i in members]).to(device),
                reference=first.plan.strategy.reference(first.plan.n_prefs),
            ))
        return groups

    # -- one step --------------------------------------------------------------------------------
    def _views(self) -> None:
        """Each group's view of this step: base logits per context, then what each reward model adds."""
        base = self.batches[BASE].logits
        for group in self.groups:
            names = group.index[BASE]
            logits = {} if base is None else {n: base.index_select(0, i) for n, i in names.items()}
            group.view = StepView(logits=logits, weights=group.weights, generated=[r.generated for r in group.rows])
        for kind, batch in self.batches.items():
            if kind != BASE:
                readers = [g for g in self.groups if kind in g.index]
                self.models.reward_models[kind].contribute(readers, batch)

    def _choose(self, step: int) -> list[int]:
        """Strategy scores per group of rows, then argmax or sampling; records the trace."""
        rows = self.active
        logits = self.batches[BASE].logits
        assert logits is not None
        if bool(torch.isnan(logits).any() or torch.isposinf(logits).any()):
            raise GenerationError(
                f"the model produced NaN or +inf logits at step {step}; "
                "check the model's dtype and weights (float16 overflow is a common cause)"
            )
        self._views()
        scores = logits.new_empty((len(rows), logits.shape[-1]))
        references = logits.new_zeros((len(rows), logits.shape[-1]))
        has_reference = torch.zeros(len(rows), dtype=torch.bool, device=logits.device)
        for group in self.groups:
            scores[group.positions] = group.strategy.scores(group.view, group.n_prefs)
            if group.reference is not None:
                references[group.positions] = group.view.logp(group.reference)
                has_reference[group.positions] = True
        if torch.isnan(scores).any() or torch.isneginf(scores).all(dim=-1).any():
            raise GenerationError(f"a strategy produced NaN scores or excluded every token at step {step}")
        chosen: list[int] = scores.argmax(dim=-1).tolist()
        for i, row in enumerate(rows):
            if row.constraint is not None:  # restricts the choice only: the scores stay the strategy's
                chosen[i] = (
                    row.constraint.choose_sampled(scores[i], functools.partial(_sample, row))
                    if row.plan.sampling.do_sample
                    else row.constraint.choose_greedy(scores[i])
                )
            elif row.plan.sampling.do_sample:
                chosen[i] = _sample(row, scores[i])
        _trace(rows, scores, references, has_reference, chosen)
        return chosen

    def _advance(self, row: Row, token: int) -> None:
        row.generated.append(token)
        closed = row.constraint is not None and row.constraint.accept(token)
        if closed or token in self.models.eos_token_ids or row.stops.hit(row.generated):
            # A constrained reply that the token budget had to close early is cut short: say so.
            cut = row.constraint is not None and row.constraint.budget_cut
            row.finish_reason = "length" if cut else "stop"
        elif len(row.generated) >= row.limit:
            row.finish_reason = "length"

    def _prune(self) -> None:
        """Drop finished rows' sequences from every cache; a batch nobody needs any more goes away."""
        alive = {r.index for r in self.active}
        for kind in list(self.batches):
            if not self.batches[kind].keep(alive):
                del self.batches[kind]

    # -- the result ------------------------------------------------------------------------------
    def _result(self, row: Row) -> GenerationResult:
        plan = row.plan
        eos = self.models.eos_token_ids
        ids = [t for t in row.generated if t not in eos]
        text = row.tracker.decode(ids)
        text, cut = row.stops.cut(text)
        if cut:
            ids = _ids_covering(row.tracker, ids, len(text))
        traces = row.traces[: len(ids)]
        if traces:
            tokenizer = self.models.tokenizer
            pieces = [str(tokenizer.decode([t.token_id], skip_special_tokens=True)) for t in traces]
            traces = [TokenTrace(t.token_id, piece, t.base_rank, t.kl) for t, piece in zip(traces, pieces, strict=True)]
        main = plan.strategy.main(plan.n_prefs)
        input_tokens = len(plan.contexts.get(main, next(iter(plan.contexts.values()))))
        trace = Trace(plan.strategy.name, list(plan.preferences), plan.strategy.trace_params(), traces)
        return GenerationResult(
            text=text,
            token_ids=ids,
            usage=Usage(input_tokens, len(ids), input_tokens + len(ids)),
            trace=trace,
            finish_reason=row.finish_reason or "length",
        )


def warpers(sampling: SamplingSettings) -> LogitsProcessorList:
    """transformers' warpers for these settings (none when decoding greedily)."""
    out = LogitsProcessorList()
    if not sampling.do_sample:
        return out
    if sampling.temperature != 1.0:
        out.append(TemperatureLogitsWarper(float(sampling.temperature)))
    if sampling.top_k:
        out.append(TopKLogitsWarper(int(sampling.top_k)))
    if sampling.top_p < 1.0:
        out.append(TopPLogitsWarper(float(sampling.top_p)))
    return out


def _sample(row: Row, scores: torch.Tensor) -> int:
    ids = torch.as_tensor([row.generated[-1:] or [0]], dtype=torch.long, device=scores.device)
    warped = row.warpers(cast(torch.LongTensor, ids), cast(torch.FloatTensor, scores[None].clone()))
    probs = torch.softmax(warped, dim=-1)
    return int(torch.multinomial(probs, 1, generator=row.generator)[0, 0])


def _trace(
    rows: list[Row], scores: torch.Tensor, references: torch.Tensor, has_reference: torch.Tensor, chosen: list[int]
) -> None:
    """Per row: the chosen token's rank under the unguided distribution and KL(guided ‖ unguided)."""
    ranks: list[int | None] = [None] * len(rows)
    kls: list[float | None] = [None] * len(rows)
    if bool(has_reference.any()):
        idx = has_reference.nonzero()[:, 0]
        ref = references.index_select(0, idx)
        guided = torch.log_softmax(scores.index_select(0, idx), dim=-1)
        token = torch.tensor(chosen, dtype=torch.long, device=scores.device).index_select(0, idx)[:, None]
        rank = (ref > ref.gather(-1, token)).sum(-1)
        p = guided.exp()
        kl = torch.where(p > 0, p * (guided - ref), torch.zeros_like(p)).sum(-1).clamp(min=0)
        # One device->host copy per step, not one per row.
        for i, r, k in zip(idx.tolist(), rank.tolist(), kl.tolist(), strict=True):
            ranks[i], kls[i] = int(r), float(k)
    for i, row in enumerate(rows):
        row.traces.append(TokenTrace(chosen[i], "", ranks[i], kls[i]))


def _ids_covering(tracker: TextTracker, ids: list[int], n_chars: int) -> list[int]:
    """The shortest prefix of ``ids`` whose text covers the first ``n_chars`` characters."""
    for n in range(len(ids) + 1):
        if len(tracker.decode(ids[:n])) >= n_chars:
            return ids[:n]
    return ids
