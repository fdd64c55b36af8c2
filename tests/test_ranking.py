"""Ranking teachers on bundles whose right answer is known."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cchkit import BundleError, InputError, ModalityBundle, UnknownEstimatorError, rank_teachers
from cchkit.ranking import RANKING_COLUMNS


@pytest.mark.parametrize("representation", ["raw", "pca"])
@pytest.mark.usefixtures("paper_rule")
def test_known_order_shared_label_only_noise(structured_bundle, representation):
    r = rank_teachers(structured_bundle, "student", representation=representation, n_bootstrap=50, dim=7)
    t = r.table.set_index("teacher")
    assert list(r.table.columns) == RANKING_COLUMNS
    assert t.loc["shared", "rank"] == 1 and t.loc["label_only", "rank"] == 2 and t.loc["noise", "rank"] == 3
    assert t.loc["shared", "decision"] == "helps"
    assert t.loc["noise", "decision"] == "hurts"
    assert r.recommended == "shared"
    # the score is the difference of the two reported terms
    np.testing.assert_allclose(t["cch_score"], t["i_teacher_student"] - t["i_student_label"])
    # baselines: the noise teacher has no label information and is least accurate
    assert t.loc["noise", "i_teacher_label"] < 0.05
    assert t.loc["noise", "teacher_accuracy_on_h"] < t.loc["label_only", "teacher_accuracy_on_h"]
    assert (t["cch_low"] <= t["cch_score"]).all() and (t["cch_score"] <= t["cch_high"]).all()


def test_same_seed_same_table(structured_bundle):
    a = rank_teachers(structured_bundle, "student", ["shared", "noise"], n_bootstrap=30, random_state=3)
    b = rank_teachers(structured_bundle, "student", ["shared", "noise"], n_bootstrap=30, random_state=3)
    pd.testing.assert_frame_equal(a.table, b.table)


def test_student_all_gives_every_ordered_pair(structured_bundle):
    r = rank_teachers(structured_bundle.select(["student", "shared", "noise"]), "all", n_bootstrap=20)
    assert len(r.table) == 6
    m = r.matrix()
    assert m.shape == (3, 3) and np.isnan(m.loc["shared", "shared"])
    assert set(r.recommendations) == {"student", "shared", "noise"}
    with pytest.raises(InputError, match="use .recommendations"):
        _ = r.recommended


def test_unpaired_candidate_gives_failed_row_not_a_crash():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 50)
    b = ModalityBundle.from_arrays(
        {"s": rng.standard_normal((100, 2)) + y[:, None], "t": rng.standard_normal((100, 2)), "u": rng.standard_normal((100, 2))},
        labels=y,
        ids={"s": np.arange(100), "t": np.arange(100), "u": np.arange(1000, 1100)},
    )
    r = rank_teachers(b, "s", n_bootstrap=20)
    t = r.table.set_index("teacher")
    assert t.loc["u", "decision"] == "failed" and "paired samples" in t.loc["u", "error"]
    assert pd.isna(t.loc["u", "rank"]) and t.loc["t", "rank"] == 1


def test_several_estimators_rows_and_consensus(structured_bundle):
    r = rank_teachers(structured_bundle, "student", ["shared", "noise"], estimators=["gaussian", "gaussian"], n_bootstrap=20)
    assert len(r.table) == 2  # duplicates removed
    assert set(r.table["consensus"]) <= {"helps", "hurts", "inconclusive"}


def test_json_and_csv(structured_bundle, tmp_path):
    r = rank_teachers(structured_bundle, "student", ["shared"], n_bootstrap=20)
    payload = json.loads(r.to_json(tmp_path / "r.json"))
    assert set(payload) == {"rows", "settings"} and payload["rows"][0]["teacher"] == "shared"
    assert pd.read_csv(tmp_path / "r.csv" if r.to_csv(tmp_path / "r.csv") else None).shape[0] == 1


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"student": "student", "candidates": ["student", "noise"]}, BundleError, "also listed as a candidate"),
        ({"student": "video"}, BundleError, "unknown modality"),
        ({"student": "student", "candidates": ["noise", "noise"]}, BundleError, "more than once"),
        ({"student": "student", "estimators": ["nope"]}, UnknownEstimatorError, "unknown estimator"),
        ({"student": "student", "representation": "bert"}, InputError, "representation must be one of"),
        ({"student": "student", "variant": "weird"}, InputError, "variant must be one of 'raw', 'matched'"),
        ({"student": "student", "n_bootstrap": 0}, InputError, "n_bootstrap must be an integer >= 1"),
        ({"student": "student", "n_seeds": -1}, InputError, "n_seeds must be an integer >= 1, got -1"),
    ],
)
def test_bad_arguments(structured_bundle, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        rank_teachers(structured_bundle, **kwargs)


@pytest.mark.usefixtures("paper_rule")
def test_criterion_sets_rank_and_recommendation(structured_bundle):
    from cchkit.ranking import RECOMMEND_BY

    kw = dict(n_bootstrap=30, random_state=0)
    by_acc = rank_teachers(structured_bundle, "student", ["shared", "label_only", "noise"], criterion="teacher_accuracy", **kw)
    t = by_acc.table.set_index("teacher")
    assert by_acc.settings["criterion"] == "teacher_accuracy" and set(by_acc.table["criterion"]) == {"teacher_accuracy"}
    best = t["teacher_accuracy_on_h"].idxmax()
    assert t.loc[best, "rank"] == 1 and t.loc["noise", "rank"] == 3
    assert bool(t.loc["noise", "predicts_gain"]) is False
    assert by_acc.recommended == (best if t.loc[best, "teacher_accuracy_on_h"] > t.loc[best, "student_accuracy_on_h"] else None)
    by_gain = rank_teachers(structured_bundle, "student", ["shared", "label_only", "noise"], criterion="label_gain", **kw)
    g = by_gain.table.set_index("teacher")
    # the noise teacher adds no label information beyond the student's: no predicted gain
    # (the bias-corrected joint term comes out slightly below I(S;Y): 7 noise dims cost parameters;
    # the printed gain stops at 0 and the row says so)
    assert g.loc["noise", "label_gain"] < 0.15 and g.loc["noise", "label_gain_low"] == 0 and not g.loc["noise", "predicts_gain"]
    assert "floored at 0" in g.loc["noise", "label_check"]
    assert g.loc["label_only", "label_gain_low"] > 0 and g.loc["label_only", "predicts_gain"]
    # the CCH score and its decision are in every row whatever the criterion
    assert g["cch_score"].notna().all() and set(g["decision"]) <= {"helps", "hurts", "inconclusive"}
    with pytest.raises(InputError, match="criterion must be None or one of"):
        rank_teachers(structured_bundle, "student", ["noise"], criterion="vibes")
    assert set(RECOMMEND_BY) >= {"cch_score", "teacher_accuracy", "label_gain"}


def test_pca_var_keeps_the_stated_share_of_variance():
    from cchkit.representations import PCA_VARIANCE_SHARE, compute_representations

    rng = np.random.default_rng(0)
    n = 600
    low_rank = rng.standard_normal((n, 3)) @ rng.standard_normal((3, 40)) + 0.05 * rng.standard_normal((n, 40))
    y = rng.integers(0, 3, n)
    reps = compute_representations({"a": low_rank, "b": rng.standard_normal((n, 40))}, y, kind="pca-var", random_state=0)
    assert reps.dim("a") == 3  # three directions hold well over 90% of the variance
    assert reps.dim("b") == n // 6 or reps.dim("b") >= 0.8 * 40  # isotropic noise: most components (capped at n/6)
    assert reps.info["explained_variance"]["a"] >= PCA_VARIANCE_SHARE
