"""Helpers for tests, examples and benchmarks, not for runtime: tiny locally built models
(:mod:`.tiny_models`). No user-facing path defaults to anything here."""
