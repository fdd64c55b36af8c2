r"""Baseline criteria that ``validate`` compares with the gains but the ranking does not
recommend by: the teacher's label information, its information about the student, the MFH share."""

from __future__ import annotations

import pandas as pd

from ..cch import mfh_share
from .base import Criterion, CriterionInputs
from .registry import register_criterion

__all__ = ["TeacherLabelInformation", "SharedInformation", "MFHShare"]


@register_criterion("i_teacher_label")
class TeacherLabelInformation(Criterion):
    r"""The teacher's label information against the student's:
    "helps" when :math:`I(H_T; Y) > I(H_S; Y)` (point rule). Column ``i_teacher_label``."""

    signal_text = "I(H_T;Y) - I(H_S;Y)"

    column = "i_teacher_label"
    columns = ("i_teacher_label",)
    helps_when = "I(H_T; Y) > I(H_S; Y)"
    recommendable = False

    def compute(self, inputs: CriterionInputs) -> dict[str, float]:
        return {"i_teacher_label": inputs.i_teacher_label.value}

    def signal(self, table: pd.DataFrame) -> pd.Series:
        """I(H_T; Y) - I(H_S; Y)."""
        return table["i_teacher_label"].astype(float) - table["i_student_label"].astype(float)


@register_criterion("i_teacher_student")
class SharedInformation(Criterion):
    r"""The first term of the CCH alone, :math:`I(H_T; H_S)`: "helps" when above its median
    over the student's candidates (it has no natural zero). Column ``i_teacher_student``."""

    signal_text = "I(H_T;H_S) minus its median over the student's candidates"

    column = "i_teacher_student"
    columns = ("i_teacher_student",)
    helps_when = "I(H_T; H_S) is above its median over the student's candidates"
    recommendable = False

    def compute(self, inputs: CriterionInputs) -> dict[str, float]:
        return {"i_teacher_student": inputs.i_teacher_student.value}

    def signal(self, table: pd.DataFrame) -> pd.Series:
        """I(H_T; H_S) minus its median over the student's candidates."""
        col = table["i_teacher_student"].astype(float)
        median = col.groupby(table["student"]).transform("median") if "student" in table else col.median()
        return col - median


@register_criterion("mfh_score")
class MFHShare(Criterion):
    r"""Share of the teacher's label information that the student's modality also carries, after
    the Modality Focusing Hypothesis (Xue et al., ICLR 2023: KD helps when the teacher's decisive
    features are modality-general):

    .. math:: \frac{I(H_T;Y) + I(H_S;Y) - I([H_T,H_S];Y)}{I(H_T;Y)} \in [0, 1]

    (co-information over the teacher's label information, clipped). "helps" when above 0.5.
    Column ``mfh_score``."""

    signal_text = "the MFH share minus 0.5"

    column = "mfh_score"
    columns = ("mfh_score",)
    helps_when = "most of the teacher's label information is shared with the student (MFH share > 0.5)"
    recommendable = False

    def compute(self, inputs: CriterionInputs) -> dict[str, float]:
        return {"mfh_score": mfh_share(inputs.i_teacher_label.value, inputs.i_student_label.value,
                                       inputs.i_joint_label.value)}

    def signal(self, table: pd.DataFrame) -> pd.Series:
        """The MFH share minus 0.5."""
        return table["mfh_score"].astype(float) - 0.5
