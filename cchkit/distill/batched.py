r"""Many students trained as one stacked model.

The students of a validation (every seed, teacher, KD method and hyper-parameter setting of one
student modality) are small MLPs of one architecture. :func:`train_stack` stacks their weights
along a leading member axis and trains them together: every layer is one batched matrix product
(``torch.baddbmm``) over the members, every member keeps its own initialisation, batch order,
learning rate, weight decay, KD targets, weight and temperature, its own gradient clipping and
momentum buffer, and its own best validation epoch. One step of the stack costs about what one
step of a single student costs in Python overhead, so a validation of dozens of students, and
the hyper-parameter grid that tunes them, costs little more than one training.

Each member follows :func:`~cchkit.distill.distill` exactly: the same initialisation
(``build_net`` with the member's seed), mini-batches (a seeded permutation per epoch), SGD with
momentum, linear warm-up then cosine decay to ``lr * 1e-3``, gradient-norm clipping, and the
weights of the epoch with the best validation accuracy (the earliest on ties). A member with
``dropout`` p > 0 drops each hidden unit of a training row with probability p (inverted dropout,
after every hidden ReLU); the uniform draws come from the member's batch seed, so the members of
one seed (its no-KD and KD students) see the same draws, and a member's draws do not depend on
the stack it trains in. Losses, per member
``m`` with student logits ``s`` on its mini-batch :math:`B_m`:

.. math::

    \mathcal{L}_m = \frac{1}{|B_m|}\sum_{i \in B_m} \mathrm{CE}(s_i, y_i)
        + \lambda_m T_m^2\, \overline{\mathrm{KL}}\big(q_i \,\|\, \mathrm{softmax}(s_i / T_m)\big)

with :math:`q_i` the teacher's class-mean soft target of class :math:`y_i` (``"class"``, the
``class-align`` distiller: Hinton et al. 2015's soft-target loss with class-conditional targets)
or the paired teacher's softened prediction (``"paired"``, Hinton's logit KD, averaged over the
batch rows that have a pair), and no KD term for ``"none"``. Methods whose step is not a
per-member loss (UCMKD's inner loop, Sinkhorn alignment) are trained one at a time by
:func:`~cchkit.distill.distill`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from .config import DistillConfig
from .models import build_net

__all__ = ["StudentData", "Member", "StackSettings", "MemberResult", "train_stack", "KD_KINDS"]

KD_KINDS = ("none", "class", "paired")


@dataclass(frozen=True)
class StudentData:
    """One prepared split of the student (standardised on its fit rows): fit, validation, test."""

    x_fit: torch.Tensor
    y_fit: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


@dataclass(frozen=True)
class Member:
    """One student of the stack: which split, its seeds and its hyper-parameters.

    ``targets``: ``"class"``, the (C, C) class-mean soft targets; ``"paired"``, the teacher's
    logits for every fit row (n_fit, C) with ``pair_mask`` (n_fit,) marking the rows that have
    a teacher pair.
    """

    data: int
    init_seed: int
    batch_seed: int
    lr: float = 1e-2
    weight_decay: float = 0.0
    kd: Literal["none", "class", "paired"] = "none"
    kd_weight: float = 0.0
    temperature: float = 4.0
    targets: torch.Tensor | None = None
    pair_mask: torch.Tensor | None = None
    dropout: float = 0.0


@dataclass(frozen=True)
class StackSettings:
    """What every member of one stack shares: the architecture and the schedule (defaults:
    :class:`~cchkit.distill.DistillConfig`'s, so a stack trains as ``distill`` does)."""

    n_classes: int
    hidden: int | Sequence[int] = DistillConfig.hidden
    feat_dim: int = DistillConfig.feat_dim
    epochs: int = DistillConfig.epochs
    min_steps: int = DistillConfig.min_steps
    batch_size: int = DistillConfig.batch_size
    momentum: float = DistillConfig.momentum
    warmup_epochs: int | None = DistillConfig.warmup_epochs
    grad_clip: float = DistillConfig.grad_clip


@dataclass(frozen=True)
class MemberResult:
    """A trained member: test accuracy at its best validation epoch, that accuracy, the epoch."""

    accuracy: float
    val_accuracy: float
    best_epoch: int


def _lr_at(step: int, total: int, warmup: int, lr: np.ndarray, min_factor: float = 1e-3) -> np.ndarray:
    """The distiller's schedule for a vector of base rates (see ``trainer._lr_at``)."""
    lo = lr * min_factor
    if warmup > 0 and step < warmup:
        return lo + (lr - lo) * step / warmup
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    return lo + (lr - lo) * 0.5 * (1.0 + math.cos(math.pi * t))


def _stacked_init(members: Sequence[Member], in_dim: int, s: StackSettings, dev: Any) -> list[torch.Tensor]:
    """Each member's own ``build_net`` initialisation, stacked layer by layer (weights, biases)."""
    per = [[p.detach() for p in build_net(in_dim, s.n_classes, feat_dim=s.feat_dim, hidden=s.hidden,
                                          seed=m.init_seed).parameters()] for m in members]
    return [torch.stack([ps[i] for ps in per]).to(dev).requires_grad_(True) for i in range(len(per[0]))]


def _forward(params: list[torch.Tensor], x: torch.Tensor,
             keep: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
    """Logits (M, b, C) of the stacked MLPs ``Linear-ReLU ... Linear (Z) -> Linear (head)``;
    ``keep``: per hidden layer, the (M, b, width) dropout multipliers of this batch."""
    n_layers = len(params) // 2
    h = x
    for i in range(n_layers):
        w, b = params[2 * i], params[2 * i + 1]
        h = torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))
        if i < n_layers - 2:  # no activation on Z (the encoder's output) nor on the logits
            h = torch.relu(h)
            if keep is not None:
                h = h * keep[i]
    return h


class _Dropout:
    """Each member's dropout multipliers, drawn per epoch from its batch seed (members that share
    a batch seed share the uniform draws, whatever their rate)."""

    def __init__(self, members: Sequence[Member], widths: Sequence[int], n: int, dev: Any) -> None:
        seeds = list(dict.fromkeys(m.batch_seed for m in members))
        self.which = torch.tensor([seeds.index(m.batch_seed) for m in members], device=dev)
        self.gens = [torch.Generator().manual_seed(int(s) + 0x5EED) for s in seeds]
        p = torch.tensor([m.dropout for m in members], dtype=torch.float32, device=dev)
        self.p, self.scale = p[:, None, None], (1.0 / (1.0 - p))[:, None, None]
        self.widths, self.n, self.dev = list(widths), n, dev
        self.active = bool((p > 0).any())

    def epoch(self) -> list[torch.Tensor] | None:
        """Per hidden layer, the (seeds, n, width) uniform draws of one epoch (by position in
        the epoch's batch order), or None when no member drops."""
        if not self.active:
            return None
        return [torch.stack([torch.rand(self.n, w, generator=g) for g in self.gens]).to(self.dev)
                for w in self.widths]

    def batch(self, draws: list[torch.Tensor] | None, part: slice) -> list[torch.Tensor] | None:
        """Per hidden layer, the (M, b, width) multipliers of the batch at positions ``part``."""
        if draws is None:
            return None
        return [(u[:, part][self.which] >= self.p) * self.scale for u in draws]


class _Stack:
    """The members' fixed inputs as tensors: data, rates, weights, temperatures, and each
    member's KD target distribution per fit row (with its log, and which rows have one)."""

    def __init__(self, members: Sequence[Member], data: Sequence[StudentData], n_classes: int) -> None:
        d = [data[m.data] for m in members]
        self.x_fit = torch.stack([x.x_fit for x in d])
        self.y_fit = torch.stack([x.y_fit for x in d])
        self.x_val, self.y_val = torch.stack([x.x_val for x in d]), torch.stack([x.y_val for x in d])
        self.x_test, self.y_test = torch.stack([x.x_test for x in d]), torch.stack([x.y_test for x in d])
        dev = self.x_fit.device
        self.lr = np.array([m.lr for m in members], dtype=np.float64)
        self.wd = torch.tensor([m.weight_decay for m in members], dtype=self.x_fit.dtype, device=dev)
        self.weight = torch.tensor([m.kd_weight if m.kd != "none" else 0.0 for m in members], device=dev)
        self.T = torch.tensor([m.temperature for m in members], device=dev)
        rows = [_row_targets(m, y, n_classes) for m, y in zip(members, self.y_fit)]
        self.target = torch.stack([r[0] for r in rows])  # (M, n, C)
        self.log_target = torch.stack([r[1] for r in rows])
        self.has_target = torch.stack([r[2] for r in rows])  # (M, n) bool


def _row_targets(m: Member, y: torch.Tensor, n_classes: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A member's target distribution for each fit row, its log (computed as the single-student
    losses compute them, so the values are the same), and the rows that have a target."""
    n = y.shape[0]
    if m.kd == "class":
        q = m.targets[y]  # type: ignore[index]
        return q, torch.log(q.clamp_min(1e-12)), torch.ones(n, dtype=torch.bool, device=y.device)
    if m.kd == "paired":
        log_pt = F.log_softmax(m.targets / m.temperature, dim=1)  # type: ignore[operator]
        return log_pt.exp(), log_pt, m.pair_mask  # type: ignore[return-value]
    zeros = torch.zeros(n, n_classes, device=y.device)
    return zeros, zeros, torch.zeros(n, dtype=torch.bool, device=y.device)


def _loss(stack: _Stack, params: list[torch.Tensor], idx: torch.Tensor,
          keep: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
    """The sum over members of each member's mean loss on its mini-batch rows ``idx`` (M, b),
    with the dropout multipliers ``keep`` of this batch (see :func:`_forward`)."""
    rows = torch.arange(idx.shape[0], device=idx.device)[:, None]
    x, y = stack.x_fit[rows, idx], stack.y_fit[rows, idx]
    logits = _forward(params, x, keep)
    m, b, c = logits.shape
    ce = F.cross_entropy(logits.reshape(m * b, c), y.reshape(-1), reduction="none").reshape(m, b).mean(1)
    log_ps = F.log_softmax(logits / stack.T[:, None, None], dim=2)
    kl = (stack.target[rows, idx] * (stack.log_target[rows, idx] - log_ps)).sum(2)
    mask = stack.has_target[rows, idx].to(logits.dtype)
    count = mask.sum(1)
    kd = torch.where(count > 0, (kl * mask).sum(1) / count.clamp_min(1.0), 0.0)
    return (ce + stack.weight * stack.T**2 * kd).sum()


def _sgd_step(params: list[torch.Tensor], bufs: list[torch.Tensor | None], lr: np.ndarray, stack: _Stack,
              s: StackSettings) -> list[torch.Tensor | None]:
    """Per-member gradient clipping, weight decay, momentum and step (torch's SGD, member-wise)."""
    grads = [p.grad for p in params]
    if s.grad_clip and s.grad_clip > 0:
        norms = torch.sqrt(sum((g.reshape(g.shape[0], -1) ** 2).sum(1) for g in grads))
        coef = torch.clamp(s.grad_clip / (norms + 1e-6), max=1.0)
        grads = [g * coef.reshape(-1, *([1] * (g.dim() - 1))) for g in grads]
    lr_t = torch.as_tensor(lr, dtype=params[0].dtype, device=params[0].device)
    out = []
    with torch.no_grad():
        for p, g, buf in zip(params, grads, bufs):
            shape = (-1, *([1] * (p.dim() - 1)))
            g = g + stack.wd.reshape(shape) * p
            buf = g.clone() if buf is None else buf.mul_(s.momentum).add_(g)
            p.sub_(lr_t.reshape(shape) * buf)
            p.grad = None
            out.append(buf)
    return out


@torch.no_grad()
def _accuracy(params: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if x.shape[1] == 0:
        return torch.full((x.shape[0],), float("nan"))
    return (_forward(params, x).argmax(2) == y).to(torch.float64).mean(1).cpu()


def train_stack(members: Sequence[Member], data: Sequence[StudentData], settings: StackSettings) -> list[MemberResult]:
    """Train every member (see the module docstring); one result per member, in order.

    Every member's split must have the same fit, validation and test sizes (one seed's
    stratified split has the same sizes as another's).
    """
    stack = _Stack(members, data, settings.n_classes)
    n, dev = stack.x_fit.shape[1], stack.x_fit.device
    params = _stacked_init(members, stack.x_fit.shape[2], settings, dev)
    n_batches = max(1, math.ceil(n / settings.batch_size))
    epochs = max(int(settings.epochs), math.ceil(settings.min_steps / n_batches))
    warmup = (max(1, settings.epochs // 10) if settings.warmup_epochs is None else settings.warmup_epochs) * n_batches
    rngs = [np.random.default_rng(m.batch_seed) for m in members]
    best_val = torch.full((len(members),), -math.inf, dtype=torch.float64)
    best_epoch = torch.full((len(members),), epochs, dtype=torch.long)
    best = [p.detach().clone() for p in params]
    bufs: list[torch.Tensor | None] = [None] * len(params)
    dropout = _Dropout(members, [p.shape[1] for p in params[0:-4:2]], n, dev)
    step = 0
    for epoch in range(epochs):
        perms = torch.as_tensor(np.stack([r.permutation(n) for r in rngs]), device=dev)
        draws = dropout.epoch()
        for k in range(n_batches):
            part = slice(k * settings.batch_size, (k + 1) * settings.batch_size)
            _loss(stack, params, perms[:, part], dropout.batch(draws, part)).backward()
            bufs = _sgd_step(params, bufs, _lr_at(step, epochs * n_batches, warmup, stack.lr), stack, settings)
            step += 1
        if stack.x_val.shape[1]:
            val = _accuracy(params, stack.x_val, stack.y_val)
            better = val > best_val  # strictly: the earliest epoch wins a tie
            best_val = torch.where(better, val, best_val)
            best_epoch = torch.where(better, torch.tensor(epoch + 1), best_epoch)  # (on the CPU, as val)
            keep = better.to(dev)
            best = [torch.where(keep.reshape(-1, *([1] * (p.dim() - 1))), p.detach(), b) for p, b in zip(params, best)]
    final = best if stack.x_val.shape[1] else [p.detach() for p in params]
    test = _accuracy(final, stack.x_test, stack.y_test)
    return [MemberResult(accuracy=float(test[i]), val_accuracy=float(best_val[i]), best_epoch=int(best_epoch[i]))
            for i in range(len(members))]


# ----------------------------------------------------------------------------- teachers
@dataclass(frozen=True)
class TeacherJob:
    """One teacher to pre-train: its training rows, labels and initialisation / batch seed."""

    x: torch.Tensor
    y: torch.Tensor
    seed: int


def _adamw_(params: list[torch.Tensor], state: list[list[torch.Tensor]], step: int, lr: float, weight_decay: float,
            betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
    """torch's AdamW update, element-wise on the stacked parameters (the same for every member)."""
    b1, b2 = betas
    with torch.no_grad():
        for p, (m, v) in zip(params, state):
            g = p.grad
            p.mul_(1 - lr * weight_decay)
            m.lerp_(g, 1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (v.sqrt() / math.sqrt(1 - b2**step)).add_(eps)
            p.addcdiv_(m, denom, value=-lr / (1 - b1**step))
            p.grad = None


def train_teachers(jobs: Sequence[TeacherJob], *, n_classes: int, hidden: int | Sequence[int] = 64,
                   feat_dim: int = 32, epochs: int = 30, batch_size: int = 64, lr: float = 1e-2,
                   weight_decay: float = 1e-4) -> list[list[torch.Tensor]]:
    """Pre-train teachers of one modality as a stack, as
    :func:`~cchkit.distill.models.pretrain_teacher` trains each (cross-entropy, AdamW, cosine
    learning rate per step, a seeded permutation per epoch); every job needs the same number of
    rows. Returns each teacher's parameters in ``build_net`` order."""
    x, y = torch.stack([j.x for j in jobs]), torch.stack([j.y for j in jobs])
    m, n = x.shape[0], x.shape[1]
    members = [Member(data=0, init_seed=j.seed, batch_seed=j.seed) for j in jobs]
    params = _stacked_init(members, x.shape[2], StackSettings(n_classes, hidden, feat_dim), x.device)
    state = [[torch.zeros_like(p), torch.zeros_like(p)] for p in params]
    rngs = [np.random.default_rng(j.seed) for j in jobs]
    n_batches = max(1, math.ceil(n / batch_size))
    total, step = max(1, epochs * n_batches), 0
    rows = torch.arange(m, device=x.device)[:, None]
    for _ in range(epochs):
        perms = torch.as_tensor(np.stack([r.permutation(n) for r in rngs]), device=x.device)
        for k in range(n_batches):
            idx = perms[:, k * batch_size:(k + 1) * batch_size]
            logits = _forward(params, x[rows, idx])
            b = idx.shape[1]
            ce = F.cross_entropy(logits.reshape(m * b, -1), y[rows, idx].reshape(-1), reduction="none")
            ce.reshape(m, b).mean(1).sum().backward()
            step += 1
            _adamw_(params, state, step, lr * 0.5 * (1.0 + np.cos(np.pi * (step - 1) / total)), weight_decay)
    return [[p[i].detach().clone() for p in params] for i in range(m)]
