"""The throwaway PostgreSQL that `python3 dev.py test` starts is stopped again (issue 17)."""

from __future__ import annotations

import glob
import os
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                                reason="needs PostgreSQL's server binaries (apt-get install postgresql)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_start_says_what_it_started_and_stop_stops_it(tmp_path):
    port = _free_port()
    data = f"/tmp/pad-pg-test-{port}"
    env = dict(os.environ, PAD_PG_PORT=str(port), PAD_PG_DATA=data)
    out = subprocess.run(["bash", str(ROOT / "scripts/start_postgres.sh")], env=env,
                         check=True, capture_output=True, text=True, timeout=120).stdout.splitlines()
    try:
        assert out[-1] == f"postgresql+psycopg://pad@127.0.0.1:{port}/pad_test"
        assert f"started {data}" in out
        assert _listening(port)
        # A second start finds it running: it did not start it, so it must not claim it.
        again = subprocess.run(["bash", str(ROOT / "scripts/start_postgres.sh")], env=env,
                               check=True, capture_output=True, text=True, timeout=120).stdout
        assert "started" not in again
    finally:
        subprocess.run(["bash", str(ROOT / "scripts/stop_postgres.sh"), data], check=True, timeout=120)
    assert not _listening(port)
    assert not Path(data).exists()
