r"""The label information a teacher adds to the student's: I(H_T; Y | H_S)."""

from __future__ import annotations

import math

import pandas as pd

from ..cch import Term
from .base import Criterion, CriterionInputs, decide_by_interval
from .registry import register_criterion

__all__ = ["LabelGain"]


@register_criterion("label_gain")
class LabelGain(Criterion):
    r"""Conditional label information of the teacher given the student,

    .. math:: I(H_T; Y \mid H_S) = \max\{0,\; I([H_T, H_S]; Y) - I(H_S; Y)\}, \qquad
              se = \sqrt{se_{[TS]Y}^2 + se_{SY}^2}

    (the chain rule; the interval treats both terms as independent, which is conservative as
    they share H_S). What the teacher knows about Y that the student does not: the unique plus
    synergistic information of the partial-information view of KD (Dissanayake et al., AISTATS
    2025, arXiv:2411.07483). A conditional MI cannot be negative; the difference of two
    estimates can (the joint term, in more dimensions, carries more bias), so the value and its
    interval are floored at 0 and the row's ``label_check`` gives the raw difference
    (:meth:`caveat`). "helps" when the interval lies above 0. Columns ``label_gain``,
    ``label_gain_low``, ``label_gain_high``.
    """

    signal_text = "the label gain I(H_T;Y|H_S)"

    column = "label_gain"
    columns = ("label_gain", "label_gain_low", "label_gain_high")
    helps_when = "I(H_T; Y | H_S) = I([H_T, H_S]; Y) - I(H_S; Y) has its interval above 0"

    @staticmethod
    def _raw(inputs: CriterionInputs) -> Term:
        jy, sy = inputs.i_joint_label, inputs.i_student_label
        return Term(value=jy.value - sy.value, se=math.sqrt(jy.se**2 + sy.se**2))  # NaN se -> NaN bounds

    def compute(self, inputs: CriterionInputs) -> dict[str, float]:
        gain = self._raw(inputs)
        return {"label_gain": max(gain.value, 0.0), "label_gain_low": max(gain.low, 0.0),
                "label_gain_high": max(gain.high, 0.0)}

    def caveat(self, inputs: CriterionInputs) -> str | None:
        gain = self._raw(inputs)
        if not gain.value < 0:
            return None
        return (f"label_gain = {gain.value:.3f} [{gain.low:.3f}, {gain.high:.3f}] floored at 0 (a conditional MI "
                "cannot be negative: the estimate of I([H_T,H_S];Y) fell below I(H_S;Y), estimator bias)")

    def decide(self, table: pd.DataFrame) -> pd.Series:
        return pd.Series(decide_by_interval(table["label_gain_low"], table["label_gain_high"]), index=table.index)
