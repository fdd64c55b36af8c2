"""The few-label teachers' family: chosen by cross-validation on the teacher's own training
rows, the hidden layer a candidate only where every class has enough labelled rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cchkit.fewlabels.teachers as teachers_module
from cchkit import ModalityBundle
from cchkit.cli.validate import few_labels_text
from cchkit.fewlabels import LabelRegime, plan_seed, validate_few_labels
from cchkit.fewlabels.teachers import (
    CANDIDATE_FAMILIES,
    MLP_TEACHER_MIN_PER_CLASS,
    chosen_family,
    fit_teachers,
    teacher_families,
)


def _xor_bundle(n: int = 600, seed: int = 0) -> ModalityBundle:
    """Two classes; the teacher modality separates them by the sign of x1 * x2 (no line does),
    the student weakly and linearly."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(-1, 1, size=(n, 2))
    y = (t[:, 0] * t[:, 1] > 0).astype(int)
    t = np.hstack([t, 0.1 * rng.normal(size=(n, 2))])
    s = rng.normal(size=(n, 8)) + 0.4 * y[:, None]
    return ModalityBundle.from_arrays({"student": s, "teacher": t}, labels=y.astype(float), name="xor")


def _fit(b: ModalityBundle, regime: LabelRegime, seed: int = 0):
    s, t = b["student"], b["teacher"]
    plan = plan_seed(s.labels, b.classes, regime, seed)
    labels_s = np.full(s.labels.shape, -1)
    labels_s[plan.labelled] = s.labels[plan.labelled]
    rows = np.arange(s.n)
    return fit_teachers(t.data, t.labels, t.ids, s.ids, labels_s, rows, plan, len(b.classes),
                        regime.teacher_labels, "teacher"), plan


@pytest.fixture
def with_mlp_teachers(monkeypatch):
    monkeypatch.setattr(teachers_module, "TEACHER_FAMILIES", CANDIDATE_FAMILIES)


def test_teachers_are_linear_by_default_whatever_their_rows():
    assert teachers_module.TEACHER_FAMILIES == ("linear",)
    assert teacher_families(np.repeat([0, 1, 2], 10 * MLP_TEACHER_MIN_PER_CLASS), 3) == ("linear",)
    fitted, _ = _fit(_xor_bundle(), LabelRegime(labels_per_class=5, teacher_labels="own"))
    assert fitted.family == "linear" and list(fitted.cv_by_family) == ["linear"]


def test_the_hidden_layer_is_a_candidate_only_where_every_class_has_enough_rows(with_mlp_teachers):
    k = MLP_TEACHER_MIN_PER_CLASS
    assert teacher_families(np.repeat([0, 1, 2], k), 3) == CANDIDATE_FAMILIES
    # the smallest class decides, not the mean (60, 29, 60 averages 49.7)
    assert teacher_families(np.repeat([0, 1, 2], [2 * k, k - 1, 2 * k]), 3) == ("linear",)
    # a class with no row at all counts as a class with too few
    assert teacher_families(np.repeat([0, 1], 5 * k), 3) == ("linear",)


def test_the_best_cross_validated_family_is_chosen_and_a_tie_goes_to_the_linear_one():
    assert chosen_family({"linear": 0.80, "mlp": 0.81}) == "mlp"
    assert chosen_family({"linear": 0.81, "mlp": 0.80}) == "linear"
    assert chosen_family({"mlp": 0.75, "linear": 0.75}) == "linear"
    assert chosen_family({"linear": 0.5}) == "linear"


def test_a_label_rich_teacher_of_an_xor_modality_has_the_hidden_layer(with_mlp_teachers):
    b = _xor_bundle()
    fitted, plan = _fit(b, LabelRegime(labels_per_class=5, teacher_labels="own"))
    assert fitted.family == "mlp"
    cv = fitted.cv_by_family
    assert set(cv) == set(CANDIDATE_FAMILIES)
    assert cv["linear"] < 0.7 and cv["mlp"] > cv["linear"] + 0.2
    assert fitted.cv_accuracy == cv["mlp"]
    # the final teacher the students learn from is the chosen family: right on the test samples
    z = fitted.views[(None, False)].logits_on_rows
    y = b["teacher"].labels
    assert (z[plan.test].argmax(1) == y[plan.test]).mean() > 0.85
    # and its placebo (permuted labels) is not
    zp = fitted.views[(None, True)].logits_on_rows
    assert (zp[plan.test].argmax(1) == y[plan.test]).mean() < 0.7


def test_a_teacher_with_five_labels_per_class_stays_linear(with_mlp_teachers):
    b = _xor_bundle()
    fitted, _ = _fit(b, LabelRegime(labels_per_class=5, teacher_labels="same"))
    assert fitted.family == "linear" and list(fitted.cv_by_family) == ["linear"]
    assert fitted.cv_accuracy == fitted.cv_by_family["linear"]


def test_the_report_names_the_teacher_model_of_most_seeds_and_how_many_differ():
    from cchkit.fewlabels.report import summarise_table

    def row(seed: int, family: str) -> dict:
        return dict(seed=seed, teacher="t", method="logit-kd", accuracy=0.6, placebo=0.5, baseline=0.55,
                    teacher_cv=0.9, student_cv=0.5, teacher_family=family)

    per_seed = pd.DataFrame([row(0, "mlp"), row(1, "mlp"), row(2, "linear")])
    t = summarise_table(per_seed, "s", {"t": "own"})
    assert t["teacher_model"].tolist() == ["mlp (2 of 3 seeds)"]
    t = summarise_table(per_seed[per_seed["seed"] < 2], "s", {"t": "own"})
    assert t["teacher_model"].tolist() == ["mlp"]


def test_validate_reports_the_teacher_model_it_used(with_mlp_teachers):
    b = _xor_bundle(n=400)
    r = validate_few_labels(b, "student", ["teacher"], methods=["logit-kd"], seeds=3, progress=False,
                            regime=LabelRegime(labels_per_class=5, teacher_labels="own"))
    assert r.table["teacher_model"].tolist() == ["mlp"]
    assert "teacher model" in few_labels_text(r) and "mlp" in few_labels_text(r)
