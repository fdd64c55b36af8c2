"""``align``: unpaired single-level feature and label alignment."""

from __future__ import annotations

import torch

from ..losses import label_alignment, sinkhorn_alignment
from .base import KDMethod, Step, nan_terms
from .registry import register_method

__all__ = ["Align"]


@register_method("align")
class Align(KDMethod):
    r"""UCMKD's two alignment losses in one level (Tran et al., ICML 2026):

    .. math:: \mathcal{L} = \mathrm{CE}(p_S, y) + \lambda_1\, \mathrm{FA}(z_S, z_T)
              + \lambda_2\, \mathrm{LA}(p_S, h_T(z_S), y),

    FA the entropic optimal-transport cost between the student's batch features and an
    independently drawn teacher batch (:func:`~cchkit.distill.losses.sinkhorn_alignment`), LA
    the label alignment through the frozen teacher head
    (:func:`~cchkit.distill.losses.label_alignment`). Never uses pairs."""

    own_settings = ('cost', 'eps', 'lambda2', 'teacher_grad', 'class_matched')

    def loss(self, s: Step, z: torch.Tensor, logits: torch.Tensor,
             ce: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        cfg, terms = s.cfg, nan_terms()
        fa = sinkhorn_alignment(z, s.ctx.zt_tr[s.teacher_rows()], eps=cfg.eps, cost=cfg.cost)
        la = label_alignment(logits, s.tnet.head(z), s.yb, teacher_grad=cfg.teacher_grad)
        terms.update(fa=float(fa.detach()), la=float(la.detach()))
        return ce + cfg.lambda1 * fa + cfg.lambda2 * la, terms
