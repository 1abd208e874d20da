"""How the library loads model weights: quietly, and failing fast when the model hub cannot be reached.

- :func:`quiet_progress`: inside it, transformers' progress bars ("Loading weights ...") are not drawn
  for this thread or task. Library, CLI and server loads take about a second and are not worth a bar on
  every call; the long waits keep theirs (the default model's one-time conversion, training, evaluation,
  and a hub download, whose bars belong to ``huggingface_hub``). Nothing global is switched off: a
  pass-through tqdm hook is installed once and only acts inside the context, so the user's own setting
  (``transformers.utils.logging.enable_progress_bar``) and other threads' loads are untouched.
- :func:`hub_kwargs`: extra ``from_pretrained`` keywords for a model source. A local directory needs
  none. A hub id is checked before transformers tries it, because transformers retries an unreachable
  hub for about a minute before giving up: with ``HF_HUB_OFFLINE=1`` an uncached id fails at once; else
  a short connection probe to the hub (or the proxy) decides. Unreachable and cached: load from the cache
  (``local_files_only=True``); unreachable and not cached: :class:`ModelLoadError` saying how to use a
  local directory.

transformers is imported inside the functions: importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import socket
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pad_integrations.errors import ModelLoadError

# Seconds for the hub probe (name lookup + TCP connect). Long enough for a slow link, short enough that
# an offline machine gets its answer before a person wonders whether anything is happening.
PROBE_TIMEOUT_S = 3.0

_quiet: contextvars.ContextVar[bool] = contextvars.ContextVar("pad_quiet_progress", default=False)
_hook_lock = threading.Lock()
_chained_hook: Callable[..., Any] | None = None  # a hook someone else installed before ours
_fallback_depth = 0  # transformers without set_tqdm_hook: nested quiet sections (global switch)
_fallback_was_enabled = False


def _quiet_hook(factory: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if _quiet.get():
        return factory(*args, **{**kwargs, "disable": True})
    if _chained_hook is not None:
        return _chained_hook(factory, args, kwargs)
    return factory(*args, **kwargs)


@contextlib.contextmanager
def quiet_progress() -> Iterator[None]:
    """No transformers progress bars inside this block (this thread/task only); the rest is unchanged."""
    global _chained_hook, _fallback_depth, _fallback_was_enabled
    from transformers.utils import logging as hf_logging

    set_hook = getattr(hf_logging, "set_tqdm_hook", None)
    if set_hook is None:  # an older transformers: switch bars off globally while any quiet block runs
        with _hook_lock:
            if _fallback_depth == 0:
                _fallback_was_enabled = hf_logging.is_progress_bar_enabled()
                hf_logging.disable_progress_bar()
            _fallback_depth += 1
        try:
            yield
        finally:
            with _hook_lock:
                _fallback_depth -= 1
                if _fallback_depth == 0 and _fallback_was_enabled:
                    hf_logging.enable_progress_bar()
        return
    with _hook_lock:
        previous = set_hook(_quiet_hook)
        if previous is not _quiet_hook:  # first use, or someone replaced ours since: keep theirs working
            _chained_hook = previous
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


# --------------------------------------------------------------------------- hub ids and the network


def hub_kwargs(source: str, kwargs: Mapping[str, Any] | None = None, *, what: str = "model") -> dict[str, Any]:
    """Extra ``from_pretrained`` keywords for ``source`` (empty, or ``{"local_files_only": True}``).

    Raises :class:`ModelLoadError` at once when ``source`` is a hub id that is neither cached nor
    reachable; ``what`` names it in the message ("model", "reward model").
    """
    kwargs = kwargs or {}
    if os.path.exists(source) or kwargs.get("local_files_only") or not _is_repo_id(source):
        return {}  # a local path (or a name transformers will refuse with its own message)
    cached = _is_cached(source, kwargs.get("revision"))
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        if cached:
            return {}
        raise ModelLoadError(
            f"cannot load {what} {source!r}: HF_HUB_OFFLINE=1 is set and it is not in the local Hugging Face "
            f"cache. {_local_directory_hint(source)}"
        )
    problem = probe_hub(constants.ENDPOINT)
    if problem is None:
        return {}
    if cached:
        return {"local_files_only": True}  # offline, but downloaded before: use the cache, no retries
    raise ModelLoadError(
        f"cannot load {what} {source!r}: the model hub ({constants.ENDPOINT}) cannot be reached ({problem}) "
        f"and it is not in the local Hugging Face cache. {_local_directory_hint(source)}"
    )


def model_kwargs_with(offline: Mapping[str, Any], model_kwargs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``model_kwargs`` plus :func:`hub_kwargs`' answer, for an ``AutoModel*.from_pretrained`` call.

    transformers 5.x's auto classes look for a PEFT ``adapter_config.json`` on the hub even under
    ``local_files_only=True`` (that lookup takes its own ``adapter_kwargs``), which brings back the minute
    of retries; the flag is passed there too."""
    merged = dict(model_kwargs or {})
    if offline:
        merged.update(offline)
        merged["adapter_kwargs"] = {**merged.get("adapter_kwargs", {}), **offline}
    return merged


def _local_directory_hint(source: str) -> str:
    return (
        "Pass a local model directory instead (a path such as ./my-model, containing config.json and the "
        f"weights: download it where there is network with `hf download {source} --local-dir ./my-model`), "
        "or give no model to use the packaged default model."
    )


def _is_repo_id(source: str) -> bool:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(source)
    except HFValidationError:
        return False
    return True


def _is_cached(repo_id: str, revision: Any) -> bool:
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, "config.json", revision=revision if isinstance(revision, str) else None)
    return isinstance(found, str)


def probe_hub(endpoint: str, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """None when a TCP connection to ``endpoint`` (or the proxy that serves it) opens within ``timeout``
    seconds, else why not. Name lookup runs in a helper thread because ``getaddrinfo`` has no timeout."""
    url = urllib.parse.urlsplit(endpoint)
    host, port = url.hostname or "", url.port or (443 if url.scheme == "https" else 80)
    proxy = urllib.request.getproxies().get(url.scheme)
    if proxy and not urllib.request.proxy_bypass(host):
        proxied = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        host, port = proxied.hostname or "", proxied.port or 80
    outcome: list[str | None] = []

    def connect() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                outcome.append(None)
        except OSError as exc:
            outcome.append(f"{host}:{port}: {exc.strerror or exc}")

    worker = threading.Thread(target=connect, name="pad-hub-probe", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        return f"{host}:{port}: no answer within {timeout:g} s"
    return outcome[0]
