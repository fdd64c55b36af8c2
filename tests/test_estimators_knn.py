"""KSG / Ross k-NN estimators against closed-form MI, scikit-learn, and their known bias.

Tolerances (stated per the design): KSG is accurate in low dimension, within max(0.05,
3 se) of the truth for 1x1 and 2x2 Gaussians with n >= 2000; in higher dimension it is biased
*low*, and the tests check that it is below the truth, not that it is right.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.feature_selection._mutual_info import _compute_mi_cc, _compute_mi_cd

from cchkit.datasets.mi_tasks import apply_transform, gaussian_task
from cchkit.estimators import get_estimator
from cchkit.estimators.knn import KSGEstimator, ksg_mi, ross_mi
from cchkit.exceptions import CchkitWarning, InputError


def _ksg(**kw):
    kw.setdefault("random_state", 0)
    kw.setdefault("n_bootstrap", 20)
    return get_estimator("ksg", **kw)


def test_matches_scikit_learn_univariate():
    x, y, _ = gaussian_task("sparse", 1, 1, 1.0, n=1500, random_state=3)
    for k in (1, 3, 5):
        assert ksg_mi(x, y, k) == pytest.approx(_compute_mi_cc(x[:, 0], y[:, 0], k), abs=1e-10)


def test_ross_matches_scikit_learn_univariate():
    x, y, _ = gaussian_task("sparse", 1, 1, 1.0, n=1500, random_state=3)
    labels = np.digitize(y[:, 0], [-1.0, 0.0, 1.0])
    for k in (1, 3):
        assert ross_mi(x, labels, k) == pytest.approx(_compute_mi_cd(x[:, 0], labels, k), abs=1e-10)


@pytest.mark.parametrize("kind", ["sparse", "dense"])
@pytest.mark.parametrize("dims", [(3, 4), (12, 12)])
def test_brute_force_equals_tree(kind, dims):
    x, y, _ = gaussian_task(kind, dims[0], dims[1], 1.0, n=600, random_state=0)
    assert ksg_mi(x, y, 3, brute=True) == pytest.approx(ksg_mi(x, y, 3, brute=False), abs=1e-12)
    labels = (y[:, 0] > 0).astype(np.int64)
    assert ross_mi(x, labels, 3, brute=True) == pytest.approx(ross_mi(x, labels, 3, brute=False), abs=1e-12)


@pytest.mark.parametrize("case", ["offset", "ties", "small_n"])
def test_brute_force_exact_where_float32_is_not(case):
    """The brute-force path measures in float32 but must count exactly as float64 would.

    ``offset``: a large common offset leaves float32 a resolution coarser than the distances,
    so nearly every comparison needs the float64 recheck; ``ties``: integer-valued columns with
    repeated distances (and repeated rows) put many distances exactly on the thresholds.
    """
    rng = np.random.default_rng(5)
    if case == "offset":
        x, y, _ = gaussian_task("dense", 10, 10, 1.0, n=700, random_state=1)
        x, y = x + 1e4, y - 3e3
    elif case == "ties":
        x = rng.integers(0, 3, size=(800, 12)).astype(float)
        y = x[:, :9] + rng.integers(0, 2, size=(800, 9))
    else:
        x, y, _ = gaussian_task("sparse", 9, 9, 1.0, n=12, random_state=1)
    assert ksg_mi(x, y, 3, brute=True) == pytest.approx(ksg_mi(x, y, 3, brute=False), abs=1e-12)
    labels = rng.integers(0, 3, size=x.shape[0])
    assert ross_mi(x, labels, 3, brute=True) == pytest.approx(ross_mi(x, labels, 3, brute=False), abs=1e-12)


# ground truth grid where KSG is accurate: low dimension
@pytest.mark.parametrize(
    "kind,dx,dy,mi",
    [
        ("sparse", 1, 1, 0.1),
        ("sparse", 1, 1, 1.0),
        ("sparse", 1, 1, 2.0),
        ("dense", 2, 2, 0.5),
        ("dense", 1, 2, 1.0),
    ],
)
def test_accurate_in_low_dimension(kind, dx, dy, mi):
    x, y, truth = gaussian_task(kind, dx, dy, mi, n=3000, random_state=1)
    est = _ksg().estimate(x, y)
    tol = max(0.05, 3 * est.se)
    assert abs(est.value - truth) < tol, (est, truth)


@pytest.mark.parametrize("transform", ["half_cube", "asinh", "spiral"])
def test_invariant_to_invertible_transforms_low_dim(transform):
    x, y, truth = gaussian_task("dense", 2, 2, 1.0, n=3000, random_state=2)
    xt = apply_transform(transform, x)
    est = _ksg().estimate(xt, y)
    # transforms make the density harder: looser than the Gaussian grid. The spiral bends the
    # density strongly and KSG is known to under-estimate it (bmi's anchors: 0.57 for 1.02 in
    # 5x5), so there the test checks "low, not far off" rather than "right".
    if transform == "spiral":
        assert truth - 0.35 < est.value < truth + 0.05, (transform, est, truth)
    else:
        assert abs(est.value - truth) < 0.15, (transform, est, truth)


@pytest.mark.parametrize("dims,mi", [((5, 5), 1.0), ((5, 5), 5.0), ((25, 25), 1.0), ((25, 25), 5.0)])
def test_biased_low_in_high_dimension(dims, mi):
    x, y, truth = gaussian_task("sparse", dims[0], dims[1], mi, n=1000, random_state=0, n_pairs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = _ksg(n_bootstrap=0).estimate(x, y)
    assert est.value < truth  # known, documented bias: always low here
    assert est.value > -0.2


def test_warns_in_high_dimension():
    """A CchkitWarning, which a user filters with cchkit's other warnings."""
    x, y, _ = gaussian_task("sparse", 8, 8, 1.0, n=200, random_state=0)
    with pytest.warns(CchkitWarning, match="biased low"):
        est = _ksg(n_bootstrap=0).estimate(x, y)
    assert est.extra["warnings"]


def test_label_form_ross():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 3000)
    centres = np.array([[-2.0, 0.0], [0.0, 2.0], [2.0, 0.0]])
    x = centres[labels] + rng.standard_normal((3000, 2))
    est = _ksg().estimate(x, labels)
    assert est.dim_y == 0 and 0 <= est.value <= np.log(3)
    # Monte-Carlo truth for this mixture: H(Y) - E[H(Y|x)]
    logp = -0.5 * ((x[:, None, :] - centres[None]) ** 2).sum(-1)
    post = np.exp(logp - logp.max(1, keepdims=True))
    post /= post.sum(1, keepdims=True)
    truth = np.log(3) + np.mean(np.sum(post * np.log(post + 1e-300), axis=1))
    assert abs(est.value - truth) < 0.05
    assert est.extra["method"] == "ross2014"


def test_interval_and_metadata():
    x, y, _ = gaussian_task("sparse", 2, 2, 1.0, n=800, random_state=0)
    est = _ksg(n_bootstrap=30).estimate(x, y)
    assert est.ci[0] <= est.value <= est.ci[1]
    assert "subsampling" in est.ci_method
    assert est.bound == "point" and est.extra["search"] == "kdtree"
    none = _ksg(n_bootstrap=0).estimate(x, y)
    assert none.ci is None and none.value == est.value


def test_interval_covers_spread_of_repeats():
    """The subsampling se is of the same order as the seed-to-seed spread of the estimate."""
    vals, ses = [], []
    for seed in range(8):
        x, y, _ = gaussian_task("sparse", 1, 1, 1.0, n=1000, random_state=100 + seed)
        e = _ksg(n_bootstrap=40).estimate(x, y)
        vals.append(e.value)
        ses.append(e.se)
    sd = np.std(vals, ddof=1)
    assert 0.3 * sd < np.mean(ses) < 3.0 * sd


def test_parameters_validated():
    for bad in (dict(k=0), dict(k=1.5), dict(noise=-1.0), dict(n_bootstrap=1), dict(n_jobs=0),
                dict(subsample_size=1)):
        with pytest.raises(InputError):
            KSGEstimator(**bad)
    assert KSGEstimator(k=5).min_samples() == 12


def test_n_jobs_same_answer():
    x, y, _ = gaussian_task("dense", 3, 3, 1.0, n=3000, random_state=0)
    a = _ksg(n_jobs=1, n_bootstrap=0).estimate(x, y).value
    b = _ksg(n_jobs=2, n_bootstrap=0).estimate(x, y).value
    assert a == b


@pytest.mark.slow
def test_larger_sample_close_to_truth():
    x, y, truth = gaussian_task("sparse", 1, 1, 3.0, n=30_000, random_state=0)
    est = _ksg(n_bootstrap=10).estimate(x, y)
    assert abs(est.value - truth) < 0.03
