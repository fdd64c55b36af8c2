"""Learned representations H_m, as the CCH paper computes its MI terms.

The Cross-modal Complementarity Hypothesis (Xie, Xu & Sanguinetti, "Information-Theoretic
Criteria for Knowledge Distillation in Multimodal Learning", arXiv 2510.13182) compares

.. math::

    \\mathrm{score}(T \\to S) = I(H_T; H_S) - I(H_S; Y),

where :math:`H_T, H_S` are the *trained* representations of the teacher and the student modality
(identical architectures, trained on the labels) and :math:`Y` the label. This module produces
those representations:

* one small MLP per modality, ``d_m -> hidden -> dim -> n_classes`` with ReLU, trained by
  cross-entropy on the labels; :math:`H_m` is the ReLU output of the ``dim``-wide (penultimate)
  layer;
* **cross-fitting**: a stratified K-fold split over the *paired* samples; the representations of
  fold ``f`` come from encoders trained on the other folds only, so no sample is embedded by an
  encoder that saw its label (an in-sample embedding inflates :math:`I(H_S; Y)`);
* early stopping on a stratified internal validation split of the training part.

Speed
-----
The (modality, fold) encoders are independent, so they are trained *together*: stacked along
a leading axis and run with batched matrix products (:func:`_fit_group`), mini-batches cut
from one index permutation per model and epoch (no DataLoader). For networks this small the
cost is per-operation overhead, so this is several times faster than one loop per encoder:
2,000 samples x 3 modalities (dims 60-240, 2 folds, 60 epochs) take about 1-3 s on one CPU
core. On a CPU shared with other processes, torch's intra-op threads can make it ten times
slower; ``num_threads=1`` avoids that (the default leaves the thread count untouched).
Results do not depend on the thread count beyond float rounding.

Dead ReLU units
---------------
A unit that is zero on every held-out sample of a fold gives a constant column, on which MI is
undefined (cchkit's estimators refuse constant columns). Such columns are **dropped** for that
fold, not jittered: a jittered constant column becomes, after the standardisation the k-NN
estimators apply, one more dimension of pure noise, which biases KSG-type estimates; dropping a
column that is constant loses no information at all. The number of columns kept per fold is in
``info["dims"]`` (folds may differ). If every unit of a fold is dead (training collapsed), the
pre-activations of that layer are used instead and a warning is logged
(``info["preactivation_fallback"]``).
"""

from __future__ import annotations

import logging
import math
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._random import RandomState, derive_seed
from .._torch import resolve_device, seeded, torch_threads
from .._validation import as_float_matrix, as_labels, find_constant_columns, standardize_fit
from ..exceptions import InputError
from .set import RepresentationSet

logger = logging.getLogger("cchkit")

__all__ = ["encoder_representations", "ENCODER_DEFAULTS"]

#: Default training settings of :func:`encoder_representations` (the CLI shows them).
ENCODER_DEFAULTS: dict[str, Any] = {
    "dim": 16,
    "hidden": 64,
    "epochs": 60,
    "n_folds": 2,
    "batch_size": 128,
    "lr": 1e-3,
    "weight_decay": 1e-4,
    "patience": 10,
}

#: Share of each training part held back for early stopping.
_VAL_FRACTION = 0.15
#: Fewest optimiser steps per epoch (small training sets use batches below batch_size).
_MIN_STEPS = 8
#: Below this many training samples no validation split is made (all epochs are run).
_MIN_TRAIN_FOR_VAL = 20


def _check_int(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InputError(f"{name} must be an integer, got {value!r}.")
    if int(value) < low:
        raise InputError(f"{name} must be >= {low}, got {value}.")
    return int(value)


def _check_float(value: Any, name: str, *, positive: bool) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}.") from None
    if not math.isfinite(v) or v < 0 or (positive and v == 0):
        raise InputError(f"{name} must be {'> 0' if positive else '>= 0'} and finite, got {value!r}.")
    return v


_threads = torch_threads  # torch intra-op threads for the block (None: untouched)


def _name_seed(base: int, name: str, fold: int) -> int:
    """A seed for (modality, fold) that depends on the modality's *name*, not its position, so
    a modality gets the same representation whichever other modalities are passed with it."""
    ss = np.random.SeedSequence([int(base), zlib.crc32(name.encode("utf-8")), int(fold)])
    return int(ss.generate_state(1, dtype=np.uint32)[0] & 0x7FFFFFFF)


def _stratified_holdout(labels: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
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
class _Job:
    """One (modality, fold) fit: standardised fitting / validation / held-out parts."""

    name: str
    fold: int
    seed: int
    x_fit: np.ndarray
    y_fit: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_te: np.ndarray


class _AdamW:
    r"""AdamW (Loshchilov & Hutter, ICLR 2019) with PyTorch's defaults (betas 0.9, 0.999,
    eps 1e-8; decoupled weight decay), the same update as ``torch.optim.AdamW`` written out:

    .. math::

        \theta \leftarrow \theta(1 - \eta\lambda), \quad m \leftarrow \beta_1 m + (1-\beta_1) g,
        \quad v \leftarrow \beta_2 v + (1-\beta_2) g^2, \quad
        \theta \leftarrow \theta - \frac{\eta}{1-\beta_1^t}\,
        \frac{m}{\sqrt{v / (1-\beta_2^t)} + \epsilon}.

    Written here because creating a ``torch.optim`` optimiser imports ``torch._dynamo`` (about
    2 s on a small CPU), which would double the latency of ``cchkit rank``. Element-wise, so the
    stacked models of :func:`_fit_group` are optimised independently.
    """

    def __init__(
        self,
        params: list,
        *,
        lr: float,
        weight_decay: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        import torch

        self.params = params
        self.lr, self.wd, self.b1, self.b2, self.eps = lr, weight_decay, betas[0], betas[1], eps
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads: Sequence) -> None:
        import torch

        self.t += 1
        bc1 = 1.0 - self.b1**self.t
        bc2_sqrt = math.sqrt(1.0 - self.b2**self.t)
        with torch.no_grad():
            for p, g, m, v in zip(self.params, grads, self.m, self.v):
                if self.wd:
                    p.mul_(1.0 - self.lr * self.wd)
                m.mul_(self.b1).add_(g, alpha=1.0 - self.b1)
                v.mul_(self.b2).addcmul_(g, g, value=1.0 - self.b2)
                p.addcdiv_(m, (v.sqrt() / bc2_sqrt).add_(self.eps), value=-self.lr / bc1)


def _make_job(
    name: str, fold: int, seed: int, x: np.ndarray, codes: np.ndarray, tr: np.ndarray, te: np.ndarray
) -> _Job:
    """Split the training part into fitting and validation samples (stratified) and standardise
    everything with the fitting samples' mean and standard deviation (nothing is learned from
    the held-out fold)."""
    y_tr = codes[tr]
    rng = np.random.default_rng(seed)
    if y_tr.shape[0] >= _MIN_TRAIN_FOR_VAL:
        val = _stratified_holdout(y_tr, _VAL_FRACTION, rng)
    else:
        val = np.zeros(y_tr.shape[0], dtype=bool)
    x_tr = x[tr]
    mu, sd = standardize_fit(x_tr[~val])

    def st(a: np.ndarray) -> np.ndarray:
        return ((a - mu) / sd).astype(np.float32)

    return _Job(name, fold, seed, st(x_tr[~val]), y_tr[~val], st(x_tr[val]), y_tr[val], st(x[te]))


def _group_jobs(jobs: list[_Job], budget: int = 2**26) -> list[list[_Job]]:
    """Greedy groups of jobs whose zero-padded input tensors stay under ``budget`` floats."""
    groups: list[list[_Job]] = []
    cur: list[_Job] = []
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


def _fit_group(
    jobs: list[_Job],
    *,
    n_classes: int,
    dim: int,
    hidden: int,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    patience: int,
    device: Any,
    on_done: Any = None,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]]:
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

    Returns, per job: (H post-ReLU on the held-out part, pre-activations, predictions, curve).
    """
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    m = len(jobs)
    d_max = max(j.x_fit.shape[1] for j in jobs)
    n_fit = np.array([j.x_fit.shape[0] for j in jobs])
    n_val = np.array([j.x_val.shape[0] for j in jobs])
    n_te = np.array([j.x_te.shape[0] for j in jobs])

    def pad_x(arrs: list[np.ndarray], rows: int) -> torch.Tensor:
        out = np.zeros((m, max(rows, 1), d_max), dtype=np.float32)
        for k, a in enumerate(arrs):
            out[k, : a.shape[0], : a.shape[1]] = a
        return torch.from_numpy(out).to(device)

    def pad_y(arrs: list[np.ndarray], rows: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = np.zeros((m, max(rows, 1)), dtype=np.int64)
        w = np.zeros((m, max(rows, 1)), dtype=np.float32)
        for k, a in enumerate(arrs):
            y[k, : a.shape[0]] = a
            w[k, : a.shape[0]] = 1.0
        return torch.from_numpy(y).to(device), torch.from_numpy(w).to(device)

    xf = pad_x([j.x_fit for j in jobs], int(n_fit.max()))
    yf, _ = pad_y([j.y_fit for j in jobs], int(n_fit.max()))
    xv = pad_x([j.x_val for j in jobs], int(n_val.max()))
    yv, wv = pad_y([j.y_val for j in jobs], int(n_val.max()))
    xt = pad_x([j.x_te for j in jobs], int(n_te.max()))

    # initial weights: each model from its own seed, PyTorch's default Linear initialisation
    w1 = torch.zeros(m, d_max, hidden)
    b1 = torch.zeros(m, 1, hidden)
    w2 = torch.zeros(m, hidden, dim)
    b2 = torch.zeros(m, 1, dim)
    w3 = torch.zeros(m, dim, n_classes)
    b3 = torch.zeros(m, 1, n_classes)
    gens = []
    for k, job in enumerate(jobs):
        with seeded(job.seed):
            l1 = nn.Linear(job.x_fit.shape[1], hidden)
            l2 = nn.Linear(hidden, dim)
            l3 = nn.Linear(dim, n_classes)
        with torch.no_grad():
            w1[k, : job.x_fit.shape[1]] = l1.weight.T
            b1[k, 0] = l1.bias
            w2[k] = l2.weight.T
            b2[k, 0] = l2.bias
            w3[k] = l3.weight.T
            b3[k, 0] = l3.bias
        g = torch.Generator(device="cpu")
        g.manual_seed(job.seed)
        gens.append(g)
    params = [t.to(device).requires_grad_(True) for t in (w1, b1, w2, b2, w3, b3)]
    opt = _AdamW(params, lr=lr, weight_decay=weight_decay)

    def forward(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.relu(torch.baddbmm(params[1], x, params[0]))
        pre = torch.baddbmm(params[3], h, params[2])
        return pre, torch.baddbmm(params[5], torch.relu(pre), params[4])

    # every model takes the same number S of steps per epoch: its permutation is cut into S
    # nearly equal chunks of at most batch_size samples (padded to a common width, weight 0).
    # Small training sets get smaller batches, at least _MIN_STEPS per epoch, so that `epochs`
    # means enough optimiser steps whatever n (never an empty chunk: S <= min n_fit).
    n_steps = int(max(math.ceil(n / batch_size) for n in n_fit))
    n_steps = max(n_steps, min(_MIN_STEPS, int(n_fit.min())))
    width = int(max(math.ceil(n / n_steps) for n in n_fit))
    chunk_of, pos_of = [], []
    for n in n_fit:
        c = (np.arange(n) * n_steps) // n  # chunk c holds positions ceil(c n / S) .. ceil((c+1) n / S) - 1
        chunk_of.append(torch.as_tensor(c))
        pos_of.append(torch.as_tensor(np.arange(n) - (c * n + n_steps - 1) // n_steps))
    rows = torch.arange(m, device=device)[:, None]

    has_val = torch.as_tensor(n_val > 0, device=device)
    stopped = torch.zeros(m, dtype=torch.bool, device=device)
    stale = torch.zeros(m, dtype=torch.long, device=device)
    best_loss = torch.full((m,), math.inf, device=device)
    best = [p.detach().clone() for p in params]
    best_epoch = np.full(m, -1)
    epochs_run = np.zeros(m, dtype=np.int64)
    done = np.zeros(m, dtype=bool)
    hist_train, hist_vloss, hist_vacc = [], [], []
    for epoch in range(epochs):
        idx = torch.zeros(m, n_steps, width, dtype=torch.long)
        wts = torch.zeros(m, n_steps, width)
        for k in range(m):
            perm = torch.randperm(int(n_fit[k]), generator=gens[k])
            idx[k, chunk_of[k], pos_of[k]] = perm
            wts[k, chunk_of[k], pos_of[k]] = 1.0
        idx, wts = idx.to(device), wts.to(device)
        # one gather per epoch; each step then takes a contiguous slice
        xe = xf[rows, idx.view(m, -1)].view(m, n_steps, width, d_max)
        ye = yf[rows, idx.view(m, -1)].view(m, n_steps, width)
        inv_cnt = 1.0 / wts.sum(2).clamp_min(1.0)
        total = torch.zeros(m, device=device)
        for s in range(n_steps):
            _, logits = forward(xe[:, s])
            ce = (
                F.cross_entropy(logits.reshape(-1, n_classes), ye[:, s].reshape(-1), reduction="none").view(m, width)
                * wts[:, s]
            )
            loss = (ce.sum(1) * inv_cnt[:, s]).sum()
            opt.step(torch.autograd.grad(loss, params))
            total += ce.detach().sum(1)
        epochs_run[~done] += 1
        hist_train.append((total / torch.as_tensor(n_fit, device=device)).cpu().numpy())
        with torch.no_grad():
            _, lv = forward(xv)
            cev = F.cross_entropy(lv.reshape(-1, n_classes), yv.reshape(-1), reduction="none").view(m, -1)
            vloss = (cev * wv).sum(1) / wv.sum(1).clamp_min(1.0)
            vacc = ((lv.argmax(2) == yv).float() * wv).sum(1) / wv.sum(1).clamp_min(1.0)
        hist_vloss.append(vloss.cpu().numpy())
        hist_vacc.append(vacc.cpu().numpy())
        active = has_val & ~stopped
        improved = active & (vloss < best_loss - 1e-6)
        with torch.no_grad():
            for b, p in zip(best, params):
                b.copy_(torch.where(improved.view(-1, 1, 1), p.detach(), b))
        best_loss = torch.where(improved, vloss, best_loss)
        best_epoch[improved.cpu().numpy()] = epoch
        stale = torch.where(improved, torch.zeros_like(stale), torch.where(active, stale + 1, stale))
        stopped = stopped | (active & (stale >= patience))
        newly = stopped.cpu().numpy() & ~done
        for k in np.flatnonzero(newly):
            done[k] = True
            if on_done is not None:
                on_done(jobs[k])
        if bool(stopped.all()):
            break

    with torch.no_grad():
        final = [torch.where(has_val.view(-1, 1, 1), b, p.detach()) for b, p in zip(best, params)]
        for p, f in zip(params, final):
            p.copy_(f)
        pre, logits = forward(xt)
    pre_np = pre.cpu().numpy().astype(np.float64)
    pred_np = logits.argmax(2).cpu().numpy()
    tr_hist = np.stack(hist_train)
    vl_hist, va_hist = np.stack(hist_vloss), np.stack(hist_vacc)
    out = []
    for k, job in enumerate(jobs):
        e = int(epochs_run[k])
        nv = bool(n_val[k] > 0)
        curve = {
            "train_loss": tr_hist[:e, k].tolist(),
            "val_loss": vl_hist[:e, k].tolist() if nv else [],
            "val_acc": va_hist[:e, k].tolist() if nv else [],
            "best_epoch": int(best_epoch[k]) if nv else e - 1,
            "epochs_run": e,
        }
        pk = pre_np[k, : n_te[k]]
        out.append((np.maximum(pk, 0.0), pk, pred_np[k, : n_te[k]], curve))
        if not done[k] and on_done is not None:
            on_done(job)
    return out


def _heldout_predictions_linear(x_tr: np.ndarray, y_tr: np.ndarray, x_te: np.ndarray, seed: int) -> np.ndarray:
    """Predictions of a logistic regression fitted on the training fold (for ``given`` modalities)."""
    from sklearn.linear_model import LogisticRegression

    if np.unique(y_tr).size < 2:
        return np.full(x_te.shape[0], y_tr[0])
    clf = LogisticRegression(max_iter=300, random_state=seed)
    clf.fit(x_tr, y_tr)
    return clf.predict(x_te)


def encoder_representations(
    data: Mapping[str, np.ndarray],
    labels: np.ndarray,
    *,
    dim: int = 16,
    given: Sequence[str] = (),
    random_state: RandomState = 0,
    device: str = "auto",
    progress: bool = False,
    hidden: int = 64,
    epochs: int = 60,
    n_folds: int = 2,
    batch_size: int = 128,
    lr: float = 1e-3,
    weight_decay: float = 1e-4,
    patience: int = 10,
    num_threads: int | None = None,
    **unknown: Any,
) -> RepresentationSet:
    """Cross-fitted learned representations of paired modalities.

    For each modality ``m`` and each fold ``f`` of a stratified K-fold split, an MLP

    .. math::

        x \\mapsto W_3\\,\\mathrm{ReLU}(\\underbrace{W_2\\,\\mathrm{ReLU}(W_1 \\tilde x + b_1) + b_2}_{\\text{pre}})
        + b_3, \\qquad H_m = \\mathrm{ReLU}(\\text{pre}) \\in \\mathbb{R}^{\\mathrm{dim}},

    (:math:`\\tilde x` the input standardised with the training part's mean and standard
    deviation) is trained with cross-entropy (AdamW, mini-batches, early stopping on a stratified
    15 % validation split of the training part, best epoch restored) on every fold but ``f``, and
    ``H_m`` is evaluated on the samples of fold ``f``. This follows the CCH paper (Xie, Xu &
    Sanguinetti, arXiv 2510.13182), where MI is computed on trained representations of identical
    architectures; cross-fitting keeps :math:`I(H_S; Y)` from being inflated by memorised labels.

    Parameters
    ----------
    data : mapping name -> array (n, d_m)
        Paired modalities: row ``i`` of every array is sample ``i``.
    labels : array (n,)
        Class labels (ints, strings or whole floats), re-encoded as 0..C-1.
    dim : int, default 16
        Width of the representation layer (columns of H_m before dead units are dropped).
    given : sequence of str
        Modalities that already are representations: used as they are (constant columns
        dropped, standardised per fold), not trained. Their accuracy is that of a logistic
        regression fitted on the training folds.
    random_state : int, Generator or None
        Seeds the folds, the validation splits, the initial weights and the shuffling. Each
        (modality, fold) gets a seed derived from the base seed and the modality's *name*, so a
        modality's representation does not depend on which other modalities are passed.
    device : {"auto", "cpu", "cuda", ...}
        Where to train; CPU results are the reference (CUDA kernels may differ in the last bits).
    progress : bool
        Show a tqdm bar over (modality, fold).
    hidden, epochs, n_folds, batch_size, lr, weight_decay, patience
        Training settings: hidden width, maximum epochs, number of cross-fitting folds (>= 2),
        largest mini-batch size (training parts under ``8 * batch_size`` samples are cut into 8
        smaller batches per epoch, so that small data still get enough steps), AdamW learning
        rate and weight decay, early-stopping patience (epochs without a validation-loss
        improvement).
    num_threads : int or None, default None
        None leaves torch's intra-op thread count as it is. An int sets it for the training
        only (restored afterwards). These networks are tiny, so one thread is often the fastest,
        and on a CPU shared with other processes (``pytest -n 2``, parallel jobs) intra-op
        threads can make training ten times slower. Results do not depend on it.

    Returns
    -------
    RepresentationSet
        ``kind="encoder"``; ``folds[f][name]`` the held-out representations of fold ``f``
        (constant columns dropped, see the module notes), ``labels[f]`` their labels (codes
        0..C-1), ``accuracy[name]`` the held-out accuracy pooled over folds. ``info`` holds
        ``"curves"`` (name -> per-fold dicts of ``train_loss``, ``val_loss``, ``val_acc``,
        ``best_epoch``, ``epochs_run``), ``"dims"`` (name -> columns kept per fold),
        ``"dropped_columns"``, ``"preactivation_fallback"``, ``"fold_indices"`` (row indices of
        each fold, into ``data``), ``"classes"``, ``"params"``, ``"seed"`` and ``"seconds"``.

    Raises
    ------
    InputError
        Empty or mismatched inputs, NaN/inf, a single class, a class with fewer samples than
        ``n_folds``, an unknown name in ``given``, bad training settings.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 200)
    >>> x = {"a": y[:, None] + rng.normal(size=(200, 5)), "b": rng.normal(size=(200, 3))}
    >>> reps = encoder_representations(x, y, dim=4, epochs=5)
    >>> len(reps.folds), reps.n
    (2, 200)
    """
    t0 = time.perf_counter()
    if unknown:
        valid = ", ".join(sorted(ENCODER_DEFAULTS) + ["given", "random_state", "device", "progress", "num_threads"])
        raise InputError(f"unknown encoder option(s) {sorted(unknown)}; valid options: {valid}.")
    dim = _check_int(dim, "dim", 1)
    hidden = _check_int(hidden, "hidden", 1)
    epochs = _check_int(epochs, "epochs", 1)
    n_folds = _check_int(n_folds, "n_folds", 2)
    batch_size = _check_int(batch_size, "batch_size", 1)
    patience = _check_int(patience, "patience", 1)
    if num_threads is not None:
        num_threads = _check_int(num_threads, "num_threads", 1)
    lr = _check_float(lr, "lr", positive=True)
    weight_decay = _check_float(weight_decay, "weight_decay", positive=False)

    if not isinstance(data, Mapping) or not data:
        raise InputError("data must be a non-empty mapping of modality name -> (n, d) matrix.")
    codes, classes = as_labels(labels, "labels")
    n = codes.shape[0]
    arrays: dict[str, np.ndarray] = {}
    for name, x in data.items():
        arr = as_float_matrix(x, f"modality {name!r}")
        if arr.shape[0] != n:
            raise InputError(
                f"modality {name!r} has {arr.shape[0]} rows but there are {n} labels; the rows must be "
                "the paired samples, in the same order as the labels."
            )
        const = find_constant_columns(arr)
        if const.size == arr.shape[1]:
            raise InputError(f"modality {name!r} has only constant columns; it carries no information.")
        arrays[str(name)] = arr
    given = [given] if isinstance(given, str) else list(given)
    unknown_given = sorted(set(given) - set(arrays))
    if unknown_given:
        raise InputError(f"given names modalities that are not in data: {unknown_given}; data has {sorted(arrays)}.")
    n_classes = int(classes.shape[0])
    if n_classes < 2:
        raise InputError(
            "the labels have a single class; an encoder needs at least 2 classes to learn from "
            "(and I(H; Y) = 0 by definition)."
        )
    counts = np.bincount(codes, minlength=n_classes)
    if counts.min() < n_folds:
        small = [f"{classes[c]!r} ({counts[c]})" for c in np.flatnonzero(counts < n_folds)[:5]]
        raise InputError(
            f"class(es) {', '.join(small)} have fewer samples than n_folds={n_folds}; every fold needs "
            "every class. Lower n_folds, merge or drop the rare classes, or collect more samples."
        )

    from sklearn.model_selection import StratifiedKFold

    dev = resolve_device(device)
    seed = derive_seed(random_state)
    skf = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    splits = [(tr, te) for tr, te in skf.split(np.zeros((n, 1)), codes)]

    trained = [name for name in arrays if name not in given]

    folds: list[dict[str, np.ndarray]] = [{} for _ in range(n_folds)]
    curves: dict[str, list[dict[str, Any]]] = {name: [] for name in trained}
    dims: dict[str, list[int]] = {name: [] for name in arrays}
    dropped: dict[str, list[int]] = {name: [] for name in arrays}
    fallback: dict[str, list[int]] = {}
    correct: dict[str, int] = {name: 0 for name in arrays}

    def store(name: str, f: int, h: np.ndarray, pred: np.ndarray) -> None:
        const = find_constant_columns(h)
        if const.size == h.shape[1]:
            raise InputError(
                f"modality {name!r}: every representation column is constant on fold {f}; the "
                "encoder learned nothing. Check the inputs or change hidden/lr/epochs."
            )
        if const.size:
            logger.debug("modality %r fold %d: dropping %d constant column(s)", name, f, const.size)
            h = np.delete(h, const, axis=1)
        folds[f][name] = np.ascontiguousarray(h)
        dims[name].append(int(h.shape[1]))
        dropped[name].append(int(const.size))
        correct[name] += int((np.asarray(pred) == codes[splits[f][1]]).sum())

    # modalities that already are representations: standardised with the training folds' statistics
    for name in given:
        x = arrays[name]
        for f, (tr, te) in enumerate(splits):
            mu, sd = standardize_fit(x[tr])
            h = (x[te] - mu) / sd
            pred = _heldout_predictions_linear((x[tr] - mu) / sd, codes[tr], h, _name_seed(seed, name, f))
            store(name, f, h, pred)

    jobs = [
        _make_job(name, f, _name_seed(seed, name, f), arrays[name], codes, tr, te)
        for name in trained
        for f, (tr, te) in enumerate(splits)
    ]
    bar = None
    if progress and jobs:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs), desc="encoders (modality x fold)", unit="fit")
    results: dict[tuple[str, int], tuple] = {}
    try:
        with _threads(num_threads):
            for group in _group_jobs(jobs):
                out = _fit_group(
                    group,
                    n_classes=n_classes,
                    dim=dim,
                    hidden=hidden,
                    epochs=epochs,
                    batch_size=batch_size,
                    lr=lr,
                    weight_decay=weight_decay,
                    patience=patience,
                    device=dev,
                    on_done=(lambda job: bar.update(1)) if bar is not None else None,
                )
                for job, res in zip(group, out):
                    results[(job.name, job.fold)] = res
    finally:
        if bar is not None:
            bar.close()
    for name in trained:
        for f in range(n_folds):
            post, pre, pred, curve = results[(name, f)]
            curves[name].append(curve)
            h = post
            if find_constant_columns(h).size == h.shape[1]:
                logger.warning(
                    "encoder of %r, fold %d: every representation unit is constant on the held-out "
                    "fold (dead ReLUs); using the layer's pre-activations instead.",
                    name,
                    f,
                )
                fallback.setdefault(name, []).append(f)
                h = pre
            store(name, f, h, pred)
    accuracy = {name: correct[name] / n for name in arrays}
    for name in arrays:
        logger.info("encoder %r: held-out accuracy %.3f, dims per fold %s", name, accuracy[name], dims[name])

    seconds = time.perf_counter() - t0
    info: dict[str, Any] = {
        "curves": curves,
        "dims": dims,
        "dropped_columns": dropped,
        "preactivation_fallback": fallback,
        "fold_indices": [te for _, te in splits],
        "classes": classes,
        "given": list(given),
        "params": {
            "dim": dim,
            "hidden": hidden,
            "epochs": epochs,
            "n_folds": n_folds,
            "batch_size": batch_size,
            "lr": lr,
            "weight_decay": weight_decay,
            "patience": patience,
            "val_fraction": _VAL_FRACTION,
            "min_steps_per_epoch": _MIN_STEPS,
            "num_threads": num_threads,
            "device": str(dev),
        },
        "seed": seed,
        "seconds": seconds,
    }
    return RepresentationSet(
        kind="encoder",
        folds=folds,
        labels=[codes[te] for _, te in splits],
        accuracy=accuracy,
        info=info,
    )
