"""The paired methods: ``logit-kd`` (Hinton's KD) and ``feature-kd``, on the student's training
rows that have a teacher pair (same sample id)."""

from __future__ import annotations

import torch

from ..losses import feature_kd, vanilla_kd
from .base import KDMethod, Step, nan_terms
from .registry import register_method

__all__ = ["LogitKD", "FeatureKD"]


class _PairedKD(KDMethod):
    """``CE + lambda1 * kd`` on the batch rows that have a pair (CE alone when none has)."""

    def kd(self, s: Step, z: torch.Tensor, logits: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def loss(self, s: Step, z: torch.Tensor, logits: torch.Tensor,
             ce: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        assert s.ctx.pair_mask is not None
        terms = nan_terms()
        terms["kd"] = 0.0
        bidx = torch.as_tensor(s.bidx, device=s.dev)
        m = s.ctx.pair_mask[bidx]
        if not bool(m.any()):
            return ce, terms
        kd = self.kd(s, z, logits, m)
        terms["kd"] = float(kd.detach())
        return ce + s.cfg.lambda1 * kd, terms


@register_method("logit-kd", paired=True)
class LogitKD(_PairedKD):
    r"""Hinton, Vinyals & Dean (2015), "Distilling the Knowledge in a Neural Network":

    .. math:: \mathcal{L} = \mathrm{CE}(p_S, y) + \lambda_1 T^2\,
              \mathrm{KL}\big(p_T^{T} \,\|\, p_S^{T}\big)

    on each student row's paired teacher sample (:func:`~cchkit.distill.losses.vanilla_kd`)."""

    by_default = True
    stack_targets = "paired"

    def kd(self, s: Step, z: torch.Tensor, logits: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        bidx = torch.as_tensor(s.bidx, device=s.dev)
        return vanilla_kd(logits[m], s.ctx.lt_pair[bidx][m], T=s.cfg.temperature)


@register_method("feature-kd", paired=True)
class FeatureKD(_PairedKD):
    r"""Feature regression (FitNets-style hints, Romero et al., ICLR 2015, without the regressor):

    .. math:: \mathcal{L} = \mathrm{CE}(p_S, y) + \lambda_1\, \lVert z_S - z_T \rVert^2 / d

    on each student row's paired teacher sample (:func:`~cchkit.distill.losses.feature_kd`)."""

    def kd(self, s: Step, z: torch.Tensor, logits: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        bidx = torch.as_tensor(s.bidx, device=s.dev)
        return feature_kd(z[m], s.ctx.zt_pair[bidx][m])
