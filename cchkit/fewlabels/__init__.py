"""The few-label validation: a student with few labels and many unlabeled rows.

:func:`validate_few_labels` (run by :func:`cchkit.validate` when labels are scarce) measures
every teacher's gain over the best teacher-free student (supervised, label smoothing,
self-training) and over a placebo teacher; :class:`LabelRegime` says how scarce the labels are;
objectives are registered with :func:`register_objective` (importing this package registers
the built-ins).
"""

from . import builtin  # noqa: F401  (registers the built-in objectives)
from .objectives import (
    Batch,
    Objective,
    TeacherView,
    get_objective,
    list_objectives,
    register_objective,
    unregister_objective,
)
from .regime import LabelRegime, plan_seed
from .report import FEWLABEL_COLUMNS, FewLabelReport
from .validate import labels_across_pairs, teacher_label_modes, validate_few_labels

__all__ = ["validate_few_labels", "FewLabelReport", "FEWLABEL_COLUMNS", "LabelRegime", "plan_seed", "Objective",
           "Batch", "TeacherView", "register_objective", "unregister_objective", "get_objective", "list_objectives",
           "labels_across_pairs", "teacher_label_modes"]
