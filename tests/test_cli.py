"""The ``pad`` command: chat (piped and on a terminal), memory, exit codes and messages, light imports."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pad_integrations import cli

CONCISE = "Keep answers short and to the point."


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def feed_stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


# --------------------------------------------------------------------------- usage and exit codes


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for name in ("chat", "memory", "serve", "bench", "eval", "train-persrm"):
        assert name in out


@pytest.mark.parametrize(
    ("command", "option"),
    [("chat", "--user"), ("memory", "history"), ("serve", "--max-queue"), ("bench", "--repeats"),
     ("eval", "--strategies"), ("train-persrm", "--base")],
)
def test_each_command_has_its_own_help(capsys: pytest.CaptureFixture[str], command: str, option: str) -> None:
    code, out, _ = run(capsys, command, "--help")
    assert code == 0 and f"usage: pad {command}" in out and option in out


@pytest.mark.parametrize(
    "argv",
    [[], ["frobnicate"], ["memory"], ["memory", "show"], ["chat", "--user", "a", "--max-tokens", "0"],
     ["serve", "--port", "70000"], ["memory", "set", "--user", "a", "verbosity"]],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert "usage:" in err or "usage:" in out
    assert "Traceback" not in err


def test_max_tokens_defaults_to_the_environment_and_a_bad_value_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pad_integrations.cli.main import build_parser

    monkeypatch.delenv("PAD_MAX_TOKENS", raising=False)
    assert build_parser().parse_args(["chat", "--user", "a"]).max_tokens == 256
    monkeypatch.setenv("PAD_MAX_TOKENS", "40")
    assert build_parser().parse_args(["chat", "--user", "a"]).max_tokens == 40
    assert build_parser().parse_args(["chat", "--user", "a", "--max-tokens", "7"]).max_tokens == 7
    monkeypatch.setenv("PAD_MAX_TOKENS", "0")
    code, _, err = run(capsys, "chat", "--user", "a")
    assert code == 2 and "--max-tokens" in err and "Traceback" not in err


def test_unknown_strategy_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path, sqlite_url: str
) -> None:
    feed_stdin(monkeypatch, "hello\n")
    code, _, err = run(capsys, "chat", "--user", "a", "--model", str(tiny_model_dir), "--db", sqlite_url,
                       "--strategy", "telepathy", "-q")
    assert code == 2
    assert "pad: error: unknown strategy 'telepathy'" in err and "amulet" in err


def test_missing_model_is_a_runtime_error_without_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_url: str
) -> None:
    feed_stdin(monkeypatch, "hello\n")
    code, _, err = run(capsys, "chat", "--user", "a", "--model", str(tmp_path / "nope"), "--db", sqlite_url)
    assert code == 1
    assert err.strip().splitlines()[-1].startswith("pad: error: could not load the model")
    assert "Traceback" not in err


def test_serve_with_a_missing_model_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "serve", "--model", str(tmp_path / "missing-model"), "--db",
                       f"sqlite:///{tmp_path / 'm.db'}", "-q")
    assert code == 1
    assert err.strip().splitlines()[-1].startswith("pad: error:") and "missing-model" in err
    assert "Traceback" not in err


def test_unknown_dtype_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path, sqlite_url: str
) -> None:
    feed_stdin(monkeypatch, "hello\n")
    code, _, err = run(capsys, "chat", "--user", "a", "--model", str(tiny_model_dir), "--db", sqlite_url,
                       "--dtype", "float7", "-q")
    assert code == 2 and "float7" in err and "Traceback" not in err


def test_an_unreachable_database_is_reported_without_its_password(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "memory", "show", "--user", "a", "--db",
                       "postgresql+psycopg://pad:s3cret-pw@127.0.0.1:1/pad")
    assert code == 1 and err.startswith("pad: error: could not open the preference store")
    assert "pad:***@127.0.0.1:1" in err and "s3cret-pw" not in err


def test_bad_database_url_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "memory", "show", "--user", "a", "--db", "notadialect://x")
    assert code in (1, 2)
    assert err.startswith("pad: error:") and "notadialect" in err and "Traceback" not in err


# --------------------------------------------------------------------------- memory


def test_memory_set_show_history_export_forget(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sqlite_url: str
) -> None:
    db = ["--user", "alice", "--db", sqlite_url]
    code, out, _ = run(capsys, "memory", "set", *db, "verbosity", "concise", "--json")
    assert code == 0
    assert [(p["kind"], p["value"], p["source"]) for p in json.loads(out)["preferences"]] == [
        ("verbosity", "concise", "manual")]
    assert run(capsys, "memory", "set", *db, "verbosity", "detailed", "--weight", "2")[0] == 0

    code, out, _ = run(capsys, "memory", "show", *db)
    assert code == 0 and "verbosity: detailed  (strength 2 = weight 2 x confidence 1, manual)" in out and "Give detailed" in out
    shown = json.loads(run(capsys, "memory", "show", *db, "--json")[1])
    assert shown["user"] == "alice" and [p["value"] for p in shown["preferences"]] == ["detailed"]

    events = json.loads(run(capsys, "memory", "history", *db, "--json")[1])["events"]
    assert [(e["action"], e["value"], e["previous_value"]) for e in events][-1] == ("supersede", "detailed", "concise")
    code, out, _ = run(capsys, "memory", "history", *db)
    assert "concise -> detailed" in out

    target = tmp_path / "alice.json"
    assert run(capsys, "memory", "export", *db, "-o", str(target))[0] == 0
    exported = json.loads(target.read_text())
    assert exported["user_id"] == "alice" and len(exported["preferences"]) == 2

    # Other users, and alice in another namespace (tenant), see nothing of alice's.
    assert json.loads(run(capsys, "memory", "show", "--user", "bob", "--db", sqlite_url, "--json")[1])[
        "preferences"] == []
    assert json.loads(run(capsys, "memory", "show", *db, "--namespace", "other-app", "--json")[1])[
        "preferences"] == []

    code, out, _ = run(capsys, "memory", "forget", *db, "--kind", "verbosity")
    assert code == 0 and "Removed 1 verbosity" in out
    assert json.loads(run(capsys, "memory", "show", *db, "--json")[1])["preferences"] == []


def test_forgetting_everything_needs_yes_when_not_interactive(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    db = ["--user", "carol", "--db", sqlite_url]
    run(capsys, "memory", "set", *db, "diet", "vegetarian")
    feed_stdin(monkeypatch, "")
    code, _, err = run(capsys, "memory", "forget", *db)
    assert code == 2 and "--yes" in err
    assert json.loads(run(capsys, "memory", "show", *db, "--json")[1])["preferences"] != []
    code, out, _ = run(capsys, "memory", "forget", *db, "--yes", "--json")
    assert code == 0 and json.loads(out)["removed"] > 0
    assert json.loads(run(capsys, "memory", "show", *db, "--json")[1])["preferences"] == []


def test_memory_bad_kind_is_a_usage_error(capsys: pytest.CaptureFixture[str], sqlite_url: str) -> None:
    code, _, err = run(capsys, "memory", "set", "--user", "a", "--db", sqlite_url, "Not A Kind!", "x")
    assert code == 2 and err.startswith("pad: error:") and "Traceback" not in err


def test_memory_commands_do_not_import_torch(tmp_path: Path) -> None:
    code = (
        "import sys; from pad_integrations.cli import main; "
        f"rc = main(['memory', 'show', '--user', 'x', '--db', 'sqlite:///{tmp_path / 'm.db'}']); "
        "print('torch' in sys.modules, rc)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False 0"


# --------------------------------------------------------------------------- chat


def test_piped_chat_learns_then_applies_and_reports_both(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path, sqlite_url: str
) -> None:
    feed_stdin(monkeypatch, "I prefer short answers, please.\n\nWhat is tea?\n")
    code, out, err = run(capsys, "chat", "--user", "dora", "--model", str(tiny_model_dir), "--db", sqlite_url,
                         "--max-tokens", "6", "--json", "-q")
    assert code == 0, err
    first, second = (json.loads(line) for line in out.strip().splitlines())
    assert first["input"] == "I prefer short answers, please." and first["preferences_applied"] == []
    assert [(c["action"], c["preference"]["kind"], c["preference"]["value"]) for c in first["learned"]] == [
        ("add", "verbosity", "concise")]
    assert second["input"] == "What is tea?" and second["learned"] == []
    assert [p["text"] for p in second["preferences_applied"]] == [CONCISE]
    assert second["usage"]["completion_tokens"] <= 6
    assert second["usage"]["total_tokens"] == second["usage"]["prompt_tokens"] + second["usage"]["completion_tokens"]
    # The second turn was answered with the first one in its context.
    assert second["usage"]["prompt_tokens"] > first["usage"]["prompt_tokens"]


def test_piped_chat_text_output_shows_applied_and_learned(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path, sqlite_url: str
) -> None:
    feed_stdin(monkeypatch, "Please keep it casual.\nHi!\n")
    code, out, _ = run(capsys, "chat", "--user", "eve", "--model", str(tiny_model_dir), "--db", sqlite_url,
                       "--max-tokens", "4", "-q")
    assert code == 0
    assert "[learned: + formality: casual]" in out
    assert "[applied via amulet: Use a casual, friendly tone." in out
    assert "[no stored preferences applied (amulet)]" in out


def test_once_reads_all_of_stdin_as_one_message_and_no_learn_learns_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path, sqlite_url: str
) -> None:
    feed_stdin(monkeypatch, "I prefer short answers.\nAnd what is tea?\n")
    code, out, _ = run(capsys, "chat", "--user", "fay", "--model", str(tiny_model_dir), "--db", sqlite_url,
                       "--max-tokens", "4", "--json", "--once", "--no-learn", "-q")
    assert code == 0
    (turn,) = (json.loads(line) for line in out.strip().splitlines())
    assert turn["input"] == "I prefer short answers.\nAnd what is tea?" and turn["learned"] == []
    assert json.loads(run(capsys, "memory", "show", "--user", "fay", "--db", sqlite_url, "--json")[1])[
        "preferences"] == []
    feed_stdin(monkeypatch, "  \n")
    code, _, err = run(capsys, "chat", "--user", "fay", "--model", str(tiny_model_dir), "--db", sqlite_url,
                       "--once", "-q")
    assert code == 2 and "no message" in err


def _read_until(fd: int, marker: str, timeout: float = 90.0) -> str:
    buffer = ""
    deadline = time.monotonic() + timeout
    while marker not in buffer:
        left = deadline - time.monotonic()
        assert left > 0, f"no {marker!r} in time; got:\n{buffer}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096).decode(errors="replace")
            except OSError:
                break
            if not chunk:
                break
            buffer += chunk
    return buffer


@pytest.mark.slow
def test_interactive_chat_on_a_terminal(tiny_model_dir: Path, sqlite_url: str) -> None:
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pad_integrations.cli", "chat", "--user", "gus", "--model", str(tiny_model_dir),
         "--db", sqlite_url, "--max-tokens", "4", "-q"],
        stdin=follower, stdout=follower, stderr=follower, close_fds=True,
        env=dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1"),
    )
    os.close(follower)
    try:
        _read_until(leader, "gus> ")
        os.write(leader, b"Please use bullet points.\n")
        answer = _read_until(leader, "gus> ")
        assert "[learned: + format: bullets]" in answer
        os.write(leader, b"/prefs\n")
        prefs = _read_until(leader, "gus> ")
        # One number per preference, the same in /prefs and after an answer, explained where shown.
        shown = re.search(r"format: bullets  \(strength ([\d.]+) = weight ([\d.]+) x confidence ([\d.]+)", prefs)
        assert shown is not None, prefs
        assert float(shown[1]) == pytest.approx(float(shown[2]) * float(shown[3]), abs=1e-4)
        assert "strength = weight x confidence" in prefs
        os.write(leader, b"Hi\n")
        assert f"[applied via amulet: Use bullet points. (strength {shown[1]})]" in _read_until(leader, "gus> ")
        os.write(leader, b"/quit\n")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
