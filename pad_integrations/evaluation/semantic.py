"""A second, model-independent on-topic reading: all-MiniLM-L6-v2 similarity, as CPU post-processing.

An answer is on topic when it is at least 3 words long and its sentence embedding is closer (cosine) to
its own question than to each of the same 3 other questions the likelihood test uses
(``metrics.distractors``). MiniLM never sees the preference. It runs after generation, on the answers a
tune or eval run wrote (the GPU job has no MiniLM):

``python -m pad_integrations.evaluation.semantic heldout_answers.json --split heldout``
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pad_integrations.evaluation.eval_set import SPLITS
from pad_integrations.evaluation.metrics import bootstrap_ci, distractors
from pad_integrations.evaluation.realeval import MIN_ON_TOPIC_WORDS, ON_TOPIC_DISTRACTORS


def minilm_on_topic(answers: Sequence[dict[str, Any]], split: str, encoder: Any = None) -> list[bool]:
    """Per answer (dicts with ``question`` and ``text``): the MiniLM on-topic verdict."""
    import numpy as np

    if encoder is None:
        from memory.embedding import shared_encoder

        encoder = shared_encoder()
    questions = [q.text for q in SPLITS[split]]
    index = {q: i for i, q in enumerate(questions)}
    qvec = encoder.encode(questions)
    texts = list(dict.fromkeys(a["text"] for a in answers))
    avec = {}
    for start in range(0, len(texts), 256):
        chunk = texts[start : start + 256]
        for t, v in zip(chunk, encoder.encode(chunk), strict=True):
            avec[t] = v
    out = []
    for a in answers:
        qi = index[a["question"]]
        v = avec[a["text"]]
        own = float(np.dot(v, qvec[qi]))
        others = [float(np.dot(v, qvec[j])) for j in distractors(len(questions), qi, ON_TOPIC_DISTRACTORS)]
        out.append(len(a["text"].split()) >= MIN_ON_TOPIC_WORDS and all(own > o for o in others))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("answers", type=Path, help="an *_answers.json file written by tune or pad eval")
    parser.add_argument("--split", choices=sorted(SPLITS), default="heldout")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    answers = json.loads(args.answers.read_text())
    verdicts = minilm_on_topic(answers, args.split)
    result: dict[str, Any] = {}
    for config in dict.fromkeys(a["config"] for a in answers):
        rows = [(a, v) for a, v in zip(answers, verdicts, strict=True) if a["config"] == config]
        result[config] = {
            "minilm_on_topic": bootstrap_ci([float(v) for _, v in rows], [a["question"] for a, _ in rows]),
            "likelihood_on_topic": sum(a["on_topic"] for a, _ in rows) / len(rows),
            "agreement": sum(a["on_topic"] == v for a, v in rows) / len(rows),
            "n": len(rows),
        }
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        for config, r in result.items():
            m, lo, hi = r["minilm_on_topic"]
            print(f"{config:34s} MiniLM on-topic {100 * m:5.1f} % [{100 * lo:5.1f}, {100 * hi:5.1f}]  "
                  f"likelihood test {100 * r['likelihood_on_topic']:5.1f} %  agreement {100 * r['agreement']:5.1f} %"
                  f"  n={r['n']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
