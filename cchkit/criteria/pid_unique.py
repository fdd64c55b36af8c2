r"""The teacher's unique label information in a partial-information decomposition."""

from __future__ import annotations

import math

from .base import Criterion, CriterionInputs
from .registry import register_criterion

__all__ = ["PIDUniqueInformation", "mmi_unique"]


def mmi_unique(i_teacher_label: float, i_student_label: float) -> float:
    r"""Unique information of T about Y under the minimum-mutual-information PID:
    :math:`U_T = I(T;Y) - \min(I(T;Y), I(S;Y))`."""
    if not (math.isfinite(i_teacher_label) and math.isfinite(i_student_label)):
        return math.nan
    return i_teacher_label - min(i_teacher_label, i_student_label)


@register_criterion("pid_unique")
class PIDUniqueInformation(Criterion):
    r"""The teacher's unique label information, after the partial-information view of KD
    (Dissanayake et al., "Quantifying Knowledge Distillation Using Partial Information
    Decomposition", AISTATS 2025, arXiv:2411.07483: what a teacher can still transfer is the
    label information it holds and the student does not). With the minimum-mutual-information
    redundancy :math:`R = \min(I(H_T;Y), I(H_S;Y))` (Barrett 2015, exact for Gaussian sources
    and a univariate target, an approximation here),

    .. math:: U_T = I(H_T; Y) - R = \max\big(0,\; I(H_T;Y) - I(H_S;Y)\big).

    "helps" when :math:`U_T > 0` (point rule). Unlike :class:`~cchkit.criteria.label_gain.LabelGain`
    it holds no synergy. Column ``pid_unique``."""

    signal_text = "the teacher's unique label information"

    column = "pid_unique"
    columns = ("pid_unique",)
    helps_when = "the teacher holds label information the student lacks (MMI unique information > 0)"
    recommendable = False

    def compute(self, inputs: CriterionInputs) -> dict[str, float]:
        return {"pid_unique": mmi_unique(inputs.i_teacher_label.value, inputs.i_student_label.value)}
