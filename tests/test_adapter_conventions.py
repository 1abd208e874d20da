"""Ecosystem conventions of ChatPAD and PADLLM: constructor arguments, dtype/device spellings, the model's
own tokenizer for token counts, trim_messages, and an LLM cache that follows the user's profile."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from langchain_core.caches import InMemoryCache
from langchain_core.globals import set_llm_cache
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage, trim_messages
from pydantic import ValidationError

from memory import PreferenceMemory
from pad_integrations.langchain import ChatPAD
from pad_integrations.llama_index import PADLLM
from pad_integrations.runtime.engines import get_generator


@pytest.mark.parametrize("cls", [ChatPAD, PADLLM])
def test_unknown_arguments_are_refused_and_aliases_accepted(cls: type, tiny_model_dir: Path) -> None:
    with pytest.raises(ValidationError, match="modle"):
        cls(modle=str(tiny_model_dir))
    llm = cls(model_name=str(tiny_model_dir), max_new_tokens=7, dtype=torch.float32, device="auto",
              model_kwargs={"revision": "main"})
    assert (llm.model, llm.max_tokens, llm.dtype) == (str(tiny_model_dir), 7, "float32")
    engine = llm.engine()
    assert engine.model.dtype == torch.float32 and engine.model.device.type in ("cpu", "cuda", "mps")
    assert cls(model=str(tiny_model_dir), dtype="auto").dtype == "auto"
    with pytest.raises(ValidationError, match="dtype"):
        cls(model=str(tiny_model_dir), dtype="float99")
    with pytest.raises(ValidationError, match="dtype"):
        cls(model=str(tiny_model_dir), dtype=3.5)


def test_model_kwargs_reach_from_pretrained(tiny_model_dir: Path) -> None:
    """A revision that does not exist locally is an error: the keyword was passed, not dropped."""
    with pytest.raises(Exception, match=r"(?i)revision|not a valid|cannot load"):
        get_generator(str(tiny_model_dir), model_kwargs={"revision": "no-such-revision", "local_files_only": True,
                                                         "attn_implementation": "no-such-attention"})


def test_token_counts_use_the_models_tokenizer(tiny_model_dir: Path) -> None:
    chat = ChatPAD(model=str(tiny_model_dir))
    tokenizer = chat.engine().tokenizer
    text = "Hello there, general Kenobi."
    assert chat.get_token_ids(text) == tokenizer.encode(text, add_special_tokens=False)
    assert chat.get_num_tokens(text) == len(tokenizer.encode(text, add_special_tokens=False)) > 0


def test_trim_messages_can_count_with_chatpad(tiny_model_dir: Path) -> None:
    chat = ChatPAD(model=str(tiny_model_dir))
    history = [
        SystemMessage("Be brief."),
        HumanMessage("What is the weather?"),
        AIMessage("", tool_calls=[{"name": "weather", "args": {"city": "Oslo"}, "id": "c1"}]),
        ToolMessage("sunny", tool_call_id="c1"),
        AIMessage("It is sunny."),
        HumanMessage("And tomorrow?"),
    ]
    whole = chat.get_num_tokens_from_messages(history)
    for budget in (whole, whole // 2, 10):
        kept = trim_messages(history, max_tokens=budget, token_counter=chat, strategy="last", include_system=True)
        assert kept[0].type == "system"
    assert chat.get_num_tokens_from_messages([SystemMessage("only a system message")]) > 0
    assert chat.get_num_tokens_from_messages([("user", "a tuple"), {"role": "assistant", "content": "a dict"}]) > 0


def test_the_llm_cache_follows_the_users_profile(tiny_model_dir: Path, sqlite_url: str) -> None:
    memory = PreferenceMemory(url=sqlite_url)
    try:
        set_llm_cache(InMemoryCache())
        chat = ChatPAD(model=str(tiny_model_dir), memory=memory, strategy="prompt", max_tokens=6, record="off")
        keys = []
        for _ in range(2):
            keys.append(chat._get_llm_string(user_id="ann"))
        memory.set_preference("ann", "likes", "short answers")
        keys.append(chat._get_llm_string(user_id="ann"))
        assert keys[0] == keys[1] != keys[2]  # same profile, same key; a changed profile, a new key
        first = chat.invoke("hi", user_id="ann")
        assert chat.invoke("hi", user_id="ann").content == first.content  # served from the cache
        memory.set_preference("ann", "dislikes", "emoji")
        assert chat._get_llm_string(user_id="ann") != keys[2]
    finally:
        set_llm_cache(None)
        memory.close()
