"""The few-label validation (issue #34): unlabeled rows are data, test rows and hidden labels
never reach training, teachers or a criterion, the linear student keeps its KD term, the
unpaired method reads no pair, placebos, and bad input refused in one line."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import torch

from cchkit import ModalityBundle, validate
from cchkit.exceptions import CchkitError, CchkitWarning, InputError
from cchkit.fewlabels import LabelRegime, TeacherView, get_objective, plan_seed, validate_few_labels
from cchkit.fewlabels.objectives import Batch
from cchkit.fewlabels.run import SeedRows, run_seed
from cchkit.fewlabels.stack import Member, train_members
from cchkit.fewlabels.teachers import teacher_rows


def _bundle(n: int = 240, seed: int = 0, unlabeled: int = 0, paired: bool = True) -> ModalityBundle:
    """3 classes; ``strong`` separates them, ``weak`` barely, ``noise`` not at all."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    strong = rng.normal(size=(3, 6))[y] * 2.0 + rng.normal(size=(n, 6))
    weak = rng.normal(size=(3, 50))[y] * 0.35 + rng.normal(size=(n, 50))  # learnable, but not from 15 labels
    noise = rng.normal(size=(n, 5))
    labels = y.astype(float)
    labels[:unlabeled] = np.nan
    if paired:
        return ModalityBundle.from_arrays({"weak": weak, "strong": strong, "noise": noise}, labels=labels, name="toy")
    ids = {"weak": np.arange(n), "strong": np.arange(n) + 10_000, "noise": np.arange(n) + 20_000}
    return ModalityBundle.from_arrays({"weak": weak, "strong": strong, "noise": noise},
                                      labels={k: labels for k in ids}, ids=ids, name="toy")


# ---------------------------------------------------------------- missing labels are unlabeled rows
@pytest.mark.parametrize("missing", [None, pd.NA, np.nan, ""])
def test_a_missing_label_is_an_unlabeled_row_never_a_class(missing):
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 2)), columns=["a_0", "b_0"])
    df["label"] = pd.Series(["x", "y", "z"] * 10, dtype=object)
    df.loc[[0, 4, 8], "label"] = missing
    b = ModalityBundle.from_dataframe(df)
    assert list(b.classes) == ["x", "y", "z"]
    assert b.n_unlabeled("a") == 3
    assert (b["a"].labels[[0, 4, 8]] == -1).all()


def test_a_categorical_nan_is_unlabeled():
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 2)), columns=["a_0", "b_0"])
    df["label"] = pd.Categorical(["x", "y", None] * 10)
    b = ModalityBundle.from_dataframe(df)
    assert list(b.classes) == ["x", "y"] and b.n_unlabeled("a") == 10


def test_mixed_label_types_are_refused():
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 2)), columns=["a_0", "b_0"])
    df["label"] = pd.Series([1, "1", 2] * 10, dtype=object)
    with pytest.raises(CchkitError, match="mixes text and numbers"):
        ModalityBundle.from_dataframe(df)


@pytest.mark.parametrize("suffix", [".npz", ""])
def test_unlabeled_rows_survive_save_and_load(tmp_path, suffix):
    b = _bundle(unlabeled=17)
    path = b.save(tmp_path / f"toy{suffix}")
    back = ModalityBundle.load(path)
    assert back.n_unlabeled("weak") == 17
    np.testing.assert_array_equal(back["weak"].labels, b["weak"].labels)


def test_the_ranking_uses_labelled_rows_only_and_says_so():
    from cchkit import rank_teachers

    b = _bundle(unlabeled=40)
    with pytest.warns(CchkitWarning, match="unlabeled rows set aside \\(40 in each modality\\); validate and advise "
                      "use them as unlabeled rows") as said:
        r = rank_teachers(b, student="weak", candidates=["strong"], n_bootstrap=20, progress=False)
    assert len(r.table) == 1
    # shown at the user's line, not inside cchkit
    assert all(w.filename == __file__ for w in said if "set aside" in str(w.message))


# ---------------------------------------------------------------- the split
def test_every_row_is_test_labelled_or_unlabeled_and_none_is_dropped():
    b = _bundle(unlabeled=30)
    labels = b["weak"].labels
    plan = plan_seed(labels, b.classes, LabelRegime(labels_per_class=4), seed=3)
    parts = [plan.test, plan.labelled, plan.unlabeled]
    assert sum(p.size for p in parts) == labels.size  # nothing dropped
    assert np.unique(np.concatenate(parts)).size == labels.size  # nothing twice
    assert (labels[plan.test] >= 0).all()  # the test rows are labelled
    assert np.bincount(labels[plan.labelled]).tolist() == [4, 4, 4]
    assert set(np.flatnonzero(labels < 0)) <= set(plan.unlabeled)  # the data's unlabeled rows are used
    assert np.array_equal(np.sort(np.concatenate(plan.folds)), plan.labelled)


def test_one_validation_split_only_where_every_class_has_its_forty_labels():
    """200 rows of class 0 and 40 of the others: after the test rows class 0 keeps 140 labels and
    classes 1 and 2 keep 28, below HOLDOUT_MIN_PER_CLASS, so the seed cross-validates (a 20%
    split would hold out 5 or 6 rows of those classes)."""
    labels = np.repeat([0, 1, 2], [200, 40, 40])
    plan = plan_seed(labels, np.arange(3), LabelRegime(), seed=0)
    assert np.bincount(labels[plan.labelled]).tolist() == [140, 28, 28]
    assert plan.cross_validated and plan.n_folds == 3


@pytest.mark.parametrize("fraction, kept, raised", [(0.1, [14, 3, 3], ()), (0.05, [7, 2, 2], (1, 2)),
                                                    (0.5, [70, 14, 14], ())])
def test_a_labelled_fraction_keeps_its_rounded_share_of_each_class_and_at_least_two(fraction, kept, raised):
    """140, 28 and 28 labelled training rows per class: a fraction keeps round(f * n) of each,
    never fewer than the two a cross-validation needs (0.05 * 28 = 1.4 keeps 2, 0.1 * 28 = 2.8 keeps 3);
    the plan names the classes raised to two."""
    labels = np.repeat([0, 1, 2], [200, 40, 40])
    plan = plan_seed(labels, np.arange(3), LabelRegime(labelled_fraction=fraction), seed=0)
    assert np.bincount(labels[plan.labelled]).tolist() == kept
    assert plan.unlabeled.size == 196 - sum(kept)
    assert plan.raised == raised


@pytest.mark.parametrize("fraction, words", [(0.001, "0.1% of the labels"), (0.05, "5% of the labels"),
                                             (1 / 3, "33.3% of the labels"), (1.0, "100% of the labels")])
def test_a_labelled_fraction_is_described_without_rounding_it_away(fraction, words):
    assert LabelRegime(labelled_fraction=fraction).describe() == words


def test_a_fraction_raised_to_two_labels_per_class_is_said_and_counted_in_the_verdict():
    """0.1% of 70 training rows per class rounds to 0: every class keeps 2, the user is told, and
    the verdict gives the count the student really had (6), not only the fraction asked for."""
    b = _bundle()
    with pytest.warns(CchkitWarning, match=r"labelled_fraction=0\.001 leaves fewer than 2 .* class\(es\) 0, 1, 2"):
        rep = validate(b, "weak", ["strong"], labelled_fraction=0.001, seeds=3, progress=False)
    assert rep.summary["n_labelled"] == 6
    assert "With 0.1% of the labels (6 labelled rows) and 162 unlabeled rows" in rep.summary["verdict"]["text"]


def test_hidden_labels_are_gone_from_the_rows_the_students_see():
    b = _bundle()
    plan = plan_seed(b["weak"].labels, b.classes, LabelRegime(labels_per_class=3), seed=0)
    sr = SeedRows.build(b["weak"].data, b["weak"].labels, plan)
    n_l, n_u = plan.labelled.size, plan.unlabeled.size
    assert (sr.y[n_l:n_l + n_u] == -1).all()
    assert (sr.y[:n_l] >= 0).all()
    for fold in [*range(plan.n_folds), None]:
        lab, unl, ev = sr.masks(fold)
        test_positions = np.arange(n_l + n_u, sr.rows.size)
        assert not lab[test_positions].any() and not unl[test_positions].any()
        assert not (lab & ev).any()
        if fold is not None:
            assert not unl[ev].any()  # a fold's held-out rows are not even unlabeled rows of that fold


def test_the_student_is_standardised_with_its_training_rows_moments_only():
    """Labelled and unlabeled training rows: mean 0 and sd 1 per column; the test rows take those
    moments and do not move them (test rows changed wholesale leave the training rows as they were)."""
    b = _bundle(unlabeled=30)
    s = b["weak"]
    plan = plan_seed(s.labels, b.classes, LabelRegime(labels_per_class=4), seed=2)
    sr = SeedRows.build(s.data, s.labels, plan)
    n_fit = plan.labelled.size + plan.unlabeled.size
    np.testing.assert_allclose(sr.x[:n_fit].mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(sr.x[:n_fit].std(axis=0), 1.0, atol=1e-9)
    moved = s.data.copy()
    moved[plan.test] = moved[plan.test] * 10.0 + 5.0
    np.testing.assert_array_equal(SeedRows.build(moved, s.labels, plan).x[:n_fit], sr.x[:n_fit])


def test_a_tie_in_held_out_accuracy_goes_to_the_lower_held_out_nll():
    from cchkit.fewlabels.run import RUN_COLUMNS, choose

    def row(setting: str, fold: int, acc: float, nll: float) -> dict:
        return dict(seed=0, family="linear", objective="supervised", setting=setting, weight_decay=0.1, fold=fold,
                    teacher="", placebo=False, accuracy=acc, nll=nll)

    runs = pd.DataFrame([row("a", 0, 0.8, 0.9), row("a", 1, 0.6, 0.9), row("b", 0, 0.7, 0.5), row("b", 1, 0.7, 0.5),
                         row("c", 0, 0.5, 0.1), row("a", -1, 0.11, 0.0), row("b", -1, 0.22, 0.0),
                         row("c", -1, 0.33, 0.0)], columns=RUN_COLUMNS)
    chosen = choose(runs)
    assert chosen["setting"] == "b" and chosen["accuracy"] == 0.22 and chosen["cv_accuracy"] == pytest.approx(0.7)


def test_a_member_cannot_train_on_a_row_without_a_label():
    x = np.random.default_rng(0).normal(size=(12, 3))
    y = np.array([0, 1] * 5 + [-1, -1])
    lab = np.ones((1, 12), bool)
    with pytest.raises(ValueError, match="without a label"):
        train_members(x, y, 2, [Member("linear", "supervised", (), 1e-3, None)], lab, ~lab, ~lab, [None], seed=0)


# ---------------------------------------------------------------- teachers
def test_a_teacher_never_trains_on_the_test_samples():
    b = _bundle()
    s, t = b["weak"], b["strong"]
    plan = plan_seed(s.labels, b.classes, LabelRegime(labels_per_class=5), seed=1)
    test_ids = set(s.ids[plan.test].tolist())
    for mode in ("same", "own"):
        for fold in [*range(plan.n_folds), None]:
            rows, y = teacher_rows(t.labels, t.ids, s.ids, s.labels, plan, fold, mode, np.random.default_rng(0))
            assert not test_ids & set(t.ids[rows].tolist())
            if fold is not None:
                assert not set(s.ids[plan.folds[fold]].tolist()) & set(t.ids[rows].tolist())
    same, _ = teacher_rows(t.labels, t.ids, s.ids, s.labels, plan, None, "same", np.random.default_rng(0))
    assert set(t.ids[same].tolist()) == set(s.ids[plan.labelled].tolist())


def test_the_teachers_labels_of_test_samples_change_nothing():
    """Relabelling the teacher modality's rows of the student's test samples leaves every
    trained student as it was: no teacher saw them."""
    b = _bundle(n=150)
    regime = LabelRegime(labels_per_class=4, teacher_labels="own")
    plan = plan_seed(b["weak"].labels, b.classes, regime, seed=5)
    labels = {k: b[k].labels.astype(float) for k in b.names}
    labels["strong"][plan.test] = (labels["strong"][plan.test] + 1) % 3
    other = ModalityBundle.from_arrays({k: b[k].data for k in b.names}, labels=labels)
    runs_a, _, _ = run_seed(b, "weak", ["strong"], regime, 5, ["logit-kd", "class-align"], {"strong": "own"})
    runs_b, _, _ = run_seed(other, "weak", ["strong"], regime, 5, ["logit-kd", "class-align"], {"strong": "own"})
    np.testing.assert_array_equal(runs_a["accuracy"].to_numpy(), runs_b["accuracy"].to_numpy())


def test_a_teacher_is_handed_the_students_labels_of_its_labelled_rows_only(monkeypatch):
    """What run_seed gives the teachers: the student's labels where the regime keeps them, and -1
    on the rows whose labels it hides and on the test rows (a teacher cannot read what it is not
    handed, whichever rows its mode picks)."""
    import cchkit.fewlabels.run as run_module

    handed = []
    real = run_module.fit_teachers

    def spy(*args, **kwargs):
        handed.append(args[4].copy())
        return real(*args, **kwargs)

    monkeypatch.setattr(run_module, "fit_teachers", spy)
    b = _bundle(n=150, unlabeled=15)
    regime = LabelRegime(labels_per_class=4)
    _, _, plan = run_seed(b, "weak", ["strong"], regime, 2, ["logit-kd"], {"strong": "same"})
    labels = b["weak"].labels
    assert len(handed) == 1
    np.testing.assert_array_equal(handed[0][plan.labelled], labels[plan.labelled])
    assert (handed[0][plan.unlabeled] == -1).all() and (handed[0][plan.test] == -1).all()
    assert (labels[plan.unlabeled] >= 0).sum() > 50  # labels the regime hid were there to leak


# ---------------------------------------------------------------- objectives
def _batch(m: int = 2, n: int = 6, c: int = 3, seed: int = 0, **settings) -> Batch:
    g = torch.Generator().manual_seed(seed)
    lab = torch.tensor([[1, 1, 1, 0, 0, 0]] * m, dtype=torch.float32)
    return Batch(logits=torch.randn(m, n, c, generator=g, requires_grad=True), y=torch.tensor([0, 1, 2, 0, 0, 0]),
                 lab=lab, unl=1 - lab, settings={k: torch.full((m,), float(v)) for k, v in settings.items()},
                 progress=0.5)


def test_logit_kd_adds_lam_tau2_times_the_soft_cross_entropy_on_paired_rows():
    b = _batch(lam=2.0, tau=4.0)
    probs = torch.softmax(torch.randn(6, 3, generator=torch.Generator().manual_seed(1)), -1)
    paired = torch.tensor([1, 0, 1, 1, 0, 1], dtype=torch.float32)
    b.targets = {"probs": probs.expand(2, -1, -1), "paired": paired.expand(2, -1)}
    got = get_objective("logit-kd").loss(b)
    ce = torch.nn.functional.cross_entropy(b.logits[0, :3], b.y[:3])
    soft = -(probs * torch.log_softmax(b.logits[0] / 4.0, -1)).sum(-1)
    expected = ce + 2.0 * 16.0 * (soft * paired).sum() / paired.sum()
    torch.testing.assert_close(got[0], expected)


def test_label_smoothing_is_the_smoothed_cross_entropy():
    b = _batch(eps=0.2)
    got = get_objective("label-smoothing").loss(b)
    expected = torch.nn.functional.cross_entropy(b.logits[0, :3], b.y[:3], label_smoothing=0.2)
    torch.testing.assert_close(got[0], expected)


def _confident_batch(**settings) -> Batch:
    """Unlabeled rows 3 and 4 with a top probability above 0.8, row 5 unsure (about 0.37)."""
    b = _batch(**settings)
    logits = b.logits.detach().clone()
    logits[:, 3] = torch.tensor([4.0, 0.0, 0.0])
    logits[:, 4] = torch.tensor([0.0, 0.0, 5.0])
    logits[:, 5] = torch.tensor([0.1, 0.0, -0.1])
    b.logits = logits.requires_grad_()
    return b


def test_self_training_hard_pseudo_labels_only_where_the_student_is_confident():
    """hard = 1: CE_L + lam * mean over the unlabeled rows whose top probability reaches 0.8 of
    -log p_S(argmax); the unsure row 5 is left out. Before a quarter of the training, CE_L alone."""
    b = _confident_batch(hard=1.0, lam=0.5)
    ce = torch.nn.functional.cross_entropy(b.logits[0, :3], b.y[:3])
    lp = torch.log_softmax(b.logits[0], -1)
    expected = ce + 0.5 * -(lp[3, 0] + lp[4, 2]) / 2
    torch.testing.assert_close(get_objective("self-training").loss(b)[0], expected)
    b.progress = 0.1
    torch.testing.assert_close(get_objective("self-training").loss(b)[0], ce)


def test_self_training_soft_targets_are_the_sharpened_posterior_on_every_unlabeled_row():
    """hard = 0: r = p_S^2 / sum p_S^2 (detached) on every unlabeled row, unsure ones included."""
    b = _confident_batch(hard=0.0, lam=1.0)
    ce = torch.nn.functional.cross_entropy(b.logits[0, :3], b.y[:3])
    p = torch.softmax(b.logits[0].detach(), -1)
    r = p**2 / (p**2).sum(-1, keepdim=True)
    lp = torch.log_softmax(b.logits[0], -1)
    expected = ce + 1.0 * (-(r * lp).sum(-1))[3:].mean()
    torch.testing.assert_close(get_objective("self-training").loss(b)[0], expected)


def test_class_align_targets_an_unlabeled_row_through_the_students_posterior():
    """A labelled row of class y gets q_T(.|y); an unlabeled row the posterior-weighted mixture
    sum_c p_S(c|x) q_T(.|c) (its placeholder label 0 is never read); the term is lam tau^2 times
    the mean soft cross-entropy over both."""
    b = _confident_batch(lam=2.0, tau=2.0)
    q = torch.softmax(torch.randn(3, 3, generator=torch.Generator().manual_seed(2)), -1)
    b.targets = {"class_targets": q.expand(2, -1, -1)}
    s = b.logits[0]
    t = torch.cat([q[b.y[:3]], torch.softmax(s[3:].detach(), -1) @ q])
    soft = -(t * torch.log_softmax(s / 2.0, -1)).sum(-1)
    expected = torch.nn.functional.cross_entropy(s[:3], b.y[:3]) + 2.0 * 4.0 * soft.mean()
    torch.testing.assert_close(get_objective("class-align").loss(b)[0], expected)


def test_class_align_reads_class_targets_and_no_pair():
    """Two teachers with the same class logits and different paired outputs give the same targets."""
    rng = np.random.default_rng(0)
    cls = tuple(rng.normal(size=(4, 3)) for _ in range(3))
    a = TeacherView(rng.normal(size=(6, 3)), np.ones(6, bool), cls)
    b = TeacherView(rng.normal(size=(6, 3)), np.zeros(6, bool), cls)
    obj = get_objective("class-align")
    ta, tb = obj.targets(a, {"lam": 1.0, "tau": 2.0}), obj.targets(b, {"lam": 1.0, "tau": 2.0})
    assert ta.keys() == tb.keys() == {"class_targets"}
    np.testing.assert_array_equal(ta["class_targets"], tb["class_targets"])
    q = ta["class_targets"]
    np.testing.assert_allclose(q[1], np.exp(cls[1] / 2) .__truediv__(np.exp(cls[1] / 2).sum(1, keepdims=True)).mean(0))


def test_label_dist_is_the_kl_of_the_teachers_class_marginal_to_the_students_unlabeled_mean():
    """Hand-computed: pi_T = mean softmax(z_T / tau) over the teacher's own rows; pbar_S = mean of
    p_S over the unlabeled rows; loss = CE_L + lam * KL(pi_T || pbar_S). No pair is read, and the
    method is not among the defaults."""
    from cchkit.fewlabels.objectives import teacher_objectives

    rng = np.random.default_rng(0)
    cls = tuple(rng.normal(size=(k, 3)) for k in (2, 5, 3))
    obj = get_objective("label-dist")
    a = obj.targets(TeacherView(rng.normal(size=(6, 3)), np.ones(6, bool), cls), {"lam": 2.0, "tau": 2.0})
    b = obj.targets(TeacherView(rng.normal(size=(6, 3)), np.zeros(6, bool), cls), {"lam": 2.0, "tau": 2.0})
    np.testing.assert_array_equal(a["marginal"], b["marginal"])
    z = np.concatenate(cls) / 2.0
    pi = (np.exp(z) / np.exp(z).sum(1, keepdims=True)).mean(0)
    np.testing.assert_allclose(a["marginal"], pi)
    batch = _batch(lam=2.0, tau=2.0)
    batch.targets = {"marginal": torch.tensor(pi, dtype=torch.float32).expand(2, -1)}
    got = obj.loss(batch)
    p = torch.softmax(batch.logits[0, 3:], -1).mean(0)
    pit = torch.tensor(pi, dtype=torch.float32)
    expected = torch.nn.functional.cross_entropy(batch.logits[0, :3], batch.y[:3]) + 2.0 * (pit * (pit / p).log()).sum()
    torch.testing.assert_close(got[0], expected)
    assert "label-dist" in teacher_objectives(False) and "label-dist" not in teacher_objectives(False, default_only=True)


def test_the_sinkhorn_plan_has_the_given_marginals_and_is_pots():
    """Rows sum to the student's weights (0 for a row not moved), columns to 1/k, and the plan is
    POT's entropic one (ot.sinkhorn, the same eps)."""
    ot = pytest.importorskip("ot")
    from cchkit.fewlabels.builtin import sinkhorn_plan

    g = torch.Generator().manual_seed(0)
    cost = torch.rand(2, 5, 4, generator=g, dtype=torch.float64) * 2
    a = torch.tensor([[0.25, 0.25, 0.0, 0.25, 0.25], [0.2] * 5], dtype=torch.float64)
    plan = sinkhorn_plan(cost, a, eps=0.1, iterations=500)
    torch.testing.assert_close(plan.sum(2), a)
    torch.testing.assert_close(plan.sum(1), torch.full((2, 4), 0.25, dtype=torch.float64))
    ref = ot.sinkhorn(a[1].numpy(), np.full(4, 0.25), cost[1].numpy(), reg=0.1, numItermax=5000, stopThr=1e-12)
    np.testing.assert_allclose(plan[1].numpy(), ref, atol=1e-8)


def test_ot_align_is_ce_plus_lam_times_the_transport_cost_of_the_unlabeled_rows():
    """Hand-computed with identical teacher points q (every plan is then a_i / K): CE_L + lam *
    mean_{i in U} ||p_S(x_i) - q||^2; class-conditional (cond = 1) adds the penalty 2 to every
    unlabeled row whose pseudo-label is not the points' class. Before a quarter of the training, CE_L."""
    from cchkit.fewlabels.builtin import OT_CLASS_PENALTY

    q = torch.tensor([0.6, 0.3, 0.1])
    for cond in (0.0, 1.0):
        b = _confident_batch(lam=4.0, cond=cond)  # unlabeled rows 3, 4, 5 argmax 0, 2, 0
        b.n_labelled_rows = 3
        b.targets = {"points": q.expand(2, 8, 3), "point_class": torch.eye(3)[[0] * 8].expand(2, 8, 3)}
        p = torch.softmax(b.logits[0, 3:], -1)
        moved = ((p - q) ** 2).sum(-1) + OT_CLASS_PENALTY * cond * torch.tensor([0.0, 1.0, 0.0])
        expected = torch.nn.functional.cross_entropy(b.logits[0, :3], b.y[:3]) + 4.0 * moved.mean()
        torch.testing.assert_close(get_objective("ot-align").loss(b)[0], expected)
    b.progress = 0.1
    torch.testing.assert_close(get_objective("ot-align").loss(b)[0],
                               torch.nn.functional.cross_entropy(b.logits[0, :3], b.y[:3]))


def test_ot_align_reads_the_teachers_own_rows_and_no_pair():
    """The points are the teacher's predictions on its own rows, evenly through them in class
    order (each class keeps its share), whatever its paired outputs; not a default method."""
    from cchkit.fewlabels.builtin import OT_TEACHER_POINTS
    from cchkit.fewlabels.objectives import teacher_objectives

    rng = np.random.default_rng(0)
    cls = tuple(rng.normal(size=(k, 3)) for k in (30, 90, 0))
    obj = get_objective("ot-align")
    a = obj.targets(TeacherView(rng.normal(size=(6, 3)), np.ones(6, bool), cls), {"lam": 1.0, "cond": 0.0})
    b = obj.targets(TeacherView(rng.normal(size=(6, 3)), np.zeros(6, bool), cls), {"lam": 1.0, "cond": 0.0})
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert a["points"].shape == (OT_TEACHER_POINTS, 3) and a["point_class"].sum(0).tolist() == [16, 48, 0]
    z = cls[0][0]
    np.testing.assert_allclose(a["points"][0], np.exp(z) / np.exp(z).sum())
    assert "ot-align" in teacher_objectives(False) and "ot-align" not in teacher_objectives(False, default_only=True)


def test_the_linear_student_keeps_its_kd_term():
    """A linear member distilled from a teacher ends elsewhere than the same member without one."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4))
    y = np.where(np.arange(40) < 10, np.arange(40) % 2, -1)
    lab = np.zeros((2, 40), bool)
    lab[:, :10] = True
    unl = ~lab
    view = TeacherView(rng.normal(size=(40, 2)) * 3, np.ones(40, bool), (rng.normal(size=(3, 2)),) * 2)
    members = [Member("linear", "supervised", (), 1e-3, None),
               Member("linear", "logit-kd", (("lam", 2.0), ("tau", 2.0)), 1e-3, None, "t")]
    _, _, logits = train_members(x, y, 2, members, lab, unl, lab, [None, view], seed=0, steps=50)
    assert np.abs(logits[0] - logits[1]).max() > 0.1


def test_the_rescaled_decay_is_the_per_row_strength_over_every_row_and_a_setting(monkeypatch):
    """15 labelled and 405 unlabeled rows: with the setting on, every objective but the supervised
    one searches its family's decay and that decay times 15 / 420 (the per-row strength kept over
    the rows its loss reaches), the family's own first (ties go to it); with every row labelled,
    or by default, one decay."""
    import cchkit.fewlabels.run as run

    b = _bundle(n=600)
    few = plan_seed(b["weak"].labels, b.classes, LabelRegime(labels_per_class=5), seed=0)
    every = plan_seed(b["weak"].labels, b.classes, LabelRegime(), seed=0)
    assert few.labelled.size == 15 and few.unlabeled.size == 405 and every.unlabeled.size == 0
    assert run.decay_scales(few) == (1.0,)
    monkeypatch.setattr(run, "RESCALE_DECAY", True)
    assert run.decay_scales(few) == (1.0, pytest.approx(15 / 420))
    assert run.decay_scales(every) == (1.0,)


@pytest.mark.slow
def test_the_other_objectives_search_the_supervised_choice_and_its_rescaled_decay(monkeypatch):
    import cchkit.fewlabels.run as run
    from cchkit.fewlabels.run import best_setting, decay_scales

    monkeypatch.setattr(run, "RESCALE_DECAY", True)
    b = _bundle(n=150)
    r = validate(b, "weak", ["strong"], labels_per_class=3, methods=["logit-kd"], seeds=3, progress=False)
    seed = r.summary["seeds"][0]
    plan = plan_seed(b["weak"].labels, b.classes, LabelRegime(labels_per_class=3), seed)
    scale = decay_scales(plan)[1]
    search = r.runs[(r.runs["fold"] >= 0) & (r.runs["seed"] == seed)]
    for fam, runs in search.groupby("family"):
        sup = runs[runs["objective"] == "supervised"]
        decay = best_setting(sup)[0][2]
        for objective, g in runs[runs["objective"] != "supervised"].groupby("objective"):
            assert sorted(set(g["weight_decay"])) == pytest.approx(sorted({decay, decay * scale})), (fam, objective)


def test_an_objective_with_a_larger_search_is_refused():
    from cchkit.fewlabels import Objective, register_objective

    class Wide(Objective):
        grid = tuple({"a": float(i)} for i in range(9))

    with pytest.raises(InputError, match="searches 9 settings"):
        register_objective("wide-trial")(Wide)


# ---------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def toy_report():
    return validate(_bundle(n=600, unlabeled=60), "weak", ["strong", "noise"], labels_per_class=5,
                    teacher_labels="own", seeds=5, progress=False)


@pytest.mark.slow
def test_a_strong_teacher_gains_and_a_noise_teacher_never_helps(toy_report):
    """A teacher that knows the classes lifts a student that has 15 labels (+0.10 to +0.13 on
    three draws of this toy); a teacher of pure noise is never advised."""
    t = toy_report.table.set_index(["teacher", "method"])
    strong = t.loc[("strong", "logit-kd")]
    assert strong["gain"] > 0.05 and strong["vs_placebo"] > 0.05
    noise = t.xs("noise", level="teacher")
    assert not noise["helps"].any() and (noise["gain"] < strong["gain"]).all()
    assert "5 labels per class" in toy_report.summary["verdict"]["text"]
    assert "noise" not in toy_report.summary["verdict"]["teachers"]
    assert toy_report.summary["prediction"]["top"] == "strong"  # teacher_cv_accuracy ranks the strong teacher first


@pytest.mark.slow
def test_the_report_counts_the_datas_unlabeled_rows(toy_report):
    # 600 rows, 30% of the 540 labelled ones are test (162), 15 keep their label, the rest are unlabeled
    s = toy_report.summary
    assert s["n_labelled"] == 15
    assert s["n_labelled"] + s["n_unlabeled"] + s["n_test"] == 600
    assert set(toy_report.baselines["student"]) >= {"supervised", "label-smoothing", "self-training"}


def test_the_same_seed_gives_the_same_json():
    b = _bundle(n=150)
    kw = dict(labels_per_class=3, seeds=3, progress=False, random_state=4)
    assert validate(b, "weak", ["strong"], **kw).to_json() == validate(b, "weak", ["strong"], **kw).to_json()


def test_an_unpaired_bundle_runs_class_align_only():
    b = _bundle(n=150, paired=False)
    r = validate_few_labels(b, "weak", ["strong"], regime=LabelRegime(labels_per_class=3, teacher_labels="own"),
                            seeds=3, progress=False)
    assert set(r.table["method"]) == {"class-align"}
    with pytest.raises(InputError, match="needs paired samples"):
        validate_few_labels(b, "weak", ["strong"], regime=LabelRegime(labels_per_class=3), methods=["logit-kd"],
                            seeds=3, progress=False)


def test_ot_align_runs_stacked_and_tuned_without_pairs():
    """UCMKD-style transport needs no pair: on a bundle with none it trains every setting of its
    grid (marginal and class-conditional) for both families, real and placebo teachers, every fold,
    then the two chosen settings' final fits."""
    r = validate_few_labels(_bundle(n=150, paired=False), "weak", ["strong"], methods=["ot-align"], seeds=3,
                            regime=LabelRegime(labels_per_class=3, teacher_labels="own"), progress=False)
    assert list(r.table["method"]) == ["ot-align"] and np.isfinite(r.table["gain"]).all()
    ot = r.runs[r.runs["objective"] == "ot-align"]
    assert ot.groupby("seed").size().unique().tolist() == [4 * 2 * 2 * 3 + 2]
    assert {"cond=0", "cond=1"} <= {part for text in ot["setting"] for part in text.split(", ")}


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, message", [
    (dict(labels_per_class=70), "class .* has .* labelled training row.*seed"),
    (dict(labels_per_class=5, train_size=50), "train_size applies only to baseline='no-kd'"),
    (dict(labels_per_class=5, baseline="no-kd"), "baseline='no-kd' measures with every label"),
    (dict(labels_per_class=5, labelled_fraction=0.1), "not both"),
    (dict(labels_per_class=1), "integer >= 2"),
    (dict(labelled_fraction=0.1, methods=["ucmkd"]), "cannot run there"),
    (dict(teacher_labels="same", baseline="no-kd"), "applies to the default baseline only"),
    (dict(labels_per_class=5, seeds=2), "count >= 3"),
])
def test_bad_few_label_requests_are_refused(kwargs, message):
    with pytest.raises(CchkitError, match=message):
        validate(_bundle(), "weak", ["strong"], progress=False, **kwargs)


def test_own_labels_for_a_teacher_without_labels_are_refused():
    b = _bundle()
    labels = {k: b[k].labels.astype(float) for k in b.names}
    labels["strong"][:] = np.nan
    other = ModalityBundle.from_arrays({k: b[k].data for k in b.names}, labels=labels)
    with pytest.raises(InputError, match="no labelled row"):
        validate(other, "weak", ["strong"], labels_per_class=3, teacher_labels="own", progress=False)


def test_the_first_seeds_refusal_is_raised_whichever_worker_fails_first(monkeypatch):
    """With parallel seeds the refusal the user saw was the first worker's to fail; now each seed's
    refusal comes back as a value and the first seed's is raised, as in the serial run. The
    workers are stood in for by running the seeds last to first."""
    import cchkit.fewlabels.validate as few

    b = _bundle()
    labels = {k: b[k].labels.astype(float) for k in b.names}
    labels["strong"][labels["strong"] == 2] = np.nan  # no teacher label of class 2, in any seed
    other = ModalityBundle.from_arrays({k: b[k].data for k in b.names}, labels=labels)
    kw = dict(labels_per_class=3, teacher_labels="own", seeds=3, progress=False)
    with pytest.raises(InputError, match="in seed") as serial:
        validate(other, "weak", ["strong"], **kw)

    def last_first(fn, tasks, shared, **_):
        return [fn([t], shared)[0] for t in tasks[::-1]][::-1]

    monkeypatch.setattr(few, "run_chunked", last_first)
    with pytest.raises(InputError, match="in seed") as parallel:
        validate(other, "weak", ["strong"], n_jobs=2, **kw)
    assert str(parallel.value) == str(serial.value)


def test_a_student_without_labels_is_refused():
    b = _bundle()
    labels = {k: b[k].labels.astype(float) for k in b.names}
    labels["weak"][:] = np.nan
    other = ModalityBundle.from_arrays({k: b[k].data for k in b.names}, labels=labels)
    with pytest.raises(InputError, match="no labelled row"):
        validate(other, "weak", ["strong"], progress=False)


# ---------------------------------------------------------------- the verdict, on hand-made tables
def _row(teacher: str, gain: float, half: float, *, placebo: float = -0.2, placebo_half: float = 0.02) -> dict:
    vs = gain - placebo
    return dict(teacher=teacher, method="logit-kd", gain=gain, gain_low=gain - half, gain_high=gain + half,
                significant=abs(gain) > half, placebo_gain=placebo, vs_placebo=vs, vs_placebo_low=vs - placebo_half,
                vs_placebo_high=vs + placebo_half, beats_placebo=vs - placebo_half > 0,
                helps=gain - half > 0 and vs - placebo_half > 0)


_SUMMARY = {"method": "logit-kd", "student": "audio", "baseline_text": "the best teacher-free student (0.40)",
            "regime_text": "5 labels per class", "n_unlabeled": 1350}


@pytest.mark.parametrize("rows, outcome, teachers, words", [
    ([_row("image", 0.01, 0.03), _row("text", -0.01, 0.03)], "train alone", [],
     "no teacher is shown to help audio (their gains' 95% intervals reach at most +0.040): train it alone, as the "
     "best teacher-free student (0.40)."),
    ([_row("image", 0.25, 0.05), _row("text", 0.05, 0.03)], "use", ["image"], "use image as the teacher of audio"),
    ([_row("image", 0.25, 0.05), _row("text", 0.21, 0.04)], "use any", ["image", "text"], "cannot tell them apart"),
    # image's mean (0.25) is above text's interval (0.21-0.23), its interval (0.20-0.30) is not: not separated
    ([_row("image", 0.25, 0.05), _row("text", 0.22, 0.01)], "use any", ["image", "text"], "cannot tell them apart"),
    # glyph's mean (0.18) is below image's interval (0.20-0.30), its interval (0.15-0.21) reaches it: tied too
    ([_row("image", 0.25, 0.05), _row("text", 0.22, 0.01), _row("glyph", 0.18, 0.03)], "use any",
     ["image", "text", "glyph"], "image or text or glyph can teach audio"),
    ([_row("image", 0.05, 0.02, placebo=0.04, placebo_half=0.03)], "train alone", [], "is not the teacher's"),
])
def test_the_verdict_names_the_regime_and_only_separated_teachers(rows, outcome, teachers, words):
    from cchkit.fewlabels.report import verdict

    v = verdict(pd.DataFrame(rows), _SUMMARY)
    assert v["outcome"] == outcome and v["teachers"] == teachers
    assert words in v["text"] and v["text"].startswith("With 5 labels per class and 1,350 unlabeled rows")


def test_train_alone_says_how_large_a_gain_the_measurement_still_allows():
    """With a handful of test rows every interval is wide: "no teacher is shown to help" names the
    highest upper end (+0.219 here), which a user reads as "this could not see gains below that"."""
    from cchkit.fewlabels.report import verdict

    v = verdict(pd.DataFrame([_row("image", 0.0, 0.219), _row("text", -0.05, 0.2)]), _SUMMARY)
    assert v["outcome"] == "train alone" and "reach at most +0.219)" in v["text"]
    hurts = verdict(pd.DataFrame([_row("image", -0.05, 0.01), _row("text", -0.08, 0.02)]), _SUMMARY)
    assert "reach at most -0.040)" in hurts["text"]


def test_the_report_table_is_the_per_seed_differences_by_hand():
    """Two seeds of one teacher: gain = KD - best teacher-free, vs_placebo = KD - placebo,
    placebo_gain = placebo - best teacher-free, each a mean over the seeds."""
    from cchkit.fewlabels.report import summarise_table

    rows = [dict(seed=s, teacher="t", method="logit-kd", accuracy=acc, placebo=fake, baseline=base, teacher_cv=0.9,
                 student_cv=0.5) for s, acc, fake, base in [(0, 0.60, 0.45, 0.40), (1, 0.70, 0.52, 0.50)]]
    rows += [dict(seed=s, teacher="", method="best teacher-free", accuracy=a, chosen="supervised")
             for s, a in [(0, 0.40), (1, 0.50)]]
    r = summarise_table(pd.DataFrame(rows), "s", {"t": "same"}).iloc[0]
    assert r["n_seeds"] == 2 and r["baseline"] == "supervised"
    assert (r["acc"], r["acc_baseline"], r["acc_placebo"]) == pytest.approx((0.65, 0.45, 0.485))
    assert (r["gain"], r["vs_placebo"], r["placebo_gain"]) == pytest.approx((0.20, 0.165, 0.035))
    assert r["gain_seeds"] == pytest.approx([0.20, 0.20])


def test_a_paired_method_needs_every_candidate_paired():
    """logit-kd reads the teacher's prediction on the student's own samples: with one candidate
    that shares no sample with the student, it is refused by name before any training."""
    b = _bundle(n=60)
    ids = {"weak": b["weak"].ids, "strong": b["strong"].ids, "noise": b["noise"].ids + 10_000}
    other = ModalityBundle.from_arrays({k: b[k].data for k in b.names}, labels={k: b[k].labels for k in b.names},
                                       ids=ids)
    with pytest.raises(InputError, match="needs paired samples"):
        validate(other, "weak", ["strong", "noise"], labels_per_class=3, methods=["logit-kd"], progress=False)


@pytest.mark.parametrize("kwargs, words", [
    ({"labels_per_class": float("nan")}, "labels_per_class must be an integer >= 2"),
    ({"labels_per_class": "5"}, "labels_per_class must be an integer >= 2"),
    ({"seeds": [4, 4, 7]}, "seeds must be distinct"),
    ({"methods": []}, "methods is empty"),
])
def test_a_bad_argument_is_refused_by_name_before_any_training(kwargs, words):
    """A NaN count once reached int() (a ValueError, not a refusal); a repeated seed counted one
    measurement twice; an empty method list read as 'the method none'."""
    with pytest.raises(InputError, match=words):
        validate(_bundle(n=150), "weak", ["strong"], **({"labels_per_class": 3, "seeds": 3} | kwargs), progress=False)


@pytest.mark.parametrize("kwargs, words", [({"n_jobs": 0}, "n_jobs must be a positive"),
                                            ({"backend": "spark"}, "unknown backend 'spark'")])
def test_validate_few_labels_checks_its_parallel_arguments_itself(kwargs, words):
    """Called directly (it is public), n_jobs=0 reached joblib (a ValueError, not a refusal)."""
    with pytest.raises(InputError, match=words):
        validate_few_labels(_bundle(n=150), "weak", ["strong"], regime=LabelRegime(labels_per_class=3), seeds=3,
                            progress=False, **kwargs)


# ---------------------------------------------------------------- advise
@pytest.mark.slow
def test_advise_with_few_labels_answers_from_the_few_label_measurement():
    from cchkit import advise

    a = advise(_bundle(n=300), "weak", ["strong", "noise"], labels_per_class=4, teacher_labels="own", seeds=3)
    assert a.ranking is None and type(a.validation).__name__ == "FewLabelReport"
    assert a.text.startswith("With 4 labels per class")
    assert a.teacher in (None, "strong")
    assert json.loads(json.dumps(a.to_dict(), default=str))["ranking"] is None


@pytest.mark.parametrize("kwargs, words", [
    ({"top": 1}, "top does not apply with few labels"),
    ({"rank_params": {"representation": "raw"}}, "rank_params does not apply"),
    ({"device": "cpu", "top": 2}, "top, device do not apply"),
])
def test_advise_with_few_labels_refuses_the_rankings_options_by_name(kwargs, words):
    """Nothing is ranked with few labels: an option of the ranking would be dropped, so it is refused."""
    from cchkit import advise
    from cchkit.exceptions import InputError

    with pytest.raises(InputError, match=words):
        advise(_bundle(unlabeled=120), "weak", ["strong"], seeds=3, **kwargs)


def test_advise_on_the_cli_sends_n_jobs_to_its_validation_with_few_labels(tmp_path, monkeypatch):
    """--n-jobs went only to the ranking's options, which few labels refuse (nothing is ranked),
    so the command failed; now it reaches the validation, whose seeds run on that many processes."""
    from typer.testing import CliRunner

    import cchkit._parallel
    import cchkit.fewlabels.validate as few
    from cchkit.cli import app

    sent = []
    real = few.run_chunked

    def spy(fn, tasks, shared, **kw):
        sent.append(list(tasks))
        return real(fn, tasks, shared, **kw)

    monkeypatch.setattr(few, "run_chunked", spy)
    monkeypatch.setattr(cchkit._parallel, "available_cores", lambda: 2)  # two workers on a one-core machine too
    path = _bundle(n=150).save(tmp_path / "b.npz")
    res = CliRunner().invoke(app, ["advise", "-d", str(path), "-s", "weak", "-c", "strong", "--labels-per-class", "3",
                                   "--seeds", "3", "--budget", "0.001", "--n-jobs", "2", "-q", "-f", "json"])
    assert res.exit_code == 0, res.output
    assert len(sent) == 1 and len(sent[0]) == 3


def test_advise_on_the_cli_takes_n_jobs_and_teacher_labels_for_data_holding_unlabeled_rows(tmp_path, monkeypatch):
    """Without --labels-per-class the CLI cannot know the data are label-scarce: --n-jobs reached
    advise as ranking options, refused there ('rank_params does not apply'), and --teacher-labels
    was refused outright; advise, which loads the data, now decides."""
    from typer.testing import CliRunner

    import cchkit._parallel
    import cchkit.fewlabels.validate as few
    from cchkit.cli import app

    sent = []
    real = few.run_chunked
    monkeypatch.setattr(few, "run_chunked", lambda fn, tasks, shared, **kw: sent.append(list(tasks)) or real(
        fn, tasks, shared, **kw))
    monkeypatch.setattr(cchkit._parallel, "available_cores", lambda: 2)
    path = _bundle(n=150, unlabeled=60).save(tmp_path / "b.npz")
    res = CliRunner().invoke(app, ["advise", "-d", str(path), "-s", "weak", "-c", "strong", "--teacher-labels", "own",
                                   "--seeds", "3", "--budget", "0.001", "--n-jobs", "2", "-q", "-f", "json"])
    assert res.exit_code == 0, res.output
    assert len(sent) == 1 and len(sent[0]) == 3
    assert json.loads(res.stdout)["validation"]["summary"]["teacher_labels"] == {"strong": "own"}


def test_advise_refuses_teacher_labels_where_every_label_is_there():
    """With every label nothing reads teacher_labels: it was dropped, now refused."""
    from cchkit import advise

    with pytest.raises(InputError, match="teacher_labels applies only with few labels"):
        advise(_bundle(n=150), "weak", ["strong"], seeds=3, teacher_labels="own")


def test_advise_with_few_labels_spends_its_budget():
    """The budget is the whole call's, as with every label: the first round runs, no later one
    would fit a tiny budget, and the validation records what it was given."""
    from cchkit import advise
    from cchkit.exceptions import CchkitWarning

    with pytest.warns(CchkitWarning, match=r"over twice its budget .* the first round of 3 seeds for 1 teacher\(s\) "
                                           r"always run \(with few labels every candidate is measured\)"):
        a = advise(_bundle(unlabeled=150), "weak", ["strong"], seeds=3, budget=1e-3, methods=["logit-kd"])
    assert a.budget == 1e-3 and a.validation.summary["budget"] == pytest.approx(1e-3)
    assert len(a.validation.summary["seeds"]) == 3  # the first round only
    assert "budget spent" in a.validation.summary["power"]["statement"]


def test_advise_never_recommends_a_significantly_negative_gain():
    from cchkit.advice import measured_choice

    t = pd.DataFrame([dict(teacher="a", method="m", significant=True, gain=-0.05),
                      dict(teacher="b", method="m", significant=False, gain=0.02)])
    assert measured_choice(t, "m") is None
    t.loc[1, "significant"] = True
    assert measured_choice(t, "m") == "b"


# ---------------------------------------------------------------- the command line
@pytest.mark.parametrize("args, words", [
    (["--labels-per-class", "5", "--train-size", "100"], "--train-size applies only with --baseline no-kd"),
    (["--labels-per-class", "5", "--epochs", "10", "--no-tune"], "--epochs, --no-tune apply only with --baseline no-kd"),
    (["--labels-per-class", "5", "--baseline", "no-kd"], "measures with every label"),
    (["--teacher-labels", "own", "--method", "class-align", "--seeds", "3", "--labelled-fraction", "0.5",
      "--labels-per-class", "5"], "not both"),
    (["--labels-per-class", "150"], "class '0' has 140 labelled training row.* seed"),
    (["--labels-per-class", "5", "--teacher-labels", "mine"], "teacher_labels must be one of"),
])
def test_bad_few_label_commands_are_one_line_and_exit_2(args, words):
    from typer.testing import CliRunner

    from cchkit.cli import app

    res = CliRunner().invoke(app, ["validate", "-s", "audio", "-c", "image", "--quiet", *args])
    assert res.exit_code == 2, res.output
    assert len([ln for ln in res.output.splitlines() if ln.strip()]) == 1
    assert re.search(words, res.output), res.output


@pytest.mark.slow
def test_the_few_label_command_prints_the_verdict_first_and_writes_json(tmp_path):
    from typer.testing import CliRunner

    from cchkit.cli import app

    data = tmp_path / "toy.npz"
    _bundle(n=240, unlabeled=30).save(data)
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["validate", "-d", str(data), "-s", "weak", "-c", "strong", "--seeds", "3",
                                   "--quiet", "--format", "json", "--out", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["summary"]["verdict"]["text"].startswith("With the labels the data hold and")
    assert {b["student"] for b in doc["baselines"]} >= {"supervised", "self-training", "label-smoothing"}
    res = CliRunner().invoke(app, ["validate", "-d", str(data), "-s", "weak", "-c", "strong", "--seeds", "3", "--quiet"])
    assert res.output.startswith("verdict: With the labels the data hold and 30 unlabeled rows")


@pytest.mark.parametrize("gains, cv, held, words", [
    ([(0.30, 0.02), (0.10, 0.02)], [0.9, 0.5], True, "that held"),
    ([(0.30, 0.02), (0.28, 0.02)], [0.9, 0.5], True, "though the teachers' gains overlap"),
    ([(0.30, 0.02), (0.10, 0.02)], [0.5, 0.9], False, "a did better"),
    ([(0.30, 0.02), (0.28, 0.02)], [0.5, 0.9], None, "neither confirmed nor refuted"),
    ([(0.01, 0.02), (0.00, 0.02)], [0.9, 0.5], None, "all within noise"),
    # both significantly harmful, none helps: the gains still order the teachers, and a (-0.10) is the best
    ([(-0.10, 0.02), (-0.30, 0.02)], [0.9, 0.5], True, "that held"),
])
def test_the_criterions_prediction_is_never_claimed_over_noise(gains, cv, held, words):
    from cchkit.fewlabels.validate import criterion_prediction

    t = pd.DataFrame([dict(teacher=n, method="logit-kd", gain=g, gain_low=g - h, gain_high=g + h,
                           significant=abs(g) > h, helps=g - h > 0, teacher_cv_accuracy=c)
                      for n, (g, h), c in zip("ab", gains, cv)])
    p = criterion_prediction(t, "logit-kd", LabelRegime(labels_per_class=5), {"a": "same", "b": "same"})
    assert p["held"] is held and words in p["text"]


def test_a_dataframe_names_its_label_column_in_every_entry_point():
    from cchkit import rank_teachers

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(90, 4)), columns=["a_0", "a_1", "b_0", "b_1"])
    df["cls"] = np.arange(90) % 3
    df["b_0"] += 2 * df["cls"]
    assert len(rank_teachers(df, "a", ["b"], label="cls", n_bootstrap=10).table) == 1
    with pytest.raises(InputError, match=r"label='\.\.\.'"):
        rank_teachers(df, "a", ["b"], n_bootstrap=10)
    r = validate(df, "a", ["b"], label="cls", labels_per_class=3, seeds=3, progress=False)
    assert r.summary["n_labelled"] == 9


# ---------------------------------------------------------------- a new objective is one class and a registration
def test_a_trial_objective_joins_the_stacks_and_the_search_as_one_class():
    """class-mse (CE + lam * ||softmax(s / tau) - q_T(. | y)||^2, issue #35's trial method),
    written here as a user would, is trained stacked and tuned like the built-ins."""
    from cchkit.fewlabels import Objective, register_objective, unregister_objective

    @register_objective("class-mse-trial")
    class ClassMSE(Objective):
        uses_teacher = True
        grid = tuple({"lam": lam, "tau": tau} for lam in (0.5, 2.0) for tau in (2.0, 4.0))

        def targets(self, teacher, setting):  # noqa: ANN001
            return {"q": teacher.class_targets(setting["tau"])}

        def loss(self, b):  # noqa: ANN001
            k = b.n_labelled_rows
            p = torch.softmax(b.logits[:, :k] / b.settings["tau"].view(-1, 1, 1), -1)
            q = b.targets["q"][:, b.y[:k]]  # (m, k, C): the target of each labelled row's class
            return b.labelled_ce() + b.settings["lam"] * b.per_row_mean(((p - q) ** 2).sum(-1), b.lab[:, :k])

    try:
        r = validate(_bundle(n=150), "weak", ["strong"], labels_per_class=3, methods=["class-mse-trial"], seeds=3,
                     progress=False)
    finally:
        unregister_objective("class-mse-trial")
    assert list(r.table["method"]) == ["class-mse-trial"]
    trial = r.runs[r.runs["objective"] == "class-mse-trial"]
    # every setting of its grid, for both families, real and placebo teachers, every fold; then the
    # final fit of the setting chosen for the real teacher and the one for its placebo
    assert trial.groupby("seed").size().unique().tolist() == [4 * 2 * 2 * 3 + 2]
    assert np.isfinite(r.table["gain"]).all()


def _sinkhorn(cost: torch.Tensor, a: torch.Tensor, eps: float, iters: int) -> torch.Tensor:
    """Entropic OT cost per member, log-domain Sinkhorn (Cuturi, 2013): ``cost`` (m, n, k), ``a``
    (m, n) the student's row weights, uniform weights on the k teacher points."""
    m, n, k = cost.shape
    log_a = torch.log(a.clamp_min(1e-30))
    log_b = torch.full((m, k), -float(np.log(k)))
    f, g = torch.zeros(m, n), torch.zeros(m, k)
    for _ in range(iters):
        f = -eps * torch.logsumexp(log_b[:, None, :] + (g[:, None, :] - cost) / eps, dim=2)
        g = -eps * torch.logsumexp(log_a[:, :, None] + (f[:, :, None] - cost) / eps, dim=1)
    return (a * f).sum(1) + g.mean(1)


def test_an_optimal_transport_loss_joins_the_stacks_and_the_search_as_one_class():
    """A loss that is no per-row target, UCMKD-style optimal transport of the student's unlabeled
    predictions onto the teacher's (issue #35's Sinkhorn trial; it reads no pair), written here as
    a user would: trained stacked and tuned like the built-ins."""
    from cchkit.fewlabels import Objective, register_objective, unregister_objective
    from cchkit.fewlabels.objectives import teacher_probs

    @register_objective("sinkhorn-trial")
    class SinkhornAlign(Objective):
        """CE + lam * OT_eps(student's softened predictions on its unlabeled rows, 64 of the teacher's
        on its own rows), squared Euclidean cost."""

        uses_teacher = True
        grid = tuple({"lam": lam, "tau": tau} for lam in (0.5, 2.0) for tau in (2.0, 4.0))

        def targets(self, teacher, setting):  # noqa: ANN001
            cloud = np.concatenate([z for z in teacher.class_logits if len(z)])
            pick = np.random.default_rng(0).integers(0, len(cloud), 64)
            return {"cloud": teacher_probs(cloud[pick], setting["tau"]).astype(np.float32)}

        def loss(self, b):  # noqa: ANN001
            p = torch.softmax(b.logits / b.settings["tau"].view(-1, 1, 1), -1)
            cost = torch.cdist(p, b.targets["cloud"]) ** 2
            w = b.unl / b.unl.sum(1, keepdim=True).clamp_min(1.0)
            return b.labelled_ce() + b.settings["lam"] * _sinkhorn(cost, w, eps=0.05, iters=10)

    try:
        r = validate(_bundle(n=120), "weak", ["strong"], labels_per_class=3, teacher_labels="own",
                     methods=["sinkhorn-trial"], seeds=3, progress=False)
    finally:
        unregister_objective("sinkhorn-trial")
    trial = r.runs[r.runs["objective"] == "sinkhorn-trial"]
    # every setting of its grid, for both families, real and placebo teachers, every fold; then the
    # final fit of the setting chosen for the real teacher and the one for its placebo
    assert trial.groupby("seed").size().unique().tolist() == [4 * 2 * 2 * 3 + 2]
    assert np.isfinite(r.table["gain"]).all() and list(r.table["method"]) == ["sinkhorn-trial"]


def test_the_record_of_the_regime_the_data_are_in_is_the_one_quoted():
    """5 labels per class quote the L5 study, 20 (and 15) the L20 study, 2 and 50 none; each
    sentence gives the shipped counts of its regime, named in words (it read "the study of
    L5-same", the study's file key)."""
    from cchkit.fewlabels.track_record import load_record, record_sentence, regime_key

    record = load_record()["regimes"]
    for lpc, mode, key, words in ((5, "same", "L5-same", "at 5 labels per class, same-label teachers"),
                                  (20, "own", "L20-own", "at 20 labels per class, label-rich teachers"),
                                  (15, "same", "L20-same", "at 20 labels per class, same-label teachers")):
        entry = record[key]
        sentence = record_sentence(LabelRegime(labels_per_class=lpc, teacher_labels=mode), mode)
        assert sentence.startswith(f"In the study {words} ({entry['n_bundles']} bundles)")
        assert f"{entry['top1_right']:g} of {entry['n_students']} students" in sentence
    for lpc in (2, 50):
        assert record_sentence(LabelRegime(labels_per_class=lpc), "same").startswith("No study")
    # every label is one regime whatever the teachers' labels; a fraction or unlabeled rows are not it
    assert regime_key(LabelRegime(), "own") == regime_key(LabelRegime(labelled_fraction=1.0), "same") == "all-same"
    assert regime_key(LabelRegime(), "same", n_unlabeled=5) is None
    assert regime_key(LabelRegime(labelled_fraction=0.5), "same") is None
    # ... unless the labelled training rows per class place them: the labels the data hold, 12 per class
    assert regime_key(LabelRegime(), "same", n_unlabeled=128, per_class=12.0) == "L20-same"
    assert regime_key(LabelRegime(labelled_fraction=0.2), "own", per_class=4.0) == "L5-own"
    assert regime_key(LabelRegime(), "same", n_unlabeled=128, per_class=45.0) is None
    assert record_sentence(LabelRegime(), "same", 128, 12.0).startswith("In the study at 20 labels per class, same")
    assert record_sentence(LabelRegime(), "same").startswith("In the study with every label (")


@pytest.mark.parametrize("family", ["linear", "mlp"])
def test_weight_decay_spares_the_biases(family: str):
    """Features that carry nothing and a decay strong enough to zero every weight: a student whose
    biases are not decayed still learns the class prior (80% of class 2), so it predicts class 2
    with the prior's log-loss, H = 0.639; decayed biases would give uniform logits (log 3 = 1.099)."""
    rng = np.random.default_rng(0)
    y = rng.permutation(np.repeat([0, 1, 2], [20, 20, 160]))
    x = rng.normal(size=(200, 4)).astype(np.float32)
    every = np.ones((1, 200), bool)
    acc, nll, _ = train_members(x, y, 3, [Member(family, "supervised", (), 1e3, None)], every, np.zeros_like(every),
                                every, [None], seed=0)
    prior = np.array([0.1, 0.1, 0.8])
    assert acc[0] == pytest.approx(0.8)
    assert nll[0] == pytest.approx(-(prior * np.log(prior)).sum(), abs=0.01)


@pytest.mark.slow
def test_imbalanced_labels_are_placed_by_the_median_class_as_the_ranking_places_them():
    """70 labelled training rows of one class and 4 of each other: the median class has 4 (the
    5-per-class study), where the mean, 26, would have placed it with 20 per class."""
    labels = np.arange(300) % 3
    hidden = np.flatnonzero(labels > 0)[12:]
    b = _bundle(n=300)
    mods = {name: b[name].data for name in b.names}
    lab = labels.astype(float)
    lab[hidden] = np.nan
    b = ModalityBundle.from_arrays(mods, labels=lab, name="toy")
    report = validate(b, "weak", ["strong"], methods=["logit-kd"], teacher_labels="same", seeds=3, progress=False)
    plan = plan_seed(b["weak"].labels, b.classes, LabelRegime(), report.summary["seeds"][0])
    assert np.bincount(b["weak"].labels[plan.labelled]).tolist() == [70, 4, 4]
    assert "In the study at 5 labels per class, same-label teachers" in report.summary["prediction"]["text"]


def test_the_baseline_is_the_teacher_free_student_that_cross_validates_best():
    """Label smoothing cross-validates above the supervised student: it is the best teacher-free
    student, and every teacher's gain is measured over its test accuracy (0.45), not the
    supervised student's (0.40)."""
    from cchkit.fewlabels.report import seed_outcomes
    from cchkit.fewlabels.run import RUN_COLUMNS

    def row(objective: str, fold: int, acc: float, teacher: str = "", placebo: bool = False) -> dict:
        setting = {"supervised": "-", "label-smoothing": "eps=0.1"}.get(objective, "lam=2, tau=4")
        return dict(seed=0, family="linear", objective=objective, setting=setting, weight_decay=0.1, fold=fold,
                    teacher=teacher, placebo=placebo, accuracy=acc, nll=1.0)

    runs = pd.DataFrame([row("supervised", 0, 0.5), row("supervised", -1, 0.40),
                         row("label-smoothing", 0, 0.7), row("label-smoothing", -1, 0.45),
                         row("logit-kd", 0, 0.8, "t"), row("logit-kd", -1, 0.60, "t"),
                         row("logit-kd", 0, 0.6, "t", True), row("logit-kd", -1, 0.50, "t", True)], columns=RUN_COLUMNS)
    out = {(r["teacher"], r["method"]): r for r in seed_outcomes(runs, {"t": 0.9})}
    best = out[("", "best teacher-free")]
    assert best["chosen"] == "label-smoothing" and best["accuracy"] == 0.45
    assert out[("t", "logit-kd")]["baseline"] == 0.45 and out[("t", "logit-kd")]["student_cv"] == 0.5


def test_two_objectives_whose_settings_read_alike_are_never_pooled():
    """A registered teacher-free objective may write its settings as another does (here both
    "-"): the search still scores each objective's own folds, so label smoothing (0.7 held out)
    is chosen over the supervised student (0.5), not an average of the two."""
    from cchkit.fewlabels.report import seed_outcomes
    from cchkit.fewlabels.run import RUN_COLUMNS

    def row(objective: str, fold: int, acc: float) -> dict:
        return dict(seed=0, family="linear", objective=objective, setting="-", weight_decay=0.1, fold=fold,
                    teacher="", placebo=False, accuracy=acc, nll=1.0)

    runs = pd.DataFrame([row("supervised", 0, 0.5), row("supervised", -1, 0.40),
                         row("label-smoothing", 0, 0.7), row("label-smoothing", -1, 0.45)], columns=RUN_COLUMNS)
    best = {r["method"]: r for r in seed_outcomes(runs, {})}["best teacher-free"]
    assert best["chosen"] == "label-smoothing" and best["accuracy"] == 0.45


def _student_unlabeled_where_teacher_is_not(n: int = 150, hidden: int = 30) -> ModalityBundle:
    """The student ``weak`` lacks the labels of its first ``hidden`` samples; ``strong`` labels them."""
    b = _bundle(n=n)
    full = b["weak"].labels.astype(float)
    weak = full.copy()
    weak[:hidden] = np.nan
    return ModalityBundle.from_arrays({k: b[k].data for k in b.names},
                                      labels={"weak": weak, "strong": full, "noise": weak}, name="toy")


def test_auto_gives_the_teacher_its_own_labels_where_it_labels_samples_the_student_lacks():
    from cchkit.fewlabels import teacher_label_modes

    b = _student_unlabeled_where_teacher_is_not()
    assert teacher_label_modes(b, "weak", ["strong", "noise"], "auto") == {"strong": "own", "noise": "same"}
    assert teacher_label_modes(_bundle(n=150), "weak", ["strong"], "auto") == {"strong": "same"}


def test_auto_gives_an_unpaired_teacher_its_own_labels():
    """Labelled images, unlabelled audio, no pairs: the teacher's labels are ones the student lacks,
    so auto trains it on them (it handed the teacher only as many labels as the student had, the
    ranking's regime called the data label-rich, and the flagship case measured a starved teacher)."""
    from cchkit.fewlabels import teacher_label_modes
    from cchkit.fewlabels.validate import labels_beyond_student

    b = _bundle(n=150, unlabeled=100, paired=False)
    full = ModalityBundle.from_arrays({k: b[k].data for k in b.names},
                                      labels={"weak": np.where(b["weak"].labels < 0, np.nan, b["weak"].labels),
                                              "strong": (np.arange(150) % 3).astype(float),
                                              "noise": (np.arange(150) % 3).astype(float)},
                                      ids={k: b[k].ids for k in b.names}, name="toy")
    assert labels_beyond_student(full, "weak", ["strong"]) == {"strong": 150}
    assert teacher_label_modes(full, "weak", ["strong", "noise"], "auto") == {"strong": "own", "noise": "own"}
    # paired and fully labelled: nothing beyond the student's own labels
    assert labels_beyond_student(_bundle(n=150), "weak", ["strong"]) == {"strong": 0}
    rep = validate(full, "weak", ["strong"], seeds=3, progress=False)
    assert rep.summary["teacher_labels"] == {"strong": "own"}


def test_labels_held_across_the_pairs_are_counted_and_the_user_is_told_to_copy_them():
    """30 of the student's rows have no label but a labelled pair: the report counts them and the
    warning says so; labels the regime hides on purpose are not counted."""
    from cchkit.fewlabels import labels_across_pairs

    b = _student_unlabeled_where_teacher_is_not()
    assert labels_across_pairs(b, "weak", ["strong", "noise"]) == {"strong": 30, "noise": 0}
    with pytest.warns(CchkitWarning, match=r"labelled pairs \(30 in 'strong'\).*copy it across the pair.*cross-fitted"):
        r = validate(b, "weak", ["strong"], labels_per_class=4, methods=["logit-kd"], seeds=3, progress=False)
    assert r.summary["labels_across_pairs"] == {"strong": 30}
    with pytest.warns(CchkitWarning, match=r"labelled pairs \(30 in 'strong'\)") as said:
        validate(b, "weak", ["strong"], labels_per_class=4, teacher_labels="same", methods=["logit-kd"], seeds=3,
                 progress=False)
    assert not any("cross-fitted" in str(w.message) for w in said)
    assert labels_across_pairs(_bundle(n=150), "weak", ["strong"]) == {"strong": 0}
