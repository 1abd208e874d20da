"""Results of pure readers kept for their recent arguments.

Several extractors read the same clause of a turn with the same rule readers: the rules, then the sentence
extractor (which asks whether the rules read a clause), then the implicit extractor on the background worker.
On ``observe``'s path (issue 12) each repeat cost as much as the first reading.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


def _key(value: Any) -> Hashable:
    """A hashable stand-in for an argument: a dict by its items (in order), anything else as it is."""
    if isinstance(value, dict):
        return (dict, tuple(value.items()))
    return value


def kept_lists(maxsize: int = 2048) -> Callable[[Callable[..., list[T]]], Callable[..., list[T]]]:
    """Decorate a pure function that returns a list (of immutable items) so that the results for its last
    ``maxsize`` distinct arguments are kept. Each call returns a list of its own, so a caller that changes
    its list changes nothing kept. Arguments that cannot be keyed (a list, a dict of lists) are not kept."""

    def decorate(fn: Callable[..., list[T]]) -> Callable[..., list[T]]:
        kept: OrderedDict[Hashable, tuple[T, ...]] = OrderedDict()
        lock = threading.Lock()

        @functools.wraps(fn)
        def reader(*args: Any, **kwargs: Any) -> list[T]:
            key = (tuple(_key(a) for a in args), tuple((k, _key(v)) for k, v in sorted(kwargs.items())))
            try:
                hash(key)
            except TypeError:
                return fn(*args, **kwargs)
            with lock:
                found = kept.get(key)
                if found is not None:
                    kept.move_to_end(key)
                    return list(found)
            result = tuple(fn(*args, **kwargs))
            with lock:
                kept[key] = result
                if len(kept) > maxsize:
                    kept.popitem(last=False)
            return list(result)

        def cache_clear() -> None:
            with lock:
                kept.clear()

        reader.cache_clear = cache_clear  # type: ignore[attr-defined]
        reader.cache_size = lambda: len(kept)  # type: ignore[attr-defined]
        return reader

    return decorate


def forget_kept_texts() -> None:
    """Drop every text the readers keep: each ``cache_clear`` of a function of ``memory``'s modules (the
    functools caches and ``kept_lists`` readers, keyed by message and clause texts) and each sentence
    encoder's vectors and tokenizations. ``PreferenceMemory.forget`` calls it, so a forgotten user's words
    do not stay in this process's memory until other texts evict them. The readers are pure and the indexes
    built from their own corpora are held by the extractors, so the cost is reading a recurring text again."""
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "memory" or name.startswith("memory.")):
            continue
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and getattr(value, "__module__", None) == name:
                clear()
    from memory.embedding import forget_encoded_texts

    forget_encoded_texts()
