"""``pad chat``: talk to the model as one user; after each answer, see what guided it and what was learned.

Interactive (a terminal on stdin): a readline prompt, answers streamed as they are decoded, and
``/prefs``, ``/reset``, ``/help``, ``/quit``. Otherwise (a pipe, or ``--once``): every non-empty line of
stdin is one user turn of one conversation (``--once``: all of stdin is one message), and with ``--json``
each turn is one JSON object per line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from pad_integrations.cli.common import (
    MAX_TOKENS_ENV,
    CLIError,
    add_db_argument,
    add_json_argument,
    add_model_arguments,
    add_quiet_argument,
    add_user_argument,
    load_generator,
    memory_location,
    open_memory,
    status,
)
from pad_integrations.runtime.profiles import STRENGTH_LEGEND, describe_change, describe_strength
from pad_integrations.runtime.requests import build_request, sampling_settings

if TYPE_CHECKING:
    from memory import Change, PreferenceMemory
    from pad_integrations.generation import GuidedGenerator

HELP = "chat as a user; shows the preferences applied and newly inferred after each answer"
INTERACTIVE_HELP = """Commands: /prefs (show your stored preferences and their strengths), /reset (start a new
conversation), /help, /quit (or Ctrl-D)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_user_argument(parser)
    add_model_arguments(parser)
    add_db_argument(parser)
    parser.add_argument("--system", help="a system prompt for the conversation")
    # A string default goes through `type` like a typed value, so a bad $PAD_MAX_TOKENS is a usage error.
    parser.add_argument("--max-tokens", type=_positive_int, default=os.environ.get(MAX_TOKENS_ENV) or "256",
                        help=f"longest answer, in tokens (default: ${MAX_TOKENS_ENV}, else 256)")
    parser.add_argument("--temperature", type=float, default=0.0, help="0 (default) decodes greedily")
    parser.add_argument("--seed", type=int, help="sampling seed")
    parser.add_argument("--once", action="store_true", help="read all of stdin as one message, answer, exit")
    parser.add_argument("--no-learn", action="store_true",
                        help="use the stored preferences but learn nothing new")
    add_json_argument(parser)
    add_quiet_argument(parser)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


@dataclass
class Turn:
    """One answered turn, as shown to the user."""

    user_text: str
    reply: str
    finish_reason: str
    usage: dict[str, int]
    strategy: str
    applied: list[tuple[str, float]]
    changes: list[Change] = field(default_factory=list)

    def to_json(self, user_id: str) -> dict[str, Any]:
        return {
            "user": user_id,
            "input": self.user_text,
            "reply": self.reply,
            "finish_reason": self.finish_reason,
            "usage": self.usage,
            "strategy": self.strategy,
            "preferences_applied": [{"text": t, "weight": w} for t, w in self.applied],
            "learned": [c.to_dict() for c in self.changes],
        }


class ChatSession:
    """One user's conversation: profile in before each answer, the turn observed after it."""

    def __init__(self, generator: GuidedGenerator, memory: PreferenceMemory, args: argparse.Namespace) -> None:
        self.generator = generator
        self.memory = memory
        self.args = args
        self.user = args.user
        self.messages: list[dict[str, Any]] = []

    def reset(self) -> None:
        self.messages = []

    def _conversation(self, text: str) -> list[dict[str, Any]]:
        """The messages to send: system prompt, as much history as fits, and the new message."""
        system = [{"role": "system", "content": self.args.system}] if self.args.system else []
        history = [*self.messages, {"role": "user", "content": text}]
        budget = self.generator.context_window - self.args.max_tokens
        # Drop the oldest exchanges until the prompt leaves room for the answer.
        while len(history) > 1 and self.generator.count_tokens(system + history) > budget:
            history = history[2:]
        if self.generator.count_tokens(system + history) > budget:
            raise CLIError("the message is too long for the model's context window")
        return system + history

    def answer(self, text: str, on_delta: Callable[[str], None] | None = None) -> Turn:
        profile = self.memory.profile(self.user)
        messages = self._conversation(text)
        sampling = sampling_settings(
            max_tokens=self.args.max_tokens, temperature=self.args.temperature, seed=self.args.seed
        )
        request = build_request(messages, profile=profile, strategy=self.args.strategy, sampling=sampling)
        if on_delta is None:
            result = self.generator.generate_batch([request])[0]
        else:
            stream = self.generator.stream_request(request)
            try:
                for delta in stream:
                    on_delta(delta)
            finally:
                stream.close()  # releases the model at once if the user interrupted the answer
            if stream.result is None:  # the stream ended without a result: nothing was answered
                raise CLIError("the answer was interrupted")
            result = stream.result
        self.messages = [*messages[1 if self.args.system else 0:], {"role": "assistant", "content": result.text}]
        changes = []
        if not self.args.no_learn:
            observed = self.memory.observe(self.user, [messages[-1], self.messages[-1]])
            # A long turn is read off observe's path (observed.deferred): wait for it, the learned lines need it.
            changes = list(observed.wait())
        return Turn(
            user_text=text,
            reply=result.text,
            finish_reason=result.finish_reason,
            usage={
                "prompt_tokens": result.usage.input_tokens,
                "completion_tokens": result.usage.output_tokens,
                "total_tokens": result.usage.total_tokens,
            },
            strategy=result.trace.strategy,
            applied=list(result.trace.preferences),
            changes=changes,
        )


def print_turn_notes(turn: Turn, out: TextIO) -> None:
    """The lines after an answer: which preferences steered it, and what this turn taught the memory."""
    if turn.applied:
        # The strength each preference steered with (weight x confidence, as /prefs shows it).
        applied = "; ".join(f"{text} (strength {weight:g})" for text, weight in turn.applied)
        print(f"  [applied via {turn.strategy}: {applied}]", file=out)
    else:
        print(f"  [no stored preferences applied ({turn.strategy})]", file=out)
    learned = [line for line in (describe_change(c) for c in turn.changes) if line]
    if learned:
        print(f"  [learned: {', '.join(learned)}]", file=out)
    out.flush()


def _stdin_turns(once: bool) -> Iterator[str]:
    if once:
        text = sys.stdin.read().strip()
        if not text:
            raise CLIError("no message on stdin", code=2)
        yield text
        return
    for line in sys.stdin:
        if line.strip():
            yield line.strip()


def _show_profile(session: ChatSession) -> None:
    profile = session.memory.profile(session.user)
    if not profile.preferences:
        print("  (no stored preferences)")
    for pref in profile.preferences:
        print(f"  {pref.kind}: {pref.value}  ({describe_strength(pref)}, {pref.source})")
    if profile.preferences:
        print(f"  ({STRENGTH_LEGEND})")


def _interactive(session: ChatSession) -> None:
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history for input())
    print(f"Chatting as {session.user!r}. {INTERACTIVE_HELP}", file=sys.stderr)
    while True:
        try:
            text = input(f"{session.user}> ").strip()
        except EOFError:
            print()
            return
        if not text:
            continue
        command = text.lower()
        if command in ("/quit", "/exit"):
            return
        if command == "/help":
            print(INTERACTIVE_HELP)
        elif command == "/prefs":
            _show_profile(session)
        elif command == "/reset":
            session.reset()
            print("  (new conversation)")
        else:
            try:
                turn = session.answer(text, on_delta=lambda d: print(d, end="", flush=True))
            except KeyboardInterrupt:  # Ctrl-C stops this answer (unrecorded), not the session
                print("\n  (interrupted)")
                continue
            print()
            print_turn_notes(turn, sys.stdout)


def run(args: argparse.Namespace) -> int:
    if args.temperature < 0:
        raise CLIError("--temperature must not be negative", code=2)
    interactive = sys.stdin.isatty() and not args.once and not args.json
    memory = open_memory(args)
    status(args, f"Preferences of {args.user!r} are stored in {memory_location(memory)}")
    generator = load_generator(args)
    session = ChatSession(generator, memory, args)
    if interactive:
        _interactive(session)
        return 0
    status(args, f"Reading messages for {args.user!r} from stdin ...")
    for text in _stdin_turns(args.once):
        turn = session.answer(text)
        if args.json:
            print(json.dumps(turn.to_json(args.user), ensure_ascii=False), flush=True)
        else:
            print(turn.reply)
            print_turn_notes(turn, sys.stdout)
    return 0
