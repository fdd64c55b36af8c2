"""InfoNCE contrastive lower bound on mutual information (van den Oord et al. 2018)."""

from __future__ import annotations

from typing import Any

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
    informative directions, where the MLPs otherwise overfit the noise dimensions: sparse 50x50
    at 5 nats, n = 10,000, two seeds: 4.83 with it, 3.92 without.

    Parameters: as :class:`~cchkit.estimators._neural.NeuralEstimator`, except ``patience``
    defaults to 3 (the held-out InfoNCE curve flattens early; this keeps 10,000 rows at 5x5
    near 10 s on one CPU core).
    """

    description = "InfoNCE contrastive lower bound (van den Oord 2018), capped at log K"
    _objective = "infonce"

    def __init__(
        self,
        *,
        critic: str = "separable",
        warm_start: bool = True,
        rank: int = 8,
        activation: str = "silu",
        hidden: int = 128,
        layers: int = 2,
        embed_dim: int = 32,
        batch_size: int = 512,
        lr: float = 2e-3,
        max_steps: int = 2000,
        eval_every: int = 100,
        patience: int = 3,
        eval_fraction: float = 0.5,
        eval_block: int | None = None,
        weight_decay: float = 0.0,
        device: str = "auto",
        n_threads: int | None = 1,
        progress: bool = False,
        standardize: bool = True,
        random_state: Any = None,
    ) -> None:
        # explicit parameters (no **kwargs, scikit-learn's rule): every one is seen by
        # get_params and by the registry's check of what a caller passes
        super().__init__(
            critic=critic, warm_start=warm_start, rank=rank, activation=activation, hidden=hidden, layers=layers,
            embed_dim=embed_dim, batch_size=batch_size, lr=lr, max_steps=max_steps, eval_every=eval_every,
            patience=patience, eval_fraction=eval_fraction, eval_block=eval_block, weight_decay=weight_decay,
            device=device, n_threads=n_threads, progress=progress, standardize=standardize, random_state=random_state,
        )

    def _train_loss(self, scores, state):
        return -infonce_terms(scores).mean()
