"""Plain-JSON and one-line text views of stored preferences, profiles and observed changes.

Shared by the ``pad`` command and the server, so both show a preference the same way.
"""

from __future__ import annotations

from typing import Any


def preference_json(preference: Any) -> dict[str, Any]:
    """A stored preference as plain JSON (the fields both the CLI and the server show)."""
    fields = ("id", "kind", "value", "text", "weight", "confidence", "source", "status")
    body = {name: getattr(preference, name) for name in fields if hasattr(preference, name)}
    for name in ("created_at", "updated_at"):
        value = getattr(preference, name, None)
        if value is not None:
            body[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return body


def profile_json(user_id: str, profile: Any) -> dict[str, Any]:
    return {
        "user": user_id,
        "preferences": [preference_json(p) for p in profile.preferences],
        "text": profile.text,
    }


def change_json(change: Any) -> dict[str, Any]:
    previous = getattr(change, "previous", None)
    return {
        "action": change.action,
        "preference": preference_json(change.preference) if change.preference is not None else None,
        "previous": preference_json(previous) if previous is not None else None,
    }


def describe_change(change: Any) -> str | None:
    """One line for a newly inferred change, or None for mere extra evidence."""
    pref, previous = change.preference, getattr(change, "previous", None)
    if change.action == "add":
        return f"+ {pref.kind}: {pref.value}"
    if change.action in ("update", "supersede"):
        before = f"{previous.value} -> " if previous is not None else ""
        return f"~ {pref.kind}: {before}{pref.value}"
    if change.action == "remove":
        return f"- {pref.kind}: {pref.value}"
    return None
