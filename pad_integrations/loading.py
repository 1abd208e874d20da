"""How the library loads model weights: quietly, and failing fast when the model hub cannot be reached.

- :func:`quiet_progress`: inside it, transformers' progress bars ("Loading weights ...") are not drawn
  for this thread or task. Library, CLI and server loads take about a second and are not worth a bar on
  every call; the long waits keep theirs (the default model's one-time conversion, training, evaluation,
  and a hub download, whose bars belong to ``huggingface_hub``). Nothing global is switched off (see
  :mod:`memory._progress`, the one implementation, shared with the memory's sentence encoder).
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
import os
import socket
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any

from pad_integrations.errors import ModelLoadError

# Seconds for the hub probe (name lookup + TCP connect). Long enough for a slow link, short enough that
# an offline machine gets its answer before a person wonders whether anything is happening.
PROBE_TIMEOUT_S = 3.0

@contextlib.contextmanager
def quiet_progress() -> Iterator[None]:
    """No transformers progress bars inside this block (this thread/task only); the rest is unchanged."""
    from memory._progress import quiet_progress as one_hook  # one implementation for both packages

    with one_hook():
        yield


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
