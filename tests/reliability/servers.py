"""Real HTTP servers for the suite: uvicorn in a thread of this process (to look inside), or ``pad serve``
in a child process (to measure its memory from outside)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

# uvicorn closes idle keep-alive connections after 5 s, httpx keeps them 5 s too: a request sent on a
# connection the server is closing at that moment fails with ReadError. Clients must expire theirs first.
CLIENT_LIMITS = httpx.Limits(max_connections=256, keepalive_expiry=1.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(base_url: str, timeout: float = 120.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before it was ready")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{base_url} never became healthy")


@contextmanager
def threaded_server(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a daemon thread; yields the base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="reliability-uvicorn", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base_url)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=60)


@contextmanager
def pad_serve(model_dir: Path, db_url: str, *extra: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """``pad serve`` in a child process on a free port; yields (base URL, process)."""
    port = free_port()
    command = [
        sys.executable, "-m", "pad_integrations.cli", "serve", "--model", str(model_dir), "--db", db_url,
        "--port", str(port), "--log-level", "warning", "--quiet", *extra,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    process = subprocess.Popen(command, env=env)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base_url, process=process)
        yield base_url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
