"""Stacked training (issue #26): each member of a stack gives what that student alone gives
with :func:`cchkit.distill.distill`, method by method, on fixed seeds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cchkit.bundle import ModalityBundle
from cchkit.distill import distill
from cchkit.distill.batched import Member, StackSettings, train_stack
from cchkit.distill.prepare import prepare_seed

FAST = dict(epochs=4, min_steps=0, batch_size=16, feat_dim=8, hidden=12)


@pytest.fixture(scope="module")
def bundle():
    rng = np.random.default_rng(0)
    n = 180
    y = rng.integers(0, 3, n)
    mu = rng.normal(size=(3, 4)) * 1.2
    s = mu[y] + rng.normal(size=(n, 4))
    t = mu[y] @ rng.normal(size=(4, 5)) + 0.3 * rng.normal(size=(n, 5))
    return ModalityBundle.from_arrays({"s": s, "t": t}, labels=y)


def _member(p, kd, **kw):
    tt = p.teachers["t"]
    if kd == "class":
        kw.update(targets=tt.class_targets(kw.get("temperature", 4.0)))
    elif kd == "paired":
        kw.update(targets=tt.pair_logits, pair_mask=tt.pair_mask)
    return Member(0, p.init_seed, p.batch_seed, kd=kd, **kw)


CASES = [  # (distill method and settings, stack member settings)
    ("none", {}, "none", {}),
    ("none", {"lr": 0.03, "weight_decay": 1e-3}, "none", {"lr": 0.03, "weight_decay": 1e-3}),
    ("class-align", {"lambda1": 0.5, "temperature": 2.0}, "class", {"kd_weight": 0.5, "temperature": 2.0}),
    ("logit-kd", {"lambda1": 2.0, "temperature": 4.0}, "paired", {"kd_weight": 2.0, "temperature": 4.0}),
]


@pytest.mark.parametrize("seed", [0, 7])
def test_each_member_equals_its_single_training(bundle, seed):
    p = prepare_seed(bundle, "s", ["t"], seed, paired=True, device="cpu", epochs=FAST["epochs"],
                     batch_size=FAST["batch_size"], feat_dim=FAST["feat_dim"], hidden=FAST["hidden"])
    members = [_member(p, kd, lr=kw.pop("lr", 1e-2), **kw) for _, _, kd, kw in [(a, b, c, dict(d)) for a, b, c, d in CASES]]
    settings = StackSettings(n_classes=3, hidden=FAST["hidden"], feat_dim=FAST["feat_dim"], epochs=FAST["epochs"],
                             min_steps=0, batch_size=FAST["batch_size"])
    stacked = train_stack(members, [p.data], settings)
    for (method, kw, _, _), res in zip(CASES, stacked):
        one = distill(bundle, "s", "t", method=method, random_state=seed, device="cpu", progress=False, **FAST, **kw)
        assert res.accuracy == pytest.approx(one.accuracy, abs=1e-6), method
        assert res.best_epoch == one.params["best_epoch"], method


def test_members_do_not_disturb_each_other(bundle):
    """A member's result does not depend on which other members share its stack."""
    p = prepare_seed(bundle, "s", ["t"], 3, paired=True, device="cpu", epochs=4, batch_size=16, feat_dim=8, hidden=12)
    settings = StackSettings(n_classes=3, hidden=12, feat_dim=8, epochs=4, min_steps=0, batch_size=16)
    alone = train_stack([_member(p, "class", kd_weight=1.0)], [p.data], settings)[0]
    crowd = train_stack([_member(p, "none", lr=0.05), _member(p, "class", kd_weight=1.0),
                         _member(p, "paired", kd_weight=3.0)], [p.data], settings)[1]
    assert crowd == alone


def test_stacking_leaves_the_global_generator_alone(bundle):
    p = prepare_seed(bundle, "s", ["t"], 1, paired=False, device="cpu", epochs=2, batch_size=16, feat_dim=8, hidden=12)
    torch.manual_seed(42)
    expected = torch.rand(3)
    torch.manual_seed(42)
    train_stack([_member(p, "none")], [p.data], StackSettings(n_classes=3, hidden=12, feat_dim=8, epochs=2, min_steps=0))
    assert torch.equal(torch.rand(3), expected)


def test_thread_count_does_not_change_a_stack(bundle):
    p = prepare_seed(bundle, "s", ["t"], 5, paired=True, device="cpu", epochs=4, batch_size=16, feat_dim=8, hidden=12)
    settings = StackSettings(n_classes=3, hidden=12, feat_dim=8, epochs=4, min_steps=0, batch_size=16)
    members = [_member(p, "none", lr=lr) for lr in (0.003, 0.01, 0.03)] + [_member(p, "class", kd_weight=1.0)]
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = train_stack(members, [p.data], settings)
        torch.set_num_threads(2)
        two = train_stack(members, [p.data], settings)
    finally:
        torch.set_num_threads(old)
    assert one == two


def test_distill_leaves_the_global_generator_alone(bundle):
    from cchkit.distill import distill

    torch.manual_seed(42)
    expected = torch.rand(3)
    torch.manual_seed(42)
    distill(bundle, "s", "t", method="class-align", lambda_fa=0.5, random_state=0, progress=False, **FAST)
    assert torch.equal(torch.rand(3), expected)


def test_a_two_layer_member_equals_its_single_training(bundle):
    """Depth is searched too: a (12, 10) student in a stack is the one ``distill`` trains."""
    kw = {**FAST, "hidden": (12, 10)}
    p = prepare_seed(bundle, "s", ["t"], 2, paired=False, device="cpu", epochs=kw["epochs"], batch_size=16,
                     feat_dim=8, hidden=(12, 10))
    settings = StackSettings(n_classes=3, hidden=(12, 10), feat_dim=8, epochs=kw["epochs"], min_steps=0, batch_size=16)
    res = train_stack([_member(p, "none"), _member(p, "class", kd_weight=1.0)], [p.data], settings)
    for method, r in zip(("none", "class-align"), res):
        one = distill(bundle, "s", "t", method=method, random_state=2, device="cpu", progress=False, **kw)
        assert r.accuracy == pytest.approx(one.accuracy, abs=1e-6), method


def test_dropout_is_the_members_own_whatever_its_stack(bundle):
    p = prepare_seed(bundle, "s", ["t"], 6, paired=False, device="cpu", epochs=4, batch_size=16, feat_dim=8, hidden=12)
    settings = StackSettings(n_classes=3, hidden=(12, 10), feat_dim=8, epochs=4, min_steps=0, batch_size=16)
    plain = train_stack([_member(p, "none")], [p.data], settings)[0]
    alone = train_stack([_member(p, "none", dropout=0.5)], [p.data], settings)[0]
    crowd = train_stack([_member(p, "none"), _member(p, "class", kd_weight=1.0, dropout=0.2),
                         _member(p, "none", dropout=0.5)], [p.data], settings)
    assert crowd[2] == alone  # its draws come from its batch seed, not from the stack
    assert crowd[0] == plain  # a rate of 0 is exactly no dropout
    assert alone != plain  # and a rate above 0 changes the training


def test_members_let_go_do_not_change_the_ones_that_go_on(bundle):
    """Successive halving stops members mid-run: the others finish exactly as in a full stack."""
    from cchkit.distill.batched import StackRun

    p = prepare_seed(bundle, "s", ["t"], 4, paired=True, device="cpu", epochs=6, batch_size=16, feat_dim=8, hidden=12)
    settings = StackSettings(n_classes=3, hidden=(12, 10), feat_dim=8, epochs=6, min_steps=0, batch_size=16)
    members = [_member(p, "none", lr=0.03, dropout=0.2), _member(p, "class", kd_weight=1.0),
               _member(p, "paired", kd_weight=2.0, dropout=0.5), _member(p, "none", weight_decay=1e-3)]
    full = train_stack(members, [p.data], settings)
    run = StackRun(members, [p.data], settings)
    run.run(until=2)
    run.keep([False, True, True, False])
    run.run(until=4)
    run.keep([False, True])
    with pytest.raises(RuntimeError, match="trained 4 of its 6 epochs"):
        run.results()
    run.run()
    assert list(run.index) == [2] and run.results() == [full[2]]
    # and the distilling members leave a no-KD stack that skips the KD term without a change
    run = StackRun(members, [p.data], settings)
    run.run(until=1)
    run.keep([True, False, False, True])
    assert not run.stack.any_kd
    run.run()
    assert run.results() == [full[0], full[3]]


def test_teachers_of_different_widths_train_as_each_alone():
    """A stack of teachers with 4 and 6 features (the narrower padded with zeros) gives each the
    weights pretrain_teacher gives it alone."""
    from cchkit.distill.batched import TeacherJob, train_teachers
    from cchkit.distill.models import build_net, pretrain_teacher

    gen = torch.Generator().manual_seed(0)
    jobs = [TeacherJob(torch.randn(50, d, generator=gen), torch.randint(0, 3, (50,), generator=gen), seed)
            for d, seed in ((4, 1), (6, 2), (4, 3))]
    kw = dict(epochs=3, batch_size=16, lr=1e-2)
    stacked = train_teachers(jobs, n_classes=3, hidden=8, feat_dim=5, **kw)
    for job, params in zip(jobs, stacked):
        net = build_net(job.x.shape[1], 3, feat_dim=5, hidden=8, seed=job.seed)
        alone, _ = pretrain_teacher(net, job.x, job.y, seed=job.seed, **kw)
        assert params[0].shape == (8, job.x.shape[1])
        for mine, ref in zip(params, alone.parameters()):
            torch.testing.assert_close(mine, ref.detach(), rtol=1e-5, atol=1e-6)
