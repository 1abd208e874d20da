"""Loading models (issue 17): quiet library loads, and a hub id with no network fails at once, clearly.

Loads run in fresh interpreters so stderr is exactly what a user of the library would see. Every "no
bar" assertion is paired with a load in the same process that does draw one, so it cannot pass because
bars were off anyway. The hub is never reachable here: offline is HF_HUB_OFFLINE=1 or an endpoint on a
closed local port (http://127.0.0.1:9), both deterministic. Assertions are on messages, never on times.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pad_integrations.errors import ModelLoadError
from pad_integrations.loading import hub_kwargs, probe_hub

BAR = "Loading weights"
HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
CLOSED_ENDPOINT = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **env}
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        full_env.pop(name, None)  # the probe must see the closed endpoint itself, not a proxy
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env, timeout=300)


# --------------------------------------------------------------------------- quiet loads


def test_library_loads_draw_no_progress_bar_but_a_plain_transformers_load_still_does(tiny_model_dir: Path) -> None:
    code = f"""
import sys
from transformers import AutoModelForCausalLM
from transformers.utils import logging
from pad_integrations.generation import GuidedGenerator
from pad_integrations.langchain import ChatPAD

GuidedGenerator.from_pretrained({str(tiny_model_dir)!r})
ChatPAD(model={str(tiny_model_dir)!r}).engine()
ChatPAD(model={str(tiny_model_dir)!r}, dtype="bfloat16").engine()
from pad_integrations import demo  # the shipped PersRM is a LoRA adapter: peft loads it through transformers
GuidedGenerator.from_pretrained(demo.model_path(), reward_model=demo.reward_model_path())
print("MARK: library loads done", file=sys.stderr, flush=True)
assert logging.is_progress_bar_enabled()  # the user's global setting is untouched
AutoModelForCausalLM.from_pretrained({str(tiny_model_dir)!r})  # the user's own load keeps its bar
"""
    done = _python(code)
    assert done.returncode == 0, done.stderr
    ours, _, theirs = done.stderr.partition("MARK: library loads done")
    assert _ == "MARK: library loads done"  # the library loads ran and were all before the mark
    assert BAR not in ours, ours
    assert BAR in theirs, theirs  # bars were on all along: the quiet part is ours


def test_the_memory_sentence_encoder_loads_quietly_too() -> None:
    """The encoder behind preference inference loads on a request path (chat, server): no bar either."""
    code = """
import sys
from memory.embedding import SentenceEncoder, model_dir
from transformers import AutoModel

SentenceEncoder().load()
print("MARK", file=sys.stderr, flush=True)
AutoModel.from_pretrained(str(model_dir()), local_files_only=True)
"""
    done = _python(code)
    assert done.returncode == 0, done.stderr
    ours, mark, theirs = done.stderr.partition("MARK")
    assert mark == "MARK" and BAR not in ours and BAR in theirs, done.stderr


def test_a_hook_the_user_installed_keeps_working(tiny_model_dir: Path) -> None:
    code = f"""
from transformers.utils import logging
from pad_integrations.generation import GuidedGenerator

seen = []
def hook(factory, args, kwargs):
    seen.append(kwargs.get("desc"))
    return factory(*args, **kwargs)

logging.set_tqdm_hook(hook)
GuidedGenerator.from_pretrained({str(tiny_model_dir)!r})
assert seen == [], seen  # inside our load: no bar, so the user's hook was not asked for one
from transformers import AutoModelForCausalLM
AutoModelForCausalLM.from_pretrained({str(tiny_model_dir)!r})
assert {BAR!r} in seen, seen  # outside: their hook still runs (ours passes through)
print("ok")
"""
    done = _python(code)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


# --------------------------------------------------------------------------- hub ids without network


def test_offline_setting_refuses_an_uncached_hub_id_at_once_with_the_local_directory_hint() -> None:
    code = f"""
from pad_integrations.generation import GuidedGenerator
from pad_integrations.errors import ModelLoadError
try:
    GuidedGenerator.from_pretrained({HUB_ID!r})
except ModelLoadError as exc:
    print(exc)
"""
    done = _python(code, HF_HUB_OFFLINE="1", HF_HUB_CACHE=str(Path(os.devnull).parent / "nonexistent-pad-cache"))
    assert done.returncode == 0, done.stderr
    message = done.stdout
    assert HUB_ID in message and "HF_HUB_OFFLINE=1" in message and "local model directory" in message
    assert f"hf download {HUB_ID} --local-dir" in message


def test_unreachable_hub_fails_without_retries_and_names_the_endpoint(tmp_path: Path) -> None:
    code = f"""
from pad_integrations.langchain import ChatPAD
from pad_integrations.errors import ModelLoadError
try:
    ChatPAD(model={HUB_ID!r}).engine()
except ModelLoadError as exc:
    print(exc)
"""
    done = _python(code, HF_HUB_OFFLINE="0", TRANSFORMERS_OFFLINE="0", HF_ENDPOINT=CLOSED_ENDPOINT,
                   HF_HUB_CACHE=str(tmp_path / "empty-cache"))
    assert done.returncode == 0, done.stderr
    message = done.stdout
    assert f"the model hub ({CLOSED_ENDPOINT}) cannot be reached" in message, message + done.stderr
    assert "local model directory" in message
    # transformers' own retry loop logs each failed request; the probe answered before any was made
    assert "thrown while requesting" not in done.stderr, done.stderr


def test_unreachable_hub_loads_a_cached_model_from_the_cache(tmp_path: Path, tiny_model_dir: Path) -> None:
    """A model downloaded earlier still loads offline, straight from the Hugging Face cache layout."""
    cache = tmp_path / "hub"
    snapshot = cache / "models--pad-test--tiny" / "snapshots" / ("0" * 40)
    shutil.copytree(tiny_model_dir, snapshot)
    (cache / "models--pad-test--tiny" / "refs").mkdir()
    (cache / "models--pad-test--tiny" / "refs" / "main").write_text("0" * 40)
    code = """
from pad_integrations.generation import GuidedGenerator
gen = GuidedGenerator.from_pretrained("pad-test/tiny")
print(gen.model_name, gen.vocab_size > 0)
"""
    done = _python(code, HF_HUB_OFFLINE="0", TRANSFORMERS_OFFLINE="0", HF_ENDPOINT=CLOSED_ENDPOINT,
                   HF_HUB_CACHE=str(cache))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["pad-test/tiny", "True"]
    assert "thrown while requesting" not in done.stderr  # no network attempt after the probe


def test_local_directories_and_non_hub_names_need_no_probe(tiny_model_dir: Path) -> None:
    assert hub_kwargs(str(tiny_model_dir)) == {}
    assert hub_kwargs("./no/such/dir/here") == {}  # not a repo id: transformers' own message applies


def test_offline_flag_in_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ModelLoadError, match="HF_HUB_OFFLINE=1 is set") as info:
        hub_kwargs("someone/some-model", what="reward model")
    assert "cannot load reward model 'someone/some-model'" in str(info.value)


def test_probe_reports_a_refused_connection_and_an_open_port() -> None:
    import socket

    problem = probe_hub(CLOSED_ENDPOINT, timeout=2.0)
    assert problem is not None and "127.0.0.1:9" in problem
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert probe_hub(f"http://127.0.0.1:{server.getsockname()[1]}", timeout=2.0) is None
