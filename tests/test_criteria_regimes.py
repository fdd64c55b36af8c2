"""The ranking decides with the record of the label regime its data are in."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import cchkit
from cchkit.criteria import data_regime, regimes, studied_regime, track_record
from cchkit.exceptions import InputError


def _entry(default: str, band: list, top1: int = 3, pairs: int = 15, helped: int = 2, **counts) -> dict:
    crit = {"band": band, "held_out_sign_right": 4, "held_out_significant": 5, "held_out_committed": 5,
            "held_out_null": 10, "held_out_not_helps_null": 8, "top1_right": top1, "n_students": 4, **counts}
    return {"method": "logit-kd", "units": ["a", "b", "c"], "default": default, "pairs": pairs, "helped": helped,
            "criteria": {default: crit}, "default_procedure_held_out": {"top1_right": 2, "n_students": 4}}


@pytest.fixture
def regime_file(tmp_path, monkeypatch):
    """Records where every label decides by teacher_accuracy (band -0.1, 0.2) and 5 labels per
    class by teacher_cv_accuracy with a band that never says 'helps'."""
    path = tmp_path / "regime_records.json"
    path.write_text(json.dumps({"date": "2026-12-06", "regimes": {
        "all-same": _entry("teacher_accuracy", [-0.1, 0.2], pairs=60, helped=0),
        "L5-same": _entry("teacher_cv_accuracy", [None, None], top1=4)}}))
    monkeypatch.setattr(regimes, "REGIME_FILE", path)
    regimes.load_regime_records.cache_clear()
    yield path
    regimes.load_regime_records.cache_clear()


def test_labels_per_class_map_to_the_nearest_studied_regime_or_none():
    assert studied_regime(None, "same") == "all-same"
    assert [studied_regime(k, "same") for k in (2.5, 5, 8, 10)] == ["L5-same"] * 4  # within a factor 2 of 5
    assert [studied_regime(k, "own") for k in (10.5, 20, 40)] == ["L20-own"] * 3  # nearer 20 on a log scale
    assert studied_regime(2, "same") is None and studied_regime(41, "own") is None and studied_regime(0, "same") is None


def test_the_data_regime_reads_the_students_labels_and_the_teachers():
    ids = np.arange(40)
    full = np.repeat([0, 1], 20)
    assert data_regime(full, ids, [(full, ids)], 2) == "all-same"
    few = np.where(np.isin(ids, [0, 1, 2, 3, 4, 20, 21, 22, 23, 24]), full, -1)  # 5 labelled per class
    assert data_regime(few, ids, [(few, ids)], 2) == "L5-same"
    assert data_regime(few, ids, [(few, ids), (full, ids)], 2) == "L5-own"  # a teacher labels rows the student lacks


def test_the_data_regimes_labels_per_class_are_the_median_class_count():
    """Three classes with 5, 5 and 30 labelled rows: the median, 5, is the regime's level (the
    mean, 13.3, would be nearer 20 on a log scale); one large class does not make data label-rich."""
    y = np.repeat([0, 1, 2], 40)
    ids = np.arange(y.size)
    keep = np.concatenate([np.arange(5), 40 + np.arange(5), 80 + np.arange(30)])
    labels = np.where(np.isin(ids, keep), y, -1)
    assert data_regime(labels, ids, [(labels, ids)], 3) == "L5-same"


def test_a_fully_labelled_ranking_decides_by_the_every_label_record(regime_file):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = cchkit.rank_teachers("digits-avt", "audio", ["image", "text"], n_bootstrap=20)
    t = r.table.set_index("teacher")
    assert r.settings["label_regime"] == "all-same" and r.settings["criterion"] == "teacher_accuracy"
    gap = t["teacher_accuracy_on_h"] - t["student_accuracy_on_h"]
    assert gap["image"] > 0.2  # the band says 'helps' for image ...
    # ... but no teacher helped in this regime's study (0 of 60): 'helps' is not advice there
    assert list(t["advice"]) == list(np.where(gap < -0.1, "hurts", "inconclusive"))
    assert r.recommended is None
    assert (t["criterion_threshold"] == 0.2).all()
    from cchkit.ranking.verdict import advice_lines

    text = "\n".join(advice_lines(r))
    # the regime in words, as the validation names it, with its record's key
    assert "label regime: every label (all-same); the study with every label chose this criterion" in text
    assert r.settings["regime_expectation"].startswith("no gain expected from any teacher")
    assert ("expectation: no gain expected from any teacher with these labels: in the study with every label, 0 of 60 "
            "teachers (0%-6%, Wilson 95%) beat both") in text
    assert ("the criterion chosen with each bundle held out ranked the best teacher first for 2 of 4 held-out "
            "students; teacher_accuracy ranked it first for 3 of 4 students; its band, fitted with each bundle held "
            "out, was right in sign on 4 of 5 significant gains and said no 'helps' on 8 of 10 gains within noise") in text


def test_a_label_scarce_ranking_decides_by_its_regimes_record(regime_file):
    b = cchkit.datasets.load("digits-avt")
    s = b["audio"]
    keep = np.zeros(s.n, bool)
    for c in range(b.n_classes):
        keep[np.flatnonzero(s.labels == c)[:5]] = True
    labelled_ids = s.ids[keep]
    from dataclasses import replace

    mods = {n: replace(m, labels=np.where(np.isin(m.ids, labelled_ids), m.labels, -1)) for n, m in b.modalities.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = cchkit.rank_teachers(replace(b, modalities=mods), "audio", ["image", "text"], n_bootstrap=20)
    assert r.settings["label_regime"] == "L5-same" and r.settings["criterion"] == "teacher_cv_accuracy"
    assert set(r.table["advice"]) == {"inconclusive"}  # the L5 band (None, None) never commits
    assert r.settings["regime_expectation"] is None  # 2 of 15 helped: Wilson 4%-38%, the teacher decides
    assert not r.table["predicts_gain"].any()


def test_an_unstudied_regime_falls_back_to_the_full_label_study(regime_file):
    assert track_record.record_for("L20-own") == track_record.load_track_record()
    assert track_record.default_criterion("L5-same") == "teacher_cv_accuracy"
    assert track_record.helps_threshold("teacher_accuracy", "all-same") == 0.2
    t = pd.DataFrame({"teacher_accuracy_on_h": [0.95, 0.8, 0.5], "student_accuracy_on_h": [0.7, 0.7, 0.7]})
    assert list(track_record.advice_decisions(t, "teacher_accuracy", "all-same")) == ["helps", "inconclusive", "hurts"]


@pytest.mark.parametrize("bad, word", [
    ({"regimes": {"L5-same": {"criteria": {"x": {"band": [0.0]}}}}}, "band"),
    ({"regimes": {"L5-same": {"criteria": {"x": {"band": [0, 1], "top1_right": 5, "n_students": 4}}}}}, "more right"),
    ({"regimes": {"L5-same": {"criteria": {"x": {"band": [0, 1], "held_out_null": -1}}}}}, "non-negative"),
    ({"regimes": []}, "'regimes'"),
    ({"regimes": {"all-same": {"criteria": {"x": {"band": [0.5, 0.1]}}}}}, "low end 0.5 above its high end 0.1"),
])
def test_a_malformed_regime_record_is_one_line(bad, word):
    with pytest.raises(InputError, match=word):
        regimes.check_regime_records(bad)


def test_the_wilson_interval_is_scipys():
    from scipy import stats

    from cchkit._stats import wilson_interval

    for k, n in [(0, 60), (2, 15), (44, 60), (60, 60), (3, 28)]:
        ci = stats.binomtest(k, n).proportion_ci(method="wilson")
        assert wilson_interval(k, n) == pytest.approx((ci.low, ci.high), abs=1e-9)


@pytest.mark.parametrize("helped, pairs, words", [
    (0, 60, "no gain expected"),  # Wilson 0%-6%, below 10%
    (2, 60, None),  # 1%-11%: not below 10%
    (18, 60, None),
    (44, 60, "a gain expected"),  # 61%-83%, above 50%
    (36, 60, None),  # 47%-72%: not above 50%
])
def test_a_regimes_study_sets_an_expectation_only_where_its_interval_is_clear(tmp_path, monkeypatch, helped, pairs,
                                                                              words):
    path = tmp_path / "regime_records.json"
    path.write_text(json.dumps({"date": "2026-12-06", "regimes": {
        "L5-own": _entry("teacher_accuracy", [-0.1, 0.2], pairs=pairs, helped=helped)}}))
    monkeypatch.setattr(regimes, "REGIME_FILE", path)
    regimes.load_regime_records.cache_clear()
    try:
        said = regimes.regime_expectation("L5-own")
        assert (said is None) if words is None else said.startswith(words)
        assert regimes.regime_expectation("L20-own") is None  # no study of it
    finally:
        regimes.load_regime_records.cache_clear()


def test_where_the_regimes_study_is_not_clear_the_bands_helps_stands(regime_file):
    data = json.loads(regime_file.read_text())
    data["regimes"]["all-same"]["helped"] = 30  # 30 of 60: Wilson 37%-63%, no outlook
    regime_file.write_text(json.dumps(data))
    regimes.load_regime_records.cache_clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = cchkit.rank_teachers("digits-avt", "audio", ["image", "text"], n_bootstrap=20)
    t = r.table.set_index("teacher")
    gap = t["teacher_accuracy_on_h"] - t["student_accuracy_on_h"]
    assert r.settings["regime_expectation"] is None
    assert list(t["advice"]) == list(np.where(gap > 0.2, "helps", np.where(gap < -0.1, "hurts", "inconclusive")))
    assert r.recommended == "image"


def test_a_criterion_the_user_names_decides_by_its_own_band_whatever_the_outlook(regime_file):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = cchkit.rank_teachers("digits-avt", "audio", ["image", "text"], criterion="teacher_accuracy", n_bootstrap=20)
    t = r.table.set_index("teacher")
    assert r.settings["regime_expectation"].startswith("no gain expected")  # the evidence is still stated
    assert t.loc["image", "advice"] == "helps" and r.recommended == "image"  # the named criterion's band decides


def test_a_study_is_named_in_words_as_the_validation_names_it():
    """The ranking said "in the study of all-same": a file key no output defines."""
    from cchkit.criteria.regimes import study_words

    assert study_words("all-same") == "the study with every label"
    assert study_words("L5-own") == "the study at 5 labels per class, label-rich teachers"
    assert study_words("L20-same") == "the study at 20 labels per class, same-label teachers"
