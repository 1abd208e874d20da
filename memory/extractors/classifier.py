"""A small sentence classifier over all-MiniLM-L6-v2 embeddings: is this sentence a standing preference,
and of which kind.

Labels: ``none`` (task requests, questions, reported speech, hypotheticals, chit-chat, instructions aimed
at the assistant), ``likes``, ``dislikes``, ``avoids``, ``constraint`` (diet, allergy, budget,
accessibility, schedule) and ``style`` (length, tone, format, expertise, language, units, humour).

The model is multinomial logistic regression in numpy, trained on ``data/sentences.tsv`` (hand-written
for training, never taken from the evaluation sets). Embedding the sentences and fitting take about 13
CPU-seconds, so the weights are cached on disk (``memory.trained_cache``), keyed on the training text, the
fit settings and the encoder's numerics: editing the file retrains, and each process after the first loads. ``python -m
memory.extractors.classifier`` prints a cross-validated accuracy on the training file.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory.embedding import SentenceEncoder, shared_encoder
from memory.trained_cache import cached_arrays

LABELS = ("none", "likes", "dislikes", "avoids", "constraint", "style")
TRAINING_FILE = Path(__file__).with_name("data") / "sentences.tsv"
# Trained to convergence with a light penalty (5-fold on the training files: none-vs-preference AUC 0.93 vs
# 0.91 for the old 400-step fit, which left P(none) so flat that 55% of the 'none' sentences passed the 0.45
# threshold and the structural gates did all the work). On the fresh probe sets' check half this cut filler
# stores per conversation from 0.30 to 0.21 for -0.015 explicit recall.
FIT_L2, FIT_STEPS, FIT_LR = 3e-4, 3000, 5.0
# Clauses from the train half of the later-written probe sets (``memory.extractors.fresh_training``): other
# people's wording, which the hand-written file alone did not generalise to.
FRESH_TRAINING_FILE = Path(__file__).with_name("data") / "fresh_sentences.tsv"


def load_training(path: Path = TRAINING_FILE) -> list[tuple[str, str]]:
    """(label, sentence) pairs; '#' lines are comments. The default file comes with the fresh-train file."""
    paths = [path, FRESH_TRAINING_FILE] if path == TRAINING_FILE and FRESH_TRAINING_FILE.exists() else [path]
    return _read_labelled(paths, LABELS, "training")


def _read_labelled(paths: list[Path], labels: Sequence[str], what: str) -> list[tuple[str, str]]:
    """(label, sentence) pairs from tab-separated files; blank and '#' lines are skipped, a line with an
    unknown label or no sentence raises ``ValueError``."""
    rows = []
    for file in paths:
        for line in file.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            label, _, sentence = line.partition("\t")
            if label not in labels or not sentence.strip():
                raise ValueError(f"bad {what} line in {file}: {line!r}")
            rows.append((label, sentence.strip()))
    return rows


def fit(x: Any, y: Any, *, classes: int, l2: float = 1e-3, steps: int = 400, lr: float = 2.0) -> Any:
    """Multinomial logistic regression by full-batch gradient descent; returns W of shape (d+1, classes).

    Classes are weighted by inverse frequency, so the large ``none`` class does not swamp the others.
    """
    import numpy as np

    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1), dtype=x.dtype)])
    onehot = np.eye(classes, dtype=np.float64)[y]
    counts = np.bincount(y, minlength=classes).astype(np.float64)
    sample_w = (n / (classes * np.maximum(counts, 1)))[y][:, None]
    w = np.zeros((d + 1, classes), dtype=np.float64)
    for _ in range(steps):
        logits = xb @ w
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(1, keepdims=True)
        grad = xb.T @ ((p - onehot) * sample_w) / n + l2 * np.vstack([w[:-1], np.zeros((1, classes))])
        w -= lr * grad
    return w


# What a cached fit depends on besides its data and settings: the fitting code itself.
FIT_CODE = hashlib.sha256(fit.__code__.co_code + repr(fit.__code__.co_consts).encode()).hexdigest()[:16]


def softmax_scores(x: Any, w: Any) -> Any:
    import numpy as np

    xb = np.hstack([x, np.ones((x.shape[0], 1), dtype=x.dtype)])
    logits = xb @ w
    logits -= logits.max(1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(1, keepdims=True)


@dataclass(frozen=True)
class Prediction:
    label: str  # the most probable label other than 'none'
    score: float  # its probability
    none: float  # probability of 'none' (a sentence is a preference when this is low enough)


class SentenceClassifier:
    """Classifies sentences into ``LABELS``; thread-safe, trained lazily once per process."""

    def __init__(self, encoder: SentenceEncoder | None = None, path: Path = TRAINING_FILE) -> None:
        self.encoder = encoder or shared_encoder()
        self.path = path
        self._lock = threading.Lock()
        self._weights: Any = None
        self.training_sha256 = ""

    def _train(self) -> Any:
        import numpy as np

        with self._lock:
            if self._weights is None:
                rows = load_training(self.path)
                text = "\n".join(f"{label}\t{s}" for label, s in rows)

                def build() -> dict[str, Any]:
                    x = self.encoder.encode([s for _, s in rows]).astype(np.float64)
                    y = np.array([LABELS.index(label) for label, _ in rows])
                    return {"w": fit(x, y, classes=len(LABELS), l2=FIT_L2, steps=FIT_STEPS, lr=FIT_LR)}

                settings = f"{LABELS} l2={FIT_L2} steps={FIT_STEPS} lr={FIT_LR} {FIT_CODE}"
                self._weights = cached_arrays("sentence-classifier", [text, settings], self.encoder, build)["w"]
                self.training_sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
            return self._weights

    def predict_vectors(self, vectors: Any) -> list[Prediction]:
        import numpy as np

        if len(vectors) == 0:
            return []
        probs = softmax_scores(np.asarray(vectors, dtype=np.float64), self._train())
        out = []
        for row in probs:
            best = 1 + int(row[1:].argmax())
            out.append(Prediction(LABELS[best], float(row[best]), float(row[0])))
        return out

    def predict(self, sentences: list[str]) -> list[Prediction]:
        return self.predict_vectors(self.encoder.encode(sentences)) if sentences else []


_shared: SentenceClassifier | None = None
_shared_lock = threading.Lock()


def shared_classifier() -> SentenceClassifier:
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SentenceClassifier()
        return _shared


def cross_validate(folds: int = 5) -> float:
    """Accuracy of the classifier on held-out folds of its own training file (a sanity check only)."""
    import numpy as np

    rows = load_training()
    x = shared_encoder().encode([s for _, s in rows]).astype(np.float64)
    y = np.array([LABELS.index(label) for label, _ in rows])
    order = np.random.default_rng(0).permutation(len(rows))
    correct = 0
    for k in range(folds):
        test = order[k::folds]
        train = np.setdiff1d(order, test)
        w = fit(x[train], y[train], classes=len(LABELS), l2=FIT_L2, steps=FIT_STEPS, lr=FIT_LR)
        correct += int((softmax_scores(x[test], w).argmax(1) == y[test]).sum())
    return correct / len(rows)


if __name__ == "__main__":
    print(f"{len(load_training())} training sentences; {cross_validate():.3f} 5-fold accuracy")


GUARD_FILE = Path(__file__).with_name("data") / "guard.tsv"
FRESH_GUARD_FILE = Path(__file__).with_name("data") / "fresh_guard.tsv"
GUARD_LABELS = ("safe", "hostile")
GUARD_L2, GUARD_STEPS, GUARD_LR = 1e-3, 400, 2.0  # fit's defaults, named so that the cache key holds them


def load_guard_training(path: Path = GUARD_FILE, preferences: Path = TRAINING_FILE) -> list[tuple[str, str]]:
    """(label, sentence): the guard file, plus every sentence of the preference file as ``safe`` except the
    ``none`` ones the structural guard reads as instructions (those are neither side's clean examples)."""
    from memory.extractors.guard import is_instruction

    paths = [path, FRESH_GUARD_FILE] if path == GUARD_FILE and FRESH_GUARD_FILE.exists() else [path]
    rows = _read_labelled(paths, GUARD_LABELS, "guard training")
    hostile = {s for label, s in rows if label == "hostile"}
    rows += [
        ("safe", s)
        for label, s in load_training(preferences)
        if (label != "none" or not is_instruction(s)) and s not in hostile
    ]
    return rows


class InstructionGuard:
    """P(a sentence steers the assistant, reaches for secrets or other people's data, claims a role or plants
    harm) from its all-MiniLM-L6-v2 embedding: logistic regression on ``data/guard.tsv`` (hand-written),
    trained lazily once per process. It reads meaning where the structural rules of ``guard`` read form,
    so a synonym or paraphrase of an attack ('sidestepping the constraints placed on chatbots') is caught
    without a longer keyword list. Reuses the vectors the extractor already computed (no extra forward).

    P(hostile) is the mean of two readings of the same vectors: the logistic regression (a linear boundary)
    and a nearest-neighbour margin (the mean cosine of the ``NEIGHBOURS`` closest hostile training
    sentences minus that of the closest safe ones, squashed). Each alone let through attacks the other
    caught on the red-team tune half (the regression: rare harms such as shoplifting or fake tickets; the
    neighbours: paraphrases far from any one training sentence); the mean put 1 of 1,325 dev and
    fresh-train user clauses above 0.7 and 54 of 64 payload-bearing red-team tune clauses."""

    NEIGHBOURS = 3
    MARGIN_SCALE = 20.0

    def __init__(self, encoder: SentenceEncoder | None = None, path: Path = GUARD_FILE) -> None:
        self.encoder = encoder or shared_encoder()
        self.path = path
        self._lock = threading.Lock()
        self._weights: Any = None
        self._hostile_rows: Any = None
        self._safe_rows: Any = None
        self._rows32: Any = None

    def _train(self) -> Any:
        import numpy as np

        with self._lock:
            if self._weights is None:
                rows = load_guard_training(self.path)

                def build() -> dict[str, Any]:
                    x = self.encoder.encode([s for _, s in rows]).astype(np.float64)
                    y = np.array([GUARD_LABELS.index(label) for label, _ in rows])
                    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
                    w = fit(x, y, classes=len(GUARD_LABELS), l2=GUARD_L2, steps=GUARD_STEPS, lr=GUARD_LR)
                    return {"w": w, "hostile": unit[y == 1], "safe": unit[y == 0]}

                text = "\n".join(f"{label}\t{s}" for label, s in rows)
                settings = f"{GUARD_LABELS} l2={GUARD_L2} steps={GUARD_STEPS} lr={GUARD_LR} {FIT_CODE}"
                arrays = cached_arrays("instruction-guard", [text, settings], self.encoder, build)
                self._hostile_rows, self._safe_rows = arrays["hostile"], arrays["safe"]
                # One float32 product against every training row per call (the request path asks twice a
                # turn; float64 and two products were a few tenths of a millisecond of each inline reading).
                self._rows32 = np.vstack([self._hostile_rows, self._safe_rows]).astype(np.float32).T.copy()
                self._weights = arrays["w"]
            return self._weights

    def hostile_vectors(self, vectors: Any) -> Any:
        """P(hostile) per row of ``vectors`` (a numpy array, one row per sentence)."""
        import numpy as np

        if len(vectors) == 0:
            return np.zeros(0)
        x = np.asarray(vectors, dtype=np.float64)
        linear = softmax_scores(x, self._train())[:, 1]
        unit = (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)
        k = self.NEIGHBOURS
        cosines = unit @ self._rows32
        split = len(self._hostile_rows)
        # The mean of the k largest cosines (np.partition: no full sort of every training row).
        near_hostile = np.partition(cosines[:, :split], -k, axis=1)[:, -k:].mean(axis=1, dtype=np.float64)
        near_safe = np.partition(cosines[:, split:], -k, axis=1)[:, -k:].mean(axis=1, dtype=np.float64)
        margin = 1.0 / (1.0 + np.exp(-self.MARGIN_SCALE * (near_hostile - near_safe)))
        return (linear + margin) / 2

    def hostile(self, sentences: list[str]) -> Any:
        return self.hostile_vectors(self.encoder.encode(sentences)) if sentences else self.hostile_vectors([])


_guard: InstructionGuard | None = None


def shared_guard() -> InstructionGuard:
    global _guard
    with _shared_lock:
        if _guard is None:
            _guard = InstructionGuard()
        return _guard
