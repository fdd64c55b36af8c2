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

    .. math:: I(H_T; Y \mid H_S) = I([H_T, H_S]; Y) - I(H_S; Y), \qquad
              se = \sqrt{se_{[TS]Y}^2 + se_{SY}^2}

    (the chain rule; the interval treats both terms as independent, which is conservative as
    they share H_S). What the teacher knows about Y that the student does not: the unique plus
    synergistic information of the partial-information view of KD (Dissanayake et al., AISTATS
    2025, arXiv:2411.07483). "helps" when the interval lies above 0. Columns ``label_gain``,
    ``label_gain_low``, ``label_gain_high``.
    """

    signal_text = "the label gain I(H_T;Y|H_S)"

    column = "label_gain"
    columns = ("label_gain", "label_gain_low", "label_gain_high")
    helps_when = "I(H_T; Y | H_S) = I([H_T, H_S]; Y) - I(H_S; Y) has its interval above 0"

    def compute(self, inputs: CriterionInputs) -> dict[str, float]:
        jy, sy = inputs.i_joint_label, inputs.i_student_label
        gain = Term(value=jy.value - sy.value, se=math.sqrt(jy.se**2 + sy.se**2))  # NaN se -> NaN bounds
        return {"label_gain": gain.value, "label_gain_low": gain.low, "label_gain_high": gain.high}

    def decide(self, table: pd.DataFrame) -> pd.Series:
        return pd.Series(decide_by_interval(table["label_gain_low"], table["label_gain_high"]), index=table.index)
