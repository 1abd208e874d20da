"""``pad serve``: the OpenAI-compatible chatbot backend (needs the ``server`` extra)."""

from __future__ import annotations

import argparse
import ipaddress
import sys

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
    parser.add_argument("--max-body-bytes", type=_positive, default=1 << 20,
                        help="largest request body; larger ones get 413 (default 1 MiB)")
    parser.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress messages on stderr")


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


def run(args: argparse.Namespace) -> int:
    _check_auth(args)
    from pad_integrations.server import ServerConfig, serve

    config = ServerConfig(
        model_id=args.served_model_name,
        strategy=args.strategy,
        max_tokens=args.max_tokens,
        max_pending=args.max_queue,
        max_batch=args.max_batch,
        max_body_bytes=args.max_body_bytes,
        auth=not args.no_auth,
    )
    memory = open_memory(args)
    status(args, f"Preferences stored in {memory_location(memory)}")
    _announce_auth(args, memory)
    model = model_path(args)
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
