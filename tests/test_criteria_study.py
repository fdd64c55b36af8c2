"""The criteria added for the study (issue #25: PID unique information, the linear-probe
distillation gain), the abstention band, and the track record the ranking decides by."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import cchkit
from cchkit.cch import Term
from cchkit.criteria import CriterionInputs, decide_by_band, get_criterion, regimes, track_record
from cchkit.criteria.pid_unique import mmi_unique
from cchkit.criteria.probe_kd import probe_distillation_gain, soft_target_logreg


def _inputs(ty: float, sy: float, **kw) -> CriterionInputs:
    return CriterionInputs(i_teacher_student=Term(1.0, 0.1), i_student_label=Term(sy, 0.1),
                           i_teacher_label=Term(ty, 0.1), i_joint_label=Term(max(ty, sy) + 0.1, 0.1),
                           teacher_accuracy_on_h=0.9, student_accuracy_on_h=0.7, **kw)


def test_pid_unique_by_hand():
    # U_T = I(T;Y) - min(I(T;Y), I(S;Y))
    assert mmi_unique(2.0, 1.5) == pytest.approx(0.5)
    assert mmi_unique(1.0, 1.5) == 0.0
    assert math.isnan(mmi_unique(math.nan, 1.0))
    assert get_criterion("pid_unique").compute(_inputs(1.25, 0.5)) == {"pid_unique": pytest.approx(0.75)}


def test_decide_by_band():
    got = decide_by_band([-1.0, -0.1, 0.0, 0.2, 0.5, np.nan], -0.5, 0.3)
    assert list(got) == ["hurts", "inconclusive", "inconclusive", "inconclusive", "helps", "inconclusive"]


def _blobs(n_per: int = 60, c: int = 4, d: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(c), n_per)
    means = rng.normal(0, 2.0, (c, d))
    return means[y] + rng.normal(0, 1.0, (y.size, d)), y


def test_soft_target_logreg_matches_sklearn_on_hard_labels():
    from sklearn.linear_model import LogisticRegression

    x, y = _blobs()
    l2 = 1e-2
    w = soft_target_logreg(x, np.eye(4)[y], l2=l2, max_iter=2000)
    ours = np.exp(np.hstack([x, np.ones((y.size, 1))]) @ w)
    ours /= ours.sum(1, keepdims=True)
    # sklearn minimises C * sum(loss) + ||W||^2 / 2, i.e. mean loss + ||W||^2 / (2 C n): l2 = 1 / (C n)
    ref = LogisticRegression(C=1.0 / (l2 * y.size), max_iter=5000, tol=1e-10).fit(x, y).predict_proba(x)
    assert np.abs(ours - ref).max() < 1e-3


def test_probe_gain_is_zero_for_one_hot_teacher_and_negative_for_a_wrong_structure():
    x, y = _blobs()
    assert probe_distillation_gain(x, y, np.eye(4)) == 0.0  # targets unchanged: the same fits
    wrong = np.eye(4)[[1, 0, 3, 2]]  # all of the teacher's mass on another class
    assert probe_distillation_gain(x, y, wrong, weight=0.6) < -0.3


def test_probe_criterion_needs_the_student_representation():
    x, y = _blobs()
    crit = get_criterion("probe_kd")
    assert math.isnan(crit.compute(_inputs(1.0, 0.5))["probe_kd"])
    got = crit.compute(_inputs(1.0, 0.5, teacher_class_probs=np.eye(4), student_h=x, student_labels=y))
    assert got == {"probe_kd": 0.0}


@pytest.fixture
def record(tmp_path, monkeypatch):
    """A track record naming teacher_accuracy_on_h with a band, in place of the shipped one."""
    path = tmp_path / "track_record.json"
    path.write_text(json.dumps({
        "default": "teacher_accuracy", "units": ["a", "b", "c"], "method": "class-align", "date": "2026-12-04",
        "criteria": {"teacher_accuracy": {"band": [-0.1, 0.2], "held_out_sign_right": 9, "held_out_significant": 12,
                                          "held_out_abstain_null": 0.75, "held_out_null": 40},
                     "cch_score": {"band": [None, 0.5], "held_out_sign_right": 2, "held_out_significant": 12,
                                   "held_out_committed": 4, "held_out_abstain_null": 0.1, "held_out_null": 40}}}))
    monkeypatch.setattr(track_record, "TRACK_FILE", path)
    monkeypatch.setattr(regimes, "REGIME_FILE", tmp_path / "no_regime_study.json")  # no regime was studied
    track_record.load_track_record.cache_clear()
    regimes.load_regime_records.cache_clear()
    yield path
    track_record.load_track_record.cache_clear()
    regimes.load_regime_records.cache_clear()


def test_advice_follows_the_study_band(record):
    t = pd.DataFrame({"teacher_accuracy_on_h": [0.95, 0.8, 0.5], "student_accuracy_on_h": [0.7, 0.7, 0.7],
                      "cch_low": [-1.0, 0.1, 0.6], "cch_high": [2.0, 0.7, 0.9], "cch_score": [0.1, 0.4, 0.75]})
    # gaps +0.25, +0.10, -0.20 against the band (-0.1, 0.2)
    assert list(track_record.advice_decisions(t, "teacher_accuracy")) == ["helps", "inconclusive", "hurts"]
    # a missing bound is unbounded: cch never "hurts", helps above 0.5
    assert list(track_record.advice_decisions(t, "cch_score")) == ["inconclusive", "inconclusive", "helps"]
    assert track_record.default_criterion() == "teacher_accuracy"
    assert "right sign on 2 of 12 significant class-align gains (17%) (it committed on 4: right on 50% of those)" \
        in track_record.track_statement("cch_score")
    assert track_record.track_statement("teacher_accuracy").startswith(
        "right sign on 9 of 12 significant class-align gains (75%) across 3 held-out bundles; it answered "
        "'inconclusive' on 75% of 40 gains within noise")


def test_without_a_record_the_criterion_keeps_its_own_rule(tmp_path, monkeypatch):
    monkeypatch.setattr(track_record, "TRACK_FILE", tmp_path / "missing.json")
    track_record.load_track_record.cache_clear()
    try:
        t = pd.DataFrame({"teacher_accuracy_on_h": [0.95, 0.8], "student_accuracy_on_h": [0.7, 0.9]})
        assert list(track_record.advice_decisions(t, "teacher_accuracy")) == ["helps", "hurts"]
        assert track_record.default_criterion() == "cch_score"
        assert "no track record" in track_record.track_statement("teacher_accuracy")
    finally:
        track_record.load_track_record.cache_clear()


def test_ranking_writes_the_advice_of_its_criterion(record):
    r = cchkit.rank_teachers("digits-avt", "audio", ["image", "text"], criterion="teacher_accuracy", n_bootstrap=20)
    t = r.table.set_index("teacher")
    gap = t["teacher_accuracy_on_h"] - t["student_accuracy_on_h"]
    expected = np.where(gap > 0.2, "helps", np.where(gap < -0.1, "hurts", "inconclusive"))
    assert list(t["advice"]) == list(expected)
    assert list(t["predicts_gain"]) == [a == "helps" for a in expected]


def test_the_study_report_ships_the_criterion_whose_held_out_decisions_follow_the_gains():
    """benchmarks/criteria.py end to end on a made-up corpus: one criterion equals the gain, the
    others are noise, so the held-out choice (and the shipped track record) must be that one."""
    import sys
    from pathlib import Path

    from cchkit.criteria import list_criteria

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from criteria import report

    rng = np.random.default_rng(0)
    rows, sig_rows = [], []
    for u in ("u1", "u2", "u3", "u4"):
        for s in ("s1", "s2"):
            for t in ("t1", "t2", "t3", "t4", "t5"):
                gain = float(rng.choice([-0.04, -0.02, 0.0, 0.0, 0.02, 0.04]))
                rows.append(dict(unit=u, bundle=u, student=s, teacher=t, kind="real", method="class-align",
                                 regime="full", tuned=True, gain=gain, gain_low=gain - 0.01, gain_high=gain + 0.01,
                                 significant=gain != 0.0, acc_none=0.7, acc_probe=0.7))
                signal = {c: float(rng.normal()) for c in list_criteria()}
                signal["teacher_accuracy"] = gain
                sig_rows.append(dict(bundle=u, student=s, teacher=t, cch_decision="helps", **signal))
    text, record = report(pd.DataFrame(rows), pd.DataFrame(sig_rows), np.random.default_rng(1))
    assert record["default"] == "teacher_accuracy"
    best = record["criteria"]["teacher_accuracy"]
    assert best["held_out_sign_right"] == best["held_out_significant"] == sum(r["significant"] for r in rows)
    assert "## class-align, full regime: 40 pairs" in text


def test_the_top1_ceiling_is_the_bootstrap_chance_that_the_best_teacher_stays_best():
    """Two teachers whose per-seed difference is +1, -1, +1, -1, +1: a resample of the five
    seeds keeps the first teacher best when it draws three or more of the +1 seeds,
    P(Binomial(5, 3/5) >= 3) = 0.68256; a teacher ahead on every seed always stays best."""
    import sys
    from pathlib import Path

    from scipy import stats

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from criteria_eval import top1_stability

    alternating = np.array([[1.0, 0.0, 1.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0, 0.0]])
    expected = float(stats.binom.sf(2, 5, 0.6))
    assert expected == pytest.approx(0.68256)
    assert top1_stability(alternating, n_boot=40000) == pytest.approx(expected, abs=0.01)
    assert top1_stability(alternating[::-1], n_boot=40000) == pytest.approx(expected, abs=0.01)  # whoever is listed first
    ahead = np.array([[0.0, 0.1, 0.2, 0.0, 0.3], [-0.1, 0.0, 0.1, -0.1, 0.2]])
    assert top1_stability(ahead) == 1.0


def test_a_tie_at_the_criterions_top_earns_a_share_of_the_top1_not_the_table_order():
    """mfeat fou at 5 labels per class: fac and pix tie at 0.860 cross-validated accuracy, fac
    has the best gain; a tie of two earns 1/2 whichever is listed first."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from few_labels import top1_credit

    tcv, gain = np.array([0.86, 0.783, 0.86, 0.68]), np.array([0.166, 0.134, 0.160, 0.136])
    assert top1_credit(tcv, gain) == 0.5 and top1_credit(tcv[::-1], gain[::-1]) == 0.5
    as_measured = np.array([0.8600000023841858, 0.783, 0.8599999984105429, 0.68])  # the same 43/50, float32 means
    assert top1_credit(as_measured, gain) == 0.5
    assert top1_credit(np.array([0.9, 0.8]), np.array([0.1, 0.0])) == 1.0
    assert top1_credit(np.array([0.8, 0.9]), np.array([0.1, 0.0])) == 0.0


def test_the_few_label_record_takes_a_fractional_top1_and_refuses_a_negative_one():
    from cchkit.exceptions import InputError
    from cchkit.fewlabels.track_record import check_record

    entry = {"top1_right": 14.5, "n_students": 21, "n_bundles": 6, "always_helps_right": 19, "n_pairs": 31}
    assert check_record({"regimes": {"L5-same": entry}})["regimes"]["L5-same"]["top1_right"] == 14.5
    with pytest.raises(InputError, match="non-negative number"):
        check_record({"regimes": {"L5-same": {**entry, "top1_right": -1.0}}})
    with pytest.raises(InputError, match="non-negative integer"):
        check_record({"regimes": {"L5-same": {**entry, "n_students": 21.0}}})


def test_the_held_out_spearman_is_the_median_over_students_with_three_teachers():
    """Spearman is only defined for a student with 3+ teachers (NaN otherwise): the median over
    those, not over every student, and None where no student has three."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from criteria_regimes import held_out_spearman

    held = pd.DataFrame({"top1": [1.0, 0.0, 1.0, 1.0], "spearman": [0.5, np.nan, -0.5, 1.0]})
    assert held_out_spearman(held) == {"median_spearman": 0.5, "n_spearman": 3}
    assert held_out_spearman(held.assign(spearman=np.nan)) == {"median_spearman": None, "n_spearman": 0}


def test_the_controls_table_counts_every_regime_per_control_and_both_together():
    """A draw is one (regime, student, control) run; a significant positive gain counts per row."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from few_labels import controls_table

    rows = pd.DataFrame({"regime": ["L5-same"] * 4 + ["all-same"] * 2, "bundle": ["b"] * 6,
                         "student": ["s", "s", "s", "s", "s", "s"],
                         "teacher": ["noise", "noise", "copy", "copy", "noise", "copy"],
                         "method": ["logit-kd", "class-align"] * 2 + ["logit-kd"] * 2,
                         "significant": [True, True, True, False, False, True], "gain": [0.1, -0.1, 0.2, 0.3, 0.1, 0.1],
                         "advised": ["copy", "copy", "copy", "copy", "", ""]})
    table = {(r["regime"], r["control"]): r for r in controls_table(rows)}
    col = "significant positive gains (all methods)"
    assert table[("L5-same", "noise")][col].startswith("1/2 ") and table[("L5-same", "copy")]["advised"].startswith("1/1 ")
    assert table[("every regime", "noise")][col].startswith("1/3 ") and table[("every regime", "copy")][col].startswith("2/3 ")
    assert table[("every regime", "noise and copy")][col].startswith("3/6 ")
    assert table[("every regime", "noise and copy")]["advised"].startswith("1/4 ")  # 4 draws, the copy advised in one
