"""``/v1/keys``: the admin's API for keys (``pad keys`` does the same from the command line)."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from pad_integrations.server.auth import KeyStore, Principal, current_principal
from pad_integrations.server.http import APIError

router = APIRouter()


class KeyCreate(BaseModel):
    """``POST /v1/keys``: ``role`` user (with ``namespace``, default "default", and ``user``), tenant (with
    ``namespace``) or admin."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "tenant", "admin"]
    namespace: str | None = Field(default=None, max_length=255)
    user: str | None = Field(default=None, max_length=255)
    note: str | None = Field(default=None, max_length=200)


def admin_keys(request: Request) -> KeyStore:
    """The key store, for an admin only (403 otherwise; 404 where the server runs without keys)."""
    principal: Principal = current_principal(request)
    keys: KeyStore | None = request.app.state.keys
    if keys is None:
        raise APIError(404, "this server runs without keys (--no-auth)", type="not_found_error")
    if principal.role != "admin":
        raise APIError(403, "only an admin key manages keys", type="permission_error", code="forbidden_role")
    return keys


@router.post("/v1/keys")
async def create_key(body: KeyCreate, keys: KeyStore = Depends(admin_keys)) -> dict[str, Any]:
    namespace = body.namespace
    if body.role == "user" and namespace is None:
        namespace = "default"
    try:
        key, info = await asyncio.to_thread(
            keys.create, body.role, namespace=namespace, user_id=body.user, note=body.note
        )
    except ValueError as exc:
        raise APIError(400, str(exc), param="role") from None
    return {**info.to_dict(), "key": key}


@router.get("/v1/keys")
async def list_keys(request: Request, keys: KeyStore = Depends(admin_keys)) -> dict[str, Any]:
    include = request.query_params.get("all", "").lower() in ("1", "true", "yes")
    infos = await asyncio.to_thread(keys.list, include_revoked=include)
    return {"keys": [info.to_dict() for info in infos]}


@router.delete("/v1/keys/{key_id}")
async def revoke_key(key_id: str = PathParam(max_length=64), keys: KeyStore = Depends(admin_keys)) -> dict[str, Any]:
    return {"key_id": key_id, "revoked": await asyncio.to_thread(keys.revoke, key_id)}
