"""The criteria registry (issue #25): its contract, each built-in against hand-computed values,
and a registered criterion reaching the ranking, the recommendation and validate."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import cchkit
from cchkit.cch import Term
from cchkit.criteria import (
    Criterion,
    CriterionInputs,
    criteria_columns,
    decide_by_interval,
    decide_by_threshold,
    get_criterion,
    list_criteria,
    register_criterion,
    unregister_criterion,
)
from cchkit.exceptions import InputError
from cchkit.ranking import RANKING_COLUMNS, RECOMMEND_BY
from cchkit.validation.validate import criterion_stats

Z95 = 1.959963984540054
INPUTS = CriterionInputs(
    i_teacher_student=Term(1.0, 0.3), i_student_label=Term(0.25, 0.4), i_teacher_label=Term(0.8, 0.1),
    i_joint_label=Term(0.9, 0.3), teacher_accuracy_on_h=0.9, student_accuracy_on_h=0.7,
)


def test_every_builtin_keeps_the_contract():
    names = list_criteria()
    assert names[:3] == ["cch_score", "teacher_accuracy", "label_gain"] and "class_structure" in names
    for name in names:
        c = get_criterion(name)
        assert c.name == name and c.columns[0] == c.column and c.helps_when
        assert set(c.columns) <= set(RANKING_COLUMNS)
        assert c.__doc__ and ".. math::" in c.__doc__ or name in ("i_teacher_label", "i_teacher_student")
        assert c.compute(INPUTS) is not None
        values = c.compute(INPUTS)
        assert list(values) == list(c.columns)
    # recommendable by their own rule, plus those the criterion study gave a band
    from cchkit.criteria import advisable_criteria

    assert {"cch_score", "teacher_accuracy", "label_gain"} <= set(RECOMMEND_BY) == set(advisable_criteria())
    assert set(criteria_columns()) <= set(RANKING_COLUMNS)


def test_builtins_against_hand_computed_values():
    cch = get_criterion("cch_score").compute(INPUTS)  # 1.0 - 0.25, se 0.5
    assert cch == pytest.approx({"cch_score": 0.75, "cch_low": 0.75 - Z95 * 0.5, "cch_high": 0.75 + Z95 * 0.5})
    gain = get_criterion("label_gain").compute(INPUTS)  # 0.9 - 0.25, se 0.5
    assert gain["label_gain"] == pytest.approx(0.65) and gain["label_gain_high"] == pytest.approx(0.65 + Z95 * 0.5)
    assert gain["label_gain_low"] == 0.0  # 0.65 - 0.98 < 0: a conditional MI's interval stops at 0
    # MFH: (0.8 + 0.25 - 0.9) / 0.8
    assert get_criterion("mfh_score").compute(INPUTS)["mfh_score"] == pytest.approx(0.15 / 0.8)
    assert get_criterion("teacher_accuracy").compute(INPUTS) == {"teacher_accuracy_on_h": 0.9, "student_accuracy_on_h": 0.7}


def test_decision_rules():
    assert list(decide_by_interval([0.1, -0.5, -0.1, np.nan], [0.3, -0.1, 0.2, 1.0])) == \
        ["helps", "hurts", "inconclusive", "inconclusive"]
    assert list(decide_by_threshold([0.9, 0.5, np.nan], [0.6, 0.6, 0.6])) == ["helps", "hurts", "inconclusive"]
    t = pd.DataFrame({"student": ["s"] * 3, "i_teacher_student": [1.0, 2.0, 3.0], "mfh_score": [0.2, 0.6, 0.5],
                      "i_teacher_label": [0.1, 0.5, 0.3], "i_student_label": [0.3, 0.3, 0.3],
                      "teacher_accuracy_on_h": [0.5, 0.9, np.nan], "student_accuracy_on_h": [0.6, np.nan, 0.6],
                      "acc_none": [0.7, 0.8, 0.7]})
    assert list(get_criterion("i_teacher_student").decide(t)) == ["hurts", "hurts", "helps"]  # median 2.0
    assert list(get_criterion("mfh_score").decide(t)) == ["hurts", "helps", "hurts"]
    assert list(get_criterion("i_teacher_label").decide(t)) == ["hurts", "helps", "hurts"]
    # a missing student accuracy falls back to the measured no-KD accuracy (0.8)
    assert list(get_criterion("teacher_accuracy").decide(t)) == ["hurts", "helps", "inconclusive"]


def test_unknown_criterion_is_refused():
    with pytest.raises(InputError, match="unknown criterion 'nope'"):
        get_criterion("nope")
    with pytest.raises(InputError, match="criterion must be None or one of"):
        cchkit.rank_teachers("digits-avt", "audio", ["text"], criterion="not_a_criterion")


class TeacherInformation(Criterion):
    r"""Test criterion: :math:`I(H_T; Y)` with its interval, "helps" above 1 nat."""

    column = "test_info"
    columns = ("test_info", "test_info_low")
    helps_when = "I(H_T; Y) above 1 nat"

    def compute(self, inputs):
        return {"test_info": inputs.i_teacher_label.value, "test_info_low": inputs.i_teacher_label.low}

    def decide(self, table):
        return pd.Series(decide_by_threshold(table["test_info"], 1.0), index=table.index)


def test_a_registered_criterion_reaches_the_ranking_and_validate():
    register_criterion("test_info")(TeacherInformation)
    try:
        ranking = cchkit.rank_teachers("digits-avt", "audio", ["image", "text"], criterion="test_info", n_bootstrap=20)
        t = ranking.table
        assert {"test_info", "test_info_low"} <= set(t.columns) and t.columns[-1] == "error"
        assert t["test_info"].tolist() == pytest.approx(t["i_teacher_label"].tolist())
        assert t["predicts_gain"].tolist() == (t["test_info"] > 1.0).tolist()
        assert ranking.recommended == t.sort_values("test_info").iloc[-1]["teacher"]
        v = pd.DataFrame({"test_info": [1.5, 0.5], "gain": [0.02, -0.03], "gain_low": [0.01, -0.05],
                          "gain_high": [0.03, -0.01], "significant": [True, True]})
        st = criterion_stats(v, "test_info")
        assert (st["sign_agree"], st["n_significant"], st["top_is_best"]) == (2, 2, True)
    finally:
        unregister_criterion("test_info")
    assert "test_info" not in RECOMMEND_BY


def test_registry_refuses_what_is_not_a_criterion():
    with pytest.raises(TypeError):
        register_criterion("x")(object)

    class NoColumn(TeacherInformation):
        column = "other"

    with pytest.raises(TypeError, match="columns"):
        register_criterion("x")(NoColumn)


# ---------------------------------------------------------------------- class-structure criteria
def test_non_target_divergence_by_hand():
    from cchkit.criteria.class_structure import non_target_divergence

    q_t = np.array([[0.8, 0.15, 0.05], [0.1, 0.8, 0.1], [0.3, 0.1, 0.6]])
    q_s = np.array([[0.6, 0.2, 0.2], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
    # class 0: (0.75, 0.25) vs (0.5, 0.5); class 1: equal; class 2: (0.75, 0.25) vs (0.5, 0.5)
    kl = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)
    assert non_target_divergence(q_t, q_s) == pytest.approx((kl + 0 + kl) / 3)
    assert non_target_divergence(q_t, q_t) == pytest.approx(0.0)


def test_class_structure_agreement_by_hand():
    from cchkit.criteria.class_structure import structure_agreement

    q = np.array([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.05, 0.15, 0.8]])
    assert structure_agreement(q, q) == pytest.approx(1.0)
    off = ~np.eye(3, dtype=bool)
    other = q.copy()
    other[off] = other[off][::-1]
    assert structure_agreement(q, other) == pytest.approx(np.corrcoef(q[off], q[off][::-1])[0, 1])


def test_class_structure_criteria_in_a_ranking():
    ranking = cchkit.rank_teachers("digits-avt", "audio", ["image", "text"], n_bootstrap=20)
    t = ranking.table
    assert t["non_target_divergence"].gt(0).all() and t["class_structure"].between(-1, 1).all()
    ntd = get_criterion("non_target_divergence")
    assert not ntd.higher_is_better and not ntd.recommendable
    assert set(ntd.decide(t)) == {"inconclusive"}
    v = pd.DataFrame({"non_target_divergence": [0.1, 0.5, 0.9], "gain": [0.03, 0.0, -0.03], "significant": [False] * 3,
                      "gain_low": [0.0] * 3, "gain_high": [0.1] * 3})
    st = criterion_stats(v, "non_target_divergence")
    assert st["spearman"] == pytest.approx(1.0) and st["top_is_best"] is True  # lower divergence, larger gain


def test_teacher_cv_accuracy_against_hand_computed_values():
    """acc_CV(X_T) - acc_CV(X_S): 0.95 - 0.70 = +0.25 helps; a teacher below the student hurts."""
    import dataclasses

    crit = get_criterion("teacher_cv_accuracy")
    inputs = dataclasses.replace(INPUTS, teacher_accuracy_on_x=0.95, student_accuracy_on_x=0.70)
    assert crit.compute(inputs) == {"teacher_accuracy_on_x": 0.95, "student_accuracy_on_x": 0.70}
    t = pd.DataFrame({"teacher_accuracy_on_x": [0.95, 0.60, np.nan], "student_accuracy_on_x": [0.70, 0.70, 0.70]})
    assert crit.signal(t).round(6).tolist()[:2] == [0.25, -0.1]
    assert list(crit.decide(t)) == ["helps", "hurts", "inconclusive"]


@pytest.mark.usefixtures("paper_rule")  # the criterion's own rule, no study band
def test_teacher_cv_accuracy_ranks_a_label_rich_teacher_above_noise(structured_bundle):
    """Known answer: the teacher that reads the label is ranked first, the noise teacher last."""
    from cchkit import rank_teachers

    r = rank_teachers(structured_bundle, "student", ["label_only", "noise"], criterion="teacher_cv_accuracy",
                      n_bootstrap=20)
    t = r.table.set_index("teacher")
    assert t.loc["label_only", "rank"] == 1 and t.loc["noise", "advice"] == "hurts"
