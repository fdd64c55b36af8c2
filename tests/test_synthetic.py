"""Synthetic families: closed forms against Monte-Carlo, sweeps, transforms, determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from cchkit.bundle import ModalityBundle
from cchkit.datasets import synthetic as sy
from cchkit.datasets.mi_tasks import closed_form_mi
from cchkit.exceptions import InputError


def _plugin_gaussian_mi(a: np.ndarray, b: np.ndarray) -> float:
    """Gaussian plug-in MI from the sample covariance (bias ~ d_a d_b / 2n)."""
    cov = np.cov(np.hstack([a, b]), rowvar=False)
    return sy.gaussian_mi(cov, range(a.shape[1]), range(a.shape[1], a.shape[1] + b.shape[1]))


# ---------------------------------------------------------------------- closed forms
def test_gaussian_mi_scalar_and_block_forms():
    rho = 0.6
    cov = np.array([[1.0, rho], [rho, 1.0]])
    assert sy.gaussian_mi(cov, [0], [1]) == pytest.approx(-0.5 * math.log(1 - rho**2), abs=1e-12)
    rng = np.random.default_rng(0)
    m = rng.standard_normal((7, 7))
    cov = m @ m.T + 7 * np.eye(7)
    assert sy.gaussian_mi(cov, [0, 1, 2], [3, 4, 5, 6]) == pytest.approx(closed_form_mi(cov, 3), abs=1e-10)
    # symmetric, and independent blocks give 0
    assert sy.gaussian_mi(cov, [3, 4], [0]) == pytest.approx(sy.gaussian_mi(cov, [0], [3, 4]))
    assert sy.gaussian_mi(np.eye(4), [0, 1], [2, 3]) == 0.0
    # an exact copy gives inf
    assert sy.gaussian_mi(np.ones((2, 2)), [0], [1]) == math.inf


def test_gaussian_mi_bad_inputs():
    with pytest.raises(InputError, match="overlap"):
        sy.gaussian_mi(np.eye(3), [0, 1], [1])
    with pytest.raises(InputError, match="square"):
        sy.gaussian_mi(np.ones((2, 3)), [0], [1])
    with pytest.raises(InputError, match="outside"):
        sy.gaussian_mi(np.eye(3), [0], [5])
    with pytest.raises(InputError, match="symmetric"):
        sy.gaussian_mi(np.array([[1.0, 0.5], [0.0, 1.0]]), [0], [1])


def test_binary_label_mi_limits_and_bounds():
    # score independent of x -> 0; score = x -> H(Y) = log 2; in between within [0, H(Y)]
    assert sy.binary_label_mi(np.eye(2), [0], 1) == 0.0
    assert sy.binary_label_mi(np.ones((2, 2)), [0], 1) == pytest.approx(math.log(2))
    for r in (0.1, 0.5, 0.9, 0.99):
        cov = np.array([[1.0, r], [r, 1.0]])
        v = sy.binary_label_mi(cov, [0], 1)
        assert 0 < v < math.log(2)
        # I(X; Y) <= I(X; score) (data processing)
        assert v <= sy.gaussian_mi(cov, [0], [1]) + 1e-12
    # monotone in the correlation
    vals = [sy.binary_label_mi(np.array([[1.0, r], [r, 1.0]]), [0], 1) for r in np.linspace(0.05, 0.95, 10)]
    assert np.all(np.diff(vals) > 0)
    # a threshold: H(Y) = h_b(Phi(-tau)) is the ceiling
    cov = np.array([[1.0, 0.999999], [0.999999, 1.0]])
    hy = float(sy.binary_entropy(special.ndtr(-1.0)))
    assert sy.binary_label_mi(cov, [0], 1, threshold=1.0) == pytest.approx(hy, abs=5e-3)


def test_binary_label_mi_matches_monte_carlo_with_true_posterior():
    """Quadrature vs a Monte-Carlo average of the exact posterior entropy on 400k draws."""
    r, tau = 0.8, 0.3
    cov = np.array([[1.0, r], [r, 1.0]])
    rng = np.random.default_rng(1)
    x = rng.standard_normal(400_000)
    p = special.ndtr((r * x - tau) / math.sqrt(1 - r**2))
    hy = float(sy.binary_entropy(special.ndtr(-tau)))
    mc = hy - float(np.mean(sy.binary_entropy(p)))
    assert sy.binary_label_mi(cov, [0], 1, threshold=tau) == pytest.approx(mc, abs=3e-3)


def test_gaussian_cch_student_label_mi_matches_fitted_posterior():
    """I(x_S; Y) (quadrature) vs H(Y) - held-out cross-entropy of a logistic regression fitted on
    a large sample: a lower bound that the well-specified-ish fit approaches within 0.02."""
    from sklearn.linear_model import LogisticRegression

    sb = sy.gaussian_cch(100_000, random_state=3)
    x = sb.bundle["student"].data
    y = sb.bundle["student"].labels
    half = x.shape[0] // 2
    clf = LogisticRegression(C=1e4, max_iter=1000).fit(x[:half], y[:half])
    p = np.clip(clf.predict_proba(x[half:])[:, 1], 1e-12, 1 - 1e-12)
    ce = -np.mean(y[half:] * np.log(p) + (1 - y[half:]) * np.log(1 - p))
    pbar = y[half:].mean()
    estimate = float(sy.binary_entropy(pbar)) - ce
    truth = sb.truth["I(student;Y)"]
    assert estimate <= truth + 0.01
    assert estimate == pytest.approx(truth, abs=0.02)


def test_gaussian_cch_teacher_student_mi_matches_plugin_on_200k():
    sb = sy.gaussian_cch(200_000, random_state=5)
    est = _plugin_gaussian_mi(sb.bundle["teacher"].data, sb.bundle["student"].data)
    assert est == pytest.approx(sb.truth["I(teacher;student)"], abs=0.02)
    # and the closed-form score MI
    cov = sb.params["cov"]
    assert sb.truth["I(student;score)"] == pytest.approx(
        sy.gaussian_mi(cov, sb.params["index"]["student"], [sb.params["score_index"]])
    )


def test_gaussian_cch_bayes_accuracy_matches_sample():
    sb = sy.gaussian_cch(200_000, random_state=2)
    cov, idx, d = sb.params["cov"], sb.params["index"], sb.params["score_index"]
    s = np.asarray(idx["student"])
    coef = np.linalg.solve(cov[np.ix_(s, s)], cov[s, d])
    y = sb.bundle["student"].labels
    acc = np.mean((sb.bundle["student"].data @ coef > 0) == y)
    assert acc == pytest.approx(sb.truth["bayes_accuracy[student]"], abs=0.005)


def test_gaussian_cch_truth_keys_units_and_balance():
    sb = sy.gaussian_cch(2000, random_state=0)
    assert isinstance(sb.bundle, ModalityBundle)
    assert sb.bundle.names == ["student", "teacher"]
    assert sb.bundle["student"].data.shape == (2000, 8)
    t = sb.truth
    assert t["margin"] == pytest.approx(t["I(teacher;student)"] - t["I(student;Y)"])
    assert t["I(T;S)"] == t["I(teacher;student)"] and t["I(S;Y)"] == t["I(student;Y)"]
    assert 0 <= t["I(student;Y)"] <= t["H(Y)"] == pytest.approx(math.log(2))
    assert t["I(student;Y)"] <= t["I(student;score)"]
    assert all(isinstance(v, float) for v in t.values())
    assert 0.45 < sb.bundle["student"].labels.mean() < 0.55
    assert sb.bundle.metadata["truth"]["margin"] == t["margin"]


def test_gaussian_cch_pure_noise_teacher_has_zero_mi():
    sb = sy.gaussian_cch(500, teachers={"noise": {"label_strength": 0, "shared_strength": 0}}, random_state=0)
    assert sb.truth["I(noise;student)"] == 0.0
    assert sb.truth["margin"] == pytest.approx(-sb.truth["I(student;Y)"])


def test_gaussian_cch_truth_does_not_depend_on_random_state_but_samples_do():
    a, b = sy.gaussian_cch(300, random_state=0), sy.gaussian_cch(300, random_state=1)
    assert a.truth == b.truth
    assert not np.array_equal(a.bundle["student"].data, b.bundle["student"].data)


def test_adding_a_teacher_keeps_the_others_truth():
    one = sy.gaussian_cch(200, teachers={"t1": {"shared_strength": 1.5}})
    two = sy.gaussian_cch(200, teachers={"t1": {"shared_strength": 1.5}, "t2": {"dim": 5}})
    assert one.truth["margin[t1]"] == pytest.approx(two.truth["margin[t1]"], abs=1e-12)


def test_gaussian_cch_bad_inputs():
    with pytest.raises(InputError, match="k_z \\+ k_a"):
        sy.gaussian_cch(100, dim_s=2, k_z=1, k_a=2)
    with pytest.raises(InputError, match="transform"):
        sy.gaussian_cch(100, transform="spiral!")
    with pytest.raises(InputError, match="noise_s"):
        sy.gaussian_cch(100, noise_s=0)
    with pytest.raises(InputError, match="unknown keys"):
        sy.gaussian_cch(100, teachers={"t": {"strength": 1}})
    with pytest.raises(InputError, match="student"):
        sy.gaussian_cch(100, teachers={"student": {}})
    with pytest.raises(InputError, match="pair"):
        sy.gaussian_cch(100, label_strength=(1, 2, 3))
    with pytest.raises(InputError, match="n must be"):
        sy.gaussian_cch(0)


# ---------------------------------------------------------------------- sweep and ranking bundle
def test_sweep_margins_are_even_monotone_and_cross_zero():
    sweep = sy.gaussian_cch_sweep(8, n=200)
    m = np.array([s.truth["margin"] for s in sweep])
    assert len(sweep) == 8
    assert np.all(np.diff(m) > 0)
    assert m[0] == pytest.approx(-0.3, abs=1e-6) and m[-1] == pytest.approx(0.6, abs=1e-6)
    assert np.allclose(np.diff(m), np.diff(m)[0], atol=1e-6)
    assert m[0] < -0.1 and m[-1] > 0.1
    # the student (hence I(S;Y)) is the same in every configuration, and common random numbers
    assert len({round(s.truth["I(student;Y)"], 12) for s in sweep}) == 1
    assert np.array_equal(sweep[0].bundle["student"].data, sweep[-1].bundle["student"].data)
    betas = [s.params["shared_strength_teacher"] for s in sweep]
    assert np.all(np.diff(betas) > 0)


def test_sweep_unreachable_margins_raise():
    with pytest.raises(InputError, match="reachable range"):
        sy.gaussian_cch_sweep(3, n=100, margins=(-2.0, 0.5))
    with pytest.raises(InputError, match="low < high"):
        sy.gaussian_cch_sweep(3, n=100, margins=(0.5, 0.1))


def test_complementary_teachers_bundle_order_and_signs():
    sb = sy.complementary_teachers_bundle(400, random_state=0)
    assert sb.bundle.names == ["student", "shared", "label_only", "noise"]
    m = sb.margins
    assert sb.params["expected_order"] == ["shared", "label_only", "noise"]
    assert m["shared"] > 0.3 and m["label_only"] < -0.05 and m["noise"] < m["label_only"] - 0.1
    assert sb.params["expected_sign"] == {"shared": 1, "label_only": -1, "noise": -1}
    # accuracy ranks label_only above shared: the two criteria disagree by design
    assert sb.params["accuracy_order"][0] == "label_only"


# ---------------------------------------------------------------------- MFH family
def test_mfh_structure_and_truth():
    sb = sy.mfh(1200, gamma=0.6, random_state=0)
    p = sb.params
    assert sb.bundle.names == ["student", "teacher"]
    assert sb.bundle["teacher"].data.shape == (1200, 20)
    m = p["n_per_modality"]
    shared = set(p["decisive_student"]) & set(p["decisive_teacher"])
    assert len(shared) == p["n_shared"] == 3 and sb.truth["gamma"] == 3 / m
    c2 = (1 + p["copy_noise"] ** 2) ** 2
    assert sb.truth["I(T;S)"] == pytest.approx(3 * 0.5 * math.log(c2 / (c2 - 1)))
    # the decisive channels really are noisy copies of the label's features
    a = p["hyperplane"]
    xs = sb.bundle["student"].data[:, p["positions_student"]]
    corr = np.corrcoef(xs[:, 0], sb.bundle["student"].labels)[0, 1]
    assert np.sign(corr) == np.sign(a[p["decisive_student"][0]])


def test_mfh_closed_forms_match_monte_carlo():
    sb = sy.mfh(200_000, dim=8, n_decisive=6, gamma=2 / 3, random_state=4)
    est = _plugin_gaussian_mi(sb.bundle["teacher"].data, sb.bundle["student"].data)
    assert est == pytest.approx(sb.truth["I(T;S)"], abs=0.02)
    # I(S;Y) through the exact posterior (Monte-Carlo of the same expectation)
    cov, d = sb.params["cov"], sb.params["score_index"]
    s = np.asarray(sb.params["index"]["student"])
    coef = np.linalg.solve(cov[np.ix_(s, s)], cov[s, d])
    v = cov[d, d] - cov[s, d] @ coef
    p = special.ndtr(sb.bundle["student"].data @ coef / math.sqrt(v))
    y = sb.bundle["student"].labels
    mc = float(sy.binary_entropy(y.mean())) - float(np.mean(sy.binary_entropy(p)))
    assert mc == pytest.approx(sb.truth["I(S;Y)"], abs=0.01)
    acc = np.mean((p > 0.5) == y)
    assert acc == pytest.approx(sb.truth["bayes_accuracy[student]"], abs=0.005)


def test_mfh_sweep_overlap_monotone_and_student_fixed():
    sweep = sy.mfh_sweep(n=300)
    g = [s.truth["gamma"] for s in sweep]
    its = [s.truth["I(T;S)"] for s in sweep]
    assert g == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert its[0] == 0.0 and np.all(np.diff(its) > 0)
    assert sweep[0].truth["margin"] < 0 < sweep[-1].truth["margin"]
    assert len({s.truth["I(S;Y)"] for s in sweep}) == 1
    # gamma = 1: the teacher has exactly the student's decisive features
    assert sorted(sweep[-1].params["decisive_teacher"]) == sorted(sweep[-1].params["decisive_student"])


def test_mfh_exact_copies_give_infinite_mi():
    sb = sy.mfh(100, gamma=0.4, copy_noise=0.0)
    assert sb.truth["I(T;S)"] == math.inf
    assert sy.mfh(100, gamma=0.0, copy_noise=0.0).truth["I(T;S)"] == 0.0


def test_mfh_bad_inputs():
    with pytest.raises(InputError, match="gamma"):
        sy.mfh(100, gamma=1.5)
    with pytest.raises(InputError, match="do not fit"):
        sy.mfh(100, dim=3, n_decisive=10)
    with pytest.raises(InputError, match="lacks|raise n_decisive"):
        sy.mfh(100, n_decisive=10, n_per_modality=8, gamma=0.0)
    with pytest.raises(InputError, match="gammas"):
        sy.mfh_sweep(gamma=0.5)


# ---------------------------------------------------------------------- transforms, determinism
@pytest.mark.parametrize("transform", ["half_cube", "asinh"])
def test_transforms_keep_shapes_and_truth(transform):
    base = sy.gaussian_cch(300, random_state=7)
    tr = sy.gaussian_cch(300, random_state=7, transform=transform)
    f = sy.SYNTHETIC_TRANSFORMS[transform]
    for name in base.bundle.names:
        assert tr.bundle[name].data.shape == base.bundle[name].data.shape
        np.testing.assert_allclose(tr.bundle[name].data, f(base.bundle[name].data))
    assert tr.truth == base.truth
    np.testing.assert_array_equal(tr.bundle["student"].labels, base.bundle["student"].labels)
    m0, m1 = sy.mfh(200, random_state=1), sy.mfh(200, random_state=1, transform=transform)
    assert m1.bundle["teacher"].data.shape == m0.bundle["teacher"].data.shape
    assert m1.truth == m0.truth


def test_determinism_same_seed_same_numbers():
    for make in (
        lambda s: sy.gaussian_cch(200, random_state=s),
        lambda s: sy.complementary_teachers_bundle(200, random_state=s),
        lambda s: sy.mfh(200, random_state=s),
    ):
        a, b, c = make(11), make(11), make(12)
        for name in a.bundle.names:
            np.testing.assert_array_equal(a.bundle[name].data, b.bundle[name].data)
            assert not np.array_equal(a.bundle[name].data, c.bundle[name].data)
        np.testing.assert_array_equal(a.bundle[a.bundle.names[0]].labels, b.bundle[b.bundle.names[0]].labels)
    g = sy.gaussian_cch(50, random_state=np.random.default_rng(3))
    h = sy.gaussian_cch(50, random_state=np.random.default_rng(3))
    np.testing.assert_array_equal(g.bundle["teacher"].data, h.bundle["teacher"].data)


def test_bundle_round_trips_through_save(tmp_path):
    sb = sy.complementary_teachers_bundle(100)
    path = tmp_path / "b.npz"
    sb.bundle.save(path)
    back = ModalityBundle.load(path)
    np.testing.assert_array_equal(back["shared"].data, sb.bundle["shared"].data)


def test_truth_is_typed_and_reads_by_the_documented_names():
    sb = sy.gaussian_cch(n=200, random_state=0)
    t = sb.truth
    assert isinstance(t, sy.Truth) and set(t.teachers) == {"teacher"}
    assert t.teachers["teacher"].margin == t["margin"] == t["margin[teacher]"] == sb.margins["teacher"]
    assert t.i_student_label == t["I(student;Y)"] == t["I(S;Y)"]
    assert list(dict(t))[:3] == ["H(Y)", "I(student;Y)", "I(S;Y)"]
    m = sy.mfh(n=200, gamma=0.5, random_state=0)
    assert m.truth["gamma"] == m.truth.extra["gamma"] == m.params["gamma"]


def test_gaussian_mi_refuses_a_matrix_that_is_not_a_covariance():
    with pytest.raises(InputError, match="not positive semi-definite"):
        sy.gaussian_mi(np.array([[1.0, 2.0], [2.0, 1.0]]), [0], [1])
