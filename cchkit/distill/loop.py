"""The student's training loop, the same for every method: SGD with momentum, warm-up then
cosine decay, gradient clipping, a fixed batch order per seed, and the weights of the epoch with
the best validation accuracy. A method only supplies the loss of one mini-batch
(:mod:`cchkit.distill.methods`)."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._torch import seeded
from .config import DistillConfig
from .methods import KDMethod, Step
from .models import KDNet, accuracy, build_net
from .splits import Prepared
from .teachers import TeacherBatcher, TeacherContext

__all__ = ["StudentRun", "StepInputs", "train_student", "lr_at"]


def lr_at(step: int, total: int, warmup: int, lr: float, min_factor: float = 1e-3) -> float:
    """Linear warm-up from ``lr * min_factor`` over ``warmup`` steps, then cosine to ``lr * min_factor``."""
    lo = lr * min_factor
    if warmup > 0 and step < warmup:
        return lo + (lr - lo) * step / warmup
    rest = max(1, total - warmup)
    t = min(1.0, (step - warmup) / rest)
    return lo + (lr - lo) * 0.5 * (1.0 + math.cos(math.pi * t))



class _BestEpoch:
    """Keeps the student's weights at the epoch of best validation accuracy (earliest on ties)."""

    def __init__(self, active: bool) -> None:
        self.active = active
        self.score = -math.inf
        self.epoch: int | None = None
        self.state: dict[str, torch.Tensor] | None = None

    def offer(self, epoch: int, score: float, net: torch.nn.Module) -> None:
        if self.active and score > self.score:
            self.score, self.epoch = score, epoch
            self.state = {k: v.detach().clone() for k, v in net.state_dict().items()}

    def restore(self, net: torch.nn.Module) -> None:
        if self.state is not None:
            net.load_state_dict(self.state)


@dataclass
class StudentRun:
    """The student being trained: network, optional feature mapper, optimiser and schedule."""

    snet: KDNet
    mapper: Any
    params: list
    names: list[str]
    opt: Any
    rng: np.random.Generator
    n: int
    batch_size: int
    n_batches: int
    epochs: int
    warmup_steps: int
    lr: float
    grad_clip: float | None
    best: _BestEpoch
    step: int = 0

    @classmethod
    def build(cls, d: Prepared, n_classes: int, cfg: DistillConfig, method: KDMethod, *, seeds: tuple[int, int],
              dev: Any) -> StudentRun:
        """The student network (seed ``seeds[0]``), its SGD optimiser and its batch order
        (seed ``seeds[1]``); epochs are raised so that training takes ``min_steps`` steps."""
        s_init, s_batch = seeds
        snet = build_net(d.xs_tr.shape[1], n_classes, feat_dim=cfg.feat_dim, hidden=cfg.hidden, seed=s_init).to(dev)
        snet.train()
        mapper = None
        if method.needs_mapper(cfg):  # student features -> the teacher's space
            with seeded(s_init + 1):  # the caller's global generator is left as it was
                mapper = torch.nn.Linear(cfg.feat_dim, cfg.feat_dim).to(dev)
        s_params = list(snet.parameters()) + (list(mapper.parameters()) if mapper is not None else [])
        n = d.xs_tr.shape[0]
        n_batches = max(1, int(math.ceil(n / cfg.batch_size)))
        return cls(
            snet=snet, mapper=mapper, params=s_params, names=[name for name, _ in snet.named_parameters()],
            opt=torch.optim.SGD(s_params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay),
            rng=np.random.default_rng(s_batch),
            n=n, batch_size=cfg.batch_size, n_batches=n_batches,
            epochs=max(int(cfg.epochs), int(math.ceil(cfg.min_steps / n_batches))),
            warmup_steps=cfg.warmup * n_batches, lr=cfg.lr, grad_clip=cfg.grad_clip,
            best=_BestEpoch(d.xs_val.shape[0] > 0),
        )

    def epoch(self, fixed: StepInputs) -> tuple[dict[str, float], int, float]:
        """One pass over the student's training samples: loss terms, correct count, last lr."""
        perm = self.rng.permutation(self.n)
        sums = {"loss": 0.0, "ce": 0.0, "fa": 0.0, "la": 0.0, "kd": 0.0}
        correct, cur_lr = 0, self.lr
        for k in range(self.n_batches):
            bidx_np = perm[k * self.batch_size : (k + 1) * self.batch_size]
            cur_lr = lr_at(self.step, self.epochs * self.n_batches, self.warmup_steps, self.lr)
            for g in self.opt.param_groups:
                g["lr"] = cur_lr
            self.opt.zero_grad(set_to_none=True)
            terms, logits, yb = fixed.step(bidx_np, self)
            if self.grad_clip and self.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.params, max_norm=self.grad_clip)
            self.opt.step()
            self.step += 1
            w = bidx_np.shape[0] / self.n
            for key in sums:
                sums[key] += terms[key] * w
            correct += int((logits.detach().argmax(1) == yb).sum())
        return sums, correct, cur_lr


def train_student(run: StudentRun, d: Prepared, fixed: StepInputs, *, desc: str,
                   progress: bool) -> list[dict[str, float]]:
    """All epochs, the best validation epoch restored at the end; returns the curve."""
    from tqdm.auto import tqdm

    curve: list[dict[str, float]] = []
    bar = tqdm(range(run.epochs), desc=desc, file=sys.stderr, disable=not progress, leave=False)
    for epoch in bar:
        sums, correct, cur_lr = run.epoch(fixed)
        run.snet.eval()
        test_acc = accuracy(run.snet, d.xs_te, d.ys_te)
        val_acc = accuracy(run.snet, d.xs_val, d.ys_val)
        run.best.offer(epoch + 1, val_acc, run.snet)
        run.snet.train()
        curve.append({"epoch": epoch + 1, "lr": cur_lr, **sums, "train_accuracy": correct / run.n,
                      "val_accuracy": val_acc, "test_accuracy": test_acc})
        if progress:
            bar.set_postfix(loss=f"{sums['loss']:.3f}", acc=f"{test_acc:.3f}")
    bar.close()
    run.best.restore(run.snet)
    return curve



@dataclass
class StepInputs:
    """What every mini-batch of one run shares: the method, the frozen teacher and what it
    precomputed, the teacher batcher, the data, the device and the config."""

    method: KDMethod
    tnet: KDNet
    ctx: TeacherContext
    t_batcher: TeacherBatcher
    d: Prepared
    dev: torch.device
    cfg: DistillConfig

    def step(self, bidx: np.ndarray, run: StudentRun) -> tuple[dict[str, float], torch.Tensor, torch.Tensor]:
        """The method's loss of the student batch ``bidx``, back-propagated into the student."""
        idx = torch.as_tensor(bidx, device=self.dev)
        return self.method.step(Step(bidx=bidx, xb=self.d.xs_tr[idx], yb=self.d.ys_tr[idx], snet=run.snet,
                                     names=run.names, tnet=self.tnet, ctx=self.ctx, t_batcher=self.t_batcher,
                                     d=self.d, dev=self.dev, mapper=run.mapper, cfg=self.cfg))
