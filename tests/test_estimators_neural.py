"""MINE and InfoNCE: bounds, training machinery, seeding, caps and the label form.

Tolerances: both are *lower* bounds trained briefly here (small n, few steps), so the tests
check the ordering and rough size (e.g. 1 nat recovered within 0.25 on a 2x2 Gaussian), not
benchmark accuracy (see benchmarks/results/estimators.md for that).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from cchkit.datasets.mi_tasks import gaussian_task
from cchkit.estimators import get_estimator
from cchkit.estimators._neural import build_critic, resolve_device
from cchkit.estimators.bounds import dv_terms, infonce_terms
from cchkit.exceptions import CchkitWarning, InputError

FAST = dict(hidden=32, embed_dim=16, batch_size=128, max_steps=300, eval_every=50, random_state=0)


def test_infonce_bound_of_known_scores():
    k = 6
    scores = torch.zeros(k, k)
    assert float(infonce_terms(scores).mean()) == pytest.approx(0.0, abs=1e-6)
    big = torch.full((k, k), -1e4)
    big.fill_diagonal_(0.0)
    assert float(infonce_terms(big).mean()) == pytest.approx(math.log(k), abs=1e-6)  # the cap


def test_infonce_terms_contrast_each_x_with_every_y_by_hand():
    """Row i is x_i scored against every y_j (van den Oord et al. 2018): for scores
    [[1, 0], [2, 3]], the terms are 1 - log(e + 1) + log 2 and 3 - log(e^2 + e^3) + log 2; the
    columns (each y against every x) would give 1 - log(e + e^2) + log 2 for the first."""
    scores = torch.tensor([[1.0, 0.0], [2.0, 3.0]], dtype=torch.float64)
    expected = [1 - math.log(math.e + 1) + math.log(2), 3 - math.log(math.e**2 + math.e**3) + math.log(2)]
    assert infonce_terms(scores).tolist() == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_dv_bound_of_known_scores(seed):
    """Seeded float64 scores: the unseeded float32 version failed when log-mean-exp landed near 0
    (a relative tolerance on -0.0019 is below float32's rounding)."""
    k = 5
    s = torch.randn(k, k, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    bound, lme = dv_terms(s)
    off = s[~torch.eye(k, dtype=torch.bool)]
    assert float(lme) == pytest.approx(float(torch.log(torch.exp(off).mean())), rel=1e-9, abs=1e-12)
    assert float(bound) == pytest.approx(float(s.diagonal().mean() - lme), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("kind", ["separable", "quadratic", "concat"])
def test_critic_shapes(kind):
    c = build_critic(kind, 3, 2, 16, 1, 8)
    assert c(torch.randn(7, 3), torch.randn(5, 2)).shape == (7, 5)


def test_unknown_critic_and_bad_rank_raise():
    with pytest.raises(InputError, match="critic must be one of"):
        get_estimator("infonce", critic="bilinear")
    with pytest.raises(InputError, match="rank"):
        get_estimator("infonce", rank=0)


def test_quadratic_term_matches_its_formula_and_caps_rank():
    torch.manual_seed(0)
    c = build_critic("quadratic", 4, 3, 16, 1, 8, rank=8)
    a, b = c.q.a.detach(), c.q.b.detach()
    assert a.shape == (4, 3) and b.shape == (3, 3)  # rank capped at min(dim_x, dim_y)
    x, y = torch.randn(6, 4), torch.randn(5, 3)
    from cchkit.estimators._neural import QUAD_SCALE

    u, v = QUAD_SCALE * x @ a, QUAD_SCALE * y @ b
    expected = -0.5 * ((u[:, None, :] - v[None, :, :]) ** 2).sum(-1)
    assert torch.allclose(c(x, y), expected, atol=1e-4)


def test_quadratic_critic_with_gaussian_optimum_reaches_the_truth():
    # The InfoNCE-optimal critic of a standardised Gaussian pair with correlation rho is, up to
    # functions of x alone, -(rho x - y)^2 / (2 (1 - rho^2)): the quadratic critic represents it
    # exactly (A = rho s, B = s, s = 1 / (c sqrt(1 - rho^2))), and the bound on 4,000 rows is
    # then within the log-K bias of the closed-form MI.
    x, y, truth = gaussian_task("sparse", 1, 1, 2.0, n=4000, random_state=1)
    x = (x - x.mean(0)) / x.std(0)
    y = (y - y.mean(0)) / y.std(0)
    rho = float(np.corrcoef(x[:, 0], y[:, 0])[0, 1])
    from cchkit.estimators._neural import QUAD_SCALE

    c = build_critic("quadratic", 1, 1, 16, 1, 8)
    s = 1.0 / (QUAD_SCALE * math.sqrt(1 - rho**2))
    with torch.no_grad():
        c.q.a.fill_(rho * s)
        c.q.b.fill_(s)
        bound = float(infonce_terms(c(torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32))).mean())
    assert bound == pytest.approx(truth, abs=0.05)


def test_separable_critic_starts_as_its_quadratic_term():
    torch.manual_seed(0)
    c = build_critic("separable", 6, 4, 16, 2, 8)
    x, y = torch.randn(9, 6), torch.randn(7, 4)
    assert torch.equal(c(x, y), c.q(x, y))  # g . h is exactly zero at the start
    # ... but not stuck there: the MLPs get a gradient
    c(x, y).sum().backward()
    assert float(c.h[-1].weight.grad.abs().sum()) > 0


def test_warm_start_phases():
    x, y, _ = gaussian_task("sparse", 3, 3, 1.0, n=800, random_state=0)
    default = get_estimator("infonce", **FAST).estimate(x, y)
    assert list(default.extra["phase_steps"]) == ["quadratic", "all"]
    assert sum(default.extra["phase_steps"].values()) == default.extra["steps"]
    cold = get_estimator("infonce", **FAST, warm_start=False).estimate(x, y)
    assert list(cold.extra["phase_steps"]) == ["all"]
    quad = get_estimator("infonce", **FAST, critic="quadratic").estimate(x, y)
    assert list(quad.extra["phase_steps"]) == ["all"]  # warm start concerns the separable critic
    with pytest.raises(InputError, match="warm_start"):
        get_estimator("infonce", warm_start="yes")


@pytest.mark.slow
def test_warm_start_keeps_high_dimensional_accuracy():
    """Sparse 30x30 at 3 nats, 4,000 rows: the MLPs alone overfit the 28 noise dimensions per side
    (2.35 without the warm start at seed 0); fitting the quadratic term first gets close."""
    x, y, truth = gaussian_task("sparse", 30, 30, 3.0, n=4000, random_state=0, n_pairs=2)
    warm = get_estimator("infonce", random_state=0).estimate(x, y)
    cold = get_estimator("infonce", random_state=0, warm_start=False).estimate(x, y)
    assert abs(warm.value - truth) < 0.3, warm
    assert warm.value > cold.value + 0.2


@pytest.mark.slow
def test_mine_default_warm_separable_critic_beats_concat_at_high_mi():
    """#19: MINE's default is the separable critic with the quadratic warm start. Dense 4x4 at
    4 nats, n = 3000, seed 0: 4.01 with it, 3.29 with the concat critic (the old default)."""
    x, y, truth = gaussian_task("dense", 4, 4, 4.0, n=3000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        default = get_estimator("mine", random_state=0).estimate(x, y)
        concat = get_estimator("mine", random_state=0, critic="concat").estimate(x, y)
    assert default.extra["critic"] == "separable" and set(default.extra["phase_steps"]) == {"quadratic", "all"}
    assert abs(default.value - truth) < 0.3, default
    assert default.value > concat.value + 0.3


@pytest.mark.parametrize("name", ["mine", "infonce"])
def test_quadratic_critic_trains(name):
    x, y, truth = gaussian_task("sparse", 4, 4, 2.0, n=3000, random_state=0, n_pairs=2)
    est = get_estimator(name, **{**FAST, "critic": "quadratic", "max_steps": 1000}).estimate(x, y)
    assert est.extra["critic"] == "quadratic"
    assert abs(est.value - truth) < 0.3, est


def test_device_resolution():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(InputError):
        resolve_device("nonsense-device")


@pytest.mark.parametrize("name", ["mine", "infonce"])
def test_recovers_moderate_mi(name):
    x, y, truth = gaussian_task("sparse", 2, 2, 1.0, n=3000, random_state=0)
    est = get_estimator(name, **{**FAST, "max_steps": 400}).estimate(x, y)
    assert est.bound == "lower"
    assert abs(est.value - truth) < 0.25, est
    assert est.ci[0] <= est.value <= est.ci[1]
    assert len(est.extra["curve"]) >= 1 and "held-out" in est.ci_method


@pytest.mark.parametrize("name", ["mine", "infonce"])
def test_independent_is_near_zero(name):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((1500, 3)), rng.standard_normal((1500, 3))
    est = get_estimator(name, **FAST).estimate(x, y)
    assert abs(est.value) < 0.1


def test_infonce_cap_reported_and_warned():
    # 5 nats scored in blocks of K = 8 held-out rows: the cap log 8 = 2.08 binds
    x, y, _ = gaussian_task("sparse", 1, 1, 5.0, n=1000, random_state=0)
    est_ = get_estimator("infonce", **{**FAST, "eval_block": 8})
    with pytest.warns(UserWarning, match="cap"):
        est = est_.estimate(x, y)
    assert est.extra["cap"] == pytest.approx(math.log(8))
    assert 0.9 * est.extra["cap"] <= est.value <= est.extra["cap"] + 1e-9


@pytest.mark.parametrize("name", ["mine", "infonce"])
def test_label_form_respects_entropy(name):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 1500)
    x = np.eye(3)[labels] * 3.0 + rng.standard_normal((1500, 3))
    est = get_estimator(name, **FAST).estimate(x, labels)
    h = est.label_entropy
    assert 0 <= est.value <= h + 1e-12
    assert est.value > 0.5 * h  # well-separated classes carry most of H(Y)
    assert est.extra["label_encoding"] == "one-hot"


def test_seeded_and_threads_restored():
    x, y, _ = gaussian_task("dense", 2, 2, 0.5, n=600, random_state=0)
    before = torch.get_num_threads()
    a = get_estimator("mine", **FAST).estimate(x, y)
    b = get_estimator("mine", **FAST).estimate(x, y)
    assert a.value == b.value and a.extra["curve"] == b.extra["curve"]
    assert torch.get_num_threads() == before


def test_early_stopping_and_progress(capsys):
    x, y, _ = gaussian_task("sparse", 1, 1, 0.5, n=600, random_state=0)
    est = get_estimator("infonce", **{**FAST, "max_steps": 5000, "eval_every": 10, "patience": 2}).estimate(x, y)
    assert est.extra["stopped_early"] and est.extra["steps"] < 5000
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""  # progress=False is silent
    get_estimator("infonce", **{**FAST, "max_steps": 20, "eval_every": 10, "progress": True}).estimate(x, y)


def test_concat_critic_runs():
    x, y, truth = gaussian_task("sparse", 1, 1, 1.0, n=1200, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = get_estimator("mine", **{**FAST, "critic": "concat", "eval_block": 128}).estimate(x, y)
    assert est.extra["critic"] == "concat" and est.extra["eval_block"] == 128
    assert abs(est.value - truth) < 0.4


@pytest.mark.parametrize(
    "bad",
    [dict(critic="x"), dict(hidden=0), dict(batch_size=1), dict(lr=-1.0), dict(eval_fraction=1.0),
     dict(eval_block=1), dict(device=3), dict(n_threads=0), dict(max_steps=0)],
)
def test_bad_parameters(bad):
    with pytest.raises(InputError):
        get_estimator("infonce", **bad)
    with pytest.raises(InputError):
        get_estimator("mine", ema_rate=0.0)


@pytest.mark.slow
def test_infonce_high_mi_needs_large_k():
    """5 nats in 5x5: InfoNCE over the whole held-out set (K=1500) gets within 1 nat, from below."""
    x, y, truth = gaussian_task("sparse", 5, 5, 5.0, n=3000, random_state=0, n_pairs=2)
    est = get_estimator("infonce", random_state=0, max_steps=500).estimate(x, y)
    assert est.extra["cap"] > truth + 2.0
    assert truth - 1.0 < est.value < truth + 0.1


def test_a_bound_is_one_class_and_a_registration():
    """The trial: the NWJ bound (Nguyen, Wainwright & Jordan, 2010), E_P[T] - E_Q[e^(T - 1)],
    registered in a test, evaluated on held-out rows by an estimator that names it; on a
    Gaussian pair with I = 0.5 nats it is a lower bound near the truth."""
    import torch

    from cchkit.estimators.bounds import Bound, register_bound
    from cchkit.estimators.infonce import InfoNCEEstimator as InfoNCE

    @register_bound("nwj-trial")
    class NWJ(Bound):
        terms_text = "per-row NWJ terms"

        def block(self, scores):
            k = scores.shape[0]
            off = scores.masked_fill(torch.eye(k, dtype=torch.bool), float("-inf"))
            return (scores.diagonal() - torch.exp(off - 1).sum(1) / (k - 1)).double()

        def pool(self, blocks):
            t = torch.cat(list(blocks))
            return float(t.mean()), float(t.std() / math.sqrt(t.numel()))

    class NWJEstimator(InfoNCE):
        _objective = "nwj-trial"

        def _train_loss(self, scores, state):
            return -NWJ().block(scores).float().mean()

    rho = math.sqrt(1 - math.exp(-2 * 0.5))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 1))
    y = rho * x + math.sqrt(1 - rho**2) * rng.normal(size=(3000, 1))
    est = NWJEstimator(**{**FAST, "critic": "separable", "max_steps": 2000}).estimate(x, y)
    assert "per-row NWJ terms" in est.ci_method and "cap" not in est.extra
    assert 0.3 < est.value < 0.6


# ---------------------------------------------------------------- one settings object
def test_the_critic_settings_are_one_object_shared_by_every_neural_estimator():
    """A default lives in CriticSettings once; an estimator changes one only through
    setting_defaults (MINE's learning rate, InfoNCE's patience)."""
    from dataclasses import fields

    from cchkit.estimators import CriticSettings

    base = CriticSettings()
    mine, infonce = get_estimator("mine"), get_estimator("infonce")
    for f in fields(CriticSettings):
        expected = {"lr": 1e-3} if f.name == "lr" else {}
        assert getattr(mine, f.name) == expected.get(f.name, getattr(base, f.name)), f.name
        assert getattr(infonce, f.name) == (3 if f.name == "patience" else getattr(base, f.name)), f.name
    assert mine.settings == CriticSettings(lr=1e-3) and infonce.settings == CriticSettings(patience=3)


def test_settings_and_named_changes_combine_and_round_trip():
    from sklearn.base import clone

    from cchkit.estimators import CriticSettings

    est = get_estimator("mine", settings=CriticSettings(hidden=16, lr=5e-4), max_steps=40, ema_rate=0.05)
    assert (est.hidden, est.lr, est.max_steps, est.ema_rate) == (16, 5e-4, 40, 0.05)
    params = est.get_params()
    assert "settings" not in params and params["hidden"] == 16 and params["max_steps"] == 40
    again = clone(est)
    assert again.settings == est.settings and again.ema_rate == 0.05
    est.set_params(max_steps=7)
    assert est.max_steps == 7 and est.settings.max_steps == 7 and est.hidden == 16


@pytest.mark.parametrize("kwargs, error, words", [
    ({"max_stepz": 5}, "EstimatorError", "has no parameter(s) 'max_stepz'; it accepts ema_rate, settings"),
    ({"hidden": 0}, "InputError", "mine: hidden must be an integer >= 1"),
    ({"settings": {"hidden": 16}}, "InputError", "settings must be a CriticSettings or None"),
])
def test_a_bad_setting_is_refused_by_name(kwargs, error, words):
    with pytest.raises(Exception) as info:
        get_estimator("mine", **kwargs)
    assert type(info.value).__name__ == error and words in str(info.value)
    from cchkit.estimators import CriticSettings

    with pytest.raises(InputError, match="CriticSettings: batch_size must be an integer >= 2"):
        CriticSettings(batch_size=1)


def test_a_neural_estimator_with_another_default_is_a_class_and_a_registration():
    """The trial: a registered subclass that only names its bound and a default, no constructor."""
    from cchkit.estimators import register_estimator, unregister_estimator
    from cchkit.estimators.infonce import InfoNCEEstimator

    @register_estimator("infonce-quadratic-trial")
    class QuadraticInfoNCE(InfoNCEEstimator):
        """InfoNCE with the quadratic critic by default."""

        setting_defaults = {**InfoNCEEstimator.setting_defaults, "critic": "quadratic"}

    try:
        est = get_estimator("infonce-quadratic-trial", max_steps=60, random_state=0)
        assert est.critic == "quadratic" and est.patience == 3 and est.max_steps == 60
        rng = np.random.default_rng(0)
        x = rng.normal(size=(400, 2))
        y = x + 0.5 * rng.normal(size=(400, 2))
        assert est.estimate(x, y).value > 0.3
    finally:
        unregister_estimator("infonce-quadratic-trial")


def test_negative_bound_is_reported_as_zero_with_a_cchkit_warning():
    """Independent x and y: a bound below 0 is clipped to 0, recorded, and warned as a
    CchkitWarning (a user filters cchkit's warnings by that category)."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((200, 2)), rng.standard_normal((200, 2))
    with pytest.warns(CchkitWarning, match=r"variational bound came out at -0\.\d+ nats \(< 0\), reported as 0"):
        est = get_estimator("infonce", random_state=2, max_steps=50).estimate(x, y)
    assert est.value == 0.0 and est.extra["clipped_from"] < 0
