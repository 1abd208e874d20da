"""Every code block in README.md and docs/*.md runs as written (issue 17).

Python blocks run in a fresh interpreter per Markdown file (each block in its own namespace, so one
cannot lean on another's names by accident), on the real default model, with the working directory a
temporary folder (``sqlite:///prefs.db`` lands there) and ``PAD_MEMORY_URL`` pointing at a temporary
database. Shell blocks (``bash``, ``console``: the ``$ `` lines) run with bash in a temporary folder that
mirrors the repository root (a link to each top-level entry, so ``.venv/bin/activate`` and
``examples/...`` resolve and new files land in the temporary folder), the virtual environment's ``bin``
first on ``PATH`` as after ``source .venv/bin/activate``.

A comment right before a fence changes how it runs:

- ``<!-- snippet: skip REASON -->``: not run; the reason is required (a synopsis with ``[optional]``
  arguments, a server that runs until stopped, a training run of minutes or hours, ...);
- ``<!-- snippet: continues -->``: runs in the namespace of the file's previous Python block.

Blocks in other languages (``json`` data, plain diagrams) are not programs and are not run. Snippets keep
their own token budgets small (``max_tokens=...``), so the whole file stays within a couple of minutes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PYTHON = {"python", "py"}
SHELL = {"bash", "sh", "shell", "console"}
FENCE = re.compile(r"^```(\S*)\s*$")
MARKER = re.compile(r"^<!--\s*snippet:\s*(skip|continues)\b\s*(.*?)\s*-->\s*$")
TIMEOUT_S = 600


@dataclass(frozen=True)
class Snippet:
    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    code: str
    marker: str | None  # "skip" | "continues" | None
    reason: str = ""

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def snippets(path: Path) -> list[Snippet]:
    """The fenced blocks of ``path`` with the marker on the line right above each (if any)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Snippet] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        end = i + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        marker = MARKER.match(lines[i - 1]) if i > 0 else None
        found.append(Snippet(path, i + 1, opening.group(1).lower(), "\n".join(lines[i + 1:end]) + "\n",
                             marker.group(1) if marker else None, marker.group(2) if marker else ""))
        i = end + 1
    return found


def _runnable(path: Path, langs: set[str]) -> list[Snippet]:
    return [s for s in snippets(path) if s.lang in langs and s.marker != "skip"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false",
        PAD_MEMORY_URL=f"sqlite:///{tmp_path / 'memory.db'}",
        # `pad chat`'s answers as short as the Python snippets' own budgets: the commands run as written,
        # and 256 greedy tokens of the real model per answer would only make the file minutes slower.
        PAD_MAX_TOKENS="48",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    env.pop("PAD_USER", None)
    return env


# --------------------------------------------------------------------------- the markers themselves


def test_every_code_block_is_run_or_says_why_not() -> None:
    total = run = 0
    for path in DOCS:
        for snippet in snippets(path):
            if snippet.lang not in PYTHON | SHELL:
                continue
            total += 1
            if snippet.marker == "skip":
                assert len(snippet.reason) >= 10, f"{snippet.where}: a skipped block must say why"
            else:
                run += 1
            if snippet.marker == "continues":
                earlier = [s for s in snippets(path) if s.lang in PYTHON and s.line < snippet.line]
                assert snippet.lang in PYTHON and earlier, f"{snippet.where}: 'continues' needs a Python block before it"
    assert total >= 30 and run >= 17, (total, run)  # the parser found the blocks, and the runnable ones run


# --------------------------------------------------------------------------- Python blocks

RUNNER = r"""
import json, sys, time, traceback
blocks = json.loads(sys.stdin.read())
namespace = None
failed = 0
for block in blocks:
    if not block["continues"] or namespace is None:
        namespace = {"__name__": "__main__"}
    print(f"--- running {block['where']}", flush=True)
    start = time.perf_counter()
    try:
        exec(compile(block["code"], block["where"], "exec"), namespace)
    except BaseException:
        failed += 1
        print(f"SNIPPET-FAILED {block['where']}\n{traceback.format_exc()}", flush=True)
    else:
        print(f"SNIPPET-OK {block['where']}\n--- {time.perf_counter() - start:.1f} s", flush=True)
sys.exit(1 if failed else 0)
"""


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in DOCS if _runnable(p, PYTHON)], ids=lambda p: p.name)
def test_python_blocks_run(path: Path, tmp_path: Path) -> None:
    blocks = _runnable(path, PYTHON)
    payload = json.dumps([{"where": s.where, "code": s.code, "continues": s.marker == "continues"} for s in blocks])
    done = subprocess.run([sys.executable, "-c", RUNNER], input=payload, capture_output=True, text=True,
                          cwd=tmp_path, env=_env(tmp_path), timeout=TIMEOUT_S)
    report = done.stdout + done.stderr[-4000:]
    assert done.returncode == 0, report
    ran = re.findall(r"^SNIPPET-OK (\S+)$", done.stdout, re.M)
    assert ran == [s.where for s in blocks], report  # every block ran, in order, and finished


# --------------------------------------------------------------------------- shell blocks


# `python examples/NAME.py` as its own line: tests/test_examples.py runs that very command (same interpreter,
# offline, checking what it prints), so the shell block only checks that the file exists.
EXAMPLE_RUN = re.compile(r"^python (examples/\w+\.py)[ \t]*(#.*)?$", re.M)


def _examples_left_to_their_test(script: str) -> str:
    return EXAMPLE_RUN.sub(r'test -f \1 && echo "\1: run by tests/test_examples.py"', script)


def shell_script(snippet: Snippet) -> str:
    """A console block's ``$ `` commands (with their ``\\`` continuations); a bash block as it is; a run of an
    example becomes a check that it exists (``EXAMPLE_RUN``)."""
    if snippet.lang != "console":
        return _examples_left_to_their_test(snippet.code)
    commands: list[str] = []
    continuing = False
    for line in snippet.code.splitlines():
        if line.startswith("$ "):
            commands.append(line[2:])
        elif continuing:
            commands.append(line)
        else:
            continue  # output shown in the docs
        continuing = line.rstrip().endswith("\\")
    return _examples_left_to_their_test("\n".join(commands) + "\n")


SHELL_BLOCKS = [s for p in DOCS for s in _runnable(p, SHELL)]


@pytest.mark.slow
@pytest.mark.parametrize("snippet", SHELL_BLOCKS, ids=lambda s: s.where)
def test_shell_blocks_run(snippet: Snippet, tmp_path: Path) -> None:
    script = shell_script(snippet)
    assert script.strip(), f"{snippet.where}: no command in the block"
    workdir = tmp_path / "repo"
    workdir.mkdir()
    for entry in ROOT.iterdir():
        (workdir / entry.name).symlink_to(entry)
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True,
                          cwd=workdir, env=_env(tmp_path), timeout=TIMEOUT_S)
    assert done.returncode == 0, f"{snippet.where} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.stdout.strip(), f"{snippet.where} printed nothing"  # each documented command shows a result


def test_an_example_run_is_left_to_test_examples_but_must_exist() -> None:
    block = Snippet(ROOT / "README.md", 1, "bash", "pad chat --once\npython examples/quickstart.py   # note\n", None)
    script = shell_script(block)
    assert script.startswith("pad chat --once\ntest -f examples/quickstart.py && echo ")
    assert (ROOT / "examples" / "quickstart.py").is_file()
    assert "python examples/x.py --model m" in shell_script(
        Snippet(ROOT / "README.md", 1, "bash", "python examples/x.py --model m\n", None))  # with arguments it runs


def test_console_blocks_keep_only_the_commands() -> None:
    block = Snippet(ROOT / "README.md", 1, "console", "$ echo a \\\n    b\nout put\n$ echo c\n", None)
    assert shell_script(block) == "echo a \\\n    b\necho c\n"
