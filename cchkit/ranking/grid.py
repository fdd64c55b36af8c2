"""The ranking's estimate grid: one :class:`Task` per MI term, run serially or in parallel.

The grid holds ``I(H_m; Y)`` once per modality, ``I(H_T; H_S)`` and ``I([H_T, H_S]; Y)`` once
per pair, and the variational bound on ``I(H_m; Y)`` once per modality (estimator-independent),
each for every encoder seed and fold. Tasks are independent, so any joblib backend (or Dask,
Ray; see :mod:`cchkit._backends`) runs them unchanged; a failed task returns its exception.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..cch import Term, combine_terms, discriminant_projection, estimate_terms
from ..estimators import MIEstimate, get_estimator_accepting
from ..estimators.variational import VariationalLabelMI
from ..exceptions import CchkitError
from ..representations import RepresentationSet

logger = logging.getLogger("cchkit")

__all__ = ["Task", "TaskKind", "EstimatorPlan", "grid_tasks", "run_task", "run_grid", "term_of"]

TaskKind = Literal["single", "pair", "bound"]
#: The estimates a pair task keeps (the single-modality label terms have tasks of their own).
PAIR_TERMS = ("teacher_student", "joint_label")


@dataclass(frozen=True)
class Task:
    """One MI computation of the grid.

    ``kind`` "single": I(H_m; Y) of modality ``key``; "pair": I(H_T; H_S) and I([H_T, H_S]; Y)
    of ``key = (teacher, student)``; "bound": the variational lower bound on I(H_m; Y).
    ``seed_index`` and ``fold`` select the representation; ``seed`` seeds the estimate.
    """

    kind: TaskKind
    key: str | tuple[str, str]
    estimator: str
    seed_index: int
    fold: int
    seed: int


@dataclass(frozen=True)
class EstimatorPlan:
    """How the grid builds its estimators.

    ``offered``: the ranking's shared options (``n_bootstrap``, ``device``...), given to each
    estimator whose constructor takes them; ``params``: the caller's own keyword arguments per
    estimator, every one of which must be accepted (checked before the grid runs).
    """

    offered: Mapping[str, Any]
    params: Mapping[str, Mapping[str, Any]]

    def build(self, name: str, seed: int) -> Any:
        """The estimator ``name`` for one task, seeded with the task's seed."""
        offered = {"progress": False, **self.offered, "random_state": seed}
        return get_estimator_accepting(name, offered, **self.params.get(name, {}))


def grid_tasks(estimators: Sequence[str], seeds: Sequence[int], reps: Sequence[RepresentationSet],
               names: Sequence[str], pairs: Sequence[tuple[str, str]]) -> list[Task]:
    """Every task: per estimator, seed and fold the singles and the pairs, then the bounds."""
    def folds(si: int) -> list[tuple[int, int]]:
        n_folds = len(reps[si].folds) if reps else 0
        return [(f, int(seeds[si] + 7919 * f) % (2**31 - 1)) for f in range(n_folds)]

    tasks = []
    for e in estimators:
        for si in range(len(seeds)):
            for f, sub in folds(si):
                tasks += [Task("single", m, e, si, f, sub) for m in names]
                tasks += [Task("pair", p, e, si, f, sub) for p in pairs]
    for si in range(len(seeds)):  # estimator-independent: once per modality and fold
        for f, sub in folds(si):
            tasks += [Task("bound", m, "variational", si, f, sub) for m in names]
    return tasks


def _label_input(h: Any, labels: Any, variant: str, seed: int) -> Any:
    """H as the label term sees it: projected on the discriminant space for ``matched``."""
    return discriminant_projection(h, labels, random_state=seed) if variant == "matched" else h


def run_task(task: Task, reps: Sequence[RepresentationSet], variant: str,
             plan: EstimatorPlan) -> tuple[Task, dict[str, MIEstimate] | Exception]:
    """One task's estimates by name; errors are returned, not raised."""
    rs = reps[task.seed_index]
    labels = rs.labels[task.fold]
    try:
        if task.kind == "bound":  # the variational lower bound on I(H_m; Y), on the same H as the label term
            h = _label_input(rs.folds[task.fold][task.key], labels, variant, task.seed)
            return task, {"label": VariationalLabelMI(random_state=task.seed).estimate(h, labels, discrete_y=True)}
        est = plan.build(task.estimator, task.seed)
        if task.kind == "pair":
            teacher, student = task.key
            folds = rs.folds[task.fold]
            return task, estimate_terms(est, folds[teacher], folds[student], labels, variant=variant,
                                        random_state=task.seed, terms=PAIR_TERMS)
        h = _label_input(rs.folds[task.fold][task.key], labels, variant, task.seed)
        return task, {"label": est.estimate(h, labels, discrete_y=True)}
    except CchkitError as exc:
        return task, exc
    except Exception as exc:  # a bug or numerical failure: record it in the row, keep the batch going
        logger.exception("task %s failed", task)
        return task, exc


def _run_chunk(chunk: list[Task], shared: tuple) -> list:
    reps, variant, plan = shared
    return [run_task(t, reps, variant, plan) for t in chunk]


def run_grid(tasks: list[Task], reps: Sequence[RepresentationSet], variant: str,
             plan: EstimatorPlan, *, n_jobs: int, bar: Any = None, backend: str = "loky",
             scheduler: str | None = None) -> dict[Task, Any]:
    """Task -> its estimates (or exception), in task order, serially or on ``backend``.

    ``bar`` (a tqdm bar or None) advances by one per task: as each ends when serial, at the end
    of the grid otherwise."""
    if not tasks:
        return {}
    if n_jobs == 1 and backend == "loky":
        out = []
        for t in tasks:
            out.append(run_task(t, reps, variant, plan))
            if bar is not None:
                bar.update()
    else:
        from .._backends import run_chunked

        out = run_chunked(_run_chunk, tasks, (reps, variant, plan), n_jobs=n_jobs, backend=backend,
                          scheduler=scheduler)
        if bar is not None:
            bar.update(len(tasks))
    return {task: res for task, res in out}


def term_of(results: Mapping[Task, Any], kind: TaskKind, key: Any, estimator: str, n_seeds: int,
            name: str) -> Term | Exception:
    """The :class:`~cchkit.cch.Term` combining one estimate over seeds and folds, or the first error."""
    groups: list[list[MIEstimate]] = [[] for _ in range(n_seeds)]
    for task, res in results.items():
        if task.kind == kind and task.key == key and task.estimator == estimator:
            if isinstance(res, Exception):
                return res
            groups[task.seed_index].append(res[name])
    return combine_terms(groups)
