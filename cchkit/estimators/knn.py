"""k-nearest-neighbour mutual-information estimators: KSG (continuous Y) and Ross (class labels).

Both live in one registered estimator, ``"ksg"``: ``estimate(x, y)`` uses Kraskov et al.'s
algorithm 1 when ``y`` is a continuous matrix and Ross's mixed estimator when ``y`` is a vector
of class labels.

Neighbour searches are exact and compiled (numba), with queries in parallel threads. In low
total dimension a max-norm k-d tree (:mod:`.kdtree`) finds the k-th neighbour distances and
counts the points strictly inside them; in high dimension trees stop pruning, and brute force
(:mod:`.maxnorm`: float32 distances over cache-sized tiles, float64 wherever float32 cannot
decide) is faster (:func:`use_brute_force`). Either way every count is exactly that of float64
arithmetic.
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import Any

import numpy as np
from scipy.special import digamma

from .._parallel import available_cores
from .._params import NONE, Integral, Interval, Options, Real, validate_params
from .._validation import standardize_fit
from ..exceptions import CchkitWarning
from .base import MIEstimator
from .contract import RawEstimate
from .registry import register_estimator

logger = logging.getLogger("cchkit")

__all__ = ["KSGEstimator", "ksg_mi", "ross_mi", "use_brute_force", "BRUTE_FORCE_DIM", "UNRELIABLE_DIM"]


#: above this many total dimensions the compiled brute force beats the k-d tree (one thread;
#: the crossover is measured in benchmarks/results/ksg_kernel.md): a k-d tree prunes less as
#: the dimension grows
BRUTE_FORCE_DIM = 16
#: ... and above this many up to SMALL_N samples (same table), where brute force's O(n^2)
#: still costs less than the tree's overhead
BRUTE_FORCE_DIM_SMALL_N = 12
SMALL_N = 10_000
#: above this many total dimensions KSG is strongly biased low (see the anchor tables); warn
UNRELIABLE_DIM = 10
#: default subsample size for the interval
_DEFAULT_SUBSAMPLE = 500


def use_brute_force(total_dims: int, n: int) -> bool:
    """Whether the compiled brute force (rather than a k-d tree) is the faster exact search."""
    return total_dims > BRUTE_FORCE_DIM or (total_dims > BRUTE_FORCE_DIM_SMALL_N and n <= SMALL_N)


# ------------------------------------------------------------------------ neighbour searches
def _kth_distance(z: np.ndarray, k: int, brute: bool) -> np.ndarray:
    """Max-norm distance from each row of ``z`` to its k-th nearest other row."""
    if brute:
        from .maxnorm import kth_distances

        return kth_distances(z, k)
    from .kdtree import tree_kth_distances

    return tree_kth_distances(z, k)


def _count_strictly_within(z: np.ndarray, radius: np.ndarray, brute: bool) -> np.ndarray:
    """For each row, the rows of ``z`` (itself included) at max-norm distance < radius."""
    if brute:
        from .maxnorm import counts_within

        return counts_within(z, radius)
    from .kdtree import tree_counts_within

    return tree_counts_within(z, radius)


def _threads(n_jobs: int) -> Any:
    """Run the compiled kernels (brute force and k-d tree alike) on ``n_jobs`` threads (-1: every
    core this process may use)."""
    from .maxnorm import threads

    return threads(available_cores() if n_jobs == -1 else max(1, n_jobs))


def _ksg_counts(x: np.ndarray, y: np.ndarray, k: int, brute: bool) -> tuple[np.ndarray, np.ndarray]:
    """KSG-1 counts ``(n_x + 1, n_y + 1)`` (the "+1" is the point itself)."""
    if brute:
        from .maxnorm import ksg_counts

        return ksg_counts(x, y, k)
    eps = _kth_distance(np.hstack([x, y]), k, brute=False)
    return _count_strictly_within(x, eps, brute=False), _count_strictly_within(y, eps, brute=False)


def ksg_mi(
    x: np.ndarray, y: np.ndarray, k: int = 3, *, n_jobs: int = 1, brute: bool | None = None
) -> float:
    """KSG estimator (Kraskov et al. 2004, algorithm 1, max-norm) on prepared arrays.

    ``I = psi(k) + psi(n) - < psi(n_x + 1) + psi(n_y + 1) >`` where ``eps_i`` is the max-norm
    distance from sample i to its k-th neighbour in the joint space and ``n_x(i)`` (``n_y(i)``)
    counts the other samples strictly closer than ``eps_i`` in the X (Y) space.

    No noise, no standardisation: :class:`KSGEstimator` does those.
    """
    n = x.shape[0]
    if brute is None:
        brute = use_brute_force(x.shape[1] + y.shape[1], n)
    with _threads(n_jobs):
        cx, cy = _ksg_counts(x, y, k, brute)
    return float(digamma(k) + digamma(n) - np.mean(digamma(cx) + digamma(cy)))


def ross_mi(
    x: np.ndarray, labels: np.ndarray, k: int = 3, *, n_jobs: int = 1, brute: bool | None = None
) -> float:
    """Ross (2014) estimator of I(X; Y) for continuous X and class labels Y.

    ``I = psi(N) - <psi(N_c)> + <psi(k_c)> - <psi(m)>``: for each sample, ``d`` is the max-norm
    distance to its k-th neighbour *within its class* (``k_c = min(k, N_c - 1)``), and ``m``
    counts all samples (any class, the sample itself included, as scikit-learn does) strictly
    closer than ``d``. Samples of classes with a single member are left out, and ``N`` counts
    the samples kept.
    """
    if brute is None:
        brute = use_brute_force(x.shape[1], x.shape[0])
    counts = np.bincount(labels)
    keep = counts[labels] > 1
    if keep.sum() < 2:
        return 0.0
    x, labels = x[keep], labels[keep]
    n = x.shape[0]
    radius = np.empty(n)
    k_all = np.empty(n)
    n_c = counts[labels].astype(np.float64)
    with _threads(n_jobs):
        for c in np.unique(labels):
            idx = np.flatnonzero(labels == c)
            kc = min(k, idx.size - 1)
            radius[idx] = _kth_distance(x[idx], kc, brute)
            k_all[idx] = kc
        m = _count_strictly_within(x, radius, brute)
    m = np.maximum(m, 1)
    return float(digamma(n) + np.mean(digamma(k_all)) - np.mean(digamma(n_c)) - np.mean(digamma(m)))


# ------------------------------------------------------------------------ the estimator
@register_estimator("ksg")
class KSGEstimator(MIEstimator):
    r"""Kraskov-Stoegbauer-Grassberger k-NN estimator (continuous Y) and Ross's estimator (labels).

    Continuous ``y`` (Kraskov, Stoegbauer & Grassberger 2004, "Estimating mutual information",
    Phys. Rev. E 69, 066138; algorithm 1, max-norm):

    .. math:: \hat I = \psi(k) + \psi(n) - \langle \psi(n_x + 1) + \psi(n_y + 1) \rangle

    ``eps_i`` is the max-norm distance from sample ``i`` to its k-th nearest neighbour in the
    joint space (X, Y); ``n_x(i)``, ``n_y(i)`` count the other samples strictly closer than
    ``eps_i`` in the marginal spaces. X and Y are truly multivariate.

    Class labels ``y`` (Ross 2014, "Mutual information between discrete and continuous data
    sets", PLoS ONE 9(2): e87357):

    .. math:: \hat I = \psi(N) - \langle \psi(N_c) \rangle + \psi(k) - \langle \psi(m) \rangle

    where the k-th neighbour is found within the sample's own class (``N_c`` members) and ``m``
    counts all samples within that distance.

    Known bias: accurate in low dimension (within a few hundredths of a nat for 1x1 Gaussians),
    strongly biased *low* when ``d_x + d_y`` is large (more than about 10) or the MI is high;
    a warning is raised then.

    Interval (``extra["ci_method"]``): the bootstrap is invalid for k-NN estimators (a point
    drawn twice is its own zero-distance neighbour), so the interval comes from subsampling
    without replacement (m-out-of-n, Politis & Romano 1994): ``n_bootstrap`` subsamples of
    ``m = min(n // 2, subsample_size)`` rows, whose spread is rescaled to size ``n`` with the
    delete-d jackknife factor ``sqrt(m / (n - m))`` (valid for a root-n estimator), giving
    ``value +- 1.96 * se``. It reflects sampling variance only, not the bias.

    Parameters
    ----------
    k : int, default 3
        Number of neighbours.
    noise : float, default 1e-10
        Standard deviation of Gaussian tie-breaking noise, relative to each column's scale,
        drawn from ``random_state`` (0 disables it).
    n_bootstrap : int, default 100
        Number of subsamples for the interval (0: no interval).
    subsample_size : int or None, default None
        Rows per subsample (default ``min(n // 2, 500)``).
    n_jobs : int, default 1
        Threads for the neighbour searches: tree queries or compiled brute force (-1: all cores).
    standardize : bool, default True
    random_state : int, Generator or None
    """

    description = "KSG k-NN estimator (Kraskov 2004, max-norm); Ross 2014 for class labels"
    bound = "point"

    @validate_params(
        {
            "k": [Interval(Integral, 1, None)],
            "noise": [Interval(Real, 0, None)],
            "n_bootstrap": [Options([0]), Interval(Integral, 2, None)],
            "subsample_size": [NONE, Interval(Integral, 2, None)],
            "n_jobs": [Options([-1]), Interval(Integral, 1, None)],
        }
    )
    def __init__(
        self,
        *,
        k: int = 3,
        noise: float = 1e-10,
        n_bootstrap: int = 100,
        subsample_size: int | None = None,
        n_jobs: int = 1,
        standardize: bool = True,
        random_state: Any = None,
    ) -> None:
        super().__init__(standardize=standardize, random_state=random_state)
        self.k = int(k)
        self.noise = float(noise)
        self.n_bootstrap = int(n_bootstrap)
        self.subsample_size = None if subsample_size is None else int(subsample_size)
        self.n_jobs = int(n_jobs)

    def min_samples(self) -> int:
        """``2 (k + 1)``: k + 1 for a neighbour search, twice that for the subsampling interval."""
        return 2 * (self.k + 1)

    # ---------------------------------------------------------------- helpers
    def _jitter(self, a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if self.noise == 0:
            return a
        _, scale = standardize_fit(a)
        return a + self.noise * scale * rng.standard_normal(a.shape)

    def _warn_dims(self, total: int, n: int) -> list[str]:
        msgs = []
        if total > UNRELIABLE_DIM:
            msgs.append(
                f"KSG in {total} total dimensions is strongly biased low (expect a large "
                "underestimate when MI is above ~1 nat); reduce the dimension (PCA, a learned "
                "representation) or use a neural or Gaussian estimator."
            )
        if use_brute_force(total, n) and n > 50_000:
            msgs.append(
                f"KSG brute-force search over {n} samples in {total} dimensions is O(n^2) and will "
                "be slow; subsample the rows."
            )
        for msg in msgs:  # a Python warning only (not logged: a ranking estimates many times and
            # Python shows one text once); the CLI prints it once, as "warning: ..."
            warnings.warn(msg, CchkitWarning, stacklevel=4)
        return msgs

    def _subsample_interval(
        self, value: float, n: int, fn, rng: np.random.Generator
    ) -> tuple[tuple[float, float] | None, dict[str, Any]]:
        if self.n_bootstrap == 0:
            return None, {"ci_method": "none (n_bootstrap=0)"}
        m = min(n // 2, self.subsample_size or _DEFAULT_SUBSAMPLE)
        if m < self.k + 1:
            return None, {"ci_method": "none (too few samples to subsample)"}
        reps = np.empty(self.n_bootstrap)
        for b in range(self.n_bootstrap):
            idx = rng.choice(n, size=m, replace=False)
            reps[b] = fn(idx)
        se = float(np.std(reps, ddof=1) * math.sqrt(m / (n - m)))
        if not se > 1e-12 * max(1.0, abs(value)):  # every subsample gave the same value: no evidence of precision
            return None, {"ci_method": (f"none (all {self.n_bootstrap} subsamples of m={m} rows gave the same "
                                        "value, so their spread says nothing about the error)")}
        ci = (value - 1.96 * se, value + 1.96 * se)
        info = {
            "ci_method": (
                f"subsampling without replacement ({self.n_bootstrap} subsamples of m={m} of "
                f"n={n} rows), spread rescaled by sqrt(m/(n-m)), value +- 1.96 se"
            ),
            "se": se,
            "subsample_mean": float(reps.mean()),
        }
        return ci, info

    # ---------------------------------------------------------------- estimator API
    def _estimate_continuous(self, x: np.ndarray, y: np.ndarray) -> RawEstimate:
        n = x.shape[0]
        total = x.shape[1] + y.shape[1]
        msgs = self._warn_dims(total, n)
        rng = self._rng()
        x, y = self._jitter(x, rng), self._jitter(y, rng)
        brute = use_brute_force(total, n)
        n_jobs = self.n_jobs
        value = ksg_mi(x, y, self.k, n_jobs=n_jobs, brute=brute)
        ci, info = self._subsample_interval(
            value, n, lambda idx: ksg_mi(x[idx], y[idx], self.k, n_jobs=n_jobs), rng
        )
        extra = {"k": self.k, "search": "brute" if brute else "kdtree", **info}
        if msgs:
            extra["warnings"] = msgs
        return RawEstimate(value=value, ci=ci, extra=extra)

    def _estimate_discrete(self, x: np.ndarray, labels: np.ndarray) -> RawEstimate:
        n = x.shape[0]
        msgs = self._warn_dims(x.shape[1], n)
        rng = self._rng()
        x = self._jitter(x, rng)
        brute = use_brute_force(x.shape[1], n)
        n_jobs = self.n_jobs
        value = ross_mi(x, labels, self.k, n_jobs=n_jobs, brute=brute)
        ci, info = self._subsample_interval(
            value, n, lambda idx: ross_mi(x[idx], labels[idx], self.k, n_jobs=n_jobs), rng
        )
        extra = {"k": self.k, "search": "brute" if brute else "kdtree", "method": "ross2014", **info}
        if msgs:
            extra["warnings"] = msgs
        return RawEstimate(value=value, ci=ci, extra=extra)
