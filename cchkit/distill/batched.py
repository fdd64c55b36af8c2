r"""Many students trained as one stacked model.

The students of a validation (every seed, teacher, KD method and hyper-parameter setting of one
student modality) are small MLPs of one architecture. :func:`train_stack` stacks their weights
along a leading member axis and trains them together: every layer is one batched matrix product
(``torch.baddbmm``) over the members, every member keeps its own initialisation, batch order,
learning rate, weight decay, KD targets, weight and temperature, its own gradient clipping and
momentum buffer, and its own best validation epoch. A step of the stack runs no Python loop over
its members: autograd takes every member's gradient in one backward pass through the summed
member losses, and the SGD step updates every member in place (:mod:`~cchkit.distill.stacked_mlp`),
so a stack costs about its members' floating-point work, in one loop instead of one per student.
A :class:`StackRun` can pause after any epoch and let members go (``validate``'s searches stop
their worse settings early, by successive halving); the members that go on are not affected.

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

from .._torch import adamw_step
from .config import DistillConfig
from .models import build_net
from .stacked_mlp import Batch, sgd_step_, stack_forward, stack_gradients

__all__ = ["StudentData", "Member", "DropoutMasks", "StackSettings", "MemberResult", "StackRun", "train_stack", "KD_KINDS"]

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
    lr: float = DistillConfig.lr
    weight_decay: float = DistillConfig.weight_decay
    kd: Literal["none", "class", "paired"] = "none"
    kd_weight: float = 0.0
    temperature: float = DistillConfig.temperature
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


def _stacked_init(members: Sequence[Member], in_dims: int | Sequence[int], s: StackSettings,
                  dev: Any) -> list[torch.Tensor]:
    """Each member's own ``build_net`` initialisation, stacked layer by layer (weights, biases).
    ``in_dims``: one input width for all, or one per member; narrower members' first weights are
    padded with zero columns to the widest (zero inputs there keep them zero: see
    :func:`train_teachers`)."""
    dims = [int(in_dims)] * len(members) if isinstance(in_dims, (int, np.integer)) else [int(d) for d in in_dims]
    per = [[p.detach() for p in build_net(d, s.n_classes, feat_dim=s.feat_dim, hidden=s.hidden,
                                          seed=m.init_seed).parameters()] for m, d in zip(members, dims)]
    for ps, d in zip(per, dims):
        ps[0] = F.pad(ps[0], (0, max(dims) - d))
    return [torch.stack([ps[i] for ps in per]).to(dev) for i in range(len(per[0]))]


class DropoutMasks:
    """Each member's dropout multipliers, drawn per epoch from its batch seed (members that share
    a batch seed share the uniform draws, whatever their rate)."""

    def __init__(self, members: Sequence[Member], widths: Sequence[int], n: int, dev: Any) -> None:
        seeds = list(dict.fromkeys(m.batch_seed for m in members))
        self.which = torch.tensor([seeds.index(m.batch_seed) for m in members], device=dev)
        self.gens = [torch.Generator().manual_seed(int(s) + 0x5EED) for s in seeds]
        p = torch.tensor([m.dropout for m in members], dtype=torch.float32, device=dev)
        self.p, self.scale = p[:, None, None], (1.0 / (1.0 - p))[:, None, None]
        self.widths, self.n, self.dev = list(widths), n, dev

    @property
    def active(self) -> bool:
        return bool((self.p > 0).any())

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
        # a comparison written straight into a float tensor is several times faster than torch.where
        return [torch.ge(u, self.p, out=u).mul_(self.scale) for u in (d[:, part].index_select(0, self.which)
                                                                        for d in draws)]

    def keep(self, idx: torch.Tensor) -> None:
        """Only the members ``idx`` go on (every seed keeps drawing: a member's draws never
        depend on the others)."""
        self.which, self.p, self.scale = self.which[idx], self.p[idx], self.scale[idx]


class _Stack:
    """The members' fixed inputs as tensors: data, rates, weights, temperatures, and each
    member's KD target distribution per fit row (and which rows have one)."""

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
        self.has_target = torch.stack([r[1] for r in rows])  # (M, n) bool
        self._flags()

    def _flags(self) -> None:
        """Whether any member distils or decays (either term is skipped when none does)."""
        self.any_kd = bool((self.weight > 0).any())
        self.any_wd = bool((self.wd != 0).any())

    def batch(self, idx: torch.Tensor) -> Batch:
        """Every member's mini-batch of fit rows ``idx`` (M, b), with its KD targets when a member distils."""
        x, y = _rows(self.x_fit, idx), _rows(self.y_fit, idx)
        if not self.any_kd:
            return Batch(x, y)
        return Batch(x, y, _rows(self.target, idx), _rows(self.has_target, idx), self.weight, self.T)

    def keep(self, idx: torch.Tensor) -> None:
        """Only the members ``idx`` stay."""
        for name in ("x_fit", "y_fit", "x_val", "y_val", "x_test", "y_test", "wd", "weight", "T", "target",
                     "has_target"):
            setattr(self, name, getattr(self, name)[idx])
        self.lr = self.lr[idx.cpu().numpy()]
        self._flags()


def _rows(t: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """``t[m, idx[m]]`` for every member m (``t``: (M, n, ...), ``idx``: (M, b)), as one
    index_select over the members' rows laid end to end: several times faster than
    ``t[rows, idx]``."""
    m, n = t.shape[:2]
    flat = (idx + n * torch.arange(m, device=idx.device)[:, None]).reshape(-1)
    return t.reshape(m * n, *t.shape[2:]).index_select(0, flat).reshape(m, idx.shape[1], *t.shape[2:])


def _row_targets(m: Member, y: torch.Tensor, n_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A member's target distribution for each fit row (computed as the single-student losses
    compute it, so the values are the same), and the rows that have a target."""
    n = y.shape[0]
    if m.kd == "class":
        return m.targets[y], torch.ones(n, dtype=torch.bool, device=y.device)  # type: ignore[index]
    if m.kd == "paired":
        return F.log_softmax(m.targets / m.temperature, dim=1).exp(), m.pair_mask  # type: ignore[operator,return-value]
    return torch.zeros(n, n_classes, device=y.device), torch.zeros(n, dtype=torch.bool, device=y.device)


@torch.no_grad()
def _accuracy(params: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if x.shape[1] == 0:
        return torch.full((x.shape[0],), float("nan"))
    return (stack_forward(params, x).argmax(2) == y).to(torch.float64).mean(1).cpu()


class StackRun:
    """A stack in training that can pause after any epoch and let members go (successive halving).

    ``run(until)`` trains every member still in the stack up to epoch ``until``; ``keep(mask)``
    stops the members whose mask is False; ``results()`` reads the test split once, for the
    members that trained to the end. A member's training does not depend on when the others stop.
    Every member's split must have the same fit, validation and test sizes (one seed's stratified
    split has the same sizes as another's).
    """

    def __init__(self, members: Sequence[Member], data: Sequence[StudentData], settings: StackSettings) -> None:
        self.settings, self.stack = settings, _Stack(members, data, settings.n_classes)
        n, dev = self.stack.x_fit.shape[1], self.stack.x_fit.device
        self.params = _stacked_init(members, self.stack.x_fit.shape[2], settings, dev)
        self.n_batches = max(1, math.ceil(n / settings.batch_size))
        #: epochs every member trains unless it is let go
        self.epochs = max(int(settings.epochs), math.ceil(settings.min_steps / self.n_batches))
        total = self.epochs * self.n_batches
        warmup = (max(1, settings.epochs // 10) if settings.warmup_epochs is None else settings.warmup_epochs) \
            * self.n_batches
        # every step's rates at once: (steps, M), the float64 schedule cast as each step would cast it
        self.lr = torch.as_tensor(np.stack([_lr_at(t, total, warmup, self.stack.lr) for t in range(total)]),
                                  dtype=self.params[0].dtype, device=dev)
        self.rngs = [np.random.default_rng(m.batch_seed) for m in members]
        self.best_val = torch.full((len(members),), -math.inf, dtype=torch.float64)
        self.best_epoch = torch.full((len(members),), self.epochs, dtype=torch.long)
        self.best = [p.clone() for p in self.params]
        self.bufs: list[torch.Tensor | None] = [None] * len(self.params)
        self.dropout = DropoutMasks(members, [p.shape[1] for p in self.params[0:-4:2]], n, dev)
        #: positions (in ``members``) of the members still training
        self.index = np.arange(len(members))
        self.epoch = self.step = 0

    def run(self, until: int | None = None) -> None:
        """Train up to epoch ``until`` (default: the last)."""
        until = self.epochs if until is None else min(int(until), self.epochs)
        while self.epoch < until and self.index.size:
            self._epoch()

    def _epoch(self) -> None:
        st, bs = self.stack, self.settings.batch_size
        n, dev = st.x_fit.shape[1], st.x_fit.device
        perms = torch.as_tensor(np.stack([r.permutation(n) for r in self.rngs]), device=dev)
        draws = self.dropout.epoch()
        for k in range(self.n_batches):
            part = slice(k * bs, (k + 1) * bs)
            grads = stack_gradients(self.params, st.batch(perms[:, part]), self.dropout.batch(draws, part))
            sgd_step_(self.params, grads, self.bufs, self.lr[self.step], st.wd if st.any_wd else None,
                      self.settings.momentum, self.settings.grad_clip)
            self.step += 1
        self.epoch += 1
        if st.x_val.shape[1]:
            val = _accuracy(self.params, st.x_val, st.y_val)
            better = val > self.best_val  # strictly: the earliest epoch wins a tie
            self.best_val = torch.where(better, val, self.best_val)
            self.best_epoch = torch.where(better, torch.tensor(self.epoch), self.best_epoch)  # (on the CPU, as val)
            kept = better.to(dev)
            self.best = [torch.where(kept.reshape(-1, *([1] * (p.dim() - 1))), p, b)
                         for p, b in zip(self.params, self.best)]

    def keep(self, mask: Sequence[bool] | np.ndarray) -> None:
        """Go on with the members (in ``index`` order) whose ``mask`` is True only."""
        pos = np.flatnonzero(np.asarray(mask, dtype=bool))
        idx = torch.as_tensor(pos, device=self.stack.x_fit.device)
        self.params = [p[idx] for p in self.params]
        self.bufs = [None if b is None else b[idx] for b in self.bufs]
        self.best = [b[idx] for b in self.best]
        self.best_val, self.best_epoch = self.best_val[idx.cpu()], self.best_epoch[idx.cpu()]
        self.lr = self.lr[:, idx]
        self.rngs = [self.rngs[i] for i in pos]
        self.stack.keep(idx)
        self.dropout.keep(idx)
        self.index = self.index[pos]

    def results(self) -> list[MemberResult]:
        """The members still in the stack (``index`` order), trained to the end: each one's test
        accuracy at its best validation epoch (the last epoch without a validation split)."""
        if self.index.size and self.epoch < self.epochs:
            raise RuntimeError(f"the stack trained {self.epoch} of its {self.epochs} epochs")
        st = self.stack
        final = self.best if st.x_val.shape[1] else self.params
        test = _accuracy(final, st.x_test, st.y_test)
        return [MemberResult(accuracy=float(test[i]), val_accuracy=float(self.best_val[i]),
                             best_epoch=int(self.best_epoch[i])) for i in range(self.index.size)]


def train_stack(members: Sequence[Member], data: Sequence[StudentData], settings: StackSettings) -> list[MemberResult]:
    """Train every member to the end (see the module docstring and :class:`StackRun`); one result
    per member, in order."""
    run = StackRun(members, data, settings)
    run.run()
    return run.results()


# ----------------------------------------------------------------------------- teachers
@dataclass(frozen=True)
class TeacherJob:
    """One teacher to pre-train: its training rows, labels and initialisation / batch seed."""

    x: torch.Tensor
    y: torch.Tensor
    seed: int


def train_teachers(jobs: Sequence[TeacherJob], *, n_classes: int, hidden: int | Sequence[int] = 64,
                   feat_dim: int = 32, epochs: int = 30, batch_size: int = 64, lr: float = 1e-2,
                   weight_decay: float = 1e-4) -> list[list[torch.Tensor]]:
    """Pre-train teachers as a stack, as :func:`~cchkit.distill.models.pretrain_teacher` trains
    each (cross-entropy, AdamW, cosine learning rate per step, a seeded permutation per epoch);
    every job needs the same number of rows, not the same features: a narrower job's inputs and
    first weights are padded with zeros, whose gradient is exactly 0, so under AdamW (decay
    included) they stay 0 and the job trains as it would alone. Returns each teacher's
    parameters in ``build_net`` order, at its own input width."""
    dims = [j.x.shape[1] for j in jobs]
    x = torch.stack([F.pad(j.x, (0, max(dims) - d)) for j, d in zip(jobs, dims)])
    y = torch.stack([j.y for j in jobs])
    m, n = x.shape[0], x.shape[1]
    members = [Member(data=0, init_seed=j.seed, batch_seed=j.seed) for j in jobs]
    params = _stacked_init(members, dims, StackSettings(n_classes, hidden, feat_dim), x.device)
    state: dict[str, Any] = {}
    rngs = [np.random.default_rng(j.seed) for j in jobs]
    n_batches = max(1, math.ceil(n / batch_size))
    total, step = max(1, epochs * n_batches), 0
    for _ in range(epochs):
        perms = torch.as_tensor(np.stack([r.permutation(n) for r in rngs]), device=x.device)
        for k in range(n_batches):
            idx = perms[:, k * batch_size:(k + 1) * batch_size]
            grads = stack_gradients(params, Batch(_rows(x, idx), _rows(y, idx)))
            # AdamW is element-wise: on stacked parameters every member steps as it would alone
            adamw_step(params, grads, state, lr=lr * 0.5 * (1.0 + np.cos(np.pi * step / total)), weight_decay=weight_decay)
            step += 1
    return [[params[0][i, :, :dims[i]].clone(), *(p[i].clone() for p in params[1:])] for i in range(m)]
