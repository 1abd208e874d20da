"""``pad serve``: the OpenAI-compatible chatbot backend (needs the ``server`` extra)."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path
from typing import Any

from pad_integrations.cli.common import (
    CLIError,
    add_db_argument,
    add_model_arguments,
    memory_location,
    model_path,
    open_memory,
    quiet_loading,
    reward_model_path,
    status,
)

HELP = "serve the OpenAI-compatible chat API with per-user preferences (server extra)"
LOOPBACK_NAMES = ("localhost", "localhost.", "ip6-localhost")


def _port(text: str) -> int:
    value = int(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError("must be between 1 and 65535")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8000, help="TCP port (default 8000)")
    add_db_argument(parser)
    add_model_arguments(parser)
    parser.add_argument("--served-model-name", metavar="NAME",
                        help="the model id clients send (default: the model directory's name)")
    parser.add_argument("--no-auth", action="store_true",
                        help="serve WITHOUT keys: anyone who reaches the port acts as any user (local development "
                        "only; refused unless --host is a loopback address). Default: every request needs a "
                        "key from `pad keys create`")
    parser.add_argument("--api-key", help=argparse.SUPPRESS)  # gone: one shared key made every holder every user
    parser.add_argument("--max-tokens", type=_positive, default=256, help="answer length when a request sets none")
    parser.add_argument("--max-queue", type=_positive, default=64,
                        help="requests that may wait; beyond that the server answers 429 (default 64)")
    parser.add_argument("--max-batch", type=_positive,
                        help="most requests decoded together (default: the shared decode queue's, 32)")
    parser.add_argument("--scheduler", choices=("continuous", "batch"), default="continuous",
                        help="continuous (default): requests join and leave the running decode between steps; "
                        "batch: everything waiting is decoded as one batch, arrivals wait for it to end")
    parser.add_argument("--max-tokens-in-flight", type=_positive, metavar="N",
                        help="bound on the tokens of the requests decoding together: prompt tokens of every "
                        "context plus their new tokens (default 65536); the next request waits for room")
    parser.add_argument("--max-prefill-tokens", type=_positive, metavar="N",
                        help="prompt tokens encoded per decode step, so a long prompt cannot stall the next token "
                        "of the rows already decoding (default 512; continuous scheduler; a newcomer's prefill "
                        "still waits for it)")
    parser.add_argument("--max-request-tokens", type=_positive, metavar="N",
                        help="per-request budget in the same measure as --max-tokens-in-flight; a request over "
                        "it gets 400 (default: none)")
    parser.add_argument("--max-body-bytes", type=_positive, default=1 << 20,
                        help="largest request body; larger ones get 413 (default 1 MiB)")
    parser.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress messages on stderr")
    ray = parser.add_argument_group(
        "scale-out on Ray Serve (ray extra)",
        "Serve the same app as a Ray Serve deployment: each replica loads the model once and all share the "
        "--db memory (PostgreSQL across machines). --host/--port are Ray Serve's HTTP proxy. See docs/scaling.md.")
    ray.add_argument("--ray", action="store_true", help="serve with Ray Serve instead of one uvicorn process")
    ray.add_argument("--replicas", type=_positive, metavar="N",
                     help="fixed number of replicas (default 1); not with --ray-autoscaling")
    ray.add_argument("--ray-autoscaling", metavar="JSON",
                     help="Ray's AutoscalingConfig as JSON, its own field names, e.g. "
                     "'{\"min_replicas\": 1, \"max_replicas\": 4, \"target_ongoing_requests\": 8}'")
    ray.add_argument("--ray-actor-options", metavar="JSON",
                     help="Ray's ray_actor_options per replica as JSON, e.g. '{\"num_cpus\": 2}' or "
                     "'{\"num_gpus\": 1}' (default: Ray's, one CPU)")
    ray.add_argument("--ray-address", metavar="ADDRESS",
                     help="join an existing Ray cluster (e.g. auto on a node of it, or ray://HEAD:10001); "
                     "default: start a local one for as long as this command runs")


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to a public address


def _check_auth(args: argparse.Namespace) -> None:
    if args.api_key is not None:
        raise CLIError("--api-key is gone: every user, tenant or admin gets a key of their own "
                       "(`pad keys create --db URL --user ID`), sent as 'Authorization: Bearer KEY'", code=2)
    if args.no_auth and not is_loopback(args.host):
        raise CLIError(f"--no-auth lets anyone act as any user; it is refused with --host {args.host} "
                       "(use a loopback address such as 127.0.0.1, or create keys with `pad keys create`)", code=2)


def _announce_auth(args: argparse.Namespace, memory: object) -> None:
    """Say how requests are authenticated; --no-auth is said loudly, whatever --quiet says."""
    from pad_integrations.server.app import NO_AUTH_WARNING

    if args.no_auth:
        bar = "!" * 78
        print(f"{bar}\nWARNING: {NO_AUTH_WARNING}\n{bar}", file=sys.stderr, flush=True)
        return
    from pad_integrations.server.auth import KeyStore

    active = KeyStore(memory.engine).count_active()  # type: ignore[attr-defined]
    if active == 0:
        print("pad serve: no API keys yet, so every request will get 401. Create one with\n"
              f"  pad keys create --db {memory_location(memory)} --user ID   (or --tenant NAMESPACE, --admin)",
              file=sys.stderr, flush=True)
    else:
        status(args, f"Requests need an API key ({active} active).")


def _ray_settings(args: argparse.Namespace) -> Any:
    """The Ray settings from --replicas/--ray-*, refused (exit 2) when inconsistent or malformed."""
    given = [flag for flag, value in (("--replicas", args.replicas), ("--ray-autoscaling", args.ray_autoscaling),
                                      ("--ray-actor-options", args.ray_actor_options),
                                      ("--ray-address", args.ray_address)) if value is not None]
    if not args.ray:
        if given:
            raise CLIError(f"{', '.join(given)} only apply with --ray", code=2)
        return None
    if args.replicas is not None and args.ray_autoscaling is not None:
        raise CLIError("--replicas and --ray-autoscaling exclude each other (autoscaling sets the count)", code=2)
    from pad_integrations.server.ray_serve import (
        RaySettings,
        autoscaling_config,
        parse_json_object,
        ray_modules,
    )

    try:
        autoscaling = (None if args.ray_autoscaling is None
                       else parse_json_object(args.ray_autoscaling, "--ray-autoscaling"))
        actor_options = (None if args.ray_actor_options is None
                         else parse_json_object(args.ray_actor_options, "--ray-actor-options"))
        ray_modules()  # without the ray extra: MissingExtraError naming it, before anything loads
        if autoscaling is not None:
            autoscaling_config(autoscaling)  # Ray's own validation, before anything loads
        return RaySettings(replicas=args.replicas or 1, autoscaling=autoscaling, actor_options=actor_options)
    except ValueError as exc:
        raise CLIError(str(exc), code=2) from None


def run(args: argparse.Namespace) -> int:
    _check_auth(args)
    ray_settings = _ray_settings(args)
    from pad_integrations.server import ServerConfig, serve

    config = ServerConfig(
        model_id=args.served_model_name,
        strategy=args.strategy,
        max_tokens=args.max_tokens,
        max_pending=args.max_queue,
        max_batch=args.max_batch,
        scheduler=args.scheduler,
        max_tokens_in_flight=args.max_tokens_in_flight,
        max_prefill_tokens=args.max_prefill_tokens,
        max_request_tokens=args.max_request_tokens,
        max_body_bytes=args.max_body_bytes,
        auth=not args.no_auth,
    )
    memory = open_memory(args)
    status(args, f"Preferences stored in {memory_location(memory)}")
    _announce_auth(args, memory)
    model = model_path(args)
    if ray_settings is not None:
        _serve_on_ray(args, ray_settings, config, memory, model)
        return 0
    status(args, f"Loading {model} ...")
    quiet_loading(args)
    serve(
        model=model,
        reward_model=reward_model_path(args),
        device=args.device,
        dtype=args.dtype,
        memory=memory,
        host=args.host,
        port=args.port,
        config=config,
        log_level=args.log_level,
    )
    return 0


def _serve_on_ray(args: argparse.Namespace, settings: Any, config: Any, memory: Any, model: str) -> None:
    """``pad serve --ray``: every replica opens the memory this process opened (the same URL, so all share
    it) and loads ``model`` itself; this process only starts or joins Ray and waits."""
    from pad_integrations.server.ray_serve import ReplicaSpec, serve_on_ray

    if args.ray_address is None and Path(model).is_absolute() and not Path(model).exists():
        # The replicas would each fail to load it, after Ray's retries: say so now (on a cluster of
        # several machines the path need not exist here).
        raise CLIError(f"--model {model}: no such directory", code=2)
    url = memory.engine.url
    if url.get_backend_name() == "sqlite" and args.ray_address is not None:
        status(args, "WARNING: a SQLite memory is one machine's file; replicas on other nodes of the cluster "
               "cannot share it. Use PostgreSQL (--db postgresql+psycopg://...) on a multi-machine cluster.")
    spec = ReplicaSpec(model=model, reward_model=reward_model_path(args), device=args.device, dtype=args.dtype,
                       db=url.render_as_string(hide_password=False), namespace=args.namespace, config=config)
    memory.close()  # the replicas open their own
    count = (f"{settings.replicas} replica(s)" if settings.autoscaling is None
             else f"autoscaled replicas {dict(settings.autoscaling)}")
    status(args, f"Starting Ray Serve: {count} of {model} ...")
    serve_on_ray(spec, settings, address=args.ray_address, host=args.host, port=args.port,
                 ready=lambda where: status(args, f"Serving on {where} (Ray Serve; Ctrl-C stops)"))
