"""A request's :class:`~pad_integrations.generation.constraints.Constraint` applied to token choices.

The strategy's final scores are untouched; only the choice among them is restricted. Each step llguidance
computes the exact set of tokens that keep the output a valid prefix (a bitmask over the vocabulary, well
under a millisecond), the disallowed scores are set to ``-inf`` with a plain masked fill, and greedy
decoding takes the argmax, sampling samples the masked scores (after the request's warpers): no
candidate list, no approximation.

Budget-aware closing (no grammar library has it): near ``max_new_tokens`` every candidate must leave room
for a *closing path*, a token sequence found by :func:`closing_path` that completes the output from the
state after the candidate; the previous step's path always fits, so a reply that reaches the budget is
still whole JSON / a whole tool call. A budget below the shortest answer is refused up front with the
minimum in the message, never decoded into something unparseable.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import cast

import llguidance
import llguidance.hf
import torch
from transformers import PreTrainedTokenizerBase

from pad_integrations.errors import GenerationError, InvalidRequestError
from pad_integrations.generation.constraints import Constraint

_BUDGET_MARGIN = 32  # tokens before the budget's end from which candidates are checked against it
_MAX_BUDGET_TRIES = 8  # candidates checked per step near the budget before taking the closing path's token
_MAX_CLOSING = 2048  # a closing path longer than this is not searched for (the budget check is then off)


class _Vocabulary:
    """What one tokenizer gives the constraints: llguidance's view of it and the closing preferences."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, eos: tuple[int, ...]) -> None:
        try:
            self.ll = llguidance.hf.from_tokenizer(tokenizer, eos_token=list(eos) or None)  # type: ignore[arg-type]
        except ValueError as exc:
            raise ValueError(f"constrained decoding needs a fast (tokenizers) tokenizer: {exc}") from None
        self.size = self.ll.vocab_size
        self.bits = torch.arange(32, dtype=torch.int32)
        pieces = [b"" if self.ll.is_special_token(i) else self.ll.decode_bytes([i]) for i in range(self.size)]
        self.outside, self.inside = _closing_preferences(pieces)
        # Letters that only string content admits: when one is allowed, the output is inside a string.
        self.probes = [i for i in (pieces.index(b"a") if b"a" in pieces else -1,
                                   pieces.index(b"A") if b"A" in pieces else -1) if i >= 0]


def _closing_preferences(pieces: Sequence[bytes]) -> tuple[list[int], list[int]]:
    """Token ids in the order the closing path tries them outside a string and inside one.

    Outside: closing brackets (longest first, so one token closes several levels), a comma, the
    shortest values, a quote with brackets, openers, then single printable characters. Inside a string the brackets are
    content, not progress: the closing quote (with brackets) comes first.
    """
    index = {p: i for i, p in reversed(list(enumerate(pieces))) if p}

    def longest_first(ids: Sequence[int]) -> list[int]:
        return sorted(ids, key=lambda i: -len(pieces[i]))

    brackets = longest_first([i for i, p in enumerate(pieces) if p and set(p) <= set(b"]}")])
    quoted = longest_first(
        [i for i, p in enumerate(pieces) if len(p) > 1 and p[:1] == b'"' and set(p[1:]) <= set(b"]}")]
    )
    values = [index[v] for v in (b'""', b"null", b"0", b"false", b"[]", b"{}", b"true") if v in index]
    openers = [index[v] for v in (b"[", b"{") if v in index]
    singles = [index[bytes([c])] for c in b"0123456789abcdefghijklmnopqrstuvwxyz" if bytes([c]) in index]
    rest = [index[bytes([c])] for c in range(0x20, 0x7F) if bytes([c]) in index]
    quote = [index[b'"']] if b'"' in index else []
    comma = [index[b","]] if b"," in index else []  # ends a number or a value when a key or item must follow
    outside = list(dict.fromkeys([*brackets, *comma, *values, *quoted, *openers, *quote, *singles, *rest]))
    inside = list(dict.fromkeys([*quoted, *quote, *singles, *rest]))
    return outside, inside


_vocabularies: weakref.WeakKeyDictionary[PreTrainedTokenizerBase, dict[tuple[int, ...], _Vocabulary]] = (
    weakref.WeakKeyDictionary()
)


def vocabulary(tokenizer: PreTrainedTokenizerBase, eos_token_ids: frozenset[int] | Sequence[int]) -> _Vocabulary:
    """The llguidance tokenizer for ``tokenizer`` (about 0.5 s to build for 49k tokens: built once, kept
    while the tokenizer lives)."""
    eos = tuple(sorted(eos_token_ids))
    per_eos = _vocabularies.setdefault(tokenizer, {})
    if eos not in per_eos:
        per_eos[eos] = _Vocabulary(tokenizer, eos)
    return per_eos[eos]


def closing_path(matcher: llguidance.LLMatcher, vocab: _Vocabulary, limit: int = _MAX_CLOSING) -> list[int] | None:
    """Tokens that take ``matcher`` (not modified) to a state where the output may end, at most ``limit``
    of them; None when this search finds none that short. Each step takes the first token of the
    preference order the grammar admits (punctuation that closes, short values, single characters), so
    strings close at once, optional keys are skipped, and required ones are spelled out."""
    trial = matcher.deep_copy()
    path: list[int] = []
    while not trial.is_accepting():
        if len(path) >= limit or trial.is_stopped():
            return None
        # Text the grammar forces (e.g. a required key's name): its tokens, as the tokenizer splits it.
        forced = trial.compute_ff_tokens()
        if not forced and (raw := trial.compute_ff_bytes()):
            forced = vocab.ll.tokenize_bytes(raw)
        taken = trial.try_consume_tokens(forced) if forced else 0
        if taken:
            path.extend(forced[:taken])
            continue
        inside = any(trial.validate_tokens([p]) for p in vocab.probes)
        order = vocab.inside if inside else vocab.outside
        token = next((t for t in order if trial.validate_tokens([t])), None)
        if token is None:  # e.g. an enum value that needs non-ASCII text: the shortest admitted token
            allowed = _allowed(trial, vocab).nonzero()[:, 0].tolist()
            if not allowed:
                return None
            token = min(allowed, key=lambda t: (len(vocab.ll.decode_bytes([t])) == 0, t))
        if not trial.consume_token(token):
            return None
        path.append(token)
    return path if len(path) <= limit else None  # forced tokens may have run past the limit


def _allowed(matcher: llguidance.LLMatcher, vocab: _Vocabulary) -> torch.Tensor:
    """The exact mask of the next token, as bools over llguidance's vocabulary."""
    bitmask = torch.empty((vocab.size + 31) // 32, dtype=torch.int32)
    matcher.unsafe_compute_mask_ptr(bitmask.data_ptr(), bitmask.numel() * 4)
    return ((bitmask[:, None] >> vocab.bits) & 1).bool().reshape(-1)[: vocab.size]


class TokenConstraint:
    """One request's constraint state during decoding."""

    def __init__(
        self, constraint: Constraint, tokenizer: PreTrainedTokenizerBase, eos_token_ids: frozenset[int],
        limit: int | None = None,
    ) -> None:
        if not isinstance(constraint, Constraint):
            raise TypeError(f"constraint must be a Constraint, got {type(constraint).__name__}")
        self.vocab = vocabulary(tokenizer, eos_token_ids)
        self.matcher = constraint.matcher(self.vocab.ll)
        self.tokenizer = tokenizer
        self.eos = frozenset(eos_token_ids)
        self.generated: list[int] = []
        self.limit = limit
        self.masks = 0  # token masks computed (one per step)
        self.budget_cut = False  # the budget overruled the strategy's choice at least once
        # The path that closes the output from the current state; None until needed or when unknown.
        self.closing: list[int] | None = None
        self._known = 0  # length of the last closing path found
        if limit is not None:
            self.closing = closing_path(self.matcher, self.vocab)
            self._known = len(self.closing or ())
            if self.closing is not None and len(self.closing) > limit:
                raise InvalidRequestError(
                    f"a budget of {limit} new tokens is below the shortest answer this constraint admits "
                    f"({len(self.closing)} tokens); raise max_tokens to at least {len(self.closing)}"
                )

    # -- the mask ---------------------------------------------------------------------------------
    def mask(self, scores: torch.Tensor) -> torch.Tensor:
        """``scores`` with every token the grammar refuses set to ``-inf`` (a new tensor)."""
        allowed = _allowed(self.matcher, self.vocab)
        self.masks += 1
        if allowed.shape[0] < scores.shape[-1]:  # the model's vocabulary is padded past the tokenizer's
            allowed = torch.cat([allowed, allowed.new_zeros(scores.shape[-1] - allowed.shape[0])])
        return scores.masked_fill(~allowed[: scores.shape[-1]], float("-inf"))

    # -- the choice --------------------------------------------------------------------------------
    def choose_greedy(self, scores: torch.Tensor) -> int:
        """The best-scored token that keeps the output valid (and, near the budget, closable)."""
        masked = self.mask(scores)
        best = int(masked.argmax())
        if masked[best] == float("-inf"):
            return self._forced_choice(masked)
        if not self._tight():
            return best
        ranked = masked.topk(min(_MAX_BUDGET_TRIES, masked.shape[-1]))
        for value, token in zip(ranked.values.tolist(), ranked.indices.tolist(), strict=True):
            if value == float("-inf"):
                break
            if self._fits(token):
                return token
            self.budget_cut = True
        return self._forced_choice(masked)

    def choose_sampled(self, scores: torch.Tensor, sample: Callable[[torch.Tensor], int]) -> int:
        """Sample among exactly the valid tokens (``sample`` applies the request's warpers and draws)."""
        masked = self.mask(scores)
        if masked.max() == float("-inf"):
            return self._forced_choice(masked)
        tight = self._tight()
        for _ in range(_MAX_BUDGET_TRIES if tight else 1):
            token = sample(masked)
            if not tight or self._fits(token):
                return token
            self.budget_cut = True
            masked[token] = float("-inf")
            if masked.max() == float("-inf"):
                break
        return self._forced_choice(masked)

    def _forced_choice(self, masked: torch.Tensor) -> int:
        """When the strategy scored every valid token ``-inf`` (e.g. PAD's top-k holds none) or the
        budget refused the candidates: the next token of the closing path."""
        if self.closing is None:
            self.closing = closing_path(self.matcher, self.vocab)
        if self.closing:
            return self.closing[0]
        if self.matcher.is_accepting() and self.eos:
            return min(self.eos)
        raise GenerationError(
            f"the constraint admits no continuation of {self.text()[-40:]!r}: {self.matcher.get_error() or 'dead end'}"
        )

    def _tight(self) -> bool:
        """Whether the budget is near: then every candidate must leave room for a closing path."""
        if self.limit is None:
            return False
        remaining = self.limit - len(self.generated)
        if self.closing is None:
            # Far from the budget the last known length is a good enough guide (one token would have to
            # open more than 2 * _BUDGET_MARGIN tokens of required structure to fool it).
            if remaining > self._known + 2 * _BUDGET_MARGIN:
                return False
            self.closing = closing_path(self.matcher, self.vocab)
            if self.closing is None:
                return False  # no closing path this search can find: decode without the guarantee
            self._known = len(self.closing)
        return remaining <= len(self.closing) + _BUDGET_MARGIN

    def _fits(self, token: int) -> bool:
        """Whether the output can still be closed within the budget after ``token``."""
        if token in self.eos:
            return True
        if self.closing and token == self.closing[0]:
            return True  # the rest of the current path closes it, one token sooner
        assert self.limit is not None
        left = self.limit - len(self.generated) - 1
        trial = self.matcher.deep_copy()
        if not trial.consume_token(token):
            return False
        return closing_path(trial, self.vocab, limit=left) is not None

    # -- the chosen token ------------------------------------------------------------------------------
    def accept(self, token: int) -> bool:
        """Record the chosen token; True when the output is complete and nothing may follow."""
        if token in self.eos:
            if not self.matcher.is_accepting():
                raise GenerationError(f"end of text was chosen before the output was complete: {self.text()[-40:]!r}")
            return True
        if not self.matcher.consume_token(token):
            raise GenerationError(f"token {token} was chosen against the constraint: {self.matcher.get_error()}")
        self.generated.append(token)
        if self.closing and token == self.closing[0]:
            self.closing = self.closing[1:]
            self._known = len(self.closing)
        else:
            self.closing = None  # stale: recomputed when the budget gets near
        return self.matcher.is_stopped()

    def complete(self) -> bool:
        """The output so far is whole (end of text allowed)."""
        return self.matcher.is_accepting()

    def text(self) -> str:
        # One flat id list decodes to one string (only a batch of lists gives list[str]).
        return cast(str, self.tokenizer.decode(self.generated, skip_special_tokens=True))


def check_constraint(constraint: object) -> None:
    if constraint is not None and not isinstance(constraint, Constraint):
        raise TypeError(
            "constraint must be a pad_integrations.generation.constraints.Constraint "
            f"(JSONSchemaConstraint, ToolCallConstraint, ToolCallTriggerConstraint, LarkConstraint), "
            f"got {type(constraint).__name__}"
        )


__all__: Sequence[str] = ["TokenConstraint", "check_constraint", "closing_path", "vocabulary"]
