"""InfoNCE contrastive lower bound on mutual information (van den Oord et al. 2018)."""

from __future__ import annotations

from ._neural import NeuralEstimator
from .bounds import infonce_terms
from .registry import register_estimator

__all__ = ["InfoNCEEstimator"]


@register_estimator("infonce")
class InfoNCEEstimator(NeuralEstimator):
    r"""InfoNCE lower bound (van den Oord, Li & Vinyals 2018, "Representation learning with
    contrastive predictive coding", arXiv:1807.03748; as a MI bound: Poole et al. 2019).

    .. math:: I(X; Y) \ge \log K + \mathbb{E}\Big[f(x_i, y_i) - \log \sum_{j=1}^{K} e^{f(x_i, y_j)}\Big]

    A critic ``f`` is trained on a training split with batches of ``batch_size`` pairs; the
    reported value is the bound on the held-out split, with ``K`` = all held-out rows for the
    separable critic (scored in chunks), so the cap ``log K`` (``extra["cap"]``) is as high as
    the data allow. The bound can never exceed ``log K``: to estimate ``I`` nats, ``K`` must be
    well above ``e^I`` (e.g. 5 nats needs K >> 148); a warning is raised when the estimate is
    within 10% of the cap. Early stopping on the held-out bound; the training curve (held-out
    bound after every ``eval_every`` steps) is ``extra["curve"]``.

    Known bias: a lower bound, biased low by the critic's approximation error and by
    ``E log(1 + (r - 1) / K)`` for the density ratio ``r``; low variance.

    Interval (``extra["ci_method"]``): value +- 1.96 standard errors of the per-row held-out
    terms, conditional on the trained critic.

    Critics (``critic=``): ``"separable"`` (default; MLP embeddings ``g(x) . h(y)`` plus a
    low-rank quadratic term, so it models non-linear dependence; with ``warm_start`` (default)
    the quadratic term is fitted first, then the whole critic), ``"quadratic"`` (the quadratic
    term alone: the exact form of a Gaussian pair's log density ratio, few parameters, no
    non-linear dependence) or ``"concat"``. The warm start matters in high dimension with few
    informative directions, where the MLPs otherwise overfit the noise dimensions
    (``benchmarks/results/estimators.md``).

    Parameters: as :class:`~cchkit.estimators._neural.NeuralEstimator`, except ``patience``
    defaults to 3 (the held-out InfoNCE curve flattens early, so later rounds only cost time).
    """

    description = "InfoNCE contrastive lower bound (van den Oord 2018), capped at log K"
    _objective = "infonce"

    setting_defaults = {"patience": 3}

    def _train_loss(self, scores, state):
        return -infonce_terms(scores).mean()
