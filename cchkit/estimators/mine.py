"""MINE: the Donsker-Varadhan lower bound with a moving-average gradient (Belghazi et al. 2018)."""

from __future__ import annotations

import math
from typing import Any

from .._params import Interval, Real, validate_params
from ._neural import CriticSettings, NeuralEstimator
from .bounds import offdiag_logmeanexp
from .registry import register_estimator

__all__ = ["MINEEstimator"]


@register_estimator("mine")
class MINEEstimator(NeuralEstimator):
    r"""Mutual Information Neural Estimation (Belghazi et al. 2018, "MINE: Mutual Information
    Neural Estimation", ICML), Donsker-Varadhan form:

    .. math:: I(X; Y) \ge \mathbb{E}_{P_{XY}}[T] - \log \mathbb{E}_{P_X P_Y}[e^{T}]

    The gradient of the second term, ``grad E[e^T] / E[e^T]``, is biased on a minibatch;
    MINE replaces the denominator by an exponential moving average of ``E[e^T]`` (rate
    ``ema_rate``), kept in log space. In a batch the joint sample is the diagonal pairs and the
    product of marginals is every off-diagonal pair (separable and quadratic critics) or
    shifted pairs (concat critic). The value is the bound on the held-out split (every
    held-out pair for the separable critic), with early stopping on it; the training curve is
    ``extra["curve"]``.

    The default critic is ``"separable"`` with InfoNCE's warm start (see
    :class:`~cchkit.estimators._neural.NeuralEstimator`): the low-rank quadratic term (the exact
    form of a Gaussian pair's log density ratio) is fitted alone first, then the MLP
    embeddings ``g(x) . h(y)``, which start at zero, are trained on top. Without the warm start
    the all-pairs ``g . h`` scores grow quadratically and ``e^T`` of rare pairs dominates the DV
    term; with it, the separable critic is closer to the truth than the concat critic on the
    estimator benchmark's high-MI tasks (benchmarks/results/estimators.md).

    Known bias and where MINE is worse: a lower bound, but its held-out estimate has high
    variance at high MI (the ``log E[e^T]`` term is dominated by rare pairs). The quadratic
    term has rank ``rank`` (8): dependence spread over many weak channels is beyond it, and
    there the MLPs must carry the fit, so MINE falls well below the truth on dense
    high-dimensional dependence where the Gaussian estimator does not. A very sharp density
    ratio can outlast the training budget (an underestimate). The warm start costs training
    time; the benchmark gives the seconds per seed.

    Interval (``extra["ci_method"]``): value +- 1.96 standard errors from the delta-method
    influence terms of the held-out DV bound, conditional on the trained critic.

    Parameters
    ----------
    ema_rate : float, default 0.01
        Rate of the moving average of ``E[e^T]``.
    settings, **changes, standardize, random_state
        As in :class:`~cchkit.estimators._neural.NeuralEstimator`: the critic's settings
        (:class:`~cchkit.estimators._neural.CriticSettings`), here with ``lr=1e-3``.
    """

    description = "MINE Donsker-Varadhan lower bound with moving-average gradient (Belghazi 2018)"
    _objective = "dv"

    setting_defaults = {"lr": 1e-3}

    @validate_params({"ema_rate": [Interval(Real, 0, 1, closed="right")]})
    def __init__(self, *, ema_rate: float = 0.01, settings: CriticSettings | None = None, standardize: bool = True,
                 random_state: Any = None, **changes: Any) -> None:
        super().__init__(settings=settings, standardize=standardize, random_state=random_state, **changes)
        self.ema_rate = float(ema_rate)

    def _train_loss(self, scores, state):
        return self._ema_loss(scores.diagonal().mean(), offdiag_logmeanexp(scores), state)

    def _train_loss_pairs(self, joint, marginal, state):
        import torch

        log_et = torch.logsumexp(marginal, dim=0) - math.log(marginal.numel())
        return self._ema_loss(joint.mean(), log_et, state)

    def _ema_loss(self, joint, log_et, state):
        import torch

        prev = state.get("log_ma")
        if prev is None:
            log_ma = log_et.detach()
        else:
            a = self.ema_rate
            log_ma = torch.logaddexp(prev + math.log1p(-a) if a < 1 else prev - math.inf, log_et.detach() + math.log(a))
        state["log_ma"] = log_ma
        # d/dtheta exp(log_et - log_ma) = grad E[e^T] / ma : the bias-corrected gradient
        return -(joint - torch.exp(log_et - log_ma))
