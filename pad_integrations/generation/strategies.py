"""Decoding strategies: each maps per-context next-token logits to scores over the vocabulary.

A strategy declares which contexts it reads on the base model (``base``, ``pref{i}``, ``joined``) and
on the reward model, and turns one step's logits for a group of rows into scores ``[n, V]`` (``-inf``
= excluded). The engine owns everything else (caches, masks, sampling, stopping), so registering a new
strategy with :func:`register_strategy` never touches the loop.

Several preferences (beyond both papers): preference i has its own context with log-probs ``x_i``;
weights are normalised to ``ŵ_i = w_i / Σ_j |w_j|`` and the preference-conditioned log-probs are
``x_main = x_base + Σ_i ŵ_i (x_i − x_base)`` (a weighted product of experts relative to the base; a
negative weight steers away from a preference). Contrast strategies then decode
``z = x_main + k·(x_main − x_base)``. With one positively weighted preference ``x_main`` is exactly
``x_pref`` and every formula is the paper's.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from pad_integrations.generation.guards import GUARDS_OFF, apply_guards, validate_guards

NEG_INF = float("-inf")


@dataclass
class StepView:
    """One decoding step of a group of ``n`` rows that share a strategy and a preference count.

    ``logits[name]``: raw last-position logits ``[n, V]`` (float32) of the base model under each
    context the strategy asked for; ``rm_logits[name]`` likewise for the PersRM; ``weights``: the
    normalised preference weights ``[n, P]``; ``candidate_rewards``: for strategies with a
    sequence-level reward model, the rewards ``[n, k]`` of the candidates their ``candidates()`` named;
    ``generated``: the ids each row has generated so far (for the repetition guards).
    """

    logits: dict[str, torch.Tensor]
    rm_logits: dict[str, torch.Tensor] = field(default_factory=dict)
    weights: torch.Tensor | None = None
    candidate_rewards: torch.Tensor | None = None
    generated: list[list[int]] | None = None
    _logp: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)

    def logp(self, name: str) -> torch.Tensor:
        """Log-probabilities under context ``name`` (``log_softmax``, never ``log(softmax)``)."""
        if name not in self._logp:
            self._logp[name] = torch.log_softmax(self.logits[name], dim=-1)
        return self._logp[name]


class Strategy(ABC):
    """Base class: one job per subclass. Subclasses set ``name`` and ``defaults`` and implement ``scores``."""

    name: ClassVar[str]
    defaults: ClassVar[dict[str, Any]] = {}
    # None | "persrm" (a causal LM read with next-token logits, run in its own KV cache)
    # | "sequence" (a sequence classifier scoring the ``candidates()`` the strategy names each step)
    reward_model_kind: ClassVar[str | None] = None

    def __init__(self, **params: Any) -> None:
        unknown = set(params) - set(self.defaults)
        if unknown:
            allowed = ", ".join(sorted(self.defaults)) or "none"
            raise ValueError(f"strategy {self.name!r} got unknown parameter(s) {sorted(unknown)}; allowed: {allowed}")
        self.params: dict[str, Any] = {**self.defaults, **params}
        self.validate()

    def validate(self) -> None:
        """Check ``self.params``; raise ValueError with a clear message."""
        return None

    def check_preferences(self, preferences: list[tuple[str, float]]) -> None:
        """Reject preference sets this strategy cannot express."""
        return None

    @abstractmethod
    def contexts(self, n_prefs: int) -> list[str]:
        """Contexts read on the base model."""

    def rm_contexts(self, n_prefs: int) -> list[str]:
        """Contexts read on the reward model."""
        return []

    def reference(self, n_prefs: int) -> str | None:
        """The context whose distribution is the unguided one (for the trace), if it is run."""
        return "base" if "base" in self.contexts(n_prefs) else None

    def main(self, n_prefs: int) -> str:
        """The context the answer is conditioned on (counted as the input tokens)."""
        return self.contexts(n_prefs)[-1]

    @abstractmethod
    def scores(self, view: StepView, n_prefs: int) -> torch.Tensor:
        """Scores ``[n, V]`` for the next token; the engine samples or takes the argmax."""

    def group_key(self, n_prefs: int) -> tuple[Any, ...]:
        return (self.name, n_prefs, tuple(sorted((k, repr(v)) for k, v in self.params.items())))

    def trace_params(self) -> dict[str, Any]:
        """What a result's trace reports as this strategy's parameters (by default, its parameters)."""
        return dict(self.params)


STRATEGIES: dict[str, type[Strategy]] = {}


def register_strategy(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: make ``cls`` available by ``cls.name`` to every ``generate`` call."""
    if not getattr(cls, "name", None):
        raise ValueError(f"{cls.__name__} needs a class attribute `name`")
    STRATEGIES[cls.name] = cls
    return cls


def make_strategy(name: str, **params: Any) -> Strategy:
    if not isinstance(name, str) or name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; available: {', '.join(sorted(STRATEGIES))}")
    return STRATEGIES[name](**params)


def pref_names(n_prefs: int) -> list[str]:
    return [f"pref{i}" for i in range(n_prefs)]


def normalised_weights(weights: list[float]) -> list[float]:
    total = sum(abs(w) for w in weights)
    return [w / total for w in weights] if total else list(weights)


def preference_logp(view: StepView, n_prefs: int) -> torch.Tensor:
    """``x_main``: the preference-conditioned log-probs (module docstring); exact for one positive weight."""
    base = view.logp("base")
    if n_prefs == 1:
        x = view.logp("pref0")
        assert view.weights is not None
        positive = view.weights[:, :1] > 0
        return x if bool(positive.all()) else torch.where(positive, x, 2 * base - x)
    assert view.weights is not None
    direction = sum(view.weights[:, i : i + 1] * (view.logp(f"pref{i}") - base) for i in range(n_prefs))
    return base + direction


class _PreferenceContrast(Strategy):
    """Shared by the strategies that read a base context and one context per preference."""

    def contexts(self, n_prefs: int) -> list[str]:
        return ["base"] if n_prefs == 0 else ["base", *pref_names(n_prefs)]

    def main(self, n_prefs: int) -> str:
        return "pref0" if n_prefs else "base"


@register_strategy
class BaseStrategy(Strategy):
    """No preference: the base model's own logits (greedy equals ``model.generate``)."""

    name = "base"

    def contexts(self, n_prefs: int) -> list[str]:
        return ["base"]

    def scores(self, view: StepView, n_prefs: int) -> torch.Tensor:
        return view.logits["base"]


@register_strategy
class PromptStrategy(_PreferenceContrast):
    """Preference prompting: score = log p(· | preference context)."""

    name = "prompt"

    def contexts(self, n_prefs: int) -> list[str]:
        # One preference needs no base context: decoding is plain decoding of the preference context.
        return ["pref0"] if n_prefs == 1 else super().contexts(n_prefs)

    def scores(self, view: StepView, n_prefs: int) -> torch.Tensor:
        if n_prefs == 0:
            return view.logits["base"]
        if n_prefs == 1 and bool((view.weights[:, 0] > 0).all()):  # type: ignore[index]
            return view.logits["pref0"]
        if n_prefs == 1:
            raise ValueError("prompt cannot steer away from a single negatively weighted preference; use linear")
        return preference_logp(view, n_prefs)

    def check_preferences(self, preferences: list[tuple[str, float]]) -> None:
        if len(preferences) == 1 and preferences[0][1] < 0:
            raise ValueError("prompt cannot steer away from a single negatively weighted preference; use linear")


@register_strategy
class LinearStrategy(_PreferenceContrast):
    """Linear alignment: (1+r)·log p_pref − r·log p_base, then the guards (generation/guards.py).

    ``nucleus`` restricts the choice to p_pref's top-p nucleus (the original code's variant);
    ``repetition_penalty`` / ``no_repeat_ngram`` act on the ids generated so far. All three off
    (``nucleus=None, repetition_penalty=1.0, no_repeat_ngram=0``) is the paper's formula exactly.
    """

    name = "linear"
    # Chosen on the dev split on SmolLM2-135M-Instruct (docs/evaluation.md); the paper's r=2 without guards
    # loops and leaves the question there. ``r=2.0`` with ``**GUARDS_OFF`` is the faithful formula.
    defaults: ClassVar[dict[str, Any]] = {"r": 1.0, **GUARDS_OFF, "nucleus": 0.9, "no_repeat_ngram": 4}

    def validate(self) -> None:
        _in_range(self.name, "r", self.params["r"])
        validate_guards(self.name, self.params)

    def scores(self, view: StepView, n_prefs: int) -> torch.Tensor:
        if n_prefs == 0:
            return view.logits["base"]
        r = float(self.params["r"])
        x_main = preference_logp(view, n_prefs)
        z = (1 + r) * x_main - r * view.logp("base")
        return apply_guards(z, self.params, anchor_logp=x_main, generated=view.generated)


def amulet_k(alpha: float, lam: float, eta: float, T: int) -> float:
    """The scalar k with which Amulet's T iterations collapse to z = x_pref + k·(x_pref − x_base).

    k_1 = 0; k_{t+1} = [(α/t)·Σ_{j≤t}(1 + k_j) + k_t/(η t)] / (λ + 1/(η t)); returns k_{T+1}
    (Zhang et al., "Amulet", ICLR 2025, the per-token closed form; 4.649 for the defaults 2, 2, 10, 60).
    """
    k, running = 0.0, 0.0
    for t in range(1, T + 1):
        running += 1 + k
        k = ((alpha / t) * running + k / (eta * t)) / (lam + 1 / (eta * t))
    return k


def amulet_iterations(x1: torch.Tensor, base: torch.Tensor, alpha: float, lam: float, eta: float, T: int) -> torch.Tensor:
    """Amulet's per-token online learning, iteration by iteration, as in the official ``amulet_game``.

    Utility u_t = α(log π_t − log π_base); y_{t+1} = [λ log π_1 + (1/t)Σu + (1/(ηt)) log π_t] / (λ + 1/(ηt));
    log π_{t+1} = y_{t+1} − logsumexp(y_{t+1}); the last y is returned unnormalised. Works on last-position
    ``[n, V]`` log-probs with a running utility sum (the official code re-sums a ``[B, T+1, L, V]`` buffer).
    """
    log_pi = x1
    utility_sum = torch.zeros_like(x1)
    y = x1
    for t in range(1, T + 1):
        utility_sum = utility_sum + alpha * (log_pi - base)
        prox = 1.0 / (eta * t)
        y = (lam * x1 + utility_sum / t + prox * log_pi) / (lam + prox)
        log_pi = y - torch.logsumexp(y, dim=-1, keepdim=True)
    return y


@register_strategy
class AmuletStrategy(_PreferenceContrast):
    """Amulet: T closed-form online-learning iterations per token; ``exact=False`` uses the collapsed form."""

    name = "amulet"
    # alpha=1 (k=0.93) and the guards were chosen on the dev split on SmolLM2-135M-Instruct (docs/evaluation.md);
    # the official alpha=2 (k=4.65) without guards leaves the question there. ``alpha=2.0, **GUARDS_OFF`` is
    # the released code's setting.
    defaults: ClassVar[dict[str, Any]] = {
        "alpha": 1.0, "lam": 2.0, "eta": 10.0, "T": 60, "exact": False, **GUARDS_OFF,
        "nucleus": 0.9, "no_repeat_ngram": 4,
    }

    def validate(self) -> None:
        p = self.params
        for key in ("alpha", "lam", "eta"):
            _in_range(self.name, key, p[key])
        if not isinstance(p["exact"], bool):
            raise ValueError(f"amulet: exact must be true or false, got {p['exact']!r}")
        if p["exact"] and isinstance(p["T"], int) and p["T"] > MAX_EXACT_AMULET_T:
            raise ValueError(f"amulet: exact=true allows T up to {MAX_EXACT_AMULET_T} (T iterations per token), "
                             f"got {p['T']}; exact=false gives the same result in closed form")
        _in_range(self.name, "T", p["T"], integer=True)  # bounds amulet_k's loop too
        validate_guards(self.name, p)
        self.k = amulet_k(float(p["alpha"]), float(p["lam"]), float(p["eta"]), int(p["T"]))
        if not (math.isfinite(self.k) and abs(self.k) <= MAX_AMULET_K):
            raise ValueError(f"amulet: these parameters give the coefficient k={self.k:g}, beyond +-{MAX_AMULET_K:g}")

    def trace_params(self) -> dict[str, Any]:
        return {**self.params, "k": self.k}  # the collapsed coefficient the parameters amount to

    def scores(self, view: StepView, n_prefs: int) -> torch.Tensor:
        if n_prefs == 0:
            return view.logits["base"]
        x_main, base = preference_logp(view, n_prefs), view.logp("base")
        p = self.params
        if p["exact"]:
            z = amulet_iterations(x_main, base, float(p["alpha"]), float(p["lam"]), float(p["eta"]), int(p["T"]))
        else:
            z = x_main + self.k * (x_main - base)
        return apply_guards(z, p, anchor_logp=x_main, generated=view.generated)


class _TopKRerank(Strategy):
    """Shared by PAD and ARGS: rescore the base model's top-k candidates, exclude the rest.

    With several preferences both read one ``joined`` context holding all preference texts (strongest
    first), the way the official PAD code joins principles ("harmless and humor"); weights order them.
    """

    defaults: ClassVar[dict[str, Any]] = {
        "w": 1.0, "k": 10, "base_reads_preference": True, "repetition_penalty": 1.0, "no_repeat_ngram": 0,
    }

    def validate(self) -> None:
        validate_guards(self.name, self.params)
        _in_range(self.name, "w", self.params["w"])
        _in_range(self.name, "k", self.params["k"], integer=True)

    def check_preferences(self, preferences: list[tuple[str, float]]) -> None:
        if any(w < 0 for _, w in preferences):
            raise ValueError(f"{self.name} cannot steer away from a preference (negative weight); use linear or amulet")

    def contexts(self, n_prefs: int) -> list[str]:
        return ["joined"] if n_prefs and self.params["base_reads_preference"] else ["base"]

    def rm_contexts(self, n_prefs: int) -> list[str]:
        return ["joined"] if n_prefs else []

    def reference(self, n_prefs: int) -> str | None:
        return self.contexts(n_prefs)[0]

    def candidates(self, view: StepView, n_prefs: int) -> tuple[torch.Tensor, torch.Tensor]:
        logits = view.logits[self.contexts(n_prefs)[0]]
        k = min(int(self.params["k"]), logits.shape[-1])
        top, idx = logits.topk(k, dim=-1)
        return top, idx

    def scatter(self, like: torch.Tensor, idx: torch.Tensor, values: torch.Tensor, view: StepView) -> torch.Tensor:
        """The candidates' scores over the vocabulary, the rest -inf, then the repetition guards (if on)."""
        scores = torch.full_like(like, NEG_INF).scatter(-1, idx, values)
        return apply_guards(scores, self.params, anchor_logp=None, generated=view.generated)


@register_strategy
class PADStrategy(_TopKRerank):
    """PAD: over the base top-k, score = l + w·(log_softmax(m_topk) − log_softmax(l_topk)), m = PersRM logits."""

    name = "pad"
    reward_model_kind = "persrm"

    def scores(self, view: StepView, n_prefs: int) -> torch.Tensor:
        logits = view.logits[self.contexts(n_prefs)[0]]
        if n_prefs == 0:
            return logits
        top, idx = self.candidates(view, n_prefs)
        w = float(self.params["w"])
        if w == 0:  # the official shortcut: base greedy over the top-k, the PersRM is irrelevant
            return self.scatter(logits, idx, top, view)
        m = view.rm_logits["joined"].gather(-1, idx)
        reward = torch.log_softmax(m, dim=-1) - torch.log_softmax(top, dim=-1)
        return self.scatter(logits, idx, top + w * reward, view)


@register_strategy
class ARGSStrategy(_TopKRerank):
    """ARGS: over the base top-k, score = l + w·r(context + candidate) with a sequence-level reward model."""

    name = "args"
    reward_model_kind = "sequence"

    def rm_contexts(self, n_prefs: int) -> list[str]:
        # The reward model judges the text the answer is conditioned on (preference included, if any).
        return self.contexts(n_prefs)

    def scores(self, view: StepView, n_prefs: int) -> torch.Tensor:
        logits = view.logits[self.contexts(n_prefs)[0]]
        top, idx = self.candidates(view, n_prefs)
        w = float(self.params["w"])
        if w == 0:
            return self.scatter(logits, idx, top, view)
        if view.candidate_rewards is None:
            raise ValueError("args: the engine supplied no candidate rewards")
        return self.scatter(logits, idx, top + w * view.candidate_rewards, view)


def _finite_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


# Documented ranges of the strategy parameters (docs/product.md): a request outside them is refused by
# validate(), before any work, so no parameter can make a step cost more or overflow to NaN.
RANGES: dict[str, tuple[float, float]] = {
    "r": (-100.0, 100.0),  # linear
    "alpha": (-100.0, 100.0),  # amulet
    "lam": (1e-3, 1e3),
    "eta": (1e-3, 1e3),
    "T": (1, 1000),
    "w": (-100.0, 100.0),  # pad, args
    "k": (1, 100),
}
MAX_EXACT_AMULET_T = 100  # exact=True runs T [n, V] iterations per token on the shared decode thread
MAX_AMULET_K = 1e4  # the collapsed coefficient; larger ones only push logits to +-inf


def _in_range(strategy: str, key: str, value: Any, *, integer: bool = False) -> None:
    low, high = RANGES[key]
    kind = "an int" if integer else "a number"
    ok = (isinstance(value, int) and not isinstance(value, bool)) if integer else _finite_number(value)
    if not ok or not low <= value <= high:
        raise ValueError(f"{strategy}: {key} must be {kind} in [{low:g}, {high:g}], got {value!r}")
