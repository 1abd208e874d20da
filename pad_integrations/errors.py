"""The project's own exceptions.

Bad input raises ValueError / TypeError; where a request is checked (the engine's planning), a bad
request is an :class:`InvalidRequestError` (a ValueError), so a server can tell the client's mistake
(400) from its own bug (500).
"""

from __future__ import annotations


class PADError(Exception):
    """Base class for errors raised by pad-integrations."""


class ModelLoadError(PADError):
    """A model, tokenizer or reward model could not be loaded or does not fit with the others."""


class TokenizerMismatchError(ModelLoadError, ValueError):
    """A reward model's tokenizer or vocabulary does not match the base model's."""


class GenerationError(PADError):
    """Decoding failed in a way the caller did not cause."""


class InvalidRequestError(PADError, ValueError):
    """The request cannot be served as given (bad messages, parameters, preferences, too long a prompt):
    the caller's mistake, and the message says which."""


class ConfigurationError(InvalidRequestError):
    """A request needs a component the generator was not given (e.g. ``pad`` without a PersRM)."""


class QueueClosedError(PADError, RuntimeError):
    """The decode queue was closed (the process is shutting down): nothing new is accepted."""
