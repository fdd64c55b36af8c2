"""The distiller: train a student modality with or without knowledge from a teacher modality.

:func:`distill` pre-trains a teacher on its own modality, freezes it, then trains a student on
its own modality with one of :data:`METHODS` and reports the student's held-out accuracy. Every
method shares the student's split, initialisation, mini-batch order, optimiser and schedule for
a given ``seed``, so ``accuracy(method) - accuracy("none")`` at one seed is a paired difference.

Methods
-------
``"none"``
    Cross-entropy only: the no-KD baseline.
``"ucmkd"``
    Unpaired, the first-order bilevel algorithm of UCMKD (Tran et al., ICML 2026): per student
    batch, copy the student; ``n1`` inner AdamW steps on the feature alignment
    :func:`~cchkit.distill.losses.sinkhorn_alignment` between the copy's features and an
    independently drawn teacher batch; ``n2`` inner steps on the label alignment
    :func:`~cchkit.distill.losses.label_alignment`; then the cross-entropy at the adapted copy,
    whose gradient (first order, as FOMAML) is applied to the original student by the outer
    optimiser.
``"align"``
    Unpaired, single level: ``CE + lambda1 * FA + lambda2 * LA``.
``"logit-kd"``
    Paired, Hinton's KD: ``CE + lambda1 * T^2 KL(p_T^T || p_S^T)`` on the samples of the
    student's training split that have a teacher pair (same sample id).
``"feature-kd"``
    Paired, feature regression: ``CE + lambda1 * MSE(z_S, z_T)`` on the same pairs.

Data handling
-------------
* The student's train/test split is made on the student's own samples (stratified, seeded);
  ``train_size`` (default None: the split is set by ``test_size``) fixes the training split's
  size instead, e.g. a few labelled samples per class, while the teacher's held-out share stays
  ``test_size`` (``cchkit.datasets.kd_scenarios.starved_student_bundle`` is built for it).
* The teacher is trained on its own modality's samples, except a held-out part used for its
  test accuracy. Leakage guard: the teacher samples whose ids are in the student's test split
  are always held out (when the data are paired the teacher never trains on the test samples'
  other view); when fewer than ``test_size * n_teacher`` are, more are drawn at random. This is
  the *only* place the unpaired methods look at sample ids; switch it off with
  ``exclude_test_ids=False`` to make them ignore ids completely.
* Teacher rows are put in a canonical order (sorted by label, then by their features), so the
  result does not depend on the order of the teacher's rows in the bundle.
* Unpaired methods draw teacher mini-batches independently of the student's (from the
  teacher's training split, a seeded permutation, or with ``class_matched=True`` the same
  class histogram as the student batch) and never use pairs.
* Each modality is standardised with the mean and standard deviation of its training split.

Optimisation (all methods alike, measured on small tabular data): outer SGD with momentum
0.9 and the paper's lr 1e-2, linear warm-up over the first ``warmup_epochs`` (default
``max(1, epochs // 10)``; the paper: 5 of 100) then cosine decay to ``lr * 1e-3``, gradient
norm clipped at 5. The paper's outer lr does learn here: on a 2,000-sample, 4-class noisy
student (24 features) ``none`` reached 0.640 test accuracy with lr 1e-2 against 0.591 with
5e-2 (3 seeds, 30 epochs; the larger lr overfits). The ``ucmkd`` inner AdamW (weight decay
0.05, fresh state per batch) defaults to lr 1e-3, not the paper's 1e-5..5e-5: the first
AdamW step moves every weight by about ``lr`` whatever its gradient, so at 1e-5 the adapted copy
equals the student to within float noise and ``ucmkd`` reproduces ``none`` (measured gain
+0.001 over 4 seeds); at 1e-2 and above the inner steps hurt (-2 to -7 accuracy points); 1e-3
is the largest value measured that did not hurt.
"""

from __future__ import annotations

import hashlib
import logging
import math
import sys
import time
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from .._params import BOOL, NONE, Integral, Interval, Options, Real, validate_params
from .._torch import adamw_step, resolve_device, seeded, to_tensor, torch_threads
from .._validation import standardize_fit
from ..exceptions import BundleError, CchkitError, InputError, NotPairedError
from .losses import (
    COSTS,
    class_conditional_alignment,
    class_conditional_kd,
    class_soft_targets,
    feature_kd,
    label_alignment,
    sinkhorn_alignment,
    vanilla_kd,
)
from .models import KDNet, accuracy, build_net, freeze, pretrain_teacher

logger = logging.getLogger("cchkit")

__all__ = ["distill", "DistillResult", "METHODS", "PAIRED_METHODS", "UNPAIRED_METHODS"]

Method = Literal["class-align", "ucmkd", "align", "none", "logit-kd", "feature-kd"]
#: Every method :func:`distill` knows.
METHODS: tuple[str, ...] = ("class-align", "ucmkd", "align", "none", "logit-kd", "feature-kd")
#: Methods that need paired samples (shared sample ids).
PAIRED_METHODS: tuple[str, ...] = ("logit-kd", "feature-kd")
#: Methods that never use pairs.
UNPAIRED_METHODS: tuple[str, ...] = ("class-align", "ucmkd", "align")
#: Fewest paired samples in the student's training split that the paired methods accept.
MIN_TRAIN_PAIRS = 10


@dataclass
class DistillResult:
    """The outcome of one :func:`distill` run.

    Attributes
    ----------
    student, teacher, method : str
    seed : int
    accuracy : float
        The student's accuracy on its held-out test split, with the weights of the epoch of best
        validation accuracy (``params["best_epoch"]``; the last epoch with ``val_size=0``).
    teacher_accuracy : float
        The frozen teacher's accuracy on its own held-out samples.
    curve : list of dict
        One entry per epoch: ``epoch, lr, loss, ce, fa, la, kd, train_accuracy, val_accuracy,
        test_accuracy`` (terms a method does not use are NaN). ``loss`` is the objective the
        outer optimiser minimised (for ``ucmkd``: the cross-entropy at the adapted copy).
    seconds : float
        Wall-clock time of the whole call (teacher pre-training included).
    params : dict
        Every setting of the run.
    n_train, n_test : int
        Student training / test samples.
    n_teacher_train, n_teacher_test : int
    n_pairs : int
        Paired samples used by a paired method (0 for the others).
    n_val : int
        Student validation samples (carved from its training split) that chose the epoch.
    teacher_curve : list of float
        The teacher's per-epoch pre-training loss.
    test_ids : ndarray
        Sample ids of the student's test split.
    models : dict or None
        With ``keep_models=True``: ``{"student": KDNet, "teacher": KDNet}`` (the trained student
        in eval mode, the frozen teacher); not part of :meth:`to_dict`.
    """

    student: str
    teacher: str
    method: str
    seed: int
    accuracy: float
    teacher_accuracy: float
    curve: list[dict[str, float]]
    seconds: float
    params: dict[str, Any]
    n_train: int = 0
    n_test: int = 0
    n_teacher_train: int = 0
    n_teacher_test: int = 0
    n_pairs: int = 0
    n_val: int = 0
    teacher_curve: list[float] = field(default_factory=list)
    test_ids: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    models: dict[str, KDNet] | None = field(default=None, repr=False)

    def curve_frame(self) -> pd.DataFrame:  # noqa: F821
        """The training curve as a pandas DataFrame (one row per epoch)."""
        import pandas as pd

        return pd.DataFrame(self.curve)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of the results (without the models; ``test_ids`` as a list)."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("models",)}
        out["test_ids"] = self.test_ids.tolist()
        out["curve"] = [dict(c) for c in self.curve]
        out["params"] = dict(self.params)
        return out


# ----------------------------------------------------------------------------- helpers


def _sub_seeds(seed: int, k: int) -> list[int]:
    ss = np.random.SeedSequence(int(seed))
    return [int(s.generate_state(1)[0] % (2**31 - 1)) for s in ss.spawn(k)]


def _stratified(idx: np.ndarray, labels: np.ndarray, seed: int, *, test_size: float | None = None,
                train_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A seeded split of ``idx``, stratified by ``labels[idx]`` when every class has 2 samples."""
    from sklearn.model_selection import train_test_split

    counts = np.bincount(labels[idx])
    stratify = labels[idx] if counts[counts > 0].min() >= 2 else None
    if stratify is None:
        logger.warning("a student class has fewer than 2 samples; the split is not stratified.")
    try:
        a, b = train_test_split(idx, test_size=test_size, train_size=train_size, stratify=stratify, random_state=seed)
    except ValueError as exc:
        what = f"test_size={test_size}" if train_size is None else f"train_size={train_size}"
        raise InputError(f"cannot split the student's {idx.size} samples with {what}: {exc}") from None
    return np.sort(a), np.sort(b)


def _split_student(labels: np.ndarray, test_size: float, seed: int,
                   train_size: int | float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Stratified seeded train/test split of the student's rows.

    The test split is always the ``test_size`` share, so that the teacher (which never trains on
    the test samples' other view) keeps its own ``1 - test_size``. With ``train_size`` the
    training split is a stratified subsample of that many samples (an int) or that share of all
    samples (a float) of the rest: the user's real labelled budget.
    """
    idx = np.arange(labels.shape[0])
    tr, te = _stratified(idx, labels, seed, test_size=test_size)
    if train_size is None:
        return tr, te
    k = int(train_size) if isinstance(train_size, (int, np.integer)) else int(round(float(train_size) * idx.size))
    if k >= tr.size:
        if k > tr.size:
            raise InputError(
                f"train_size={train_size} asks for {k} training samples, but only {tr.size} are left after the "
                f"test split (test_size={test_size}); lower train_size or test_size."
            )
        return tr, te
    n_cls = int(np.unique(labels[tr]).size)
    if k < n_cls:
        raise InputError(
            f"train_size={train_size} gives {k} training sample(s) for {n_cls} classes; the student needs at "
            "least one sample of every class. Raise train_size."
        )
    sub, _ = _stratified(tr, labels, seed + 1, train_size=k)
    return sub, te


def student_split(labels: np.ndarray, random_state: int, *, test_size: float = 0.3,
                  train_size: int | float | None = None, val_size: float = 0.2) -> tuple[np.ndarray, ...]:
    """The student's (fit, validation, test) rows exactly as :func:`distill` makes them for
    ``random_state``: every method, and the linear probe, see the same split for a seed."""
    subs = _sub_seeds(random_state, 8)  # distill's sub-seeds: the split's is the first, validation's the last
    tr, te = _split_student(labels, test_size, subs[0], train_size)
    fit, val = _carve_validation(tr, labels, val_size, subs[7])
    return fit, val, te


def _carve_validation(tr: np.ndarray, labels: np.ndarray, val_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split the training rows into (fit, validation); the validation rows pick the epoch.

    At least one validation sample per class where a class has two or more training samples;
    ``val_size=0`` (or a training split too small to spare one) gives no validation split.
    """
    if val_size <= 0 or tr.size < 4:
        return tr, tr[:0]
    n_cls = int(np.unique(labels[tr]).size)
    n_val = max(int(round(val_size * tr.size)), n_cls)
    if n_val >= tr.size - n_cls:
        return tr, tr[:0]
    fit, val = _stratified(tr, labels, seed, test_size=n_val)
    return fit, val


def _canonical_order(data: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Row order sorted by label, then feature 0, 1, ... (lexicographic)."""
    keys = [data[:, j] for j in range(data.shape[1] - 1, -1, -1)] + [labels]
    return np.lexsort(keys)


def _lr_at(step: int, total: int, warmup: int, lr: float, min_factor: float = 1e-3) -> float:
    """Linear warm-up from ``lr * min_factor`` over ``warmup`` steps, then cosine to ``lr * min_factor``."""
    lo = lr * min_factor
    if warmup > 0 and step < warmup:
        return lo + (lr - lo) * step / warmup
    rest = max(1, total - warmup)
    t = min(1.0, (step - warmup) / rest)
    return lo + (lr - lo) * 0.5 * (1.0 + math.cos(math.pi * t))


_TEACHER_CACHE: OrderedDict[tuple, tuple[dict[str, torch.Tensor], list[float]]] = OrderedDict()
_TEACHER_CACHE_SIZE = 16


def _teacher(
    x: torch.Tensor,
    y: torch.Tensor,
    n_classes: int,
    *,
    feat_dim: int,
    hidden: int | Sequence[int],
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
) -> tuple[KDNet, list[float]]:
    """Pre-train (or fetch from a small in-process cache) the frozen teacher.

    The cache key hashes the exact training data and every setting, so a hit returns the very
    weights a fresh training would (training is deterministic on CPU); it spares
    :func:`~cchkit.distill.validate` from re-training one teacher per method.
    """
    h = hashlib.sha1()
    h.update(x.detach().cpu().numpy().tobytes())
    h.update(y.detach().cpu().numpy().tobytes())
    hid = (hidden,) if isinstance(hidden, int) else tuple(hidden)
    key = (h.hexdigest(), tuple(x.shape), n_classes, feat_dim, hid, epochs, batch_size, lr, seed, str(x.device))
    net = build_net(x.shape[1], n_classes, feat_dim=feat_dim, hidden=hidden, seed=seed).to(x.device)
    if key in _TEACHER_CACHE:
        _TEACHER_CACHE.move_to_end(key)
        state, losses = _TEACHER_CACHE[key]
        net.load_state_dict(state)
        return freeze(net), list(losses)
    net, losses = pretrain_teacher(net, x, y, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
    _TEACHER_CACHE[key] = ({k: v.detach().clone() for k, v in net.state_dict().items()}, list(losses))
    while len(_TEACHER_CACHE) > _TEACHER_CACHE_SIZE:
        _TEACHER_CACHE.popitem(last=False)
    return net, losses


class _TeacherBatcher:
    """Draws teacher mini-batch indices independently of the student's batches."""

    def __init__(self, labels: np.ndarray, n_classes: int, rng: np.random.Generator, class_matched: bool) -> None:
        self.labels = labels
        self.rng = rng
        self.class_matched = class_matched
        self.n = labels.shape[0]
        self.perm = rng.permutation(self.n)
        self.pos = 0
        self.pools = [np.flatnonzero(labels == c) for c in range(n_classes)]
        self._warned = False

    def draw_aligned(self, student_labels: np.ndarray) -> np.ndarray:
        """One teacher training sample of the same class per student sample (position by
        position), drawn at random: class-matched re-pairing, which uses labels only."""
        out = np.empty(student_labels.shape[0], dtype=np.int64)
        for c in np.unique(student_labels):
            at = np.flatnonzero(student_labels == c)
            pool = self.pools[c] if self.pools[c].size else np.arange(self.n)
            out[at] = self.rng.choice(pool, size=at.size, replace=True)
        return out

    def draw(self, student_labels: np.ndarray) -> np.ndarray:
        k = student_labels.shape[0]
        if not self.class_matched:
            out = np.empty(k, dtype=np.int64)
            filled = 0
            while filled < k:
                if self.pos >= self.n:
                    self.perm = self.rng.permutation(self.n)
                    self.pos = 0
                take = min(k - filled, self.n - self.pos)
                out[filled : filled + take] = self.perm[self.pos : self.pos + take]
                filled += take
                self.pos += take
            return out
        counts = np.bincount(student_labels, minlength=len(self.pools))
        parts = []
        for c, h in enumerate(counts):
            if h == 0:
                continue
            pool = self.pools[c]
            if pool.size == 0:
                if not self._warned:
                    logger.warning("class %d has no teacher training sample; class-matched batches draw it from all classes.", c)
                    self._warned = True
                pool = np.arange(self.n)
            parts.append(self.rng.choice(pool, size=int(h), replace=bool(h > pool.size)))
        return np.concatenate(parts)


def _functional_forward(net: KDNet, params: list[torch.Tensor], x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
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


# ----------------------------------------------------------------------------- data
@dataclass
class _Prepared:
    xs_tr: torch.Tensor
    ys_tr: torch.Tensor
    xs_te: torch.Tensor
    ys_te: torch.Tensor
    xs_val: torch.Tensor
    ys_val: torch.Tensor
    xt_tr: torch.Tensor
    yt_tr: torch.Tensor
    xt_te: torch.Tensor
    yt_te: torch.Tensor
    yt_tr_np: np.ndarray
    ys_tr_np: np.ndarray
    test_ids: np.ndarray
    pair_rows: np.ndarray | None  # per student-train row: teacher row (in the teacher's canonical order) or -1
    xt_all: torch.Tensor | None  # standardised teacher rows (canonical order), for paired targets


def _teacher_split(t_ids: np.ndarray, student_test_ids: np.ndarray | None, test_size: float,
                   fill_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The teacher's (train, test) rows: the student's test samples are held out (when their
    ids are given), topped up at random to ``test_size`` of the teacher's rows."""
    n_t = t_ids.shape[0]
    held = np.zeros(n_t, dtype=bool)
    if student_test_ids is not None:
        held |= np.isin(t_ids, student_test_ids)
    target = int(round(test_size * n_t))
    if held.sum() < target:
        rest = np.flatnonzero(~held)
        extra = np.random.default_rng(fill_seed).permutation(rest)[: target - int(held.sum())]
        held[extra] = True
    return np.flatnonzero(~held), np.flatnonzero(held)


def _pair_rows(bundle: Any, student: str, teacher: str, s_ids_tr: np.ndarray, t_ids: np.ndarray) -> np.ndarray:
    """For each student training sample, the row of its teacher pair (same id), or -1."""
    import pandas as pd

    try:
        view = bundle.paired([student, teacher])
    except NotPairedError:
        raise NotPairedError(
            f"method needs paired samples, but {student!r} and {teacher!r} share "
            f"{bundle.n_paired(student, teacher)} sample id(s) (at least {MIN_TRAIN_PAIRS} needed). "
            "Use method='ucmkd' or 'align', which need no pairs."
        ) from None
    has = pd.Index(view.ids).get_indexer(s_ids_tr) >= 0
    pos_in_t = pd.Index(t_ids).get_indexer(s_ids_tr)
    pair_rows = np.where(has, pos_in_t, -1).astype(np.int64)
    n_pairs = int((pair_rows >= 0).sum())
    if n_pairs < MIN_TRAIN_PAIRS:
        raise NotPairedError(
            f"only {n_pairs} of the student's {s_ids_tr.size} training samples have a teacher pair "
            f"(same sample id in {teacher!r}); paired KD needs at least {MIN_TRAIN_PAIRS}. "
            "Use method='ucmkd' or 'align', which need no pairs."
        )
    return pair_rows


def _check_teacher_classes(teacher: str, teacher_labels: np.ndarray, student_labels: np.ndarray) -> None:
    """A teacher trained on one class has nothing to teach (its soft targets are constant);
    one that lacks some of the student's classes gives those classes no targets: warn."""
    t_cls, s_cls = np.unique(teacher_labels), np.unique(student_labels)
    if t_cls.size < 2:
        raise BundleError(
            f"teacher {teacher!r} has a single class in its training split; a teacher of one class carries no "
            "class information to distil. Give it samples of at least two classes."
        )
    lacking = np.setdiff1d(s_cls, t_cls)
    if lacking.size:
        logger.warning("teacher %r has no training sample of %d of the student's classes; those classes get no "
                       "teacher targets.", teacher, lacking.size)


def _prepare(bundle: Any, student: str, teacher: str, *, test_size: float, split_seed: int, fill_seed: int,
             paired: bool, exclude_test_ids: bool, device: torch.device,
             train_size: int | float | None = None, val_size: float = 0.0, val_seed: int = 0) -> _Prepared:
    S = bundle.modality(student)
    T = bundle.modality(teacher)
    tr, te = _split_student(S.labels, test_size, split_seed, train_size)
    tr, val = _carve_validation(tr, S.labels, val_size, val_seed)
    # teacher rows in a canonical order: the result must not depend on their order in the bundle
    order = _canonical_order(T.data, T.labels)
    t_data, t_lab, t_ids = T.data[order], T.labels[order], T.ids[order]
    t_tr, t_te = _teacher_split(t_ids, S.ids[te] if exclude_test_ids else None, test_size, fill_seed)
    if t_tr.size < 2:
        raise BundleError(
            f"teacher {teacher!r} has {t_tr.size} training sample(s) left after holding out the student's "
            "test samples; it needs more samples."
        )
    _check_teacher_classes(teacher, t_lab[t_tr], S.labels[tr])
    mu_s, sd_s = standardize_fit(S.data[tr])
    mu_t, sd_t = standardize_fit(t_data[t_tr])
    xs = (S.data - mu_s) / sd_s
    xt = (t_data - mu_t) / sd_t

    def tt(a: np.ndarray) -> torch.Tensor:
        return to_tensor(a, device)

    def tl(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, dtype=torch.long, device=device)

    pair_rows = _pair_rows(bundle, student, teacher, S.ids[tr], t_ids) if paired else None
    xt_all = tt(xt) if paired else None
    return _Prepared(
        xs_tr=tt(xs[tr]), ys_tr=tl(S.labels[tr]), xs_te=tt(xs[te]), ys_te=tl(S.labels[te]),
        xs_val=tt(xs[val]), ys_val=tl(S.labels[val]),
        xt_tr=tt(xt[t_tr]), yt_tr=tl(t_lab[t_tr]), xt_te=tt(xt[t_te]), yt_te=tl(t_lab[t_te]),
        yt_tr_np=t_lab[t_tr], ys_tr_np=S.labels[tr], test_ids=S.ids[te], pair_rows=pair_rows, xt_all=xt_all,
    )


# ----------------------------------------------------------------------------- main
_POSITIVE_INT = [Interval(Integral, 1, None)]
_NONNEG_REAL = [Interval(Real, 0, None)]
_POSITIVE_REAL = [Interval(Real, 0, None, closed="neither")]


@validate_params(
    {
        "method": [Options(METHODS)], "epochs": _POSITIVE_INT, "batch_size": [Interval(Integral, 2, None)],
        "feat_dim": _POSITIVE_INT, "hidden": [Interval(Integral, 1, None), list, tuple],
        "n1": [Interval(Integral, 0, None)], "n2": [Interval(Integral, 0, None)],
        "lambda1": _NONNEG_REAL, "lambda2": _NONNEG_REAL, "inner_lr": _NONNEG_REAL,
        "inner_weight_decay": _NONNEG_REAL, "grad_clip": _NONNEG_REAL, "lambda_fa": _NONNEG_REAL,
        "lr": _POSITIVE_REAL, "eps": _POSITIVE_REAL, "temperature": _POSITIVE_REAL, "teacher_lr": _POSITIVE_REAL,
        "momentum": [Interval(Real, 0, 1, closed="left")], "weight_decay": _NONNEG_REAL, "test_size": [Interval(Real, 0, 1, closed="neither")],
        "train_size": [NONE, Interval(Integral, 1, None), Interval(Real, 0, 1, closed="neither")],
        "class_targets": [Options(["mean", "sample"])], "min_steps": [Interval(Integral, 0, None)],
        "val_size": [Interval(Real, 0, 1, closed="left")], "cost": [Options(COSTS)],
        "random_state": [Interval(Integral, 0, None)], "warmup_epochs": [NONE, Interval(Integral, 0, None)],
        "teacher_epochs": [NONE, Interval(Integral, 1, None)], "teacher_grad": [BOOL], "class_matched": [BOOL],
        "exclude_test_ids": [BOOL], "n_threads": [NONE, Interval(Integral, 1, None)], "device": [str],
        "keep_models": [BOOL], "progress": [BOOL], "seed": [NONE, Interval(Integral, 0, None)],
    }
)
def distill(
    bundle: Any,
    student: str,
    teacher: str,
    *,
    method: Method = "class-align",
    epochs: int = 30,
    min_steps: int = 300,
    val_size: float = 0.2,
    batch_size: int = 64,
    feat_dim: int = 32,
    hidden: int | Sequence[int] = 64,
    lambda1: float = 1.0,
    lambda2: float = 1.0,
    n1: int = 1,
    n2: int = 1,
    eps: float = 0.1,
    cost: Literal["cosine", "l2"] = "cosine",
    inner_lr: float = 1e-3,
    inner_weight_decay: float = 0.05,
    lr: float = 1e-2,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    warmup_epochs: int | None = None,
    grad_clip: float = 5.0,
    temperature: float = 4.0,
    teacher_grad: bool = False,
    class_matched: bool = False,
    class_targets: Literal["mean", "sample"] = "mean",
    lambda_fa: float = 0.0,
    teacher_epochs: int | None = None,
    teacher_lr: float = 1e-2,
    test_size: float = 0.3,
    train_size: int | float | None = None,
    exclude_test_ids: bool = True,
    random_state: int = 0,
    device: str = "auto",
    n_threads: int | None = 1,
    keep_models: bool = False,
    progress: bool = False,
    seed: int | None = None,
) -> DistillResult:
    """Distil ``teacher`` into ``student`` with ``method`` and measure the student's accuracy.

    Parameters
    ----------
    bundle : ModalityBundle
    student, teacher : str
        Modality names (different).
    method : {"class-align", "ucmkd", "align", "none", "logit-kd", "feature-kd"}, default "class-align"
        See the module docstring. ``logit-kd`` / ``feature-kd`` need paired samples and raise
        :class:`~cchkit.exceptions.NotPairedError` without them.
    epochs, batch_size : int
        Student training epochs and mini-batch size (teacher batches have the same size).
    min_steps : int, default 300
        Floor on the student's optimisation steps: the epochs are raised to
        ``ceil(min_steps / batches per epoch)`` when a small training split would otherwise
        give few SGD steps (10 labelled samples per class: 30 epochs are 30 steps, and a "gain"
        is then an optimisation artefact). Every method gets the same number of steps.
    val_size : float, default 0.2
        Share of the student's *training* split held out as a validation split (stratified,
        seeded by ``seed``, the same for every method); the student's weights are those of the
        epoch with the best validation accuracy (the earliest on ties), for every method, ``none``
        included. The test split is never looked at before the end. 0 keeps the last epoch.
    feat_dim, hidden : int
        Dimension of the shared feature space Z; hidden width(s) of both MLP encoders.
    lambda1, lambda2 : float
        ``align``: weights of FA and LA. ``logit-kd`` / ``feature-kd``: ``lambda1`` weighs the
        KD term.
    n1, n2 : int
        ``ucmkd``: inner steps on FA, then on LA.
    eps, cost :
        Sinkhorn regularisation and ground cost (see :func:`sinkhorn_alignment`).
    inner_lr, inner_weight_decay : float
        ``ucmkd`` inner AdamW (fresh state for each batch, as the public code). The paper uses
        1e-5..5e-5 on ResNets; on small tabular MLPs that leaves the copy unchanged, so the
        default is 1e-3 (measured; see the module docstring).
    lr, momentum, weight_decay, warmup_epochs, grad_clip :
        Outer SGD (all methods alike): warm-up then cosine decay, L2 weight decay (torch's SGD
        ``weight_decay``), gradient-norm clipping.
    temperature : float
        ``logit-kd`` temperature T.
    teacher_grad : bool, default False
        ``ucmkd`` / ``align`` label alignment: False is the public code's stop-gradient (its
        gradient is the cross-entropy's); True is the paper's form, whose gradient through the
        frozen teacher head *lowers* p_T(y | z) and moves the student's features away from the
        teacher's class (measured on mfeat: the teacher head on the student's test features
        scored 0.074, below chance 0.10, against 0.145 without KD).
    class_matched : bool, default False
        ``ucmkd`` / ``align``: draw each teacher batch with the student batch's class histogram.
    class_targets : {"mean", "sample"}, default "mean"
        ``class-align`` soft targets: the teacher's class-mean softened prediction
        (:func:`~cchkit.distill.losses.class_soft_targets`), or the softened prediction of a
        teacher sample of the same class drawn at random for each student sample.
    lambda_fa : float, default 0
        ``class-align``: weight of the class-conditional Sinkhorn feature alignment between the
        student's features mapped by a learned linear map into the teacher's feature space and
        the teacher's features of the same class (0: off).
    teacher_epochs, teacher_lr :
        Teacher pre-training (AdamW, cosine); ``teacher_epochs`` defaults to ``epochs``.
    test_size : float
        Share of the student's samples held out (stratified); also the share of the teacher's
        samples held out for its test accuracy (at least; see the module docstring).
    train_size : int, float or None, default None
        Size of the student's training split instead: a number of samples (int) or a share
        (float); the student's test split is then all the other samples, and ``test_size``
        still sets the teacher's held-out share. For data-starved students (a few labelled
        samples per class, a large test split) while the teacher keeps most of its own data.
        None: the split is set by ``test_size``.
    exclude_test_ids : bool, default True
        Hold out from teacher training the teacher samples whose ids are in the student's test
        split (leakage guard for paired data).
    random_state : int
        Seeds everything: split, inits, batch order. The same seed gives the same numbers on CPU.
    seed : int, optional
        Deprecated name of ``random_state``.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``.
    n_threads : int or None, default 1
        torch intra-op threads during the call (restored afterwards); one thread is fastest
        for these small batches. None leaves torch's setting alone.
    keep_models : bool, default False
        Keep the trained student and the frozen teacher in ``result.models``.
    progress : bool
        A tqdm bar over epochs on stderr.

    Returns
    -------
    DistillResult
    """
    t0 = time.perf_counter()
    if seed is not None:  # the old name of random_state (before 0.2)
        warnings.warn("distill(seed=...) is deprecated; use random_state=...", DeprecationWarning, stacklevel=3)
        random_state = seed
    params = dict(
        method=method, epochs=epochs, batch_size=batch_size, feat_dim=feat_dim,
        hidden=list(hidden) if not isinstance(hidden, int) else hidden, lambda1=lambda1, lambda2=lambda2,
        n1=n1, n2=n2, eps=eps, cost=cost, inner_lr=inner_lr, inner_weight_decay=inner_weight_decay, lr=lr,
        momentum=momentum, weight_decay=weight_decay, warmup_epochs=warmup_epochs, grad_clip=grad_clip,
        temperature=temperature,
        teacher_grad=teacher_grad, class_matched=class_matched, class_targets=class_targets, lambda_fa=lambda_fa,
        min_steps=min_steps, val_size=val_size, teacher_epochs=teacher_epochs,
        teacher_lr=teacher_lr, test_size=test_size, train_size=train_size, exclude_test_ids=exclude_test_ids,
        random_state=random_state,
    )
    _check_params(bundle, student, teacher)
    dev = resolve_device(device)
    warmup = max(1, epochs // 10) if warmup_epochs is None else int(warmup_epochs)
    params["warmup_epochs"] = warmup
    t_epochs = epochs if teacher_epochs is None else int(teacher_epochs)
    params["teacher_epochs"] = t_epochs
    s_split, s_fill, s_tinit, s_tbatch, s_sinit, s_sbatch, s_tdraw, s_val = _sub_seeds(random_state, 8)
    n_classes = int(bundle.n_classes)

    with torch_threads(n_threads if dev.type == "cpu" else None):
        d = _prepare(bundle, student, teacher, test_size=test_size, split_seed=s_split, fill_seed=s_fill,
                     paired=method in PAIRED_METHODS, exclude_test_ids=exclude_test_ids, device=dev,
                     train_size=train_size, val_size=val_size, val_seed=s_val)
        tnet, t_curve = _teacher(d.xt_tr, d.yt_tr, n_classes, feat_dim=feat_dim, hidden=hidden, epochs=t_epochs,
                                 batch_size=batch_size, lr=teacher_lr, seed=s_tinit)
        t_acc = accuracy(tnet, d.xt_te, d.yt_te)
        ctx = _teacher_context(tnet, d, method, n_classes, temperature, dev)
        run = _StudentRun.build(d, n_classes, params, seeds=(s_sinit, s_sbatch), dev=dev)
        params["run_epochs"] = run.epochs
        t_batcher = _TeacherBatcher(d.yt_tr_np, n_classes, np.random.default_rng(s_tdraw), class_matched)
        step_args = dict(method=method, snet=run.snet, names=run.names, tnet=tnet, ctx=ctx, t_batcher=t_batcher,
                         d=d, dev=dev, mapper=run.mapper, hp=params)
        curve = _train_student(run, d, step_args, desc=f"{method} {teacher}->{student}", progress=progress)
        params["best_epoch"] = run.best.epoch if run.best.epoch is not None else run.epochs
        snet = run.snet
        snet.eval()
        final = accuracy(snet, d.xs_te, d.ys_te)
    secs = time.perf_counter() - t0
    logger.info("distill %s %s->%s seed %d: student acc %.4f, teacher acc %.4f (%.2fs)", method, teacher, student,
                random_state, final, t_acc, secs)
    return DistillResult(
        student=student, teacher=teacher, method=method, seed=int(random_state), accuracy=final, teacher_accuracy=t_acc,
        curve=curve, seconds=secs, params=params, n_train=int(d.xs_tr.shape[0]), n_test=int(d.xs_te.shape[0]),
        n_teacher_train=int(d.xt_tr.shape[0]), n_teacher_test=int(d.xt_te.shape[0]), n_pairs=ctx.n_pairs,
        teacher_curve=t_curve, test_ids=np.asarray(d.test_ids), n_val=int(d.xs_val.shape[0]),
        models={"student": snet, "teacher": tnet} if keep_models else None,
    )


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
class _StudentRun:
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
    def build(cls, d: _Prepared, n_classes: int, hp: dict[str, Any], *, seeds: tuple[int, int], dev: Any) -> _StudentRun:
        """The student network (seed ``seeds[0]``), its SGD optimiser and its batch order
        (seed ``seeds[1]``); epochs are raised so that training takes ``min_steps`` steps."""
        s_init, s_batch = seeds
        feat_dim = hp["feat_dim"]
        snet = build_net(d.xs_tr.shape[1], n_classes, feat_dim=feat_dim, hidden=hp["hidden"], seed=s_init).to(dev)
        snet.train()
        mapper = None
        if hp["method"] == "class-align" and hp["lambda_fa"] > 0:  # student features -> the teacher's space
            with seeded(s_init + 1):  # the caller's global generator is left as it was
                mapper = torch.nn.Linear(feat_dim, feat_dim).to(dev)
        s_params = list(snet.parameters()) + (list(mapper.parameters()) if mapper is not None else [])
        n = d.xs_tr.shape[0]
        n_batches = max(1, int(math.ceil(n / hp["batch_size"])))
        return cls(
            snet=snet, mapper=mapper, params=s_params, names=[name for name, _ in snet.named_parameters()],
            opt=torch.optim.SGD(s_params, lr=hp["lr"], momentum=hp["momentum"], weight_decay=hp["weight_decay"]),
            rng=np.random.default_rng(s_batch),
            n=n, batch_size=hp["batch_size"], n_batches=n_batches,
            epochs=max(int(hp["epochs"]), int(math.ceil(hp["min_steps"] / n_batches))),
            warmup_steps=hp["warmup_epochs"] * n_batches, lr=hp["lr"], grad_clip=hp["grad_clip"],
            best=_BestEpoch(d.xs_val.shape[0] > 0),
        )

    def epoch(self, step_args: dict[str, Any]) -> tuple[dict[str, float], int, float]:
        """One pass over the student's training samples: loss terms, correct count, last lr."""
        perm = self.rng.permutation(self.n)
        sums = {"loss": 0.0, "ce": 0.0, "fa": 0.0, "la": 0.0, "kd": 0.0}
        correct, cur_lr = 0, self.lr
        for k in range(self.n_batches):
            bidx_np = perm[k * self.batch_size : (k + 1) * self.batch_size]
            cur_lr = _lr_at(self.step, self.epochs * self.n_batches, self.warmup_steps, self.lr)
            for g in self.opt.param_groups:
                g["lr"] = cur_lr
            self.opt.zero_grad(set_to_none=True)
            terms, logits, yb = _batch_step(bidx_np, **step_args)
            if self.grad_clip and self.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.params, max_norm=self.grad_clip)
            self.opt.step()
            self.step += 1
            w = bidx_np.shape[0] / self.n
            for key in sums:
                sums[key] += terms[key] * w
            correct += int((logits.detach().argmax(1) == yb).sum())
        return sums, correct, cur_lr


def _train_student(run: _StudentRun, d: _Prepared, step_args: dict[str, Any], *, desc: str,
                   progress: bool) -> list[dict[str, float]]:
    """All epochs, the best validation epoch restored at the end; returns the curve."""
    from tqdm.auto import tqdm

    curve: list[dict[str, float]] = []
    bar = tqdm(range(run.epochs), desc=desc, file=sys.stderr, disable=not progress, leave=False)
    for epoch in bar:
        sums, correct, cur_lr = run.epoch(step_args)
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
class _TeacherContext:
    """What the frozen teacher provides to the student's steps, computed once per run."""

    zt_tr: torch.Tensor  # teacher features of its training samples
    lt_tr: torch.Tensor  # teacher logits of its training samples
    class_targets: torch.Tensor | None  # (C, C) class-mean soft labels (class-align)
    zt_pair: torch.Tensor | None = None  # paired methods: teacher features / logits per student row
    lt_pair: torch.Tensor | None = None
    pair_mask: torch.Tensor | None = None
    n_pairs: int = 0


def _teacher_context(tnet: KDNet, d: _Prepared, method: str, n_classes: int, temperature: float,
                     dev: torch.device) -> _TeacherContext:
    with torch.no_grad():
        zt_tr, lt_tr = tnet(d.xt_tr)
        ctx = _TeacherContext(zt_tr=zt_tr, lt_tr=lt_tr, class_targets=None)
        if method == "class-align":
            ctx.class_targets = class_soft_targets(lt_tr, d.yt_tr, n_classes, T=temperature)
        if method in PAIRED_METHODS:
            assert d.pair_rows is not None and d.xt_all is not None
            rows = torch.as_tensor(np.maximum(d.pair_rows, 0), device=dev)
            ctx.zt_pair, ctx.lt_pair = tnet(d.xt_all[rows])
            ctx.n_pairs = int((d.pair_rows >= 0).sum())
            ctx.pair_mask = torch.as_tensor(d.pair_rows >= 0, device=dev)
    return ctx


def _batch_step(bidx_np: np.ndarray, *, method: str, snet: KDNet, names: list[str], tnet: KDNet,
                ctx: _TeacherContext, t_batcher: _TeacherBatcher, d: _Prepared, dev: torch.device,
                mapper: torch.nn.Module | None, hp: dict[str, Any]) -> tuple[dict[str, float], torch.Tensor, torch.Tensor]:
    """The loss of one student mini-batch for ``method``, back-propagated into the student."""
    nan = float("nan")
    bidx = torch.as_tensor(bidx_np, device=dev)
    xb, yb = d.xs_tr[bidx], d.ys_tr[bidx]
    if method == "ucmkd":
        tb = torch.as_tensor(t_batcher.draw(d.ys_tr_np[bidx_np]), device=dev)
        ce, logits, fa, la = _ucmkd_step(snet, names, tnet, xb, yb, ctx.zt_tr[tb], n1=hp["n1"], n2=hp["n2"],
                                         eps=hp["eps"], cost=hp["cost"], inner_lr=hp["inner_lr"],
                                         inner_wd=hp["inner_weight_decay"], teacher_grad=hp["teacher_grad"])
        return {"loss": ce, "ce": ce, "fa": fa, "la": la, "kd": nan}, logits, yb
    z, logits = snet(xb)
    ce_t = F.cross_entropy(logits, yb)
    loss, terms = ce_t, {"fa": nan, "la": nan, "kd": nan}
    if method == "class-align":
        loss, terms = _class_align_loss(ce_t, z, logits, yb, bidx_np, ctx, t_batcher, d, dev, mapper, hp)
    elif method == "align":
        tb = torch.as_tensor(t_batcher.draw(d.ys_tr_np[bidx_np]), device=dev)
        fa_t = sinkhorn_alignment(z, ctx.zt_tr[tb], eps=hp["eps"], cost=hp["cost"])
        la_t = label_alignment(logits, tnet.head(z), yb, teacher_grad=hp["teacher_grad"])
        loss = ce_t + hp["lambda1"] * fa_t + hp["lambda2"] * la_t
        terms.update(fa=float(fa_t.detach()), la=float(la_t.detach()))
    elif method in PAIRED_METHODS:
        assert ctx.pair_mask is not None and ctx.zt_pair is not None and ctx.lt_pair is not None
        m = ctx.pair_mask[bidx]
        terms["kd"] = 0.0
        if bool(m.any()):
            if method == "logit-kd":
                kd_t = vanilla_kd(logits[m], ctx.lt_pair[bidx][m], T=hp["temperature"])
            else:
                kd_t = feature_kd(z[m], ctx.zt_pair[bidx][m])
            loss = ce_t + hp["lambda1"] * kd_t
            terms["kd"] = float(kd_t.detach())
    loss.backward()
    return {"loss": float(loss.detach()), "ce": float(ce_t.detach()), **terms}, logits, yb


def _class_align_loss(ce_t, z, logits, yb, bidx_np, ctx, t_batcher, d, dev, mapper, hp):  # noqa: ANN001, ANN202
    """``CE + lambda1 * class-conditional KD (+ lambda_fa * class-conditional FA)``; no pairs used."""
    T = hp["temperature"]
    terms = {"fa": float("nan"), "la": float("nan"), "kd": float("nan")}
    tb = None
    if hp["class_targets"] == "mean":
        targets = ctx.class_targets[yb]
    else:
        tb = torch.as_tensor(t_batcher.draw_aligned(d.ys_tr_np[bidx_np]), device=dev)
        targets = F.softmax(ctx.lt_tr[tb] / T, dim=1)
    kd_t = class_conditional_kd(logits, targets, T=T)
    loss = ce_t + hp["lambda1"] * kd_t
    terms["kd"] = float(kd_t.detach())
    if mapper is not None:
        if tb is None:
            tb = torch.as_tensor(t_batcher.draw_aligned(d.ys_tr_np[bidx_np]), device=dev)
        fa_t = class_conditional_alignment(mapper(z), yb, ctx.zt_tr[tb], d.yt_tr[tb], eps=hp["eps"], cost=hp["cost"])
        loss = loss + hp["lambda_fa"] * fa_t
        terms["fa"] = float(fa_t.detach())
    return loss, terms


def _ucmkd_step(snet: KDNet, names: list[str], tnet: KDNet, xb: torch.Tensor, yb: torch.Tensor, zt_b: torch.Tensor, *,
                n1: int, n2: int, eps: float, cost: str, inner_lr: float, inner_wd: float,
                teacher_grad: bool) -> tuple[float, torch.Tensor, float, float]:
    """One first-order bilevel step; writes the outer gradient into ``snet``'s ``.grad``.

    The copy is a list of detached clones of the student's parameters, run functionally
    (cheaper than ``deepcopy``); its inner optimiser is a fresh AdamW for every batch (shared by
    the FA and LA steps), as in the public code.
    """
    fast = [p.detach().clone().requires_grad_(True) for p in snet.parameters()]
    state: dict[str, Any] = {}
    fa_v = la_v = float("nan")

    def fwd(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return _functional_forward(snet, fast, x)

    for _ in range(n1):
        z, _ = fwd(xb)
        fa = sinkhorn_alignment(z, zt_b, eps=eps, cost=cost)  # type: ignore[arg-type]
        grads = torch.autograd.grad(fa, fast, allow_unused=True)
        adamw_step(fast, list(grads), state, lr=inner_lr, weight_decay=inner_wd)
        fa_v = float(fa.detach())
    for _ in range(n2):
        z, logits = fwd(xb)
        la = label_alignment(logits, tnet.head(z), yb, teacher_grad=teacher_grad)
        grads = torch.autograd.grad(la, fast, allow_unused=True)
        adamw_step(fast, list(grads), state, lr=inner_lr, weight_decay=inner_wd)
        la_v = float(la.detach())
    _, logits = fwd(xb)
    ce = F.cross_entropy(logits, yb)
    grads = torch.autograd.grad(ce, fast, allow_unused=True)
    for p, g in zip(snet.parameters(), grads):
        p.grad = None if g is None else g.detach()
    return float(ce.detach()), logits, fa_v, la_v


def _check_params(bundle: Any, student: str, teacher: str) -> None:
    """The modalities exist and differ (the settings are checked by :func:`validate_params`)."""
    bundle.modality(student)
    bundle.modality(teacher)
    if student == teacher:
        raise InputError(f"student and teacher are the same modality ({student!r}); pick two different ones.")


# ----------------------------------------------------------------------------- for stacked training
@dataclass(frozen=True)
class TeacherTargets:
    """What one frozen teacher gives the students of one seed: its test accuracy, its logits on
    its own training rows (whose class means at a temperature are ``class-align``'s targets) and,
    where the data are paired, its logits per student fit row with the mask of rows that have a
    pair (``logit-kd``; ``pair_error`` says why not)."""

    accuracy: float
    logits: torch.Tensor  # on the teacher's own training rows
    labels: torch.Tensor
    n_classes: int
    pair_logits: torch.Tensor | None
    pair_mask: torch.Tensor | None
    pair_error: str = ""

    def class_targets(self, temperature: float) -> torch.Tensor:
        """The class-mean soft targets at ``temperature`` (see :func:`class_soft_targets`)."""
        return class_soft_targets(self.logits, self.labels, self.n_classes, T=temperature)


@dataclass(frozen=True)
class PreparedSeed:
    """One seed's student split (as :class:`~cchkit.distill.batched.StudentData`), the student's
    initialisation and batch seeds, and every teacher's targets: what :func:`distill` would use
    for that seed, for stacked training."""

    data: Any
    init_seed: int
    batch_seed: int
    teachers: dict[str, TeacherTargets]
    failed: dict[str, str] = field(default_factory=dict)  # teacher -> why it could not be prepared


@dataclass(frozen=True)
class SplitSettings:
    """How :func:`prepare_seed` / :func:`prepare_seeds` split the data and train the teachers
    (the :func:`distill` settings of the same names)."""

    epochs: int = 30
    teacher_epochs: int | None = None
    batch_size: int = 64
    feat_dim: int = 32
    hidden: int | Sequence[int] = 64
    teacher_lr: float = 1e-2
    test_size: float = 0.3
    train_size: int | float | None = None
    val_size: float = 0.2
    exclude_test_ids: bool = True
    device: str = "auto"

    @property
    def t_epochs(self) -> int:
        return self.epochs if self.teacher_epochs is None else int(self.teacher_epochs)


def _seed_split(bundle: Any, student: str, teacher: str, random_state: int, paired: bool,
                st: SplitSettings) -> tuple[_Prepared, str]:
    """One seed's prepared data for a (student, teacher) pair, with the pairs where asked for
    and available (else the reason in the second value)."""
    _check_params(bundle, student, teacher)
    s_split, s_fill, *_, s_val = _sub_seeds(random_state, 8)
    kw = dict(test_size=st.test_size, split_seed=s_split, fill_seed=s_fill, exclude_test_ids=st.exclude_test_ids,
              device=resolve_device(st.device), train_size=st.train_size, val_size=st.val_size, val_seed=s_val)
    if paired:
        try:
            return _prepare(bundle, student, teacher, paired=True, **kw), ""
        except NotPairedError as exc:
            return _prepare(bundle, student, teacher, paired=False, **kw), f"NotPairedError: {exc}"
    return _prepare(bundle, student, teacher, paired=False, **kw), ""


def _targets(tnet: KDNet, d: _Prepared, pair_error: str, n_classes: int) -> TeacherTargets:
    ctx = _teacher_context(tnet, d, "logit-kd" if d.pair_rows is not None else "none", n_classes, 1.0, d.xt_tr.device)
    return TeacherTargets(accuracy=accuracy(tnet, d.xt_te, d.yt_te), logits=ctx.lt_tr, labels=d.yt_tr,
                          n_classes=n_classes, pair_logits=ctx.lt_pair, pair_mask=ctx.pair_mask, pair_error=pair_error)


def _prepared_seed(random_state: int, splits: dict[str, tuple[_Prepared, str]], nets: dict[str, KDNet],
                   n_classes: int) -> PreparedSeed:
    from .batched import StudentData

    d = next(iter(splits.values()))[0]
    *_, s_sinit, s_sbatch, _, _ = _sub_seeds(random_state, 8)
    return PreparedSeed(data=StudentData(d.xs_tr, d.ys_tr, d.xs_val, d.ys_val, d.xs_te, d.ys_te), init_seed=s_sinit,
                        batch_seed=s_sbatch,
                        teachers={t: _targets(nets[t], dt, err, n_classes) for t, (dt, err) in splits.items()})


def prepare_seed(bundle: Any, student: str, teachers: Sequence[str], random_state: int, *, paired: bool,
                 **settings: Any) -> PreparedSeed:
    """The split, seeds and teacher targets of ``random_state`` exactly as :func:`distill` makes
    them (each teacher trained alone, as :func:`distill` trains it); ``settings`` are
    :class:`SplitSettings`."""
    st = SplitSettings(**settings)
    n_classes = int(bundle.n_classes)
    splits = {t: _seed_split(bundle, student, t, random_state, paired, st) for t in teachers}
    s_tinit = _sub_seeds(random_state, 8)[2]
    nets = {t: _teacher(d.xt_tr, d.yt_tr, n_classes, feat_dim=st.feat_dim, hidden=st.hidden, epochs=st.t_epochs,
                        batch_size=st.batch_size, lr=st.teacher_lr, seed=s_tinit)[0] for t, (d, _) in splits.items()}
    return _prepared_seed(random_state, splits, nets, n_classes)


def prepare_seeds(bundle: Any, student: str, teachers: Sequence[str], seeds: Sequence[int], *, paired: bool,
                  **settings: Any) -> dict[int, PreparedSeed]:
    """:func:`prepare_seed` for many seeds, with every teacher modality's networks of all the
    seeds pre-trained as one stack (:func:`~cchkit.distill.batched.train_teachers`; the same
    weights as one by one, to float precision)."""
    from .batched import TeacherJob, train_teachers

    st = SplitSettings(**settings)
    n_classes = int(bundle.n_classes)
    splits, failed = _splits_or_errors(bundle, student, teachers, seeds, paired, st)
    nets: dict[int, dict[str, KDNet]] = {s: {} for s in seeds}
    for t in teachers:
        rows = {s: splits[s][t][0].xt_tr.shape[0] for s in seeds if t in splits[s]}
        for size in dict.fromkeys(rows.values()):  # one stack per training-split size
            group = [s for s in rows if rows[s] == size]
            jobs = [TeacherJob(splits[s][t][0].xt_tr, splits[s][t][0].yt_tr, _sub_seeds(s, 8)[2]) for s in group]
            trained = train_teachers(jobs, n_classes=n_classes, hidden=st.hidden, feat_dim=st.feat_dim,
                                     epochs=st.t_epochs, batch_size=st.batch_size, lr=st.teacher_lr)
            for s, params in zip(group, trained):
                net = build_net(jobs[0].x.shape[1], n_classes, feat_dim=st.feat_dim, hidden=st.hidden, seed=0)
                with torch.no_grad():
                    for p, q in zip(net.parameters(), params):
                        p.copy_(q)
                nets[s][t] = freeze(net.to(jobs[0].x.device))
    out = {}
    for s in seeds:
        if splits[s]:
            out[s] = replace(_prepared_seed(s, splits[s], nets[s], n_classes), failed=failed[s])
        else:  # no teacher could be prepared for this seed: nothing to train
            out[s] = PreparedSeed(data=None, init_seed=0, batch_seed=0, teachers={}, failed=failed[s])
    return out


def _splits_or_errors(bundle: Any, student: str, teachers: Sequence[str], seeds: Sequence[int], paired: bool,
                      st: SplitSettings) -> tuple[dict[int, dict[str, tuple[_Prepared, str]]], dict[int, dict[str, str]]]:
    """Each seed's prepared data per teacher; a teacher that the input rules out for a seed (one
    class in its split, say) is recorded with its reason instead of stopping the others."""
    splits: dict[int, dict[str, tuple[_Prepared, str]]] = {s: {} for s in seeds}
    failed: dict[int, dict[str, str]] = {s: {} for s in seeds}
    for s in seeds:
        for t in teachers:
            try:
                splits[s][t] = _seed_split(bundle, student, t, s, paired, st)
            except CchkitError as exc:
                failed[s][t] = f"{type(exc).__name__}: {exc}"
    return splits, failed
