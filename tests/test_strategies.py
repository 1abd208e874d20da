"""The strategies' math and the cached batched loop's token-for-token equivalence with references."""

from __future__ import annotations

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from transformers import AutoModelForCausalLM, AutoTokenizer

from pad_integrations import GenerationRequest, GuidedGenerator
from pad_integrations.generation import PersonalizedRewardModel, StepView, amulet_k, make_strategy
from pad_integrations.generation.reference import reference_generate
from pad_integrations.generation.strategies import amulet_iterations

MESSAGES = [{"role": "user", "content": "Explain the weather briefly, please."}]
# The papers' own settings with every guard off (the shipped defaults add guards chosen on the real model).
FAITHFUL = {
    "linear": {"r": 2.0, "nucleus": None, "repetition_penalty": 1.0, "no_repeat_ngram": 0},
    "amulet": {"alpha": 2.0, "nucleus": None, "repetition_penalty": 1.0, "no_repeat_ngram": 0},
    "pad": {"repetition_penalty": 1.0, "no_repeat_ngram": 0},
}


def faithful(name: str, **params):
    """``make_strategy`` at the paper's settings, guards off, overridden by ``params``."""
    return make_strategy(name, **{**FAITHFUL.get(name, {}), **params})

PREF = "Keep answers short and to the point."


@pytest.fixture(scope="module")
def gen(tiny_model_dir) -> GuidedGenerator:
    return GuidedGenerator.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="module")
def persrm(tiny_reward_model_dir) -> PersonalizedRewardModel:
    rm = PersonalizedRewardModel.from_pretrained(tiny_reward_model_dir, value_head=True)
    torch.manual_seed(3)
    with torch.no_grad():  # a trained-looking, non-identity head
        rm.v_head.summary.weight.add_(0.3 * torch.randn_like(rm.v_head.summary.weight))
    return rm


@pytest.fixture(scope="module")
def pad_gen(tiny_model_dir, persrm) -> GuidedGenerator:
    return GuidedGenerator.from_pretrained(tiny_model_dir, reward_model=persrm)


def random_view(n_prefs: int, weights: list[float], seed: int = 0, vocab: int = 50) -> StepView:
    g = torch.Generator().manual_seed(seed)
    logits = {"base": 4 * torch.randn(2, vocab, generator=g)}
    for i in range(n_prefs):
        logits[f"pref{i}"] = 4 * torch.randn(2, vocab, generator=g)
    total = sum(abs(w) for w in weights) or 1.0
    w = torch.tensor([[x / total for x in weights]] * 2) if weights else torch.ones(2, 1)
    return StepView(logits=logits, weights=w)


# -- math ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("alpha", "lam", "eta", "T", "expected"),
    [
        (2, 2, 10, 1, 0.952),
        (2, 2, 10, 10, 2.898),
        (2, 2, 10, 60, 4.649),
        (2, 2, 10, 100, 5.156),
        (1, 2, 10, 60, 0.926),
        (4, 2, 10, 60, 117.1),
        (2, 2, 1, 60, 4.436),
        (2, 2, 100, 60, 4.677),
    ],
)
def test_amulet_k_matches_the_digest_table(alpha, lam, eta, T, expected):
    assert amulet_k(alpha, lam, eta, T) == pytest.approx(expected, abs=0.001 if expected < 100 else 0.1)


@pytest.mark.parametrize("params", [{}, {"alpha": 1.0}, {"alpha": 3.0, "T": 20}, {"eta": 1.0, "T": 5}])
def test_amulet_iterations_collapse_to_the_closed_form(params):
    p = {"alpha": 2.0, "lam": 2.0, "eta": 10.0, "T": 60, **params}
    g = torch.Generator().manual_seed(1)
    x1 = torch.log_softmax(4 * torch.randn(3, 200, generator=g), -1)
    base = torch.log_softmax(4 * torch.randn(3, 200, generator=g), -1)
    looped = amulet_iterations(x1, base, p["alpha"], p["lam"], p["eta"], p["T"])
    collapsed = x1 + amulet_k(p["alpha"], p["lam"], p["eta"], p["T"]) * (x1 - base)
    # Equal up to a per-row constant (the normalisers), so equal as distributions and in argmax.
    assert torch.allclose(torch.log_softmax(looped, -1), torch.log_softmax(collapsed, -1), atol=1e-3)
    assert torch.equal(looped.argmax(-1), collapsed.argmax(-1))


@pytest.mark.parametrize("seed", range(5))
def test_linear_r0_and_amulet_alpha0_equal_prompting(seed):
    view = random_view(1, [1.0], seed)
    prompt = make_strategy("prompt").scores(view, 1)
    for strategy in (faithful("linear", r=0.0), faithful("amulet", alpha=0.0),
                     faithful("amulet", alpha=0.0, exact=True)):
        scores = strategy.scores(view, 1)
        assert torch.allclose(torch.log_softmax(scores, -1), torch.log_softmax(prompt, -1), atol=1e-5)


@pytest.mark.parametrize("seed", range(3))
def test_linear_is_the_paper_formula(seed):
    view = random_view(1, [1.0], seed)
    r = 2.0
    expected = (1 + r) * torch.log_softmax(view.logits["pref0"], -1) - r * torch.log_softmax(view.logits["base"], -1)
    assert torch.equal(faithful("linear").scores(view, 1), expected)


def test_linear_nucleus_restricts_to_the_preference_nucleus():
    view = random_view(1, [1.0], 0)
    scores = faithful("linear", nucleus=0.5).scores(view, 1)
    p_pref = torch.softmax(view.logits["pref0"], -1)
    allowed = ~torch.isneginf(scores)
    for row in range(2):
        kept = p_pref[row][allowed[row]].sum()
        assert kept >= 0.5
        # the nucleus is the smallest top set: without its least likely member it is below 0.5
        assert kept - p_pref[row][allowed[row]].min() < 0.5


@pytest.mark.parametrize("weight", [1.0, 0.3, 7.0])
def test_one_preference_reduces_exactly_to_the_single_formula(weight):
    single = random_view(1, [1.0], 4)
    weighted = random_view(1, [weight], 4)
    for name in ("prompt", "linear", "amulet"):
        s = faithful(name)
        assert torch.equal(s.scores(single, 1), s.scores(weighted, 1))


def test_several_preferences_combine_by_normalised_weight():
    view = random_view(2, [3.0, 1.0], 5)
    base = torch.log_softmax(view.logits["base"], -1)
    x = [torch.log_softmax(view.logits[f"pref{i}"], -1) for i in range(2)]
    x_main = base + 0.75 * (x[0] - base) + 0.25 * (x[1] - base)
    k = amulet_k(2, 2, 10, 60)
    assert torch.allclose(faithful("amulet").scores(view, 2), x_main + k * (x_main - base), atol=1e-5)
    assert torch.allclose(faithful("linear").scores(view, 2), 3 * x_main - 2 * base, atol=1e-5)
    assert torch.allclose(make_strategy("prompt").scores(view, 2), x_main, atol=1e-5)


def test_negative_weight_steers_away():
    view = random_view(1, [-1.0], 6)
    base = torch.log_softmax(view.logits["base"], -1)
    x = torch.log_softmax(view.logits["pref0"], -1)
    assert torch.allclose(faithful("linear", r=0.0).scores(view, 1), base - (x - base), atol=1e-5)


def test_pad_scores_are_the_official_formula_over_the_base_top_k():
    g = torch.Generator().manual_seed(2)
    base_logits, m = 3 * torch.randn(2, 40, generator=g), 3 * torch.randn(2, 40, generator=g)
    view = StepView(logits={"joined": base_logits}, rm_logits={"joined": m}, weights=torch.ones(2, 1))
    scores = faithful("pad", w=0.8, k=5).scores(view, 1)
    top, idx = base_logits.topk(5, -1)
    expected = top + 0.8 * (torch.log_softmax(m.gather(-1, idx), -1) - torch.log_softmax(top, -1))
    assert torch.allclose(scores.gather(-1, idx), expected)
    assert int((~torch.isneginf(scores)).sum()) == 10
    # The normalisers cancel across candidates: the argmax is that of (1 - w)·l + w·m over the top-k.
    mix = (0.2 * top + 0.8 * m.gather(-1, idx)).argmax(-1)
    assert torch.equal(scores.argmax(-1), idx.gather(-1, mix[:, None])[:, 0])


def test_unknown_strategy_and_bad_parameters_are_clear_errors():
    with pytest.raises(ValueError, match="unknown strategy 'nope'"):
        make_strategy("nope")
    with pytest.raises(ValueError, match="unknown parameter"):
        faithful("linear", ratio=3)
    with pytest.raises(ValueError, match=r"T must be an int in \[1, 1000\]"):
        faithful("amulet", T=0)
    with pytest.raises(ValueError, match="nucleus"):
        faithful("linear", nucleus=1.5)
    with pytest.raises(ValueError, match="k must be"):
        faithful("pad", k=0)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("amulet", {"T": 20_000_000}, "T must be"),  # was a 20M-step loop in validate()
        ("amulet", {"T": 500, "exact": True}, "exact=true allows T up to 100"),
        ("amulet", {"exact": "yes"}, "exact must be"),
        ("amulet", {"lam": 1e-300}, "lam must be"),
        ("amulet", {"alpha": 1e308}, "alpha must be"),
        ("linear", {"r": 1e308}, "r must be"),  # used to overflow to NaN scores mid-decode
        ("pad", {"k": 10**9}, "k must be"),
        ("args", {"w": -1e9}, "w must be"),
    ],
)
def test_every_parameter_has_a_range_checked_before_any_work(name, params, message):
    with pytest.raises(ValueError, match=message):
        make_strategy(name, **params)


def test_amulet_refuses_parameters_whose_constant_explodes():
    # Each inside its range, together they make k overflow: refused, not a NaN decode.
    with pytest.raises(ValueError, match="coefficient k="):
        faithful("amulet", alpha=100.0, lam=1e-3, eta=1e3, T=1000)
    assert faithful("amulet").k == pytest.approx(4.649, abs=1e-3)


# -- the loop against references -------------------------------------------------------------------
def _hf_greedy(model, ids: list[int], n: int, eos: frozenset[int]) -> list[int]:
    out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                         max_new_tokens=n, do_sample=False)[0, len(ids):].tolist()
    return [t for t in out if t not in eos]


@pytest.mark.parametrize("fixture", ["tiny_model_dir", "tiny_llama_dir"])
def test_base_equals_model_generate(request, fixture):
    path = request.getfixturevalue(fixture)
    g = GuidedGenerator(AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path))
    for messages in (MESSAGES, [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi there!"}]):
        res = g.generate(messages, strategy="base", max_new_tokens=40)
        ids = g.formatter.encode(messages)
        assert res.token_ids == _hf_greedy(g.model, ids, 40, g.eos_token_ids)
        assert res.usage.input_tokens == len(ids) == g.count_tokens(messages)


CASES = [
    ("prompt", {}, PREF),
    ("linear", {}, PREF),
    ("linear", {"r": 5.0, "nucleus": 0.8}, PREF),
    ("amulet", {}, PREF),
    ("amulet", {"exact": True}, PREF),
    ("amulet", {}, [("Keep answers short.", 2.0), ("Use a formal tone.", 1.0)]),
    ("linear", {}, [("Keep answers short.", 1.0), ("Be playful.", -0.5)]),
    ("prompt", {}, [("Keep answers short.", 1.0), ("Be playful.", 1.0)]),
    ("linear", {"r": 2.0, "nucleus": 0.9, "repetition_penalty": 1.3, "no_repeat_ngram": 3}, PREF),
    ("amulet", {"nucleus": 0.9, "no_repeat_ngram": 2}, PREF),
]


def _reference(g: GuidedGenerator, strategy_name, params, preference, n, rm=None):
    from pad_integrations.generation.contexts import build_contexts, normalize_messages, normalize_preference

    strategy = make_strategy(strategy_name, **params)
    prefs = normalize_preference(preference)
    names = list(dict.fromkeys([*strategy.contexts(len(prefs)), *strategy.rm_contexts(len(prefs))]))
    contexts = build_contexts(g.formatter, normalize_messages(MESSAGES), prefs, names)
    return reference_generate(g.model, contexts, strategy, weights=[w for _, w in prefs], max_new_tokens=n,
                              eos_token_ids=g.eos_token_ids, reward_model=rm)


@pytest.mark.parametrize(("strategy", "params", "preference"), CASES)
def test_cached_loop_equals_the_naive_reference(gen, strategy, params, preference):
    res = gen.generate(MESSAGES, preference=preference, strategy=strategy, max_new_tokens=30, **params)
    assert res.token_ids == _reference(gen, strategy, params, preference, 30)


@pytest.mark.parametrize("params", [{}, {"w": 2.5, "k": 4}, {"base_reads_preference": False},
                                    {"no_repeat_ngram": 2, "repetition_penalty": 1.5}])
def test_pad_cached_loop_equals_the_naive_reference(pad_gen, persrm, params):
    res = pad_gen.generate(MESSAGES, preference=PREF, strategy="pad", max_new_tokens=30, **params)
    assert res.token_ids == _reference(pad_gen, "pad", params, PREF, 30, rm=persrm)
    assert any(t.base_rank for t in res.trace.tokens), "the PersRM should move some choices"


@pytest.mark.slow
def test_amulet_exact_and_collapsed_choose_the_same_tokens_over_a_long_generation(gen):
    collapsed = gen.generate(MESSAGES, preference=PREF, strategy="amulet", max_new_tokens=120, **FAITHFUL["amulet"])
    exact = gen.generate(MESSAGES, preference=PREF, strategy="amulet", max_new_tokens=120, exact=True,
                         **FAITHFUL["amulet"])
    assert len(collapsed.token_ids) >= 60
    assert exact.token_ids == collapsed.token_ids
    assert collapsed.trace.params["k"] == pytest.approx(4.649, abs=1e-3)


def test_property_zero_strength_equals_prompting_and_base(gen, pad_gen):
    prompt = gen.generate(MESSAGES, preference=PREF, strategy="prompt", max_new_tokens=25).token_ids
    off = {"nucleus": None, "repetition_penalty": 1.0, "no_repeat_ngram": 0}
    assert gen.generate(MESSAGES, preference=PREF, strategy="linear", r=0.0, max_new_tokens=25, **off).token_ids == prompt
    assert gen.generate(MESSAGES, preference=PREF, strategy="amulet", alpha=0.0, max_new_tokens=25,
                        **off).token_ids == prompt
    base = gen.generate(MESSAGES, strategy="base", max_new_tokens=25).token_ids
    pad0 = pad_gen.generate(MESSAGES, preference=PREF, strategy="pad", w=0.0, base_reads_preference=False,
                            max_new_tokens=25, **FAITHFUL["pad"])
    assert pad0.token_ids == base
    # As in the official code the base model reads the preference context by default: w = 0 is then prompting.
    assert pad_gen.generate(MESSAGES, preference=PREF, strategy="pad", w=0.0, max_new_tokens=25).token_ids == prompt


def test_batched_mixed_requests_equal_one_at_a_time(pad_gen):
    requests = [
        GenerationRequest(MESSAGES, PREF, "amulet", max_new_tokens=20),
        GenerationRequest([{"role": "user", "content": "Hi"}], None, "base", max_new_tokens=12),
        GenerationRequest([{"role": "system", "content": "You answer questions about food and cooking."},
                           {"role": "user", "content": "What should I cook tonight for my friend?"}],
                          [("Keep answers short.", 1.0), ("Use a formal tone.", 0.5)], "linear", max_new_tokens=25),
        GenerationRequest(MESSAGES, PREF, "pad", max_new_tokens=18),
        GenerationRequest(MESSAGES, "Be playful.", "prompt", max_new_tokens=5),
    ]
    batched = pad_gen.generate_batch(requests)
    for request, result in zip(requests, batched, strict=True):
        single = pad_gen.generate(request.messages, request.preference, request.strategy,
                                  max_new_tokens=request.sampling.max_new_tokens)
        assert result.token_ids == single.token_ids
        assert result.text == single.text
        assert result.usage == single.usage


def test_left_padding_changes_nothing_while_official_unmasked_batching_does(gen):
    short = gen.formatter.encode([{"role": "user", "content": "Hi"}])
    long = gen.formatter.encode(MESSAGES)
    alone = gen.generate_ids({"base": short}, strategy="base", max_new_tokens=15).token_ids
    together = gen.generate_batch([
        GenerationRequest([{"role": "user", "content": "Hi"}], None, "base", max_new_tokens=15),
        GenerationRequest(MESSAGES, None, "base", max_new_tokens=15),
    ])[0].token_ids
    assert together == alone
    # The official Amulet code batches left-padded prompts without an attention mask or position ids.
    pad = gen.pad_token_id
    batch = torch.tensor([[pad] * (len(long) - len(short)) + short, long])
    unmasked: list[int] = []
    with torch.no_grad():
        for _ in range(15):
            nxt = gen.model(input_ids=batch).logits[:, -1].argmax(-1)
            unmasked.append(int(nxt[0]))
            batch = torch.cat([batch, nxt[:, None]], dim=-1)
    assert unmasked[: len(alone)] != alone


# -- ARGS: any off-the-shelf sequence-level reward model ------------------------------------------
@pytest.fixture(scope="module")
def sequence_rm(tiny_reward_model_dir):
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(0)  # the score head is freshly initialised
    return AutoModelForSequenceClassification.from_pretrained(tiny_reward_model_dir, num_labels=1).eval()


@pytest.fixture(scope="module")
def args_gen(tiny_model_dir, sequence_rm) -> GuidedGenerator:
    return GuidedGenerator.from_pretrained(tiny_model_dir, reward_model=sequence_rm)


def test_cached_candidate_scoring_equals_full_passes(args_gen, sequence_rm):
    from pad_integrations.generation.sequence_reward import SequenceRewardScorer

    scorer = SequenceRewardScorer(sequence_rm, pad_token_id=args_gen.pad_token_id)
    prefixes = [[5, 6, 7, 8, 9, 10], [11, 12, 13]]  # different lengths: left padding
    scorer.prefill(prefixes)
    first = torch.tensor([[20, 21, 0], [30, 31, 32]])  # 0 is the pad id: still scored as a real token
    got = scorer.score(first)
    want = [[scorer.full_reward([*p, c]) for c in cs] for p, cs in zip(prefixes, first.tolist(), strict=True)]
    assert torch.allclose(got, torch.tensor(want), atol=1e-5)
    scorer.step(torch.tensor([21, 32]))
    scorer.select(torch.tensor([1]))  # the first row finished
    got = scorer.score(torch.tensor([[40, 41]]))
    assert torch.allclose(got, torch.tensor([[scorer.full_reward([11, 12, 13, 32, c]) for c in (40, 41)]]), atol=1e-5)


@pytest.mark.parametrize(("preference", "params"), [(PREF, {"w": 5.0}), (None, {"w": 3.0, "k": 4})])
def test_args_cached_loop_equals_the_naive_reference(args_gen, sequence_rm, preference, params):
    from pad_integrations.generation.contexts import build_contexts, normalize_messages, normalize_preference

    res = args_gen.generate(MESSAGES, preference=preference, strategy="args", max_new_tokens=25, **params)
    strategy = make_strategy("args", **params)
    prefs = normalize_preference(preference)
    contexts = build_contexts(args_gen.formatter, normalize_messages(MESSAGES), prefs, strategy.contexts(len(prefs)))
    ref = reference_generate(args_gen.model, contexts, strategy, weights=[w for _, w in prefs], max_new_tokens=25,
                             eos_token_ids=args_gen.eos_token_ids, sequence_reward_model=sequence_rm)
    assert res.token_ids == ref
    assert res.trace.moved_tokens > 0


def test_args_in_a_mixed_batch_equals_one_at_a_time(args_gen):
    requests = [
        GenerationRequest(MESSAGES, PREF, "args", max_new_tokens=15, strategy_params={"w": 5.0}),
        GenerationRequest([{"role": "user", "content": "Hi"}], None, "args", max_new_tokens=9,
                          strategy_params={"w": 3.0, "k": 4}),
        GenerationRequest(MESSAGES, PREF, "amulet", max_new_tokens=12),
    ]
    for request, result in zip(requests, args_gen.generate_batch(requests), strict=True):
        single = args_gen.generate(request.messages, request.preference, request.strategy,
                                   max_new_tokens=request.sampling.max_new_tokens, **request.strategy_params)
        assert result.token_ids == single.token_ids


def test_args_w0_is_base_greedy_and_needs_a_sequence_rm(args_gen, gen):
    base = gen.generate(MESSAGES, strategy="base", max_new_tokens=15).token_ids
    assert args_gen.generate(MESSAGES, strategy="args", w=0.0, max_new_tokens=15).token_ids == base
    from pad_integrations.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="sequence-classification"):
        gen.generate(MESSAGES, strategy="args", max_new_tokens=3)


def test_sequence_rm_loads_from_a_path_and_a_foreign_vocabulary_is_rejected(
    tmp_path, tiny_model_dir, tiny_llama_dir, sequence_rm
):
    from transformers import AutoModelForSequenceClassification

    from pad_integrations.errors import TokenizerMismatchError

    sequence_rm.save_pretrained(tmp_path / "rm")
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(tmp_path / "rm")
    g = GuidedGenerator.from_pretrained(tiny_model_dir, reward_model=tmp_path / "rm")
    assert g.sequence_rm is not None and g.persrm is None
    assert g.generate(MESSAGES, strategy="args", max_new_tokens=4).trace.strategy == "args"
    foreign = AutoModelForSequenceClassification.from_pretrained(tiny_llama_dir, num_labels=1)
    foreign.save_pretrained(tmp_path / "foreign")
    AutoTokenizer.from_pretrained(tiny_llama_dir).save_pretrained(tmp_path / "foreign")
    with pytest.raises(TokenizerMismatchError):
        GuidedGenerator.from_pretrained(tiny_model_dir, reward_model=tmp_path / "foreign")


def test_a_new_strategy_registers_without_touching_the_loop(gen):
    from typing import ClassVar

    from pad_integrations.generation import STRATEGIES, Strategy, register_strategy

    @register_strategy
    class Contrastive(Strategy):
        name = "test-contrastive"
        defaults: ClassVar[dict] = {"alpha": 0.5}

        def contexts(self, n_prefs):
            return ["base", "pref0"]

        def scores(self, view, n_prefs):
            return view.logp("pref0") - self.params["alpha"] * view.logp("base")

    try:
        res = gen.generate(MESSAGES, preference=PREF, strategy="test-contrastive", alpha=0.7, max_new_tokens=12)
        assert res.token_ids == _reference(gen, "test-contrastive", {"alpha": 0.7}, PREF, 12)
        assert res.trace.params == {"alpha": 0.7}
    finally:
        del STRATEGIES["test-contrastive"]


def test_log_softmax_keeps_amulet_finite_where_the_official_log_of_softmax_breaks():
    # A logit gap above ~104 underflows softmax in float32: log(softmax) is -inf, and the iteration's
    # differences of -inf turn into NaN. log_softmax stays finite (the official code uses log(softmax)).
    logits_pref = torch.tensor([[30.0, -90.0, 0.0]])
    logits_base = torch.tensor([[30.0, -80.0, 1.0]])
    official = amulet_iterations(torch.log(torch.softmax(logits_pref, -1)), torch.log(torch.softmax(logits_base, -1)),
                                 2.0, 2.0, 10.0, 60)
    ours = amulet_iterations(torch.log_softmax(logits_pref, -1), torch.log_softmax(logits_base, -1), 2.0, 2.0, 10.0, 60)
    assert torch.isnan(official).any()
    assert torch.isfinite(ours).all()


# -- properties over random logits (hypothesis) ------------------------------------------------------
_views = st.builds(
    lambda seed, scale, vocab: random_view(1, [1.0], seed, vocab) if scale is None else _scaled(seed, scale, vocab),
    st.integers(0, 10_000), st.one_of(st.none(), st.floats(0.1, 30.0)), st.integers(2, 300),
)


def _scaled(seed: int, scale: float, vocab: int) -> StepView:
    view = random_view(1, [1.0], seed, vocab)
    return StepView(logits={k: v * scale / 4 for k, v in view.logits.items()}, weights=view.weights)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(view=_views, alpha=st.floats(0.0, 4.0), lam=st.floats(0.5, 4.0), eta=st.floats(0.5, 50.0),
       T=st.integers(1, 80))
def test_property_amulet_loop_and_closed_form_agree(view, alpha, lam, eta, T):
    try:
        exact_strategy = faithful("amulet", alpha=alpha, lam=lam, eta=eta, T=T, exact=True)
    except ValueError as exc:  # k beyond MAX_AMULET_K is refused up front (its own test)
        assert "coefficient k=" in str(exc)
        assume(False)
    exact = exact_strategy.scores(view, 1)
    fast = faithful("amulet", alpha=alpha, lam=lam, eta=eta, T=T).scores(view, 1)
    # With alpha > lam, k grows large and so do the values: compare relatively, and the choices exactly.
    assert torch.allclose(torch.log_softmax(exact, -1), torch.log_softmax(fast, -1), rtol=1e-4, atol=1e-3)
    assert torch.equal(exact.argmax(-1), fast.argmax(-1))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(view=_views)
def test_property_zero_strength_is_prompting(view):
    prompt = torch.log_softmax(make_strategy("prompt").scores(view, 1), -1)
    for strategy in (faithful("linear", r=0.0), faithful("amulet", alpha=0.0)):
        assert torch.allclose(torch.log_softmax(strategy.scores(view, 1), -1), prompt, atol=1e-4)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(view=_views, k=st.integers(1, 20))
def test_property_pad_w0_is_the_base_argmax(view, k):
    joined = StepView(logits={"joined": view.logits["base"]}, rm_logits={"joined": view.logits["pref0"]},
                      weights=view.weights)
    scores = faithful("pad", w=0.0, k=k).scores(joined, 1)
    assert torch.equal(scores.argmax(-1), view.logits["base"].argmax(-1))


# -- guards (generation/guards.py) ----------------------------------------------------------------
from pad_integrations.generation.guards import GUARDS_OFF, apply_guards  # noqa: E402


def test_guards_off_return_the_faithful_scores_exactly():
    view = random_view(1, [1.0], seed=5)
    view.generated = [[1, 2, 3, 1, 2], [4, 4, 4, 4, 4]]
    for name, formula in [
        ("linear", lambda v: 3 * v.logp("pref0") - 2 * v.logp("base")),
        ("amulet", lambda v: v.logp("pref0") + amulet_k(2, 2, 10, 60) * (v.logp("pref0") - v.logp("base"))),
    ]:
        scores = faithful(name).scores(view, 1)
        assert torch.equal(scores, make_strategy(name, **{**FAITHFUL[name], **GUARDS_OFF}).scores(view, 1))
        assert torch.equal(scores, formula(view)), name
    z = torch.randn(2, 50)
    assert apply_guards(z, GUARDS_OFF, anchor_logp=None, generated=None) is z


def test_nucleus_guard_keeps_only_the_preference_policys_top_p_and_its_argmax():
    view = random_view(1, [1.0], seed=6)
    scores = faithful("linear", r=4.0, nucleus=0.7).scores(view, 1)
    p = view.logp("pref0").exp()
    for row in range(2):
        kept = ~torch.isneginf(scores[row])
        assert kept.any() and bool(kept[p[row].argmax()])
        order = p[row].argsort(descending=True)
        n = int(kept.sum())
        assert set(order[:n].tolist()) == set(kept.nonzero()[:, 0].tolist())  # a top set of the policy
        assert float(p[row][order[:n]].sum()) >= 0.7 - 1e-6
        assert float(p[row][order[: n - 1]].sum()) < 0.7  # and the smallest one reaching 0.7
        # inside the nucleus the contrast scores are untouched
        formula = 5 * view.logp("pref0") - 4 * view.logp("base")
        assert torch.equal(scores[row][kept], formula[row][kept])


def test_no_repeat_ngram_guard_bans_exactly_the_tokens_that_would_repeat_an_ngram():
    view = random_view(1, [1.0], seed=7)
    view.generated = [[5, 6, 7, 5, 6], [1, 2, 3, 4, 5]]
    scores = faithful("amulet", no_repeat_ngram=3).scores(view, 1)
    plain = faithful("amulet").scores(view, 1)
    banned = torch.isneginf(scores) & ~torch.isneginf(plain)
    assert banned[0].nonzero()[:, 0].tolist() == [7]  # "5 6" was followed by 7 before
    assert not banned[1].any()
    assert torch.equal(scores[~banned], plain[~banned])


def test_repetition_penalty_guard_pushes_down_generated_tokens_only():
    view = random_view(1, [1.0], seed=8)
    view.generated = [[3, 9], [3, 9]]
    guarded = faithful("linear", r=1.0, repetition_penalty=2.0).scores(view, 1)
    plain = torch.log_softmax(faithful("linear", r=1.0).scores(view, 1), dim=-1)
    for row in range(2):
        for t in range(50):
            if t in (3, 9):
                assert float(guarded[row, t]) == pytest.approx(2 * float(plain[row, t]))
            else:
                assert float(guarded[row, t]) == pytest.approx(float(plain[row, t]))
    assert faithful("linear", repetition_penalty=1.0).params["repetition_penalty"] == 1.0


def test_guards_handle_rows_with_different_generated_lengths():
    view = random_view(1, [1.0], seed=9)
    view.generated = [[1, 2, 1], []]
    scores = faithful("linear", no_repeat_ngram=2).scores(view, 1)
    assert bool(torch.isneginf(scores[0, 2])) and not torch.isneginf(scores[1]).any()


def test_pad_guards_apply_after_the_top_k_rescoring():
    g = torch.Generator().manual_seed(10)
    view = StepView(logits={"joined": torch.randn(1, 30, generator=g)},
                    rm_logits={"joined": torch.randn(1, 30, generator=g)}, weights=torch.ones(1, 1))
    top = view.logits["joined"].topk(10).indices[0].tolist()
    view.generated = [[top[0], top[1], top[0]]]
    scores = faithful("pad", no_repeat_ngram=2).scores(view, 1)
    assert bool(torch.isneginf(scores[0, top[1]]))
    assert (~torch.isneginf(scores)).sum() == 9


@pytest.mark.parametrize(("params", "match"), [
    ({"nucleus": 0.0}, "nucleus"), ({"repetition_penalty": 0.5}, "repetition_penalty"),
    ({"no_repeat_ngram": -1}, "no_repeat_ngram"), ({"no_repeat_ngram": 2.5}, "no_repeat_ngram"),
])
@pytest.mark.parametrize("strategy", ["linear", "amulet", "pad"])
def test_bad_guard_parameters_are_clear_errors(strategy, params, match):
    if strategy == "pad" and "nucleus" in params:
        with pytest.raises(ValueError, match="unknown parameter"):
            make_strategy(strategy, **params)
        return
    with pytest.raises(ValueError, match=match):
        make_strategy(strategy, **params)


def test_guards_stop_a_loop_in_the_engine(gen):
    """On the tiny model a strong contrast loops; the n-gram guard leaves no repeated 3-gram of tokens."""
    plain = gen.generate(MESSAGES, preference=PREF, strategy="linear", r=8.0, max_new_tokens=40, **GUARDS_OFF)
    guarded = gen.generate(MESSAGES, preference=PREF, strategy="linear", r=8.0, max_new_tokens=40,
                           nucleus=None, no_repeat_ngram=3)
    looped = [tuple(plain.token_ids[i : i + 3]) for i in range(len(plain.token_ids) - 2)]
    assert len(set(looped)) < len(looped), "the unguarded strong contrast should repeat itself here"
    grams = [tuple(guarded.token_ids[i : i + 3]) for i in range(len(guarded.token_ids) - 2)]
    assert len(grams) >= 10 and len(set(grams)) == len(grams)
