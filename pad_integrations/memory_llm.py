"""The memory's LLM extractor on the local engine: a ``Completer`` whose output a JSON schema constrains.

``memory`` imports nothing from ``pad_integrations``, so the model is built here and injected::

    from memory import PreferenceMemory
    from memory.extractors import default_extractors
    from pad_integrations.memory_llm import local_llm_extractor

    mem = PreferenceMemory(url, extractor=[*default_extractors(), local_llm_extractor()])

The extractor runs on the memory's background worker (off the request path); ``mem.flush()`` waits for
it. The completer decodes greedily with the ``base`` strategy (no steering: the extractor must read the
user, not follow their preferences) under ``JSONSchemaConstraint`` (llguidance), so even the 135M default
model always answers with a schema-valid object. Measured on the memory evaluation's dev split in
docs/memory.md ("LLM extractor on the default model").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from memory.extractors.llm import ClauseLLMExtractor, Completer
    from pad_integrations.generation.engine import GuidedGenerator


def local_completer(
    generator: GuidedGenerator | None = None, *, model: str | None = None, max_new_tokens: int = 48
) -> Completer:
    """A ``Completer`` over the local engine: ``generator`` (shared with a server, say), or one loaded from
    ``model`` (default: SmolLM2-135M-Instruct, ``pad_integrations.demo.model_path()``) on first use."""
    from pad_integrations.generation.constraints import JSONSchemaConstraint

    if max_new_tokens < 8:
        raise ValueError("max_new_tokens must leave room for a JSON answer (at least 8)")
    loaded: list[GuidedGenerator] = [generator] if generator is not None else []

    def complete(messages: list[dict[str, str]], schema: dict[str, Any] | None) -> str:
        if not loaded:
            from pad_integrations.generation.engine import GuidedGenerator

            loaded.append(GuidedGenerator.from_pretrained(model))
        constraint = JSONSchemaConstraint(schema) if schema is not None else None
        result = loaded[0].generate(
            messages, strategy="base", constraint=constraint, max_new_tokens=max_new_tokens, do_sample=False
        )
        return result.text

    return complete


def local_llm_extractor(
    generator: GuidedGenerator | None = None,
    *,
    model: str | None = None,
    shots: Sequence[tuple[str, str, str]] | None = None,
    **options: Any,
) -> ClauseLLMExtractor:
    """``ClauseLLMExtractor`` over the local engine (background by default); ``options`` go to it."""
    from memory.extractors.llm import CLAUSE_SHOTS, ClauseLLMExtractor

    return ClauseLLMExtractor(
        local_completer(generator, model=model), shots=CLAUSE_SHOTS if shots is None else shots, **options
    )
