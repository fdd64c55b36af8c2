r"""Criteria on the teacher's and the student's class structure: which classes each confuses.

Both read the class-conditional predictive matrices :math:`Q_T, Q_S` (C x C; row y is the mean
cross-fitted predicted distribution of the samples of class y, from a linear discriminant on H).
The unpaired (class-level) distillers transfer exactly this structure, so a teacher whose
confusions resemble the student's should help, one whose confusions differ may hurt. Neither has
a natural threshold: until the criterion study chooses one, both decide "inconclusive" and only
rank (they are not recommendable).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .base import Criterion, CriterionInputs
from .registry import register_criterion

__all__ = ["NonTargetDivergence", "ClassStructureAgreement", "non_target_divergence", "structure_agreement"]


def non_target_divergence(q_t: np.ndarray, q_s: np.ndarray, prior: np.ndarray | None = None) -> float:
    r""":math:`\sum_y \pi_y \mathrm{KL}(\tilde q_T(\cdot|y) \,\|\, \tilde q_S(\cdot|y))`, with
    :math:`\tilde q(\cdot|y)` the row renormalised over the classes other than y."""
    c = q_t.shape[0]
    prior = np.full(c, 1.0 / c) if prior is None else prior
    off = ~np.eye(c, dtype=bool)
    t = np.clip(q_t[off].reshape(c, c - 1), 1e-12, None)
    s = np.clip(q_s[off].reshape(c, c - 1), 1e-12, None)
    t, s = t / t.sum(1, keepdims=True), s / s.sum(1, keepdims=True)
    return float((prior * (t * np.log(t / s)).sum(1)).sum())


def structure_agreement(q_t: np.ndarray, q_s: np.ndarray) -> float:
    """Pearson correlation of the off-diagonal entries of the two matrices (NaN if either is constant)."""
    off = ~np.eye(q_t.shape[0], dtype=bool)
    a, b = q_t[off], q_s[off]
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])


def _inconclusive(table: pd.DataFrame) -> pd.Series:
    return pd.Series("inconclusive", index=table.index, dtype=object)


@register_criterion("non_target_divergence")
class NonTargetDivergence(Criterion):
    r"""Non-target divergence (the Non-target Divergence Hypothesis, Chen et al. 2024,
    arXiv:2409.02438: cross-modal KD works when teacher and student spread their non-target
    probability alike):

    .. math:: D = \sum_y \pi_y\, \mathrm{KL}\big(\tilde Q_T(\cdot \mid y) \,\|\,
              \tilde Q_S(\cdot \mid y)\big),

    with :math:`\tilde Q(\cdot|y)` the class-conditional predictive row renormalised over the
    classes other than y (uniform :math:`\pi`). Lower predicts a larger gain. Column
    ``non_target_divergence``."""

    signal_text = "minus the non-target divergence"

    column = "non_target_divergence"
    columns = ("non_target_divergence",)
    helps_when = "no threshold chosen yet: ranks only (lower divergence first)"
    recommendable = False
    higher_is_better = False

    def compute(self, inputs: CriterionInputs) -> dict[str, float]:
        if inputs.teacher_class_probs is None or inputs.student_class_probs is None:
            return {"non_target_divergence": math.nan}
        return {"non_target_divergence": non_target_divergence(inputs.teacher_class_probs, inputs.student_class_probs)}

    def decide(self, table: pd.DataFrame) -> pd.Series:
        return _inconclusive(table)


@register_criterion("class_structure")
class ClassStructureAgreement(Criterion):
    r"""Agreement of the teacher's and the student's class-similarity structure (after UCMKD's
    view that class-level transfer carries the teacher's confusions, Tran et al., ICML 2026):

    .. math:: \rho = \mathrm{corr}\big(\{Q_T(j \mid y)\}_{j \ne y}, \{Q_S(j \mid y)\}_{j \ne y}\big),

    the Pearson correlation of the off-diagonal entries of the two class-conditional predictive
    matrices. Higher predicts a larger gain. Column ``class_structure``."""

    signal_text = "the class-structure agreement"

    column = "class_structure"
    columns = ("class_structure",)
    helps_when = "no threshold chosen yet: ranks only (higher agreement first)"
    recommendable = False

    def compute(self, inputs: CriterionInputs) -> dict[str, float]:
        if inputs.teacher_class_probs is None or inputs.student_class_probs is None:
            return {"class_structure": math.nan}
        return {"class_structure": structure_agreement(inputs.teacher_class_probs, inputs.student_class_probs)}

    def decide(self, table: pd.DataFrame) -> pd.Series:
        return _inconclusive(table)
