"""``class-align``: unpaired class-conditional distillation (the default)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ..losses import class_conditional_alignment, class_conditional_kd
from .base import KDMethod, Step, nan_terms
from .registry import register_method

__all__ = ["ClassAlign"]


@register_method("class-align")
class ClassAlign(KDMethod):
    r"""Class-conditional KD, unpaired (after UCMKD's class-level transfer, Tran et al., ICML
    2026): the student's softened prediction is pulled towards the teacher's class-mean soft
    target of the sample's class,

    .. math:: \mathcal{L} = \mathrm{CE}(p_S, y) + \lambda_1 T^2\,
              \mathrm{KL}\big(\bar q_T(\cdot \mid y) \,\|\, p_S^{T}\big)
              \;[+\; \lambda_{FA}\, \mathrm{FA}_y(A z_S, z_T)],

    with :math:`\bar q_T(\cdot|y)` the mean of the teacher's softened predictions over its own
    training samples of class y (:func:`~cchkit.distill.losses.class_soft_targets`;
    ``class_targets="sample"``: one same-class teacher sample's instead), and the optional
    class-conditional Sinkhorn alignment of the student's mapped features with same-class teacher
    features. Uses labels, never pairs."""

    by_default = True

    own_settings = ('class_targets', 'cost', 'eps', 'lambda_fa')
    stack_targets = "class"

    def class_temperature(self, cfg: Any) -> float | None:
        return float(cfg.temperature)

    def needs_mapper(self, cfg: Any) -> bool:
        return cfg.lambda_fa > 0

    def loss(self, s: Step, z: torch.Tensor, logits: torch.Tensor,
             ce: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        cfg, terms, tb = s.cfg, nan_terms(), None
        if cfg.class_targets == "mean":
            targets = s.ctx.class_targets[s.yb]
        else:
            tb = torch.as_tensor(s.t_batcher.draw_aligned(s.d.ys_tr_np[s.bidx]), device=s.dev)
            targets = F.softmax(s.ctx.lt_tr[tb] / cfg.temperature, dim=1)
        kd = class_conditional_kd(logits, targets, T=cfg.temperature)
        loss = ce + cfg.lambda1 * kd
        terms["kd"] = float(kd.detach())
        if s.mapper is not None:
            if tb is None:
                tb = torch.as_tensor(s.t_batcher.draw_aligned(s.d.ys_tr_np[s.bidx]), device=s.dev)
            fa = class_conditional_alignment(s.mapper(z), s.yb, s.ctx.zt_tr[tb], s.d.yt_tr[tb], eps=cfg.eps,
                                             cost=cfg.cost)
            loss = loss + cfg.lambda_fa * fa
            terms["fa"] = float(fa.detach())
        return loss, terms
