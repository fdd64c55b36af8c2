"""``ucmkd``: the first-order bilevel algorithm of UCMKD (unpaired)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ..._torch import adamw_step
from ..losses import label_alignment, sinkhorn_alignment
from ..models import KDNet
from .base import KDMethod, Step
from .registry import register_method

__all__ = ["UCMKD", "bilevel_step", "functional_forward"]


def functional_forward(net: KDNet, params: list[torch.Tensor], x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``net``'s forward with its parameters replaced by ``params`` (in ``net.parameters()``
    order): a plain loop over the layers, cheaper than ``torch.func.functional_call`` for these
    small MLPs."""
    it = iter(params)
    h = x
    for layer in net.encoder:
        if isinstance(layer, torch.nn.Linear):
            h = F.linear(h, next(it), next(it))
        else:
            h = layer(h)
    z = h
    return z, F.linear(z, next(it), next(it))


@register_method("ucmkd")
class UCMKD(KDMethod):
    r"""Unpaired Cross-Modal KD (Tran et al., ICML 2026), first order: per student batch, a copy
    :math:`\theta'` of the student takes ``n1`` inner AdamW steps on the feature alignment
    :math:`\mathrm{FA}(z_{\theta'}, z_T)` against an independently drawn teacher batch
    (:func:`~cchkit.distill.losses.sinkhorn_alignment`), then ``n2`` on the label alignment
    :math:`\mathrm{LA}` (:func:`~cchkit.distill.losses.label_alignment`); the outer gradient is
    that of :math:`\mathrm{CE}(p_{\theta'}, y)` at the adapted copy, applied to the student (as
    FOMAML). The inner AdamW has a fresh state per batch, as the public code."""

    own_settings = ('cost', 'eps', 'inner_lr', 'inner_weight_decay', 'n1', 'n2', 'teacher_grad', 'class_matched')

    def loss(self, s: Step, z: torch.Tensor, logits: torch.Tensor,
             ce: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        raise NotImplementedError("ucmkd writes its gradients in step()")

    def step(self, s: Step) -> tuple[dict[str, float], torch.Tensor, torch.Tensor]:
        ce, logits, fa, la = bilevel_step(s.snet, s.tnet, s.xb, s.yb, s.ctx.zt_tr[s.teacher_rows()], s.cfg)
        return {"loss": ce, "ce": ce, "fa": fa, "la": la, "kd": float("nan")}, logits, s.yb


def bilevel_step(snet: KDNet, tnet: KDNet, xb: torch.Tensor, yb: torch.Tensor, zt_b: torch.Tensor,
             cfg: Any) -> tuple[float, torch.Tensor, float, float]:
    """One first-order bilevel step; writes the outer gradient into ``snet``'s ``.grad``. The copy
    is a list of detached clones of the student's parameters, run functionally."""
    fast = [p.detach().clone().requires_grad_(True) for p in snet.parameters()]
    state: dict[str, Any] = {}
    fa_v = la_v = float("nan")
    for _ in range(cfg.n1):
        z, _ = functional_forward(snet, fast, xb)
        fa = sinkhorn_alignment(z, zt_b, eps=cfg.eps, cost=cfg.cost)
        grads = torch.autograd.grad(fa, fast, allow_unused=True)
        adamw_step(fast, list(grads), state, lr=cfg.inner_lr, weight_decay=cfg.inner_weight_decay)
        fa_v = float(fa.detach())
    for _ in range(cfg.n2):
        z, logits = functional_forward(snet, fast, xb)
        la = label_alignment(logits, tnet.head(z), yb, teacher_grad=cfg.teacher_grad)
        grads = torch.autograd.grad(la, fast, allow_unused=True)
        adamw_step(fast, list(grads), state, lr=cfg.inner_lr, weight_decay=cfg.inner_weight_decay)
        la_v = float(la.detach())
    _, logits = functional_forward(snet, fast, xb)
    ce = F.cross_entropy(logits, yb)
    grads = torch.autograd.grad(ce, fast, allow_unused=True)
    for p, g in zip(snet.parameters(), grads):
        p.grad = None if g is None else g.detach()
    return float(ce.detach()), logits, fa_v, la_v
