"""Evaluation of preference extraction on conversations with gold preferences (negatives included)."""

from memory.eval.evaluate import EvalReport, Score, evaluate, load_conversations

__all__ = ["EvalReport", "Score", "evaluate", "load_conversations"]
