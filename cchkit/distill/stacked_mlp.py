r"""Forward pass, gradients and SGD step of stacked MLPs, written out (no autograd).

A stack of students (:mod:`~cchkit.distill.batched`) is compute-bound on a CPU: its batched
products are a third of a step, and autograd's graph, its temporaries and an SGD step of several
passes over the parameters were most of the rest. Here the backward pass of
``Linear-ReLU(-dropout) ... Linear (Z) -> Linear (head)`` is written out with the same batched
products, the ReLU and the dropout share one multiplier per hidden unit, and the SGD step updates
the parameters in place, so a step allocates little and runs no graph. The numbers are those of
autograd up to float rounding (``tests/test_distill_stacked_mlp.py`` compares them).

Gradient of the loss of :mod:`~cchkit.distill.batched` for member ``m`` with student logits
:math:`s_i` on its batch :math:`B_m` (``b`` rows), targets :math:`q_i`, KD rows :math:`K_m`
(the rows of the batch that have a target), weight :math:`\lambda_m` and temperature
:math:`T_m`:

.. math::

    \frac{\partial \mathcal{L}_m}{\partial s_i} = \frac{\mathrm{softmax}(s_i) - e_{y_i}}{b}
        + \mathbb{1}[i \in K_m]\,\frac{\lambda_m T_m}{|K_m|}
          \big(\mathrm{softmax}(s_i / T_m) \textstyle\sum_c q_{ic} - q_i\big)

(the KD term is :math:`\lambda_m T_m^2` times the mean over :math:`K_m` of the cross-entropy
:math:`-\sum_c q_{ic} \log \mathrm{softmax}(s_i/T_m)_c`, Hinton et al. 2015; 0 when
:math:`K_m` is empty). The layers then back-propagate as usual: for :math:`h_l = a(h_{l-1}
W_l^\top + b_l)`, :math:`\nabla W_l = g_l^\top h_{l-1}`, :math:`\nabla b_l = \sum_i g_{l,i}`,
:math:`g_{l-1} = (g_l W_l) \odot a'`, with :math:`a'` the ReLU's 0/1 times the dropout scale.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch

__all__ = ["Batch", "softmax_last", "stack_forward", "logit_gradient", "stack_gradients", "sgd_step_"]


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


def softmax_last(x: torch.Tensor) -> torch.Tensor:
    r"""Softmax over the last axis, :math:`e^{x - \max x} / \sum e^{x - \max x}`: on rows of a
    few classes, torch's kernel is several times slower than these three passes."""
    e = (x - x.amax(-1, keepdim=True)).exp_()
    return e.div_(e.sum(-1, keepdim=True))


def stack_forward(params: Sequence[torch.Tensor], x: torch.Tensor, keep: Sequence[torch.Tensor] | None = None,
                  record: bool = False) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Logits (M, b, C) of the stacked MLPs (``params``: weight (M, out, in) and bias (M, out)
    per layer), with ``keep`` the (M, b, width) dropout multipliers per hidden layer; with
    ``record``, also every layer's input, which :func:`stack_gradients` needs (a hidden unit's
    output is positive exactly where its ReLU and its dropout let the gradient through)."""
    n_layers = len(params) // 2
    inputs: list[torch.Tensor] = []
    h = x
    for i in range(n_layers):
        if record:
            inputs.append(h)
        w, b = params[2 * i], params[2 * i + 1]
        h = torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))
        if i < n_layers - 2:  # no activation on Z (the encoder's output) nor on the logits
            h = torch.relu_(h)
            if keep is not None:
                h = h.mul_(keep[i])
    return h, inputs


def logit_gradient(logits: torch.Tensor, batch: Batch) -> torch.Tensor:
    """The gradient (M, b, C) of the summed member losses with respect to the logits (see the
    module docstring)."""
    m, b, _ = logits.shape
    grad = softmax_last(logits)
    grad.scatter_add_(2, batch.y.unsqueeze(2), torch.full((m, b, 1), -1.0, dtype=grad.dtype, device=grad.device))
    grad.div_(b)
    if batch.targets is None:
        return grad
    t = batch.temperature[:, None, None]  # type: ignore[index]
    q = batch.targets
    rows = batch.has_target.to(logits.dtype)  # type: ignore[union-attr]
    count = rows.sum(1)
    scale = torch.where(count > 0, batch.weight * batch.temperature / count.clamp_min(1.0), 0.0)  # type: ignore[operator]
    kd = softmax_last(logits / t).mul_(q.sum(2, keepdim=True)).sub_(q)
    return grad.addcmul_(kd, (rows * scale[:, None]).unsqueeze(2))


def stack_gradients(params: Sequence[torch.Tensor], batch: Batch,
                    keep: Sequence[torch.Tensor] | None = None) -> list[torch.Tensor]:
    """Every member's gradient of its loss on ``batch``, in ``params`` order (weights (M, out,
    in), biases (M, out)), by the back-propagation of the module docstring."""
    logits, inputs = stack_forward(params, batch.x, keep, record=True)
    g = logit_gradient(logits, batch)
    n_layers = len(params) // 2
    grads: list[torch.Tensor] = [g] * len(params)
    for i in reversed(range(n_layers)):
        grads[2 * i] = torch.bmm(g.transpose(1, 2), inputs[i])
        grads[2 * i + 1] = g.sum(1)
        if i:
            g = torch.bmm(g, params[2 * i])
            if i - 1 < n_layers - 2:  # through hidden layer i - 1's dropout and ReLU
                if keep is not None:
                    g.mul_(keep[i - 1])
                g = torch.ops.aten.threshold_backward(g, inputs[i], 0)
    return grads


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
