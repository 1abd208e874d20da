"""Turning messages and preferences into token-id contexts with the model's own chat template.

A request is decoded under several contexts that differ only in where the preference text sits:
``base`` (no preference), ``pref{i}`` (preference i alone) and ``joined`` (all preferences in one
context, for strategies that read a single preference context, such as PAD).

Layouts (``prompt_style``):
- ``chat`` (default): the preference is a system message, appended to an existing system message;
  folded into the first user turn when the template has no system role.
- ``amulet``: Amulet's system prompt with the preference filled in (the base context gets the same
  system prompt without it), as in ``zowiezhang/Amulet`` ``prompts.py``.
- ``pad``: PAD's ``[Guidelines] ... [Principles] {preference} [Instruction]`` prefix on the last
  user turn (the base context has no prefix), as in ``zjuruizhechen/PAD``.

Control tokens inside message or preference text are encoded as plain text
(``sanitize_control_tokens``), so a stored preference can never open a new turn or role.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from jinja2 import TemplateError
from transformers import PreTrainedTokenizerBase

from pad_integrations.generation.tool_template import hermes_messages, tools_section

PromptStyle = Literal["chat", "amulet", "pad"]
PROMPT_STYLES: tuple[str, ...] = ("chat", "amulet", "pad")
ROLES = ("system", "user", "assistant", "tool")

AMULET_SYSTEM_PROMPT = (
    "You are an AI designed to provide the most helpful, clear, and concise responses. Focus on giving "
    "actionable information, ensuring accuracy and detail without overwhelming the user. You should also be "
    "patient, polite, and calm. Avoid unnecessary complexity and always prioritize practical, user-friendly "
    "advice. {preference}"
)
PAD_PREFIX = (
    "[Guidelines] Your task is to generate response by considering the following principle. "
    "[Principles] {preference} [Instruction] "
)
# Used only when the tokenizer has no chat template at all.
FALLBACK_ROLE_NAMES = {"system": "System", "user": "User", "assistant": "Assistant", "tool": "Tool"}

Preferences = list[tuple[str, float]]


def normalize_preference(preference: Any) -> Preferences:
    """``None | str | [(text, weight), ...] | obj.guidance()`` -> a list of (text, weight).

    Blank texts and zero weights are dropped (they steer nothing); a non-finite weight is an error.
    """
    if preference is None:
        return []
    if hasattr(preference, "guidance") and callable(preference.guidance):
        preference = preference.guidance()
    if isinstance(preference, str):
        check_text(preference, "the preference")
        return [(preference.strip(), 1.0)] if preference.strip() else []
    if not isinstance(preference, Sequence):
        raise TypeError(
            "preference must be None, a str, a sequence of (text, weight) or an object with .guidance(); "
            f"got {type(preference).__name__}"
        )
    out: Preferences = []
    for item in preference:
        if not (isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 2):
            raise TypeError(f"each preference must be a (text, weight) pair, got {item!r}")
        text, weight = item
        if not isinstance(text, str):
            raise TypeError(f"preference text must be a str, got {type(text).__name__}")
        check_text(text, "a preference")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            raise TypeError(f"preference weight must be a number, got {weight!r}")
        if not math.isfinite(weight):
            raise ValueError(f"preference weight must be finite, got {weight!r}")
        if text.strip() and weight != 0:
            out.append((text.strip(), float(weight)))
    return out


def check_text(text: str, where: str) -> None:
    """Reject text that is not valid Unicode (a lone surrogate, legal in a Python str and in JSON escapes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{where} contains a lone surrogate ({text[exc.start]!r} at position {exc.start}): not valid Unicode text"
        ) from None


def normalize_messages(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validate chat messages and merge consecutive plain messages of the same role."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise TypeError("messages must be a list of {'role': ..., 'content': ...} dicts")
    if not messages:
        raise ValueError("messages is empty: give at least one message")
    out: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise TypeError(f"message {i} must be a dict, got {type(message).__name__}")
        role = message.get("role")
        if role not in ROLES:
            raise ValueError(f"message {i} has role {role!r}; expected one of {ROLES}")
        content = message.get("content")
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise TypeError(f"message {i} content must be a str, got {type(content).__name__}")
        check_text(content, f"message {i}")
        msg = {k: v for k, v in message.items() if v is not None}
        msg["content"] = content
        prev = out[-1] if out else None
        mergeable = role in ("system", "user", "assistant") and not msg.get("tool_calls")
        if prev is not None and mergeable and prev["role"] == role and not prev.get("tool_calls"):
            prev["content"] = f"{prev['content']}\n\n{content}" if prev["content"] else content
        else:
            out.append(msg)
    if all(m["role"] == "system" for m in out):
        raise ValueError("messages hold only a system message: add a user message to answer")
    return out


@dataclass
class ChatFormatter:
    """Renders messages to token ids with the tokenizer's chat template (or a documented fallback)."""

    tokenizer: PreTrainedTokenizerBase
    keep_default_system: bool = True
    """When the template inserts its own system line for conversations without one (SmolLM2: "You are a
    helpful AI assistant named SmolLM, ..."), a preference is appended to that line instead of replacing
    it, so the preference context differs from the base context by the preference alone (docs/engine.md)."""

    def __post_init__(self) -> None:
        self.has_template = bool(getattr(self.tokenizer, "chat_template", None))
        self.supports_system = self.has_template and self._renders_system()
        self.default_system = self._default_system() if self.supports_system else None
        # Templates without tool syntax (SmolLM2's ChatML) get the documented Hermes fallback instead
        # (generation/tool_template.py) rather than silently dropping the tools.
        self.renders_tools = self.has_template and self._renders_tools()

    def _renders_tools(self) -> bool:
        probe = {"type": "function", "function": {"name": "pad_tool_probe_7f3a", "parameters": {"type": "object"}}}
        try:
            text = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": "hi"}], tools=[probe], tokenize=False, add_generation_prompt=True
            )
        except Exception:  # a template that fails on tools does not support them
            return False
        return isinstance(text, str) and "pad_tool_probe_7f3a" in text

    def _renders_system(self) -> bool:
        marker = "pad-system-probe-7f3a"
        try:
            text = self.tokenizer.apply_chat_template(
                [{"role": "system", "content": marker}, {"role": "user", "content": "hi"}],
                tokenize=False,
                add_generation_prompt=True,
            )
        except Exception:  # jinja raise_exception(): the template has no system role
            return False
        return marker in text

    def _default_system(self) -> str | None:
        """The system text the template inserts when the messages have none, or None.

        Rendered with a probe system message the template gives ``A + probe + B``; without one it gives
        ``A + X + B``, where X is its default (empty for templates with no default system line).
        """
        marker, user = "pad-system-probe-7f3a", [{"role": "user", "content": "hi"}]
        try:
            with_probe = self.tokenizer.apply_chat_template(
                [{"role": "system", "content": marker}, *user], tokenize=False, add_generation_prompt=True
            )
            without = self.tokenizer.apply_chat_template(user, tokenize=False, add_generation_prompt=True)
        except Exception:  # a template that fails on the probe has no usable default either
            return None
        if not isinstance(with_probe, str) or not isinstance(without, str) or with_probe.count(marker) != 1:
            return None
        head, tail = with_probe.split(marker)
        if not (without.startswith(head) and without.endswith(tail) and len(without) >= len(head) + len(tail)):
            return None
        default = without[len(head) : len(without) - len(tail)]
        return default if default.strip() else None

    def encode(
        self,
        messages: list[dict[str, Any]],
        *,
        system_extra: str | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
    ) -> list[int]:
        """Token ids of ``messages`` with ``system_extra`` added to the system message, ready to generate."""
        msgs = [dict(m) for m in messages]
        if tools and self.has_template and not self.renders_tools:
            msgs = hermes_messages(msgs)
            section = tools_section(tools)
            system_extra = f"{system_extra}\n\n{section}" if system_extra else section
            tools = None
        if system_extra:
            if msgs[0]["role"] == "system":
                msgs[0]["content"] = f"{msgs[0]['content']}\n\n{system_extra}" if msgs[0]["content"] else system_extra
            elif self.default_system and self.keep_default_system:
                msgs.insert(0, {"role": "system", "content": f"{self.default_system}\n\n{system_extra}"})
            else:
                msgs.insert(0, {"role": "system", "content": system_extra})
        if not self.has_template:
            if tools:
                raise ValueError("this model has no chat template, so it cannot be given tools")
            return self._fallback_encode(msgs)
        if msgs[0]["role"] == "system" and not self.supports_system:
            msgs = _fold_system(msgs)
        try:
            encoded = self.tokenizer.apply_chat_template(
                msgs,
                tools=[dict(t) for t in tools] if tools else None,
                add_generation_prompt=True,
                tokenize=True,
                return_dict=True,
                sanitize_control_tokens=True,
            )
        except TemplateError as exc:  # the template's own raise_exception(): e.g. roles must alternate
            raise ValueError(f"the model's chat template rejected these messages: {exc}") from exc
        if not isinstance(encoded, Mapping):  # tokenize=True with return_dict=True gives a BatchEncoding
            raise TypeError(f"apply_chat_template returned {type(encoded).__name__}, not a BatchEncoding")
        ids = list(encoded["input_ids"])
        if tools:
            self._check_tools_rendered(ids, tools)
        return ids

    def _check_tools_rendered(self, ids: list[int], tools: Sequence[Mapping[str, Any]]) -> None:
        # A template without tool support silently drops them; the model would then never call one.
        text = self.tokenizer.decode(ids)
        names = [t.get("function", t).get("name") for t in tools if isinstance(t, Mapping)]
        if not any(isinstance(n, str) and n in text for n in names):
            raise ValueError("this model's chat template does not render tools, so it cannot be given tools")

    def _fallback_encode(self, msgs: list[dict[str, Any]]) -> list[int]:
        # "System: ...\n\nUser: ...\n\nAssistant:" with the tokenizer's own special tokens (BOS once).
        text = "\n\n".join(f"{FALLBACK_ROLE_NAMES[m['role']]}: {m['content']}" for m in msgs)
        return list(self.tokenizer(f"{text}\n\nAssistant:", add_special_tokens=True)["input_ids"])


def _fold_system(msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    system, rest = msgs[0]["content"], msgs[1:]
    for i, m in enumerate(rest):
        if m["role"] == "user":
            rest = [*rest[:i], {**m, "content": f"{system}\n\n{m['content']}"}, *rest[i + 1 :]]
            return rest
    return [{"role": "user", "content": system}, *rest]


def preference_text(preferences: Preferences) -> str:
    """All preference texts in one block, strongest first (the ``joined`` context)."""
    ordered = sorted(preferences, key=lambda p: -abs(p[1]))
    return "\n".join(text for text, _ in ordered)


def build_contexts(
    formatter: ChatFormatter,
    messages: list[dict[str, Any]],
    preferences: Preferences,
    names: Sequence[str],
    *,
    prompt_style: str = "chat",
    tools: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, list[int]]:
    """Token ids for each context in ``names`` (``base``, ``pref{i}``, ``joined``)."""
    if prompt_style not in PROMPT_STYLES:
        raise ValueError(f"unknown prompt_style {prompt_style!r}; expected one of {PROMPT_STYLES}")
    out: dict[str, list[int]] = {}
    for name in names:
        if name == "base":
            text = None
        elif name == "joined":
            text = preference_text(preferences)
        elif name.startswith("pref") and name[4:].isdigit() and int(name[4:]) < len(preferences):
            text = preferences[int(name[4:])][0]
        else:
            raise ValueError(f"unknown context {name!r} for {len(preferences)} preference(s)")
        out[name] = _encode_with_preference(formatter, messages, text, prompt_style, tools)
    return out


def _encode_with_preference(
    formatter: ChatFormatter,
    messages: list[dict[str, Any]],
    text: str | None,
    prompt_style: str,
    tools: Sequence[Mapping[str, Any]] | None,
) -> list[int]:
    if prompt_style == "chat":
        return formatter.encode(messages, system_extra=text, tools=tools)
    if prompt_style == "amulet":
        return formatter.encode(messages, system_extra=AMULET_SYSTEM_PROMPT.format(preference=text or ""), tools=tools)
    # pad: prefix the last user turn; the base context keeps the plain instruction.
    if text is None:
        return formatter.encode(messages, tools=tools)
    msgs = [dict(m) for m in messages]
    last_user = max((i for i, m in enumerate(msgs) if m["role"] == "user"), default=None)
    if last_user is None:
        raise ValueError("prompt_style='pad' needs a user message to prefix")
    msgs[last_user]["content"] = PAD_PREFIX.format(preference=text) + msgs[last_user]["content"]
    return formatter.encode(msgs, tools=tools)
