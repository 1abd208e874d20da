"""``pad serve --ray``: the same ASGI app as ``pad serve``, served by Ray Serve with N replicas (the ``ray`` extra).

Each replica is a Ray actor that loads the model once and opens the preference memory on the shared
database (PostgreSQL for more than one machine), then serves :func:`pad_integrations.server.create_app`
unchanged: the same routes, the same key-based authorization (keys live in the database, so every
replica knows every key), the same admission limit and decode queue per replica. Ray Serve's HTTP proxy
routes each request to a replica, restarts a replica that dies, and scales between ``min_replicas`` and
``max_replicas`` when given Ray's own autoscaling settings (:class:`ray.serve.config.AutoscalingConfig`).

A turn is acknowledged only after it is committed to the database (``ChatService.finished``), so a
replica that dies loses nothing it acknowledged; what it was still decoding is an error for that client.

Ray is imported only here, and only when called: without the extra, :func:`ray_modules` raises
:class:`~pad_integrations._extras.MissingExtraError` naming it.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pad_integrations._extras import require
from pad_integrations.errors import ModelLoadError
from pad_integrations.server.service import ServerConfig

if TYPE_CHECKING:
    from fastapi import FastAPI

logger = logging.getLogger(__name__)

EXTRA = "ray"
FEATURE = "pad serve --ray (Ray Serve)"
APP_NAME = "pad"
DEPLOYMENT_NAME = "PADServer"
REPLICA_HEADER = "X-PAD-Replica"
# Ray Serve's own default lets 5 requests into a replica at once; the decode queue batches far more than
# that, so by default a replica takes its admission limit plus room for health checks and metrics, and
# its own 429 (with Retry-After) is what a client sees when every replica is full.
EXTRA_ONGOING = 8


def ray_modules() -> tuple[ModuleType, ModuleType]:
    """``(ray, ray.serve)``, or :class:`MissingExtraError` naming the ``ray`` extra."""
    ray = require("ray", EXTRA, FEATURE)
    serve = require("ray.serve", EXTRA, FEATURE)
    return ray, serve


@dataclass(frozen=True)
class ReplicaSpec:
    """What every replica loads: the model (a path that exists on every node, or a hub id) and the memory."""

    model: str
    reward_model: str | None = None
    device: str | None = None
    dtype: str | None = None
    # SQLAlchemy URL of the shared memory; None: each replica resolves the default on its own node
    # ($PAD_DB, else SQLite in the user data dir: one machine only).
    db: str | None = None
    namespace: str = "default"
    config: ServerConfig = field(default_factory=ServerConfig)


@dataclass(frozen=True)
class RaySettings:
    """How Ray runs the replicas. ``autoscaling`` (Ray's AutoscalingConfig fields) replaces ``replicas``;
    ``actor_options`` are Ray's ``ray_actor_options`` (``num_cpus``, ``num_gpus``, ``memory``, ...)."""

    replicas: int = 1
    autoscaling: Mapping[str, Any] | None = None
    actor_options: Mapping[str, Any] | None = None
    max_ongoing_requests: int | None = None  # None: the admission limit plus EXTRA_ONGOING

    def __post_init__(self) -> None:
        if isinstance(self.replicas, bool) or not isinstance(self.replicas, int) or self.replicas < 1:
            raise ValueError("replicas must be a positive integer")
        if self.max_ongoing_requests is not None and self.max_ongoing_requests < 1:
            raise ValueError("max_ongoing_requests must be at least 1")
        for name in ("autoscaling", "actor_options"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Mapping):
                raise ValueError(f"{name} must be a JSON object, not {type(value).__name__}")


def parse_json_object(text: str, what: str) -> dict[str, Any]:
    """A command-line JSON object (``--ray-autoscaling '{"min_replicas": 1}'``), or ValueError naming ``what``."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a JSON object, e.g. '{{\"min_replicas\": 1, \"max_replicas\": 4}}'")
    return value


def autoscaling_config(settings: Mapping[str, Any]) -> Any:
    """Ray's ``AutoscalingConfig`` from its own field names. Ray ignores unknown names silently; a typo
    here would silently drop a setting, so it is refused, as is anything Ray's validation refuses."""
    ray_modules()
    from ray.serve.config import AutoscalingConfig

    known = set(AutoscalingConfig.model_fields)
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ValueError(f"unknown autoscaling setting(s) {', '.join(unknown)}; Ray's AutoscalingConfig "
                         f"knows: {', '.join(sorted(known))}")
    try:
        return AutoscalingConfig(**settings)
    except Exception as exc:  # pydantic's ValidationError: the message says which field and why
        raise ValueError(f"invalid autoscaling settings: {exc}") from None


def deployment_options(spec: ReplicaSpec, settings: RaySettings) -> dict[str, Any]:
    """The keyword arguments of ``serve.deployment`` for these settings."""
    options: dict[str, Any] = {
        "name": DEPLOYMENT_NAME,
        "max_ongoing_requests": settings.max_ongoing_requests or spec.config.max_pending + EXTRA_ONGOING,
        # A replica loads a model before it is ready: give it time on a slow node before Ray gives up.
        "health_check_period_s": 10,
        "health_check_timeout_s": 60,
        "graceful_shutdown_timeout_s": 30,
    }
    if settings.autoscaling is not None:
        options["autoscaling_config"] = autoscaling_config(settings.autoscaling)
    else:
        options["num_replicas"] = settings.replicas
    if settings.actor_options is not None:
        options["ray_actor_options"] = dict(settings.actor_options)
    return options


def replica_identity() -> dict[str, Any]:
    """This replica's Ray Serve id, process id and node (for ``/healthz`` and the ``X-PAD-Replica`` header)."""
    ray, serve = ray_modules()
    context = serve.get_replica_context()
    return {
        "id": context.replica_id.unique_id,
        "pid": os.getpid(),
        "node": ray.get_runtime_context().get_node_id(),
    }


class ReplicaHeader:
    """ASGI middleware: every HTTP response says which replica answered (an opaque id, no secret)."""

    def __init__(self, app: Any, replica_id: str) -> None:
        self.app = app
        self.header = (REPLICA_HEADER.lower().encode("latin-1"), replica_id.encode("latin-1"))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), self.header]}
            await send(message)

        await self.app(scope, receive, send_with_header)


class PADReplica:
    """One Ray Serve replica: the model loaded once, the memory opened on the shared database.

    Ray calls ``__serve_build_asgi_app__`` after the constructor (``serve.ingress()`` without an app),
    so the app is built in the replica around what it loaded; nothing large travels from the driver.
    """

    def __init__(self, spec: ReplicaSpec) -> None:
        from memory import PreferenceMemory
        from pad_integrations.runtime.engines import get_generator

        self.spec = spec
        self.identity = replica_identity()
        self.generator = get_generator(spec.model, reward_model=spec.reward_model, device=spec.device,
                                       dtype=spec.dtype)
        self.memory = PreferenceMemory(url=spec.db, namespace=spec.namespace)
        logger.info("pad replica %s (pid %s) loaded %s", self.identity["id"], self.identity["pid"], spec.model)

    def __serve_build_asgi_app__(self) -> FastAPI:
        from pad_integrations.server.app import create_app

        app = create_app(self.generator, self.memory, self.spec.config)
        app.state.replica = self.identity
        app.add_middleware(ReplicaHeader, replica_id=str(self.identity["id"]))
        return app


def bind(spec: ReplicaSpec, settings: RaySettings) -> Any:
    """The Ray Serve application (``Deployment.bind``): ``serve.run`` it, or use it in a Serve config."""
    _, serve = ray_modules()
    ingress = serve.ingress()(PADReplica)
    return serve.deployment(**deployment_options(spec, settings))(ingress).bind(spec)


def deploy(spec: ReplicaSpec, settings: RaySettings, *, host: str = "127.0.0.1", port: int = 8000) -> str:
    """Deploy on the Ray cluster this process is connected to (``ray.init`` first) and wait until every
    replica is ready; returns the HTTP address. ``host``/``port`` apply when this call starts Serve on the
    cluster; a cluster whose Serve is already running keeps its own address (Ray's rule)."""
    ray, serve = ray_modules()
    if not ray.is_initialized():
        raise RuntimeError("connect to a Ray cluster first (ray.init)")
    serve.start(http_options={"host": host, "port": port})
    try:
        serve.run(bind(spec, settings), name=APP_NAME, route_prefix="/")
    except RuntimeError as exc:  # Ray gave up on the replicas (e.g. the model failed to load in them)
        raise ModelLoadError(f"Ray Serve could not start the replicas ({exc}); each replica's own error is "
                             "in Ray's log above (ServeController / ServeReplica lines)") from exc
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return f"http://{shown}:{port}"


def serve_on_ray(
    spec: ReplicaSpec,
    settings: RaySettings,
    *,
    address: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    ready: Any = None,
) -> None:
    """``pad serve --ray``: connect to (``address``, e.g. ``auto``) or start a Ray cluster, deploy, serve
    until SIGINT/SIGTERM, then take the application down (and Ray, if this call started it)."""
    ray, serve = ray_modules()
    if address is None:  # a cluster of this machine alone, for as long as this command runs
        ray.init(include_dashboard=False)
    else:
        ray.init(address=address)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        url = deploy(spec, settings, host=host, port=port)
        if ready is not None:
            ready(url)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        try:
            if address is None:
                serve.shutdown()  # this process started the cluster: take all of it down
            else:
                serve.delete(APP_NAME)  # a shared cluster: remove only this application
        finally:
            ray.shutdown()
