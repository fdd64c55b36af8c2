r"""Forward pass, loss and SGD step of stacked MLPs; the gradients are autograd's.

A stack of students (:mod:`~cchkit.distill.batched`) holds every member's parameters along a
leading member axis, so one batched product per layer runs every member. Each member's loss is
its own (a member's gradient depends on its parameters only), so the gradient of the summed
losses is every member's own gradient, taken by autograd in one backward pass.

Loss of member ``m`` with student logits :math:`s_i` on its batch :math:`B_m` (``b`` rows),
targets :math:`q_i`, KD rows :math:`K_m` (the rows of the batch that have a target), weight
:math:`\lambda_m` and temperature :math:`T_m`:

.. math::

    \mathcal{L}_m = \frac{1}{b}\sum_{i \in B_m} \mathrm{CE}(s_i, y_i)
        + \frac{\lambda_m T_m^2}{|K_m|} \sum_{i \in K_m} -\sum_c q_{ic} \log \mathrm{softmax}(s_i / T_m)_c

(Hinton et al. 2015's soft-target loss: the cross-entropy to the targets, which has the
gradient of the KL divergence; the KD term is 0 when :math:`K_m` is empty).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch
import torch.nn.functional as F

__all__ = ["Batch", "stack_forward", "member_losses", "stack_gradients", "sgd_step_"]


@dataclasses.dataclass(frozen=True)
class Batch:
    """One mini-batch of every member: inputs (M, b, d), labels (M, b), and for KD the per-row
    target distributions (M, b, C), the rows that have one (M, b), the members' KD weights (M,)
    and temperatures (M,); ``targets`` None: no member distils."""

    x: torch.Tensor
    y: torch.Tensor
    targets: torch.Tensor | None = None
    has_target: torch.Tensor | None = None
    weight: torch.Tensor | None = None
    temperature: torch.Tensor | None = None


def stack_forward(params: Sequence[torch.Tensor], x: torch.Tensor,
                  keep: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
    """Logits (M, b, C) of the stacked MLPs ``Linear-ReLU(-dropout) ... Linear (Z) -> Linear
    (head)`` (``params``: weight (M, out, in) and bias (M, out) per layer), with ``keep`` the
    (M, b, width) dropout multipliers per hidden layer."""
    n_layers = len(params) // 2
    h = x
    for i in range(n_layers):
        w, b = params[2 * i], params[2 * i + 1]
        h = torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))
        if i < n_layers - 2:  # no activation on Z (the encoder's output) nor on the logits
            # relu(h) * keep = relu(h * keep) (keep >= 0); in place on a fresh product, which
            # autograd allows (neither baddbmm nor mul needs its output for its gradient)
            h = torch.relu_(h if keep is None else h * keep[i])
    return h


def member_losses(logits: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Every member's loss (M,) on its batch (see the module docstring)."""
    ce = -F.log_softmax(logits, dim=2).gather(2, batch.y.unsqueeze(2)).squeeze(2).mean(1)
    if batch.targets is None:
        return ce
    t = batch.temperature  # type: ignore[assignment]
    soft = -(batch.targets * F.log_softmax(logits / t[:, None, None], dim=2)).sum(2)  # type: ignore[index]
    rows = batch.has_target.to(logits.dtype)  # type: ignore[union-attr]
    kd = (soft * rows).sum(1) / rows.sum(1).clamp_min(1.0)
    return ce + batch.weight * t**2 * kd  # type: ignore[operator]


def stack_gradients(params: Sequence[torch.Tensor], batch: Batch,
                    keep: Sequence[torch.Tensor] | None = None) -> list[torch.Tensor]:
    """Every member's gradient of its loss on ``batch``, in ``params`` order (weights (M, out,
    in), biases (M, out)), by autograd through the summed member losses."""
    leaves = [p.detach().requires_grad_(True) for p in params]
    with torch.enable_grad():
        loss = member_losses(stack_forward(leaves, batch.x, keep), batch).sum()
        return list(torch.autograd.grad(loss, leaves))


@torch.no_grad()
def sgd_step_(params: Sequence[torch.Tensor], grads: Sequence[torch.Tensor], bufs: list[torch.Tensor | None],
              lr: torch.Tensor, weight_decay: torch.Tensor | None, momentum: float, grad_clip: float) -> None:
    r"""torch's SGD with momentum, member by member and in place: each member's gradient is
    clipped to norm ``grad_clip`` (over all its parameters, as ``clip_grad_norm_``), then
    :math:`g \leftarrow g + \mathrm{wd}_m\,p`, :math:`v \leftarrow \mu v + g` (:math:`v = g`
    at the first step), :math:`p \leftarrow p - \mathrm{lr}_m v`. ``lr`` and ``weight_decay``:
    (M,) per member (``weight_decay`` None: no member decays). ``grads`` are overwritten and
    ``bufs`` (the momentum buffers, None before the first step) filled in."""
    def per_member(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return v.reshape(-1, *([1] * (like.dim() - 1)))

    if grad_clip and grad_clip > 0:
        norms = torch.sqrt(sum((g.reshape(g.shape[0], -1) ** 2).sum(1) for g in grads))  # type: ignore[arg-type]
        coef = torch.clamp(grad_clip / (norms + 1e-6), max=1.0)
        for g in grads:
            g.mul_(per_member(coef, g))
    for k, (p, g) in enumerate(zip(params, grads)):
        if weight_decay is not None:
            g.addcmul_(per_member(weight_decay, p), p)
        if bufs[k] is None:
            bufs[k] = g
        else:
            bufs[k].mul_(momentum).add_(g)  # type: ignore[union-attr]
        p.addcmul_(per_member(lr, p), bufs[k], value=-1.0)  # type: ignore[arg-type]
