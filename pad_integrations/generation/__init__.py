"""Framework-agnostic guided decoding (torch + transformers only): see docs/engine.md."""

from pad_integrations.generation.constraints import (
    Constraint,
    JSONSchemaConstraint,
    LarkConstraint,
    ToolCallConstraint,
    ToolCallTriggerConstraint,
)
from pad_integrations.generation.engine import GenerationStream, GuidedGenerator
from pad_integrations.generation.reward_model import PersonalizedRewardModel
from pad_integrations.generation.strategies import (
    STRATEGIES,
    StepView,
    Strategy,
    amulet_k,
    make_strategy,
    register_strategy,
)
from pad_integrations.generation.types import (
    GenerationRequest,
    GenerationResult,
    SamplingSettings,
    TokenTrace,
    Trace,
    Usage,
)

__all__ = [
    "STRATEGIES",
    "Constraint",
    "GenerationRequest",
    "GenerationResult",
    "GenerationStream",
    "GuidedGenerator",
    "JSONSchemaConstraint",
    "LarkConstraint",
    "PersonalizedRewardModel",
    "SamplingSettings",
    "StepView",
    "Strategy",
    "TokenTrace",
    "ToolCallConstraint",
    "ToolCallTriggerConstraint",
    "Trace",
    "Usage",
    "amulet_k",
    "make_strategy",
    "register_strategy",
]
