r"""The Cross-modal Complementarity Hypothesis score (the paper's criterion)."""

from __future__ import annotations

import pandas as pd

from ..cch import score_interval
from .base import Criterion, CriterionInputs, decide_by_interval
from .registry import register_criterion

__all__ = ["CCHScore"]


@register_criterion("cch_score")
class CCHScore(Criterion):
    r"""CCH score (Xie, Xu & Sanguinetti 2025, "Information-Theoretic Criteria for Knowledge
    Distillation in Multimodal Learning", arXiv:2510.13182):

    .. math:: \mathrm{score} = I(H_T; H_S) - I(H_S; Y), \qquad
              se = \sqrt{se_{TS}^2 + se_{SY}^2},

    "helps" when the 95% interval ``score +- 1.96 se`` lies above 0, "hurts" below, else
    "inconclusive". Columns ``cch_score``, ``cch_low``, ``cch_high``.
    """

    signal_text = "the CCH score I(H_T;H_S) - I(H_S;Y)"

    column = "cch_score"
    columns = ("cch_score", "cch_low", "cch_high")
    helps_when = "the CCH score's interval is above 0 (decision 'helps'), after the paper"

    def compute(self, inputs: CriterionInputs) -> dict[str, float]:
        score, low, high = score_interval(inputs.i_teacher_student, inputs.i_student_label)
        return {"cch_score": score, "cch_low": low, "cch_high": high}

    def decide(self, table: pd.DataFrame) -> pd.Series:
        """The table's ``decision`` column where it has one (the ranking's CCH decision: this rule,
        after the guards that withhold it), else the rule on ``cch_low`` / ``cch_high``."""
        by_interval = pd.Series(decide_by_interval(table["cch_low"], table["cch_high"]), index=table.index)
        if "decision" not in table:
            return by_interval
        given = table["decision"].where(table["decision"].isin(("helps", "hurts", "inconclusive")))
        return given.fillna(by_interval)
