"""``GET /healthz`` and ``GET /v1/models``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from pad_integrations.server.service import ChatService, get_service

router = APIRouter()


@router.get("/healthz")
async def healthz(request: Request, service: ChatService = Depends(get_service)) -> dict[str, Any]:
    """Liveness for anyone; the model and the load only for a key holder (the gate lets it in keyless)."""
    if getattr(request.state, "principal", None) is None:
        return {"status": "ok"}
    return {
        "status": "ok",
        "model": service.model_id,
        "requests": {"in_progress": service.admission.in_flight, "capacity": service.config.max_pending},
        "decodes": service.decode_queue.decodes,
        # Under Ray Serve (`pad serve --ray`): which replica answered (id, pid, node).
        **({"replica": request.app.state.replica} if getattr(request.app.state, "replica", None) else {}),
    }


@router.get("/v1/models")
async def models(service: ChatService = Depends(get_service)) -> dict[str, Any]:
    card = {"id": service.model_id, "object": "model", "created": 0, "owned_by": "pad-integrations"}
    return {"object": "list", "data": [card]}
