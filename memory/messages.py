"""Turning what callers pass to ``observe`` into validated (role, content) pairs.

Accepts dicts, LangChain messages (``.type``: human/ai/system/tool/function/chat) and LlamaIndex
``ChatMessage`` (``.role`` enum, ``.content``) by duck typing, so neither framework is imported.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from memory.errors import InvalidUserIdError
from memory.text import clean_for_storage

MAX_CONTENT_CHARS = 32_000  # longer content is stored cut at this length, flagged ``truncated``
MAX_MESSAGES_PER_CALL = 1_000
MAX_ID_CHARS = 255

_ROLES = {
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "ai": "assistant",
    "model": "assistant",
    "chatbot": "assistant",
    "system": "system",
    "developer": "system",
    "tool": "tool",
    "function": "tool",
}


@dataclass(frozen=True)
class TurnMessage:
    role: str  # user | assistant | system | tool
    content: str
    truncated: bool = False
    id: str | None = None  # set once stored


# Characters that let two different ids print alike: every control (Cc), format (Cf: zero-width spaces
# and joiners, bidi marks and embeddings, soft hyphen, tag characters), line/paragraph separator (Zl, Zp),
# surrogate (Cs) and unassigned/private code point is refused; NFKC already folds full-width and other
# compatibility forms onto their plain letters.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt; Python's unicodedata does not expose
# it): code points a renderer shows as nothing whatever their category: variation selectors (Mn), the
# combining grapheme joiner (Mn), Hangul fillers (Lo), Mongolian selectors. Plus the braille blank
# (U+2800, So), which renders as a space. 'bob\ufe0f' and 'bob\u3164' both printed as 'bob'.
_INVISIBLE_RANGES = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x2800, 0x2800),
    (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)


def _invisible(ch: str) -> bool:
    code = ord(ch)
    return unicodedata.category(ch) in _REFUSED_CATEGORIES or any(lo <= code <= hi for lo, hi in _INVISIBLE_RANGES)


def normalize_user_id(value: object, what: str = "user_id") -> str:
    """The canonical form of a user id (also used for namespaces and message ids), or a clear error.

    NFKC-normalised; refused (``InvalidUserIdError``, a ``ValueError``) when empty, longer than 255
    characters, with leading or trailing whitespace, or holding a control, zero-width, bidi or other
    invisible character, so 'bob', 'bob\u200d' and 'bob ' can never be three users that print alike.
    The memory API, the CLI and the server all call this one function. A non-str is a ``TypeError``.
    """
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    normalized = unicodedata.normalize("NFKC", value) if not value.isascii() else value
    if not normalized.strip():
        raise InvalidUserIdError(f"{what} must not be empty or blank")
    if len(normalized) > MAX_ID_CHARS:
        raise InvalidUserIdError(f"{what} is longer than {MAX_ID_CHARS} characters")
    if normalized != normalized.strip():
        raise InvalidUserIdError(f"{what} must not start or end with whitespace")
    for ch in normalized:
        if _invisible(ch):
            raise InvalidUserIdError(
                f"{what} contains an invisible or control character (U+{ord(ch):04X}); "
                "ids must be visible text so that two different ids never look the same"
            )
    return normalized


# The name the store and its callers used before normalisation existed; same rules.
validate_id = normalize_user_id


def _role_of(message: Any) -> object:
    if isinstance(message, Mapping):
        return message.get("role", message.get("type"))
    role = getattr(message, "role", None)  # LlamaIndex ChatMessage, LangChain ChatMessage
    if role is None:
        role = getattr(message, "type", None)  # LangChain BaseMessage subclasses
    return getattr(role, "value", role)  # LlamaIndex MessageRole enum


def _text_of(content: object) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence) and not isinstance(content, (bytes, bytearray)):
        # Multimodal content blocks: keep the text parts, skip images and other payloads.
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, Mapping) and isinstance(block.get("text"), str):
                parts.append(block["text"])
            elif isinstance(getattr(block, "text", None), str):
                parts.append(block.text)
        return "\n".join(parts)
    raise TypeError(
        f"message content must be a str or a list of content blocks, not {type(content).__name__}"
    )


def _content_of(message: Any) -> str:
    if isinstance(message, Mapping):
        return _text_of(message.get("content"))
    return _text_of(getattr(message, "content", None))


def normalize_message(message: Any) -> TurnMessage:
    if isinstance(message, (str, bytes)):
        raise TypeError("each message must be a dict or a message object with a role, not a bare string")
    raw_role = _role_of(message)
    if not isinstance(raw_role, str):
        raise ValueError(f"message has no role: {message!r:.80}")
    role = _ROLES.get(raw_role.strip().lower())
    if role is None:
        raise ValueError(f"unknown message role {raw_role!r}; expected one of user, assistant, system, tool")
    content = clean_for_storage(_content_of(message))
    truncated = len(content) > MAX_CONTENT_CHARS
    return TurnMessage(role, content[:MAX_CONTENT_CHARS] if truncated else content, truncated)


def normalize_messages(messages: Any) -> list[TurnMessage]:
    """Validate a turn: a non-empty list of messages (a single message is accepted as a turn of one)."""
    if isinstance(messages, (str, bytes)):
        raise TypeError("messages must be a list of messages, not a string")
    if isinstance(messages, Mapping) or hasattr(messages, "role") or hasattr(messages, "type"):
        messages = [messages]
    if not isinstance(messages, Sequence):
        raise TypeError(f"messages must be a list, not {type(messages).__name__}")
    if not messages:
        raise ValueError("messages must not be empty")
    if len(messages) > MAX_MESSAGES_PER_CALL:
        raise ValueError(f"at most {MAX_MESSAGES_PER_CALL} messages per call")
    return [normalize_message(m) for m in messages]
