"""Plain-JSON and one-line text views of profiles and observed changes.

Shared by the ``pad`` command and the server, so both show a profile the same way.
"""

from __future__ import annotations

from typing import Any


def profile_json(user_id: str, profile: Any) -> dict[str, Any]:
    """``{"user", "preferences": [Preference.to_dict()...], "text"}``: what guides this user's answers."""
    return {
        "user": user_id,
        "preferences": [p.to_dict() for p in profile.preferences],
        "text": profile.text,
    }


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
