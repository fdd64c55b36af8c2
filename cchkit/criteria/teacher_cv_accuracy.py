r"""The teacher's cross-validated accuracy on its own features against the student's."""

from __future__ import annotations

from .base import AccuracyGap
from .registry import register_criterion

__all__ = ["TeacherCVAccuracy"]


@register_criterion("teacher_cv_accuracy")
class TeacherCVAccuracy(AccuracyGap):
    r""""A teacher more accurate than the student helps", each cross-validated on its whole
    modality X (not a representation H) with the labelled rows only:

    .. math:: \text{helps} \iff \mathrm{acc}_{CV}(X_T) > \mathrm{acc}_{CV}(X_S),

    with a shrinkage linear discriminant in 5 stratified folds (:func:`cchkit.representations.linear.cv_accuracy`).
    It reads no label the user lacks and no test row. It is the rule that ranks teachers where
    they matter most, a student with few labels and a teacher with the same labels (cchkit's
    study: ``benchmarks/results/few_labels.md``, where the few-label validation computes it on
    the regime's labelled rows). Point rule, no abstention. Columns
    ``teacher_accuracy_on_x``, ``student_accuracy_on_x``.
    """

    signal_text = "the cross-validated accuracy gap on X, teacher minus student"

    column = "teacher_accuracy_on_x"
    columns = ("teacher_accuracy_on_x", "student_accuracy_on_x")
    helps_when = "the teacher's cross-validated accuracy on its features beats the student's on its own"
