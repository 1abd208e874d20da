"""The bundled demo model: a small chat model in a synthetic English, and its PersRM.

Both are ordinary Hugging Face directories (``AutoModelForCausalLM`` / ``AutoTokenizer``), built by
``python -m pad_integrations.training.demo_recipe`` (see docs/training.md). They run offline, on CPU,
in well under a second per answer; they speak only their synthetic English (see docs/training.md for
what they can and cannot do).
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _existing(name: str) -> str:
    path = _HERE / name
    if not (path / "config.json").is_file():
        raise FileNotFoundError(
            f"the demo model files are missing at {path}; rebuild them with "
            "`python -m pad_integrations.training.demo_recipe`")
    return str(path)


def model_path() -> str:
    """Directory of the demo base chat model (ChatML template with tool calling)."""
    return _existing("base")


def reward_model_path() -> str:
    """Directory of the demo PersRM (same tokenizer as the base model, with ``value_head.safetensors``)."""
    return _existing("persrm")
