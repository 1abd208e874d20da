"""Evaluation: deterministic style judges, the adherence evaluation (``pad eval``) and benchmarks.

- ``evaluation.judges``: one judge per style dimension (verbosity, formality, expertise, humor, format).
- ``evaluation.grammar``: a grammar check of the demo model's synthetic English.
- ``evaluation.adherence``: adherence and fluency per strategy and preference, table, JSON and plot.
- ``evaluation.cli``: ``pad eval``.
"""
