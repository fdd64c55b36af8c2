"""Criteria that predict whether distilling a teacher into a student helps, in one registry.

Each criterion is one module here, registered with :func:`register_criterion`: it declares the
ranking column(s) it fills, computes them for a row (:meth:`Criterion.compute`, with an
interval where one exists) and turns a table into decisions (:meth:`Criterion.decide`). The
ranking (``rank_teachers(criterion=...)``), ``validate``'s criterion statistics and the CLI help
read the registry; nothing else lists criteria. Importing this package registers the built-ins.

>>> from cchkit.criteria import get_criterion, list_criteria
>>> list_criteria()  # doctest: +SKIP
['cch_score', 'teacher_accuracy', 'label_gain', 'i_teacher_label', 'i_teacher_student', 'mfh_score']
"""

from __future__ import annotations

from .base import DECISIONS, Criterion, CriterionInputs, Decision, decide_by_interval, decide_by_threshold
from .registry import criteria_columns, get_criterion, list_criteria, register_criterion, unregister_criterion

# the built-ins, registered in the order tables and reports list them (one block each, so that
# import sorting cannot reorder them)
# isort: split
from . import cch_score  # noqa: F401,E402

# isort: split
from . import teacher_accuracy  # noqa: F401,E402

# isort: split
from . import label_gain  # noqa: F401,E402

# isort: split
from . import baselines  # noqa: F401,E402

# isort: split
from . import class_structure  # noqa: F401,E402

__all__ = [
    "Criterion", "CriterionInputs", "Decision", "DECISIONS", "decide_by_interval", "decide_by_threshold",
    "register_criterion", "unregister_criterion", "get_criterion", "list_criteria", "criteria_columns",
    "DEFAULT_CRITERION",
]

#: The criterion rank_teachers recommends by (chosen by benchmarks/criteria.py).
DEFAULT_CRITERION = "cch_score"
