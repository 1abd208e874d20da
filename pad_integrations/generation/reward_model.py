"""PAD's personalized reward model (PersRM): a causal LM with an optional d×d head before its LM head.

Layout (official PAD, ``AutoModelForCausalLMWithDPOValueHead`` + ``ValueHead2``): the backbone's final
hidden state h goes through ``v_head`` = Dropout → Linear(d, d), initialised to the identity, and then
through the backbone's own ``lm_head``: logits = lm_head(W·h + b). Without a head file the PersRM is
just the fine-tuned LM.

Directory format (docs/contracts.md): an ordinary HF causal-LM directory plus, optionally,
``value_head.safetensors`` with keys ``v_head.summary.weight`` (d×d) and ``v_head.summary.bias`` (d).

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

VALUE_HEAD_FILE = "value_head.safetensors"
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
    ) -> None:
        super().__init__()
        if model.get_output_embeddings() is None:
            raise ModelLoadError(f"{type(model).__name__} has no LM head; a PersRM must be a causal LM")
        self.model = model
        self.v_head = value_head
        self.tokenizer = tokenizer
        self.name_or_path = name_or_path or str(getattr(model.config, "_name_or_path", "") or "")

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls,
        path_or_id: str | Path,
        *,
        device: str | torch.device | None = None,
        dtype: torch.dtype | None = None,
        value_head: bool | None = None,
        **model_kwargs: Any,
    ) -> PersonalizedRewardModel:
        """Load a PersRM directory or hub id.

        ``value_head=None`` loads ``value_head.safetensors`` when the directory has one; ``True`` adds an
        identity-initialised head when it has none (the start of PAD's stage 2); ``False`` ignores it.
        """
        source = str(path_or_id)
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

    def add_value_head(self, dropout: float = 0.1) -> ValueHead:
        """Attach an identity-initialised head (a no-op on the outputs until trained)."""
        param = next(self.model.parameters())
        self.v_head = ValueHead(self.hidden_size, dropout).to(device=param.device, dtype=param.dtype)
        self.v_head.train(self.training)
        return self.v_head

    def save_pretrained(self, save_directory: str | Path, **kwargs: Any) -> Path:
        """Write the directory format of docs/contracts.md (backbone, tokenizer, optional head file)."""
        from safetensors.torch import save_file

        out = Path(save_directory)
        out.mkdir(parents=True, exist_ok=True)
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
        logits_to_keep: int = 0,
        **kwargs: Any,
    ) -> CausalLMOutputWithPast:
        """Logits ``lm_head(W·h + b)``; ``logits_to_keep=1`` projects only the last position."""
        outputs = self.model.get_decoder()(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            use_cache=use_cache,
            **kwargs,
        )
        hidden = outputs.last_hidden_state
        if logits_to_keep:
            hidden = hidden[:, -logits_to_keep:]
        if self.v_head is not None:
            hidden = self.v_head(hidden)
        logits = self.model.get_output_embeddings()(hidden)
        return CausalLMOutputWithPast(logits=logits, past_key_values=outputs.past_key_values)


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
