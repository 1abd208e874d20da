"""A child process that stops at a chosen point so test_faults can SIGKILL it there.

    python fault_child.py observe URL NAMESPACE USER N_DONE MARKER
        stores N_DONE turns of USER, then starts one more and hangs while its extractor reads it
        (observe stores a turn and its reading in one write: nothing of that turn is committed yet),
        after writing MARKER.
    python fault_child.py commit-read URL NAMESPACE USER N_DONE MARKER
        the same through commit_turn then read_turn (a server's two halves): the turn it hangs in is
        committed, its preferences not yet.
    python fault_child.py durable URL NAMESPACE USER ACKS
        observes turn after turn for USER and appends each turn's number to ACKS once observe returned
        (acknowledged), with an extractor that dawdles so a kill often lands between a turn's commit and
        its reading; runs until killed.
    python fault_child.py migrate URL STATEMENT MARKER
        migrates an existing 0001 database to head and hangs right after SQL statement number
        STATEMENT of the migration ran, inside the migration's transaction, after writing MARKER.

Hanging is ``time.sleep``: only SIGKILL ends the process, so nothing is cleaned up on the way out.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from memory import PreferenceMemory
from memory.db import create_store_engine, upgrade
from memory.extractors.base import Decision, ExtractionContext
from memory.extractors.rules import RuleExtractor

HANG_S = 600


def signal_parent(marker: Path, what: str) -> None:
    partial = marker.with_suffix(".partial")
    partial.write_text(what)
    partial.rename(marker)  # atomic: the parent never reads a half-written marker


def hang(marker: Path) -> None:
    signal_parent(marker, "inside")
    time.sleep(HANG_S)


class HangOnTurn:
    """An inline extractor that hangs on the turn containing ``trigger`` (after observe committed it)."""

    name = "hang"
    runs_inline = True

    def __init__(self, trigger: str, marker: Path) -> None:
        self.trigger = trigger
        self.marker = marker

    def extract(self, context: ExtractionContext) -> list[Decision]:
        if any(self.trigger in m.content for m in context.messages):
            hang(self.marker)
        return []


def turn(i: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"I like zqkill{i}."}, {"role": "assistant", "content": f"Noted: zqkill{i}."}]


def observe_then_hang(url: str, namespace: str, user: str, n_done: str, marker: str) -> None:
    n = int(n_done)
    mem = PreferenceMemory(url, namespace=namespace, extractor=[RuleExtractor(), HangOnTurn(f"zqkill{n}.", Path(marker))])
    for i in range(n + 1):
        mem.observe(user, turn(i))


def commit_read_then_hang(url: str, namespace: str, user: str, n_done: str, marker: str) -> None:
    n = int(n_done)
    mem = PreferenceMemory(url, namespace=namespace, extractor=[RuleExtractor(), HangOnTurn(f"zqkill{n}.", Path(marker))])
    for i in range(n + 1):
        mem.read_turn(user, mem.commit_turn(user, turn(i)))


class Dawdle:
    """An inline extractor that takes a few milliseconds, as a model would."""

    name = "dawdle"
    runs_inline = True

    def extract(self, context: ExtractionContext) -> list[Decision]:
        time.sleep(random.uniform(0.0, 0.02))
        return []


def observe_and_acknowledge(url: str, namespace: str, user: str, acks: str) -> None:
    mem = PreferenceMemory(url, namespace=namespace, extractor=[RuleExtractor(), Dawdle()])
    fd = os.open(acks, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    i = 0
    while True:
        mem.observe(user, turn(i))
        os.write(fd, f"{i}\n".encode())  # in the page cache at once: SIGKILL cannot lose it
        i += 1


def migrate_then_hang(url: str, statement: str, marker: str) -> None:
    engine = create_store_engine(url)
    target = int(statement)
    seen = 0

    @event.listens_for(engine, "after_cursor_execute")
    def count(*_: Any) -> None:
        nonlocal seen
        seen += 1
        if seen == target:
            hang(Path(marker))

    upgrade(engine)
    signal_parent(Path(marker), "finished")  # the kill point was past the last statement


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {
        "observe": observe_then_hang,
        "commit-read": commit_read_then_hang,
        "migrate": migrate_then_hang,
        "durable": observe_and_acknowledge,
    }[command](*args)
