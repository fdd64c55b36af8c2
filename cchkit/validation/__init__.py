"""Validation: does the ranking's advice hold? Distil each candidate teacher into the student
over tuned baselines and compare the measured gains with the criteria (a layer above
:mod:`cchkit.ranking` and :mod:`cchkit.distill`).

Modules: :mod:`~cchkit.validation.validate` (:func:`validate`), :mod:`~cchkit.validation.stacked`
(the tuned stacks of students), :mod:`~cchkit.validation.probe` (the linear-probe baseline),
:mod:`~cchkit.validation.verdict` (whether the advice held).
"""

from .validate import ValidationReport, validate

__all__ = ["validate", "ValidationReport"]
