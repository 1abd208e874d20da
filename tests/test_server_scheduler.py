"""`pad serve`'s scheduler limits (`--max-tokens-in-flight`, `--max-prefill-tokens`, `--max-request-tokens`):
the server's settings reach the shared decode queue, and a request over its budget is refused with a 400
that names the budget, streamed or not, while requests within it are answered."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from reliability.servers import threaded_server

from memory import PreferenceMemory
from pad_integrations import runtime
from pad_integrations.cli.main import build_parser
from pad_integrations.runtime.decode_queue import SchedulerConfig, get_decode_queue
from pad_integrations.server import ServerConfig, create_app

BUDGET = 96  # prompt tokens of every context + max_tokens per context


@pytest.fixture(scope="module")
def generator(tiny_model_dir: Path) -> Any:
    return runtime.get_generator(str(tiny_model_dir))


@pytest.fixture(scope="module")
def live(generator: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    queue = get_decode_queue(generator)
    before = queue.scheduler
    memory = PreferenceMemory(url=f"sqlite:///{tmp_path_factory.mktemp('scheduler-db') / 'memory.db'}")
    config = ServerConfig(auth=False, max_tokens_in_flight=4096, max_prefill_tokens=64, max_request_tokens=BUDGET)
    try:
        with threaded_server(create_app(generator, memory, config)) as url:
            yield url
    finally:
        memory.close()
        queue.scheduler = before  # the queue is shared by every test that uses this generator


def client(live: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live}/v1", api_key="unused", max_retries=0, timeout=60)


def served_model(live: str) -> str:
    return client(live).models.list().data[0].id


def test_the_limits_reach_the_decode_queue(live: str, generator: Any) -> None:
    assert get_decode_queue(generator).scheduler == SchedulerConfig(
        mode="continuous", max_tokens_in_flight=4096, max_prefill_tokens=64, max_request_tokens=BUDGET
    )


def test_a_request_within_the_budget_is_answered(live: str) -> None:
    answer = client(live).chat.completions.create(
        model=served_model(live), messages=[{"role": "user", "content": "Hi."}], max_tokens=4, user="ann"
    )
    assert answer.usage is not None and answer.usage.completion_tokens >= 1


@pytest.mark.parametrize("stream", [False, True])
def test_a_request_over_the_budget_gets_400(live: str, stream: bool) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        response = client(live).chat.completions.create(
            model=served_model(live), messages=[{"role": "user", "content": "Hi."}], max_tokens=BUDGET, user="ann", stream=stream
        )
        if stream:
            list(response)
    assert "max_request_tokens" in str(caught.value) or str(BUDGET) in str(caught.value)


def test_unset_limits_keep_the_queue_s_own() -> None:
    current = SchedulerConfig(max_tokens_in_flight=777)
    assert ServerConfig(max_prefill_tokens=8).scheduler_config(current) == dataclasses.replace(
        current, max_prefill_tokens=8
    )
    with pytest.raises(ValueError):
        ServerConfig(max_prefill_tokens=0)


def test_the_cli_flags_build_the_config() -> None:
    args = build_parser().parse_args(
        ["serve", "--max-tokens-in-flight", "2048", "--max-prefill-tokens", "128", "--max-request-tokens", "300"]
    )
    assert (args.max_tokens_in_flight, args.max_prefill_tokens, args.max_request_tokens) == (2048, 128, 300)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--max-request-tokens", "0"])
