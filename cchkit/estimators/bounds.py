r"""The variational bounds a neural MI estimator evaluates on held-out rows, in one registry.

A bound says how a block of held-out rows, scored by the critic as a K x K matrix (the joint
pairs on the diagonal), becomes its value and the per-row terms of a standard error
(:meth:`Bound.block`, :meth:`Bound.pool`); whether its critic of a kind trains on pairs rather
than on score matrices; and the ceiling it cannot pass, if any. A new bound is one class and a
registration (:func:`register_bound`); an estimator names its bound in ``_objective``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from .._registry import Registry

__all__ = ["Bound", "register_bound", "get_bound", "list_bounds", "infonce_terms", "dv_terms", "offdiag_logmeanexp",
           "dv_influence"]


def infonce_terms(scores: Any) -> Any:
    """Per-row InfoNCE terms ``f(x_i, y_i) - logsumexp_j f(x_i, y_j) + log K`` of a K x K matrix.

    Their mean is the InfoNCE bound (van den Oord et al. 2018), at most ``log K``.
    """
    import torch

    k = scores.shape[1]
    return scores.diagonal() - torch.logsumexp(scores, dim=1) + math.log(k)


def offdiag_logmeanexp(scores: Any) -> Any:
    import torch

    k = scores.shape[0]
    masked = scores.masked_fill(torch.eye(k, dtype=torch.bool, device=scores.device), -math.inf)
    return torch.logsumexp(masked.reshape(-1), dim=0) - math.log(k * (k - 1))


def dv_terms(scores: Any) -> tuple[Any, Any]:
    """Donsker-Varadhan bound ``E_P[T] - log E_{P_X P_Y}[e^T]`` of a K x K score matrix.

    The joint sample is the diagonal; the product of marginals is every off-diagonal pair.
    Returns ``(bound, log_mean_exp_marginal)``.
    """
    lme = offdiag_logmeanexp(scores)
    return scores.diagonal().mean() - lme, lme


def dv_influence(scores: Any) -> tuple[Any, Any]:
    """DV bound of a block and the per-row influence terms used for its standard error.

    Returns ``(bound, influence)`` with ``influence_i = T_ii - r_i / mean(r)`` where ``r_i`` is
    row i's mean of ``exp(T_ij - c)`` over ``j != i`` (delta method for ``log mean exp``).
    """
    import torch

    k = scores.shape[0]
    bound, _ = dv_terms(scores)
    masked = scores.masked_fill(torch.eye(k, dtype=torch.bool, device=scores.device), -math.inf)
    c = masked.max()
    r = torch.exp(masked - c).sum(dim=1) / (k - 1)
    infl = scores.diagonal() - r / r.mean()
    return bound.double().cpu(), infl.double().cpu()


class Bound:
    """A registered held-out bound (see the module docstring)."""

    name: ClassVar[str] = ""
    #: how the per-row terms of its standard error are obtained, in words (the interval's method)
    terms_text: ClassVar[str] = ""
    #: critic kinds that train and evaluate on pairs (marginals by shuffling), not score matrices
    pairwise_critics: ClassVar[tuple[str, ...]] = ()

    def block(self, scores: Any) -> Any:
        """What one K x K block of held-out scores contributes."""
        raise NotImplementedError

    def pool(self, blocks: Sequence[Any]) -> tuple[float, float]:
        """(value, standard error) over the blocks."""
        raise NotImplementedError

    def cap(self, block: int) -> float | None:
        """The most the bound can report with blocks of ``block`` rows (None: no ceiling)."""
        return None


_REGISTRY: Registry[Bound] = Registry("bound")


def register_bound(name: str) -> Callable[[type[Bound]], type[Bound]]:
    def decorator(cls: type[Bound]) -> type[Bound]:
        cls.name = name
        _REGISTRY[name] = cls()
        return cls

    return decorator


def get_bound(name: str) -> Bound:
    return _REGISTRY.lookup(name)


def list_bounds() -> list[str]:
    return [*_REGISTRY]


def _mean_and_se(t: Any) -> tuple[float, float]:
    return float(t.mean()), (float(t.std(unbiased=True) / math.sqrt(t.numel())) if t.numel() > 1 else 0.0)


@register_bound("infonce")
class InfoNCEBound(Bound):
    r"""InfoNCE (van den Oord et al., 2018): the mean over held-out rows of
    :math:`f(x_i, y_i) - \log \sum_j e^{f(x_i, y_j)} + \log K`, at most :math:`\log K`."""

    terms_text = "per-row InfoNCE terms"

    def block(self, scores: Any) -> Any:
        return infonce_terms(scores).double().cpu()

    def pool(self, blocks: Sequence[Any]) -> tuple[float, float]:
        import torch

        return _mean_and_se(torch.cat(list(blocks)))

    def cap(self, block: int) -> float | None:
        return math.log(block)


@register_bound("dv")
class DVBound(Bound):
    r"""Donsker-Varadhan (Belghazi et al., 2018, MINE): :math:`E_P[T] - \log E_{P_X P_Y}[e^T]`,
    per block, with the delta-method influence of the log-mean-exp term for its standard error;
    blocks are weighted by their rows."""

    terms_text = "delta-method influence of the DV bound"
    pairwise_critics = ("concat",)

    def block(self, scores: Any) -> Any:
        return dv_influence(scores)

    def pool(self, blocks: Sequence[Any]) -> tuple[float, float]:
        import torch

        w = np.array([infl.numel() for _, infl in blocks], dtype=np.float64)
        value = float(np.dot(w, [float(b) for b, _ in blocks]) / w.sum())
        return value, _mean_and_se(torch.cat([infl for _, infl in blocks]))[1]
