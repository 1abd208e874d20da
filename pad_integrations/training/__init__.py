"""PersRM training (PAD stages 1 and 2) and the recipe that builds the bundled PersRM.

- ``training.data``: the preference-pair JSONL format, its validation, encoding with the chat template.
- ``training.persrm``: ``train_persrm`` (DPO with preference-conditioned inputs, then the d×d head).
- ``training.loop``: seeded optimisation with progress bars, checkpoints and exact resume.
- ``training.real_recipe``: ``python -m pad_integrations.training.real_recipe --out DIR`` builds the bundled
  PersRM (a LoRA adapter + head over SmolLM2-135M-Instruct) from the model's own judged answers.
- ``training.real_prompts``: its training questions and preference wordings (disjoint from the eval set).
- ``training.cli``: ``pad train-persrm``.

Nothing is imported here, so ``import pad_integrations.training`` stays light; see docs/training.md.
"""
