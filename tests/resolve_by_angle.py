"""Test helpers for ``sentences.resolve_by_meaning`` with cosines set by hand (no model): one stored row, one
new reading, the decisions it leads to. Shared by the changes-of-meaning tests of several sessions."""

from __future__ import annotations

import numpy as np

from memory.extractors.base import Assert, Retract
from memory.extractors.sentences import SAME_SORT_SIMILARITY, SAME_THING_SIMILARITY, resolve_by_meaning
from memory.records import Preference


class AngleEncoder:
    """Unit vectors whose cosines are set by hand: every text is at ``angle`` degrees from the first axis."""

    def __init__(self, angles: dict[str, float]) -> None:
        self.angles = angles

    def encode(self, texts: list[str]) -> np.ndarray:
        radians = np.deg2rad([self.angles[t] for t in texts])
        return np.stack([np.cos(radians), np.sin(radians)], axis=1)


def stored_row(kind: str, value: str) -> Preference:
    return Preference(id=f"{kind}:{value}", kind=kind, value=value, text=value, weight=1.0, confidence=0.9,
                      source="explicit", evidence=("m0",), extractor="sentences")


def decide(new: Assert, stored: Preference, cosine: float, *, turned: set[int]) -> list[tuple[str, str]]:
    """('retract', id) / ('assert', value) for each decision, the stored row at ``cosine`` to the new value."""
    encoder = AngleEncoder({new.value: 0.0, stored.value: float(np.rad2deg(np.arccos(cosine)))})
    decisions = resolve_by_meaning([new], [stored], encoder, same_thing=SAME_THING_SIMILARITY,
                                   same_sort=SAME_SORT_SIMILARITY, turned=turned)
    return [("retract", d.preference_id or "") if isinstance(d, Retract) else ("assert", d.value) for d in decisions]
