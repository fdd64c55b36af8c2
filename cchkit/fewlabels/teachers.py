"""The teachers of one seed: which labelled rows each may learn from, its placebo, its training.

A teacher is a softmax regression on its own modality (weight decay :data:`TEACHER_DECAY`),
one per student fold (a fold's held-out samples and the test samples are never among its
training rows), and beside each a *placebo*: the same model on the same rows with the labels
permuted, so that what a teacher's gain owes to a teacher-shaped target and not to what the
teacher knows can be measured. Its cross-validated accuracy on its own training rows is the
``teacher_cv_accuracy`` criterion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import UNLABELED
from ..exceptions import InputError
from .objectives import TeacherView
from .regime import CV_FOLDS, SeedPlan
from .stack import Member, train_members

__all__ = ["TEACHER_DECAY", "SeedTeachers", "fit_teachers", "teacher_rows"]

#: The teachers' weight decay (softmax regression on standardised features).
TEACHER_DECAY = 1e-3


def _standardised(x: np.ndarray, fit_rows: np.ndarray) -> np.ndarray:
    mu = x[fit_rows].mean(axis=0)
    sd = x[fit_rows].std(axis=0)
    return (x - mu) / np.where(sd > 0, sd, 1.0)


@dataclass(frozen=True)
class SeedTeachers:
    """Per fold key (``None`` = the final fit) and placebo flag, the teacher's view for the
    student's rows; and the teacher's cross-validated accuracy."""

    views: dict[tuple[int | None, bool], TeacherView]
    cv_accuracy: float
    n_train: int


def teacher_rows(labels_t: np.ndarray, ids_t: np.ndarray, ids_s: np.ndarray, labels_s: np.ndarray,
                 plan: SeedPlan, fold: int | None, mode: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The teacher's training rows for one student fold and their labels.

    ``same``: the teacher rows paired with the student's labelled training samples, with the
    student's labels (without pairs: as many rows per class, drawn from the teacher's labelled
    rows); ``own``: every labelled teacher row. Rows of the student's test samples and of the
    fold's held-out samples are never included.
    """
    barred = set(ids_s[plan.test].tolist())
    if fold is not None:
        barred |= set(ids_s[plan.folds[fold]].tolist())
    allowed = ~pd.Index(ids_t).isin(list(barred)) if barred else np.ones(ids_t.size, bool)
    if mode == "own":
        rows = np.flatnonzero(allowed & (labels_t != UNLABELED))
        return rows, labels_t[rows]
    train_s = plan.fold_train(fold)
    pos = pd.Index(ids_t).get_indexer(ids_s[train_s])
    if (pos >= 0).sum() >= train_s.size // 2:  # paired: the same samples, the same labels
        keep = pos >= 0
        return pos[keep], labels_s[train_s][keep]
    rows = []
    for c, count in zip(*np.unique(labels_s[train_s], return_counts=True)):
        pool = np.flatnonzero(allowed & (labels_t == c))
        rows.append(rng.permutation(pool)[:count])
    rows_a = np.sort(np.concatenate(rows))
    return rows_a, labels_t[rows_a]


def _cv_folds(y: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    counts = np.bincount(y)
    k = int(min(CV_FOLDS, counts[counts > 0].min()))
    fold_of = np.empty(y.size, dtype=int)
    for c in np.unique(y):
        pos = rng.permutation(np.flatnonzero(y == c))
        fold_of[pos] = np.arange(pos.size) % k
    return [np.flatnonzero(fold_of == f) for f in range(k)] if k >= 2 else []


def fit_teachers(x_t: np.ndarray, labels_t: np.ndarray, ids_t: np.ndarray, ids_s: np.ndarray, labels_s: np.ndarray,
                 student_rows: np.ndarray, plan: SeedPlan, n_classes: int, mode: str, name: str) -> SeedTeachers:
    """Train one seed's teachers of one modality (every student fold, real and placebo, and the
    cross-validation folds of the final teacher) as one stack; ``student_rows`` are the student
    rows (indices) the views are given for."""
    rng = np.random.default_rng([plan.seed, 1])
    keys = [*range(plan.n_folds), None]
    parts = {k: teacher_rows(labels_t, ids_t, ids_s, labels_s, plan, k, mode, rng) for k in keys}
    final_rows, final_y = parts[None]
    if np.unique(final_y).size < n_classes:
        raise InputError(f"teacher {name!r} has labelled rows of {np.unique(final_y).size} of the {n_classes} classes "
                         f"in seed {plan.seed} ({mode} labels); every class needs teacher labels.")
    n = ids_t.size
    # rows 0..n-1 carry the true labels, rows n..2n-1 the same features with permuted labels
    y_true = np.full(n, UNLABELED, dtype=np.int64)
    y_perm = np.full(n, UNLABELED, dtype=np.int64)
    for rows, y in parts.values():
        y_true[rows] = y
    y_perm[final_rows] = rng.permutation(final_y)
    # a fold's placebo labels are the final permutation restricted to the fold's rows
    test_ids = set(ids_s[plan.test].tolist())
    fit = np.flatnonzero(~pd.Index(ids_t).isin(list(test_ids))) if test_ids else np.arange(n)
    xs = _standardised(x_t, fit)
    x2 = np.concatenate([xs, xs])
    y2 = np.concatenate([y_true, y_perm])
    members, lab, ev = [], [], []
    for k in keys:
        rows, _ = parts[k]
        for placebo in (False, True):
            m = np.zeros(2 * n, bool)
            m[rows + (n if placebo else 0)] = True
            if placebo and not (y2[m] >= 0).all():
                m &= y2 >= 0
            members.append(Member("linear", "supervised", (), TEACHER_DECAY, k, name, placebo))
            lab.append(m)
            ev.append(np.zeros(2 * n, bool))
    cv = _cv_folds(final_y, rng)
    for f, held in enumerate(cv):
        tr = np.zeros(2 * n, bool)
        tr[final_rows] = True
        tr[final_rows[held]] = False
        e = np.zeros(2 * n, bool)
        e[final_rows[held]] = True
        members.append(Member("linear", "supervised", (), TEACHER_DECAY, 100 + f, name, False))
        lab.append(tr)
        ev.append(e)
    lab_a, ev_a = np.stack(lab), np.stack(ev)
    acc, _, logits = train_members(x2, y2, n_classes, members, lab_a, np.zeros_like(lab_a), ev_a, [None] * len(members),
                                seed=plan.seed)
    cv_acc = float(np.mean(acc[2 * len(keys):])) if cv else float("nan")
    pos = pd.Index(ids_t).get_indexer(ids_s[student_rows])
    views = {}
    for i, (k, placebo) in enumerate((k, p) for k in keys for p in (False, True)):
        z = logits[i, n:] if placebo else logits[i, :n]
        rows, _ = parts[k]
        y_used = (y_perm if placebo else y_true)[rows]
        on_rows = np.where((pos >= 0)[:, None], z[np.maximum(pos, 0)], 0.0)
        views[(k, placebo)] = TeacherView(on_rows, pos >= 0, tuple(z[rows[y_used == c]] for c in range(n_classes)))
    return SeedTeachers(views=views, cv_accuracy=cv_acc, n_train=int(final_rows.size))
