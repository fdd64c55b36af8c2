"""The result of a ranking: :class:`Ranking`, its columns and the ranks by criterion."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..criteria import (
    advice_decisions,
    advice_rule,
    advisable_criteria,
    criteria_columns,
    default_criterion,
    get_criterion,
    helps_threshold,
)
from ..criteria.regimes import regime_outlook
from ..exceptions import InputError

__all__ = ["Ranking", "RANKING_COLUMNS", "RECOMMEND_BY", "add_ranks", "deciding_intervals", "ranking_columns", "MIN_PAIRS_PER_DIM", "TOO_FEW_PAIRS",
           "MIN_PER_CLASS"]

#: Columns of :attr:`Ranking.table`, in order (documented in the README).
RANKING_COLUMNS = [
    "student",
    "teacher",
    "estimator",
    "variant",
    "representation",
    "n_pairs",
    "i_teacher_student",
    "i_teacher_student_low",
    "i_teacher_student_high",
    "i_student_label",
    "i_student_label_low",
    "i_student_label_high",
    "cch_score",
    "cch_low",
    "cch_high",
    "decision",
    "rank",
    "consensus",
    "estimators_disagree",
    "teacher_accuracy_on_h",
    "student_accuracy_on_h",
    "teacher_accuracy_on_x",
    "student_accuracy_on_x",
    "i_teacher_label",
    "i_teacher_label_low",
    "i_teacher_label_high",
    "i_joint_label",
    "i_joint_label_low",
    "i_joint_label_high",
    "label_gain",
    "label_gain_low",
    "label_gain_high",
    "i_student_label_lb",
    "i_teacher_label_lb",
    "label_check",
    "mfh_score",
    "non_target_divergence",
    "class_structure",
    "pid_unique",
    "probe_kd",
    "label_entropy",
    "bound",
    "criterion",
    "criterion_value",
    "criterion_threshold",
    "advice",
    "predicts_gain",
    "note",
    "error",
]

class _RecommendBy(Mapping[str, str]):
    """What a ranking can recommend by: criterion name -> when it predicts a gain, read from the
    criteria registry (:mod:`cchkit.criteria`) each time, so a registered criterion appears."""

    def __getitem__(self, name: str) -> str:
        if name not in advisable_criteria():
            raise KeyError(name)
        return advice_rule(name)

    def __iter__(self) -> Iterator[str]:
        return iter(advisable_criteria())

    def __len__(self) -> int:
        return len(advisable_criteria())


#: The criteria a ranking can recommend by (name -> rule in words), from the registry.
RECOMMEND_BY: Mapping[str, str] = _RecommendBy()


def ranking_columns() -> list[str]:
    """:data:`RANKING_COLUMNS` plus the columns of any criterion registered beyond the built-ins
    (before ``note`` and ``error``)."""
    extra = [c for c in criteria_columns() if c not in RANKING_COLUMNS]
    return RANKING_COLUMNS[:-2] + extra + RANKING_COLUMNS[-2:]


#: A row's decision needs at least this many paired samples per representation dimension
#: (``n_pairs >= MIN_PAIRS_PER_DIM * (d_T + d_S)``); below it the MI estimates of n-by-d data
#: are dominated by their bias (two independent 800-d noise blocks with n = 20 give 15 nats), so
#: the row is reported "inconclusive" with a note instead of a confident decision.
MIN_PAIRS_PER_DIM = 3
#: Fewest paired samples of every class that a ranking needs: its cross-fitted folds and the
#: class-conditional label forms need more than one sample of each class on each side.
MIN_PER_CLASS = 3
#: How the note of a row with too few pairs for any decision begins.
TOO_FEW_PAIRS = "too few pairs for a decision"


@dataclass
class Ranking:
    """The result of :func:`rank_teachers`: a tidy table, one row per (student, teacher, estimator).

    Attributes
    ----------
    table : pandas.DataFrame
        Columns :data:`RANKING_COLUMNS`. MI values in nats. ``rank`` 1 is the best teacher for
        that student under that estimator; failed rows keep their ``error`` and no rank.
    settings : dict
        How the ranking was made (data, estimators, representation, variant, seed...).
    seconds : float
        Wall-clock time (kept out of the JSON so that the same seed gives identical bytes).
    """

    table: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: float = float("nan")

    @property
    def students(self) -> list[str]:
        return list(dict.fromkeys(self.table["student"]))

    @property
    def primary_estimator(self) -> str:
        return str(self.settings.get("estimators", [self.table["estimator"].iloc[0]])[0])

    def top(self, k: int = 1, *, estimator: str | None = None) -> pd.DataFrame:
        """The ``k`` best-ranked teachers per student under ``estimator`` (default: the first)."""
        est = estimator or self.primary_estimator
        t = self.table[(self.table["estimator"] == est) & self.table["rank"].notna()]
        return t.sort_values(["student", "rank"]).groupby("student", sort=False).head(k).reset_index(drop=True)

    @property
    def recommendations(self) -> dict[str, str | None]:
        """Student -> the best-ranked teacher that the ranking's criterion predicts to help
        (see :data:`RECOMMEND_BY`; with ``cch_score``: decision ``helps``), or None if none."""
        best = self.top(len(self.table), estimator=self.primary_estimator)
        out: dict[str, str | None] = {}
        for student in self.students:
            rows = best[(best["student"] == student) & best["predicts_gain"].astype(bool)]
            out[student] = None if rows.empty else str(rows.iloc[0]["teacher"])
        return out

    @property
    def recommended(self) -> str | None:
        """The recommended teacher of a single-student ranking, or None if none is predicted to
        help; a ranking of several students (``student="all"``) refuses and points to
        :attr:`recommendations`."""
        recs = self.recommendations
        if len(recs) > 1:
            raise InputError(
                f"this ranking has {len(recs)} students; use .recommendations (student -> teacher) instead."
            )
        return next(iter(recs.values()), None)

    def matrix(self, value: str = "cch_score", *, estimator: str | None = None) -> pd.DataFrame:
        """Teacher-by-student matrix of ``value`` (rows: teachers, columns: students)."""
        est = estimator or self.primary_estimator
        t = self.table[self.table["estimator"] == est]
        return t.pivot(index="teacher", columns="student", values=value)

    def plot(self, ax=None, **kwargs):
        """Scores with intervals, coloured by decision (see :func:`cchkit.plotting.plot_ranking`)."""
        from ..plotting import plot_ranking

        return plot_ranking(self, ax=ax, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """``{"rows": [...], "settings": {...}}`` with NaN as None (JSON null)."""
        rows = json.loads(self.table.to_json(orient="records", double_precision=10))
        return {"rows": rows, "settings": self.settings}

    def to_json(self, path: str | os.PathLike[str] | None = None, *, indent: int | None = 2) -> str:
        """JSON text (also written to ``path`` if given)."""
        text = json.dumps(self.to_dict(), indent=indent, sort_keys=False)
        if path is not None:
            Path(path).write_text(text)
        return text

    def to_csv(self, path: str | os.PathLike[str] | None = None) -> str:
        """CSV text of :attr:`table` (also written to ``path`` if given)."""
        text = self.table.to_csv(index=False, float_format="%.6g")
        if path is not None:
            Path(path).write_text(text)
        return text

    _SHORT = ["student", "teacher", "estimator", "rank", "criterion_value", "criterion_threshold", "advice",
              "cch_score", "cch_low", "cch_high", "decision"]

    def __repr__(self) -> str:
        crit = self.settings.get("criterion", "cch_score")
        return (f"Ranking(recommendations={self.recommendations!r}, advice by {crit})\n"
                + self.table[self._SHORT].to_string(index=False))

    def _repr_html_(self) -> str:
        import html

        recs = ", ".join(f"{html.escape(str(k))}: {html.escape(str(v))}" for k, v in self.recommendations.items())
        crit = html.escape(str(self.settings.get("criterion", "cch_score")))
        return (f"<p>Ranking, recommended: <b>{recs}</b> (advice by {crit})</p>"
                + self.table[self._SHORT].to_html(index=False))


def add_ranks(table: pd.DataFrame, criterion: str | None = None, regime: str | None = None, *,
              follow_outlook: bool = True) -> pd.DataFrame:
    """Rank the teachers of each (student, estimator) by the criterion's column (higher first;
    None: the study's default for the label ``regime``, :func:`cchkit.criteria.default_criterion`,
    read at call time), write its advice (helps / hurts / inconclusive: the band the study of
    ``regime`` fitted where it fitted one, see :func:`cchkit.criteria.advice_decisions`; never
    'helps' where that regime's study found no teacher helping,
    :func:`cchkit.criteria.regimes.regime_outlook`, unless ``follow_outlook`` is False: a criterion
    the user named decides by its own rule), mark the rows it predicts to help, and the
    estimators' consensus on the CCH decision."""
    criterion = criterion or default_criterion(regime)
    ok = table["error"].isna()
    crit = get_criterion(criterion)
    table.loc[ok, "rank"] = (
        table[ok].groupby(["student", "estimator"])[crit.column].rank(ascending=not crit.higher_is_better, method="min")
    )
    table["rank"] = table["rank"].astype("Int64")
    table["criterion"] = criterion
    # the number that decides, beside the decision: the criterion's signal and the threshold it must pass
    table["criterion_value"] = crit.signal(table).where(ok)
    table["criterion_threshold"] = helps_threshold(criterion, regime)
    # a row whose data are too few for a decision predicts nothing, whatever the criterion
    decidable = ~table["note"].fillna("").astype(str).str.startswith(TOO_FEW_PAIRS)
    advice = advice_decisions(table, criterion, regime).where(ok & decidable, "inconclusive")
    if follow_outlook and regime_outlook(regime) == "no gain":
        # the regime's study found no teacher helping: a criterion's 'helps' is not advice there
        advice = advice.where(advice != "helps", "inconclusive")
    table["advice"] = advice.where(ok, None)
    table["predicts_gain"] = (advice == "helps").astype(bool)
    for _key, grp in table[ok].groupby(["student", "teacher"], sort=False):
        decisions = list(grp["decision"])
        top, count = Counter(decisions).most_common(1)[0]
        consensus = top if count > len(decisions) / 2 else "inconclusive"
        idx = grp.index
        table.loc[idx, "consensus"] = consensus
        table.loc[idx, "estimators_disagree"] = len(set(decisions)) > 1
    table["estimators_disagree"] = table["estimators_disagree"].astype(bool)
    return _in_rank_order(table)


def deciding_intervals(table: pd.DataFrame, criterion: str) -> list[tuple[float, float, float]]:
    """Each row's (value, low, high) of the criterion the advice follows: its interval columns
    where it has them, else its signal (``criterion_value``) with no interval (NaN ends)."""
    cols = get_criterion(criterion).interval_columns
    if cols:
        return [tuple(float(v) for v in r) for r in table[list(cols)].itertuples(index=False)]
    return [(float(v), np.nan, np.nan) for v in table["criterion_value"]]


def _in_rank_order(table: pd.DataFrame) -> pd.DataFrame:
    """Rows by student and estimator (in their first order), then rank (failed rows last)."""
    order = {c: {v: i for i, v in enumerate(dict.fromkeys(table[c]))} for c in ("student", "estimator")}
    keys = pd.DataFrame({"s": table["student"].map(order["student"]), "e": table["estimator"].map(order["estimator"]),
                         "r": table["rank"].astype("float64").fillna(np.inf)}, index=table.index)
    return table.loc[keys.sort_values(["s", "e", "r"], kind="stable").index].reset_index(drop=True)
