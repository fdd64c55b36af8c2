"""Compiled (numba) max-norm k-d tree for the k-NN estimators in low dimension.

One balanced tree over the rows of ``z`` answers the two queries KSG and Ross need, for every
row of ``z`` at once:

* :func:`tree_kth_distances`: the max-norm distance ``eps_i`` from row i to its k-th nearest
  other row (Kraskov et al. 2004; Ross 2014 within a class);
* :func:`tree_counts_within`: the number of rows (row i included) at max-norm distance
  strictly less than ``radius_i``.

The tree splits each node at the median of its widest coordinate (heap layout: node ``i`` has
children ``2i + 1`` and ``2i + 2``) and keeps each leaf's bounding box. Both searches go depth
first, nearer child first, carrying a lower bound on the distance to a node's rows that is
raised only where a split plane separates them from the query (Arya and Mount's incremental
distance: one coordinate per node for the max-norm); a node whose bound reaches the current k-th
distance (kNN) or the radius (count) is skipped, and so is a leaf whose box does, before its
rows are scanned (vectorised, from a column-major copy). Both are exact: float64 subtraction is
monotone, so no row is nearer than its node's bound or its leaf's box, and the values are those
of the brute force to the last bit (tested). Queries run in tree order (cache-friendly) and in parallel
threads (``numba.prange``, :func:`cchkit.estimators.maxnorm.threads`); the result does not depend
on the number of threads.

Measured against scikit-learn's Chebyshev ``KDTree`` in benchmarks/results/ksg_kernel.md.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["tree_kth_distances", "tree_counts_within", "LEAF_SIZE"]

#: rows per leaf: small leaves prune better, large ones vectorise the leaf scans better; 128 was
#: the fastest of the sizes tried for KSG at 2 to 16 total dimensions (benchmarks/ksg_kernel.py)
LEAF_SIZE = 128
#: queries per parallel chunk (consecutive in tree order, so they share the nodes they visit)
_CHUNK = 256

_JIT = dict(cache=True, nogil=True, boundscheck=False)


@numba.njit(**_JIT)
def _levels(n, leaf_size):  # noqa: ANN001, ANN202
    levels = 1
    while (n >> (levels - 1)) > leaf_size:
        levels += 1
    return levels


@numba.njit(**_JIT)
def _box(z, perm, s, e, lo, hi):  # noqa: ANN001, ANN202
    """lo, hi = the coordinate-wise min and max of rows perm[s:e] of z (inf, -inf if empty)."""
    lo[:], hi[:] = np.inf, -np.inf
    for p in range(s, e):
        for t in range(z.shape[1]):
            v = z[perm[p], t]
            lo[t] = min(lo[t], v)
            hi[t] = max(hi[t], v)


@numba.njit(**_JIT)
def _build(z, leaf_size):  # noqa: ANN001, ANN202
    """(perm, start, end, split_dim, split_val, lo, hi): row order, each node's row range, the
    coordinate and value that split it (left rows <= split_val <= right rows), and each leaf's
    bounding box."""
    n, d = z.shape
    n_nodes = (1 << _levels(n, leaf_size)) - 1
    perm = np.arange(n)
    start = np.zeros(n_nodes, dtype=np.int64)
    end = np.zeros(n_nodes, dtype=np.int64)
    split_dim = np.zeros(n_nodes, dtype=np.int64)
    split_val = np.zeros(n_nodes)
    lo, hi = np.empty(d), np.empty(d)
    end[0] = n
    for node in range((n_nodes - 1) // 2):  # the internal nodes, parents before children
        s, e = start[node], end[node]
        mid = s + (e - s) // 2
        start[2 * node + 1], end[2 * node + 1] = s, mid
        start[2 * node + 2], end[2 * node + 2] = mid, e
        if e - s < 2:
            continue
        _box(z, perm, s, e, lo, hi)
        dim = np.argmax(hi - lo)
        idx = perm[s:e]
        perm[s:e] = idx[np.argsort(z[idx, dim], kind="mergesort")]
        split_dim[node], split_val[node] = dim, z[perm[mid], dim]
    return (perm, start, end, split_dim, split_val) + _leaf_boxes(z, perm, start, end)


@numba.njit(**_JIT)
def _leaf_boxes(z, perm, start, end):  # noqa: ANN001, ANN202
    """(lo, hi): each leaf's bounding box, indexed by node - n_internal."""
    n_nodes, d = start.shape[0], z.shape[1]
    first = (n_nodes - 1) // 2
    lo, hi = np.empty((n_nodes - first, d)), np.empty((n_nodes - first, d))
    for leaf in range(n_nodes - first):
        _box(z, perm, start[first + leaf], end[first + leaf], lo[leaf], hi[leaf])
    return lo, hi


@numba.njit(**_JIT)
def _children(q, node, split_dim, split_val, bound):  # noqa: ANN001, ANN202
    """(near child, far child, lower bound on the distance from q to the far child's rows).

    ``bound`` bounds the node's rows; the far child's rows also lie beyond the split plane, so
    ``max(bound, |q_t - split|)`` bounds them (Arya and Mount's incremental distance, which for
    the max-norm is exact as a bound and costs one coordinate)."""
    t = split_dim[node]
    off = q[t] - split_val[node]
    left = 2 * node + 1
    if off < 0.0:
        return left, left + 1, max(bound, -off)
    return left + 1, left, max(bound, off)


@numba.njit(**_JIT)
def _push_children(q, node, split_dim, split_val, bound, nodes, bounds, top):  # noqa: ANN001, ANN202
    """Push node's far child, then its near child (visited first), with their distance bounds."""
    near, far, far_bound = _children(q, node, split_dim, split_val, bound)
    nodes[top], bounds[top] = far, far_bound
    nodes[top + 1], bounds[top + 1] = near, bound
    return top + 2


@numba.njit(**_JIT)
def _insert(buf, v):  # noqa: ANN001, ANN202
    """Insert v into the ascending buffer, dropping its largest value."""
    p = buf.shape[0] - 1
    while p > 0 and buf[p - 1] > v:
        buf[p] = buf[p - 1]
        p -= 1
    buf[p] = v


@numba.njit(**_JIT)
def _leaf_near(q, lo, hi, leaf):  # noqa: ANN001, ANN202
    """Max-norm distance from q to the nearest point of the leaf's bounding box."""
    near = 0.0
    for t in range(q.shape[0]):
        near = max(near, lo[leaf, t] - q[t], q[t] - hi[leaf, t])
    return near


@numba.njit(**_JIT)
def _leaf_dists(zt, q, s, e, dist):  # noqa: ANN001, ANN202
    """dist[: e - s] = max-norm distances from q to rows s..e-1, vectorised over the rows of the
    column-major copy ``zt``."""
    m = e - s
    dist[:m] = 0.0
    for t in range(q.shape[0]):
        col = zt[t, s:e]
        v = q[t]
        for j in range(m):
            dist[j] = max(dist[j], abs(col[j] - v))


@numba.njit(**_JIT)
def _kth_one(zt, q, tree, buf, work):  # noqa: ANN001, ANN202
    """The (len(buf))-th smallest max-norm distance from q to the rows (q's own row included)."""
    start, end, split_dim, split_val, lo, hi = tree
    nodes, bounds, dist = work
    n_internal = (start.shape[0] - 1) // 2
    buf[:] = np.inf
    top = 1
    nodes[0], bounds[0] = 0, 0.0
    while top > 0:
        top -= 1
        node, bound = nodes[top], bounds[top]
        kth = buf[buf.shape[0] - 1]
        if bound >= kth:
            continue
        if node < n_internal:
            top = _push_children(q, node, split_dim, split_val, bound, nodes, bounds, top)
        elif _leaf_near(q, lo, hi, node - n_internal) < kth:
            s, e = start[node], end[node]
            _leaf_dists(zt, q, s, e, dist)
            for j in range(e - s):
                if dist[j] < kth:
                    _insert(buf, dist[j])
                    kth = buf[buf.shape[0] - 1]
    return buf[buf.shape[0] - 1]


@numba.njit(**_JIT)
def _count_one(zt, q, r, tree, work):  # noqa: ANN001, ANN202
    """Rows at max-norm distance strictly less than r from q."""
    start, end, split_dim, split_val, lo, hi = tree
    nodes, bounds, dist = work
    n_internal = (start.shape[0] - 1) // 2
    c = 0
    top = 1
    nodes[0], bounds[0] = 0, 0.0
    while top > 0:
        top -= 1
        node, bound = nodes[top], bounds[top]
        if bound >= r:
            continue
        if node < n_internal:
            top = _push_children(q, node, split_dim, split_val, bound, nodes, bounds, top)
        elif _leaf_near(q, lo, hi, node - n_internal) < r:
            s, e = start[node], end[node]
            _leaf_dists(zt, q, s, e, dist)
            for j in range(e - s):
                c += dist[j] < r
    return c


_STACK = 2 * 64 + 2  # the depth-first stack never holds more than two nodes per level


@numba.njit(**_JIT)
def _work(leaf_rows):  # noqa: ANN001, ANN202
    """One thread's scratch: the stack's nodes and bounds, and a leaf's distances."""
    return np.empty(_STACK, dtype=np.int64), np.empty(_STACK), np.empty(leaf_rows)


@numba.njit(parallel=True, **_JIT)
def _kth_all(zs, zt, k, tree, leaf_rows, out):  # noqa: ANN001, ANN202
    n = zs.shape[0]
    for c in numba.prange((n + _CHUNK - 1) // _CHUNK):
        buf = np.empty(k + 1)
        work = _work(leaf_rows)
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            out[i] = _kth_one(zt, zs[i], tree, buf, work)


@numba.njit(parallel=True, **_JIT)
def _count_all(zs, zt, radius, tree, leaf_rows, out):  # noqa: ANN001, ANN202
    n = zs.shape[0]
    for c in numba.prange((n + _CHUNK - 1) // _CHUNK):
        work = _work(leaf_rows)
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            out[i] = _count_one(zt, zs[i], radius[i], tree, work)


def _tree(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...], np.ndarray, int]:
    """(rows in tree order, their column-major copy, the tree's arrays, the permutation, the
    largest leaf's rows)."""
    z = np.ascontiguousarray(z, dtype=np.float64)
    perm, *tree = _build(z, LEAF_SIZE)
    zs = np.ascontiguousarray(z[perm])
    start, end = tree[0], tree[1]
    leaf_rows = int((end - start).max())  # the tree has at least its root
    return zs, np.ascontiguousarray(zs.T), tuple(tree), perm, leaf_rows


def tree_kth_distances(z: np.ndarray, k: int) -> np.ndarray:
    """Max-norm distance from each row of ``z`` to its k-th nearest other row (exact)."""
    zs, zt, tree, perm, leaf_rows = _tree(z)
    dist = np.empty(zs.shape[0])
    _kth_all(zs, zt, int(k), tree, leaf_rows, dist)
    out = np.empty_like(dist)
    out[perm] = dist
    return out


def tree_counts_within(z: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """For each row, the rows of ``z`` (itself included) at max-norm distance < ``radius``."""
    zs, zt, tree, perm, leaf_rows = _tree(z)
    counts = np.empty(zs.shape[0], dtype=np.int64)
    radius = np.ascontiguousarray(np.asarray(radius, dtype=np.float64)[perm])
    _count_all(zs, zt, radius, tree, leaf_rows, counts)
    out = np.empty_like(counts)
    out[perm] = counts
    return out
