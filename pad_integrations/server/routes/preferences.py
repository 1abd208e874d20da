"""``GET``/``PUT``/``DELETE /v1/users/{user_id}/preferences`` and ``GET /v1/users/{user_id}/history``.

Each acts for the path's user only if the request's key may (:func:`pad_integrations.server.auth.acting_as`:
a user key its own user, a tenant key its namespace's users, an admin anyone); the user id is normalised
like everywhere else (a look-alike id is a 400).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam

from memory import PreferenceLimitError
from pad_integrations.runtime.profiles import profile_json
from pad_integrations.server.auth import acting_as
from pad_integrations.server.http import APIError
from pad_integrations.server.protocol import MAX_USER_ID_CHARS, PreferencesPut
from pad_integrations.server.service import ChatService, get_service

router = APIRouter()

MAX_HISTORY_PAGE = 1000


def _user(request: Request, user_id: str, service: ChatService) -> tuple[str, str]:
    namespace, user = acting_as(request, user_id, default_namespace=service.namespace)
    assert user is not None
    return namespace, user


@router.get("/v1/users/{user_id:path}/preferences")
async def get_preferences(
    request: Request,
    user_id: str = PathParam(max_length=MAX_USER_ID_CHARS),
    service: ChatService = Depends(get_service),
) -> dict[str, Any]:
    namespace, user = _user(request, user_id, service)
    return profile_json(user, await service.profile(namespace, user))


@router.put("/v1/users/{user_id:path}/preferences")
async def put_preferences(
    body: PreferencesPut,
    request: Request,
    user_id: str = PathParam(max_length=MAX_USER_ID_CHARS),
    service: ChatService = Depends(get_service),
) -> dict[str, Any]:
    namespace, user = _user(request, user_id, service)
    memory = await service.settled(namespace, user)
    items = [p.model_dump(include={"kind", "value", "text", "weight"}) for p in body.preferences]
    try:
        # One transaction: every item stored (and, with replace, every other preference removed), or none.
        await memory.aset_preferences(user, items, replace=body.replace)
    except PreferenceLimitError as exc:
        raise APIError(409, f"{exc}; nothing was changed", param="preferences", code="preference_limit",
                       type="invalid_request_error") from None
    except (ValueError, TypeError) as exc:  # the memory refused a kind or value (its message says which)
        raise APIError(400, str(exc), param="preferences") from None
    return profile_json(user, await memory.aprofile(user))


@router.delete("/v1/users/{user_id:path}/preferences")
async def delete_preferences(
    request: Request,
    user_id: str = PathParam(max_length=MAX_USER_ID_CHARS),
    kind: str | None = Query(default=None, max_length=64),
    service: ChatService = Depends(get_service),
) -> dict[str, Any]:
    namespace, user = _user(request, user_id, service)
    memory = await service.settled(namespace, user)
    if kind is None:
        removed = await memory.aforget(user)
    else:
        try:
            removed = len(await memory.aremove_preference(user, kind))
        except ValueError as exc:  # not a kind the memory knows how to name
            raise APIError(400, str(exc), param="kind") from None
    return {"user": user, "kind": kind, "removed": removed}


@router.get("/v1/users/{user_id:path}/history")
async def get_history(
    request: Request,
    user_id: str = PathParam(max_length=MAX_USER_ID_CHARS),
    limit: int = Query(default=100, ge=0, le=MAX_HISTORY_PAGE),
    before: str | None = Query(default=None, max_length=200),
    service: ChatService = Depends(get_service),
) -> dict[str, Any]:
    """One page of the user's messages (newest page first; pass ``next_cursor`` as ``before`` for older
    ones) with the latest preference events."""
    namespace, user = _user(request, user_id, service)
    memory = await service.settled(namespace, user)
    try:
        history = await memory.ahistory(user, limit=limit, before=before)
    except ValueError as exc:  # a cursor that is not one of ours
        raise APIError(400, str(exc), param="before") from None
    return {
        "user": user,
        "messages": [m.to_dict() for m in history.messages],
        "events": [e.to_dict() for e in history.events],
        "next_cursor": history.next_cursor,
    }
