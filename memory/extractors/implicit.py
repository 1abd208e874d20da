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
from memory.extractors.clauses import _REQUEST_START, MOMENT_STATES, TOLERANCE, clauses, tainted
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
        path: Path = CONCEPTS_FILE,
    ) -> None:
        self._classifier = classifier
        self.threshold = threshold
        self.margin = margin
        self.runs_inline = runs_inline
        self.max_clauses = max_clauses
        self.stated_none = stated_none
        self.path = path
        self._lock = threading.Lock()
        self._index: tuple[Any, list[int], list[tuple[str, str]]] | None = None

    def _concepts(self) -> tuple[Any, list[int], list[tuple[str, str]]]:
        with self._lock:
            if self._index is None:
                concepts = load_concepts(self.path)
                owners, sentences = [], []
                for i, (_, _, examples) in enumerate(concepts):
                    owners += [i] * len(examples)
                    sentences += examples
                encoder = (self._classifier or shared_classifier()).encoder
                self._index = (encoder.encode(sentences), owners, [(k, v) for k, v, _ in concepts])
            return self._index

    def extract(self, context: ExtractionContext) -> list[Decision]:
        import numpy as np

        from memory.extractors.sentences import _ruled

        active = {p.kind: p.value for p in context.active}
        candidates: list[tuple[int, str]] = []
        for index, message in enumerate(context.messages):
            if message.role != "user" or tainted(message.content):
                continue
            for clause in clauses(message.content):
                if clause.question or not _PERSON.search(clause.text) or is_instruction(clause.text):
                    continue
                if (_REQUEST_START.search(clause.text) and not _SPEAKER.search(clause.text)) or _MOMENT.search(clause.text):
                    continue  # a request ('give me a recipe for banana bread') or a passing state discloses no habit
                if TOLERANCE.search(clause.text):
                    continue  # 'I don't mind spicy food' neither likes nor avoids it
                if _ruled(clause, active):
                    continue  # the rules already read it (a diet, an allergy, a style): no second reading
                candidates.append((index, clause.text))
        candidates = candidates[: self.max_clauses]
        if not candidates:
            return []
        vectors, owners, concepts = self._concepts()
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
        for (index, _), row in zip(candidates, sims, strict=True):
            best = int(row.argmax())
            score = float(row[best])
            if score < self.threshold:
                continue
            # The runner-up concept must be clearly behind (a sentence close to two concepts is ambiguous).
            others = row[owner != owner[best]]
            if others.size and score - float(others.max()) < self.margin:
                continue
            kind, value = concepts[owners[best]]
            confidence = round(min(0.7, score), 3)
            key = (kind, value)
            if key not in found or found[key].confidence < confidence:
                found[key] = Assert(kind, value, "implicit", confidence, 1.0, index, self.name)
        return list(found.values())
