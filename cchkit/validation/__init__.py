"""Validation: does the ranking's advice hold? Distil each candidate teacher into the student
over tuned baselines and compare the measured gains with the criteria (a layer above
:mod:`cchkit.ranking` and :mod:`cchkit.distill`).

Modules: :mod:`~cchkit.validation.validate` (:func:`validate`, the procedure),
:mod:`~cchkit.validation.report` (:class:`ValidationReport`), :mod:`~cchkit.validation.gains`
(the no-KD baseline and one gain row per teacher and method),
:mod:`~cchkit.validation.plan` (what will run, checked first), :mod:`~cchkit.validation.seeds`
(the seeds and the budget's rounds), :mod:`~cchkit.validation.evidence` (what the seeds can detect,
how each criterion did), :mod:`~cchkit.validation.stacked` (the tuned stacks of students), :mod:`~cchkit.validation.probe` (the linear-probe baseline),
:mod:`~cchkit.validation.verdict` (whether the advice held).
"""

from .validate import BASELINES, ValidationReport, validate

__all__ = ["validate", "ValidationReport", "BASELINES"]
