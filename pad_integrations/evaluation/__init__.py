"""Evaluation on the real default model: the eval set, judges, metrics, the dev->held-out tune, ``pad eval``.

- ``evaluation.eval_set``: dev and held-out questions, twelve preferences of different kinds.
- ``evaluation.judges``: deterministic judges that measure each preference kind in the text.
- ``evaluation.metrics``: fluency (NLL), on-topic rate (likelihood-ratio against other questions), repetition.
- ``evaluation.realeval``: generate every (question, preference) case per strategy configuration and measure it.
- ``evaluation.tune``: choose defaults on dev, report them on held-out (the GPU job; docs/evaluation.md).
- ``evaluation.report``: tables with confidence intervals and the adherence-vs-fluency plot.
- ``evaluation.cli``: ``pad eval``. ``evaluation.bench``: ``pad bench``.
"""
