"""Batched training of the small per-(modality, fold) encoders of
:func:`~cchkit.representations.encoder_representations`.

The (modality, fold) encoders are independent, so they are trained *together*: stacked along
a leading axis and run with batched matrix products (:func:`fit_group`), mini-batches cut from
one index permutation per model and epoch (no DataLoader). For networks this small the cost is
per-operation overhead, so this is several times faster than one loop per encoder.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._torch import adamw_step, seeded
from .._validation import standardize_fit

if TYPE_CHECKING:
    import torch

__all__ = ["EncoderJob", "EncoderFit", "TrainSettings", "make_job", "group_jobs", "fit_group", "stratified_holdout"]

#: Share of each training part held back for early stopping.
VAL_FRACTION = 0.15
#: Fewest optimiser steps per epoch (small training sets use batches below batch_size).
MIN_STEPS = 8
#: Below this many training samples no validation split is made (all epochs are run).
MIN_TRAIN_FOR_VAL = 20


def stratified_holdout(labels: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of a stratified random hold-out: ``round(fraction * n_c)`` samples of each
    class ``c`` (none of a class with a single sample). Vectorised: rank of each sample within
    its class in a random order."""
    n = labels.shape[0]
    perm = rng.permutation(n)
    lab_p = labels[perm]
    order = np.argsort(lab_p, kind="stable")
    sorted_lab = lab_p[order]
    counts = np.bincount(sorted_lab)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank_sorted = np.arange(n) - starts[sorted_lab]
    take = np.floor(fraction * counts + 0.5).astype(np.int64)
    take[counts < 2] = 0
    take = np.minimum(take, np.maximum(counts - 1, 0))
    mask_p = np.empty(n, dtype=bool)
    mask_p[order] = rank_sorted < take[sorted_lab]
    mask = np.empty(n, dtype=bool)
    mask[perm] = mask_p
    return mask


@dataclass
class EncoderJob:
    """One (modality, fold) fit: standardised fitting / validation / held-out parts."""

    name: str
    fold: int
    seed: int
    x_fit: np.ndarray
    y_fit: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_te: np.ndarray


def make_job(
    name: str, fold: int, seed: int, x: np.ndarray, codes: np.ndarray, tr: np.ndarray, te: np.ndarray
) -> EncoderJob:
    """Split the training part into fitting and validation samples (stratified) and standardise
    everything with the fitting samples' mean and standard deviation (nothing is learned from
    the held-out fold)."""
    y_tr = codes[tr]
    rng = np.random.default_rng(seed)
    if y_tr.shape[0] >= MIN_TRAIN_FOR_VAL:
        val = stratified_holdout(y_tr, VAL_FRACTION, rng)
    else:
        val = np.zeros(y_tr.shape[0], dtype=bool)
    x_tr = x[tr]
    mu, sd = standardize_fit(x_tr[~val])

    def st(a: np.ndarray) -> np.ndarray:
        return ((a - mu) / sd).astype(np.float32)

    return EncoderJob(name, fold, seed, st(x_tr[~val]), y_tr[~val], st(x_tr[val]), y_tr[val], st(x[te]))


def group_jobs(jobs: list[EncoderJob], budget: int = 2**26) -> list[list[EncoderJob]]:
    """Greedy groups of jobs whose zero-padded input tensors stay under ``budget`` floats."""
    groups: list[list[EncoderJob]] = []
    cur: list[EncoderJob] = []
    rows = dmax = 0
    for job in jobs:
        r = max(rows, job.x_fit.shape[0] + job.x_val.shape[0] + job.x_te.shape[0])
        d = max(dmax, job.x_fit.shape[1])
        if cur and (len(cur) + 1) * r * d > budget:
            groups.append(cur)
            cur, r, d = [], job.x_fit.shape[0] + job.x_val.shape[0] + job.x_te.shape[0], job.x_fit.shape[1]
        cur.append(job)
        rows, dmax = r, d
    if cur:
        groups.append(cur)
    return groups


@dataclass(frozen=True)
class TrainSettings:
    """How each encoder is trained (see :func:`~cchkit.representations.encoder_representations`)."""

    dim: int
    hidden: int
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    patience: int


@dataclass
class EncoderFit:
    """What one trained (modality, fold) encoder gives on its held-out fold."""

    h: np.ndarray  # post-ReLU representation
    pre: np.ndarray  # pre-activations of the representation layer
    pred: np.ndarray  # predicted class codes
    curve: dict[str, Any]  # train_loss, val_loss, val_acc, best_epoch, epochs_run


@dataclass
class _Stacked:
    """The parts of M jobs, zero-padded to common shapes along a leading model axis."""

    xf: torch.Tensor
    yf: torch.Tensor
    xv: torch.Tensor
    yv: torch.Tensor
    wv: torch.Tensor
    xt: torch.Tensor
    n_fit: np.ndarray
    n_val: np.ndarray
    n_te: np.ndarray

    @property
    def m(self) -> int:
        return int(self.n_fit.shape[0])

    @property
    def d_max(self) -> int:
        return int(self.xf.shape[2])


def _stack(jobs: list[EncoderJob], device: Any) -> _Stacked:
    import torch

    m = len(jobs)
    d_max = max(j.x_fit.shape[1] for j in jobs)

    def pad_x(arrs: list[np.ndarray]) -> torch.Tensor:
        out = np.zeros((m, max(max(a.shape[0] for a in arrs), 1), d_max), dtype=np.float32)
        for k, a in enumerate(arrs):
            out[k, : a.shape[0], : a.shape[1]] = a
        return torch.from_numpy(out).to(device)

    def pad_y(arrs: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        rows = max(max(a.shape[0] for a in arrs), 1)
        y = np.zeros((m, rows), dtype=np.int64)
        w = np.zeros((m, rows), dtype=np.float32)
        for k, a in enumerate(arrs):
            y[k, : a.shape[0]] = a
            w[k, : a.shape[0]] = 1.0
        return torch.from_numpy(y).to(device), torch.from_numpy(w).to(device)

    yf, _ = pad_y([j.y_fit for j in jobs])
    yv, wv = pad_y([j.y_val for j in jobs])
    return _Stacked(
        xf=pad_x([j.x_fit for j in jobs]), yf=yf, xv=pad_x([j.x_val for j in jobs]), yv=yv, wv=wv,
        xt=pad_x([j.x_te for j in jobs]),
        n_fit=np.array([j.x_fit.shape[0] for j in jobs]),
        n_val=np.array([j.x_val.shape[0] for j in jobs]),
        n_te=np.array([j.x_te.shape[0] for j in jobs]),
    )


def _init_params(jobs: list[EncoderJob], d_max: int, s: TrainSettings, n_classes: int, device: Any) -> list:
    """Stacked weights ``(M, d_in, hidden), (M, 1, hidden), ...``: each model from its own seed,
    with PyTorch's default Linear initialisation (zero rows for the padded input columns)."""
    import torch
    import torch.nn as nn

    m = len(jobs)
    shapes = [(d_max, s.hidden), (1, s.hidden), (s.hidden, s.dim), (1, s.dim), (s.dim, n_classes), (1, n_classes)]
    stacked = [torch.zeros(m, *shape) for shape in shapes]
    for k, job in enumerate(jobs):
        with seeded(job.seed):
            layers = [nn.Linear(job.x_fit.shape[1], s.hidden), nn.Linear(s.hidden, s.dim), nn.Linear(s.dim, n_classes)]
        with torch.no_grad():
            for i, layer in enumerate(layers):
                w, b = stacked[2 * i], stacked[2 * i + 1]
                w[k, : layer.weight.shape[1]] = layer.weight.T
                b[k, 0] = layer.bias
    return [t.to(device).requires_grad_(True) for t in stacked]


def _forward(params: list, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(pre-activations of the representation layer, logits) of every stacked model."""
    import torch

    h = torch.relu(torch.baddbmm(params[1], x, params[0]))
    pre = torch.baddbmm(params[3], h, params[2])
    return pre, torch.baddbmm(params[5], torch.relu(pre), params[4])


@dataclass
class _EpochPlan:
    """Every model takes the same number of steps per epoch: its permutation is cut into
    ``n_steps`` nearly equal chunks of at most ``batch_size`` samples (padded to a common
    ``width``, weight 0). Small training sets get smaller batches, at least ``MIN_STEPS`` per
    epoch, so that ``epochs`` means enough optimiser steps whatever n (never an empty chunk)."""

    n_steps: int
    width: int
    chunk_of: list
    pos_of: list

    @classmethod
    def for_sizes(cls, n_fit: np.ndarray, batch_size: int) -> _EpochPlan:
        import torch

        n_steps = int(max(math.ceil(n / batch_size) for n in n_fit))
        n_steps = max(n_steps, min(MIN_STEPS, int(n_fit.min())))
        width = int(max(math.ceil(n / n_steps) for n in n_fit))
        chunk_of, pos_of = [], []
        for n in n_fit:
            c = (np.arange(n) * n_steps) // n  # chunk c: positions ceil(c n / S) .. ceil((c+1) n / S) - 1
            chunk_of.append(torch.as_tensor(c))
            pos_of.append(torch.as_tensor(np.arange(n) - (c * n + n_steps - 1) // n_steps))
        return cls(n_steps, width, chunk_of, pos_of)

    def batches(self, gens: list, n_fit: np.ndarray, device: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Sample indices ``(M, n_steps, width)`` of one epoch and their 0/1 weights."""
        import torch

        m = len(gens)
        idx = torch.zeros(m, self.n_steps, self.width, dtype=torch.long)
        wts = torch.zeros(m, self.n_steps, self.width)
        for k in range(m):
            perm = torch.randperm(int(n_fit[k]), generator=gens[k])
            idx[k, self.chunk_of[k], self.pos_of[k]] = perm
            wts[k, self.chunk_of[k], self.pos_of[k]] = 1.0
        return idx.to(device), wts.to(device)


class _EarlyStopping:
    """Per-model early stopping on the validation loss; the best weights are kept aside."""

    def __init__(self, params: list, has_val: np.ndarray, patience: int, device: Any) -> None:
        import torch

        m = has_val.shape[0]
        self.has_val = torch.as_tensor(has_val, device=device)
        self.stopped = torch.zeros(m, dtype=torch.bool, device=device)
        self.stale = torch.zeros(m, dtype=torch.long, device=device)
        self.best_loss = torch.full((m,), math.inf, device=device)
        self.best = [p.detach().clone() for p in params]
        self.best_epoch = np.full(m, -1)
        self.patience = patience

    def update(self, epoch: int, vloss: torch.Tensor, params: list) -> np.ndarray:
        """Record one epoch's validation losses; returns the models stopped so far."""
        import torch

        active = self.has_val & ~self.stopped
        improved = active & (vloss < self.best_loss - 1e-6)
        with torch.no_grad():
            for b, p in zip(self.best, params):
                b.copy_(torch.where(improved.view(-1, 1, 1), p.detach(), b))
        self.best_loss = torch.where(improved, vloss, self.best_loss)
        self.best_epoch[improved.cpu().numpy()] = epoch
        zero = torch.zeros_like(self.stale)
        self.stale = torch.where(improved, zero, torch.where(active, self.stale + 1, self.stale))
        self.stopped = self.stopped | (active & (self.stale >= self.patience))
        return self.stopped.cpu().numpy()

    def restore(self, params: list) -> None:
        """Put the best weights back into the models that had a validation split."""
        import torch

        with torch.no_grad():
            final = [torch.where(self.has_val.view(-1, 1, 1), b, p.detach()) for b, p in zip(self.best, params)]
            for p, f in zip(params, final):
                p.copy_(f)


def _train_epoch(params: list, opt: dict, st: _Stacked, plan: _EpochPlan, gens: list, s: TrainSettings,
                 n_classes: int) -> torch.Tensor:
    """One epoch of mini-batch steps for every stacked model; returns their summed train losses."""
    import torch
    import torch.nn.functional as F

    m, device = st.m, st.xf.device
    idx, wts = plan.batches(gens, st.n_fit, device)
    rows = torch.arange(m, device=device)[:, None]
    # one gather per epoch; each step then takes a contiguous slice
    xe = st.xf[rows, idx.view(m, -1)].view(m, plan.n_steps, plan.width, st.d_max)
    ye = st.yf[rows, idx.view(m, -1)].view(m, plan.n_steps, plan.width)
    inv_cnt = 1.0 / wts.sum(2).clamp_min(1.0)
    total = torch.zeros(m, device=device)
    for step in range(plan.n_steps):
        _, logits = _forward(params, xe[:, step])
        ce = F.cross_entropy(logits.reshape(-1, n_classes), ye[:, step].reshape(-1), reduction="none")
        ce = ce.view(m, plan.width) * wts[:, step]
        loss = (ce.sum(1) * inv_cnt[:, step]).sum()
        adamw_step(params, torch.autograd.grad(loss, params), opt, lr=s.lr, weight_decay=s.weight_decay)
        total += ce.detach().sum(1)
    return total


def _validation_scores(params: list, st: _Stacked, n_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean validation cross-entropy and accuracy of every stacked model."""
    import torch
    import torch.nn.functional as F

    with torch.no_grad():
        _, lv = _forward(params, st.xv)
        cev = F.cross_entropy(lv.reshape(-1, n_classes), st.yv.reshape(-1), reduction="none").view(st.m, -1)
        count = st.wv.sum(1).clamp_min(1.0)
        return (cev * st.wv).sum(1) / count, ((lv.argmax(2) == st.yv).float() * st.wv).sum(1) / count


def fit_group(
    jobs: list[EncoderJob], *, n_classes: int, settings: TrainSettings, device: Any,
    on_done: Callable[[EncoderJob], None] | None = None,
) -> list[EncoderFit]:
    """Train the encoders of several (modality, fold) jobs at once, as one batched network.

    The M encoders are stacked along a leading axis (weights ``(M, d_in, hidden)`` ...,
    inputs zero-padded to the widest modality) and run with batched matrix products. The loss
    is the *sum* of the M per-model mean cross-entropies, so each model receives exactly the
    gradient of its own loss, and AdamW acts element-wise, so this is M independent trainings
    done in one pass (zero-padded input columns meet zero weights, which get zero gradient and
    stay zero under weight decay). Each model has its own seed (initial weights, shuffling),
    its own early-stopping state (a stopped model keeps training in the batch, but its best
    weights are frozen and restored at the end). On CPU this is ~M times faster than M
    separate loops, whose cost is dominated by per-operation overhead for such small networks.
    """
    import torch

    st = _stack(jobs, device)
    params = _init_params(jobs, st.d_max, settings, n_classes, device)
    gens = [torch.Generator(device="cpu").manual_seed(job.seed) for job in jobs]
    plan = _EpochPlan.for_sizes(st.n_fit, settings.batch_size)
    stopping = _EarlyStopping(params, st.n_val > 0, settings.patience, device)
    opt: dict[str, Any] = {}
    epochs_run = np.zeros(st.m, dtype=np.int64)
    done = np.zeros(st.m, dtype=bool)
    history: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for epoch in range(settings.epochs):
        total = _train_epoch(params, opt, st, plan, gens, settings, n_classes)
        epochs_run[~done] += 1
        vloss, vacc = _validation_scores(params, st, n_classes)
        history.append(((total / torch.as_tensor(st.n_fit, device=device)).cpu().numpy(),
                        vloss.cpu().numpy(), vacc.cpu().numpy()))
        stopped = stopping.update(epoch, vloss, params)
        for k in np.flatnonzero(stopped & ~done):
            done[k] = True
            if on_done is not None:
                on_done(jobs[k])
        if bool(stopped.all()):
            break
    stopping.restore(params)
    return _held_out_fits(jobs, params, st, history, epochs_run, stopping.best_epoch, done, on_done)


def _held_out_fits(jobs: list[EncoderJob], params: list, st: _Stacked, history: list, epochs_run: np.ndarray,
                   best_epoch: np.ndarray, done: np.ndarray, on_done: Any) -> list[EncoderFit]:
    """Each model's representation, pre-activations and predictions on its held-out fold."""
    import torch

    with torch.no_grad():
        pre, logits = _forward(params, st.xt)
    pre_np = pre.cpu().numpy().astype(np.float64)
    pred_np = logits.argmax(2).cpu().numpy()
    tr_hist, vl_hist, va_hist = (np.stack([h[i] for h in history]) for i in range(3))
    out = []
    for k, job in enumerate(jobs):
        e = int(epochs_run[k])
        nv = bool(st.n_val[k] > 0)
        curve = {
            "train_loss": tr_hist[:e, k].tolist(),
            "val_loss": vl_hist[:e, k].tolist() if nv else [],
            "val_acc": va_hist[:e, k].tolist() if nv else [],
            "best_epoch": int(best_epoch[k]) if nv else e - 1,
            "epochs_run": e,
        }
        pk = pre_np[k, : st.n_te[k]]
        out.append(EncoderFit(np.maximum(pk, 0.0), pk, pred_np[k, : st.n_te[k]], curve))
        if not done[k] and on_done is not None:
            on_done(job)
    return out
