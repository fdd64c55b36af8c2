"""The compiled max-norm kernels (brute force and k-d tree) against a plain numpy float64
computation (ties included)."""

from __future__ import annotations

import numpy as np
import pytest

from cchkit.estimators import kdtree, maxnorm
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


def _data(n: int, d: int, ties: bool, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, d))
    if ties:  # integer grid values and duplicated rows: many distances equal a threshold
        z = np.round(z * 2)
        z[::4] = z[1::4][: len(z[::4])]
    return z


@pytest.mark.parametrize(
    "n, d, k, ties",
    [(1, 2, 1, False), (5, 1, 3, False), (700, 1, 3, True), (1500, 3, 3, False), (1200, 5, 4, True), (900, 12, 2, False)],
)
def test_tree_equals_numpy_float64(n, d, k, ties):
    """Exact to the last bit, with leaves small enough that the 700+ row cases are multi-level
    trees (and with the default leaves, one level at n = 1 and 5)."""
    z = _data(n, d, ties, seed=n * 7 + d)
    dist = _dist(z)
    eps = np.sort(dist, axis=1)[:, min(k, n - 1)]
    for leaf in (kdtree.LEAF_SIZE, 4):
        kdtree.LEAF_SIZE, before = leaf, kdtree.LEAF_SIZE
        try:
            if n > k:
                np.testing.assert_array_equal(kdtree.tree_kth_distances(z, k), eps)
            np.testing.assert_array_equal(kdtree.tree_counts_within(z, eps), (dist < eps[:, None]).sum(1))
            radius = dist[:, n // 2]  # a radius equal to a distance: the point on it is not counted
            np.testing.assert_array_equal(kdtree.tree_counts_within(z, radius), (dist < radius[:, None]).sum(1))
        finally:
            kdtree.LEAF_SIZE = before


def test_tree_threads_and_row_order_do_not_matter():
    z = _data(3000, 4, ties=True, seed=1)
    with maxnorm.threads(1):
        eps1 = kdtree.tree_kth_distances(z, 3)
        counts1 = kdtree.tree_counts_within(z, eps1)
    with maxnorm.threads(2):
        eps2 = kdtree.tree_kth_distances(z, 3)
        counts2 = kdtree.tree_counts_within(z, eps1)
        reversed_counts = kdtree.tree_counts_within(z[::-1], eps1[::-1])[::-1]
    np.testing.assert_array_equal(eps1, eps2)
    np.testing.assert_array_equal(counts1, counts2)
    np.testing.assert_array_equal(counts1, reversed_counts)


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
