"""The ranking's shrinkage LDA (cchkit.representations.lda) against scikit-learn's
LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"), and the Ledoit-Wolf covariance
against sklearn.covariance.ledoit_wolf."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.covariance import ledoit_wolf
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from cchkit.representations.lda import fit_lda, ledoit_wolf_covariance


def _data(seed, n=300, d=6, k=4):
    rng = np.random.default_rng(seed)
    y = rng.choice(k, size=n, p=np.linspace(1, 2, k) / np.linspace(1, 2, k).sum())
    x = rng.normal(size=(k, d))[y] * 1.5 + rng.normal(size=(n, d)) @ rng.normal(size=(d, d))
    return x, y + 3  # labels that are not 0..K-1


@pytest.mark.parametrize("d", [1, 5, 40])
def test_ledoit_wolf_is_sklearns(d):
    z = np.random.default_rng(d).normal(size=(60, d)) * np.arange(1, d + 1)
    np.testing.assert_allclose(ledoit_wolf_covariance(z), ledoit_wolf(z)[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed,k", [(0, 4), (1, 2), (2, 10)])
def test_lda_is_sklearns(seed, k):
    x, y = _data(seed, k=k)
    x[y == y.min(), 2] = 0.7  # a feature constant within one class
    train, test = slice(0, 200), slice(200, None)
    ref = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(x[train], y[train])
    ours = fit_lda(x[train], y[train])
    np.testing.assert_array_equal(ours.classes, ref.classes_)
    np.testing.assert_allclose(ours.predict_proba(x[test]), ref.predict_proba(x[test]), rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(ours.predict(x[test]), ref.predict(x[test]))
