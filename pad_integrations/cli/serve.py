"""``pad serve``: the OpenAI-compatible chatbot backend (needs the ``server`` extra)."""

from __future__ import annotations

import argparse
import os

from pad_integrations.cli.common import (
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
API_KEY_ENV = "PAD_API_KEY"


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
    parser.add_argument("--api-key", default=os.environ.get(API_KEY_ENV) or None,
                        help=f"require 'Authorization: Bearer KEY' (default: ${API_KEY_ENV}; none: open)")
    parser.add_argument("--max-tokens", type=_positive, default=256, help="answer length when a request sets none")
    parser.add_argument("--max-queue", type=_positive, default=64,
                        help="requests that may wait; beyond that the server answers 429 (default 64)")
    parser.add_argument("--max-batch", type=_positive,
                        help="most requests decoded together (default: the shared decode queue's, 32)")
    parser.add_argument("--max-body-bytes", type=_positive, default=1 << 20,
                        help="largest request body; larger ones get 413 (default 1 MiB)")
    parser.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress messages on stderr")


def run(args: argparse.Namespace) -> int:
    from pad_integrations.server import ServerConfig, serve

    config = ServerConfig(
        model_id=args.served_model_name,
        strategy=args.strategy,
        max_tokens=args.max_tokens,
        max_pending=args.max_queue,
        max_batch=args.max_batch,
        max_body_bytes=args.max_body_bytes,
        api_key=args.api_key,
    )
    memory = open_memory(args)
    status(args, f"Preferences stored in {memory_location(memory)}")
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
