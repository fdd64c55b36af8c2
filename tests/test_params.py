"""The declarative parameter checks (cchkit._params) and that every estimator uses them alike."""

from __future__ import annotations

import numpy as np
import pytest

import cchkit
from cchkit._params import BOOL, NONE, Integral, Interval, Options, Real, check_param, validate_params
from cchkit.exceptions import InputError


@pytest.mark.parametrize("name", ["gaussian", "ksg"])
@pytest.mark.parametrize("bad", [True, 1.5, "200", -1, float("nan")])
def test_estimators_agree_on_bad_n_bootstrap(name, bad):
    """The review's example: gaussian accepted n_bootstrap=True and 1.5, KSG refused both."""
    with pytest.raises(InputError, match=rf"^{name}: n_bootstrap must be"):
        cchkit.get_estimator(name, n_bootstrap=bad)


def test_numpy_integers_are_integers_and_bools_are_not():
    assert cchkit.get_estimator("ksg", k=np.int64(4)).k == 4
    with pytest.raises(InputError, match="k must be an integer >= 1, got True"):
        cchkit.get_estimator("ksg", k=True)


@pytest.mark.parametrize(
    "value, ok",
    [(0, False), (1, True), (2.5, True), (3, True), (3.5, False), (float("inf"), False), (True, False), ("1", False)],
)
def test_interval_bounds_and_types(value, ok):
    cons = [Interval(Real, 0, 3, closed="right")]
    if ok:
        check_param("f", "x", value, cons)
    else:
        with pytest.raises(InputError, match=r"^f: x must be a number in \(0, 3\], got "):
            check_param("f", "x", value, cons)


def test_options_none_bool_and_types_in_one_message():
    cons = [Options(["auto", "full"]), NONE, BOOL, str]
    for v in ("auto", None, False, "anything"):
        check_param("g", "mode", v, cons)
    with pytest.raises(InputError) as err:
        check_param("g", "mode", 3, cons)
    assert str(err.value) == "g: mode must be one of 'auto', 'full' or None or True or False or a str, got 3."


def test_validate_params_checks_defaults_and_names_the_function():
    @validate_params({"k": [Interval(Integral, 1, None)]})
    def f(*, k: int = 0) -> int:
        return k

    with pytest.raises(InputError, match="^.*f: k must be an integer >= 1, got 0.$"):
        f()
    assert f(k=2) == 2
    with pytest.raises(TypeError, match="unknown parameters"):
        validate_params({"nope": [NONE]})(lambda *, k=1: k)


def test_encoder_and_synthetic_settings_use_the_same_rules():
    from cchkit.datasets import synthetic
    from cchkit.representations import encoder_representations

    x = {"a": np.random.default_rng(0).normal(size=(40, 3))}
    y = np.repeat([0, 1], 20)
    with pytest.raises(InputError, match="epochs must be an integer >= 1, got 1.5"):
        encoder_representations(x, y, epochs=1.5)
    with pytest.raises(InputError, match="n_threads must be None or an integer >= 1, got 0"):
        encoder_representations(x, y, n_threads=0)
    with pytest.raises(InputError, match="n must be an integer >= 2, got True"):
        synthetic.gaussian_cch(n=True)
    with pytest.raises(InputError, match="n must be an integer >= 2, got 100.5"):
        synthetic.mfh(n=100.5)
