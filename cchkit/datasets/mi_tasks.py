"""Gaussian mutual-information tasks with closed-form truth, and MI-preserving transforms.

The tasks follow the "Beyond Normal" benchmark (Czyz et al., NeurIPS 2023, package
``benchmark-mi``): a jointly Gaussian pair (X, Y) whose MI is known in closed form, optionally
pushed through invertible maps applied to X alone and to Y alone. An invertible (measurable,
with measurable inverse) map applied to one side leaves I(X; Y) unchanged, so the truth is kept
while the distribution stops being Gaussian.

Functions
---------
gaussian_task
    Sample a "sparse" or "dense" Gaussian task with a requested MI.
closed_form_mi
    ``0.5 * log(det S_xx det S_yy / det S)`` for a joint covariance ``S``.
rho_for_mi
    The per-channel correlation that gives a requested total MI over ``m`` channels.
half_cube, asinh, spiral, apply_transform
    MI-preserving invertible transforms.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

from .._random import RandomState, as_generator
from ..exceptions import InputError
from .closed_forms import check_cov, gaussian_mi

__all__ = [
    "gaussian_task",
    "gaussian_task_covariance",
    "closed_form_mi",
    "rho_for_mi",
    "half_cube",
    "asinh",
    "spiral",
    "apply_transform",
    "TRANSFORMS",
]


def closed_form_mi(cov: np.ndarray, dim_x: int) -> float:
    """Mutual information of a jointly Gaussian (X, Y) from its covariance, in nats.

    ``I(X; Y) = 0.5 * (log det S_xx + log det S_yy - log det S)`` where ``S`` is the joint
    covariance of ``(X, Y)`` and ``X`` is its first ``dim_x`` coordinates.

    Parameters
    ----------
    cov : array, shape (d_x + d_y, d_x + d_y)
        Symmetric positive-definite joint covariance.
    dim_x : int
        Number of leading coordinates that form X.

    Returns
    -------
    float
        (:func:`~cchkit.datasets.closed_forms.gaussian_mi` with X the leading block.)
    """
    cov = check_cov(cov)
    d = cov.shape[0]
    if not 0 < dim_x < d:
        raise InputError(f"dim_x must be between 1 and {d - 1}, got {dim_x}.")
    return gaussian_mi(cov, range(dim_x), range(dim_x, d))


def rho_for_mi(mi: float, n_channels: int) -> float:
    """Correlation ``rho`` such that ``n_channels`` independent pairs carry ``mi`` nats in total.

    Each pair carries ``-0.5 * log(1 - rho**2)``, so ``rho = sqrt(1 - exp(-2 mi / m))``.
    """
    if mi < 0:
        raise InputError(f"mi must be >= 0, got {mi}.")
    if n_channels < 1:
        raise InputError(f"n_channels must be >= 1, got {n_channels}.")
    return float(np.sqrt(-np.expm1(-2.0 * mi / n_channels)))


def gaussian_task_covariance(
    kind: Literal["sparse", "dense"],
    dim_x: int,
    dim_y: int,
    mi: float,
    *,
    n_pairs: int | None = None,
    random_state: RandomState = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The structure behind :func:`gaussian_task`: ``(rho, A, B, cov)``.

    ``X = X0 @ A`` and ``Y = Y0 @ B`` where ``(X0, Y0)`` have unit variances and
    ``corr(X0_i, Y0_i) = rho_i``; ``cov`` is the joint covariance of ``(X, Y)``.
    """
    if kind not in ("sparse", "dense"):
        raise InputError(f"kind must be 'sparse' or 'dense', got {kind!r}.")
    if dim_x < 1 or dim_y < 1:
        raise InputError(f"dimensions must be >= 1, got {dim_x}x{dim_y}.")
    m_max = min(dim_x, dim_y)
    m = m_max if n_pairs is None else int(n_pairs)
    if not 1 <= m <= m_max:
        raise InputError(f"n_pairs must be between 1 and min(dim_x, dim_y) = {m_max}, got {n_pairs}.")
    rho = np.zeros(m_max)
    rho[:m] = rho_for_mi(mi, m)
    if rho.max(initial=0.0) >= 1.0:
        raise InputError(f"mi={mi} over {m} channel(s) needs |rho| = 1; lower mi or add channels.")
    if kind == "dense":
        rng = as_generator(random_state)
        # random well-conditioned invertible mixings: every coordinate of X is correlated with
        # every coordinate of Y, and MI is unchanged by invertible linear maps.
        a = rng.standard_normal((dim_x, dim_x)) / np.sqrt(dim_x) + np.eye(dim_x)
        b = rng.standard_normal((dim_y, dim_y)) / np.sqrt(dim_y) + np.eye(dim_y)
    else:
        a, b = np.eye(dim_x), np.eye(dim_y)
    c = np.zeros((dim_x, dim_y))
    c[np.arange(m_max), np.arange(m_max)] = rho
    s_xx, s_yy, s_xy = a.T @ a, b.T @ b, a.T @ c @ b
    cov = np.block([[s_xx, s_xy], [s_xy.T, s_yy]])
    return rho, a, b, cov


def gaussian_task(
    kind: Literal["sparse", "dense"] = "sparse",
    dim_x: int = 1,
    dim_y: int = 1,
    mi: float = 1.0,
    n: int = 1000,
    random_state: RandomState = None,
    *,
    n_pairs: int | None = None,
    structure_seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Sample a jointly Gaussian (X, Y) whose mutual information is known in closed form.

    * ``"sparse"``: ``n_pairs`` (default ``min(dim_x, dim_y)``) independent coordinate pairs
      ``(X_i, Y_i)`` with correlation ``rho = sqrt(1 - exp(-2 mi / n_pairs))`` each; every other
      coordinate is independent noise (bmi's "multinormal-sparse" tasks use ``n_pairs=2``).
    * ``"dense"``: the same canonical pairs on all ``min(dim_x, dim_y)`` channels, then mixed by
      random invertible matrices ``A`` (X side) and ``B`` (Y side), so every coordinate of X is
      correlated with every coordinate of Y. The truth is recomputed from the covariance by
      :func:`closed_form_mi` (it equals ``mi`` up to rounding).

    Parameters
    ----------
    kind : {"sparse", "dense"}
    dim_x, dim_y : int
    mi : float
        Requested MI in nats.
    n : int
        Number of samples.
    random_state : int, Generator or None
        Seeds the samples.
    n_pairs : int or None
        Number of correlated channels (sparse only; dense uses all).
    structure_seed : int
        Seeds the mixing matrices of the dense task (fixed by default, so the task is the same
        for every sample seed).

    Returns
    -------
    x : ndarray (n, dim_x)
    y : ndarray (n, dim_y)
    true_mi : float
        Closed-form MI in nats.
    """
    if n < 1:
        raise InputError(f"n must be >= 1, got {n}.")
    if kind == "dense" and n_pairs is not None and n_pairs != min(dim_x, dim_y):
        raise InputError("n_pairs applies to the sparse task only.")
    rho, a, b, cov = gaussian_task_covariance(
        kind, dim_x, dim_y, mi, n_pairs=n_pairs, random_state=structure_seed
    )
    rng = as_generator(random_state)
    m = rho.size
    x0 = rng.standard_normal((n, dim_x))
    y0 = rng.standard_normal((n, dim_y))
    y0[:, :m] = rho * x0[:, :m] + np.sqrt(1.0 - rho**2) * y0[:, :m]
    x, y = x0 @ a, y0 @ b
    true_mi = closed_form_mi(cov, dim_x)
    return x, y, true_mi


# ---------------------------------------------------------------------- transforms
def half_cube(x: np.ndarray) -> np.ndarray:
    """Elementwise ``sign(x) |x|^1.5`` (bmi's half-cube map); invertible."""
    x = np.asarray(x, dtype=np.float64)
    return np.sign(x) * np.abs(x) ** 1.5


def asinh(x: np.ndarray) -> np.ndarray:
    """Elementwise ``arcsinh(x)``; invertible, compresses the tails."""
    return np.arcsinh(np.asarray(x, dtype=np.float64))


def spiral(x: np.ndarray, speed: float = 0.5) -> np.ndarray:
    """Rotate each sample in the plane of its first two coordinates by ``speed * |x|^2``.

    The angle depends only on the radius ``|x|``, which the rotation keeps, so the map is
    invertible (rotate back by the same angle); it is the "spiral" diffeomorphism of Czyz et
    al. (2023) restricted to the (x_0, x_1) plane. A 1-D input is returned unchanged.
    """
    x = np.array(x, dtype=np.float64, copy=True)
    if x.ndim == 1:
        x = x[:, None]
    if x.shape[1] < 2:
        return x
    theta = speed * np.einsum("ij,ij->i", x, x)
    c, s = np.cos(theta), np.sin(theta)
    x0, x1 = x[:, 0].copy(), x[:, 1].copy()
    x[:, 0] = c * x0 - s * x1
    x[:, 1] = s * x0 + c * x1
    return x


TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda a: np.asarray(a, dtype=np.float64),
    "half_cube": half_cube,
    "asinh": asinh,
    "spiral": spiral,
}


def apply_transform(
    name: str, x: np.ndarray, y: np.ndarray | None = None
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Apply the named MI-preserving transform to ``x`` (and to ``y`` if given)."""
    if name not in TRANSFORMS:
        raise InputError(f"unknown transform {name!r}; choose one of {', '.join(TRANSFORMS)}.")
    f = TRANSFORMS[name]
    if y is None:
        return f(x)
    return f(x), f(y)
