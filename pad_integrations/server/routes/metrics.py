"""``GET /metrics``: the decode queue and the admission gate in Prometheus text format (admin keys only).

The figures are operational, not any user's data, but they describe every tenant's load, so only an admin
key reads them (a user or tenant key gets 403, no key 401 like every route; with ``--no-auth`` anyone).
A Prometheus scrape job sends the key as a bearer token (``authorization: {credentials_file: ...}``).

Each process (each Ray Serve replica) reports its own queue; under Ray every sample carries the
``replica`` label of the replica that answered, and a scrape through Ray's proxy reaches one replica.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from pad_integrations.server.auth import current_principal
from pad_integrations.server.http import APIError
from pad_integrations.server.service import ChatService, get_service

router = APIRouter()

# (QueueStats field, metric name, kind, help). Counters are named without ``_total``: the exposition
# format adds it.
QUEUE_METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("in_flight_rows", "pad_decode_in_flight_rows", "gauge", "Requests being decoded now (prefilling or stepping)."),
    ("queued", "pad_decode_queued_requests", "gauge", "Requests submitted to the decode queue, not decoding yet."),
    ("tokens_per_s", "pad_decode_tokens_per_second", "gauge",
     "Generated tokens per second over the decode queue's recent window."),
    ("tokens_generated_total", "pad_decode_generated_tokens", "counter", "Tokens generated, over every row."),
    ("decode_steps_total", "pad_decode_steps", "counter", "Decode steps run."),
    ("prefill_tokens_total", "pad_decode_prefill_tokens", "counter", "Prompt tokens encoded (prefill)."),
    ("cancelled_total", "pad_decode_cancelled_requests", "counter",
     "Requests cancelled by the caller or a disconnected client."),
    ("requests_total", "pad_decode_requests", "counter", "Requests submitted to the decode queue."),
)


def _admin(request: Request) -> None:
    principal = current_principal(request)
    if principal.role != "admin":
        raise APIError(403, "only an admin key reads /metrics", type="permission_error", code="forbidden_role")


class ServiceCollector:
    """A Prometheus collector reading one service's decode queue and admission gate at scrape time."""

    def __init__(self, service: ChatService, labels: dict[str, str]) -> None:
        self.service = service
        self.labels = labels

    def _family(self, name: str, kind: str, doc: str, value: float) -> Metric:
        cls = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
        family = cls(name, doc, labels=list(self.labels))
        family.add_metric(list(self.labels.values()), value)
        return family

    def collect(self) -> Iterator[Metric]:
        stats = self.service.decode_queue.stats()
        for field, name, kind, doc in QUEUE_METRICS:
            yield self._family(name, kind, doc, getattr(stats, field))
        yield self._family("pad_requests_in_progress", "gauge",
                           "Requests admitted by the server and not finished (beyond the capacity: 429).",
                           self.service.admission.in_flight)
        yield self._family("pad_requests_capacity", "gauge", "Requests the server admits at once (--max-queue).",
                           self.service.config.max_pending)


def render(service: ChatService, replica: dict[str, Any] | None = None) -> bytes:
    """The exposition text for ``service``: every sample labelled with the model (and the replica under Ray)."""
    labels = {"model": service.model_id}
    if replica:
        labels["replica"] = str(replica["id"])
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServiceCollector(service, labels))
    return generate_latest(registry)


@router.get("/metrics", dependencies=[Depends(_admin)], include_in_schema=True)
async def metrics(request: Request, service: ChatService = Depends(get_service)) -> Response:
    body = render(service, getattr(request.app.state, "replica", None))
    return Response(content=body, media_type=CONTENT_TYPE_LATEST)
