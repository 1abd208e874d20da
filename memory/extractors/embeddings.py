"""An optional extractor that recognises style preferences by similarity to prototype sentences.

It catches paraphrases the rules miss ('answers that get to the point work best for me') using any
embedding function the caller supplies (``embed(list[str]) -> list[vector]``: a sentence-transformers
model, an OpenAI-compatible embeddings client, LlamaIndex's ``get_text_embedding_batch``...). It reads only
clauses that pass the same filters as the rules, and skips negated clauses: similarity does not see 'not'.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence

from memory.extractors.base import Assert, Decision, ExtractionContext
from memory.extractors.clauses import clauses
from memory.taxonomy import OPPOSITE

Embed = Callable[[list[str]], Sequence[Sequence[float]]]

PROTOTYPES: dict[tuple[str, str], tuple[str, ...]] = {
    ("verbosity", "concise"): (
        "I prefer short answers",
        "keep it brief and to the point",
        "just give me the gist",
    ),
    ("verbosity", "detailed"): (
        "I prefer long detailed answers",
        "explain everything thoroughly",
        "give me all the details",
    ),
    ("formality", "formal"): ("please keep a formal professional tone", "I prefer formal language"),
    ("formality", "casual"): ("talk to me casually like a friend", "I prefer a relaxed informal tone"),
    ("expertise", "beginner"): ("explain it simply for a beginner", "I am new to this, avoid jargon"),
    ("expertise", "expert"): ("I am an expert, skip the basics", "technical depth is welcome"),
    ("humor", "playful"): ("I enjoy humor and jokes in answers", "be playful and funny"),
    ("humor", "serious"): ("keep it serious, no jokes", "I prefer a serious tone"),
    ("format", "bullets"): ("I prefer bullet points", "use lists to structure answers"),
    ("format", "prose"): ("I prefer flowing paragraphs", "write in prose, not lists"),
}
_NEGATION = re.compile(r"\b(?:not|no|never|without|stop|less|fewer|hate|dislike)\b", re.IGNORECASE)


def _unit(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def _cos(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


class EmbeddingExtractor:
    name = "embeddings"

    def __init__(
        self,
        embed: Embed,
        *,
        threshold: float = 0.8,
        margin: float = 0.05,
        runs_inline: bool = False,
        prototypes: Mapping[tuple[str, str], Sequence[str]] | None = None,
    ) -> None:
        if not callable(embed):
            raise TypeError("embed must be a callable: list[str] -> list of vectors")
        self.embed = embed
        self.threshold = threshold
        self.margin = margin
        self.runs_inline = runs_inline
        self.prototypes = dict(prototypes or PROTOTYPES)
        self._vectors: list[tuple[tuple[str, str], list[float]]] | None = None

    def _prototype_vectors(self) -> list[tuple[tuple[str, str], list[float]]]:
        if self._vectors is None:
            labels = [(label, s) for label, sentences in self.prototypes.items() for s in sentences]
            vectors = self.embed([s for _, s in labels])
            self._vectors = [(label, _unit(v)) for (label, _), v in zip(labels, vectors, strict=True)]
        return self._vectors

    def extract(self, context: ExtractionContext) -> list[Decision]:
        candidates: list[tuple[int, str]] = []
        for index, message in enumerate(context.messages):
            if message.role == "user":
                candidates += [
                    (index, c.text)
                    for c in clauses(message.content)
                    if not (c.task and not c.standing) and not c.question and not _NEGATION.search(c.text)
                ]
        if not candidates:
            return []
        prototypes = self._prototype_vectors()
        vectors = self.embed([text for _, text in candidates])
        decisions: list[Decision] = []
        for (index, _), vector in zip(candidates, vectors, strict=True):
            unit = _unit(vector)
            best: dict[tuple[str, str], float] = {}
            for label, proto in prototypes:
                best[label] = max(best.get(label, -1.0), _cos(unit, proto))
            label, score = max(best.items(), key=lambda kv: kv[1])
            rival = best.get((label[0], OPPOSITE.get(label, "")), -1.0)
            if score >= self.threshold and score - rival >= self.margin:
                decisions.append(
                    Assert(label[0], label[1], "implicit", round(min(score, 0.85), 3), 1.0, index, self.name)
                )
        return decisions
