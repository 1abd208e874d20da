"""What the memory knows about preference kinds: style dimensions, content kinds, slots and priorities.

A *style* kind is a dimension with a closed set of values (one active value per user); its sentence
comes from ``memory.phrases.STYLE_PHRASES``. A *content* kind holds free text: single-slot kinds
(diet, location, ...) keep one active value, multi-slot kinds (allergies, likes, ...) keep one active
row per item. ``likes`` and ``dislikes`` share the slot of their item, so loving and then hating
cilantro supersedes instead of keeping both.
"""

from __future__ import annotations

import re

from memory.phrases import STYLE_PHRASES

STYLE_KINDS: dict[str, tuple[str, ...]] = {}
for _kind, _value in STYLE_PHRASES:
    STYLE_KINDS.setdefault(_kind, ())
    STYLE_KINDS[_kind] = (*STYLE_KINDS[_kind], _value)

# The other pole of each two-valued dimension ("too long" asks for the opposite of long).
OPPOSITE: dict[tuple[str, str], str] = {}
for _kind, _values in STYLE_KINDS.items():
    if len(_values) == 2:
        OPPOSITE[(_kind, _values[0])] = _values[1]
        OPPOSITE[(_kind, _values[1])] = _values[0]

# Content kinds: label shown in the prompt, and whether a user holds one value or one per item.
CONTENT_KINDS: dict[str, tuple[str, bool]] = {
    "diet": ("Diet", False),
    "allergies": ("Allergy", True),
    "likes": ("Likes", True),
    "dislikes": ("Dislikes", True),
    "avoid": ("Avoid", True),
    "background": ("Background", False),
    "location": ("Location", False),
    "learning_style": ("Learning style", False),
    "accessibility": ("Accessibility", True),
    "work_setting": ("Work setting", False),
    "name": ("Preferred name", False),
    # Free text from the sentence classifier: a requirement (budget, schedule, access, diet in other words)
    # and an answer-style wish that none of the closed style dimensions captures ('numbered steps').
    "constraint": ("Constraint", True),
    "style": ("Answer style", True),
}

# Kinds whose items share one slot, so one contradicts the other.
_SHARED_SLOT = {"likes": "opinion", "dislikes": "opinion"}

# Safety first: an allergy or an accessibility need outranks every taste when the budget is tight.
# Style comes next: how to answer applies to every reply, so a flood of likes must never push it out.
_CLASS_RANK = {
    "allergies": 3.0,
    "accessibility": 3.0,
    "diet": 2.0,
    "avoid": 2.0,
    "constraint": 2.0,
    "style": 2.5,
    **{kind: 2.5 for kind in STYLE_KINDS},
}
_SOURCE_RANK = {"manual": 1.0, "explicit": 0.8, "feedback": 0.7, "implicit": 0.4}
SOURCES = tuple(_SOURCE_RANK)

MAX_KIND_CHARS = 40
_CUSTOM_KIND = re.compile(rf"^[a-z][a-z0-9_]{{0,{MAX_KIND_CHARS - 1}}}$")


def is_style(kind: str) -> bool:
    return kind in STYLE_KINDS


def is_multi(kind: str) -> bool:
    return CONTENT_KINDS.get(kind, ("", True))[1] if not is_style(kind) else False


def label(kind: str) -> str | None:
    """The prompt label of a known kind; None for a custom kind, whose name is the caller's data."""
    if kind in CONTENT_KINDS:
        return CONTENT_KINDS[kind][0]
    if kind in STYLE_KINDS:
        return kind.replace("_", " ").capitalize()
    return None


def validate_kind(kind: object) -> str:
    """A kind as stored: a known style or content kind, or a custom snake_case name."""
    if not isinstance(kind, str):
        raise TypeError(f"kind must be a str, not {type(kind).__name__}")
    kind = kind.strip().lower()
    if not _CUSTOM_KIND.match(kind):
        raise ValueError(f"kind must be snake_case letters/digits (max 40 chars), got {kind!r}")
    return kind


# Words people (and LLMs) use for a style value; set_preference and the LLM extractor accept them.
STYLE_ALIASES: dict[str, dict[str, str]] = {
    "verbosity": {
        "short": "concise",
        "brief": "concise",
        "succinct": "concise",
        "terse": "concise",
        "long": "detailed",
        "thorough": "detailed",
        "verbose": "detailed",
        "in-depth": "detailed",
    },
    "formality": {
        "professional": "formal",
        "polite": "formal",
        "informal": "casual",
        "friendly": "casual",
        "relaxed": "casual",
    },
    "expertise": {
        "novice": "beginner",
        "simple": "beginner",
        "basic": "beginner",
        "layman": "beginner",
        "advanced": "expert",
        "technical": "expert",
    },
    "humor": {
        "funny": "playful",
        "humorous": "playful",
        "humor": "playful",
        "jokes": "playful",
        "no humor": "serious",
        "no jokes": "serious",
    },
    "format": {
        "bullet points": "bullets",
        "bullet": "bullets",
        "list": "bullets",
        "lists": "bullets",
        "paragraphs": "prose",
        "paragraph": "prose",
    },
    "units": {"si": "metric", "us": "imperial", "us customary": "imperial"},
}


def validate_style_value(kind: str, value: str) -> str:
    value = " ".join(value.strip().lower().replace("_", " ").split())
    value = STYLE_ALIASES.get(kind, {}).get(value, value)
    if value not in STYLE_KINDS[kind]:
        raise ValueError(f"{kind} must be one of {', '.join(STYLE_KINDS[kind])}; got {value!r}")
    return value


def item_key(kind: str, value: str) -> str:
    """The per-item key of a multi-slot kind ('' for single-slot kinds)."""
    from memory.text import slug

    return slug(value) if is_multi(kind) else ""


def slot(kind: str, key: str) -> str:
    """The slot a preference occupies; at most one active preference per (user, slot)."""
    group = _SHARED_SLOT.get(kind, kind)
    return f"{group}:{key}" if key else group


def source_rank(source: str) -> float:
    return _SOURCE_RANK.get(source, 0.5)


def priority(kind: str, source: str, weight: float, confidence: float) -> float:
    """Order in the compiled prompt: safety kinds, then how sure and how strong the preference is."""
    return _CLASS_RANK.get(kind, 1.0) + source_rank(source) + weight * confidence
