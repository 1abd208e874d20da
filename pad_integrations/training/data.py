"""Preference pairs: the JSONL format, its validation, and turning a pair into token ids.

One JSON object per line::

    {"prompt": "Tell me about rain." | [{"role": "user", "content": ...}, ...],
     "preference": "Keep answers short and to the point.",
     "chosen": "Rain is water.", "rejected": "Rain is water that falls ..."}

Every malformed line is reported with its line number in one error, so a large file is fixed in one pass.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pad_integrations.generation.contexts import ChatFormatter, normalize_messages

Messages = list[dict[str, Any]]
_ROLES = {"system", "user", "assistant", "tool"}


class PreferenceDataError(ValueError):
    """A preference-pair file has malformed lines; ``problems`` lists (line number, reason)."""

    def __init__(self, path: str | Path, problems: list[tuple[int, str]]) -> None:
        self.path = str(path)
        self.problems = problems
        shown = "\n".join(f"  line {n}: {why}" for n, why in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{self.path}: {len(problems)} malformed line(s)\n{shown}{more}")


@dataclass(frozen=True)
class PreferencePair:
    """A prompt (text or chat messages), the preference text, and two responses."""

    prompt: str | Messages
    preference: str
    chosen: str
    rejected: str

    @property
    def messages(self) -> Messages:
        if isinstance(self.prompt, str):
            return [{"role": "user", "content": self.prompt}]
        return [dict(m) for m in self.prompt]

    def to_json(self) -> str:
        return json.dumps({"prompt": self.prompt, "preference": self.preference, "chosen": self.chosen,
                           "rejected": self.rejected}, ensure_ascii=False)


def _check_messages(prompt: list[Any]) -> str | None:
    if not prompt:
        return "'prompt' is an empty list"
    for i, m in enumerate(prompt):
        if not isinstance(m, dict) or not isinstance(m.get("content"), str) or m.get("role") not in _ROLES:
            return f"'prompt'[{i}] must be an object with a role in {sorted(_ROLES)} and string content"
    if prompt[-1]["role"] not in ("user", "tool"):
        return "the last prompt message must be from the user (or a tool)"
    return None


def _parse_line(line: str) -> tuple[PreferencePair | None, str | None]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(obj, dict):
        return None, f"expected a JSON object, got {type(obj).__name__}"
    missing = [k for k in ("prompt", "preference", "chosen", "rejected") if k not in obj]
    if missing:
        return None, f"missing field(s): {', '.join(missing)}"
    for key in ("preference", "chosen", "rejected"):
        if not isinstance(obj[key], str) or not obj[key].strip():
            return None, f"{key!r} must be a non-empty string"
    prompt = obj["prompt"]
    if isinstance(prompt, str):
        if not prompt.strip():
            return None, "'prompt' must not be empty"
    elif isinstance(prompt, list):
        if (why := _check_messages(prompt)) is not None:
            return None, why
    else:
        return None, "'prompt' must be a string or a list of chat messages"
    if obj["chosen"] == obj["rejected"]:
        return None, "'chosen' and 'rejected' are identical"
    return PreferencePair(prompt, obj["preference"], obj["chosen"], obj["rejected"]), None


def load_pairs(path: str | Path) -> list[PreferencePair]:
    """Read and validate a JSONL file of preference pairs (blank lines are skipped)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"preference data not found: {path}")
    pairs: list[PreferencePair] = []
    problems: list[tuple[int, str]] = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            pair, why = _parse_line(line)
            if why is not None:
                problems.append((number, why))
            elif pair is not None:
                pairs.append(pair)
    if problems:
        raise PreferenceDataError(path, problems)
    if not pairs:
        raise PreferenceDataError(path, [(0, "the file holds no preference pairs")])
    return pairs


def save_pairs(pairs: Iterable[PreferencePair], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(p.to_json() + "\n" for p in pairs), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Encoded:
    """Token ids of prompt + response and the number of prompt tokens (the loss covers the rest)."""

    ids: list[int]
    n_prompt: int


def encode_turn(formatter: ChatFormatter, messages: Messages, response: str, *, preference: str | None = None,
                tools: list[dict[str, Any]] | None = None, max_length: int | None = None) -> Encoded:
    """The engine's context for ``messages`` (+ ``preference``), followed by the assistant ``response``.

    The prompt is built by the engine's own :class:`ChatFormatter`, so training sees exactly the token ids
    the engine decodes from. The response is tokenized on its own and closed with the end-of-turn token,
    as it is produced at generation time.
    """
    tokenizer = formatter.tokenizer
    prompt_ids = formatter.encode(normalize_messages(messages), system_extra=preference, tools=tools)
    response_ids = tokenizer(response, add_special_tokens=False)["input_ids"]
    if tokenizer.eos_token_id is not None:
        response_ids = [*response_ids, tokenizer.eos_token_id]
    ids = [*prompt_ids, *response_ids]
    n_prompt = len(prompt_ids)
    if max_length is not None and len(ids) > max_length:
        if n_prompt >= max_length:
            raise ValueError(f"a prompt of {n_prompt} tokens leaves no room for the response "
                             f"within max_length={max_length}")
        ids = ids[:max_length]  # truncate the response; the prompt (with the preference) stays whole
    return Encoded(ids, n_prompt)
