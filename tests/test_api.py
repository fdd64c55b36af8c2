"""The public API: everything in __all__ exists and the documented calls work."""

from __future__ import annotations

import numpy as np
import pytest

import cchkit


def test_all_names_exist():
    for name in cchkit.__all__:
        assert hasattr(cchkit, name), name


def test_registry_has_builtin_estimators():
    assert "gaussian" in cchkit.list_estimators()


def test_estimate_mi_shortcut():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 1))
    e = cchkit.estimate_mi(x, x + rng.standard_normal((500, 1)), random_state=0)
    assert isinstance(e, cchkit.MIEstimate) and e.estimator == "gaussian" and e.n == 500


def test_register_custom_estimator():
    from cchkit.estimators import RawEstimate, unregister_estimator

    @cchkit.register_estimator("zero-test")
    class Zero(cchkit.MIEstimator):
        description = "always zero (test)"

        def _estimate_continuous(self, x, y):
            return RawEstimate(0.0, (0.0, 0.0), {"ci_method": "none"})

        def _estimate_discrete(self, x, labels):
            return RawEstimate(0.0, (0.0, 0.0), {"ci_method": "none"})

    try:
        assert "zero-test" in cchkit.list_estimators()
        est = cchkit.get_estimator("zero-test").estimate(np.arange(10.0), np.arange(10.0) ** 2)
        assert est.value == 0.0 and est.ci_method == "none" and "ci_method" not in est.extra
        assert isinstance(cchkit.get_estimator("zero-test"), cchkit.Estimator)
    finally:
        unregister_estimator("zero-test")


def test_import_and_datasets_command_do_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, cchkit, cchkit.cli.app; from cchkit.cli.app import main; "
            "sys.argv = ['cchkit', 'datasets', '-f', 'json']; "
            "exec('try:\\n    main()\\nexcept SystemExit:\\n    pass'); "
            "print('torch' in sys.modules, file=sys.stderr)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.stderr.strip().splitlines()[-1] == "False", res.stderr
    assert '"digits-avt"' in res.stdout
    import cchkit

    assert cchkit.distill.distill.__module__ == "cchkit.distill.trainer" and callable(cchkit.validate)


@pytest.mark.parametrize("name", ["gaussian", "ksg", "mine", "infonce"])
def test_estimators_follow_sklearn_conventions(name):
    from sklearn.base import clone

    est = cchkit.get_estimator(name, random_state=7)
    twin = clone(est)
    assert twin is not est and twin.get_params() == est.get_params() and twin.random_state == 7
    assert est.get_params(deep=False) == est.get_params()
    with pytest.raises(cchkit.EstimatorError, match="no parameter"):
        est.set_params(not_a_parameter=1)
    assert est.set_params(random_state=11) is est and est.random_state == 11


def test_set_params_validates_like_the_constructor():
    est = cchkit.get_estimator("ksg", k=3)
    assert est.set_params(k=5).k == 5
    with pytest.raises(cchkit.CchkitError, match="ksg: k must be an integer >= 1, got 0"):
        est.set_params(k=0)
    assert est.k == 5  # a refused value leaves the estimator as it was


def test_mutual_info_one_call():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 2))
    y = x + 0.5 * rng.standard_normal((500, 2))
    est = cchkit.mutual_info(x, y, "ksg", k=5, random_state=0)
    assert est.estimator == "ksg" and est.value == cchkit.get_estimator("ksg", k=5, random_state=0).estimate(x, y).value
    labels = (x[:, 0] > 0).astype(int)
    assert cchkit.mutual_info(x, labels, random_state=0).dim_y == 0


def test_api_takes_a_dataframe_and_refuses_what_it_cannot_read():
    """rank_teachers on a pandas DataFrame (modalities by column prefix), and a one-line error
    when the grouping or the labels are missing (issue #27)."""
    import pandas as pd

    b = cchkit.load_bundle("digits-avt")
    df = pd.DataFrame({**{f"audio_{j}": b.modality("audio").data[:, j] for j in range(6)},
                       **{f"image_{j}": b.modality("image").data[:, j] for j in range(6)},
                       "label": b.classes[b.modality("audio").labels]})
    r = cchkit.rank_teachers(df, "audio", n_bootstrap=20, progress=False)
    assert list(r.table["teacher"]) == ["image"] and r.table["error"].isna().all()
    with pytest.raises(cchkit.InputError, match="the DataFrame has no label column 'label'"):
        cchkit.rank_teachers(df.drop(columns="label"), "audio")
    with pytest.raises(cchkit.InputError, match="cannot make a bundle from a list"):
        cchkit.rank_teachers([1, 2], "audio")


def test_short_reprs():
    b = cchkit.load_bundle("digits-avt")
    assert repr(b) == "ModalityBundle(digits-avt: 10 classes; audio(2000x56), image(2000x61), text(2000x64))"
    assert "<table>" in b._repr_html_() and len(b._repr_html_()) < 2000
    r = cchkit.rank_teachers(b, "audio", n_bootstrap=20, progress=False)
    assert repr(r).startswith("Ranking(recommendations=") and len(repr(r)) < 1500
    assert "advice" in r._repr_html_()
