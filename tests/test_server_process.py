"""``pad serve`` as a real subprocess: preferences survive a restart in the middle of a conversation."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import openai
import pytest

pytestmark = pytest.mark.slow
CONCISE = "Keep answers short and to the point."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def pad_serve(*args: str) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pad_integrations.cli", "serve", "--port", str(port), "--log-level", "warning",
         "--quiet", *args],
        env=dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"pad serve exited {proc.returncode}:\n{proc.stdout.read()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "pad serve did not come up"
            time.sleep(0.1)
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
        output = proc.stdout.read()
        proc.stdout.close()
        # uvicorn shuts down gracefully on SIGTERM, then re-raises it: the conventional exit status.
        assert proc.returncode in (0, -signal.SIGTERM), f"pad serve failed ({proc.returncode}):\n{output}"
        assert "Traceback" not in output, output


def test_preferences_survive_a_restart_and_the_api_key_comes_from_flag_or_environment(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite:///{tmp_path / 'server.db'}"
    common = ("--db", db, "--model", str(tiny_model_dir), "--max-tokens", "6")
    conversation = [{"role": "user", "content": "Please keep it casual."}]
    monkeypatch.setenv("PAD_API_KEY", "from-env")
    with pad_serve(*common) as url:
        assert httpx.get(f"{url}/v1/models").status_code == 401
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="from-env", max_retries=0)
        model = client.models.list().data[0].id
        httpx.put(f"{url}/v1/users/alice/preferences", headers={"Authorization": "Bearer from-env"},
                  json={"preferences": [{"kind": "verbosity", "value": "concise"}]}).raise_for_status()
        reply = client.chat.completions.create(model=model, messages=conversation, user="alice")
        conversation.append({"role": "assistant", "content": reply.choices[0].message.content})
        # Shut down right after the reply: the turn's observation must still reach the database.

    monkeypatch.delenv("PAD_API_KEY")
    conversation.append({"role": "user", "content": "What is tea?"})
    with pad_serve(*common, "--api-key", "from-flag") as url:
        auth = {"Authorization": "Bearer from-flag"}
        prefs = httpx.get(f"{url}/v1/users/alice/preferences", headers=auth).json()["preferences"]
        assert {(p["kind"], p["value"]) for p in prefs} == {("verbosity", "concise"), ("formality", "casual")}
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="from-flag", max_retries=0)
        reply = client.chat.completions.create(model=model, messages=conversation, user="alice")
        applied = {p["text"] for p in reply.model_extra["pad"]["preferences_applied"]}
        assert applied == {CONCISE, "Use a casual, friendly tone."}
        other = client.chat.completions.create(model=model, messages=conversation, user="bob")
        assert other.model_extra["pad"]["preferences_applied"] == []
