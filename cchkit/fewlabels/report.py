"""The few-label validation's result: gains over the best teacher-free student, placebos, verdict.

Per seed, a student of each kind is chosen by cross-validated accuracy on the labelled rows
(:func:`.run.choose`); a teacher's *gain* is its chosen KD student's test accuracy minus that
of the best teacher-free student (supervised, label smoothing or self-training, whichever
cross-validates best); its *margin over the placebo* is the same KD search with the teacher
trained on permuted labels. Means and 95% t-intervals are over seeds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._json import dump_json, jsonable
from .._stats import is_significant, t_interval
from .objectives import teacher_free_objectives
from .run import choose

__all__ = ["FewLabelReport", "FEWLABEL_COLUMNS", "seed_outcomes", "summarise_table", "verdict"]

#: Columns of :attr:`FewLabelReport.table`.
FEWLABEL_COLUMNS = [
    "student", "teacher", "method", "teacher_labels", "n_seeds",
    "acc", "acc_low", "acc_high", "baseline", "acc_baseline", "acc_baseline_low", "acc_baseline_high",
    "gain", "gain_low", "gain_high", "significant", "gain_seeds",
    "acc_placebo", "vs_placebo", "vs_placebo_low", "vs_placebo_high", "beats_placebo",
    "placebo_gain", "placebo_gain_low", "placebo_gain_high",
    "teacher_cv_accuracy", "student_cv_accuracy", "prediction", "helps", "teacher_model",
]


def seed_outcomes(runs: pd.DataFrame, teacher_cv: dict[str, float],
                  teacher_family: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One seed's chosen students: a row per (teacher, method), and the teacher-free ones
    (``teacher_family``: the family each teacher's cross-validation chose; linear if not given)."""
    families = teacher_family or {}
    free = runs[runs["objective"].isin(teacher_free_objectives()) & (runs["teacher"] == "")]
    free_names = [o for o in teacher_free_objectives() if (free["objective"] == o).any()]
    best_free = choose(free)
    student_cv = float(choose(free[free["objective"] == "supervised"])["cv_accuracy"])
    out = [{"teacher": "", "method": o, "accuracy": float(choose(free[free["objective"] == o])["accuracy"])}
           for o in free_names]
    out.append({"teacher": "", "method": "best teacher-free", "accuracy": float(best_free["accuracy"]),
                "chosen": str(best_free["objective"])})
    kd = runs[runs["teacher"] != ""]
    for (t, m), g in kd.groupby(["teacher", "objective"], sort=False):
        real, fake = choose(g[~g["placebo"].astype(bool)]), choose(g[g["placebo"].astype(bool)])
        out.append({"teacher": t, "method": m, "accuracy": float(real["accuracy"]),
                    "placebo": float(fake["accuracy"]), "baseline": float(best_free["accuracy"]),
                    "teacher_cv": teacher_cv[t], "student_cv": student_cv,
                    "teacher_family": families.get(t, "linear")})
    return out


def _interval_cols(prefix: str, values: np.ndarray, bounds: tuple[float, float]) -> dict[str, float]:
    m, lo, hi = t_interval(values, bounds=bounds)
    return {prefix: m, f"{prefix}_low": lo, f"{prefix}_high": hi}


def summarise_table(per_seed: pd.DataFrame, student: str, modes: dict[str, str]) -> pd.DataFrame:
    """The report table from every seed's outcomes (:func:`seed_outcomes` rows with a ``seed``)."""
    rows = []
    free = per_seed[per_seed["teacher"] == ""]
    chosen = free[free["method"] == "best teacher-free"]
    baseline_name = chosen["chosen"].mode().iloc[0] if len(chosen) else ""
    kd = per_seed[per_seed["teacher"] != ""]
    for (t, m), g in kd.groupby(["teacher", "method"], sort=False):
        g = g.sort_values("seed")
        acc, base, fake = (g[c].to_numpy(dtype=float) for c in ("accuracy", "baseline", "placebo"))
        n = int(np.isfinite(acc - base).sum())
        row: dict[str, Any] = {"student": student, "teacher": t, "method": m, "teacher_labels": modes[t], "n_seeds": n,
                               "baseline": baseline_name}
        row |= _interval_cols("acc", acc, (0, 1)) | _interval_cols("acc_baseline", base, (0, 1))
        row |= _interval_cols("gain", acc - base, (-1, 1)) | _interval_cols("vs_placebo", acc - fake, (-1, 1))
        row |= _interval_cols("placebo_gain", fake - base, (-1, 1))
        row["acc_placebo"] = float(np.mean(fake))
        row["significant"] = is_significant(row["gain_low"], row["gain_high"], n)
        row["gain_seeds"] = [round(float(v), 10) for v in acc - base]
        row["beats_placebo"] = bool(is_significant(row["vs_placebo_low"], row["vs_placebo_high"], n)
                                    and row["vs_placebo"] > 0)
        row["helps"] = bool(row["significant"] and row["gain"] > 0 and row["beats_placebo"])
        row["teacher_cv_accuracy"] = float(np.mean(g["teacher_cv"]))
        row["student_cv_accuracy"] = float(np.mean(g["student_cv"]))
        row["prediction"] = "helps" if row["teacher_cv_accuracy"] > row["student_cv_accuracy"] else "hurts"
        row["teacher_model"] = _teacher_model(g)
        rows.append(row)
    return pd.DataFrame(rows, columns=FEWLABEL_COLUMNS)


def _teacher_model(g: pd.DataFrame) -> str:
    """The teacher family of most seeds, and in how many where the seeds' choices differ."""
    fams = g["teacher_family"] if "teacher_family" in g else pd.Series(["linear"] * len(g))
    counts = fams.value_counts()
    top = str(counts.index[0])
    return top if counts.iloc[0] == len(fams) else f"{top} ({counts.iloc[0]} of {len(fams)} seeds)"


def _gain(r: Any) -> str:
    return f"{r.gain:+.3f} [{r.gain_low:+.3f}, {r.gain_high:+.3f}]"


def _regime_words(summary: dict[str, Any]) -> str:
    if not summary["n_unlabeled"]:
        return f"with every training row labelled ({summary['n_labelled']:,})"
    count = f" ({summary['n_labelled']:,} labelled rows)" if (summary.get("regime") or {}).get("labelled_fraction") else ""
    return f"with {summary['regime_text']}{count} and {summary['n_unlabeled']:,} unlabeled rows"


def _reach(t: pd.DataFrame) -> str:
    """How large a gain the measurement still allows: the highest upper end of the teachers' 95%
    gain intervals (so that "no teacher is shown to help" says how little it could see: with a
    handful of test rows the intervals reach far above 0)."""
    high = t["gain_high"].to_numpy(dtype=float)
    high = high[np.isfinite(high)]
    return f" (their gains' 95% intervals reach at most {high.max():+.3f})" if high.size else ""


def verdict(table: pd.DataFrame, summary: dict[str, Any]) -> dict[str, Any]:
    """One answer that names the regime: which teacher helps, by how much over which baseline,
    and whether the teachers can be told apart; a gain that does not beat its placebo is not
    the teacher's."""
    t = table[table["method"] == summary["method"]].sort_values("gain", ascending=False)
    student, base = summary["student"], summary["baseline_text"]
    helpers = t[t["helps"]]
    not_teachers = t[t["significant"] & (t["gain"] > 0) & ~t["beats_placebo"]]
    lead = _regime_words(summary)
    if helpers.empty:
        text = f"{lead.capitalize()}, no teacher is shown to help {student}{_reach(t)}: train it alone, as {base}."
        outcome, teachers = "train alone", []
    elif len(helpers) == 1 or helpers["gain_low"].iloc[0] > helpers["gain_high"].iloc[1:].max():
        h = helpers.iloc[0]
        others = "; ".join(f"{r.teacher} {r.gain:+.3f}" for r in helpers.iloc[1:].itertuples())
        text = (f"{lead.capitalize()}, use {h.teacher} as the teacher of {student}: it gains {_gain(h)} over {base}"
                + (f" ({others} also help, by less)." if others else "."))
        outcome, teachers = "use", [str(h.teacher)]
    else:
        tied = helpers[helpers["gain_high"] >= helpers["gain_low"].iloc[0]]
        gains = ", ".join(f"{r.teacher} {_gain(r)}" for r in tied.itertuples())
        text = (f"{lead.capitalize()}, {' or '.join(tied['teacher'])} can teach {student}: {gains} over {base}; "
                "this validation cannot tell them apart.")
        outcome, teachers = "use any", [str(x) for x in tied["teacher"]]
    for r in not_teachers.itertuples():
        text += (f" {r.teacher}'s gain {r.gain:+.3f} is not the teacher's: its placebo (the same teacher trained on "
                 f"permuted labels) gains {r.placebo_gain:+.3f}, and the margin over it, {r.vs_placebo:+.3f} "
                 f"[{r.vs_placebo_low:+.3f}, {r.vs_placebo_high:+.3f}], is "
                 + ("negative." if r.vs_placebo_high < 0 else "within noise."))
    return {"text": text, "outcome": outcome, "teachers": teachers}


@dataclass
class FewLabelReport:
    """Measured gains of each teacher for a student with few labels and many unlabeled rows.

    Attributes
    ----------
    table : DataFrame
        One row per (teacher, method), columns :data:`FEWLABEL_COLUMNS`: the chosen KD student's
        test accuracy, the best teacher-free student's (``baseline`` names the kind chosen most
        often), the paired ``gain`` over it, the margin over the placebo teacher, the criteria
        ``teacher_cv_accuracy`` / ``student_cv_accuracy`` (cross-validated on the labelled rows
        only) and their ``prediction``, ``helps`` (a significant gain that beats the placebo) and
        ``teacher_model`` (the teacher's family: ``linear`` by default; ``mlp`` where that
        family is allowed and its cross-validation chose it, with the count of seeds where the
        choices differ).
    baselines : DataFrame
        Each teacher-free student's test accuracy (mean and interval over seeds).
    summary : dict
        The regime, counts of rows, the primary method, the verdict, the prediction's record.
    runs : DataFrame
        Every trained member (:data:`.run.RUN_COLUMNS`).
    """

    table: pd.DataFrame
    baselines: pd.DataFrame
    summary: dict[str, Any]
    runs: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_dict(self, *, timing: bool = False) -> dict[str, Any]:
        summary = {k: v for k, v in self.summary.items() if timing or k != "seconds"}
        return {"rows": [jsonable(r) for r in self.table.to_dict(orient="records")],
                "baselines": [jsonable(r) for r in self.baselines.to_dict(orient="records")],
                "summary": jsonable(summary)}

    def to_json(self, path: str | os.PathLike[str] | None = None, *, indent: int | None = 2) -> str:
        """The report as JSON (NaN -> null); written to ``path`` when given."""
        return dump_json(self.to_dict(), path, indent=indent)

    def plot(self, ax: Any = None, *, method: str | None = None) -> Any:
        """Accuracies with intervals, teacher-free and per teacher (:func:`cchkit.plotting.plot_few_labels`)."""
        from ..plotting import plot_few_labels

        return plot_few_labels(self, ax=ax, method=method)

    _SHORT = ["teacher", "method", "acc", "gain", "gain_low", "gain_high", "vs_placebo", "beats_placebo",
              "teacher_cv_accuracy", "helps"]

    def __repr__(self) -> str:
        return (f"FewLabelReport: {self.summary['verdict']['text']}\n"
                + self.table.sort_values("gain", ascending=False)[self._SHORT].to_string(index=False))

    def _repr_html_(self) -> str:
        import html

        return (f"<p><b>FewLabelReport</b>: {html.escape(self.summary['verdict']['text'])}</p>"
                + self.table.sort_values("gain", ascending=False)[self._SHORT].to_html(index=False))
