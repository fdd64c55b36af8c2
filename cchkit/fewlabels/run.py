"""One seed of a few-label validation: split, teachers, two stacked searches, chosen students.

Stage 1 trains the supervised student of every family over :data:`~.stack.WEIGHT_DECAYS`
and keeps, per family, the weight decay with the best cross-validated accuracy on the
labelled rows. Stage 2 trains every family, with its decay (and, as a setting, that decay
rescaled to every row too: :func:`decay_scales`), on every other teacher-free
objective and every teacher objective, with each teacher and its placebo, each over a grid of
the same size. Every (family, setting) is trained once per fold of the seed's plan (three
cross-validation folds with few labels, one validation split with many) and scored on the
fold's held-out labelled rows. A student of each kind is chosen by that score alone, so no
test row reaches a choice; the chosen setting's *final* fit, on every labelled row, is the
only one evaluated on the test rows. Only the chosen settings get a final fit, in a third
stack: fitting every setting beside its folds would cost a quarter more members with three
folds, for fits that are never tested.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from .._validation import UNLABELED
from .objectives import TeacherView, get_objective, teacher_free_objectives
from .regime import LabelRegime, SeedPlan, plan_seed
from .stack import FAMILIES, LABELLED_BATCH, WEIGHT_DECAYS, Member, train_members
from .teachers import SeedTeachers, fit_teachers

__all__ = ["SeedRows", "run_seed", "RUN_COLUMNS", "choose", "decay_scales", "RESCALE_DECAY"]

#: Columns of the raw runs (one row per trained member); ``fold`` -1 is the final fit.
RUN_COLUMNS = ["seed", "family", "objective", "setting", "weight_decay", "fold", "teacher", "placebo", "accuracy",
               "nll"]


@dataclass(frozen=True)
class SeedRows:
    """The student's rows of one seed, laid out as labelled, unlabeled, test."""

    plan: SeedPlan
    rows: np.ndarray
    x: np.ndarray
    y: np.ndarray

    @classmethod
    def build(cls, data: np.ndarray, labels: np.ndarray, plan: SeedPlan) -> SeedRows:
        rows = np.concatenate([plan.labelled, plan.unlabeled, plan.test])
        y = labels[rows].copy()
        n_l, n_u = plan.labelled.size, plan.unlabeled.size
        y[n_l:n_l + n_u] = UNLABELED  # a hidden label is gone, not merely unused
        x = data[rows]
        fit = x[: n_l + n_u]  # standardised with the training rows' moments (labelled and unlabeled)
        sd = fit.std(axis=0)
        return cls(plan, rows, (x - fit.mean(axis=0)) / np.where(sd > 0, sd, 1.0), y)

    def masks(self, fold: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(labelled, unlabeled, evaluated) row masks of a fold (None: the final fit, evaluated on the test rows)."""
        p = self.plan
        n, n_l, n_u = self.rows.size, p.labelled.size, p.unlabeled.size
        lab, unl, ev = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)
        lab[np.searchsorted(p.labelled, p.fold_train(fold))] = True
        unl[n_l:n_l + n_u] = True
        if fold is None:
            ev[n_l + n_u:] = True
        else:
            ev[np.searchsorted(p.labelled, p.folds[fold])] = True
        return lab, unl, ev


def _row(sr: SeedRows, m: Member, acc: float, nll: float) -> dict[str, Any]:
    return dict(seed=sr.plan.seed, family=m.family, objective=m.objective, setting=_setting_text(m),
                weight_decay=m.weight_decay, fold=-1 if m.fold is None else m.fold, teacher=m.teacher or "",
                placebo=m.placebo, accuracy=float(acc), nll=float(nll))


def _setting_text(m: Member) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in m.setting) or "-"


def _train(sr: SeedRows, n_classes: int, members: list[Member], views: list[TeacherView | None]) -> pd.DataFrame:
    """Train ``members``; a row per member, scored on its fold's held-out rows (the test rows
    for a final fit). With many labels each step draws :data:`~.stack.LABELLED_BATCH` of them."""
    masks = [sr.masks(m.fold) for m in members]
    lab, unl, ev = (np.stack([mk[i] for mk in masks]) for i in range(3))
    search = not sr.plan.cross_validated and not all(m.fold is None for m in members)
    acc, nll, _ = train_members(sr.x, sr.y, n_classes, members, lab, unl, ev, views, seed=sr.plan.seed,
                                labelled_batch=LABELLED_BATCH if search else None)
    return pd.DataFrame([_row(sr, m, a, v) for m, a, v in zip(members, acc, nll)], columns=RUN_COLUMNS)


#: what a searched setting is: two objectives whose settings read alike are never pooled
_KEYS = ["family", "objective", "setting", "weight_decay"]


def _best(runs: pd.DataFrame) -> tuple[tuple[Any, ...], float]:
    folds = runs[runs["fold"] >= 0].groupby(_KEYS, sort=False)
    acc, nll = folds["accuracy"].mean(), folds["nll"].mean()
    top = acc[acc >= acc.max() - 1e-12].index
    best = nll.loc[top].idxmin()
    return best, float(acc.loc[best])


def best_setting(runs: pd.DataFrame) -> tuple[tuple[str, str, float], float]:
    """The (family, setting, weight decay) with the best mean accuracy over the held-out folds,
    and that accuracy; ties (frequent on a few held-out rows) go to the lower held-out negative
    log-likelihood, then to the first in the order trained (linear before mlp, a grid in its order)."""
    (family, _, setting, decay), acc = _best(runs)
    return (family, setting, decay), acc


def choose(runs: pd.DataFrame) -> pd.Series:
    """The final-fit row (tested) of :func:`best_setting`, with its ``cv_accuracy``."""
    best, cv = _best(runs)
    row = runs[(runs["fold"] < 0)].set_index(_KEYS).loc[best]
    row = row.iloc[0] if isinstance(row, pd.DataFrame) else row
    return pd.concat([row, pd.Series(dict(zip(_KEYS, best)) | {"cv_accuracy": cv})])


def _refit_chosen(sr: SeedRows, n_classes: int, runs: pd.DataFrame, searched: list[Member],
                  fitted: dict[str, SeedTeachers]) -> pd.DataFrame:
    """The final fit, on every labelled row, of each kind's chosen setting (a kind: an objective,
    with its teacher and placebo flag): the only fits tested."""
    index = {(m.family, m.objective, _setting_text(m), m.weight_decay, m.teacher or "", m.placebo): m for m in searched}
    members, views = [], []
    for (objective, teacher, placebo), g in runs.groupby(["objective", "teacher", "placebo"], sort=False):
        (fam, setting, wd), _ = best_setting(g)
        m = replace(index[(fam, objective, setting, wd, teacher, bool(placebo))], fold=None)
        members.append(m)
        views.append(fitted[teacher].views[(None, m.placebo)] if teacher else None)
    return _train(sr, n_classes, members, views)


#: Whether every objective but the supervised one also searches the decay rescaled to every row
#: (:func:`decay_scales`). Off: measured at 5 and 20 labels per class, it moved the gains by
#: less than a hundredth for two fifths more time (benchmarks/results/few_labels_decay_compare.md).
RESCALE_DECAY = False


def decay_scales(plan: SeedPlan) -> tuple[float, ...]:
    """The multiples of its family's supervised weight decay that every other objective searches.

    The supervised search fits the decay to the ``n_L`` labelled rows; an objective with a term on
    the ``n_U`` unlabeled rows (a teacher's targets, pseudo-labels) fits ``n_L + n_U`` rows, and a
    decay that is right for ``n_L`` rows over-regularises it (for a softmax regression, decay ``w``
    on ``n`` rows is scikit-learn's ``C = 1 / (w n)``: the same per-row strength on more rows is
    ``w n_L / (n_L + n_U)``). So where the seed has unlabeled rows each objective also tries that
    rescaled decay, chosen by the same held-out labelled rows; every objective, teacher-free and
    placebo included, searches the same two, so that no kind gets a larger search. With every row
    labelled there is nothing to rescale to. Only with :data:`RESCALE_DECAY`; else one decay.
    """
    n_l, n_u = plan.labelled.size, plan.unlabeled.size
    return (1.0, n_l / (n_l + n_u)) if RESCALE_DECAY and n_u else (1.0,)


def _members(objective: str, decay: dict[str, float], keys: list[int | None], teacher: str | None = None,
             placebo: bool = False, scales: Sequence[float] = (1.0,)) -> list[Member]:
    """Every (family, setting, decay, fold) of an objective; within a setting the family's own
    decay comes first, so that a tie goes to it (see :func:`best_setting`)."""
    obj = get_objective(objective)
    return [Member(fam, objective, tuple(setting.items()), decay[fam] * s, k, teacher, placebo)
            for fam in FAMILIES for setting in obj.grid for s in scales for k in keys]


def _stage_one(sr: SeedRows, n_classes: int, keys: list[int | None]) -> tuple[pd.DataFrame, list[Member], dict[str, float]]:
    """The supervised search: each family's weight decay, which its later students reuse (every
    family goes on: with a teacher's targets on many rows the best family is often another)."""
    members = [Member(fam, "supervised", (), wd, k) for fam in FAMILIES for wd in WEIGHT_DECAYS for k in keys]
    runs = _train(sr, n_classes, members, [None] * len(members))
    return runs, members, {fam: float(best_setting(runs[runs["family"] == fam])[0][2]) for fam in FAMILIES}


def run_seed(bundle: Any, student: str, teachers: Sequence[str], regime: LabelRegime, seed: int,
             objectives: Sequence[str], modes: dict[str, str]) -> tuple[pd.DataFrame, dict[str, SeedTeachers], SeedPlan]:
    """Every member of one seed: the raw runs, the teachers (for their criteria) and the split."""
    s = bundle.modality(student)
    n_classes = len(bundle.classes)
    plan = plan_seed(s.labels, bundle.classes, regime, seed)
    sr = SeedRows.build(s.data, s.labels, plan)
    keys = plan.search_keys
    runs1, members1, decay = _stage_one(sr, n_classes, keys)
    scales = decay_scales(plan)
    members: list[Member] = []
    views: list[TeacherView | None] = []
    for name in teacher_free_objectives():
        if name != "supervised" and (plan.unlabeled.size or not get_objective(name).needs_unlabeled):
            members += _members(name, decay, keys, scales=scales)
    views += [None] * len(members)
    fitted = {}
    for t in teachers:
        tm = bundle.modality(t)
        fitted[t] = fit_teachers(tm.data, tm.labels, tm.ids, s.ids, _student_labels(s.labels, plan), sr.rows, plan,
                                 n_classes, modes[t], t)
        for name in objectives:
            for placebo in (False, True):
                block = _members(name, decay, keys, t, placebo, scales)
                members += block
                views += [fitted[t].views[(m.fold, placebo)] for m in block]
    runs = pd.concat([runs1, _train(sr, n_classes, members, views)], ignore_index=True)
    runs = pd.concat([runs, _refit_chosen(sr, n_classes, runs, members1 + members, fitted)], ignore_index=True)
    return runs, fitted, plan


def _student_labels(labels: np.ndarray, plan: SeedPlan) -> np.ndarray:
    """The student's labels a teacher may see: those of the regime's labelled rows only."""
    out = np.full(labels.shape, UNLABELED, dtype=np.int64)
    out[plan.labelled] = labels[plan.labelled]
    return out
