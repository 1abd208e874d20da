"""The distribution itself: light imports, clear errors for missing extras, the console command, tiny models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pad_integrations._extras import MissingExtraError, require

HEAVY_OPTIONALS = ("langchain_core", "llama_index", "fastapi", "uvicorn", "psycopg", "peft")


def _modules_after_import(stmt: str) -> set[str]:
    code = f"import sys; {stmt}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return {name.split(".")[0] for name in out.split()}


@pytest.mark.parametrize("stmt", ["import pad_integrations", "import memory"])
def test_top_level_packages_import_without_any_extra(stmt: str) -> None:
    loaded = _modules_after_import(stmt)
    assert not loaded & set(HEAVY_OPTIONALS), f"{stmt} pulled in optional packages: {loaded & set(HEAVY_OPTIONALS)}"


def test_key_administration_does_not_load_the_model_stack() -> None:
    """`pad keys list` answered in 36 s under load: importing .auth ran server/__init__, which imported the
    app and through it torch and transformers. The package's exports are lazy now."""
    loaded = _modules_after_import("from pad_integrations.server.auth import KeyStore")
    assert not loaded & {"torch", "transformers"}, loaded & {"torch", "transformers"}


def test_missing_extra_names_the_extra_to_install() -> None:
    with pytest.raises(MissingExtraError, match=r"pip install 'pad-integrations\[server\]'"):
        require("surely_not_an_installed_module_xyz", "server", feature="pad serve")
    assert issubclass(MissingExtraError, ImportError)


def test_require_returns_the_module_when_present() -> None:
    assert require("json", "dev").dumps([1]) == "[1]"


def test_pad_console_command_exists() -> None:
    exe = Path(sys.executable).with_name("pad")
    assert exe.exists(), "the `pad` console script is not installed"
    out = subprocess.run([str(exe), "--version"], check=True, capture_output=True, text=True).stdout
    assert out.startswith("pad-integrations ")
    usage = subprocess.run([str(exe), "--help"], capture_output=True, text=True)
    assert usage.returncode == 0 and "COMMAND" in usage.stdout


def test_tiny_chatml_model_is_real(tiny_model_dir: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert model.config.model_type == "qwen2"
    text = tok.apply_chat_template(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi, café 🙂"}],
        tokenize=False,
        add_generation_prompt=True,
    )
    assert text.endswith("<|im_start|>assistant\n") and "<|im_start|>system\nBe brief.<|im_end|>" in text
    ids = tok(text, add_special_tokens=False).input_ids
    assert tok.decode(ids) == text  # byte-level BPE round-trips multi-byte text
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits
    assert logits.shape == (1, len(ids), len(tok))


def test_tiny_chatml_template_renders_tools(tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    tool = {"type": "function", "function": {"name": "magic_function", "description": "d",
                                             "parameters": {"type": "object", "properties": {"input": {"type": "integer"}}}}}
    text = tok.apply_chat_template([{"role": "user", "content": "x"}], tools=[tool], tokenize=False,
                                   add_generation_prompt=True)
    assert "<tools>" in text and '"magic_function"' in text


def test_llama3_template_emits_bos_once(tiny_llama_dir: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_llama_dir)
    text = tok.apply_chat_template([{"role": "user", "content": "hello"}], tokenize=False, add_generation_prompt=True)
    ids = tok(text, add_special_tokens=False).input_ids
    assert ids.count(tok.bos_token_id) == 1 and ids[0] == tok.bos_token_id


def test_no_system_template_rejects_system_role(tiny_no_system_dir: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_no_system_dir)
    with pytest.raises(Exception, match="System role not supported"):
        tok.apply_chat_template([{"role": "system", "content": "s"}, {"role": "user", "content": "u"}], tokenize=False)


def test_postgres_fixture_reaches_a_real_server(postgres_url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select 1")).scalar() == 1
        version = conn.execute(sa.text("show server_version")).scalar()
    engine.dispose()
    assert version and int(version.split(".")[0]) >= 12
