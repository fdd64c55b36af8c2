"""One row of the ranking table: the CCH score of (teacher -> student) under one estimator,
with its interval, decision and the baseline criteria, from the grid's estimates."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._warn import warn_user
from ..bundle import ModalityBundle
from ..cch import Term, decide
from ..criteria import CriterionInputs, get_criterion, list_criteria
from ..representations import RepresentationSet
from .grid import Task, term_of
from .table import MIN_PAIRS_PER_DIM, TOO_FEW_PAIRS, ranking_columns

logger = logging.getLogger("cchkit")

__all__ = ["RowContext", "ranking_row", "consistent_label_terms"]


@dataclass(frozen=True)
class RowContext:
    """What every row of one ranking is built from."""

    results: Mapping[Task, Any]
    reps: Sequence[RepresentationSet]
    n_seeds: int
    failures: Mapping[tuple[str, str], str]
    representation: str
    variant: str
    n_pairs: int
    bundle: ModalityBundle
    label_floor: bool = True
    class_probs: Mapping[str, np.ndarray] | None = None


def _blank_row(s: str, t: str, e: str, ctx: RowContext) -> dict[str, Any]:
    row: dict[str, Any] = {c: np.nan for c in ranking_columns()}
    row.update(
        student=s, teacher=t, estimator=e, variant=ctx.variant, representation=ctx.representation,
        n_pairs=ctx.bundle.n_paired(s, t) if (s, t) in ctx.failures else ctx.n_pairs, decision="failed", consensus=None, estimators_disagree=False, error=None,
        bound=None, note=None, label_check=None,
    )
    return row


def _mean_over_seeds(reps: Sequence[RepresentationSet], attr: str, name: str) -> float:
    return float(np.mean([getattr(r, attr).get(name, np.nan) for r in reps]))


def ranking_row(s: str, t: str, e: str, ctx: RowContext) -> dict[str, Any]:
    """The row of student ``s``, teacher ``t`` and estimator ``e`` (``error`` set when it failed)."""
    row = _blank_row(s, t, e, ctx)
    if (s, t) in ctx.failures:
        row["error"] = ctx.failures[(s, t)]
        return row
    ts = term_of(ctx.results, "pair", (t, s), e, ctx.n_seeds, "teacher_student")
    sy = term_of(ctx.results, "single", s, e, ctx.n_seeds, "label")
    ty = term_of(ctx.results, "single", t, e, ctx.n_seeds, "label")
    jy = term_of(ctx.results, "pair", (t, s), e, ctx.n_seeds, "joint_label")
    for term in (ts, sy, ty, jy):
        if isinstance(term, Exception):
            row["error"] = f"{type(term).__name__}: {term}"
            return row
    sb = term_of(ctx.results, "bound", s, "variational", ctx.n_seeds, "label")
    tb = term_of(ctx.results, "bound", t, "variational", ctx.n_seeds, "label")
    sy, ty, checks = consistent_label_terms(s, t, sy, ty, sb, tb, floor=ctx.label_floor)
    if checks["label_check"] != "ok":
        warn_user("%s <- %s (%s): %s.", s, t, e, checks["label_check"])
    entropies = [np.nan if est.label_entropy is None else est.label_entropy for est in sy.estimates]
    row.update(
        i_teacher_student=ts.value, i_teacher_student_low=ts.low, i_teacher_student_high=ts.high,
        i_student_label=sy.value, i_student_label_low=max(sy.low, 0.0), i_student_label_high=sy.high,
        teacher_accuracy_on_x=_mean_over_seeds(ctx.reps, "accuracy_raw", t),
        student_accuracy_on_x=_mean_over_seeds(ctx.reps, "accuracy_raw", s),
        i_teacher_label_low=max(ty.low, 0.0), i_teacher_label_high=ty.high,
        i_joint_label=jy.value, i_joint_label_low=max(jy.low, 0.0), i_joint_label_high=jy.high,
        label_entropy=float(np.mean(entropies)), bound=ts.estimates[0].bound if ts.estimates else None,
    )
    inputs = CriterionInputs(
        i_teacher_student=ts, i_student_label=sy, i_teacher_label=ty, i_joint_label=jy,
        teacher_accuracy_on_h=_mean_over_seeds(ctx.reps, "accuracy", t),
        student_accuracy_on_h=_mean_over_seeds(ctx.reps, "accuracy", s),
        teacher_class_probs=(ctx.class_probs or {}).get(t), student_class_probs=(ctx.class_probs or {}).get(s),
        teacher_accuracy_on_x=row["teacher_accuracy_on_x"], student_accuracy_on_x=row["student_accuracy_on_x"],
        student_h=ctx.reps[0].folds[0][s] if ctx.reps else None,
        student_labels=ctx.reps[0].labels[0] if ctx.reps else None,
    )
    caveats = []
    for name in list_criteria():  # every registered criterion fills its own columns
        row.update(get_criterion(name).compute(inputs))
        caveats.append(get_criterion(name).caveat(inputs))
    row["decision"] = decide(row["cch_low"], row["cch_high"])
    _add_caveats(checks, [c for c in caveats if c], s, t, e)
    row.update(checks)
    _mark_too_few_pairs(row, s, t, ctx)
    return row


def _add_caveats(checks: dict[str, Any], caveats: list[str], s: str, t: str, e: str) -> None:
    """Criteria that corrected their value say so in ``label_check`` and in a log line."""
    if not caveats:
        return
    for c in caveats:
        warn_user("%s <- %s (%s): %s.", s, t, e, c)
    kept = [] if checks["label_check"] == "ok" else [checks["label_check"]]
    checks["label_check"] = "; ".join(kept + caveats)


def _mark_too_few_pairs(row: dict[str, Any], s: str, t: str, ctx: RowContext) -> None:
    """Below MIN_PAIRS_PER_DIM pairs per dimension a row is "inconclusive", with a note."""
    dims = ctx.reps[0].dim(t) + ctx.reps[0].dim(s)
    if ctx.n_pairs < MIN_PAIRS_PER_DIM * dims:
        row["decision"] = "inconclusive"
        row["note"] = (
            f"{TOO_FEW_PAIRS}: n={ctx.n_pairs} for {dims} representation dimensions (needs "
            f">= {MIN_PAIRS_PER_DIM * dims}); the MI estimates are biased at this n/d"
        )
        warn_user("%s <- %s: %s.", s, t, row["note"])


def consistent_label_terms(s: str, t: str, sy: Term, ty: Term, sb: Any, tb: Any, floor: bool
                            ) -> tuple[Term, Term, dict[str, Any]]:
    """Check I(H_S; Y) and I(H_T; Y) against their variational lower bounds on the same H.

    The bound is ``max(H(Y) - CE, Fano)`` of a cross-fitted logistic regression
    (:mod:`cchkit.estimators.variational`). An estimate whose interval lies entirely below the
    bound's is inconsistent with the data: it is named in ``label_check`` and, with ``floor``
    (the default), replaced by the bound (value and standard error), so that the CCH score and
    the other criteria never use a label term the data contradict.
    """
    fields: dict[str, Any] = {}
    problems, out = [], []
    for col, name, est, bound in (("i_student_label_lb", f"I({s};Y)", sy, sb), ("i_teacher_label_lb", f"I({t};Y)", ty, tb)):
        if isinstance(bound, Exception):
            out.append(est)
            continue
        fields[col] = bound.value
        if est.high < bound.low:
            what = "raised to" if floor else "is below"
            problems.append(f"{name} = {est.value:.3f} {what} its variational lower bound {bound.value:.3f} "
                            f"[{bound.low:.3f}, {bound.high:.3f}]")
            est = Term(value=bound.value, se=bound.se, estimates=est.estimates) if floor else est
        out.append(est)
    fields["label_check"] = "; ".join(problems) if problems else "ok"
    return out[0], out[1], fields
