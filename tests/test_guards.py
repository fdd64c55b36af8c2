"""Guards that a careless edit would silently break: each test fails when its guard is removed.

Decision thresholds, the recommendation and the consensus rules, the significance rule of the
validation, the score's standard error, the MFH redundancy, the label-form bias correction, the
KSG subsampling rescale, and the cross-fitting of the matched projection.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import cchkit
from cchkit._stats import is_significant
from cchkit.cch import Term, decide, discriminant_projection, mfh_share, score_interval
from cchkit.ranking import RANKING_COLUMNS, Ranking, add_ranks

Z95 = 1.959963984540054


# ---------------------------------------------------------------------- decide
@pytest.mark.parametrize(
    "low, high, want",
    [(0.0, 1.0, "inconclusive"), (-1.0, 0.0, "inconclusive"), (1e-12, 1.0, "helps"), (-1.0, -1e-12, "hurts"),
     (-0.1, 0.1, "inconclusive"), (math.nan, 1.0, "inconclusive"), (0.5, math.inf, "inconclusive")],
)
def test_decide_needs_the_interval_strictly_off_zero(low, high, want):
    assert decide(low, high) == want


# ---------------------------------------------------------------------- score interval
def test_score_se_combines_both_terms():
    score, low, high = score_interval(Term(value=1.0, se=0.3), Term(value=0.4, se=0.4))
    assert score == pytest.approx(0.6)
    assert high - score == pytest.approx(Z95 * 0.5) and score - low == pytest.approx(Z95 * 0.5)
    # either term alone would give 0.3 or 0.4, not 0.5
    _, low1, _ = score_interval(Term(value=1.0, se=0.0), Term(value=0.4, se=0.4))
    assert score - low1 == pytest.approx(Z95 * 0.4)


# ---------------------------------------------------------------------- MFH share
def test_mfh_share_is_the_co_information_over_the_teachers_label_information():
    # R = I(T;Y) + I(S;Y) - I([T,S];Y) = 1.0 + 0.6 - 1.2 = 0.4, share 0.4 / 1.0
    assert mfh_share(1.0, 0.6, 1.2) == pytest.approx(0.4)
    assert mfh_share(2.0, 0.5, 2.0) == pytest.approx(0.25)
    assert mfh_share(1.0, 0.2, 2.0) == 0.0 and mfh_share(1.0, 2.0, 1.0) == 1.0  # clipped
    assert math.isnan(mfh_share(0.0, 0.5, 0.5))


# ---------------------------------------------------------------------- recommendation and consensus
def _row(teacher, score, decision, estimator="gaussian", student="s"):
    row = {c: np.nan for c in RANKING_COLUMNS}
    row.update(student=student, teacher=teacher, estimator=estimator, cch_score=score, decision=decision,
               error=None, note=None, consensus=None, estimators_disagree=False)
    return row


def _ranking(rows, estimators=("gaussian",)):
    table = add_ranks(pd.DataFrame(rows, columns=RANKING_COLUMNS))
    return Ranking(table=table, settings={"estimators": list(estimators)})


@pytest.mark.usefixtures("paper_rule")  # ranks and advice by the CCH's own rule, as the rows give it
def test_recommended_is_the_best_teacher_predicted_to_help_never_one_that_is_not():
    r = _ranking([_row("t1", 0.9, "inconclusive"), _row("t2", 0.5, "helps"), _row("t3", 0.7, "hurts")])
    assert r.table.set_index("teacher").loc["t1", "rank"] == 1
    assert r.recommended == "t2"
    none = _ranking([_row("t1", 0.9, "inconclusive"), _row("t3", 0.7, "hurts")])
    assert none.recommended is None


def test_consensus_follows_the_majority_of_estimators():
    ests = ("gaussian", "ksg", "infonce")
    majority = _ranking([_row("t", 0.5, d, e) for d, e in zip(["helps", "helps", "hurts"], ests)], ests)
    assert set(majority.table["consensus"]) == {"helps"} and majority.table["estimators_disagree"].all()
    split = _ranking([_row("t", 0.5, d, e) for d, e in zip(["helps", "hurts", "inconclusive"], ests)], ests)
    assert set(split.table["consensus"]) == {"inconclusive"}
    tie = _ranking([_row("t", 0.5, d, e) for d, e in zip(["helps", "hurts"], ests[:2])], ests[:2])
    assert set(tie.table["consensus"]) == {"inconclusive"}
    agree = _ranking([_row("t", 0.5, "hurts", e) for e in ests], ests)
    assert set(agree.table["consensus"]) == {"hurts"} and not agree.table["estimators_disagree"].any()


# ---------------------------------------------------------------------- validation significance
@pytest.mark.parametrize(
    "low, high, n, want",
    [(0.01, 0.05, 3, True), (-0.05, -0.01, 5, True), (0.01, 0.05, 2, False), (0.02, 0.02, 5, False),
     (-0.01, 0.05, 5, False), (0.0, 0.05, 5, False), (math.nan, 0.05, 5, False)],
)
def test_significance_needs_three_seeds_a_real_interval_and_zero_outside(low, high, n, want):
    assert is_significant(low, high, n) is want


# ---------------------------------------------------------------------- label-form bias correction
def test_gaussian_label_form_bias_correction_removes_the_wilks_bias():
    n, d, classes = 200, 5, 4
    corrected, plain = [], []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        x, y = rng.standard_normal((n, d)), rng.integers(0, classes, n)  # independent: I = 0
        est = cchkit.get_estimator("gaussian", n_bootstrap=2, random_state=seed).estimate(x, y)
        corrected.append(est.value)
        plain.append(cchkit.get_estimator("gaussian", n_bootstrap=2, random_state=seed, bias_correction=False).estimate(x, y).value)
    # 50 samples per class >= d^2, so per-class covariances: k = (C-1) (d + d(d+1)/2) extra parameters
    k = (classes - 1) * (d + d * (d + 1) // 2)
    assert est.extra["class_covariance"] == "full" and est.extra["bias_correction"] == pytest.approx(k / (2 * n))
    assert np.mean(plain) > 0.03  # the plug-in is biased up ...
    assert np.mean(corrected) < 0.01  # ... and the correction takes it back to the truth, 0


# ---------------------------------------------------------------------- KSG subsampling interval
@pytest.mark.slow
def test_ksg_subsampling_se_matches_the_sampling_spread_at_n():
    values, ses = [], []
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        x = rng.standard_normal((1000, 1))
        y = 0.6 * x + 0.8 * rng.standard_normal((1000, 1))
        est = cchkit.get_estimator("ksg", n_bootstrap=30, subsample_size=100, random_state=seed).estimate(x, y)
        values.append(est.value)
        ses.append(est.se)
    # subsamples of m = 100 of n = 1000 spread sqrt(n/m - 1) = 3 times wider than estimates at n
    ratio = np.mean(ses) / np.std(values, ddof=1)
    assert 0.5 < ratio < 2.0, ratio


# ---------------------------------------------------------------------- matched projection
def test_matched_projection_is_cross_fitted():
    """An LDA fitted on the rows it projects separates pure-noise classes; a cross-fitted one does not."""
    corr = []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        h, y = rng.standard_normal((200, 60)), rng.integers(0, 2, 200)
        z = discriminant_projection(h, y, random_state=seed)
        corr.append(abs(np.corrcoef(z[:, 0], y)[0, 1]))
    assert np.mean(corr) < 0.12, corr
