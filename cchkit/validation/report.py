"""The full-label validation's report: :class:`ValidationReport` and its columns."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .._json import dump_json, jsonable
from ..criteria import criteria_columns

__all__ = ["ValidationReport", "REPORT_COLUMNS", "report_columns", "ranking_copied"]


#: Columns of :attr:`ValidationReport.table`, in order.
REPORT_COLUMNS = [
    "student", "teacher", "method", "n_seeds",
    "acc_none", "acc_none_low", "acc_none_high",
    "acc_probe", "acc_probe_low", "acc_probe_high", "baseline",
    "acc", "acc_low", "acc_high",
    "gain", "gain_low", "gain_high", "significant", "gain_seeds",
    "teacher_net_accuracy",
    "cch_score", "cch_low", "cch_high", "decision",
    "teacher_accuracy_on_h", "student_accuracy_on_h", "teacher_accuracy_on_x", "student_accuracy_on_x",
    "i_teacher_label", "i_student_label", "i_teacher_student", "mfh_score",
    "label_gain", "label_gain_low", "label_gain_high", "non_target_divergence", "class_structure",
    "pid_unique", "probe_kd",
    "error",
]



@dataclass
class ValidationReport:
    """Measured KD gains per teacher, next to the ranking's predictions.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (teacher, KD method) with columns :data:`REPORT_COLUMNS`: the student's
        accuracy without KD (``acc_none``) and with the method (``acc``), the per-seed paired
        ``gain = acc - acc_none``, each as mean and 95% t-interval over seeds; ``significant``
        (the gain interval excludes 0); the teacher's measured accuracy; the ranking's CCH score,
        interval and decision, and the baseline criteria. A failed method keeps its ``error``.
    summary : dict
        ``method`` (the primary KD method, the first of ``methods`` other than ``"none"``);
        for the CCH score: ``spearman`` (rank correlation of score and mean gain over teachers),
        ``sign_agree`` / ``n_significant`` / ``sign_share`` (among teachers whose gain interval
        excludes 0, how many have the sign the score predicts), ``top_is_best`` (the
        highest-scored teacher has the best mean gain); ``baselines``: the same for each
        registered criterion (:func:`baseline_criteria`); ``n_teachers``, ``seeds``, ``seconds``.
    runs : pandas.DataFrame
        The raw runs: one row per (teacher, method, seed) with the test and validation
        accuracies and the settings the student trained with (``lr``, ``weight_decay``,
        ``hidden``, ``dropout``, ``kd_weight``, ``temperature``; see ``summary["tuned"]``).
    """

    table: pd.DataFrame
    summary: dict[str, Any]
    runs: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_dict(self, *, timing: bool = False) -> dict[str, Any]:
        """``{"rows": [...], "summary": {...}}`` with NaN as None.

        Wall-clock ``seconds`` and the ``budget`` (``advise`` gives the validation what its
        ranking left) are left out unless ``timing`` is True, so that the same seed gives
        byte-identical JSON.
        """
        rows = [jsonable(r) for r in self.table.to_dict(orient="records")]
        summary = {k: v for k, v in self.summary.items() if timing or k not in ("seconds", "budget")}
        return {"rows": rows, "summary": jsonable(summary)}

    def to_json(self, path: str | os.PathLike[str] | None = None, *, indent: int | None = 2) -> str:
        """The report as JSON (NaN -> null); written to ``path`` when given."""
        return dump_json(self.to_dict(), path, indent=indent)

    def plot(self, ax: Any = None, *, method: str | None = None, criterion: str | None = None) -> Any:
        """Criterion (default: the one the ranking's advice followed, with its interval and
        threshold) against the measured gain (with its 95% interval), one point per teacher; see
        :func:`cchkit.plotting.plot_validation`."""
        from ..plotting import plot_validation

        return plot_validation(self, ax=ax, criterion=criterion, method=method)

    _SHORT = ["teacher", "method", "acc_none", "acc_probe", "acc", "gain", "gain_low", "gain_high", "significant",
              "cch_score", "decision"]

    def __repr__(self) -> str:
        verdict = (self.summary.get("verdict") or {}).get("text", "")
        return f"ValidationReport: {verdict}\n" + self.table[self._SHORT].to_string(index=False)

    def _repr_html_(self) -> str:
        import html

        verdict = html.escape((self.summary.get("verdict") or {}).get("text", ""))
        return f"<p><b>ValidationReport</b>: {verdict}</p>" + self.table[self._SHORT].to_html(index=False)



def report_columns() -> list[str]:
    """:data:`REPORT_COLUMNS` plus the columns of criteria registered beyond the built-ins."""
    extra = [c for c in ranking_copied() if c not in REPORT_COLUMNS]
    return REPORT_COLUMNS[:-1] + extra + REPORT_COLUMNS[-1:]


def ranking_copied() -> list[str]:
    """The ranking columns a report row carries: every criterion's, and I(H_S; Y) (a rule's threshold)."""
    return list(dict.fromkeys([*criteria_columns(), "i_student_label"]))
