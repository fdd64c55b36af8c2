"""Closed-form mutual information of jointly Gaussian vectors: the truth that the estimator
tests (:mod:`.mi_tasks`) and the synthetic KD families (:mod:`.synthetic`) are checked against."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..exceptions import InputError

__all__ = ["gaussian_mi", "check_cov", "as_index"]


def as_index(idx: Any, d: int, name: str) -> np.ndarray:
    """``idx`` as distinct coordinate indices into a ``d``-dimensional vector."""
    arr = np.atleast_1d(np.asarray(idx, dtype=np.int64))
    if arr.ndim != 1 or arr.size == 0:
        raise InputError(f"{name} must be a non-empty list of indices.")
    if arr.min() < 0 or arr.max() >= d:
        raise InputError(f"{name} has indices outside 0..{d - 1}.")
    if np.unique(arr).size != arr.size:
        raise InputError(f"{name} repeats an index.")
    return arr


def check_cov(cov: Any) -> np.ndarray:
    """``cov`` as a finite, square, symmetric float matrix."""
    cov = np.asarray(cov, dtype=np.float64)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise InputError(f"cov must be a square matrix, got shape {cov.shape}.")
    if not np.all(np.isfinite(cov)):
        raise InputError("cov has NaN or infinite entries.")
    if not np.allclose(cov, cov.T, atol=1e-10 * max(1.0, float(np.abs(cov).max()))):
        raise InputError("cov is not symmetric.")
    return cov


def _logdet(block: np.ndarray, what: str) -> float:
    sign, logdet = np.linalg.slogdet(block)
    if sign <= 0 or not np.isfinite(logdet):
        raise InputError(f"the covariance of {what} is singular or not positive definite.")
    return float(logdet)


def gaussian_mi(cov: Any, idx_a: Sequence[int], idx_b: Sequence[int]) -> float:
    """Mutual information between two blocks of a jointly Gaussian vector, in nats.

    .. math::

        I(A; B) = \\tfrac12\\left(\\log\\det\\Sigma_{AA} + \\log\\det\\Sigma_{BB}
        - \\log\\det\\Sigma_{(A,B)}\\right)

    (for scalars, :math:`-\\tfrac12\\log(1-\\rho^2)`).

    Parameters
    ----------
    cov : array (D, D)
        Joint covariance of the whole vector.
    idx_a, idx_b : sequences of int
        Disjoint coordinate indices of A and B.

    Returns
    -------
    float
        ``inf`` when the joint block is singular while both marginal blocks are not (a
        deterministic relation, e.g. an exact copy).
    """
    cov = check_cov(cov)
    a = as_index(idx_a, cov.shape[0], "idx_a")
    b = as_index(idx_b, cov.shape[0], "idx_b")
    if np.intersect1d(a, b).size:
        raise InputError("idx_a and idx_b overlap; they must name disjoint coordinates.")
    la = _logdet(cov[np.ix_(a, a)], "A")
    lb = _logdet(cov[np.ix_(b, b)], "B")
    ab = np.concatenate([a, b])
    joint = cov[np.ix_(ab, ab)]
    if np.linalg.eigvalsh(joint)[0] < -1e-10 * max(1.0, float(np.abs(joint).max())):
        raise InputError("the joint covariance of A and B is not positive semi-definite; it is not a covariance.")
    sign, lab = np.linalg.slogdet(joint)
    if sign <= 0 or not np.isfinite(lab):
        return math.inf
    return float(max(0.0, 0.5 * (la + lb - lab)))
