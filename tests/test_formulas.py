"""Hand-computed values for the formulas and guards whose mutation no other unit test caught
(issue #24, "tests that say what broke"). Each test names the formula it pins; changing a
constant, a term or a guard in it fails here, not only in the golden JSON."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import digamma

import cchkit
from cchkit.cch import Term, combine_terms, score_interval
from cchkit.estimators import MIEstimate

Z95 = 1.959963984540054


def est(value: float, se: float) -> MIEstimate:
    return MIEstimate(value=value, ci=(value - Z95 * se, value + Z95 * se), bound="point", estimator="x",
                      params={}, n=100, dim_x=1, dim_y=1, seed=0, seconds=0.0, se=se)


def test_cch_score_interval_adds_both_standard_errors():
    # se = sqrt(0.3^2 + 0.4^2) = 0.5, score = 1.0 - 0.25
    score, low, high = score_interval(Term(1.0, 0.3), Term(0.25, 0.4))
    assert score == pytest.approx(0.75)
    assert low == pytest.approx(0.75 - Z95 * 0.5)
    assert high == pytest.approx(0.75 + Z95 * 0.5)


def test_label_gain_interval_adds_both_standard_errors():
    from cchkit.criteria import CriterionInputs, get_criterion

    nan = Term(float("nan"), float("nan"))
    out = get_criterion("label_gain").compute(  # I([T,S];Y) 0.9 (se 0.06) - I(S;Y) 0.5 (se 0.08): se 0.1
        CriterionInputs(nan, Term(0.5, 0.08), nan, Term(0.9, 0.06), float("nan"), float("nan")))
    assert out["label_gain"] == pytest.approx(0.4)
    assert out["label_gain_low"] == pytest.approx(0.4 - Z95 * 0.1)
    assert out["label_gain_high"] == pytest.approx(0.4 + Z95 * 0.1)


def test_a_negative_label_gain_is_floored_at_0_and_says_so():
    """I(H_T;Y|H_S) >= 0: a joint estimate 0.2 below I(S;Y) 0.9 (se 0.1) is 0 [0, 0], not -0.7,
    and the caveat gives the raw difference; a gain straddling 0 keeps its upper end."""
    from cchkit.criteria import CriterionInputs, get_criterion

    nan = Term(float("nan"), float("nan"))
    crit = get_criterion("label_gain")
    below = CriterionInputs(nan, Term(0.9, 0.06), nan, Term(0.2, 0.08), float("nan"), float("nan"))
    assert crit.compute(below) == {"label_gain": 0.0, "label_gain_low": 0.0, "label_gain_high": 0.0}
    assert crit.caveat(below).startswith(f"label_gain = -0.700 [{-0.7 - Z95 * 0.1:.3f}, {-0.7 + Z95 * 0.1:.3f}] floored at 0")
    straddles = CriterionInputs(nan, Term(0.5, 0.06), nan, Term(0.45, 0.08), float("nan"), float("nan"))
    out = crit.compute(straddles)
    assert out["label_gain"] == 0.0 and out["label_gain_low"] == 0.0
    assert out["label_gain_high"] == pytest.approx(-0.05 + Z95 * 0.1)
    assert crit.caveat(CriterionInputs(nan, Term(0.5, 0.08), nan, Term(0.9, 0.06), float("nan"), float("nan"))) is None


def test_a_ranking_row_carries_the_label_gain_caveat(structured_bundle):
    """A teacher of pure noise: whatever the estimate, the printed label gain is never negative."""
    r = cchkit.rank_teachers(structured_bundle, "student", ["noise"], estimators=["gaussian"], n_bootstrap=20,
                             criterion="label_gain")
    row = r.table.iloc[0]
    assert row["label_gain"] >= 0 and row["label_gain_low"] >= 0
    assert ("floored at 0" in row["label_check"]) == (row["i_joint_label"] < row["i_student_label"])


def test_combine_terms_with_two_seeds_adds_the_between_seed_spread():
    # seed 0: folds 1.0 (se 0.2) and 3.0 (se 0.2) -> mean 2.0, var (0.04 + 0.04) / 4 = 0.02
    # seed 1: one fold 4.0 (se 0.1) -> var 0.01
    # value (2 + 4) / 2 = 3; within = mean(0.02, 0.01) / 2 = 0.0075; between = var([2, 4], ddof=1) / 2 = 1.0
    term = combine_terms([[est(1.0, 0.2), est(3.0, 0.2)], [est(4.0, 0.1)]])
    assert term.value == pytest.approx(3.0)
    assert term.se == pytest.approx(math.sqrt(0.0075 + 1.0))


def test_wishart_bias_for_small_dimensions():
    from cchkit.estimators.gaussian import wishart_logdet_bias

    # p = 1, n = 11 (nu = 10): log(2 / 10) + psi(10 / 2)
    assert wishart_logdet_bias(1, 11) == pytest.approx(math.log(0.2) + digamma(5.0))
    # p = 2, n = 6 (nu = 5): 2 log(2/5) + psi(5/2) + psi(4/2)
    assert wishart_logdet_bias(2, 6) == pytest.approx(2 * math.log(0.4) + digamma(2.5) + digamma(2.0))


def test_gaussian_pair_subtracts_the_wishart_correction():
    from cchkit.estimators.gaussian import wishart_logdet_bias

    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 1))
    y = x + rng.standard_normal((40, 1))
    e = cchkit.get_estimator("gaussian", ci=None, shrinkage=None).estimate(x, y)
    expected = 0.5 * (wishart_logdet_bias(1, 40) + wishart_logdet_bias(1, 40) - wishart_logdet_bias(2, 40))
    assert e.extra["bias_correction"] == pytest.approx(expected)
    assert e.value == pytest.approx(e.extra["plug_in"] - expected)
    r = np.corrcoef(x[:, 0], y[:, 0])[0, 1]
    assert e.extra["plug_in"] == pytest.approx(-0.5 * math.log(1 - r * r))


@pytest.mark.parametrize("mode, per_class", [("pooled", 3), ("full", 3 + 6)])
def test_label_form_counts_its_extra_parameters(mode, per_class):
    # d = 3, C = 4: (C - 1) (d + d (d + 1) / 2 if per-class covariances) extra parameters, bias k / (2n)
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(4), 100)
    x = rng.standard_normal((400, 3)) + labels[:, None]
    e = cchkit.get_estimator("gaussian", class_covariance=mode, ci=None, random_state=0).estimate(x, labels)
    assert e.extra["bias_correction"] == pytest.approx(3 * per_class / (2 * 400))


def test_ksg_subsample_spread_is_rescaled_by_sqrt_m_over_n_minus_m():
    est_ = cchkit.get_estimator("ksg", n_bootstrap=20, subsample_size=30)
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    ci, info = est_._subsample_interval(0.0, 200, lambda idx: float(idx.mean()), rng_a)
    reps = [float(rng_b.choice(200, size=30, replace=False).mean()) for _ in range(20)]
    se = np.std(reps, ddof=1) * math.sqrt(30 / 170)
    assert info["se"] == pytest.approx(se)
    assert ci == pytest.approx((-1.96 * se, 1.96 * se))


def test_ross_with_a_class_of_two_members_matches_scikit_learn():
    import importlib

    from cchkit.estimators.knn import ross_mi

    # scikit-learn's own Ross estimator (its public mutual_info_classif adds noise and rescales
    # around it); a module of scikit-learn's, read by name
    compute_mi_cd = importlib.import_module("sklearn.feature_selection._mutual_info")._compute_mi_cd
    rng = np.random.default_rng(3)
    labels = np.r_[np.zeros(40, int), np.ones(2, int), np.full(30, 2)]
    x = rng.standard_normal(labels.size) + labels
    ours = ross_mi(x[:, None], labels, k=3)
    assert ours > 0.1 and ours == pytest.approx(compute_mi_cd(x, labels, n_neighbors=3), abs=1e-12)


def test_label_floor_takes_the_bound_and_its_interval():
    from cchkit.ranking.rows import consistent_label_terms

    low_est = Term(0.1, 0.01)
    bound = Term(0.5, 0.02)
    sy, ty, checks = consistent_label_terms("s", "t", low_est, Term(0.6, 0.01), bound, Term(0.2, 0.01), floor=True)
    assert sy.value == 0.5 and sy.se == 0.02
    assert (sy.low, sy.high) == pytest.approx((0.5 - Z95 * 0.02, 0.5 + Z95 * 0.02))
    assert ty.value == 0.6  # above its bound: kept
    assert "raised to" in checks["label_check"]


def test_fano_bound_and_its_standard_error():
    from cchkit.estimators.variational import fano_lower_bound, fano_se

    # C = 4, H(Y) = log 4, P_e = 0.1: log 4 - h(0.1) - 0.1 log 3
    h = -(0.1 * math.log(0.1) + 0.9 * math.log(0.9))
    assert fano_lower_bound(math.log(4), 0.1, 4) == pytest.approx(math.log(4) - h - 0.1 * math.log(3))
    # delta method: |log(0.9 / 0.1) + log 3| sqrt(0.1 * 0.9 / 400)
    assert fano_se(0.1, 4, 400) == pytest.approx((math.log(9) + math.log(3)) * math.sqrt(0.09 / 400))


def test_fano_dominating_gives_the_interval_of_fano():
    from cchkit.estimators.variational import VariationalLabelMI, fano_se

    # well-separated classes with a strong ridge: the logistic probabilities stay soft, so the
    # cross-entropy bound is low while the error rate (and with it Fano's bound) is near 0
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(5), 80)
    x = labels[:, None] * 10.0 + rng.standard_normal((400, 2))
    e = VariationalLabelMI(C=1e-4, random_state=0).estimate(x, labels, discrete_y=True)
    assert e.extra["fano"] > e.extra["barber_agakov"]
    assert e.value == pytest.approx(e.extra["fano"])
    assert e.se == pytest.approx(fano_se(e.extra["error"], 5, 400))
    assert "Fano" in e.ci_method


def test_class_mean_soft_targets_at_temperature_two():
    import torch

    from cchkit.distill.losses import class_soft_targets

    logits = torch.tensor([[2.0, 0.0], [0.0, 0.0], [0.0, 4.0]])
    labels = torch.tensor([0, 0, 1])
    q = class_soft_targets(logits, labels, 3, T=2.0)
    s = lambda a, b: math.exp(a) / (math.exp(a) + math.exp(b))  # noqa: E731
    # class 0: mean of softmax([1, 0]) and softmax([0, 0]); class 1: softmax([0, 2]); class 2: uniform
    assert q[0, 0].item() == pytest.approx((s(1, 0) + 0.5) / 2)
    assert q[1, 1].item() == pytest.approx(s(2, 0))
    assert q[2].tolist() == pytest.approx([0.5, 0.5])


def test_significance_needs_three_seeds():
    from cchkit._stats import is_significant

    assert not is_significant(0.01, 0.05, 2)
    assert is_significant(0.01, 0.05, 3)
    assert not is_significant(-0.01, 0.05, 5)
    assert not is_significant(0.02, 0.02, 5)  # zero width is no evidence


def test_npy_with_trailing_bytes_is_refused(tmp_path):
    from cchkit._safe_arrays import read_npy
    from cchkit.exceptions import BundleFormatError

    path = tmp_path / "a.npy"
    np.save(path, np.arange(10.0))
    path.write_bytes(path.read_bytes() + b"\0" * 16)
    with pytest.raises(BundleFormatError, match="holds"):
        read_npy(path, "a")


def test_kolchinsky_tracey_bounds_by_hand():
    """Two classes N(0, 1) and N(2, 1), equal priors: the Bhattacharyya distance is 2^2 / 8 = 0.5
    and the KL divergence 2^2 / 2 = 2, so the bounds are -log(1/2 + e^-0.5 / 2) and
    -log(1/2 + e^-2 / 2); with unequal variances (1 and 4, same means) D_B is
    log(2.5 / 2) / 2 and KL(1 || 2) = (1/4 - 1 + log 4) / 2."""
    import torch

    from cchkit.estimators.gaussian import kolchinsky_tracey_bounds

    mu = torch.tensor([[0.0], [2.0]], dtype=torch.float64)
    pi = torch.tensor([0.5, 0.5], dtype=torch.float64)
    lo, hi = kolchinsky_tracey_bounds(mu, torch.ones(1, 1, 1, dtype=torch.float64), pi)
    assert lo == pytest.approx(-math.log(0.5 + 0.5 * math.exp(-0.5)), rel=1e-12)
    assert hi == pytest.approx(-math.log(0.5 + 0.5 * math.exp(-2.0)), rel=1e-12)
    same = torch.zeros(2, 1, dtype=torch.float64)
    lo, hi = kolchinsky_tracey_bounds(same, torch.tensor([[[1.0]], [[4.0]]], dtype=torch.float64), pi)
    d_b = 0.5 * math.log(2.5 / 2.0)
    kl_12, kl_21 = 0.5 * (0.25 - 1 + math.log(4)), 0.5 * (4 - 1 - math.log(4))
    assert lo == pytest.approx(-math.log(0.5 + 0.5 * math.exp(-d_b)), rel=1e-12)
    assert hi == pytest.approx(-0.5 * math.log(0.5 + 0.5 * math.exp(-kl_12)) - 0.5 * math.log(0.5 + 0.5 * math.exp(-kl_21)),
                               rel=1e-12)
