"""Data splits and pairing for the distiller: the student's (fit, validation, test) split, the
teacher's split with the leakage guard, the canonical teacher row order and the pairs.

Every split is a function of ``random_state`` through :func:`sub_seeds`, so that every method,
the linear probe and the stacked trainers see the same rows for a seed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._torch import to_tensor
from .._validation import standardize_fit
from .._warn import warn_user
from ..exceptions import BundleError, InputError, NotPairedError

logger = logging.getLogger("cchkit")

__all__ = ["MIN_TRAIN_PAIRS", "Prepared", "check_modalities", "prepare", "student_split", "sub_seeds"]

#: Fewest paired samples in the student's training split that the paired methods accept.
MIN_TRAIN_PAIRS = 10


def sub_seeds(seed: int, k: int) -> list[int]:
    ss = np.random.SeedSequence(int(seed))
    return [int(s.generate_state(1)[0] % (2**31 - 1)) for s in ss.spawn(k)]


def _stratified(idx: np.ndarray, labels: np.ndarray, seed: int, *, test_size: float | None = None,
                train_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A seeded split of ``idx``, stratified by ``labels[idx]`` when every class has 2 samples."""
    from sklearn.model_selection import train_test_split

    counts = np.bincount(labels[idx])
    stratify = labels[idx] if counts[counts > 0].min() >= 2 else None
    if stratify is None:
        warn_user("a student class has fewer than 2 samples; the split is not stratified.")
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
    subs = sub_seeds(random_state, 8)  # distill's sub-seeds: the split's is the first, validation's the last
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


@dataclass
class Prepared:
    """One run's data on the device: the student's fit / validation / test rows, the teacher's
    train / test rows (canonical order), and the pairs of the student's fit rows."""

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
        warn_user("teacher %r has no training sample of %d of the student's classes; those classes get no "
                       "teacher targets.", teacher, lacking.size)


def prepare(bundle: Any, student: str, teacher: str, *, test_size: float, split_seed: int, fill_seed: int,
            paired: bool, exclude_test_ids: bool, device: torch.device,
            train_size: int | float | None = None, val_size: float = 0.0, val_seed: int = 0) -> Prepared:
    """The standardised tensors of one (student, teacher) run: the student's split, the
    teacher's (with the student's test ids held out), and the pairs where asked for."""
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
    return Prepared(
        xs_tr=tt(xs[tr]), ys_tr=tl(S.labels[tr]), xs_te=tt(xs[te]), ys_te=tl(S.labels[te]),
        xs_val=tt(xs[val]), ys_val=tl(S.labels[val]),
        xt_tr=tt(xt[t_tr]), yt_tr=tl(t_lab[t_tr]), xt_te=tt(xt[t_te]), yt_te=tl(t_lab[t_te]),
        yt_tr_np=t_lab[t_tr], ys_tr_np=S.labels[tr], test_ids=S.ids[te], pair_rows=pair_rows, xt_all=xt_all,
    )




def check_modalities(bundle: Any, student: str, teacher: str) -> None:
    """The modalities exist and differ."""
    bundle.modality(student)
    bundle.modality(teacher)
    if student == teacher:
        raise InputError(f"student and teacher are the same modality ({student!r}); pick two different ones.")
