"""Extractors turn a turn into preference decisions; the store applies them.

``RuleExtractor`` (default, inline, offline), ``EmbeddingExtractor`` (caller-supplied embedding function)
and ``LLMExtractor`` (any LangChain chat model; background) share the ``Extractor`` interface.
"""

from memory.extractors.base import Assert, Decision, ExtractionContext, Extractor, Retract
from memory.extractors.rules import RuleExtractor
from memory.extractors.sentences import SentenceExtractor, default_extractors

__all__ = [
    "Assert",
    "Decision",
    "ExtractionContext",
    "Extractor",
    "Retract",
    "RuleExtractor",
    "SentenceExtractor",
    "default_extractors",
]
