r"""Gaussian (closed-form) mutual information.

Continuous form
---------------
For jointly Gaussian X (d_x) and Y (d_y),

.. math:: I(X;Y) = \tfrac12 \left[\log\det\Sigma_X + \log\det\Sigma_Y - \log\det\Sigma_{XY}\right],

computed from the standardised sample covariance (a correlation matrix). It is exact for
Gaussians and, for other distributions, the MI of the Gaussian with the same covariance (a lower
bound on I(X;Y) when the marginals are Gaussian; in general it only sees linear dependence).

The plug-in estimate is biased upwards by about d_x d_y / (2n). Under Gaussianity the bias is
known exactly: for a sample covariance S of dimension p with nu = n - 1 degrees of freedom,
E[log det S] = log det Sigma + p log(2/nu) + sum_{i=1}^p psi((nu - i + 1)/2) (the Wishart
log-determinant, see Misra, Singh & Demchuk 2005, "Estimation of the entropy of a multivariate
normal distribution", J. Multivariate Anal. 92). Subtracting it from each log-determinant gives
the bias-corrected estimate (default). When d_x + d_y approaches n the sample covariance is
(nearly) singular; the joint correlation matrix is then shrunk towards the identity with the
Ledoit-Wolf intensity (Ledoit & Wolf 2004), which biases the estimate low; the bias correction
is not applied on top of shrinkage.

Discrete-label form
-------------------
With class labels Y (prior pi_c) and one Gaussian per class, H | Y=c ~ N(mu_c, Sigma_c), the MI
of this mixture with its component label is

.. math:: I(H;Y) = \sum_c \pi_c\, E_{h\sim p_c}\Big[\log p_c(h) - \log\sum_j \pi_j p_j(h)\Big]
          \;\le\; H(Y),

estimated by stratified Monte Carlo from the fitted mixture (each term is at most -log pi_c, so
the estimate never exceeds H(Y)). The fitted model's MI is biased upwards by about k / (2n), k
the number of parameters the class-conditional model adds to a single Gaussian
((C-1) d for class means, plus (C-1) d (d+1)/2 for per-class covariances), the first-order
(Wilks) bias of a likelihood-ratio statistic; ``bias_correction`` subtracts it, damped by the
factor (1 - I_plug / H(Y)) because a plug-in at the H(Y) ceiling cannot overshoot (a heuristic:
without the damping, perfectly separable classes would be reported below H(Y)). The closed-form pairwise-distance bounds of Kolchinsky & Tracey
(2017, "Estimating mixture entropy with pairwise distances", Entropy 19:361),
``-sum_i pi_i log sum_j pi_j exp(-D(p_i||p_j))`` with D the Bhattacharyya distance (lower bound)
and the KL divergence (upper bound), are reported in ``extra``. The familiar
1/2 log(det Sigma_total / det Sigma_within) is the capacity-like MI of a Gaussian channel, not a
discrete-label MI (it exceeds log C on separable classes), and is not used.

Uncertainty
-----------
A nonparametric bootstrap, vectorised: B resamples are multinomial weight vectors and all B
weighted covariances are computed in batched tensor operations (no refitting loop). When
n_bootstrap * n * (d_x + d_y)^2 is too large for that to be cheap, ``ci="auto"`` falls back to the
asymptotic normal-theory interval (delta method on the canonical correlations,
Var(I) ~= sum_i rho_i^2 / n). The method used is in ``extra["ci_method"]``.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from scipy.special import digamma

from .._params import BOOL, NONE, Integral, Interval, Options, Real, validate_params
from ..exceptions import InputError
from .base import MIEstimator
from .contract import RawEstimate
from .registry import register_estimator

__all__ = ["GaussianMI", "wishart_logdet_bias", "kolchinsky_tracey_bounds", "MAX_MC_DRAWS"]

_BOOTSTRAP_BUDGET = 3e9  # multiply-adds allowed for the vectorised bootstrap under ci="auto"
_BOOTSTRAP_WEIGHTS = 1e7  # resample weights held at once (80 MB of float64)
#: Monte Carlo draws of the label form: the first round, and the most ``n_mc="auto"`` adds up to
_INITIAL_MC_DRAWS = 4000
MAX_MC_DRAWS = 2_000_000
#: ``n_mc="auto"`` draws until the MC standard error is at most this share of the sampling one
_MC_SHARE = 0.25
#: elements of one MC chunk's (C, M, C, d) work array (memory bound)
_MC_CHUNK_ELEMENTS = 2e7
_MAX_COVARIANCE_BYTES = 1 << 30  # one (d x d) float64 covariance larger than this is refused


def _check_covariance_size(d: int, what: str) -> None:
    """Refuse a dimension whose (d x d) covariance would not fit (instead of running out of memory)."""
    need = 8 * d * d
    if need > _MAX_COVARIANCE_BYTES:
        raise InputError(
            f"{what} has {d} dimensions; the Gaussian estimator needs a {d} x {d} covariance "
            f"({need / 1e9:.0f} GB). Reduce the dimension first (PCA, a learned representation)."
        )


def wishart_logdet_bias(p: int, n: int) -> float:
    """E[log det S] - log det Sigma for a sample covariance of dimension ``p`` from ``n`` samples.

    ``p log(2/nu) + sum_{i=1}^p psi((nu - i + 1)/2)`` with ``nu = n - 1``.
    """
    nu = n - 1
    i = np.arange(1, p + 1)
    return float(p * math.log(2.0 / nu) + digamma((nu - i + 1) / 2.0).sum())


def _batched_logdet(mats):
    """log-determinants of a batch of SPD matrices (torch, float64); -inf where not PD."""
    import torch

    chol, info = torch.linalg.cholesky_ex(mats)
    ld = 2.0 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
    return torch.where(info == 0, ld, torch.full_like(ld, -math.inf))


def _weighted_moments(z, w):
    """Weighted means (B, d) and covariances (B, d, d) of rows of z (n, d) under weights w (B, n)."""
    import torch

    tot = w.sum(1, keepdim=True)
    mean = (w @ z) / tot
    n, d = z.shape
    if n * d * d <= 4e7:  # one GEMM over the outer products: (B, n) @ (n, d*d)
        outer = (z[:, :, None] * z[:, None, :]).reshape(n, d * d)
        second = (w @ outer).reshape(-1, d, d) / tot[..., None]
    else:
        second = torch.matmul((w[:, :, None] * z).transpose(1, 2), z) / tot[..., None]
    cov = second - mean[:, :, None] * mean[:, None, :]
    corr = tot[..., None] / (tot[..., None] - 1.0)  # unbiased (n - 1) normalisation
    return mean, cov * corr


@register_estimator("gaussian")
class GaussianMI(MIEstimator):
    """Closed-form Gaussian MI with bias correction, shrinkage and bootstrap intervals.

    Parameters
    ----------
    bias_correction : bool, default True
        Subtract the exact Wishart log-determinant bias (continuous form).
    shrinkage : "auto", float in [0, 1] or None, default "auto"
        Shrink the joint correlation matrix towards the identity. "auto": Ledoit-Wolf intensity
        when n <= 2 (d_x + d_y) or the matrix is singular, none otherwise.
    class_covariance : {"auto", "full", "pooled"}, default "auto"
        Label form: one covariance per class ("full", each shrunk with its Ledoit-Wolf intensity)
        or a shared within-class covariance ("pooled", shrunk likewise). "auto" uses "full" only
        when every class has at least d^2 samples: per-class covariances add
        (C-1) d (d+1)/2 parameters, whose first-order upward bias is large otherwise.
    n_mc : "auto" or int, default "auto"
        Monte Carlo draws of the label form's integral (stratified by class). Whatever the
        setting, the Monte Carlo standard error is added to the interval (in quadrature). "auto"
        starts at 4,000 draws and adds draws until that error is at most a quarter of the
        sampling standard error (so it widens the interval by at most 3%), up to
        :data:`MAX_MC_DRAWS`; an integer fixes the number of draws.
    ci : {"auto", "bootstrap", "asymptotic", None}, default "auto"
    n_bootstrap : int, default 200
    confidence : float, default 0.95
    standardize, random_state : see :class:`~cchkit.estimators.base.MIEstimator`.
    """

    description = "closed-form MI of the fitted Gaussian (bias-corrected; class-Gaussian mixture for labels)"
    bound = "point"

    @validate_params(
        {
            "bias_correction": [BOOL],
            "shrinkage": [Options(["auto"]), NONE, Interval(Real, 0, 1)],
            "class_covariance": [Options(["auto", "full", "pooled"])],
            "n_mc": [Options(["auto"]), Interval(Integral, 100, None)],
            "ci": [Options(["auto", "bootstrap", "asymptotic"]), NONE],
            "n_bootstrap": [Interval(Integral, 1, None)],
            "confidence": [Interval(Real, 0, 1, closed="neither")],
        }
    )
    def __init__(
        self,
        *,
        bias_correction: bool = True,
        shrinkage: Literal["auto"] | float | None = "auto",
        class_covariance: Literal["auto", "full", "pooled"] = "auto",
        n_mc: Literal["auto"] | int = "auto",
        ci: Literal["auto", "bootstrap", "asymptotic"] | None = "auto",
        n_bootstrap: int = 200,
        confidence: float = 0.95,
        standardize: bool = True,
        random_state=None,
    ) -> None:
        super().__init__(standardize=standardize, random_state=random_state)
        self.bias_correction = bool(bias_correction)
        self.shrinkage = shrinkage
        self.class_covariance = class_covariance
        self.n_mc = n_mc if n_mc == "auto" else int(n_mc)
        self.ci = ci
        self.n_bootstrap = int(n_bootstrap)
        self.confidence = float(confidence)

    # ------------------------------------------------------------------ continuous
    def _shrink_intensity(self, z: np.ndarray, min_eig: float) -> float:
        n, d = z.shape
        if self.shrinkage is None:
            return 0.0
        if self.shrinkage != "auto":
            return float(self.shrinkage)
        if n > 2 * d and min_eig > 1e-10:
            return 0.0
        return float(max(ledoit_wolf_intensity(z), 1e-6))

    def _estimate_continuous(self, x: np.ndarray, y: np.ndarray) -> RawEstimate:
        import torch

        n, dx = x.shape
        dy = y.shape[1]
        _check_covariance_size(dx + dy, "[x, y]")
        z = np.concatenate([x, y], axis=1)
        d = dx + dy
        zt = torch.from_numpy(z)
        ones = torch.ones(1, n, dtype=torch.float64)
        _, cov = _weighted_moments(zt, ones)
        sd0 = torch.sqrt(torch.diagonal(cov[0]))
        min_eig = float(torch.linalg.eigvalsh(cov[0] / (sd0[:, None] * sd0[None, :]))[0])
        alpha = self._shrink_intensity(z, min_eig)

        def mi_from_cov(cov):
            sd = torch.sqrt(torch.diagonal(cov, dim1=-2, dim2=-1))
            corr = cov / (sd[..., :, None] * sd[..., None, :])
            if alpha > 0:
                eye = torch.eye(d, dtype=corr.dtype)
                corr = (1 - alpha) * corr + alpha * eye
            ld_x = _batched_logdet(corr[..., :dx, :dx])
            ld_y = _batched_logdet(corr[..., dx:, dx:])
            ld_xy = _batched_logdet(corr)
            return 0.5 * (ld_x + ld_y - ld_xy)

        plug_in = float(mi_from_cov(cov)[0])
        if not math.isfinite(plug_in):
            raise InputError(
                "the joint covariance of x and y is singular (perfectly collinear columns); "
                "remove redundant columns or use shrinkage."
            )
        correction = 0.0
        if self.bias_correction and alpha == 0.0:
            correction = 0.5 * (wishart_logdet_bias(dx, n) + wishart_logdet_bias(dy, n) - wishart_logdet_bias(d, n))
        value = plug_in - correction
        extra = {"plug_in": plug_in, "bias_correction": correction, "shrinkage": alpha}
        method = self.ci
        if method == "auto":
            method = "bootstrap" if self.n_bootstrap * n * d * d <= _BOOTSTRAP_BUDGET else "asymptotic"
        if method == "bootstrap":
            boot = self._bootstrap_pair(zt, mi_from_cov) - correction
            boot = boot[np.isfinite(boot)]
            ci, se = _percentile_ci(value, boot, self.confidence), _boot_se(boot)
            ci_method = f"bootstrap ({self.n_bootstrap} resamples, median-centred percentile interval)"
        elif method == "asymptotic":
            ci, se = self._asymptotic_ci(value, cov.numpy()[0], alpha, dx, n)
            ci_method = "asymptotic (delta method on canonical correlations, Gaussian theory)"
        else:
            ci, se, ci_method = None, None, "none"
        if ci is not None:
            ci = (max(ci[0], 0.0), max(ci[1], 0.0))
        return RawEstimate(value=max(value, 0.0), ci=ci, extra=extra, se=se, ci_method=ci_method)

    def _bootstrap_pair(self, zt: Any, mi_from_cov: Any) -> np.ndarray:
        """The plug-in MI of ``n_bootstrap`` multinomial-weight resamples (batched)."""
        n, d = zt.shape
        chunk = max(1, int(2e8 // max(n * d * d, 1)))
        return self._bootstrap(self._rng(), n, chunk, lambda w: mi_from_cov(_weighted_moments(zt, w)[1]))

    def _bootstrap(self, rng: np.random.Generator, n: int, chunk: int, mi_of: Any) -> np.ndarray:
        """``mi_of(w)`` over ``n_bootstrap`` multinomial resample weights ``w`` (B, n), ``chunk``
        resamples at a time (the memory bound), concatenated."""
        import torch

        # the weights (and numpy's integer draws behind them) are (chunk, n): bound them too, so a
        # million rows do not hold 200 resamples at once (3.7 GB); drawing in smaller chunks gives the
        # same resamples, row by row, from the same generator
        chunk = max(1, min(chunk, int(_BOOTSTRAP_WEIGHTS // max(n, 1))))
        vals = []
        for start in range(0, self.n_bootstrap, chunk):
            b = min(chunk, self.n_bootstrap - start)
            w = torch.from_numpy(rng.multinomial(n, np.full(n, 1.0 / n), size=b).astype(np.float64))
            vals.append(mi_of(w).numpy())
        return np.concatenate(vals)

    def _asymptotic_ci(self, value: float, c0: np.ndarray, alpha: float, dx: int, n: int) -> tuple:
        """Delta-method interval on the same (shrunk) correlation matrix as the point estimate
        (the raw covariance is singular when d_x + d_y >= n): Var(I) ~= sum_i rho_i^2 / n."""
        sd = np.sqrt(np.diag(c0))
        corr0 = (1 - alpha) * (c0 / np.outer(sd, sd)) + alpha * np.eye(c0.shape[0])
        rho2 = _canonical_correlations_sq(corr0, dx)
        se = math.sqrt(max(rho2.sum(), 1e-12) / n)
        zq = _normal_quantile(self.confidence)
        return (value - zq * se, value + zq * se), se

    # ------------------------------------------------------------------ labels
    def _estimate_discrete(self, x: np.ndarray, labels: np.ndarray) -> RawEstimate:
        import torch

        n, d = x.shape
        _check_covariance_size(d, "x")
        counts = np.bincount(labels)
        if counts.min() < 2:
            raise InputError(
                f"class {int(np.argmin(counts))} has {int(counts.min())} sample(s); the Gaussian label "
                "form needs at least 2 samples per class."
            )
        mode = self.class_covariance
        if mode == "auto":
            mode = "full" if counts.min() >= d * d else "pooled"
        shrink = _class_shrinkage(x, labels, mode)
        # first-order (Wilks) bias of the fitted model's MI: extra free parameters / (2n)
        n_cls = counts.size
        k_extra = (n_cls - 1) * (d + (d * (d + 1) // 2 if mode == "full" else 0))
        label_bias = k_extra / (2.0 * n) if self.bias_correction else 0.0
        rng = self._rng()
        point_rng = np.random.default_rng(rng.integers(2**63))  # the point's draws: independent of the interval's
        pi0 = counts / n
        draws_boot = _stratified_draws(rng, pi0, min(self._initial_draws(), 1000), d)  # common to every resample
        zt = torch.from_numpy(x)
        lab = torch.from_numpy(labels)
        mu, cov, pi = _class_moments(zt, lab, torch.ones(1, n, dtype=torch.float64), n_cls, mode, shrink)
        point = _MCPoint(mu, cov, pi, pi0, point_rng)
        point.add(self._initial_draws())
        if not math.isfinite(point.plug_in):
            raise InputError(
                f"the class covariances of x ({n} samples, {d} dims, {n_cls} classes) are singular, so the "
                "Gaussian label form is undefined; give more samples per class or fewer dimensions."
            )
        lo_kt, hi_kt = kolchinsky_tracey_bounds(mu[0], cov[0], pi[0])
        extra = {"method": "stratified Monte Carlo MI of the class-conditional Gaussian mixture",
                 "class_covariance": mode, "bias_correction": label_bias,
                 "kt_lower_bhattacharyya": lo_kt, "kt_upper_kl": hi_kt}
        h_pi = float(-(pi0 * np.log(pi0)).sum())
        spread = self._label_spread(rng, n, d, counts, draws_boot, zt, lab, n_cls, mode, shrink, label_bias, k_extra)
        if self.n_mc == "auto" and math.isfinite(spread.se):
            point.refine(target_se=_MC_SHARE * spread.se, budget=_mc_budget(n_cls, d, mode))
        value = max(_debiased(point.plug_in, label_bias, h_pi), 0.0)
        extra.update(n_mc=point.n_draws, mc_se=point.se)
        return spread.finish(value, point.se, extra, self.confidence, h_pi)

    def _initial_draws(self) -> int:
        return _INITIAL_MC_DRAWS if self.n_mc == "auto" else int(self.n_mc)

    def _label_spread(self, rng: np.random.Generator, n: int, d: int, counts: np.ndarray, draws_boot: tuple,
                      zt: Any, lab: Any, n_cls: int, mode: str, shrink: np.ndarray, label_bias: float,
                      k_extra: int) -> _Spread:
        """The sampling spread of the label form: bootstrap (within budget) or m-out-of-n subsampling."""
        if self.ci is None:
            return _Spread(kind="none", ci_method="none")
        if self.ci == "asymptotic" or (self.ci == "auto" and self.n_bootstrap * n * d * d > _BOOTSTRAP_BUDGET):
            fit = _LabelFit(zt, lab, n_cls, mode, shrink, k_extra if self.bias_correction else 0, draws_boot)
            return self._subsampled_labels(rng, fit)
        n_boot_mc = int(draws_boot[1].sum())
        chunk = max(1, int(2e7 // max(n_boot_mc * counts.size * d, 1)))
        boot = self._bootstrap(
            rng, n, chunk, lambda w: _label_form_mi(zt, lab, w, n_cls, mode, shrink, draws_boot, label_bias)[0])
        boot = boot[np.isfinite(boot)]
        if boot.size < self.n_bootstrap / 2:  # most resamples lost a class or went singular
            return _Spread(kind="none", ci_method=(
                f"none (only {boot.size} of {self.n_bootstrap} bootstrap resamples kept every class "
                "with a non-singular covariance: too few samples per class for an interval)"))
        return _Spread(kind="bootstrap", boot=boot, se=_boot_se(boot), ci_method=(
            f"bootstrap ({self.n_bootstrap} resamples, median-centred percentile interval, "
            f"{n_boot_mc} common MC draws per resample)"))

    def _subsampled_labels(self, rng: np.random.Generator, fit: _LabelFit) -> _Spread:
        r"""An m-out-of-n subsampling interval (Politis & Romano, Ann. Statist. 1994) where the
        bootstrap is over budget: the label form on ``n_bootstrap`` class-stratified subsamples
        of ``m`` rows (``m`` so that they cost what the budget allows), each with its own bias
        correction, and

        .. math:: \widehat{se} = \mathrm{sd}(\hat I_m)\,\sqrt{m / (n - m)}, \qquad
                  \hat I \pm z_{(1+c)/2}\,\widehat{se},

        the root-n rescaling of the subsample spread to the full sample, with the finite-population
        factor of sampling without replacement (clipped to [0, H(Y)]). Also used with
        ``ci="asymptotic"``, for which the label form has no closed form."""
        n, d = fit.z.shape
        m = int(min(n // 2, max(50 * fit.n_cls, _BOOTSTRAP_BUDGET // (self.n_bootstrap * d * d))))
        vals = np.array([fit.mi(_stratified_subsample(rng, fit.labels_np, m)) for _ in range(self.n_bootstrap)])
        vals = vals[np.isfinite(vals)]
        if vals.size < self.n_bootstrap / 2:
            return _Spread(kind="none", ci_method=(
                f"none (only {vals.size} of {self.n_bootstrap} subsamples of {m} rows kept every class with a "
                "non-singular covariance)"))
        se = float(vals.std(ddof=1)) * math.sqrt(m / (n - m))
        return _Spread(kind="normal", se=se, ci_method=(
            f"m-out-of-n subsampling ({self.n_bootstrap} class-stratified subsamples of {m} of the {n} rows; "
            "se = sd x sqrt(m/(n-m)), normal interval), as the bootstrap is over budget or ci='asymptotic'"))


# ---------------------------------------------------------------------- helpers
def _debiased(plug: Any, bias: float, h_pi: Any) -> Any:
    """The plug-in label form minus its first-order bias, damped to 0 at the H(Y) ceiling."""
    import torch

    if isinstance(plug, torch.Tensor):
        return plug - bias * torch.clamp(1.0 - plug / h_pi, 0.0, 1.0)
    return plug - bias * min(max(1.0 - plug / h_pi, 0.0), 1.0)


def _mc_budget(n_cls: int, d: int, mode: str) -> int:
    """The most MC draws worth spending: :data:`MAX_MC_DRAWS`, fewer where each draw is costly
    (a draw costs about C d^2 operations, C^2 d^2 with per-class covariances)."""
    per_draw = n_cls * d * d * (n_cls if mode == "full" else 1)
    return int(min(MAX_MC_DRAWS, max(_INITIAL_MC_DRAWS, 4e10 // max(per_draw, 1))))


class _MCPoint:
    r"""The label form's Monte Carlo integral for one fitted mixture, with its own error.

    Draws are added in rounds (stratified by class, in chunks that bound memory); per class c
    the running sum and sum of squares of the terms :math:`t = \log p_c(h) - \log\sum_j
    \pi_j p_j(h)` give the estimate :math:`\sum_c \pi_c \bar t_c` and its Monte Carlo
    standard error :math:`\sqrt{\sum_c \pi_c^2 s_c^2 / m_c}`.
    """

    def __init__(self, mu: Any, cov: Any, pi: Any, pi0: np.ndarray, rng: np.random.Generator) -> None:
        self.mu, self.cov, self.pi, self.pi0, self.rng = mu, cov, pi, pi0, rng
        n_cls = pi0.size
        self.s1, self.s2, self.m = np.zeros(n_cls), np.zeros(n_cls), np.zeros(n_cls)
        self.failed = False

    @property
    def n_draws(self) -> int:
        return int(self.m.sum())

    @property
    def plug_in(self) -> float:
        if self.failed or not self.m.all():
            return math.nan
        return float((self.pi[0].numpy() * self.s1 / self.m).sum())

    @property
    def se(self) -> float:
        if self.failed or (self.m < 2).any():
            return math.nan
        mean = self.s1 / self.m
        var = np.maximum(self.s2 / self.m - mean**2, 0.0) * self.m / (self.m - 1)
        return float(math.sqrt((self.pi[0].numpy() ** 2 * var / self.m).sum()))

    def add(self, n_draws: int) -> None:
        """Draw ``n_draws`` more points (in chunks) and add their terms."""
        n_cls, d = self.mu.shape[1], self.mu.shape[2]
        per_draw = n_cls * d * (n_cls if self.cov.shape[1] > 1 else 1)
        chunk = max(1000, int(_MC_CHUNK_ELEMENTS // max(per_draw, 1)))
        left = int(n_draws)
        while left > 0 and not self.failed:
            eps, m_c, mask = _stratified_draws(self.rng, self.pi0, min(chunk, left), d)
            s1, s2, failed = _mc_class_sums(self.mu, self.cov, self.pi, eps, m_c, mask)
            self.failed = bool(failed[0])
            self.s1 += s1[0].numpy()
            self.s2 += s2[0].numpy()
            self.m += m_c
            left -= int(m_c.sum())

    def refine(self, target_se: float, budget: int) -> None:
        """Add draws until the MC standard error is at most ``target_se`` (or ``budget`` draws)."""
        while not self.failed and self.se > target_se and self.n_draws < budget:
            need = self.n_draws * (self.se / max(target_se, 1e-12)) ** 2
            self.add(int(min(budget, 1.1 * need)) - self.n_draws)


class _Spread:
    """The sampling spread of an estimate (bootstrap values, or a normal standard error), made
    into the final interval once the point and its Monte Carlo error are known."""

    def __init__(self, kind: str, ci_method: str, boot: np.ndarray | None = None, se: float = math.nan) -> None:
        self.kind, self.ci_method, self.boot, self.se = kind, ci_method, boot, se

    def finish(self, value: float, mc_se: float, extra: dict[str, Any], confidence: float,
               h_y: float) -> RawEstimate:
        r"""``value`` with the interval of both errors: each side's sampling half-width
        :math:`w` becomes :math:`\sqrt{w^2 + (z\,se_{MC})^2}` and the standard error
        :math:`\sqrt{se^2 + se_{MC}^2}`."""
        if self.kind == "none":
            return RawEstimate(value=value, extra=extra, ci_method=self.ci_method)
        zq = _normal_quantile(confidence)
        if self.kind == "bootstrap":
            lo, hi = _percentile_ci(value, self.boot, confidence)
        else:
            lo, hi = value - zq * self.se, value + zq * self.se
        mc = zq * mc_se if math.isfinite(mc_se) else 0.0
        lo, hi = value - math.hypot(value - lo, mc), value + math.hypot(hi - value, mc)
        se = math.hypot(self.se, mc_se if math.isfinite(mc_se) else 0.0)
        method = self.ci_method + f"; Monte Carlo error of the integral (se {mc_se:.2g}) added in quadrature"
        return RawEstimate(value=value, ci=(max(lo, 0.0), min(hi, h_y)), extra=extra, se=se, ci_method=method)


class _LabelFit:
    """The label form on a subset of the rows: class moments of those rows, the full sample's
    shrinkage and common MC draws, and the Wilks bias ``k_extra / (2 m)`` for their number m."""

    def __init__(self, z: Any, lab: Any, n_cls: int, mode: str, shrink: np.ndarray, k_extra: int,
                 draws: tuple) -> None:
        self.z, self.lab, self.n_cls, self.mode, self.shrink = z, lab, n_cls, mode, shrink
        self.k_extra, self.draws = k_extra, draws
        self.labels_np = lab.numpy()

    def mi(self, rows: np.ndarray) -> float:
        import torch

        idx = torch.from_numpy(rows)
        w = torch.ones(1, rows.size, dtype=torch.float64)
        value, _ = _label_form_mi(self.z[idx], self.lab[idx], w, self.n_cls, self.mode, self.shrink, self.draws,
                                  self.k_extra / (2.0 * rows.size))
        return float(value[0])


def _label_form_mi(z: Any, lab: Any, w: Any, n_cls: int, mode: str, shrink: np.ndarray, draws: tuple,
                   bias: float) -> tuple[Any, tuple]:
    """The label form for weights ``w`` (B, n): the class-Gaussian mixture's MC MI minus the
    first-order bias, damped to 0 at the H(Y) ceiling the plug-in cannot overshoot; also the
    fitted (mu, cov, pi)."""
    import torch

    mu, cov, pi = _class_moments(z, lab, w, n_cls, mode, shrink)
    plug = _mc_mixture_mi(mu, cov, pi, *draws)
    h_pi = -(pi * torch.log(pi)).sum(1)
    return _debiased(plug, bias, h_pi), (mu, cov, pi)


def _stratified_subsample(rng: np.random.Generator, labels: np.ndarray, m: int) -> np.ndarray:
    """``m`` rows without replacement, each class in proportion (at least 2 rows of each)."""
    counts = np.bincount(labels)
    take = np.maximum(2, np.round(m * counts / labels.size).astype(int))
    order = np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    picks = [order[s + rng.permutation(c)[:t]] for s, c, t in zip(starts, counts, take)]  # a loop over classes
    return np.sort(np.concatenate(picks))


def _boot_se(boot: np.ndarray) -> float:
    """Standard deviation of the bootstrap values (NaN with fewer than two)."""
    return float(boot.std(ddof=1)) if boot.size > 1 else float("nan")


def _normal_quantile(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2))


def _percentile_ci(value: float, boot: np.ndarray, confidence: float) -> tuple[float, float] | None:
    """Median-centred percentile interval: ``value + (q_a - median, q_{1-a} - median)``.

    Resamples with repeated rows inflate the plug-in bias; centring on the bootstrap median uses
    the bootstrap for the spread only, so the (already bias-corrected) point stays inside.
    """
    if boot.size < 2:
        return None
    a = (1 - confidence) / 2
    q_lo, med, q_hi = np.quantile(boot, [a, 0.5, 1 - a])
    return float(value + q_lo - med), float(value + q_hi - med)


def _canonical_correlations_sq(cov: np.ndarray, dx: int) -> np.ndarray:
    sxx, syy, sxy = cov[:dx, :dx], cov[dx:, dx:], cov[:dx, dx:]
    lx = np.linalg.cholesky(sxx)
    ly = np.linalg.cholesky(syy)
    m = np.linalg.solve(lx, np.linalg.solve(ly, sxy.T).T)
    s = np.linalg.svd(m, compute_uv=False)
    return np.clip(s**2, 0, 1 - 1e-12)


def ledoit_wolf_intensity(x: np.ndarray, *, assume_centered: bool = False) -> float:
    """Ledoit-Wolf (2004) shrinkage intensity towards mu*I, as in scikit-learn, in one pass.

    With S = X'X/n, mu = tr(S)/d: delta = ||S - mu I||_F^2, beta = (sum_i ||x_i||^4 / n - ||S||_F^2) / n,
    intensity = min(beta, delta) / delta.
    """
    if not assume_centered:
        x = x - x.mean(0)
    n, d = x.shape
    s = x.T @ x / n
    mu = np.trace(s) / d
    delta = float(((s - mu * np.eye(d)) ** 2).sum())
    beta = float(((x**2).sum(1) ** 2).sum() / n - (s**2).sum()) / n
    if delta <= 0:
        return 0.0
    return float(min(max(beta, 0.0), delta) / delta)


def _class_shrinkage(x: np.ndarray, labels: np.ndarray, mode: str) -> np.ndarray:
    """Ledoit-Wolf intensities, one per class ("full") or one shared ("pooled")."""
    n_cls = int(labels.max()) + 1
    if mode == "pooled":
        means = np.stack([x[labels == c].mean(0) for c in range(n_cls)])
        resid = x - means[labels]
        return np.full(n_cls, ledoit_wolf_intensity(resid, assume_centered=True))
    return np.array([ledoit_wolf_intensity(x[labels == c]) for c in range(n_cls)])


def _class_moments(z, lab, w, n_cls: int, mode: str, shrink: np.ndarray):
    """Weighted class priors (B, C), means (B, C, d), shrunk covariances (B, C, d, d)."""
    import torch

    d = z.shape[1]
    mus, covs, tots = [], [], []
    for c in range(n_cls):  # a loop over classes, not samples
        idx = (lab == c).nonzero().squeeze(1)
        mean, cov = _weighted_moments(z[idx], w[:, idx])
        mus.append(mean)
        covs.append(cov)
        tots.append(w[:, idx].sum(1))
    mu = torch.stack(mus, 1)
    cov = torch.stack(covs, 1)
    tot = torch.stack(tots, 1)
    pi = tot / tot.sum(1, keepdim=True)
    if mode == "pooled":
        cov = (cov * pi[..., None, None]).sum(1, keepdim=True)  # (B, 1, d, d): one shared covariance
        shrink = np.asarray(shrink)[:1]
    alpha = torch.from_numpy(np.asarray(shrink, dtype=np.float64))[None, :, None, None]
    target = (torch.diagonal(cov, dim1=-2, dim2=-1).mean(-1)[..., None, None]) * torch.eye(d, dtype=cov.dtype)
    cov = (1 - alpha) * cov + alpha * target + 1e-9 * torch.eye(d, dtype=cov.dtype)
    return mu, cov, pi


def _stratified_draws(rng: np.random.Generator, pi: np.ndarray, n_mc: int, d: int):
    """Standard-normal draws laid out per class: eps (C, M, d), per-class counts m_c (C,), mask (C, M)."""
    import torch

    m_c = np.maximum(1, np.round(n_mc * pi)).astype(int)
    m_max = int(m_c.max())
    eps = torch.from_numpy(rng.standard_normal((pi.size, m_max, d)))
    mask = torch.from_numpy(np.arange(m_max)[None, :] < m_c[:, None]).to(torch.float64)
    return eps, m_c, mask


def _mc_class_sums(mu, cov, pi, eps, m_c, mask):
    """Per class, the sum and the sum of squares of the MC terms of B fitted mixtures at once,
    and which mixtures failed (a covariance not positive definite).

    ``mu`` (B, C, d), ``cov`` (B, C, d, d), ``pi`` (B, C); class c's draws are
    h = mu_c + L_c eps[c] and contribute log p_c(h) - log sum_j pi_j p_j(h) <= -log pi_c.
    """
    import torch

    d = mu.shape[-1]
    n_cls = mu.shape[1]
    chol, info = torch.linalg.cholesky_ex(cov)  # (B, C, d, d), or (B, 1, d, d) for a shared covariance
    failed = (info != 0).any(1)  # (B,): a resample whose covariance is not positive definite
    if bool(failed.any()):  # factor the identity there, and report NaN for that resample
        chol = torch.where(failed[:, None, None, None], torch.eye(d, dtype=cov.dtype), chol)
    eye = torch.eye(d, dtype=chol.dtype).expand_as(chol)
    chol_inv = torch.linalg.solve_triangular(chol, eye, upper=False)
    logdet = 2.0 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)  # (B, C) or (B, 1)
    h = mu[:, :, None, :] + torch.einsum("bcij,cmj->bcmi", chol.expand(-1, n_cls, -1, -1), eps)  # (B, C, M, d)
    if cov.shape[1] == 1:  # shared covariance: one whitening for every class
        white = torch.einsum("bik,bcmk->bcmi", chol_inv[:, 0], h)  # (B, C, M, d)
        white_mu = torch.einsum("bik,bjk->bji", chol_inv[:, 0], mu)  # (B, C_target, d)
        flat = white.reshape(white.shape[0], -1, d)  # (B, C*M, d)
        maha = (flat**2).sum(-1, keepdim=True) + (white_mu**2).sum(-1)[:, None, :] - 2.0 * flat @ white_mu.transpose(1, 2)
        maha = maha.clamp_min(0.0).reshape(h.shape[0], n_cls, -1, n_cls)  # (B, C, M, C_target)
        logdet = logdet.expand(-1, n_cls)
    else:
        proj = torch.einsum("bjik,bcmk->bcmji", chol_inv, h)  # (B, C, M, C_target, d)
        proj_mu = torch.einsum("bjik,bjk->bji", chol_inv, mu)  # (B, C_target, d)
        maha = ((proj - proj_mu[:, None, None]) ** 2).sum(-1)  # (B, C, M, C_target)
    logp = -0.5 * (d * math.log(2 * math.pi) + logdet[:, None, None, :] + maha)
    logmix = torch.logsumexp(torch.log(pi)[:, None, None, :] + logp, dim=-1)  # (B, C, M)
    own = torch.diagonal(logp, dim1=1, dim2=3).permute(0, 2, 1)  # (B, C, M): log p_c(h) for h from c
    term = (own - logmix) * mask
    return term.sum(-1), (term**2).sum(-1), failed


def _mc_mixture_mi(mu, cov, pi, eps, m_c, mask):
    """Stratified MC of I(H; Y) for B fitted mixtures at once (NaN where a covariance failed)."""
    import torch

    s1, _, failed = _mc_class_sums(mu, cov, pi, eps, m_c, mask)
    mi = (pi * s1 / torch.from_numpy(m_c).to(s1.dtype)).sum(1)
    return torch.where(failed, torch.full_like(mi, math.nan), mi)


def kolchinsky_tracey_bounds(mu, cov, pi) -> tuple[float, float]:
    r"""Closed-form lower and upper bounds on :math:`I(H; Y)` for the Gaussian mixture
    :math:`p(h) = \sum_c \pi_c \mathcal{N}(\mu_c, \Sigma_c)` (Kolchinsky & Tracey 2017,
    "Estimating mixture entropy with pairwise distances", Entropy 19(7)):

    .. math:: -\sum_i \pi_i \log \sum_j \pi_j e^{-D(p_i \| p_j)},

    a lower bound with the Bhattacharyya distance
    :math:`D_B = \tfrac18 \Delta^\top \bar\Sigma^{-1} \Delta + \tfrac12 \log\frac{|\bar\Sigma|}{\sqrt{|\Sigma_i||\Sigma_j|}}`
    (:math:`\Delta = \mu_i - \mu_j`, :math:`\bar\Sigma = (\Sigma_i + \Sigma_j)/2`), an upper bound with
    the KL divergence. ``mu`` (C, d), ``cov`` (C, d, d) or one shared (1, d, d), ``pi`` (C,)
    torch tensors. Returns (lower, upper) in nats."""
    import torch

    d = mu.shape[-1]
    cov = cov.expand(mu.shape[0], -1, -1)
    chol = torch.linalg.cholesky(cov)
    logdet = 2.0 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
    inv = torch.cholesky_inverse(chol)
    diff = mu[:, None, :] - mu[None, :, :]  # (C, C, d)
    # KL(p_i || p_j)
    tr = torch.einsum("jab,iba->ij", inv, cov)
    maha_j = torch.einsum("ija,jab,ijb->ij", diff, inv, diff)
    kl = 0.5 * (tr + maha_j - d + logdet[None, :] - logdet[:, None])
    # Bhattacharyya distance
    avg = 0.5 * (cov[:, None] + cov[None, :])
    chol_avg = torch.linalg.cholesky(avg)
    ld_avg = 2.0 * torch.log(torch.diagonal(chol_avg, dim1=-2, dim2=-1)).sum(-1)
    sol = torch.cholesky_solve(diff[..., None], chol_avg).squeeze(-1)
    bd = 0.125 * (diff * sol).sum(-1) + 0.5 * (ld_avg - 0.5 * (logdet[:, None] + logdet[None, :]))

    def bound(dist):
        return float(-(pi * torch.log((pi[None, :] * torch.exp(-dist)).sum(1))).sum())

    return bound(bd), bound(kl)
