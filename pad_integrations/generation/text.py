"""Generated text: stop strings and incremental (streamed) detokenisation.

Stop strings are detected with transformers' ``StopStringCriteria`` on the new tokens only (a stop
string never matches inside the prompt); the text is then cut at the first occurrence. Streamed deltas
never end inside a multi-byte character and never reveal text that may still turn out to be the start
of a stop string.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import PreTrainedTokenizerBase, StopStringCriteria

from pad_integrations.generation.contexts import check_text

REPLACEMENT_CHAR = "\ufffd"


def normalize_stop(stop: str | Sequence[str] | None) -> tuple[str, ...]:
    if stop is None:
        return ()
    if isinstance(stop, str):
        stop = [stop]
    if not isinstance(stop, Sequence) or not all(isinstance(s, str) for s in stop):
        raise TypeError("stop must be a str or a list of str")
    if any(s == "" for s in stop):
        raise ValueError("stop strings must be non-empty")
    for s in stop:
        check_text(s, "a stop string")
    return tuple(dict.fromkeys(stop))


class StopMatcher:
    """Per-request stop-string detection (transformers' criteria) and trimming."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, stop: tuple[str, ...]) -> None:
        self.stop = stop
        self._criteria = StopStringCriteria(tokenizer, list(stop)) if stop else None

    def hit(self, generated: Sequence[int]) -> bool:
        """Whether the last generated token completes a stop string."""
        if self._criteria is None or not generated:
            return False
        ids = torch.as_tensor([list(generated[-self._window(generated) :])], dtype=torch.long)
        return bool(self._criteria(ids, None)[0])

    def _window(self, generated: Sequence[int]) -> int:
        # A match can span at most as many tokens as the longest stop string has bytes.
        return min(len(generated), self._criteria.maximum_token_len + 1) if self._criteria else 0

    def cut(self, text: str) -> tuple[str, bool]:
        """``text`` up to the first stop string, and whether one was found."""
        found = [i for i in (text.find(s) for s in self.stop) if i >= 0]
        return (text[: min(found)], True) if found else (text, False)

    def held_back(self, text: str) -> int:
        """How many trailing characters of ``text`` could be the start of a stop string."""
        longest = 0
        for s in self.stop:
            for n in range(min(len(s) - 1, len(text)), longest, -1):
                if text.endswith(s[:n]):
                    longest = n
                    break
        return longest


class TextTracker:
    """Decodes a growing list of token ids and hands out the safe new text as deltas."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, stops: StopMatcher) -> None:
        self.tokenizer = tokenizer
        self.stops = stops
        self.emitted = 0

    def decode(self, token_ids: Sequence[int]) -> str:
        return str(self.tokenizer.decode(list(token_ids), skip_special_tokens=True))

    def delta(self, token_ids: Sequence[int]) -> str:
        """New text that can be shown now (before the stream has finished)."""
        text = self.decode(token_ids)
        end = len(text)
        while end and text[end - 1] == REPLACEMENT_CHAR:  # an incomplete multi-byte character
            end -= 1
        text = text[:end]
        cut, _ = self.stops.cut(text)
        end = len(cut) - self.stops.held_back(cut)
        return self._advance(text, end)

    def final(self, text: str) -> str:
        """The rest of the (already trimmed) final text."""
        return self._advance(text, len(text))

    def _advance(self, text: str, end: int) -> str:
        if end <= self.emitted:
            return ""
        out = text[self.emitted : end]
        self.emitted = end
        return out
