"""Implicit preferences from self-disclosure, by meaning: 'I get seasick even on ferries' -> avoid boats.

A disclosure rarely names the preference, so the sentence classifier and the span extractor cannot store
it. This extractor compares each disclosure clause of the user (first person, not a question, not a task
request, not an instruction to the assistant) with a hand-written inventory of concepts
(``data/concepts.tsv``: a kind, the value to store and a few disclosures that imply it), by cosine
similarity of all-MiniLM-L6-v2 embeddings, and asserts the nearest concept when it is close enough, as an
``implicit`` preference (which never overturns an explicit one).

It runs off the request path by default (``runs_inline = False``): the store's background worker runs it
from the durable turn, and its results appear in the profile when done. It only knows the concepts in
its inventory; a disclosure about anything else stores nothing.

Measured alternative: SmolLM2-135M-Instruct with JSON forced by the engine's constraints, see
docs/memory.md; at this size it does not infer implicit preferences reliably.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from memory.extractors.base import Assert, Decision, ExtractionContext
from memory.extractors.classifier import SentenceClassifier, shared_classifier
from memory.extractors.clauses import (
    _HYPOTHETICAL,
    _NOT_A_TASTE,
    _PAST,
    _POLITE,
    _REPORTER,
    _REQUEST_START,
    INJECTION,
    MOMENT_STATES,
    TOLERANCE,
    Clause,
    clauses,
    expand,
    tainted,
)
from memory.extractors.guard import is_instruction

CONCEPTS_FILE = Path(__file__).with_name("data") / "concepts.tsv"
_PERSON = re.compile(r"\b(?:i|me|my|mine|myself|we|us|our)\b", re.IGNORECASE)
# The speaker as a subject: a request that says something of the speaker ('Give me a mystery and I am happy').
_SPEAKER = re.compile(r"\b(?:i|we)\b", re.IGNORECASE)
# A state of the moment, not of the person: today's mood or craving, an ache after yesterday's run, a cold.
# 'I am in the mood for a scary movie tonight' says nothing about horror films in general.
_MOMENT = re.compile(
    r"\b(?:today|tonight|this (?:morning|afternoon|evening|week|weekend)|yesterday(?:'s)?|last night|"
    rf"{MOMENT_STATES}|in the mood|fancy|feel(?:ing)? like|could (?:really )?(?:use|do with|murder)|"
    r"short on time|in a (?:rush|hurry)|running late|can not wait|"
    r"(?:a|the|stinking|bad|heavy|streaming|horrible) (?:cold|flu|headache|hangover|cough|fever|sore throat|"
    r"migraine|jet ?lag))\b",
    re.IGNORECASE,
)
# Polarity. A disclosure implies avoiding a thing only when it says something against it: a bad reaction, a
# fear, an abstinence, a negation. Someone who needs, uses or relies on X ('I need a coffee', 'I use an
# iPhone', 'I can't live without my morning coffee') is not avoiding X, however close the topic is to a
# concept like 'avoid caffeine'. Dependence is said by a closed class of verbs (not by the topic) ...
_DEPENDS = re.compile(
    r"\b(?:i|we)\s+(?:(?:really|just|still|always|totally|basically|so)\s+)*(?:need|needs|use|rely on|depend on|"
    r"swear by|live on|live in|am (?:addicted to|hooked on|reliant on|dependent on))\b"
    r"|\b(?:can|could) not (?:live|do|function|survive|cope|manage|start (?:the|my) day|get through (?:the|a) day|"
    r"go (?:a|one) day|imagine (?:life|a day)|wake up|work|sleep|travel)\s+(?:\w+\s+){0,3}?without\b",
    re.IGNORECASE,
)
# ... and a negation, an abstinence, a stop or a condition turns any reading back towards avoidance ('I do not
# drink coffee any more, it makes me jittery', 'I gave up flying', 'If I have a coffee after 2pm I'm staring at
# the ceiling till 4'); a clause with one is never read as dependence.
_AGAINST = re.compile(
    r"\b(?:not|no|never|nothing|none|neither|nor|no longer|any ?more|stopped|quit|gave up|give up|cut (?:out|down)|"
    r"off|avoid|without|if|whenever|every time|each time)\b",
    re.IGNORECASE,
)
# ... which the model also tells by meaning: a clause nearer to 'I need X' / 'I use X every day' than to the
# disclosures that imply avoiding X is about wanting X ('I drink coffee every morning', 'always on planes for
# work and love it'). These frames are filled with each avoid/dislikes concept's value.
_APPROACH_FRAMES = (
    "I need {}",
    "I use {} every day",
    "I love {}",
    "I can not live without {}",
    "I rely on {}",
    "I have {} all the time",
)
_NEGATIVE_KINDS = frozenset({"avoid", "dislikes"})
# A speakerless clause that is a bare negation or a reply ('not scary for Halloween', 'No emojis in this one')
# answers or asks for something; it is no narration of the speaker's life.
_NOT_NARRATION = re.compile(
    r"^(?:not|no|nothing|yes|yeah|any|anything|something|what|how|is|are|do|does|can|could|would|should)\b", re.IGNORECASE
)
# A third party inside a disclosure. clauses() drops a piece that someone else says or is the subject of
# ('Coffee gives me palpitations, my GP told me to cut it out'; 'My dad was a soldier and war scenes really
# upset me'), which is right for stated tastes but loses the speaker's own part of a disclosure: that part is
# read here on its own. Split at commas, 'and' before the speaker, 'so', and after a fronted subordinate clause
# ('Since my brother died I can't cope with tragic headlines').
_SUBPIECE = re.compile(
    r",\s+|\s+and\s+(?=(?:\w+\s+){0,4}?(?:i|me|my|we|us|our)\b|(?:the|his|her|their|he|she|they|it)\s)|\s+so\s+|"
    r"^(?:since|after|ever since|when|because|as)\s+[^,]{3,60}?\s+(?=(?:i|we)\s)",
    re.IGNORECASE,
)
# The speaker's household or charges, whose needs constrain the speaker's plans ('My puppy eats everything in the
# garden', 'our toddler naps after lunch', 'my mum can't manage steps'): read for constraints only.
_HOUSEHOLD = re.compile(
    r"^\s*(?:my|our)\s+(?:\w+\s+)?(?:puppy|puppies|dog|dogs|cat|cats|kitten|pets?|rabbit|horse|baby|toddler|"
    r"kids?|children|son|daughter|twins|mum|mom|mother|dad|father|parents|grandma|grandmother|grandad|grandfather|"
    r"nan|gran|partner|wife|husband)\b",
    re.IGNORECASE,
)
# Reported words stay someone else's, and what clauses() drops for the whole sentence (a hypothetical, a past
# habit, an injection, politeness, no preference) is not read again part by part.
_REPORTING = re.compile(r"\b(?:said|says|say|told|tells|thinks|reckons|claims?|according to|asked)\b", re.IGNORECASE)


def _sentence_ruled_out(sentence: str) -> bool:
    text = expand(sentence)
    return bool(
        _HYPOTHETICAL.search(text) or _PAST.search(text) or _POLITE.search(text) or _NOT_A_TASTE.search(text)
        or INJECTION.search(text) or is_instruction(sentence) or _REPORTER.search(text)
    )


def _disclosures(message: str) -> list[tuple[Clause, bool]]:
    """(clause, constraint_only) for the message's disclosure clauses: those ``clauses()`` keeps, then the
    speaker's own parts of the sentences it dropped for a third party, and household needs (constraints only)."""
    kept = clauses(message)
    out = [(c, False) for c in kept]
    covered = [c.text.lower() for c in kept]
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", message[:2000])[:16]:
        sentence = sentence.strip()
        if not sentence or sentence.endswith("?") or _sentence_ruled_out(sentence):
            continue
        for part in _SUBPIECE.split(expand(sentence)):
            part = (part or "").strip(" ,.;:!")
            low = part.lower()
            if len(part.split()) < 3 or _REPORTING.search(part) or any(low in c or c in low for c in covered):
                continue
            own = [c for c in clauses(part) if c.text.lower() not in covered]
            if own:
                out += [(c, False) for c in own]
            elif _HOUSEHOLD.search(part) and not _REQUEST_START.search(part):
                own = [Clause(part, False, False, False, False, False, False)]
                out.append((own[0], True))
            covered += [c.text.lower() for c in own]
    return out


def _wants(text: str, score: float, approach: Any) -> bool:
    """The clause is about needing or using the thing an avoid/dislikes concept names: said by a dependence
    verb, or nearer in meaning to the concept's approach probes than to its disclosures; never when the clause
    negates, stops or avoids something."""
    if _AGAINST.search(_DEPENDS.sub(" ", text)):
        return False
    return bool(_DEPENDS.search(text)) or (approach.size > 0 and float(approach.max()) >= score)


def load_concepts(path: Path = CONCEPTS_FILE) -> list[tuple[str, str, list[str]]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, value, examples = line.split("\t")
        out.append((kind, value, [e.strip() for e in examples.split("|") if e.strip()]))
    return out


class ImplicitExtractor:
    """Nearest concept to each disclosure clause, by embedding similarity (background by default)."""

    name = "implicit"

    def __init__(
        self,
        classifier: SentenceClassifier | None = None,
        *,
        threshold: float = 0.5,
        margin: float = 0.0,
        runs_inline: bool = False,
        max_clauses: int = 16,
        stated_none: float = 0.0,
        speakerless_threshold: float = 0.6,
        path: Path = CONCEPTS_FILE,
    ) -> None:
        self._classifier = classifier
        self.threshold = threshold
        self.margin = margin
        self.runs_inline = runs_inline
        self.max_clauses = max_clauses
        self.stated_none = stated_none
        self.speakerless_threshold = speakerless_threshold
        self.path = path
        self._lock = threading.Lock()
        self._index: tuple[Any, list[int], list[tuple[str, str]], Any, Any] | None = None

    def _concepts(self) -> tuple[Any, list[int], list[tuple[str, str]], Any, Any]:
        """Example vectors and their concepts, plus the approach probes of the avoid/dislikes concepts
        (``_APPROACH_FRAMES`` filled with the value) and the concept each probe belongs to."""
        with self._lock:
            if self._index is None:
                import numpy as np

                concepts = load_concepts(self.path)
                owners, sentences = [], []
                for i, (_, _, examples) in enumerate(concepts):
                    owners += [i] * len(examples)
                    sentences += examples
                probe_owners, probes = [], []
                for i, (kind, value, _) in enumerate(concepts):
                    if kind in _NEGATIVE_KINDS:
                        probe_owners += [i] * len(_APPROACH_FRAMES)
                        probes += [frame.format(value) for frame in _APPROACH_FRAMES]
                encoder = (self._classifier or shared_classifier()).encoder
                vectors = encoder.encode(sentences + probes)
                self._index = (
                    vectors[: len(sentences)],
                    owners,
                    [(k, v) for k, v, _ in concepts],
                    vectors[len(sentences) :],
                    np.asarray(probe_owners, dtype=int),
                )
            return self._index

    def extract(self, context: ExtractionContext) -> list[Decision]:
        import numpy as np

        from memory.extractors.sentences import _TASK_VERB, _ruled

        active = {p.kind: p.value for p in context.active}
        candidates: list[tuple[int, str]] = []
        constraint_only: set[tuple[int, str]] = set()  # a household member's need: constraints only
        speakerless: set[tuple[int, str]] = set()  # no sign of the speaker: read at ``speakerless_threshold``
        for index, message in enumerate(context.messages):
            if message.role != "user" or tainted(message.content):
                continue
            for clause, household in _disclosures(message.content):
                if clause.question or is_instruction(clause.text):
                    continue
                if not _PERSON.search(clause.text):
                    # Narration drops its 'I' ('Eight years sober next month', 'Flew to Lisbon and had a panic
                    # attack on the runway'): read it, but only when it is that and very close to a concept.
                    if _TASK_VERB.search(clause.text) or _NOT_NARRATION.search(clause.text) or len(clause.text.split()) < 4:
                        continue
                    speakerless.add((index, clause.text))
                if (_REQUEST_START.search(clause.text) and not _SPEAKER.search(clause.text)) or _MOMENT.search(clause.text):
                    continue  # a request ('give me a recipe for banana bread') or a passing state discloses no habit
                if TOLERANCE.search(clause.text):
                    continue  # 'I don't mind spicy food' neither likes nor avoids it
                if _ruled(clause, active):
                    continue  # the rules already read it (a diet, an allergy, a style): no second reading
                candidates.append((index, clause.text))
                if household:
                    constraint_only.add((index, clause.text))
        candidates = candidates[: self.max_clauses]
        if not candidates:
            return []
        vectors, owners, concepts, probe_vectors, probe_owners = self._concepts()
        classifier = self._classifier or shared_classifier()
        clause_vectors = classifier.encoder.encode([t for _, t in candidates])
        # As inline: a message with a clause the instruction guard reads as hostile gives nothing, so an
        # inference cannot ride on a planted sentence ('... I love writing ransomware ...').
        from memory.extractors.classifier import shared_guard
        from memory.extractors.sentences import HOSTILE_THRESHOLD

        hostile = shared_guard().hostile_vectors(clause_vectors) >= HOSTILE_THRESHOLD
        poisoned = {index for (index, _), bad in zip(candidates, hostile, strict=True) if bad}
        if poisoned:
            clean = np.asarray([index not in poisoned for index, _ in candidates])
            candidates = [c for c, ok in zip(candidates, clean, strict=True) if ok]
            clause_vectors = clause_vectors[clean]
            if not candidates:
                return []
        # A clause the inline classifier already reads as a stated preference is its business, not ours:
        # inferring a concept from it as well would store the same thing twice.
        keep = [p.none >= self.stated_none for p in classifier.predict_vectors(clause_vectors)]
        candidates = [c for c, k in zip(candidates, keep, strict=True) if k]
        if not candidates:
            return []
        sims = clause_vectors[np.asarray(keep)] @ vectors.T
        owner = np.asarray(owners)
        found: dict[tuple[str, str], Assert] = {}
        approach = clause_vectors[np.asarray(keep)] @ probe_vectors.T
        for (index, text), row, near in zip(candidates, sims, approach, strict=True):
            best = int(row.argmax())
            score = float(row[best])
            if score < (self.speakerless_threshold if (index, text) in speakerless else self.threshold):
                continue
            # The runner-up concept must be clearly behind (a sentence close to two concepts is ambiguous).
            others = row[owner != owner[best]]
            if others.size and score - float(others.max()) < self.margin:
                continue
            kind = concepts[owners[best]][0]
            if (index, text) in constraint_only and kind != "constraint":
                continue  # 'my husband loves sci-fi' is his taste; only his needs constrain the speaker
            if kind in _NEGATIVE_KINDS and _wants(text, score, near[probe_owners == owners[best]]):
                continue  # 'I need a coffee' is not 'avoid caffeine'
            kind, value = concepts[owners[best]]
            confidence = round(min(0.7, score), 3)
            key = (kind, value)
            if key not in found or found[key].confidence < confidence:
                found[key] = Assert(kind, value, "implicit", confidence, 1.0, index, self.name)
        return list(found.values())
