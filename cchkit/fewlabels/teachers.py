"""The teachers of one seed: which labelled rows each may learn from, its placebo, its training.

A teacher is a model of its own modality (weight decay :data:`TEACHER_DECAY`), one per student
fold (a fold's held-out samples and the test samples are never among its training rows), and
beside each a *placebo*: the same model on the same rows with the labels permuted, so that what a
teacher's gain owes to a teacher-shaped target and not to what the teacher knows can be
measured. An ``own`` teacher, which learns from labelled rows of its modality that pair with the
student's unlabeled samples, is cross-fitted over those samples (:func:`withheld_chunks`). Its
family is chosen by cross-validation on the final teacher's training rows among
:data:`TEACHER_FAMILIES` (by default the softmax regression alone; with ``("linear", "mlp")``
also one hidden ReLU layer where every class has :data:`MLP_TEACHER_MIN_PER_CLASS` labelled
rows). The chosen family's cross-validated accuracy is the ``teacher_cv_accuracy`` criterion.

The hidden layer is not the default: with label-rich (``own``) teachers it raised the median
gain at 5 labels per class by 0.004 only, while a teacher of pure noise features, fitting its
own labels on the student's paired unlabeled rows, then passed those labels on and "helped"
(``benchmarks/results/few_labels_mlp_teachers.md``). A gain must be the modality's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validation import UNLABELED
from ..exceptions import InputError
from .objectives import TeacherView
from .regime import CV_FOLDS, SeedPlan
from .stack import Member, train_members

__all__ = ["TEACHER_DECAY", "TEACHER_FAMILIES", "CANDIDATE_FAMILIES", "MLP_TEACHER_MIN_PER_CLASS", "SeedTeachers", "fit_teachers",
           "chosen_family", "teacher_families", "teacher_rows",
           "OWN_CROSS_FIT", "withheld_chunks"]

#: The teachers' weight decay (on standardised features, either family).
TEACHER_DECAY = 1e-3

#: Every family a teacher may be (the stack's: softmax regression, one hidden ReLU layer), in the
#: order that breaks a tie of cross-validated accuracy (the simpler first).
CANDIDATE_FAMILIES = ("linear", "mlp")

#: The families the validation's teachers are chosen from (see the module docstring for why the
#: hidden layer is not among them by default; read when a teacher is fitted, so it can be set).
TEACHER_FAMILIES: tuple[str, ...] = ("linear",)

#: Labelled rows in every class from which the hidden-layer teacher is a candidate. With fewer, a
#: hidden layer seldom beats a linear model and the choice between them would mostly follow the
#: noise of a cross-validation on a few hundred rows; with 5 or 20 labels per class (``same``
#: teachers) the teacher stays linear.
MLP_TEACHER_MIN_PER_CLASS = 30

#: An ``own`` teacher is cross-fitted over the student's unlabeled samples in this many chunks:
#: its target on a sample comes from a teacher that never saw that sample's label. Trained on the
#: sample's own label, the teacher would hand the student, through the pair, the very label the
#: student lacks, and the "gain" would be that label's, not the teacher modality's. Below 2: no
#: cross-fitting (the in-sample teachers, kept only to measure what cross-fitting changes:
#: benchmarks/results/few_labels_crossfit_compare.md).
OWN_CROSS_FIT = 3


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
    family: str = "linear"
    cv_by_family: dict[str, float] = field(default_factory=dict)


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


def teacher_families(final_y: np.ndarray, n_classes: int) -> tuple[str, ...]:
    """The families a teacher's cross-validation chooses from: the hidden-layer one only where
    every class has :data:`MLP_TEACHER_MIN_PER_CLASS` labelled rows, and only where
    :data:`TEACHER_FAMILIES` has it."""
    counts = np.bincount(final_y, minlength=n_classes)
    return TEACHER_FAMILIES if counts.min() >= MLP_TEACHER_MIN_PER_CLASS else ("linear",)


def _cv_accuracies(x: np.ndarray, y: np.ndarray, final_rows: np.ndarray, final_y: np.ndarray, n_classes: int,
                   rng: np.random.Generator, seed: int, name: str) -> dict[str, float]:
    """Each candidate family's accuracy cross-validated on the final teacher's rows (NaN for
    the linear one alone where a class has a single row). ``x``, ``y``: the teacher's rows with
    their true labels only (the placebo's copy is not needed here)."""
    cv = _cv_folds(final_y, rng)
    if not cv:
        return {"linear": float("nan")}
    families = teacher_families(final_y, n_classes)
    held_out = np.zeros((len(cv), y.size), bool)
    for f, held in enumerate(cv):
        held_out[f, final_rows[held]] = True
    train = np.zeros(y.size, bool)
    train[final_rows] = True
    lab = np.tile(train & ~held_out, (len(families), 1))
    ev = np.tile(held_out, (len(families), 1))
    members = [Member(fam, "supervised", (), TEACHER_DECAY, 100 + f, name, False)
               for fam in families for f in range(len(cv))]
    acc, _, _ = train_members(x, y, n_classes, members, lab, np.zeros_like(lab), ev, [None] * len(members), seed=seed)
    k = len(cv)
    return {fam: float(np.mean(acc[i * k:(i + 1) * k])) for i, fam in enumerate(families)}


def chosen_family(cv: dict[str, float]) -> str:
    """The family with the best cross-validated accuracy; a tie goes to the simpler, listed first."""
    return max(cv, key=lambda fam: (cv[fam], -CANDIDATE_FAMILIES.index(fam)))


def withheld_chunks(ids_t: np.ndarray, ids_s: np.ndarray, plan: SeedPlan, mode: str) -> tuple[list[np.ndarray], np.ndarray]:
    """The cross-fitting of an ``own`` teacher: per chunk, the teacher rows its teacher must not
    train on (those paired with the chunk's unlabeled student samples); and each student row's
    chunk (-1: none). A ``same`` teacher never sees an unlabeled sample's label: one chunk,
    nothing withheld."""
    chunk_of = np.full(ids_s.size, -1)
    if mode != "own" or OWN_CROSS_FIT < 2 or plan.unlabeled.size < OWN_CROSS_FIT:
        return [np.zeros(0, dtype=np.int64)], chunk_of
    order = np.random.default_rng([plan.seed, 2]).permutation(plan.unlabeled)
    pos = pd.Index(ids_t).get_indexer(ids_s[order])
    chunks = []
    for j in range(OWN_CROSS_FIT):
        chunk_of[order[j::OWN_CROSS_FIT]] = j
        paired = pos[j::OWN_CROSS_FIT]
        chunks.append(paired[paired >= 0])
    if not sum(c.size for c in chunks):  # no unlabeled sample has a labelled pair: nothing to withhold
        return [np.zeros(0, dtype=np.int64)], np.full(ids_s.size, -1)
    return chunks, chunk_of


def _teacher_stack(keys: list[int | None], parts: dict[Any, tuple[np.ndarray, np.ndarray]], chunks: list[np.ndarray],
                   y2: np.ndarray, n: int, family: str, name: str) -> tuple[list[Member], np.ndarray, dict[Any, int]]:
    """One member per (student fold, chunk, placebo): the fold's rows without the chunk's, with
    the true labels (rows 0..n-1) or the permuted ones (rows n..2n-1); and each member's index
    by (fold key, chunk, placebo)."""
    members, lab, index = [], [], {}
    for k in keys:
        for j, withheld in enumerate(chunks):
            rows = np.setdiff1d(parts[k][0], withheld)
            for placebo in (False, True):
                m = np.zeros(2 * n, bool)
                m[rows + (n if placebo else 0)] = True
                if placebo and not (y2[m] >= 0).all():
                    m &= y2 >= 0
                index[(k, j, placebo)] = len(members)
                members.append(Member(family, "supervised", (), TEACHER_DECAY, k, name, placebo))
                lab.append(m)
    return members, np.stack(lab), index


def fit_teachers(x_t: np.ndarray, labels_t: np.ndarray, ids_t: np.ndarray, ids_s: np.ndarray, labels_s: np.ndarray,
                 student_rows: np.ndarray, plan: SeedPlan, n_classes: int, mode: str, name: str) -> SeedTeachers:
    """Train one seed's teachers of one modality: the cross-validation of the final teacher's
    rows chooses the family, then every student fold's teacher and placebo of that family train
    as one stack (an ``own`` teacher cross-fitted over the student's unlabeled samples,
    :func:`withheld_chunks`); ``student_rows`` are the student rows (indices) the views are given for."""
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
    cv = _cv_accuracies(xs, y_true, final_rows, final_y, n_classes, rng, plan.seed, name)
    family = chosen_family(cv)
    chunks, chunk_of = withheld_chunks(ids_t, ids_s, plan, mode)
    members, lab_a, index = _teacher_stack(keys, parts, chunks, y2, n, family, name)
    _, _, logits = train_members(x2, y2, n_classes, members, lab_a, np.zeros_like(lab_a), np.zeros_like(lab_a),
                                 [None] * len(members), seed=plan.seed)
    pos = pd.Index(ids_t).get_indexer(ids_s[student_rows])
    chunk_rows = chunk_of[student_rows]
    views = {}
    for k, placebo in ((k, p) for k in keys for p in (False, True)):
        half = slice(n, None) if placebo else slice(None, n)
        z_of = [logits[index[(k, j, placebo)], half] for j in range(len(chunks))]
        on_rows = np.where((pos >= 0)[:, None], z_of[0][np.maximum(pos, 0)], 0.0)
        for j in range(1, len(chunks)):
            here = (chunk_rows == j) & (pos >= 0)
            on_rows[here] = z_of[j][pos[here]]
        rows = np.setdiff1d(parts[k][0], chunks[0])
        y_used = (y_perm if placebo else y_true)[rows]
        views[(k, placebo)] = TeacherView(on_rows, pos >= 0, tuple(z_of[0][rows[y_used == c]] for c in range(n_classes)))
    return SeedTeachers(views=views, cv_accuracy=cv[family], n_train=int(final_rows.size), family=family,
                        cv_by_family=cv)
