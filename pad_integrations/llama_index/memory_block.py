"""A LlamaIndex ``Memory`` block holding one user's stored preferences."""

from __future__ import annotations

import asyncio
from typing import Any

from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.memory.memory import BaseMemoryBlock
from pydantic import Field

from pad_integrations.runtime.profiles import read_profile
from pad_integrations.runtime.recording import recorder_for, resolve_memory
from pad_integrations.runtime.users import check_user_id, current_user


class PreferencesMemoryBlock(BaseMemoryBlock[str]):
    """A LlamaIndex ``Memory`` block holding one user's stored preferences.

    ``Memory.from_defaults(session_id=..., memory_blocks=[PreferencesMemoryBlock(memory=mem,
    user_id="alice")])`` puts the compiled preference text (framed as data about the user, never as
    instructions) into the context. With ``observe=True`` the messages that leave short-term memory are
    recorded as evidence (leave it off when the LLM is a ``PADLLM`` with memory: it records turns itself).
    """

    name: str = "user_preferences"
    description: str | None = "Preferences this user has stated or shown."
    memory: Any = Field(description="A PreferenceMemory or a database URL.")
    user_id: str | None = Field(default=None, description="None: the user of the current user_context().")
    observe: bool = False

    def _user(self) -> str | None:
        return check_user_id(self.user_id or current_user())

    async def _aget(self, messages: list[ChatMessage] | None = None, **block_kwargs: Any) -> str:
        user = self._user()
        memory = resolve_memory(self.memory)
        if user is None or memory is None:
            return ""
        profile = await asyncio.to_thread(read_profile, memory, user)
        return str(profile.text or "")

    async def _aput(self, messages: list[ChatMessage]) -> None:
        user = self._user()
        memory = resolve_memory(self.memory)
        if self.observe and user is not None and memory is not None and messages:
            await asyncio.to_thread(recorder_for(memory).record, user, list(messages), "inline")
