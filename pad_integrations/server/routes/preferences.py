"""``GET``/``PUT``/``DELETE /v1/users/{user_id}/preferences``: a user's stored preferences."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam

from pad_integrations.runtime.profiles import profile_json
from pad_integrations.server.http import require_api_key
from pad_integrations.server.protocol import MAX_USER_ID_CHARS, PreferencesPut
from pad_integrations.server.service import ChatService, checked_user, get_service

router = APIRouter(dependencies=[Depends(require_api_key)])


@router.get("/v1/users/{user_id:path}/preferences")
async def get_preferences(
    user_id: str = PathParam(max_length=MAX_USER_ID_CHARS), service: ChatService = Depends(get_service)
) -> dict[str, Any]:
    user_id = checked_user(user_id)
    return profile_json(user_id, await service.profile(user_id))


@router.put("/v1/users/{user_id:path}/preferences")
async def put_preferences(
    body: PreferencesPut,
    user_id: str = PathParam(max_length=MAX_USER_ID_CHARS),
    service: ChatService = Depends(get_service),
) -> dict[str, Any]:
    user_id = checked_user(user_id)
    memory = service.memory
    await service.settled(user_id)
    kept = {(await memory.aset_preference(user_id, p.kind, p.value, text=p.text, weight=p.weight)).id
            for p in body.preferences}
    if body.replace:
        current = await memory.aprofile(user_id)
        # `dropped` holds active preferences left out of the prompt by its size budget: replace them too.
        for pref in [*current.preferences, *current.dropped]:
            if pref.id not in kept:
                await memory.aremove_preference(user_id, pref.id)
    return profile_json(user_id, await memory.aprofile(user_id))


@router.delete("/v1/users/{user_id:path}/preferences")
async def delete_preferences(
    user_id: str = PathParam(max_length=MAX_USER_ID_CHARS),
    kind: str | None = Query(default=None, max_length=64),
    service: ChatService = Depends(get_service),
) -> dict[str, Any]:
    user_id = checked_user(user_id)
    memory = service.memory
    await service.settled(user_id)
    if kind is None:
        removed = await memory.aforget(user_id)
    else:
        removed = len(await memory.aremove_preference(user_id, kind))
    return {"user": user_id, "kind": kind, "removed": removed}
