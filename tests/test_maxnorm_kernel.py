"""The compiled max-norm kernels against a plain numpy float64 computation (ties included)."""

from __future__ import annotations

import numpy as np
import pytest

from cchkit.estimators import maxnorm
from cchkit.estimators.knn import ksg_mi, ross_mi


def _dist(a: np.ndarray) -> np.ndarray:
    return np.abs(a[:, None, :] - a[None, :, :]).max(axis=2)


def _reference_ksg(x: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    dx, dy = _dist(x), _dist(y)
    eps = np.sort(np.maximum(dx, dy), axis=1)[:, k]
    return (dx < eps[:, None]).sum(1), (dy < eps[:, None]).sum(1)


@pytest.mark.parametrize("n, d, k, ties", [(37, 3, 3, False), (150, 20, 5, False), (120, 7, 3, True), (33, 40, 1, True)])
def test_kernels_equal_numpy_float64(n, d, k, ties):
    rng = np.random.default_rng(n + d)
    x = rng.standard_normal((n, d))
    y = x[:, : max(1, d // 2)] + rng.standard_normal((n, max(1, d // 2)))
    if ties:  # integer grid values and duplicated rows: many distances equal a threshold
        x, y = np.round(x * 2), np.round(y * 2)
        x[::5], y[::5] = x[1::5][: len(x[::5])], y[1::5][: len(y[::5])]
    cx, cy = maxnorm.ksg_counts(x, y, k)
    rx, ry = _reference_ksg(x, y, k)
    np.testing.assert_array_equal(cx, rx)
    np.testing.assert_array_equal(cy, ry)
    eps = maxnorm.kth_distances(x, k)
    np.testing.assert_array_equal(eps, np.sort(_dist(x), axis=1)[:, k])
    np.testing.assert_array_equal(maxnorm.counts_within(x, eps), (_dist(x) < eps[:, None]).sum(1))


def test_brute_force_and_trees_agree_and_threads_do_not_matter():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 9))
    y = x + rng.standard_normal((400, 9))
    tree = ksg_mi(x, y, 3, brute=False)
    assert ksg_mi(x, y, 3, brute=True) == tree
    assert ksg_mi(x, y, 3, brute=True, n_jobs=2) == tree
    labels = rng.integers(0, 4, 400)
    assert ross_mi(x, labels, 3, brute=True) == ross_mi(x, labels, 3, brute=False)


@pytest.mark.parametrize("scale_x, scale_y", [(1e140, 1e140), (1e-140, 1.0), (1e45, 1e-45)])
def test_magnitudes_outside_float32_still_give_exact_counts(scale_x, scale_y):
    """float32 overflows above 3.4e38 (and loses tiny values); such inputs (standardize=False
    accepts magnitudes up to 1e150) must still get the float64 counts, not silently wrong ones."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((90, 4))
    y = x[:, :2] + rng.standard_normal((90, 2))
    x, y = x * scale_x, y * scale_y
    cx, cy = maxnorm.ksg_counts(x, y, 3)
    rx, ry = _reference_ksg(x, y, 3)
    np.testing.assert_array_equal(cx, rx)
    np.testing.assert_array_equal(cy, ry)
