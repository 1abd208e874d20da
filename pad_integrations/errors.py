"""The project's own exceptions. Bad input raises ValueError / TypeError; these cover the rest."""

from __future__ import annotations


class PADError(Exception):
    """Base class for errors raised by pad-integrations."""


class ModelLoadError(PADError):
    """A model, tokenizer or reward model could not be loaded or does not fit with the others."""


class TokenizerMismatchError(ModelLoadError, ValueError):
    """A reward model's tokenizer or vocabulary does not match the base model's."""


class GenerationError(PADError):
    """Decoding failed in a way the caller did not cause."""


class ConfigurationError(PADError, ValueError):
    """A request needs a component the generator was not given (e.g. ``pad`` without a PersRM)."""
