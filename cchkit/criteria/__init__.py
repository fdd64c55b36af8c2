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

import math

from .base import (
    DECISIONS,
    Criterion,
    CriterionInputs,
    Decision,
    decide_by_band,
    decide_by_interval,
    decide_by_threshold,
)
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
from . import teacher_cv_accuracy  # noqa: F401,E402

# isort: split
from . import baselines  # noqa: F401,E402

# isort: split
from . import class_structure  # noqa: F401,E402

# isort: split
from . import pid_unique  # noqa: F401,E402

# isort: split
from . import probe_kd  # noqa: F401,E402

# isort: split
from .regimes import data_regime, studied_regime  # noqa: E402
from .track_record import (  # noqa: E402
    TrackRecord,
    advice_decisions,
    default_criterion,
    helps_threshold,
    load_track_record,
    record_for,
    track_statement,
)

__all__ = [
    "Criterion", "CriterionInputs", "Decision", "DECISIONS", "decide_by_interval", "decide_by_threshold", "decide_by_band",
    "register_criterion", "unregister_criterion", "get_criterion", "list_criteria", "criteria_columns",
    "DEFAULT_CRITERION", "TrackRecord", "advice_decisions", "default_criterion", "load_track_record",
    "track_statement", "advisable_criteria", "advice_rule", "helps_threshold", "record_for", "data_regime",
    "studied_regime",
]

def __getattr__(name: str) -> str:
    """``DEFAULT_CRITERION``: the criterion rank_teachers decides by when none is named and no
    study covers the data's label regime (the full-label study's choice by leave-one-bundle-out;
    a studied regime uses :func:`default_criterion` of that regime), read from track_record.json
    when asked for, so that a command that uses no criterion never reads the record."""
    if name == "DEFAULT_CRITERION":
        return default_criterion()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def advisable_criteria(regime: str | None = None) -> list[str]:
    """The criteria a ranking may decide by: those with a rule of their own (recommendable) and
    those the criterion study (of ``regime``, where one ran) gave a band."""
    record = record_for(regime)
    banded = set(record.bands) if record else set()
    return [c for c in list_criteria() if get_criterion(c).recommendable or c in banded]


def advice_rule(name: str, regime: str | None = None) -> str:
    """How ``name`` decides, in words: its study band (of ``regime``, where one ran) where it
    has one, else its own rule."""
    record = record_for(regime)
    if record is None or name not in record.bands:
        return get_criterion(name).helps_when
    low, high = record.bands[name]
    crit = get_criterion(name)
    what = crit.signal_text or (crit.column if crit.higher_is_better else f"-{crit.column}")
    helps = f"{what} is above {high:.4g}" if math.isfinite(high) else f"never ({what} has no upper cut)"
    if math.isfinite(low):
        rest = f"hurts below {low:.4g}, inconclusive between"
    else:
        rest = "it never advises 'hurts'; inconclusive below"
    return f"{helps} ({rest}; band fitted by the criterion study)"
