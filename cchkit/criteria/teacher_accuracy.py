r"""Teacher accuracy against student accuracy, on the same representations."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import AccuracyGap
from .registry import register_criterion

__all__ = ["TeacherAccuracy"]


@register_criterion("teacher_accuracy")
class TeacherAccuracy(AccuracyGap):
    r"""The simple rule "a more accurate teacher helps": the cross-validated linear (LDA)
    accuracy of H_T against that of H_S,

    .. math:: \text{helps} \iff \mathrm{acc}(H_T) > \mathrm{acc}(H_S),

    a point rule with no abstention. The baseline that teacher-selection studies report against
    (e.g. GRACE, Panigrahi et al. 2025, arXiv:2511.02833); the Modality Focusing Hypothesis (Xue
    et al., ICLR 2023) argues that it does not predict cross-modal KD. In ``validate`` a
    missing ranking accuracy of the student falls back to the measured no-KD accuracy.
    Columns ``teacher_accuracy_on_h``, ``student_accuracy_on_h``.
    """

    signal_text = "the accuracy gap on H, teacher minus student"

    column = "teacher_accuracy_on_h"
    columns = ("teacher_accuracy_on_h", "student_accuracy_on_h")
    helps_when = "the teacher's held-out accuracy on H_T beats the student's on H_S"

    def signal(self, table: pd.DataFrame) -> pd.Series:
        """The accuracy gap, teacher minus student (in ``validate``'s table, the measured no-KD
        accuracy where the ranking has none for the student)."""
        student = table["student_accuracy_on_h"].to_numpy(dtype=float)
        if "acc_none" in table:
            student = np.where(np.isfinite(student), student, table["acc_none"].to_numpy(dtype=float))
        return table["teacher_accuracy_on_h"].astype(float) - student
