"""An open-vocabulary reader of disclosures: does a first-person clause carry a durable stance toward something,
and what is that something.

The concept inventory (``data/concepts.tsv``) and the readers by class in ``implicit`` only know the things and the
wordings someone listed; a disclosure about anything else ('I've owned nothing but Land Rovers', 'I shake on
dual carriageways') stored nothing. This reader splits the question in two:

- the stance, by meaning: logistic regression over the all-MiniLM-L6-v2 vector the extractor already computed for
  the clause, trained on ``data/stances.tsv`` (hand-written, never taken from the evaluation sets): ``likes``
  (attachment, a habit of choice, years of doing or owning), ``avoid`` (a bad experience, a bodily reaction, a
  fear), ``dislikes`` (a taste against, boredom), ``constraint`` (a need) or ``none`` (one-off news, other people's
  habits, neutral facts, duties, remarks to the assistant);
- the thing, by structure: the noun phrases the clause offers where a thing stands (a name or brand, the object
  after a preposition, a determiner, a possessive or the speaker's verb), cleaned to a short phrase; of several,
  the one whose removal moves the clause's meaning most (the clause is about it, not about the time or place it
  mentions).

It runs in the background implicit extractor, off the request path.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory.embedding import SentenceEncoder, shared_encoder
from memory.extractors.classifier import _read_labelled, fit, softmax_scores

STANCE_FILE = Path(__file__).with_name("data") / "stances.tsv"
STANCE_LABELS = ("none", "likes", "avoid", "dislikes", "constraint")
FIT_L2, FIT_STEPS, FIT_LR = 3e-4, 3000, 5.0


@dataclass(frozen=True)
class Stance:
    label: str  # the most probable label other than 'none'
    score: float  # its probability
    none: float  # probability of 'none'
    against: float = 0.0  # probability of 'avoid' and 'dislikes' together (a stance against, of either kind)


class StanceReader:
    """Stance of disclosure clauses from their vectors; trained lazily once per process, thread-safe."""

    def __init__(self, encoder: SentenceEncoder | None = None, path: Path = STANCE_FILE) -> None:
        self.encoder = encoder or shared_encoder()
        self.path = path
        self._lock = threading.Lock()
        self._weights: Any = None

    def _train(self) -> Any:
        import numpy as np

        with self._lock:
            if self._weights is None:
                rows = _read_labelled([self.path], STANCE_LABELS, "stance")
                x = self.encoder.encode([s for _, s in rows]).astype(np.float64)
                y = np.array([STANCE_LABELS.index(label) for label, _ in rows])
                self._weights = fit(x, y, classes=len(STANCE_LABELS), l2=FIT_L2, steps=FIT_STEPS, lr=FIT_LR)
            return self._weights

    def stances(self, vectors: Any) -> list[Stance]:
        import numpy as np

        if len(vectors) == 0:
            return []
        probs = softmax_scores(np.asarray(vectors, dtype=np.float64), self._train())
        avoid, dislikes = STANCE_LABELS.index("avoid"), STANCE_LABELS.index("dislikes")
        out = []
        for row in probs:
            best = 1 + int(row[1:].argmax())
            out.append(Stance(STANCE_LABELS[best], float(row[best]), float(row[0]), float(row[avoid] + row[dislikes])))
        return out

    def read(self, clauses: Sequence[str]) -> list[Stance]:
        return self.stances(self.encoder.encode(list(clauses))) if clauses else []


_shared: StanceReader | None = None
_shared_lock = threading.Lock()


def shared_stance_reader(encoder: SentenceEncoder | None = None) -> StanceReader:
    """One reader per process (on ``encoder`` the first time it is asked for, else the shared encoder)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = StanceReader(encoder)
        return _shared


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words that open a noun phrase: after them a thing may stand.
_OPENERS = _word_set(
    """a an the my our this that these those his her their its some any every all no of on in at to from with by for
    into onto about around near without through over under across like"""
)
# Words that never belong to the thing: pronouns, auxiliaries, light verbs, conjunctions, adverbs, quantities.
_FUNCTION = _OPENERS | _word_set(
    """i me we us you he she they him them it i'm i've i'd i'll we're we've it's that's there's is are was were be
    been being am have has had having do does did done doing get gets got getting go goes went going gone make makes
    made take takes took taken keep keeps kept can could would will should shall may might must not never no nor
    and or but so because since when whenever while if as than then until unless though although just still even
    really very quite pretty too also only ever always usually often sometimes again already now then here there
    where what which who whom whose how why yes yeah ok okay well oh lol haha honestly basically literally actually
    more most less least much many lot lots bit few several each both either neither one two three four five six
    seven eight nine ten eleven twelve twenty thirty hundred thousand first second third last next same other
    another own whole up down out off back away something anything nothing everything someone anyone everyone
    thing things stuff way kind sort type along forward single late early ago once twice instead after before couple
    behind ahead halfway rather fairly forever ages"""
)
# Things that are the time, place, company or body of a disclosure, not what it is about.
_NOT_THE_THING = _word_set(
    """time times year years month months week weeks weekend weekends day days night nights morning mornings evening
    evenings afternoon afternoons hour hours minute minutes moment decade decades summer winter spring autumn today
    tonight tomorrow yesterday monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december age home house flat room work job office school
    boss colleague colleagues family friend friends mate mates partner wife husband son daughter kids kid children
    child mum mom dad mother father parents brother sister baby toddler people person everybody guy guys head
    stomach chest legs leg arms arm hands hand eyes eye ears ear heart skin back knees knee feet foot face throat
    body mind breath nerves pulse sweat tears wrist wrists ankle ankles shoulder shoulders toes toe neck hip hips
    finger fingers teeth tooth mouth lips nose brain jaw bed sleep end start half part rest middle lot place places
    point reason problem problems trouble idea thought migraine migraines headache headaches rash hives nightmares panic
    attack attacks sickness nausea palpitations shakes jitters cramps goosebumps"""
)
# Common verbs and adjective endings that stand alone where a thing would ('what I eat', 'so beautiful').
_BARE_VERBS = _word_set("eat drink see watch read buy try use like want need feel look sound seem know think say play")
_ADJECTIVE = re.compile(r"(?:ful|less|ous|able|ible)$")
# A word, or a mark that ends a phrase (a phrase never runs across a comma: 'co-op games, Pandemic').
_TOKEN = re.compile(r"[A-Za-z][\w'&-]*[\w]|[A-Za-z]|\d[\w.,]*|[,;:.!?()\u2013\u2014\"]")
# The speaker as subject: past any auxiliaries and adverbs, the next word is the verb, and what follows the verb
# may be its object ('I grow chillies', 'we have always collected stamps').
_SUBJECTS = frozenset({"i", "we"})
_PRONOUNS = _word_set("you he she they it this that these those there")
_MAX_WORDS = 3


def _is_name(word: str) -> bool:
    """A capitalised or camel-case word ('Debian', 'iPhone', 'ThinkPad')."""
    return word[:1].isupper() or bool(re.match(r"^[a-z]+[A-Z]", word))


def _is_word(token: str) -> bool:
    return token[:1].isalpha()


def _phrase_from(tokens: Sequence[str], start: int) -> str | None:
    """The noun phrase that starts at ``tokens[start]``: up to three content words (two unless it opens with a
    name), stopping at a function word, a mark, or a verb form in -ing that goes on to a name or an opener
    ('ThinkPad running Debian' is 'ThinkPad'; 'life drawing class' is kept)."""
    out: list[str] = []
    longest = _MAX_WORDS if _is_name(tokens[start]) else _MAX_WORDS - 1
    for at, token in enumerate(tokens[start:], start):
        low = token.lower()
        if not _is_word(token) or low in _FUNCTION:
            break
        following = tokens[at + 1] if at + 1 < len(tokens) else ""
        if out and low.endswith("ing") and (not following or following.lower() in _OPENERS or _is_name(following)):
            break
        if out and following.lower() in _SPEAKER_AS_OBJECT:
            break  # 'the chlorine wrecks my skin': a verb done to the speaker ends the thing
        out.append(token)
        if len(out) == longest:
            break
    while out and (out[-1].lower() in _NOT_THE_THING or out[-1].lower().endswith("ly")):
        out.pop()  # 'vinyl every weekend' keeps 'vinyl'
    if not out or out[0].lower() in _NOT_THE_THING:
        return None  # 'my toes numb' is the body, not a thing
    if len(out) == 1 and _VERB_FORM.match(out[0]) and not (start > 0 and tokens[start - 1].lower() in _OPENERS):
        return None  # 'when I see one coming' names a doing, not a thing
    if len(out) == 1 and (out[0].lower() in _BARE_VERBS or _ADJECTIVE.search(out[0].lower())):
        return None  # 'what I eat', 'it looks beautiful': a doing or a quality, not a thing
    return " ".join(out)


# The speaker as what a verb acts on: the word before it is a verb, not part of the thing ('the chlorine wrecks my
# skin', 'crowds make me panic').
_SPEAKER_AS_OBJECT = frozenset({"me", "my", "us", "our"})
# Prepositions of where or with whom: what follows them is the setting of a disclosure more often than its thing
# ('five-a-side every Wednesday, same cage in Stockport').
_SETTING = frozenset({"in", "at", "on", "to", "from", "near", "around", "into", "onto", "with", "across", "over", "under"})
# A verb form after an auxiliary or a subject ('have been playing', 'we collect'): its object may follow.
_VERB_FORM = re.compile(r"^[a-z]+(?:ing|ed)$")


# Light verbs are function words, but the speaker's main verb when a thing follows them ('I get altitude sickness').
_HAVE = frozenset({"have", "has", "had"})
_LIGHT_VERBS = _word_set("get gets got have has had do does did make makes made take takes took keep keeps kept")


def _main_verb(tokens: Sequence[str], at: int) -> int:
    """Where the speaker's verb is, from just after the subject: past auxiliaries and adverbs, but a light verb
    followed by a thing or a determiner is the verb ('I get altitude sickness', 'I have a lathe')."""
    while at < len(tokens) and tokens[at].lower() in _FUNCTION and tokens[at].lower() not in _OPENERS:
        following = tokens[at + 1] if at + 1 < len(tokens) else ""
        low = following.lower()
        if tokens[at].lower() in _HAVE:  # 'have' is the verb only before a thing said with a determiner or a name
            thing_follows = low in _OPENERS or _is_name(following)
        else:
            thing_follows = low in _OPENERS or (low not in _FUNCTION and not _VERB_FORM.match(low))
        if tokens[at].lower() in _LIGHT_VERBS and following and _is_word(following) and thing_follows:
            return at
        at += 1
    return at


def _objects_of_verbs(tokens: Sequence[str]) -> set[int]:
    """Where the object of a verb may start: the first content word after the speaker's verb ('I still read the
    whole paper', past auxiliaries, adverbs and determiners) or after a verb form in -ing or -ed that follows an
    auxiliary ('a few of us have been playing five-a-side')."""
    starts = set()
    for i, token in enumerate(tokens):
        low = token.lower()
        verb = None
        if low in _SUBJECTS:
            verb = _main_verb(tokens, i + 1)
        elif i > 0 and _VERB_FORM.match(low) and tokens[i - 1].lower() in _FUNCTION:
            verb = i
        if verb is None or verb >= len(tokens) or not _is_word(tokens[verb]):
            continue
        start = verb + 1
        while start < len(tokens) and tokens[start].lower() in _FUNCTION and tokens[start].lower() not in _SETTING:
            start += 1
        starts.add(start)
    return starts


# What a thing does to the speaker or is to them ('Gyms scare me', 'the Tube is hell'): the subject is the thing.
_IS = frozenset({"is", "are", "was", "were"})
_ME = frozenset({"me"})
_OWNERS = frozenset({"my", "our", "own"})
# A fronted reason or time ('Since the pile-up in 2021 I tremble on dual carriageways') is no thing of the stance.
_FRONTED = frozenset({"since", "after", "when", "because", "as", "once", "ever", "until", "before"})


def _subject_of(tokens: Sequence[str]) -> str | None:
    """The noun phrase a clause opens with (past discourse words and a determiner) when the clause goes on to say
    what it does to the speaker or what it is ('honestly gyms scare me a bit'); None when it opens with a pronoun
    or the speaker."""
    at = 0
    while at < len(tokens) and tokens[at].lower() in _FUNCTION and tokens[at].lower() not in _SUBJECTS | _PRONOUNS:
        at += 1
    if at >= len(tokens) or not _is_word(tokens[at]) or tokens[at].lower() in _FUNCTION:
        return None
    phrase = _phrase_from(tokens, at)
    words = phrase.split() if phrase else []
    owned = at > 0 and tokens[at - 1].lower() in _OWNERS
    for size in range(1, len(words) + 1):  # the shortest phrase a verb follows ('gyms' of 'gyms scare me')
        rest = [token.lower() for token in tokens[at + size : at + size + 2]] + ["", ""]
        if (rest[0] in _IS and not owned) or rest[1] in _ME:
            return " ".join(words[:size])
    return None  # 'My own shelf is all co-op games' is about what the shelf holds


def _setting_before(tokens: Sequence[str], i: int) -> bool:
    """A preposition of place or company stands before ``tokens[i]``, maybe across a determiner ('in the ...')."""
    j = i - 1
    while j >= 0 and tokens[j].lower() in _OPENERS and tokens[j].lower() not in _SETTING:
        j -= 1
    return j >= 0 and tokens[j].lower() in _SETTING


def candidate_things(clause: str) -> list[tuple[int, str]]:
    """(tier, phrase) for the noun phrases a clause offers as what it is about, best tier first: 0 a name or brand
    (not the clause's first word) outside a setting, or the subject of what the clause says it does to the speaker
    ('gyms scare me'); 1 the object of a verb or the phrase after a determiner, possessive or 'of'; 2 a setting
    (after 'in', 'at', 'with' ...); 3 anything in a fronted reason or time ('Since the pile-up ...')."""
    tokens = _TOKEN.findall(clause)
    objects = _objects_of_verbs(tokens)
    found: dict[str, int] = {}
    subject = _subject_of(tokens)
    if subject:
        found[subject] = 0
    fronted_end = 0
    if tokens and tokens[0].lower() in _FRONTED:
        fronted_end = next((i for i, token in enumerate(tokens) if token.lower() in _SUBJECTS), 0)
    for i, token in enumerate(tokens):
        low = token.lower()
        if i == 0 or not _is_word(token) or low in _FUNCTION:
            continue
        before = tokens[i - 1]
        named = _is_name(token) and not (_is_word(before) and _is_name(before))
        if not (before.lower() in _OPENERS or named or i in objects):
            continue
        phrase = _phrase_from(tokens, i)
        if not phrase:
            continue
        tier = 3 if i < fronted_end else 2 if _setting_before(tokens, i) else 0 if named else 1
        found[phrase] = min(tier, found.get(phrase, tier))
    return sorted(((tier, phrase) for phrase, tier in found.items()), key=lambda candidate: candidate[0])


def _drop(clause: str, phrase: str) -> str:
    return re.sub(rf"\b{re.escape(phrase)}\b", " ", clause, count=1, flags=re.IGNORECASE)


def what_it_is_about(clause: str, encoder: SentenceEncoder | None = None, *, setting_counts: bool = False) -> str | None:
    """Of the candidate things of the best tier (``candidate_things``), the one whose removal moves the clause's
    meaning most (the clause's vector against the clause's vector without it); None when the clause offers none.
    ``setting_counts``: a setting is as good as an object (what one avoids is often where it happens: 'I shake on
    motorways', 'I freeze in exams')."""
    import numpy as np

    found = [(1 if setting_counts and tier == 2 else tier, phrase) for tier, phrase in candidate_things(clause)]
    found.sort(key=lambda candidate: candidate[0])
    things = [phrase for tier, phrase in found if tier == found[0][0]] if found else []
    if len(things) <= 1:
        return things[0] if things else None
    vectors = (encoder or shared_encoder()).encode([clause, *(_drop(clause, t) for t in things)])
    kept = vectors[1:] @ vectors[0]
    return things[int(np.argmin(kept))]
