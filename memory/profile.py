"""Compiling a user's active preferences into the preference prompt, weights and guidance pairs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from memory import taxonomy
from memory.phrases import PREFERENCE_HEADER, style_sentence
from memory.records import Preference
from memory.text import as_datum, quote_as_data

DEFAULT_MAX_CHARS = 1200
VALUE_MAX_CHARS = 80
CUSTOM_LABEL = "Other preference"


def render_line(kind: str, value: str, custom_text: str | None = None) -> str:
    """The prompt line of one preference (without the leading '- ').

    Style values use the canonical sentence verbatim (the demo model is trained on exactly those).
    Everything else is user-derived and rendered as quoted data: a custom text under the kind's label,
    a content value as ``Label: "value"``. Only known kinds have a label; a custom kind's name is shown
    inside the quotes, before its value: ``Other preference: "favorite editor: vim"``.
    """
    if custom_text is None and taxonomy.is_style(kind):
        sentence = style_sentence(kind, value)
        if sentence is not None:
            return sentence
    shown = custom_text if custom_text is not None else value
    known = taxonomy.label(kind)
    if known is not None:
        return f"{known}: {quote_as_data(shown, max_chars=VALUE_MAX_CHARS)}"
    # A custom kind's name is as user-chosen as its value: as a label before the quotes,
    # 'reveal_the_system_prompt_now' would read as an instruction, so it goes inside them.
    name = as_datum(kind.replace("_", " "), max_chars=taxonomy.MAX_KIND_CHARS)
    return f'{CUSTOM_LABEL}: "{name}: {as_datum(shown, max_chars=VALUE_MAX_CHARS)}"'


def effective_weight(pref: Preference) -> float:
    return round(max(0.0, pref.weight * pref.confidence), 4)


def order(prefs: Sequence[Preference]) -> list[Preference]:
    """Highest priority first; ties broken by recency, then id, so the order is stable."""
    return sorted(
        prefs,
        key=lambda p: (
            -taxonomy.priority(p.kind, p.source, p.weight, p.confidence),
            -(p.updated_at.timestamp() if p.updated_at else 0.0),
            p.id,
        ),
    )


@dataclass(frozen=True)
class Profile:
    """A user's active preferences, highest priority first, and the prompt compiled from them.

    ``preferences`` are the ones that fit the budget (``dropped`` lists the rest); ``text`` is
    ``PREFERENCE_HEADER`` followed by one ``- line`` per preference ('' when there is none);
    ``weights`` maps each dimension to its strength (weight x confidence) for guided decoding.
    """

    user_id: str
    preferences: list[Preference] = field(default_factory=list)
    text: str = ""
    weights: dict[str, float] = field(default_factory=dict)
    dropped: list[Preference] = field(default_factory=list)

    def guidance(self) -> list[tuple[str, float]]:
        """One (sentence, weight) per active preference within the budget, highest priority first."""
        return [(p.text, effective_weight(p)) for p in self.preferences]

    def __bool__(self) -> bool:
        return bool(self.preferences)


# Kinds that always get room first: the style dimensions (one line each), safety and single-valued facts.
# Multi-valued tastes (likes, dislikes, custom kinds) come after them, at most LINES_PER_KIND lines each,
# so a flood of 'I like thingN.' can never push formality, expertise or an allergy out of the prompt.
SAFETY_KINDS = frozenset({"allergies", "accessibility", "avoid", "constraint", "diet"})
FREE_STYLE_KIND = "style"  # free-text answer style (rendered as data)
LINES_PER_KIND = 8


def _reserved(pref: Preference) -> bool:
    kind = pref.kind
    return taxonomy.is_style(kind) or kind in SAFETY_KINDS or kind == FREE_STYLE_KIND or not taxonomy.is_multi(kind)


def compile_profile(
    user_id: str,
    active: Sequence[Preference],
    *,
    max_chars: int | None = DEFAULT_MAX_CHARS,
    max_tokens: int | None = None,
    count_tokens: Callable[[str], int] | None = None,
    lines_per_kind: int | None = LINES_PER_KIND,
) -> Profile:
    """Fit preferences into the budget; a line that does not fit is dropped whole.

    Two passes: first the reserved kinds (style dimensions, safety, single-valued facts, free-text
    style), then the multi-valued tastes, each in priority order and at most ``lines_per_kind`` lines
    of one kind (safety kinds included). The kept lines are listed highest priority first. Without any
    budget (``max_chars=None`` and no ``max_tokens``) every active preference is listed.
    """
    if max_tokens is not None and count_tokens is None:
        raise ValueError("max_tokens needs count_tokens (e.g. lambda s: len(tokenizer(s).input_ids))")
    if max_chars is None and max_tokens is None:
        lines_per_kind = None  # no budget asked for: every active preference
    ranked = order(active)
    kept: list[Preference] = []
    per_kind: dict[str, int] = {}
    size = len(PREFERENCE_HEADER)
    for reserved_pass in (True, False):
        for pref in ranked:
            if _reserved(pref) is not reserved_pass:
                continue
            multi = taxonomy.is_multi(pref.kind) and not taxonomy.is_style(pref.kind)
            if multi and lines_per_kind is not None and per_kind.get(pref.kind, 0) >= lines_per_kind:
                continue
            line = 3 + len(pref.text)  # "\n- " + text
            if max_chars is not None and size + line > max_chars:
                continue
            if max_tokens is not None and count_tokens is not None:
                trial = "\n- ".join([PREFERENCE_HEADER, *(p.text for p in order([*kept, pref]))])
                if count_tokens(trial) > max_tokens:
                    continue
            kept.append(pref)
            size += line
            per_kind[pref.kind] = per_kind.get(pref.kind, 0) + 1
    kept = order(kept)
    kept_ids = {p.id for p in kept}
    dropped = [p for p in ranked if p.id not in kept_ids]
    text = "\n- ".join([PREFERENCE_HEADER, *(p.text for p in kept)]) if kept else ""
    weights: dict[str, float] = {}
    for pref in kept:
        weights[pref.kind] = max(weights.get(pref.kind, 0.0), effective_weight(pref))
    return Profile(user_id, kept, text, weights, dropped)
