"""A request's :class:`~pad_integrations.generation.constraints.Constraint` applied to token choices.

The strategy's final scores are untouched; only the choice among them is restricted. Nothing scans the
vocabulary in Python: greedy decoding tests candidates in descending score order and takes the first
whose text keeps the output valid ("lazy masking"); sampling keeps the valid tokens among the
``sample_pool`` best and samples among them (an approximation: a valid token ranked below the pool is
never sampled, which only matters when the pool holds none, see the fallback). If no tested candidate
is valid, the single-character tokens (found once per tokenizer by encoding each printable ASCII
character) are tried, best score first: every valid JSON prefix can be continued by one of them; in
the middle of a multi-byte character, the continuation-byte tokens are tried instead.
"""

from __future__ import annotations

import string
import weakref
from collections.abc import Callable, Sequence

import torch
from transformers import PreTrainedTokenizerBase
from transformers.convert_slow_tokenizer import bytes_to_unicode

from pad_integrations.errors import GenerationError
from pad_integrations.generation.constraints import CharValidator, Constraint

REPLACEMENT_CHAR = "\ufffd"
_SOME_CHAR = "\u00e9"  # stands for the character that trailing UTF-8 bytes will complete
_WINDOW = 4  # tokens of left context decoded with a candidate (SentencePiece spaces, merges)
_MAX_PENDING = 3  # a UTF-8 character has at most 4 bytes
_BUDGET_MARGIN = 64  # tokens before the budget's end where candidates are checked against it
_GREEDY_CHUNKS = (8, 64, 512)  # candidates tested per round before the single-character fallback
SAMPLE_POOL = 64

# Per tokenizer object (weakly, so a freed tokenizer's id is never mistaken for a new one's).
_char_tokens_cache: weakref.WeakKeyDictionary[PreTrainedTokenizerBase, list[int]] = weakref.WeakKeyDictionary()


def single_char_tokens(tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """Ids of tokens that are one printable ASCII character (or a newline) on their own."""
    key = tokenizer
    if key not in _char_tokens_cache:
        ids: set[int] = set()
        for ch in string.printable:
            if ch in "\t\r\x0b\x0c":
                continue
            encoded = tokenizer.encode(ch, add_special_tokens=False)
            if len(encoded) == 1:
                ids.add(encoded[0])
            elif encoded:
                ids.add(encoded[-1])  # e.g. SentencePiece's "▁" + "x": the last piece is the character
        _char_tokens_cache[key] = sorted(ids)
    return _char_tokens_cache[key]


_continuation_cache: weakref.WeakKeyDictionary[PreTrainedTokenizerBase, dict[int, int]] = weakref.WeakKeyDictionary()


def continuation_byte_tokens(tokenizer: PreTrainedTokenizerBase) -> dict[int, int]:
    """Byte -> id of the single-byte tokens 0x80-0xBF (byte-level BPE or SentencePiece byte fallback),
    looked up by name: what can finish a character whose first bytes were already generated."""
    key = tokenizer
    if key not in _continuation_cache:
        byte_chars = bytes_to_unicode()
        ids: dict[int, int] = {}
        unknown = tokenizer.unk_token_id
        for b in range(0x80, 0xC0):
            for name in (byte_chars[b], f"<0x{b:02X}>"):
                token = tokenizer.convert_tokens_to_ids(name)
                if isinstance(token, int) and token != unknown and token >= 0:
                    ids[b] = token
        _continuation_cache[key] = ids
    return _continuation_cache[key]


# Continuation bytes that finish any valid lead byte (E0 needs A0-BF, ED 80-9F, F0 90-BF, F4 80-8F).
_FINISHING_BYTES = (0x80, 0xA0)


class TokenConstraint:
    """One request's constraint state during decoding; counts the candidates it tested."""

    def __init__(
        self, constraint: Constraint, tokenizer: PreTrainedTokenizerBase, eos_token_ids: frozenset[int],
        limit: int | None = None,
    ) -> None:
        if not isinstance(constraint, Constraint):
            raise TypeError(f"constraint must be a Constraint, got {type(constraint).__name__}")
        self.validator: CharValidator = constraint.start()
        self.tokenizer = tokenizer
        self.eos = sorted(eos_token_ids)
        self.generated: list[int] = []
        self.pending = 0  # tokens since the output last ended on a whole character
        self.clean_points = [0]  # prefix lengths of ``generated`` that end on a whole character
        self._before: tuple[int, int, str] | None = None  # (len(generated), window start, its text)
        self.checked = 0  # candidate tokens tested so far (efficiency is shown by this, not by timing)
        self.limit = limit
        self.tight = False  # near the token budget: every candidate must leave room to close the value

    # -- the choice --------------------------------------------------------------------------------
    def _check_budget(self) -> None:
        """Near the token budget every candidate must leave room for the shortest completion (one
        single-character token per character at worst), so a reply that reaches ``max_new_tokens``
        is still whole JSON / a whole tool call. Far from it, nothing is computed. A budget smaller
        than the shortest completion in characters cannot be guaranteed."""
        if self.limit is not None:
            remaining = self.limit - len(self.generated)
            needed = len(self.validator.closing_text())
            # A budget below the shortest completion cannot be met: decode freely rather than fail.
            self.tight = needed <= remaining <= needed + _BUDGET_MARGIN

    def _fits(self, trial: CharValidator, partial: bool) -> bool:
        if not self.tight or self.limit is None:
            return True
        left = self.limit - len(self.generated) - 1  # tokens after this one
        return len(trial.closing_text()) + (_MAX_PENDING if partial else 0) <= left

    def choose_greedy(self, scores: torch.Tensor) -> int:
        """The best-scored token that keeps the output valid."""
        self._check_budget()
        tested = 0
        for size in _GREEDY_CHUNKS:
            size = min(size, scores.shape[-1])
            for token in scores.topk(size).indices[tested:].tolist():
                if self._allowed(token):
                    return token
            tested = size
            if size == scores.shape[-1]:
                break
        return self._fallback(scores)

    def choose_sampled(self, scores: torch.Tensor, sample: Callable[[torch.Tensor], int]) -> int:
        """Sample among the valid tokens of the ``SAMPLE_POOL`` best (``sample`` warps and draws)."""
        self._check_budget()
        top = scores.topk(min(SAMPLE_POOL, scores.shape[-1]))
        # Tokens a strategy excluded (-inf, e.g. outside PAD's top-k) cannot be sampled.
        pool = top.indices[torch.isfinite(top.values)].tolist()
        valid = [t for t in pool if self._allowed(t)]
        if not valid:
            return self.choose_greedy(scores)
        masked = torch.full_like(scores, float("-inf"))
        index = torch.tensor(valid, dtype=torch.long)
        masked[index] = scores[index]
        return sample(masked)

    def _fallback(self, scores: torch.Tensor) -> int:
        candidates = single_char_tokens(self.tokenizer) + (self.eos if self.validator.complete() else [])
        if self.pending:
            candidates = list(continuation_byte_tokens(self.tokenizer).values())
        ordered = sorted(candidates, key=lambda t: -float(scores[t]))
        for token in ordered:
            if self._allowed(token):
                return token
        raise GenerationError(
            f"the constraint admits no single-character continuation of {self.text()[-40:]!r}; "
            "a schema whose values need non-ASCII characters cannot be forced with this tokenizer"
        )

    def _allowed(self, token: int) -> bool:
        self.checked += 1
        if token in self.eos:
            return self.validator.complete()
        piece, partial = self._piece(token)
        if piece is None or (not piece and not partial):
            return False  # special or empty tokens make no progress
        trial = self.validator.clone()
        if not trial.feed(piece) or not self._fits(trial, partial):
            return False
        return not partial or trial.feed(_SOME_CHAR)

    def _piece(self, token: int) -> tuple[str | None, bool]:
        """The whole characters ``token`` adds to the output, and whether it leaves a character's
        UTF-8 bytes unfinished (byte-level tokenizers split CJK characters over several tokens).

        The output is decoded whole (not token by token) because a token's text depends on its
        neighbours: SentencePiece spaces, and bytes that only make a character together.
        """
        start, before = self._window()
        text = self.tokenizer.decode([*self.generated[start:], token], skip_special_tokens=True)
        clean = text.rstrip(REPLACEMENT_CHAR)
        unfinished = len(text) - len(clean)
        if not clean.startswith(before) or REPLACEMENT_CHAR in clean[len(before) :]:
            return None, False
        if unfinished and not self._finishable(start, len(before), token):
            return None, False  # invalid UTF-8, not an unfinished character
        return clean[len(before) :], bool(unfinished)

    def _finishable(self, start: int, known: int, token: int) -> bool:
        """Whether a few continuation bytes turn the output's trailing bytes into a character."""
        if self.pending >= _MAX_PENDING:
            return False
        ids = continuation_byte_tokens(self.tokenizer)
        base = [*self.generated[start:], token]
        for byte in _FINISHING_BYTES:
            if byte not in ids:
                continue
            for n in range(1, _MAX_PENDING + 1):
                text = self.tokenizer.decode(base + [ids[byte]] * n, skip_special_tokens=True)
                if REPLACEMENT_CHAR not in text[known:]:
                    return True
        return False

    def _window(self) -> tuple[int, str]:
        """Where the decoded window starts (a whole-character boundary a few tokens back) and the
        whole characters of its text; the same for every candidate of a step, so computed once."""
        n = len(self.generated)
        if self._before is None or self._before[0] != n:
            start = max(p for p in self.clean_points if p <= max(0, n - _WINDOW))
            text = self.tokenizer.decode(self.generated[start:], skip_special_tokens=True)
            self._before = (n, start, text.rstrip(REPLACEMENT_CHAR))
        return self._before[1], self._before[2]

    # -- the chosen token ------------------------------------------------------------------------------
    def accept(self, token: int) -> bool:
        """Record the chosen token; True when the output is complete and nothing may follow."""
        if token not in self.eos:
            piece, unfinished = self._piece(token)
            if piece is None or not self.validator.feed(piece):
                raise GenerationError(f"token {token} was chosen against the constraint")
            self.generated.append(token)
            self.pending = self.pending + 1 if unfinished else 0
            if not unfinished:
                self.clean_points.append(len(self.generated))
        return self.validator.closed()

    def text(self) -> str:
        return self.tokenizer.decode(self.generated, skip_special_tokens=True)


def check_constraint(constraint: object) -> None:
    if constraint is not None and not isinstance(constraint, Constraint):
        raise TypeError(
            "constraint must be a pad_integrations.generation.constraints.Constraint "
            f"(JSONSchemaConstraint, ToolCallConstraint), got {type(constraint).__name__}"
        )


__all__: Sequence[str] = ["SAMPLE_POOL", "TokenConstraint", "check_constraint", "single_char_tokens"]
