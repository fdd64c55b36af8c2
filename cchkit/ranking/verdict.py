"""The ranking's advice in plain words: which teacher, decided by which criterion, how often
that criterion held out, and where the paper's CCH decides otherwise. The CLI and the HTML
report print these same lines."""

from __future__ import annotations

from typing import Any

from ..criteria import track_statement
from .table import RECOMMEND_BY

__all__ = ["advice_lines"]


def advice_lines(ranking: Any) -> list[str]:
    """One line per student (the advice), then the deciding criterion, its rule and its track
    record, then the rows where the CCH's own decision differs."""
    crit = str(ranking.settings.get("criterion", "cch_score"))
    ok = ranking.table[ranking.table["error"].isna() & (ranking.table["estimator"] == ranking.primary_estimator)]
    lines = []
    for student, teacher in ranking.recommendations.items():
        each = ", ".join(f"{r.teacher}: {r.advice}" for r in ok[ok["student"] == student].itertuples(index=False))
        lines.append(f"advice for {student}: " + (f"use {teacher}" if teacher else "no teacher is predicted to help")
                     + (f" ({each})" if each else ""))
    lines.append(f"decided by {crit}: helps when {RECOMMEND_BY.get(crit, '-')}")
    lines.append(f"track record of {crit}: {track_statement(crit)}")
    lines += _regime_lines(ranking)
    t = ranking.table[ranking.table["error"].isna()]
    differ = t[t["advice"] != t["decision"]]
    if len(differ):
        lines.append("the paper's CCH rule (its 95% interval against 0) decides otherwise for " + "; ".join(
            f"{r.student} <- {r.teacher}: {r.decision} (advice: {r.advice})" for r in differ.itertuples(index=False)))
    return lines


def _regime_lines(ranking: Any) -> list[str]:
    """Where the data hold unlabeled rows of a student, say that this advice and its record come
    from fully labelled data, and where the label-scarce answer is."""
    unlabeled = ranking.settings.get("unlabeled_rows") or {}
    return [f"regime: {student} has {unlabeled[student]:,} unlabeled rows, which the ranking set aside; the track "
            "record above is of fully labelled data, where teachers barely matter. With few labels `cchkit advise` "
            "(or `validate`) measures each teacher on the unlabeled rows instead, and gives the few-label study's "
            "record of teacher_cv_accuracy." for student in ranking.students if unlabeled.get(student)]
