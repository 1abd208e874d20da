"""PersRM training (PAD stages 1 and 2) and the recipe that builds the bundled demo model.

- ``training.data``: the preference-pair JSONL format, its validation, encoding with the chat template.
- ``training.persrm``: ``train_persrm`` (DPO with preference-conditioned inputs, then the d×d head).
- ``training.loop``: seeded optimisation with progress bars, checkpoints and exact resume.
- ``training.demo_recipe``: ``python -m pad_integrations.training.demo_recipe`` rebuilds the demo model.
- ``training.cli``: ``pad train-persrm``.

Nothing is imported here, so ``import pad_integrations.training`` stays light; see docs/training.md.
"""
