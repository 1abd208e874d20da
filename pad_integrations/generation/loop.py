"""The decode loop and its state: prefill, choose, advance, prune, result.

Every context of every request is one sequence of one left-padded batch with one KV cache per model
(the base model, and each reward model a strategy asked for, run in its own cache in the same step).
Each step reads the last position's logits, lets each group of rows' strategy turn its contexts'
logits into scores, takes the argmax or samples with transformers' warpers, and feeds the chosen token
to every context of the row. Finished rows leave every cache at once.

The loop is incremental: :meth:`DecodeLoop.add` queues a row, which is prefilled in its own caches
(in column chunks when a prefill budget per step is set, so a long prompt never holds up the others'
next token for long) and then merged into the running caches; :meth:`DecodeLoop.cancel` drops a row
before the next step; :meth:`DecodeLoop.step` runs one step for every row in flight. :meth:`run` is the
one-shot decode of a fixed list on top of it. A row whose logits or scores turn NaN (or exclude every
token) finishes alone with a :class:`GenerationError` event; the other rows go on.

The loop never names a strategy or a kind of reward model: a strategy declares the contexts it reads
(``contexts``, ``rm_contexts``), the reward-model kind it needs and what its trace reports
(``trace_params``); each kind (:mod:`.reward_kinds`) says what it adds to a step's view.
"""

from __future__ import annotations

import functools
from collections import deque
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
from pad_integrations.generation.batch import CachedBatch, mergeable
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

# (request index, text delta, the result once finished, or the error that ended this row alone)
Event = tuple[int, str, GenerationResult | GenerationError | None]


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
    error: GenerationError | None = None

    @property
    def prefill_tokens(self) -> int:
        """Prompt tokens this row encodes, over every context of every model kind."""
        return sum(len(self.plan.contexts[name]) for names in self.contexts.values() for name in names)


@dataclass
class Batch:
    """One model's cache: ``entries[s]`` is the (row index, context name) of sequence ``s``."""

    runner: ModelRunner
    entries: list[tuple[int, str]]
    logits: torch.Tensor | None = None

    @property
    def owner(self) -> list[int]:
        return [row for row, _ in self.entries]

    def merge(self, other: Batch) -> None:
        """Append a freshly prefilled batch of the same model kind (its logits too)."""
        self.runner.merge(other.runner)
        self.entries += other.entries
        if self.logits is not None and other.logits is not None:
            self.logits = torch.cat([self.logits, other.logits])
        else:
            self.logits = other.logits if self.logits is None else self.logits

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


@dataclass
class _Prefill:
    """Rows being prefilled together, in caches of their own until they join the running batch."""

    rows: list[Row]
    batches: dict[str, Batch]
    sequences: dict[str, list[list[int]]]


class DecodeLoop:
    """A decode that rows join (:meth:`add`) and leave (finished, or :meth:`cancel`) between steps.

    :meth:`step` yields events ``(request index, delta, result or error or None)``; :meth:`run` decodes a
    fixed list of plans to the end. ``max_prefill_tokens`` bounds the prompt tokens encoded per step
    (None: a prefill is never split); rows waiting for their prefill join first come, first served.
    """

    def __init__(self, models: LoopModels, plans: list[Plan] | None = None, max_prefill_tokens: int | None = None) -> None:
        self.models = models
        self.device = models.model.device
        self.max_prefill_tokens = max_prefill_tokens
        self.rows: dict[int, Row] = {}
        self.waiting: deque[Row] = deque()
        self.active: list[Row] = []
        self.batches: dict[str, Batch] = {}
        self.groups: list[Group] = []
        self._prefill_job: _Prefill | None = None
        self._cancelled: set[int] = set()
        self._fed = True  # False while active rows have a chosen token their caches have not seen
        self._regroup = False
        self._ready: list[Event] = []  # events due at the next step (rows finished on arrival)
        # counters (observability): steps that chose tokens, tokens chosen, prompt tokens encoded
        self.steps = 0
        self.tokens = 0
        self.prefill_tokens = 0
        for i, plan in enumerate(plans or []):
            self.add(i, plan)

    # -- joining and leaving ------------------------------------------------------------------
    def add(self, index: int, plan: Plan) -> None:
        """Queue a row for prefill; it takes part from the next :meth:`step` on (its prefill permitting)."""
        if index in self.rows:
            raise ValueError(f"row {index} is in this decode already")
        row = self._row(index, plan)
        self.rows[index] = row
        if plan.sampling.max_new_tokens == 0:
            row.finish_reason = "length"
            self._ready.append((index, "", self._result(row)))
            del self.rows[index]
            return
        self.waiting.append(row)

    def cancel(self, index: int) -> bool:
        """Drop a row before the next step (no event for it); False when it is not in this decode."""
        if index not in self.rows:
            return False
        self._cancelled.add(index)
        return True

    @property
    def idle(self) -> bool:
        """Nothing to do: no row in flight, none waiting, no event due."""
        return not self.rows and not self._ready

    @property
    def in_flight(self) -> int:
        """Rows in this decode: decoding, prefilling or waiting for their prefill."""
        return len(self.rows)

    def run(self, streaming: bool) -> Iterator[Event]:
        """Decode every row to the end (the one-shot decode of ``generate``/``generate_batch``/``stream``)."""
        while not self.idle:
            for event in self.step():
                if event[2] is not None or streaming:
                    yield event

    # -- one step --------------------------------------------------------------------------------
    def step(self) -> list[Event]:
        """Drop cancelled rows, advance the prefill of waiting rows, then choose one token for every row
        in flight. Deltas are empty where the text is held back (a stop string may be starting)."""
        events, self._ready = self._ready, []
        self._drop_cancelled()
        if self.active and not self._fed:
            last = {r.index: r.generated[-1] for r in self.active}
            for batch in self.batches.values():
                batch.logits = batch.runner.step(torch.tensor([last[o] for o in batch.owner], dtype=torch.long))
            self._fed = True
        self._advance_prefill()
        if not self.active:
            return events
        if self._regroup:
            self.groups = self._groups()
            self._regroup = False
        chosen, failed = self._choose(self.steps)
        self.steps += 1
        finished = False
        for i, (row, token) in enumerate(zip(self.active, chosen, strict=True)):
            if i in failed:
                row.error = failed[i]
                events.append((row.index, "", row.error))
                finished = True
                continue
            self.tokens += 1
            self._advance(row, token)
            if row.finish_reason is not None:
                finished = True
                result = self._result(row)
                events.append((row.index, row.tracker.final(result.text), result))
            else:
                events.append((row.index, row.tracker.delta(row.generated), None))
        if finished:
            self._remove({r.index for r in self.active if r.finish_reason is not None or r.error is not None})
        self._fed = not self.active
        return events

    def _drop_cancelled(self) -> None:
        if not self._cancelled:
            return
        gone, self._cancelled = self._cancelled, set()
        self.waiting = deque(r for r in self.waiting if r.index not in gone)
        job = self._prefill_job
        if job is not None and all(r.index in gone for r in job.rows):
            self._prefill_job = None  # nobody is left to use it: stop encoding
        self._remove(gone)

    def _remove(self, gone: set[int]) -> None:
        """Forget rows: out of the active list and every cache; the groups are rebuilt before the next choice."""
        for index in gone:
            self.rows.pop(index, None)
        before = len(self.active)
        self.active = [r for r in self.active if r.index not in gone]
        if len(self.active) != before:
            self._regroup = True
            self._prune()

    def _advance_prefill(self) -> None:
        """Encode up to the prefill budget of waiting rows; rows whose prefill completes join the batch."""
        if self._prefill_job is None:
            self._prefill_job = self._start_prefill()
        job = self._prefill_job
        if job is None:
            return
        budget = self.max_prefill_tokens
        for kind, batch in job.batches.items():
            runner = batch.runner
            if not runner.prefilling:
                continue
            n = len(job.sequences[kind])
            columns = None if budget is None else max(1, budget // max(1, n))
            width = max(len(seq) for seq in job.sequences[kind])
            start = width - runner.columns_left
            batch.logits = runner.advance(columns)
            end = width - runner.columns_left
            # real (unpadded) tokens in columns [start, end): a sequence of length L fills [width - L, width)
            self.prefill_tokens += sum(max(0, end - max(start, width - len(seq))) for seq in job.sequences[kind])
        if any(b.runner.prefilling for b in job.batches.values()):
            return
        self._prefill_job = None
        alive = [r for r in job.rows if r.index in self.rows]
        if len(alive) != len(job.rows):
            keep = {r.index for r in alive}
            job.batches = {k: b for k, b in job.batches.items() if b.keep(keep)}
        if not alive:
            return
        for kind, batch in job.batches.items():
            if kind in self.batches:
                self.batches[kind].merge(batch)
            else:
                self.batches[kind] = batch
        self.active += alive
        self._regroup = True

    def _start_prefill(self) -> _Prefill | None:
        """The next rows to prefill together: first come, as many as the budget takes (at least one)."""
        if not self.waiting:
            return None
        if self.active and not all(mergeable(getattr(b.runner, "cache", None)) for b in self.batches.values()):
            return None  # caches this loop cannot merge (sliding windows): new rows wait for an empty batch
        budget = self.max_prefill_tokens
        rows = [self.waiting.popleft()]
        total = rows[0].prefill_tokens
        while self.waiting and (budget is None or total + self.waiting[0].prefill_tokens <= budget):
            total += self.waiting[0].prefill_tokens
            rows.append(self.waiting.popleft())
        batches: dict[str, Batch] = {}
        sequences: dict[str, list[list[int]]] = {}
        for row in rows:
            for kind, names in row.contexts.items():
                if kind not in batches:
                    batches[kind], sequences[kind] = Batch(self._runner(kind), []), []
                for name in names:
                    sequences[kind].append(row.plan.contexts[name])
                    batches[kind].entries.append((row.index, name))
        for kind, batch in batches.items():
            batch.runner.begin(sequences[kind])
        return _Prefill(rows, batches, sequences)

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

    def _choose(self, step: int) -> tuple[list[int], dict[int, GenerationError]]:
        """Strategy scores per group of rows, then argmax or sampling; records the trace. Rows whose logits
        or scores are not usable come back in the second value (position in ``active`` -> the error)."""
        rows = self.active
        batch = self.batches[BASE]
        logits = batch.logits
        assert logits is not None
        failed: dict[int, GenerationError] = {}
        broken = (torch.isnan(logits).any(dim=-1) | torch.isposinf(logits).any(dim=-1)).nonzero()[:, 0].tolist()
        if broken:
            position = {r.index: i for i, r in enumerate(rows)}
            for s in broken:
                i = position[batch.entries[s][0]]
                failed[i] = GenerationError(
                    f"the model produced NaN or +inf logits at step {len(rows[i].generated)}; "
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
        unusable = torch.isnan(scores).any(dim=-1) | torch.isneginf(scores).all(dim=-1)
        for i in unusable.nonzero()[:, 0].tolist():
            failed.setdefault(i, GenerationError(
                f"a strategy produced NaN scores or excluded every token at step {len(rows[i].generated)}"
            ))
        chosen: list[int] = scores.argmax(dim=-1).tolist()
        for i, row in enumerate(rows):
            if i in failed:
                continue
            try:  # a row's own choice going wrong ends that row, never the others sharing the step
                if row.constraint is not None:  # restricts the choice only: the scores stay the strategy's
                    chosen[i] = (
                        row.constraint.choose_sampled(scores[i], functools.partial(_sample, row))
                        if row.plan.sampling.do_sample
                        else row.constraint.choose_greedy(scores[i])
                    )
                elif row.plan.sampling.do_sample:
                    chosen[i] = _sample(row, scores[i])
            except Exception as exc:
                failed[i] = GenerationError(
                    f"picking the next token failed at step {len(row.generated)}: {type(exc).__name__}: {exc}"
                )
        _trace(rows, scores, references, has_reference, chosen)
        return chosen, failed

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
        if not alive:
            self.batches = {}
            return
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
    if not bool(torch.isfinite(probs).all()):
        # A tiny temperature (1e-300 is 0 in float32) turns scores / temperature into +-inf or NaN, and the
        # softmax into NaN. Sampling tends to the argmax as the temperature goes to 0: take that limit (of
        # the scores: after the overflow the warped row cannot rank the tokens any more).
        return int(scores.argmax())
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
