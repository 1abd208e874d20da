"""Bad input, fuzzed with hypothesis (over 10,000 cases in all): every call works or raises a clear
ValueError / TypeError or one of the project's own errors, never a raw driver or library error, and what
is stored is exactly what the documented cleaning makes of the input (no stored surprise)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from memory import PreferenceMemory, UnknownMessageError
from memory.messages import MAX_CONTENT_CHARS, validate_id
from memory.messages import normalize_messages as memory_messages
from memory.text import clean_for_storage, quote_as_data
from pad_integrations.generation.contexts import ChatFormatter, normalize_preference
from pad_integrations.generation.contexts import normalize_messages as engine_messages
from pad_integrations.tools import parse_tool_calls

from .helpers import figures, fresh_postgres_database
from .strategies import HUGE_SIZES, any_text, fuzz_settings, message_text, messages, user_id

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

CLEAR = (ValueError, TypeError, UnknownMessageError)
CASES: Counter[str] = Counter()
ROLE_MARKERS = ("<|im_start|>", "<|im_end|>", "<|eot_id|>", "<|start_header_id|>", "[INST]", "<</SYS>>",
                "<start_of_turn>", "</s>")
HIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\ufeff\ud800-\udfff]")


def attempt(call: Any, *args: Any, **kwargs: Any) -> tuple[Any, BaseException | None]:
    """The result, or the clear error; anything else propagates and fails the case."""
    try:
        return call(*args, **kwargs), None
    except CLEAR as exc:
        assert str(exc), f"{type(exc).__name__} without a message"
        return None, exc


@pytest.fixture(scope="module", autouse=True)
def _count_cases() -> Iterator[None]:
    yield
    figures("fuzz", cases=sum(CASES.values()), **dict(sorted(CASES.items())))


# -- pure functions: the message normalisers, the sanitiser, ids, the tool-call parser ----------------


@fuzz_settings(2000)
@given(messages)
def test_memory_message_normaliser(raw):
    CASES["memory.normalize_messages"] += 1
    turn, error = attempt(memory_messages, raw)
    if error is not None:
        return
    assert turn and all(m.role in ("user", "assistant", "system", "tool") for m in turn)
    for m in turn:
        assert clean_for_storage(m.content) == m.content and not HIDDEN.search(m.content)
        assert len(m.content) <= MAX_CONTENT_CHARS
        m.content.encode("utf-8")  # what every driver must accept


@fuzz_settings(2500)
@given(any_text, st.integers(min_value=4, max_value=200))
def test_quote_as_data_is_one_capped_quoted_line(text, max_chars):
    CASES["memory.quote_as_data"] += 1
    quoted = quote_as_data(text, max_chars=max_chars)
    inner = quoted[1:-1]
    assert quoted[0] == quoted[-1] == '"' and '"' not in inner
    assert len(inner) <= max_chars and "\n" not in inner and "\r" not in inner
    assert not HIDDEN.search(inner)
    assert not any(marker.lower() in inner.lower() for marker in ROLE_MARKERS)
    quoted.encode("utf-8")


@fuzz_settings(1500)
@given(user_id)
def test_ids_are_kept_in_nfkc_or_refused(raw):
    CASES["memory.validate_id"] += 1
    value, error = attempt(validate_id, raw)
    if error is None:
        assert value == unicodedata.normalize("NFKC", raw)
        # Never an id that prints like another: no invisible, control or bidi character, no edge spaces.
        assert value == value.strip() and not HIDDEN.search(value)
        assert all(unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for c in value)


@fuzz_settings(1200)
@given(messages, st.one_of(any_text, st.none(), st.lists(st.tuples(any_text, st.floats()), max_size=3),
                           st.integers(), st.lists(any_text, max_size=2)))
def test_engine_message_and_preference_normalisers(raw, preference):
    CASES["engine.normalize"] += 1
    normalized, error = attempt(engine_messages, raw)
    if error is None:
        assert normalized and not all(m["role"] == "system" for m in normalized)
        assert all(isinstance(m["content"], str) for m in normalized)
    prefs, error = attempt(normalize_preference, preference)
    if error is None:
        assert all(isinstance(t, str) and t == t.strip() and t and w == w and w != 0 for t, w in prefs)


@fuzz_settings(1000)
@given(any_text)
def test_tool_call_parser_never_raises(text):
    CASES["tools.parse_tool_calls"] += 1
    content, calls = parse_tool_calls(text)
    assert isinstance(content, str)
    assert all(isinstance(c.name, str) and isinstance(c.arguments, dict) for c in calls)


# -- the chat template with a real tokenizer -----------------------------------------------------------


@pytest.fixture(scope="module")
def formatter(tiny_model_dir) -> ChatFormatter:
    from transformers import AutoTokenizer

    return ChatFormatter(AutoTokenizer.from_pretrained(tiny_model_dir))


def _special_count(formatter: ChatFormatter, ids: list[int]) -> Counter[int]:
    special = set(formatter.tokenizer.all_special_ids)
    return Counter(i for i in ids if i in special)


@pytest.fixture(scope="module")
def template_structure(formatter) -> Counter[int]:
    """The control tokens of a plain one-turn prompt with a preference: all the template itself emits."""
    return _special_count(formatter, formatter.encode([{"role": "user", "content": "x"}], system_extra="y"))


@fuzz_settings(500)
@given(any_text, any_text)
def test_text_never_becomes_template_structure(formatter, template_structure, content, preference):
    """Whatever a message or a preference holds, the rendered prompt has the template's own control tokens
    and no more: text cannot open a turn or a role."""
    CASES["engine.chat_template"] += 1
    # Lone surrogates never get this far: the engine's normalisers refuse them (test_engine_edges).
    assume(not re.search(r"[\ud800-\udfff]", content + preference))
    ids, error = attempt(formatter.encode, [{"role": "user", "content": content}], system_extra=preference or None)
    if error is not None:
        return
    if preference.strip():
        assert _special_count(formatter, ids) == template_structure
    assert all(0 <= i < len(formatter.tokenizer) for i in ids)


# -- the store, SQLite and PostgreSQL ------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_memory() -> Iterator[PreferenceMemory]:
    with PreferenceMemory("sqlite:///:memory:", namespace="fuzz") as mem:
        yield mem


@pytest.fixture(scope="module")
def postgres_memory(request) -> Iterator[PreferenceMemory]:
    postgres_url = request.getfixturevalue("postgres_url")
    with fresh_postgres_database(postgres_url) as url, PreferenceMemory(url, namespace="fuzz") as mem:
        yield mem


def check_observe(mem: PreferenceMemory, uid: Any, raw: Any) -> None:
    sentinel = mem.profile("fuzz-sentinel").text
    result, error = attempt(mem.observe, uid, raw)
    if error is not None:
        return
    expected = memory_messages(raw)
    stored = mem.history(uid, limit=len(expected)).messages
    # Exactly what the documented cleaning made of the input, in order, under the caller's own id.
    assert [(m.role, m.content, m.truncated) for m in stored] == [(m.role, m.content, m.truncated) for m in expected]
    assert [m.id for m in stored] == result.message_ids
    assert mem.history(uid).user_id == unicodedata.normalize("NFKC", uid)
    for change in result.changes:
        assert not HIDDEN.search(change.preference.text) and "\n" not in change.preference.text
    assert mem.profile("fuzz-sentinel").text == sentinel  # nobody else was touched


def check_set_preference(mem: PreferenceMemory, uid: Any, kind: Any, value: Any, text: Any, weight: Any) -> None:
    pref, error = attempt(mem.set_preference, uid, kind, value, text=text, weight=weight)
    if error is not None:
        return
    profile = mem.profile(uid, max_chars=None)
    assert pref.id in {p.id for p in profile.preferences}
    line = next(p.text for p in profile.preferences if p.id == pref.id)
    assert "\n" not in line and not HIDDEN.search(line)
    if not line.endswith((".", '"')) or '"' in line:  # a user-derived value: quoted, capped data
        assert re.fullmatch(r'[^"]+: "[^"]*"', line), line
    _, error = attempt(mem.remove_preference, uid, kind)
    assert error is None or isinstance(error, CLEAR)


KINDS = st.one_of(st.sampled_from(["diet", "likes", "allergies", "verbosity", "formality", "custom_kind", "avoid"]),
                  any_text, st.integers())
WEIGHTS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 30), st.booleans(), any_text)


@fuzz_settings(400)
@given(user_id, messages)
def test_observe_on_sqlite(sqlite_memory, uid, raw):
    CASES["store.observe sqlite"] += 1
    check_observe(sqlite_memory, uid, raw)


@fuzz_settings(250)
@given(user_id, KINDS, message_text, st.one_of(st.none(), any_text), WEIGHTS)
def test_set_preference_on_sqlite(sqlite_memory, uid, kind, value, text, weight):
    CASES["store.set_preference sqlite"] += 1
    check_set_preference(sqlite_memory, uid, kind, value, text, weight)


@fuzz_settings(200)
@given(user_id, any_text, st.one_of(st.none(), st.integers(-3, 3), st.booleans(), any_text),
       st.one_of(st.none(), message_text, st.integers()))
def test_feedback_on_unknown_messages_on_sqlite(sqlite_memory, uid, message_id, rating, text):
    CASES["store.feedback sqlite"] += 1
    _, error = attempt(sqlite_memory.feedback, uid, message_id, rating=rating, text=text)
    assert error is not None  # no such message exists for anyone: never a silent success


@pytest.mark.postgres
@fuzz_settings(150)
@given(user_id, messages)
def test_observe_on_postgres(postgres_memory, uid, raw):
    CASES["store.observe postgresql"] += 1
    check_observe(postgres_memory, uid, raw)


@pytest.mark.postgres
@fuzz_settings(80)
@given(user_id, KINDS, message_text, st.one_of(st.none(), any_text), WEIGHTS)
def test_set_preference_on_postgres(postgres_memory, uid, kind, value, text, weight):
    CASES["store.set_preference postgresql"] += 1
    check_set_preference(postgres_memory, uid, kind, value, text, weight)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_huge_messages_are_stored_cut_and_flagged(request, backend, sqlite_memory):
    mem = sqlite_memory if backend == "sqlite" else request.getfixturevalue("postgres_memory")
    for size in HUGE_SIZES:
        CASES["store.huge messages"] += 1
        text = "I like zqhuge. " + "é" * size
        mem.observe(f"huge {size}", [{"role": "user", "content": text}])
        (stored,) = mem.history(f"huge {size}").messages
        assert stored.content == text[:MAX_CONTENT_CHARS] and stored.truncated == (len(text) > MAX_CONTENT_CHARS)
        assert "zqhuge" in mem.profile(f"huge {size}").text


def test_joiners_in_emoji_and_scripts_survive_storage(sqlite_memory):
    # Joiners are kept in what users write; in a user id they are refused (an id must not print like another).
    user, text = "dev 💻", "I like 👨‍👩‍👧 and می‌خواهم"
    sqlite_memory.observe(user, [{"role": "user", "content": text}])
    assert [m.content for m in sqlite_memory.history(user).messages] == [text]
    with pytest.raises(ValueError, match="invisible"):
        sqlite_memory.observe("dev 👩‍💻", [{"role": "user", "content": text}])


# -- the server: raw bodies and JSON documents --------------------------------------------------------


@pytest.fixture(scope="module")
def client(tiny_model_dir) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from pad_integrations import GuidedGenerator
    from pad_integrations.server import ServerConfig, create_app
    from pad_integrations.server.auth import KeyStore

    gen = GuidedGenerator.from_pretrained(tiny_model_dir)
    with PreferenceMemory("sqlite:///:memory:") as mem:
        app = create_app(gen, mem, ServerConfig(model_id="tiny", max_tokens=1))
        key = KeyStore(mem.engine).create("tenant", namespace=mem.namespace)[0]
        with TestClient(app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {key}"}) as test_client:
            yield test_client


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), any_text)
json_doc = st.recursive(json_leaf, lambda kids: st.one_of(st.lists(kids, max_size=3),
                                                          st.dictionaries(any_text, kids, max_size=3)), max_leaves=8)
chat_body = st.fixed_dictionaries(
    {"model": st.sampled_from(["tiny", "other", ""]),
     "messages": st.one_of(st.lists(st.fixed_dictionaries({"role": st.sampled_from(["user", "system", "assistant",
                                                                                     "tool", "bot"]),
                                                           "content": st.one_of(any_text, st.none(), json_doc)}),
                                    max_size=3), json_doc)},
    optional={"user": st.one_of(any_text, json_doc), "max_tokens": st.one_of(st.integers(-2, 3), json_doc),
              "stop": st.one_of(any_text, st.lists(any_text, max_size=3)), "temperature": json_leaf,
              "stream": st.booleans(), "strategy": st.one_of(st.sampled_from(["amulet", "linear", "x"]), json_leaf),
              "strategy_params": json_doc, "tools": json_doc, "n": json_leaf},
)


@fuzz_settings(400)
@given(st.one_of(chat_body, json_doc,
                 st.binary(max_size=64), any_text.map(lambda s: s.encode("utf-8", "surrogatepass"))))
def test_server_answers_every_body_with_a_status_it_means(client, body):
    CASES["server /v1/chat/completions"] += 1
    # ensure_ascii keeps lone surrogates as \ud800 escapes: legal JSON, not valid Unicode text.
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = client.post("/v1/chat/completions", content=raw, headers={"content-type": "application/json"})
    assert response.status_code in (200, 400, 404, 413, 422, 429), response.text
    payload = response.json() if not response.text.startswith("data:") else None
    if response.status_code != 200:
        assert set(payload) == {"error"} and payload["error"]["message"]
