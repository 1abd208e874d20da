"""The caches and shortcuts on ``observe``'s path (issue 12) give what the work they save would have given.

Each reader below keeps its results, skips work that cannot change them, or asks the Rust tokenizer directly;
each test compares it with the plain computation on sentences written for this test.
"""

from __future__ import annotations

import pytest

from memory.extractors import clauses as clause_module
from memory.extractors.clauses import clauses, expand, is_injection, tainted
from memory.extractors.content_rules import content_signals
from memory.extractors.memo import kept_lists
from memory.extractors.style_rules import style_signals
from memory.text import normalize_for_matching

SAID = [
    "I can't stand reality shows, honestly.",
    "Im not a fan of early starts and I cannot do mornings",
    "We're vegetarian, and we'd rather u kept recipes simple.",
    "I’m into slow cooking these days; ur last answer was too long",
    "Please keep it short. It's for a slide.",
    "If I were rich I would live by the sea. Dr. Patel says I shouldn't eat sugar.",
    "no apostrophe here at all, just plain words about hiking",
    "Ｉ＇ｍ fine with dogs but not cats",
    "They won't eat mushrooms and neither will I",
]


def _expand_every_pattern(text: str) -> str:
    """``expand`` as it was: every contraction pattern tried on every text."""
    text = clause_module._TITLE_DOT.sub(r"\1", normalize_for_matching(text))
    for pattern, repl in clause_module._CONTRACTION_RES:
        text = pattern.sub(repl, text)
    return text


@pytest.mark.parametrize("text", SAID)
def test_expand_tries_only_the_patterns_that_can_match(text: str) -> None:
    assert expand(text) == _expand_every_pattern(text)
    assert expand.__wrapped__(text) == _expand_every_pattern(text)  # type: ignore[attr-defined]


@pytest.mark.parametrize("message", SAID)
def test_a_message_split_once_reads_as_split_every_time(message: str) -> None:
    pieces = clause_module._pieces(message)
    pieces.append("changed by a caller")
    assert clause_module._pieces(message) == list(clause_module._split_pieces.__wrapped__(message))
    for piece in clause_module._pieces(message):
        assert is_injection(piece) == is_injection.__wrapped__(piece)  # type: ignore[attr-defined]
    assert tainted(message) == any(is_injection.__wrapped__(p) for p in clause_module._pieces(message))  # type: ignore[attr-defined]


@pytest.mark.parametrize("message", SAID)
@pytest.mark.parametrize("active", [{}, {"diet": "vegetarian"}, {"likes": "hiking", "verbosity": "concise"}])
def test_kept_rule_readings_are_the_readings(message: str, active: dict[str, str]) -> None:
    for clause in clauses(message):
        assert style_signals(clause) == style_signals.__wrapped__(clause)  # type: ignore[attr-defined]
        for found in (False, True):
            want = content_signals.__wrapped__(clause, active, style_found=found)  # type: ignore[attr-defined]
            assert content_signals(clause, active, style_found=found) == want
            assert content_signals(clause, dict(active), style_found=found) == want


def test_kept_lists_keys_by_value_and_hands_out_lists_of_its_own() -> None:
    calls: list[tuple[object, ...]] = []

    @kept_lists(maxsize=2)
    def read(text: str, table: dict[str, str], *, flag: bool) -> list[str]:
        calls.append((text, tuple(table.items()), flag))
        return [text, *table.values(), str(flag)]

    first = read("a", {"k": "v"}, flag=True)
    first.append("changed by a caller")
    assert read("a", {"k": "v"}, flag=True) == ["a", "v", "True"]
    assert len(calls) == 1  # the second call was kept
    assert read("a", {"k": "w"}, flag=True) == ["a", "w", "True"]  # another table is another reading
    assert read("a", {"k": "v"}, flag=False) == ["a", "v", "False"]
    assert len(calls) == 3
    read("b", {}, flag=True)  # over maxsize: the oldest reading is dropped and read again when asked
    read("a", {"k": "v"}, flag=True)
    assert len(calls) == 5

    @kept_lists()
    def unkeyable(items: list[str]) -> list[str]:
        calls.append(tuple(items))
        return list(items)

    assert unkeyable(["x"]) == ["x"] and unkeyable(["x"]) == ["x"]
    assert len(calls) == 7  # a list argument is never kept


WORDS_AND_SENTENCES = [
    "I never book red-eye flights anymore, they wreck me for days.",
    "Tea, please.",
    "[SEP] is a token, [CLS] another, and [MASK] a third",
    "Ｉ ｌｏｖｅ ｊａｚｚ 🙂🙂",
    "aGlkZGVuIHRleHQgaGlkZGVuIHRleHQgaGlkZGVuIHRleHQgaGlkZGVuIHRleHQgaGlkZGVuIHRleHQ=" * 3,
    "supercalifragilisticexpialidocious " * 20,
    "ti ekil yllaer I",
    "x",
]


def test_word_pieces_from_the_rust_tokenizer_are_the_wrappers() -> None:
    """The request path tokenizes through the Rust tokenizer (``_word_piece_ids``); it must give what the
    transformers call gave, whichever settings the call before left on the shared tokenizer."""
    from memory.embedding import MAX_TOKENS, _word_piece_ids, shared_encoder

    encoder = shared_encoder()
    tokenizer, _ = encoder._load()
    words = [w for text in WORDS_AND_SENTENCES for w in text.split()]
    for _ in range(2):  # each kind of call after the other
        truncated = _word_piece_ids(tokenizer, WORDS_AND_SENTENCES, special=True, max_length=MAX_TOKENS)
        assert truncated == tokenizer(WORDS_AND_SENTENCES, truncation=True, max_length=MAX_TOKENS)["input_ids"]
        whole = _word_piece_ids(tokenizer, words, special=False, max_length=None)
        assert [len(ids) for ids in whole] == [len(tokenizer.tokenize(w)) for w in words]
    assert max(len(ids) for ids in whole) > MAX_TOKENS  # the long blob really was counted untruncated
    encoder._word_pieces.clear()
    encoder._tokens.clear()
    encoder.cost(WORDS_AND_SENTENCES)  # leaves the tokenizer truncating at MAX_TOKENS
    for text in WORDS_AND_SENTENCES:
        assert encoder.pieces_per_word(text) == [len(tokenizer.tokenize(w)) for w in text.split()[:32]]
