"""Cross-fitted encoder representations (cchkit.encoders)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from cchkit._torch import adamw_step
from cchkit.exceptions import InputError
from cchkit.representations import RepresentationSet, batched, compute_representations, encoder_representations
from cchkit.representations import encoders as enc

# one intra-op thread: these nets are tiny, and CI runs pytest -n 2 on two cores
FAST = dict(epochs=8, hidden=16, patience=3, n_threads=1)
ONE = dict(n_threads=1)


def _blobs(n=240, d=(6, 4, 3), n_classes=3, sep=3.0, seed=0):
    """Class means separated in every modality (an easy problem)."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_classes), n // n_classes)
    rng.shuffle(y)
    data = {}
    for k, dk in enumerate(d):
        means = rng.standard_normal((n_classes, dk)) * sep
        data[f"m{k}"] = means[y] + rng.standard_normal((n, dk))
    return data, y


def test_shapes_folds_and_info():
    data, y = _blobs()
    reps = encoder_representations(data, y, dim=5, n_folds=3, random_state=0, **FAST)
    assert isinstance(reps, RepresentationSet) and reps.kind == "encoder"
    assert len(reps.folds) == len(reps.labels) == 3
    assert reps.n == y.shape[0] and reps.names == ["m0", "m1", "m2"]
    idx = reps.info["fold_indices"]
    for f in range(3):
        np.testing.assert_array_equal(reps.labels[f], y[idx[f]])
        for name in data:
            h = reps.folds[f][name]
            assert h.shape[0] == idx[f].shape[0] and 1 <= h.shape[1] <= 5
            assert h.dtype == np.float64 and np.isfinite(h).all()
            # no constant column survives (the MI estimators refuse them)
            assert np.all(h.std(axis=0) > 0)
            assert reps.info["dims"][name][f] == h.shape[1]
            assert reps.info["dims"][name][f] + reps.info["dropped_columns"][name][f] == 5
    assert set(reps.accuracy) == set(data)
    for name in data:
        curves = reps.info["curves"][name]
        assert len(curves) == 3
        for c in curves:
            assert 1 <= c["epochs_run"] <= FAST["epochs"]
            assert len(c["train_loss"]) == len(c["val_loss"]) == c["epochs_run"]
            assert 0 <= c["best_epoch"] < c["epochs_run"]
    # stratified: every fold has every class in proportion
    for lab in reps.labels:
        assert np.all(np.abs(np.bincount(lab) - 80 / 3) < 1)


def test_folds_partition_the_samples():
    data, y = _blobs(n=90)
    reps = encoder_representations(data, y, dim=3, n_folds=3, **FAST)
    allidx = np.concatenate(reps.info["fold_indices"])
    np.testing.assert_array_equal(np.sort(allidx), np.arange(90))


def test_held_out_only_sample_identity_cannot_leak():
    """Each sample's only feature is its own identity (one-hot of its index) and labels are
    random: an encoder that had trained on a sample would know its label; one that had not can
    only guess. Held-out accuracy at chance shows no sample is embedded by an encoder trained on
    it, and the training curves show the encoders do memorise what they see."""
    n = 120
    rng = np.random.default_rng(0)
    y = rng.permutation(np.repeat([0, 1], n // 2))
    x = np.eye(n) * 5.0
    reps = encoder_representations(
        {"id": x},
        y,
        dim=8,
        hidden=32,
        epochs=150,
        patience=1000,
        lr=1e-2,
        weight_decay=0.0,
        random_state=0,
        n_threads=1,
    )
    assert reps.info["curves"]["id"][0]["train_loss"][-1] < 0.05  # memorised its training part
    assert 0.3 < reps.accuracy["id"] < 0.7  # ... but guesses on held-out samples


def test_same_seed_same_arrays_other_seed_other_arrays():
    data, y = _blobs(n=120)
    a = encoder_representations(data, y, dim=4, random_state=3, **FAST)
    b = encoder_representations(data, y, dim=4, random_state=3, **FAST)
    c = encoder_representations(data, y, dim=4, random_state=4, **FAST)
    for f in range(2):
        for name in data:
            np.testing.assert_array_equal(a.folds[f][name], b.folds[f][name])
        np.testing.assert_array_equal(a.info["fold_indices"][f], b.info["fold_indices"][f])
    assert a.accuracy == b.accuracy
    assert not np.array_equal(a.folds[0]["m0"], c.folds[0]["m0"])
    # the thread count changes nothing, and is restored
    import torch

    before = torch.get_num_threads()
    d = encoder_representations(data, y, dim=4, random_state=3, **{**FAST, "n_threads": None})
    assert torch.get_num_threads() == before
    np.testing.assert_allclose(d.folds[0]["m0"], a.folds[0]["m0"], rtol=1e-5, atol=1e-6)
    g1 = encoder_representations(data, y, dim=4, random_state=np.random.default_rng(9), **FAST)
    g2 = encoder_representations(data, y, dim=4, random_state=np.random.default_rng(9), **FAST)
    np.testing.assert_array_equal(g1.folds[1]["m2"], g2.folds[1]["m2"])


def test_modality_representation_does_not_depend_on_its_position():
    data, y = _blobs(n=120)
    a = encoder_representations(data, y, dim=4, random_state=1, **FAST)
    rev = {k: data[k] for k in reversed(list(data))}
    b = encoder_representations(rev, y, dim=4, random_state=1, **FAST)
    for name in data:
        np.testing.assert_allclose(a.folds[0][name], b.folds[0][name], rtol=1e-4, atol=1e-5)


def test_accuracy_on_an_easy_problem_and_on_noise():
    data, y = _blobs(n=300, sep=3.0, seed=1)
    rng = np.random.default_rng(5)
    data["noise"] = rng.standard_normal((300, 5))
    reps = encoder_representations(data, y, dim=6, epochs=40, random_state=0, **ONE)
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    for name in ("m0", "m1", "m2"):
        # as good as a logistic regression (the Bayes rule here is linear), within noise
        ref = cross_val_score(LogisticRegression(max_iter=500), data[name], y, cv=2).mean()
        assert reps.accuracy[name] > ref - 0.05, (name, reps.accuracy, ref)
    assert reps.accuracy["m0"] > 0.95 and reps.accuracy["m1"] > 0.95
    assert reps.accuracy["noise"] < 0.5  # chance is 1/3


def test_representation_carries_the_label():
    """A linear probe on H (fitted within the fold) separates the classes."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    data, y = _blobs(n=300, d=(8,), sep=2.0, seed=2)
    reps = encoder_representations(data, y, dim=4, epochs=40, random_state=0, **ONE)
    h, lab = reps.folds[0]["m0"], reps.labels[0]
    assert cross_val_score(LogisticRegression(max_iter=500), h, lab, cv=3).mean() > 0.85


def test_given_modalities_are_used_as_they_are():
    data, y = _blobs(n=120)
    reps = encoder_representations(data, y, dim=4, given=["m1"], **FAST)
    assert "m1" not in reps.info["curves"]
    for f, idx in enumerate(reps.info["fold_indices"]):
        h = reps.folds[f]["m1"]
        assert h.shape == (idx.shape[0], data["m1"].shape[1])
        # an affine, per-column rescaling of the raw features (train-fold standardisation)
        for j in range(h.shape[1]):
            assert abs(np.corrcoef(h[:, j], data["m1"][idx, j])[0, 1]) == pytest.approx(1.0)
    assert reps.accuracy["m1"] > 0.8
    assert reps.info["given"] == ["m1"]


def test_dead_units_are_dropped_and_all_dead_falls_back(monkeypatch, caplog):
    """Constant representation columns (dead ReLUs) are dropped; a fold whose every unit is
    dead falls back to the layer's pre-activations with a warning."""
    real = enc.fit_group

    def fake(jobs, **kw):
        out = real(jobs, **kw)
        for job, fit in zip(jobs, out):
            fit.h = fit.h.copy()
            if job.name == "m0":
                fit.h[:, :2] = 0.0  # two dead units
            if job.name == "m1" and job.fold == 1:
                fit.h[:] = 0.0  # every unit dead
        return out

    monkeypatch.setattr(enc, "fit_group", fake)
    data, y = _blobs(n=120)
    with caplog.at_level(logging.WARNING, logger="cchkit"):
        reps = encoder_representations(data, y, dim=4, **FAST)
    for f in range(2):  # the two forced dead units, and maybe naturally dead ones
        assert reps.info["dims"]["m0"][f] <= 2 and reps.info["dropped_columns"]["m0"][f] >= 2
        assert reps.folds[f]["m0"].shape[1] == reps.info["dims"]["m0"][f]
        assert np.all(reps.folds[f]["m0"].std(axis=0) > 0)
    assert reps.info["preactivation_fallback"] == {"m1": [1]}
    assert "pre-activations" in caplog.text
    assert np.all(reps.folds[1]["m1"].std(axis=0) > 0)


def test_classes_with_too_few_samples_raise():
    data, y = _blobs(n=60)
    y = y.copy()
    y[0] = 7  # a class with one sample
    with pytest.raises(InputError, match="fewer samples than n_folds"):
        encoder_representations(data, y, **FAST)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_folds=1), "n_folds"),
        (dict(dim=0), "dim"),
        (dict(lr=0), "lr"),
        (dict(epochs=2.5), "epochs"),
        (dict(given=["nope"]), "not in data"),
        (dict(hidden_size=3), "unknown encoder option"),
        (dict(device="tpu"), "device"),
        (dict(n_threads=0), "n_threads"),
    ],
)
def test_bad_settings_raise(kwargs, match):
    data, y = _blobs(n=60)
    with pytest.raises(InputError, match=match):
        encoder_representations(data, y, **{**FAST, **kwargs})


def test_bad_data_raise():
    data, y = _blobs(n=60)
    with pytest.raises(InputError, match="rows"):
        encoder_representations({"a": data["m0"][:50]}, y, **FAST)
    with pytest.raises(InputError, match="single class"):
        encoder_representations(data, np.zeros(60, dtype=int), **FAST)
    bad = data["m0"].copy()
    bad[3, 1] = np.nan
    with pytest.raises(InputError, match="NaN"):
        encoder_representations({"a": bad}, y, **FAST)
    with pytest.raises(InputError, match="non-empty"):
        encoder_representations({}, y, **FAST)
    with pytest.raises(InputError, match="constant"):
        encoder_representations({"a": np.ones((60, 3))}, y, **FAST)


def test_string_labels_and_compute_representations_route():
    data, y = _blobs(n=90)
    names = np.array(["cat", "dog", "eel"])[y]
    reps = compute_representations(data, names, kind="encoder", dim=3, random_state=0, **FAST)
    assert reps.kind == "encoder"
    assert list(reps.info["classes"]) == ["cat", "dog", "eel"]
    assert set(np.concatenate(reps.labels)) == {0, 1, 2}


def test_progress_bar_runs(capsys):
    data, y = _blobs(n=60)
    encoder_representations(data, y, dim=3, progress=True, **FAST)
    assert "encoders" in capsys.readouterr().err


def test_stratified_holdout_is_stratified_and_seeded():
    y = np.repeat([0, 1, 2], [40, 20, 1])
    m1 = batched.stratified_holdout(y, 0.25, np.random.default_rng(0))
    m2 = batched.stratified_holdout(y, 0.25, np.random.default_rng(0))
    np.testing.assert_array_equal(m1, m2)
    assert np.bincount(y[m1], minlength=3).tolist() == [10, 5, 0]


def test_job_grouping_respects_budget():
    def job(rows, d):
        z = np.zeros((rows, d), dtype=np.float32)
        return batched.EncoderJob("x", 0, 0, z, np.zeros(rows, int), z[:0], np.zeros(0, int), z[:1])

    jobs = [job(99, 10) for _ in range(5)]
    groups = batched.group_jobs(jobs, budget=2 * 100 * 10)
    assert [len(g) for g in groups] == [2, 2, 1]
    assert sum(len(g) for g in batched.group_jobs(jobs)) == 5


@pytest.mark.slow
def test_speed_on_2000_samples_three_modalities():
    """The `cchkit rank` budget: 2,000 samples x 3 modalities (dims 60-240) in seconds."""
    import time

    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 2000)
    data = {
        f"m{d}": np.eye(10)[y] @ rng.standard_normal((10, d)) + 2 * rng.standard_normal((2000, d))
        for d in (60, 120, 240)
    }
    t0 = time.perf_counter()
    reps = encoder_representations(data, y, random_state=0, device="cpu", **ONE)
    elapsed = time.perf_counter() - t0
    assert reps.n == 2000
    assert elapsed < 60  # a few seconds on an idle 2-core CPU; generous for loaded CI machines


def test_adamw_matches_torch_optim():
    import torch

    torch.manual_seed(0)
    a = [torch.randn(5, 3, requires_grad=True), torch.randn(3, requires_grad=True)]
    b = [t.detach().clone().requires_grad_(True) for t in a]
    ref = torch.optim.AdamW(a, lr=1e-2, weight_decay=1e-2)
    state: dict = {}
    x = torch.randn(7, 5)
    for _ in range(30):
        ref.zero_grad()
        ((x @ a[0] + a[1]) ** 2).sum().backward()
        ref.step()
        adamw_step(b, torch.autograd.grad(((x @ b[0] + b[1]) ** 2).sum(), b), state, lr=1e-2, weight_decay=1e-2)
    for p, q in zip(a, b):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
