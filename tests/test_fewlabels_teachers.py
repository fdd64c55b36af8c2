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


def _noise_teacher_bundle(n: int = 300, width: int = 400, seed: int = 0) -> ModalityBundle:
    """A teacher of pure noise, wide enough to fit any labels it is trained on."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    s = rng.normal(size=(n, 4)) + 0.5 * y[:, None]
    return ModalityBundle.from_arrays({"student": s, "teacher": rng.normal(size=(n, width))},
                                      labels=y.astype(float), name="noise-teacher")


def test_an_own_teacher_never_hands_the_student_the_label_of_the_sample_it_predicts():
    """A noise teacher that memorises its labels: trained on the labels of the samples paired with
    the student's unlabeled rows, its targets there would name their hidden labels (about 100%
    right); cross-fitted, each target comes from a teacher that never saw that sample: chance."""
    b = _noise_teacher_bundle()
    fitted, plan = _fit(b, LabelRegime(labels_per_class=5, teacher_labels="own"))
    hidden = b["student"].labels[plan.unlabeled]
    for placebo in (False, True):
        z = fitted.views[(None, placebo)].logits_on_rows[plan.unlabeled]
        assert abs((z.argmax(1) == hidden).mean() - 0.5) < 0.12
    # the teachers did memorise what they were trained on (the test above can fail)
    z_lab = fitted.views[(None, False)].logits_on_rows[plan.labelled]
    assert (z_lab.argmax(1) == b["student"].labels[plan.labelled]).mean() > 0.95


def test_an_own_teachers_target_on_a_sample_does_not_move_with_that_samples_label():
    b = _noise_teacher_bundle(n=200, width=30, seed=1)
    fitted, plan = _fit(b, LabelRegime(labels_per_class=5, teacher_labels="own"))
    row = int(plan.unlabeled[0])
    labels = b["teacher"].labels.copy()
    labels[row] = 1 - labels[row]  # ids are 0..n-1 in both modalities: the teacher row of the same sample
    flipped = ModalityBundle.from_arrays({"student": b["student"].data, "teacher": b["teacher"].data},
                                         labels={"student": b["student"].labels, "teacher": labels}, name="flipped")
    again, _ = _fit(flipped, LabelRegime(labels_per_class=5, teacher_labels="own"))
    before = fitted.views[(None, False)].logits_on_rows
    after = again.views[(None, False)].logits_on_rows
    np.testing.assert_allclose(after[row], before[row], rtol=0, atol=1e-6)
    assert not np.allclose(after, before, atol=1e-6)  # other samples' targets did read it


def test_a_same_teacher_is_not_cross_fitted():
    b = _noise_teacher_bundle(n=200, width=10)
    s, t = b["student"], b["teacher"]
    plan = plan_seed(s.labels, b.classes, LabelRegime(labels_per_class=5, teacher_labels="same"), 0)
    chunks, chunk_of = teachers_module.withheld_chunks(t.ids, s.ids, plan, "same")
    assert len(chunks) == 1 and chunks[0].size == 0 and (chunk_of == -1).all()
    chunks, chunk_of = teachers_module.withheld_chunks(t.ids, s.ids, plan, "own")
    assert len(chunks) == teachers_module.OWN_CROSS_FIT
    assert sorted(np.concatenate(chunks).tolist()) == sorted(plan.unlabeled.tolist())
    assert (chunk_of[plan.unlabeled] >= 0).all() and (chunk_of[plan.labelled] == -1).all()


def test_cross_fitting_off_leaves_an_own_teacher_in_sample(monkeypatch):
    b = _noise_teacher_bundle(n=200, width=10)
    s, t = b["student"], b["teacher"]
    plan = plan_seed(s.labels, b.classes, LabelRegime(labels_per_class=5, teacher_labels="own"), 0)
    monkeypatch.setattr(teachers_module, "OWN_CROSS_FIT", 1)
    chunks, chunk_of = teachers_module.withheld_chunks(t.ids, s.ids, plan, "own")
    assert len(chunks) == 1 and chunks[0].size == 0 and (chunk_of == -1).all()
