"""Conformance checks over the whole estimator registry, and hypothesis property tests.

Every registered estimator (the lead's ``gaussian`` included) must return a filled
:class:`MIEstimate` with an interval that brackets its value, keep the label form within
[0, H(Y)], give the same number for the same seed, and reject bad inputs with InputError.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cchkit.datasets.mi_tasks import gaussian_task
from cchkit.estimators import MIEstimate, get_estimator, list_estimators
from cchkit.exceptions import InputError

# small, fast settings per estimator (others get defaults)
FAST = {
    "mine": dict(hidden=32, embed_dim=16, batch_size=64, max_steps=60, eval_every=20),
    "infonce": dict(hidden=32, embed_dim=16, batch_size=64, max_steps=60, eval_every=20),
    "ksg": dict(n_bootstrap=10),
}
NAMES = list_estimators()


def make(name, **kw):
    return get_estimator(name, **{**FAST.get(name, {}), "random_state": 0, **kw})


def test_registry_has_the_core_estimators():
    assert {"ksg", "mine", "infonce"} <= set(NAMES)


@pytest.fixture(scope="module")
def data():
    x, y, truth = gaussian_task("dense", 2, 2, 0.5, n=300, random_state=0)
    labels = (y[:, 0] > 0).astype(np.int64) + (y[:, 1] > 1).astype(np.int64)
    return x, y, labels, truth


@pytest.mark.parametrize("name", NAMES)
def test_returns_filled_estimate(name, data):
    x, y, _, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = make(name).estimate(x, y)
    assert isinstance(est, MIEstimate)
    assert est.estimator == name and est.n == 300 and est.dim_x == 2 and est.dim_y == 2
    assert np.isfinite(est.value) and est.seconds >= 0 and est.seed == 0
    assert est.bound in ("point", "lower", "upper")
    assert isinstance(est.params, dict) and est.ci_method is not None
    assert est.ci is not None
    assert est.ci[0] <= est.value <= est.ci[1]
    d = est.to_dict()
    assert d["estimator"] == name
    assert est.to("bits").value == pytest.approx(est.value / np.log(2))


@pytest.mark.parametrize("name", NAMES)
def test_label_form_within_entropy(name, data):
    x, _, labels, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = make(name).estimate(x, labels)
    h = est.label_entropy
    assert est.dim_y == 0
    assert 0.0 <= est.value <= h + 1e-12
    if est.ci is not None:
        assert 0.0 <= est.ci[0] <= est.ci[1] <= h + 1e-12


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_value(name, data):
    x, y, labels, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = make(name).estimate(x, y), make(name).estimate(x, y)
        c, d = make(name).estimate(x, labels), make(name).estimate(x, labels)
    assert a.value == b.value and a.ci == b.ci
    assert c.value == d.value


@pytest.mark.parametrize("name", NAMES)
def test_bad_inputs_raise(name, data):
    x, y, labels, _ = data
    est = make(name)
    with pytest.raises(InputError):
        est.estimate(x, y[:-1])  # mismatched n
    xn = x.copy()
    xn[3, 0] = np.nan
    with pytest.raises(InputError):
        est.estimate(xn, y)  # NaN
    xc = x.copy()
    xc[:, 1] = 1.0
    with pytest.raises(InputError):
        est.estimate(xc, y)  # constant column
    with pytest.raises(InputError):
        est.estimate(x[:1], y[:1])  # one sample
    k = getattr(est, "k", None)
    if k is not None:
        with pytest.raises(InputError):
            est.estimate(x[:k], y[:k])  # n <= k
    with pytest.raises(InputError):
        est.estimate(x, np.zeros(300, dtype=np.int64))  # a single class


# ------------------------------------------------------------------ hypothesis properties (KSG)
# derandomized: these are statistical checks, so a fixed set of examples keeps them reproducible
# (a random draw can land in the tail: seed 1196 gave 0.0807 > 0.08 for independent KSG)
PROP = settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def _ksg(**kw):
    return get_estimator("ksg", random_state=0, n_bootstrap=0, **kw)


@PROP
@given(seed=st.integers(0, 10_000), mi=st.floats(0.05, 2.0), dy=st.integers(1, 3))
def test_ksg_symmetric(seed, mi, dy):
    x, y, _ = gaussian_task("dense", 2, dy, mi, n=400, random_state=seed)
    a = _ksg(noise=0.0).estimate(x, y).value
    b = _ksg(noise=0.0).estimate(y, x).value
    assert a == pytest.approx(b, abs=1e-12)  # the KSG formula is symmetric in X and Y


@PROP
@given(seed=st.integers(0, 10_000), scale=st.floats(1e-3, 1e3), shift=st.floats(-100, 100))
def test_ksg_invariant_to_affine_scaling(seed, scale, shift):
    x, y, _ = gaussian_task("dense", 2, 2, 0.7, n=400, random_state=seed)
    a = _ksg().estimate(x, y).value
    b = _ksg().estimate(x * scale + shift, y).value
    assert a == pytest.approx(b, abs=1e-6)  # standardisation removes the scale


@PROP
@given(seed=st.integers(0, 10_000), dx=st.integers(1, 3), dy=st.integers(1, 3))
def test_ksg_independent_near_zero(seed, dx, dy):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((600, dx)), rng.standard_normal((600, dy))
    assert abs(_ksg().estimate(x, y).value) < 0.08


@PROP
@given(seed=st.integers(0, 10_000), lo=st.floats(0.1, 1.0), gap=st.floats(0.5, 1.5))
def test_ksg_monotone_in_correlation(seed, lo, gap):
    x1, y1, _ = gaussian_task("sparse", 1, 1, lo, n=800, random_state=seed)
    x2, y2, _ = gaussian_task("sparse", 1, 1, lo + gap, n=800, random_state=seed)
    assert _ksg().estimate(x1, y1).value < _ksg().estimate(x2, y2).value


@PROP
@given(seed=st.integers(0, 10_000), rs=st.integers(0, 2**31 - 2))
def test_ksg_same_seed_same_number(seed, rs):
    x, y, _ = gaussian_task("dense", 2, 2, 0.5, n=300, random_state=seed)
    e = lambda: get_estimator("ksg", random_state=rs, n_bootstrap=5).estimate(x, y)  # noqa: E731
    a, b = e(), e()
    assert a.value == b.value and a.ci == b.ci


@pytest.mark.parametrize("name", NAMES)
def test_monotone_in_correlation_all(name):
    """Every estimator ranks 0.2 nats below 1.5 nats on the same 2x2 task (coarse check)."""
    vals = []
    for mi in (0.2, 1.5):
        x, y, _ = gaussian_task("sparse", 2, 2, mi, n=1500, random_state=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            vals.append(make(name, **({"max_steps": 150} if name in ("mine", "infonce") else {})).estimate(x, y).value)
    assert vals[0] < vals[1]
