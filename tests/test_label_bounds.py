"""The variational (Barber-Agakov / Fano) lower bound on I(H; Y), and the ranking's check of
every label term against it on the same representation."""

from __future__ import annotations

import math

import numpy as np
import pytest

import cchkit
from cchkit.estimators.variational import VariationalLabelMI, fano_lower_bound


def test_fano_bound_closed_form():
    # C = 4 uniform classes (H = log 4), error 0: the bound is H(Y); error 0.75 (chance): 0
    assert fano_lower_bound(math.log(4), 0.0, 4) == pytest.approx(math.log(4))
    assert fano_lower_bound(math.log(4), 0.75, 4) == pytest.approx(0.0, abs=1e-12)
    e = 0.1
    want = math.log(4) + e * math.log(e) + (1 - e) * math.log(1 - e) - e * math.log(3)
    assert fano_lower_bound(math.log(4), e, 4) == pytest.approx(want)


def test_variational_bound_is_below_the_truth_and_close_to_it():
    """Two Gaussian classes at distance delta: I(H;Y) = H(Y) - E[h(posterior)] by quadrature."""
    from scipy import integrate, stats

    delta, n = 2.0, 4000

    def integrand(t):  # t: the first coordinate; posterior of class 1 given t
        p1 = 1.0 / (1.0 + math.exp(-delta * t))
        h = -(p1 * math.log(p1) + (1 - p1) * math.log(1 - p1)) if 0 < p1 < 1 else 0.0
        return h * 0.5 * (stats.norm.pdf(t, -delta / 2) + stats.norm.pdf(t, delta / 2))

    truth = math.log(2) - integrate.quad(integrand, -12, 12)[0]
    values = []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        y = rng.integers(0, 2, n)
        x = np.c_[rng.standard_normal(n) + delta * (y - 0.5), rng.standard_normal((n, 3))]
        est = VariationalLabelMI(random_state=seed).estimate(x, y)
        assert est.ci[0] <= truth + 0.02 and est.bound == "lower"
        values.append(est.value)
    assert truth - 0.05 < np.mean(values) <= truth + 0.01, (np.mean(values), truth)


def test_variational_bound_refuses_two_matrices():
    with pytest.raises(cchkit.EstimatorError, match="class labels only"):
        VariationalLabelMI().estimate(np.random.default_rng(0).standard_normal((50, 2)), np.random.default_rng(1).standard_normal((50, 2)))


def test_ranking_rows_use_one_representation_and_flag_terms_below_their_bound():
    r = cchkit.rank_teachers("digits-avt", "audio", ["image", "text"], random_state=0, n_bootstrap=50)
    t = r.table.set_index("teacher")
    # teacher accuracy is measured on the same PCA-16 H as the MI terms; the raw-modality one apart
    assert t.loc["text", "teacher_accuracy_on_h"] < 0.6 < 0.99 < t.loc["text", "teacher_accuracy_on_x"]
    assert (t["i_student_label_lb"] > 0.5).all() and (t["i_teacher_label_lb"] > 0.5).all()
    # the Gaussian label form is below the variational lower bound on text's H: named, and the
    # term used by the criteria is raised to the bound (label_floor, the default)
    assert "I(text;Y)" in t.loc["text", "label_check"] and "raised to its variational lower bound" in t.loc["text", "label_check"]
    assert t.loc["text", "i_teacher_label"] == pytest.approx(t.loc["text", "i_teacher_label_lb"])
    raw = cchkit.rank_teachers("digits-avt", "audio", ["text"], random_state=0, n_bootstrap=50, label_floor=False).table.iloc[0]
    assert "is below its variational lower bound" in raw["label_check"] and raw["i_teacher_label"] < raw["i_teacher_label_lb"]
    assert raw["cch_score"] == pytest.approx(t.loc["text", "cch_score"])  # the student's term was consistent already
    # KSG's label form on the same H is consistent with the bound for the student
    k = cchkit.rank_teachers("digits-avt", "audio", ["text"], estimators=["ksg"], random_state=0, n_bootstrap=20)
    assert "I(audio;Y)" not in k.table["label_check"].iloc[0]
