"""Reading a user's profile, what it steers with, and how it is shown.

``profile_json``/``describe_change`` are shared by the ``pad`` command and the server, so both show a
profile the same way.
"""

from __future__ import annotations

from typing import Any

from pad_integrations.runtime.recording import MemoryLike, recorder_for


def read_profile(memory: MemoryLike, user_id: str) -> Any:
    """The user's profile, after their own pending turns are stored."""
    recorder_for(memory).wait_for(user_id)
    return memory.profile(user_id)


def guidance_of(profile: Any) -> list[tuple[str, float]]:
    """The (text, weight) preferences a profile steers with ([] for none)."""
    if profile is None:
        return []
    return [(str(text), float(weight)) for text, weight in profile.guidance()]



def profile_json(user_id: str, profile: Any) -> dict[str, Any]:
    """``{"user", "preferences": [Preference.to_dict()...], "text"}``: what guides this user's answers."""
    return {
        "user": user_id,
        "preferences": [p.to_dict() for p in profile.preferences],
        "text": profile.text,
    }


# One number steers decoding per preference, its *strength*; shown wherever a preference is, with its parts.
STRENGTH_LEGEND = (
    "strength = weight x confidence: weight is how much a preference counts (1 unless set with "
    "`pad memory set --weight`), confidence how sure the memory is that you meant it (1 when set by hand); "
    "the strength is what steers the answers, shown after each one as (strength ...)."
)


def describe_strength(pref: Any) -> str:
    """``strength 0.9 = weight 1 x confidence 0.9``: the number that steers decoding, and where it comes from."""
    strength = round(max(0.0, float(pref.weight) * float(pref.confidence)), 4)  # memory.profile.effective_weight
    return f"strength {strength:g} = weight {float(pref.weight):g} x confidence {float(pref.confidence):g}"


def describe_change(change: Any) -> str | None:
    """One line for a newly inferred change, or None for mere extra evidence."""
    pref, previous = change.preference, change.previous
    if change.action == "add":
        return f"+ {pref.kind}: {pref.value}"
    if change.action in ("update", "supersede"):
        before = f"{previous.value} -> " if previous is not None and previous.value != pref.value else ""
        return f"~ {pref.kind}: {before}{pref.value}"
    if change.action == "remove":
        return f"- {pref.kind}: {pref.value}"
    return None
