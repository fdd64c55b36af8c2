"""What a criterion is: the :class:`Criterion` contract and the inputs a ranking row gives it.

A criterion turns the estimates of one (teacher, student) pair into a value (the column that
ranks teachers, higher first), optionally with an interval, and a rule that turns a table of
such rows into a decision per row: ``"helps"``, ``"hurts"`` or ``"inconclusive"``. The ranking
recommends by a criterion's ``"helps"``; ``validate`` compares each criterion's decisions with
the measured gains.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from ..cch import Term, decide_by_interval

__all__ = ["Criterion", "AccuracyGap", "CriterionInputs", "Decision", "DECISIONS", "decide_by_interval", "decide_by_threshold",
           "decide_by_band"]

Decision = Literal["helps", "hurts", "inconclusive"]
DECISIONS: tuple[str, ...] = ("helps", "hurts", "inconclusive")


@dataclass(frozen=True)
class CriterionInputs:
    """What one ranking row knows, on the same representations H: the pooled MI terms (nats,
    with standard errors), the cross-validated linear accuracies of H_T and H_S, and their
    class-conditional predictive matrices (:func:`~cchkit.representations.class_conditional_probs`)."""

    i_teacher_student: Term
    i_student_label: Term
    i_teacher_label: Term
    i_joint_label: Term
    teacher_accuracy_on_h: float
    student_accuracy_on_h: float
    teacher_class_probs: np.ndarray | None = None  # (C, C) class-conditional predictive matrices on H
    student_class_probs: np.ndarray | None = None
    student_h: np.ndarray | None = None  # H_S on the ranking's samples (first seed), for fitted criteria
    student_labels: np.ndarray | None = None
    random_state: int = 0
    teacher_accuracy_on_x: float = float("nan")  # cross-validated on the whole modality (labelled rows only)
    student_accuracy_on_x: float = float("nan")


class Criterion(abc.ABC):
    """A registered criterion (see :func:`~cchkit.criteria.register_criterion`).

    Class attributes
    ----------------
    name : str
        The registry name (set by the decorator).
    column : str
        The ranking column holding the value; teachers are ranked by it, higher first.
    columns : tuple of str
        Every ranking column :meth:`compute` fills (``column`` first).
    helps_when : str
        The decision rule in words (CLI help, reports).
    recommendable : bool
        Whether ``rank_teachers(criterion=...)`` may recommend by it.
    higher_is_better : bool
        Whether a larger value predicts a larger gain (teachers are ranked that way).
    signal_text : str
        What :meth:`signal` is, in words (for the rule a band makes of it).
    """

    name: ClassVar[str] = ""
    column: ClassVar[str] = ""
    columns: ClassVar[tuple[str, ...]] = ()
    helps_when: ClassVar[str] = ""
    recommendable: ClassVar[bool] = True
    higher_is_better: ClassVar[bool] = True
    #: what :meth:`signal` is, in words (default: the column, negated when lower is better)
    signal_text: ClassVar[str] = ""

    @abc.abstractmethod
    def compute(self, inputs: CriterionInputs) -> dict[str, float]:
        """The values of :attr:`columns` for one ranking row."""

    @property
    def interval_columns(self) -> tuple[str, str, str] | None:
        """(value, low, high) columns where the criterion has a 95% interval, else None."""
        c = self.columns
        return (c[0], c[1], c[2]) if len(c) >= 3 and c[1].endswith("low") and c[2].endswith("high") else None

    def caveat(self, inputs: CriterionInputs) -> str | None:
        """A sentence for the row's ``label_check`` when :meth:`compute` had to correct its
        value (for example an estimate outside what the quantity can take), else None."""
        return None

    def decide(self, table: pd.DataFrame) -> pd.Series:
        """One decision per row of ``table`` (a ranking table, or validate's table): a Series
        of ``"helps"`` / ``"hurts"`` / ``"inconclusive"`` aligned with ``table``, by the
        criterion's own (published or natural) rule. Default: the point rule "helps" when
        :meth:`signal` is above 0 (override it for a rule with an interval, or none)."""
        return pd.Series(decide_by_threshold(self.signal(table), 0.0), index=table.index)

    def signal(self, table: pd.DataFrame) -> pd.Series:
        """The quantity a calibrated band decides on, oriented so that higher predicts a larger
        gain and 0 is the natural rule's threshold (default: the column, negated when lower is
        better). The criterion study (``benchmarks/criteria.py``) fits its band."""
        col = table[self.column].astype(float)
        return col if self.higher_is_better else -col


class AccuracyGap(Criterion):
    """A criterion whose two columns are the teacher's and the student's accuracy (read from the
    :class:`CriterionInputs` fields of the same names) and whose signal is their difference;
    the point rule "helps" when the teacher is the more accurate."""

    def compute(self, inputs: CriterionInputs) -> dict[str, float]:
        return {col: getattr(inputs, col) for col in self.columns}

    def signal(self, table: pd.DataFrame) -> pd.Series:
        """The accuracy gap, teacher minus student."""
        teacher, student = self.columns
        return table[teacher].astype(float) - table[student].astype(float)


def decide_by_band(signal: Any, low: float, high: float) -> np.ndarray:
    """``helps`` where the signal is above ``high``, ``hurts`` below ``low``, ``inconclusive``
    between them (and where it is missing): a rule with an abstention band."""
    signal = np.asarray(signal, dtype=float)
    out = np.full(signal.shape, "inconclusive", dtype=object)
    out[signal > high] = "helps"
    out[signal < low] = "hurts"
    return out


def decide_by_threshold(value: Any, threshold: Any) -> np.ndarray:
    """``helps`` where the value is above the threshold, ``hurts`` at or below it,
    ``inconclusive`` where either is missing (a point rule, with no interval)."""
    value, threshold = np.asarray(value, dtype=float), np.asarray(threshold, dtype=float)
    out = np.where(value > threshold, "helps", "hurts").astype(object)
    out[~(np.isfinite(value) & np.isfinite(threshold))] = "inconclusive"
    return out
