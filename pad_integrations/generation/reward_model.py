"""PAD's personalized reward model (PersRM): a causal LM with an optional d×d head before its LM head.

Layout (official PAD, ``AutoModelForCausalLMWithDPOValueHead`` + ``ValueHead2``): the backbone's final
hidden state h goes through ``v_head`` = Dropout → Linear(d, d), initialised to the identity, and then
through the backbone's own ``lm_head``: logits = lm_head(W·h + b). Without a head file the PersRM is
just the fine-tuned LM.

Two directory formats, both with an optional ``value_head.safetensors`` (keys ``v_head.summary.weight``
(d×d) and ``v_head.summary.bias`` (d)):

* a full model (docs/contracts.md, the official layout): an ordinary HF causal-LM directory;
* a LoRA adapter (peft's ``adapter_config.json`` + ``adapter_model.safetensors``) over the base model.
  :meth:`PersonalizedRewardModel.from_adapter` injects it into the base model *already in memory* (one
  copy of the weights): the adapter is switched on only for the duration of a PersRM forward and is off
  otherwise, so the base model's own passes are exactly the base model's. Callers that use the base
  model from several threads must serialise those calls with the PersRM's (the engine holds one lock
  for a whole decode).

Deviation from the official wrapper, on purpose: ``forward`` accepts and returns a KV cache and can
project only the last position (``logits_to_keep``), so decoding costs one incremental step per token
instead of a full re-encode of the prefix; the backbone is not forced under ``no_grad`` (the training
code decides what is trainable).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from transformers.modeling_outputs import CausalLMOutputWithPast

from pad_integrations.errors import ModelLoadError, TokenizerMismatchError
from pad_integrations.generation.batch import cache_kwargs, returned_cache

VALUE_HEAD_FILE = "value_head.safetensors"
ADAPTER_CONFIG_FILE = "adapter_config.json"
DEFAULT_ADAPTER_NAME = "persrm"
HEAD_WEIGHT_KEY = "v_head.summary.weight"
HEAD_BIAS_KEY = "v_head.summary.bias"


class ValueHead(nn.Module):
    """PAD's ``ValueHead2``: dropout, then a d×d linear map initialised to the identity."""

    def __init__(self, hidden_size: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.summary = nn.Linear(hidden_size, hidden_size)
        with torch.no_grad():
            self.summary.weight.copy_(torch.eye(hidden_size))
            self.summary.bias.zero_()

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.summary(self.dropout(hidden_states))


class PersonalizedRewardModel(nn.Module):
    """A PersRM: ``model`` (any HF causal LM) plus an optional :class:`ValueHead`.

    Call it like a causal LM: ``rm(input_ids, attention_mask=..., position_ids=..., past_key_values=...,
    use_cache=True, logits_to_keep=1)`` returns a ``CausalLMOutputWithPast`` whose logits are
    ``lm_head(v_head(h))`` (or plain ``lm_head(h)`` without a head).
    """

    def __init__(
        self,
        model: PreTrainedModel,
        value_head: ValueHead | None = None,
        tokenizer: PreTrainedTokenizerBase | None = None,
        name_or_path: str | None = None,
        adapter_name: str | None = None,
    ) -> None:
        super().__init__()
        if model.get_output_embeddings() is None:
            raise ModelLoadError(f"{type(model).__name__} has no LM head; a PersRM must be a causal LM")
        self.model = model
        self.v_head = value_head
        self.tokenizer = tokenizer
        self.name_or_path = name_or_path or str(getattr(model.config, "_name_or_path", "") or "")
        # With an adapter, ``model`` is the base model itself (shared, not copied) carrying injected LoRA
        # layers that are off except inside forward().
        self.adapter_name = adapter_name
        self._tuner_layers = _tuner_layers(model) if adapter_name else []
        if adapter_name and not self._tuner_layers:
            raise ModelLoadError(f"adapter {adapter_name!r} is not attached to {type(model).__name__}")
        _switch_adapters(self._tuner_layers, False)  # off (and frozen) except inside forward()

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls,
        path_or_id: str | Path,
        *,
        device: str | torch.device | None = None,
        dtype: torch.dtype | None = None,
        value_head: bool | None = None,
        base_model: PreTrainedModel | str | Path | None = None,
        **model_kwargs: Any,
    ) -> PersonalizedRewardModel:
        """Load a PersRM directory or hub id.

        ``value_head=None`` loads ``value_head.safetensors`` when the directory has one; ``True`` adds an
        identity-initialised head when it has none (the start of PAD's stage 2); ``False`` ignores it.
        An adapter directory loads over ``base_model`` (a loaded model, shared, or a path), by default
        the ``base_model_name_or_path`` its ``adapter_config.json`` names.
        """
        source = str(path_or_id)
        if is_adapter_dir(source):
            base = base_model if base_model is not None else _adapter_base(source)
            tokenizer = None
            if not isinstance(base, PreTrainedModel):
                try:
                    tokenizer = AutoTokenizer.from_pretrained(str(base))
                    base = AutoModelForCausalLM.from_pretrained(str(base), dtype=dtype or torch.float32,
                                                                **model_kwargs)
                except (OSError, ValueError) as exc:
                    raise ModelLoadError(
                        f"cannot load the base model {str(base)!r} of the PersRM adapter {source!r}: {exc}; "
                        "pass base_model=<the base model or its directory>") from exc
                if device is not None:
                    torch.nn.Module.to(base, device)  # (transformers' ``to`` wrapper hides the signature)
            return cls.from_adapter(base, source, value_head=value_head, tokenizer=tokenizer)
        try:
            model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, **model_kwargs)
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"cannot load the PersRM backbone from {source!r}: {exc}") from exc
        try:
            tokenizer = AutoTokenizer.from_pretrained(source)
        except (OSError, ValueError):
            tokenizer = None  # a PersRM directory may rely on the base model's tokenizer
        head = None
        head_file = _find_head_file(source)
        if value_head is not False and head_file is not None:
            head = load_value_head(head_file, model.config.hidden_size)
        elif value_head:
            head = ValueHead(model.config.hidden_size)
        rm = cls(model, head, tokenizer, name_or_path=source)
        rm.to(device=device, dtype=dtype or next(model.parameters()).dtype)
        rm.eval()
        return rm

    @classmethod
    def from_adapter(
        cls,
        base_model: PreTrainedModel,
        path: str | Path,
        *,
        value_head: bool | None = None,
        tokenizer: PreTrainedTokenizerBase | None = None,
    ) -> PersonalizedRewardModel:
        """Inject the LoRA adapter at ``path`` into ``base_model`` in place and return the PersRM over it.

        No weights are copied: the PersRM's forward switches the adapter on, runs, and switches it off
        again, so ``base_model`` called directly stays the base model (bit for bit).
        """
        from pad_integrations._extras import require

        require("peft", "train", "a PersRM stored as a LoRA adapter")
        source = str(path)
        loaded = getattr(base_model, "peft_config", None) or {}
        name, n = DEFAULT_ADAPTER_NAME, 1
        while name in loaded:  # a second PersRM over the same base gets its own adapter slot
            name, n = f"{DEFAULT_ADAPTER_NAME}_{n}", n + 1
        try:
            base_model.load_adapter(source, adapter_name=name)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise ModelLoadError(f"cannot apply the PersRM adapter {source!r} to the base model: {exc}") from exc
        head = None
        head_file = _find_head_file(source)
        if value_head is not False and head_file is not None:
            head = load_value_head(head_file, base_model.config.hidden_size)
        elif value_head:
            head = ValueHead(base_model.config.hidden_size)
        if head is not None:
            param = next(base_model.parameters())
            head.to(device=param.device, dtype=param.dtype)
        rm = cls(base_model, head, tokenizer, name_or_path=source, adapter_name=name)
        rm.eval()
        return rm

    def add_value_head(self, dropout: float = 0.1) -> ValueHead:
        """Attach an identity-initialised head (a no-op on the outputs until trained)."""
        param = next(self.model.parameters())
        self.v_head = ValueHead(self.hidden_size, dropout).to(device=param.device, dtype=param.dtype)
        self.v_head.train(self.training)
        return self.v_head

    def save_pretrained(self, save_directory: str | Path, **kwargs: Any) -> Path:
        """Write the directory format of docs/contracts.md (backbone, tokenizer, optional head file).

        A PersRM over an adapter writes only the adapter (peft format) and the head.
        """
        from safetensors.torch import save_file

        out = Path(save_directory)
        out.mkdir(parents=True, exist_ok=True)
        if self.adapter_name is not None:
            self.model.set_adapter(self.adapter_name)  # transformers saves the active adapter
            self.model.save_pretrained(out, **kwargs)
        else:
            self.model.save_pretrained(out, **kwargs)
        if self.tokenizer is not None:
            self.tokenizer.save_pretrained(out)
        head_path = out / VALUE_HEAD_FILE
        if self.v_head is not None:
            save_file(self.value_head_state_dict(), str(head_path))
        elif head_path.exists():
            head_path.unlink()  # a stale head from an earlier save would change the model on reload
        return out

    def value_head_state_dict(self) -> dict[str, torch.Tensor]:
        """The head's tensors under the official key names (contiguous CPU copies)."""
        if self.v_head is None:
            return {}
        return {
            HEAD_WEIGHT_KEY: self.v_head.summary.weight.detach().cpu().contiguous(),
            HEAD_BIAS_KEY: self.v_head.summary.bias.detach().cpu().contiguous(),
        }

    # -- properties -----------------------------------------------------------------------------
    @property
    def config(self) -> Any:
        return self.model.config

    @property
    def hidden_size(self) -> int:
        return int(self.model.config.hidden_size)

    @property
    def vocab_size(self) -> int:
        return int(self.model.get_output_embeddings().weight.shape[0])

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    def check_compatible(self, tokenizer: PreTrainedTokenizerBase, vocab_size: int | None = None) -> None:
        """Raise :class:`TokenizerMismatchError` unless this PersRM reads the same token ids as ``tokenizer``."""
        check_same_vocabulary(tokenizer, self.tokenizer, vocab_size, self.vocab_size, what="PersRM")

    # -- forward --------------------------------------------------------------------------------
    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        past_key_values: Any = None,
        use_cache: bool = False,
        cache: Any = None,
        logits_to_keep: int = 0,
        **kwargs: Any,
    ) -> CausalLMOutputWithPast:
        """Logits ``lm_head(W·h + b)``; ``logits_to_keep=1`` projects only the last position.

        The KV cache comes as ``cache`` (transformers >= 5.24's name) or ``past_key_values``.
        """
        past_key_values = cache if cache is not None else past_key_values
        if self.adapter_name is None:
            return self._forward(input_ids, attention_mask, position_ids, past_key_values, use_cache,
                                 logits_to_keep, **kwargs)
        if len(getattr(self.model, "peft_config", {})) > 1:
            self.model.set_adapter(self.adapter_name)
        _switch_adapters(self._tuner_layers, True, fast=True)
        try:
            return self._forward(input_ids, attention_mask, position_ids, past_key_values, use_cache,
                                 logits_to_keep, **kwargs)
        finally:
            _switch_adapters(self._tuner_layers, False, fast=True)

    def _forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None,
                 position_ids: torch.Tensor | None, past_key_values: Any, use_cache: bool, logits_to_keep: int,
                 **kwargs: Any) -> CausalLMOutputWithPast:
        decoder = self.model.get_decoder()
        outputs = decoder(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            use_cache=use_cache,
            **cache_kwargs(decoder, past_key_values),
            **kwargs,
        )
        hidden = outputs.last_hidden_state
        if logits_to_keep:
            hidden = hidden[:, -logits_to_keep:]
        if self.v_head is not None:
            hidden = self.v_head(hidden)
        logits = self.model.get_output_embeddings()(hidden)
        return CausalLMOutputWithPast(logits=logits, past_key_values=returned_cache(outputs))


def is_adapter_dir(path: str | Path) -> bool:
    """A local directory holding a peft adapter (``adapter_config.json``) rather than a full model."""
    return (Path(path) / ADAPTER_CONFIG_FILE).is_file()


def _adapter_base(source: str) -> str:
    import json

    base = json.loads((Path(source) / ADAPTER_CONFIG_FILE).read_text()).get("base_model_name_or_path")
    if not base:
        raise ModelLoadError(f"{source} is a PersRM adapter without a base model; pass base_model=...")
    return str(base)


def _tuner_layers(model: nn.Module) -> list[Any]:  # peft BaseTunerLayer modules
    try:
        from peft.tuners.tuners_utils import BaseTunerLayer
    except ImportError:
        return []
    return [m for m in model.modules() if isinstance(m, BaseTunerLayer)]


def _switch_adapters(layers: list[Any], on: bool, *, fast: bool = False) -> None:
    """Switch the LoRA layers on or off.

    peft's public per-layer switch, ``enable_adapters`` (what transformers' ``enable_adapters()`` loops
    over), also resets ``requires_grad`` on every LoRA tensor: ~80 µs a layer, ~17 ms a token for the
    210 layers of SmolLM2. Per forward (``fast``) only the flag its forward reads is flipped; the
    public switch has set it up (and frozen the adapter) once, at load.
    """
    for layer in layers:
        if fast and hasattr(layer, "_disable_adapters"):
            layer._disable_adapters = not on
        else:
            layer.enable_adapters(on)


def load_value_head(path: str | Path, hidden_size: int) -> ValueHead:
    """Read a ``value_head.safetensors`` file into a :class:`ValueHead`, checking its shape."""
    from safetensors.torch import load_file

    tensors = load_file(str(path))
    missing = {HEAD_WEIGHT_KEY, HEAD_BIAS_KEY} - tensors.keys()
    if missing:
        raise ModelLoadError(f"{path} lacks {sorted(missing)} (found {sorted(tensors)})")
    weight, bias = tensors[HEAD_WEIGHT_KEY], tensors[HEAD_BIAS_KEY]
    if tuple(weight.shape) != (hidden_size, hidden_size) or tuple(bias.shape) != (hidden_size,):
        raise ModelLoadError(
            f"{path}: head of shape {tuple(weight.shape)}/{tuple(bias.shape)} does not fit hidden size {hidden_size}"
        )
    head = ValueHead(hidden_size)
    with torch.no_grad():
        head.summary.weight.copy_(weight)
        head.summary.bias.copy_(bias)
    return head


def check_same_vocabulary(
    base_tokenizer: PreTrainedTokenizerBase,
    other_tokenizer: PreTrainedTokenizerBase | None,
    base_vocab_size: int | None,
    other_vocab_size: int,
    *,
    what: str,
) -> None:
    """Guided decoding mixes logits index by index, so both models must use the same token ids."""
    if base_vocab_size is not None and base_vocab_size != other_vocab_size:
        raise TokenizerMismatchError(
            f"the {what} has {other_vocab_size} output logits but the base model has {base_vocab_size}; "
            "both must share one vocabulary"
        )
    if len(base_tokenizer) > other_vocab_size:
        raise TokenizerMismatchError(
            f"the base tokenizer has {len(base_tokenizer)} tokens, more than the {what}'s {other_vocab_size} logits"
        )
    if other_tokenizer is not None and other_tokenizer.get_vocab() != base_tokenizer.get_vocab():
        raise TokenizerMismatchError(
            f"the {what}'s tokenizer maps tokens to different ids than the base model's tokenizer"
        )


def _find_head_file(source: str) -> str | None:
    local = Path(source) / VALUE_HEAD_FILE
    if Path(source).is_dir():
        return str(local) if local.exists() else None
    try:
        from huggingface_hub import hf_hub_download

        return hf_hub_download(source, VALUE_HEAD_FILE)
    except Exception:  # no such file in the repo, or offline: the PersRM is the plain LM
        return None
