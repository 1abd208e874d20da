"""langchain-tests' standard unit suite for ChatPAD, on a tiny real model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_tests.unit_tests import ChatModelUnitTests

from pad_integrations.langchain import ChatPAD


class TestChatPADUnit(ChatModelUnitTests):
    @pytest.fixture(autouse=True)
    def _tiny(self, tiny_model_dir: Path, tiny_llama_dir: Path) -> None:
        type(self).model_dir = str(tiny_model_dir)
        type(self).other_model_dir = str(tiny_llama_dir)

    @property
    def chat_model_class(self) -> type[ChatPAD]:
        return ChatPAD

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": self.model_dir}

    @property
    def model_override_value(self) -> str:
        return self.other_model_dir

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True
