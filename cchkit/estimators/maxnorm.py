"""Compiled (numba) brute-force max-norm neighbour kernels for the k-NN estimators.

The max-norm ``d(i, j) = max_t |z_it - z_jt|`` has no matrix-product form, so brute force is a
loop over pairs, with the innermost loop contiguous over reference rows (the data are stored
column-major, one coordinate per row of ``zt``) so that LLVM vectorises it, over blocks of
``_ROWS`` query rows that run in parallel threads (``numba.prange``; results do not depend on
the number of threads).

* :func:`ksg_counts` computes distances in float32, in tiles of ``_TILE`` columns that stay in
  cache while the coordinates stream past, and redoes in float64 the k-th distance and every
  comparison that float32 cannot settle (a distance within ``tol`` of a threshold), so every
  count is exactly what float64 arithmetic gives (tested against numpy with ties).
* :func:`kth_distances` and :func:`counts_within` (Ross's label form) do the same on one
  space; outside float32's safe range (:func:`_float32_safe`) all three compute in float64.

Importing this module imports numba (:mod:`.knn` imports it, and :mod:`.kdtree`, on the first
estimate, not at ``import cchkit``). The compiled code is cached on disk next to the module, so
only the first call ever compiles (a few seconds); a fresh process then loads it from the cache
(0.28 s for the first ``ksg_mi`` call in one measurement).

Kraskov et al. (2004) algorithm 1 needs, for each sample, the distance ``eps_i`` to its k-th
nearest neighbour in the joint space ``(x, y)`` and the counts of samples strictly closer than
``eps_i`` in x and in y (:func:`ksg_counts`); Ross (2014) needs the k-th distance within a class
and the count over all samples (:func:`kth_distances`, :func:`counts_within`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numba
import numpy as np

__all__ = ["ksg_counts", "kth_distances", "counts_within", "threads"]

#: Query rows per block (one thread's unit of work), columns per float32 tile, and the float32
#: candidates per row measured exactly for the k-th distance beyond the k + 1 needed.
_ROWS = 16
_TILE = 256
_MARGIN = 8
#: parallel parts of the row blocks (enough to balance 16+ threads)
_PARTS = 64


_JIT = dict(cache=True, nogil=True, boundscheck=False)


@numba.njit(**_JIT)
def _distances(zt, r0, nrows, out):  # noqa: ANN001, ANN202
    """out[r, j] = max_t |zt[t, j] - zt[t, r0 + r]|: max-norm distances from rows r0 ..
    r0 + nrows - 1 to every row, one coordinate at a time (contiguous over j, vectorised)."""
    n = zt.shape[1]
    for r in range(nrows):
        for j in range(n):
            out[r, j] = 0.0
    for t in range(zt.shape[0]):
        col = zt[t]
        for r in range(nrows):
            v = col[r0 + r]
            row = out[r]
            for j in range(n):
                d = abs(col[j] - v)
                if d > row[j]:
                    row[j] = d


@numba.njit(**_JIT)
def _kth(row_a, row_b, k, buf):  # noqa: ANN001, ANN202
    """The (k+1)-th smallest of max(row_a, row_b): the k-th neighbour (self, at 0, is first)."""
    m = 0
    for j in range(row_a.shape[0]):
        d = row_a[j] if row_a[j] > row_b[j] else row_b[j]
        if m <= k:
            p = m
            m += 1
        elif d < buf[k]:
            p = k
        else:
            continue
        while p > 0 and buf[p - 1] > d:
            buf[p] = buf[p - 1]
            p -= 1
        buf[p] = d
    return buf[k]


@numba.njit(**_JIT)
def _below(row, e):  # noqa: ANN001, ANN202
    c = 0
    for j in range(row.shape[0]):
        c += row[j] < e
    return c


@numba.njit(**_JIT)
def _block(zt, b):  # noqa: ANN001, ANN202
    """(first row, rows, float64 distances of those rows to every row) of block ``b``."""
    n = zt.shape[1]
    r0 = b * _ROWS
    nrows = min(_ROWS, n - r0)
    d = np.empty((_ROWS, n))
    _distances(zt, r0, nrows, d)
    return r0, nrows, d


@numba.njit(parallel=True, **_JIT)
def _kth_all(zt, k, eps):  # noqa: ANN001, ANN202
    for b in numba.prange((zt.shape[1] + _ROWS - 1) // _ROWS):
        r0, nrows, d = _block(zt, b)
        buf = np.empty(k + 1)
        for r in range(nrows):
            eps[r0 + r] = _kth(d[r], d[r], k, buf)


@numba.njit(parallel=True, **_JIT)
def _count_all(zt, radius, out):  # noqa: ANN001, ANN202
    for b in numba.prange((zt.shape[1] + _ROWS - 1) // _ROWS):
        r0, nrows, d = _block(zt, b)
        for r in range(nrows):
            out[r0 + r] = _below(d[r], radius[r0 + r])


@numba.njit(**_JIT)
def _distances32(zt, r0, nrows, out):  # noqa: ANN001, ANN202
    """float32 max-norm distances, in tiles of _TILE columns that stay in L1 while every
    coordinate streams past (the float64 loop above is bandwidth-bound; this one is not)."""
    n = zt.shape[1]
    out[:nrows] = 0.0
    for j0 in range(0, n, _TILE):
        j1 = min(n, j0 + _TILE)
        for t in range(zt.shape[0]):
            c = zt[t, j0:j1]
            for r in range(nrows):
                v = zt[t, r0 + r]
                seg = out[r, j0:j1]
                for j in range(c.shape[0]):
                    d = abs(c[j] - v)
                    if d > seg[j]:
                        seg[j] = d


@numba.njit(**_JIT)
def _exact(zt, i, j):  # noqa: ANN001, ANN202
    """The float64 max-norm distance between rows i and j."""
    d = 0.0
    for t in range(zt.shape[0]):
        a = abs(zt[t, i] - zt[t, j])
        if a > d:
            d = a
    return d


@numba.njit(**_JIT)
def _insert_candidate(cand_v, cand_j, p, d, j):  # noqa: ANN001, ANN202
    """Insert (d, j) into the ascending cand_v[: p + 1], dropping the value at position p."""
    while p > 0 and cand_v[p - 1] > d:
        cand_v[p] = cand_v[p - 1]
        cand_j[p] = cand_j[p - 1]
        p -= 1
    cand_v[p] = d
    cand_j[p] = j


@numba.njit(**_JIT)
def _candidates(row_x, row_y, cand_v, cand_j):  # noqa: ANN001, ANN202
    """The m = len(cand_v) smallest float32 joint distances max(row_x, row_y), ascending, with
    their rows; returns how many were filled (min(m, n))."""
    n, m = row_x.shape[0], cand_v.shape[0]
    filled = min(n, m)
    for j in range(filled):
        _insert_candidate(cand_v, cand_j, j, max(row_x[j], row_y[j]), j)
    thr = cand_v[m - 1]
    for j in range(filled, n):  # one predictable branch per row: rarely taken
        d = max(row_x[j], row_y[j])
        if d < thr:
            _insert_candidate(cand_v, cand_j, m - 1, d, j)
            thr = cand_v[m - 1]
    return filled


@numba.njit(**_JIT)
def _kth_exact(xt, yt, i, k, row_x, row_y, tol, cand_v, cand_j, exact):  # noqa: ANN001, ANN202
    """The exact k-th joint neighbour distance of row i from its float32 distances: the m
    nearest float32 candidates are measured in float64; when a non-candidate could still be
    nearer (within ``tol``), every row is measured."""
    n = row_x.shape[0]
    filled = _candidates(row_x, row_y, cand_v, cand_j)
    for c in range(filled):
        exact[c] = max(_exact(xt, i, cand_j[c]), _exact(yt, i, cand_j[c]))
    eps = np.sort(exact[:filled])[k]
    if filled < n and cand_v[filled - 1] - tol <= eps:  # ties near the threshold: measure all
        full = np.empty(n)
        for j in range(n):
            full[j] = max(_exact(xt, i, j), _exact(yt, i, j))
        eps = np.sort(full)[k]
    return eps


@numba.njit(**_JIT)
def _f32_outside(lo, hi):  # noqa: ANN001, ANN202
    """float32 values lo32 <= lo and hi32 >= hi (float64 lo, hi), so float32 comparisons with
    them are sure whenever the float64 ones would be."""
    lo32, hi32 = np.float32(lo), np.float32(hi)
    if lo32 > lo:
        lo32 = np.nextafter(lo32, np.float32(-np.inf))
    if hi32 < hi:
        hi32 = np.nextafter(hi32, np.float32(np.inf))
    return lo32, hi32


@numba.njit(**_JIT)
def _count_exact(zt, i, row, e, tol):  # noqa: ANN001, ANN202
    """Rows strictly within ``e`` of row i: float32 where it is sure (one vectorised pass),
    float64 for the rows within ``tol`` of ``e``, where it is not."""
    lo, hi = _f32_outside(e - tol, e + tol)
    c = 0
    unsure = 0
    for j in range(row.shape[0]):
        d = row[j]
        c += d < lo
        unsure += (d >= lo) & (d <= hi)
    if unsure:
        for j in range(row.shape[0]):
            if row[j] >= lo and row[j] <= hi and _exact(zt, i, j) < e:
                c += 1
    return c


@numba.njit(**_JIT)
def _parts(n):  # noqa: ANN001, ANN202
    """(blocks of _ROWS rows, parallel parts): each part allocates its scratch once (a fresh
    16 x n buffer per block cost 30% of the time at n = 20,000); the split into parts does not
    depend on the number of threads."""
    blocks = (n + _ROWS - 1) // _ROWS
    return blocks, min(blocks, _PARTS)


@numba.njit(parallel=True, **_JIT)
def _kth32_all(zt, zt32, k, tol, eps):  # noqa: ANN001, ANN202
    n = zt.shape[1]
    m = min(n, k + 1 + _MARGIN)
    blocks, parts = _parts(n)
    for part in numba.prange(parts):
        d = np.empty((_ROWS, n), dtype=np.float32)
        cand_v, cand_j, exact = np.empty(m, dtype=np.float32), np.empty(m, dtype=np.int64), np.empty(m)
        for b in range(part * blocks // parts, (part + 1) * blocks // parts):
            r0 = b * _ROWS
            nrows = min(_ROWS, n - r0)
            _distances32(zt32, r0, nrows, d)
            for r in range(nrows):
                eps[r0 + r] = _kth_exact(zt, zt, r0 + r, k, d[r], d[r], tol, cand_v, cand_j, exact)


@numba.njit(parallel=True, **_JIT)
def _count32_all(zt, zt32, radius, tol, out):  # noqa: ANN001, ANN202
    n = zt.shape[1]
    blocks, parts = _parts(n)
    for part in numba.prange(parts):
        d = np.empty((_ROWS, n), dtype=np.float32)
        for b in range(part * blocks // parts, (part + 1) * blocks // parts):
            r0 = b * _ROWS
            nrows = min(_ROWS, n - r0)
            _distances32(zt32, r0, nrows, d)
            for r in range(nrows):
                out[r0 + r] = _count_exact(zt, r0 + r, d[r], radius[r0 + r], tol)


@numba.njit(parallel=True, **_JIT)
def _ksg32(xt, yt, xt32, yt32, k, tol_x, tol_y, cx, cy):  # noqa: ANN001, ANN202
    n = xt.shape[1]
    m = min(n, k + 1 + _MARGIN)
    blocks, parts = _parts(n)
    for part in numba.prange(parts):
        dx = np.empty((_ROWS, n), dtype=np.float32)
        dy = np.empty((_ROWS, n), dtype=np.float32)
        cand_v, cand_j, exact = np.empty(m, dtype=np.float32), np.empty(m, dtype=np.int64), np.empty(m)
        for b in range(part * blocks // parts, (part + 1) * blocks // parts):
            r0 = b * _ROWS
            nrows = min(_ROWS, n - r0)
            _distances32(xt32, r0, nrows, dx)
            _distances32(yt32, r0, nrows, dy)
            for r in range(nrows):
                i = r0 + r
                e = _kth_exact(xt, yt, i, k, dx[r], dy[r], max(tol_x, tol_y), cand_v, cand_j, exact)
                cx[i] = _count_exact(xt, i, dx[r], e, tol_x)
                cy[i] = _count_exact(yt, i, dy[r], e, tol_y)


def _tolerance(a: np.ndarray) -> float:
    """Bound on |float32 distance - float64 distance|: the casts and the subtraction each err by
    at most max|a| 2^-24; 2^-20 keeps a 4x margin."""
    return float(np.abs(a).max()) * 2.0**-20 + 1e-300


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """Run the kernels on ``n`` threads (capped at numba's pool) for the block, then restore."""
    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _columns(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a, dtype=np.float64).T)


def ksg_counts(x: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(n_x + 1, n_y + 1)`` of KSG algorithm 1: samples (the point itself included) strictly
    closer than the k-th joint neighbour distance, in x and in y.

    Distances are computed in float32 (half the memory traffic, twice the vector lanes); the
    k-th distance and every comparison that float32 cannot settle are redone in float64, so the
    counts are exactly those of float64 arithmetic.
    """
    n = x.shape[0]
    xt, yt = _columns(x), _columns(y)
    if not (_float32_safe(xt) and _float32_safe(yt)):  # float32 would overflow or lose the values
        eps = kth_distances(np.hstack([x, y]), k)  # the joint max-norm is max(d_x, d_y)
        return counts_within(x, eps), counts_within(y, eps)
    cx, cy = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    _ksg32(xt, yt, xt.astype(np.float32), yt.astype(np.float32), int(k), _tolerance(xt), _tolerance(yt), cx, cy)
    return cx, cy


def _float32_safe(a: np.ndarray) -> bool:
    """Whether ``_tolerance`` bounds the float32 error of ``a``: its largest magnitude is far from
    float32's overflow (3.4e38) and from its subnormals (1.2e-38), where the relative bound fails."""
    top = float(np.abs(a).max()) if a.size else 0.0
    return 2.0**-60 <= top <= 2.0**60


def kth_distances(z: np.ndarray, k: int) -> np.ndarray:
    """Max-norm distance from each row of ``z`` to its k-th nearest other row (exact float64)."""
    eps = np.empty(z.shape[0])
    zt = _columns(z)
    if _float32_safe(zt):
        _kth32_all(zt, zt.astype(np.float32), int(k), _tolerance(zt), eps)
    else:
        _kth_all(zt, int(k), eps)
    return eps


def counts_within(z: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """For each row, the rows of ``z`` (itself included) at max-norm distance < ``radius``
    (exact float64 counts)."""
    out = np.empty(z.shape[0], dtype=np.int64)
    zt = _columns(z)
    radius = np.ascontiguousarray(radius, dtype=np.float64)
    if _float32_safe(zt):
        _count32_all(zt, zt.astype(np.float32), radius, _tolerance(zt), out)
    else:
        _count_all(zt, radius, out)
    return out
