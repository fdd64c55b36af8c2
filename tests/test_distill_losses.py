"""Distillation losses against hand computations and exact OT."""

from __future__ import annotations

import math

import numpy as np
import ot
import pytest
import torch
import torch.nn.functional as F

from cchkit.distill import feature_kd, label_alignment, sinkhorn_alignment, vanilla_kd
from cchkit.distill.losses import cost_matrix
from cchkit.exceptions import InputError


def _batches(n=7, m=9, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    zs = torch.randn(n, d, generator=g, dtype=torch.float64)
    zt = torch.randn(m, d, generator=g, dtype=torch.float64) + 0.5
    return zs, zt


def test_cost_matrix_by_hand():
    zs = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    zt = torch.tensor([[1.0, 0.0], [3.0, 4.0], [-1.0, 0.0]], dtype=torch.float64)
    l2 = cost_matrix(zs, zt, "l2")
    expected = np.array([[0.0, 20.0, 4.0], [5.0, 13.0, 5.0]])
    np.testing.assert_allclose(l2.numpy(), expected, atol=1e-12)
    cos = cost_matrix(zs, zt, "cosine")
    np.testing.assert_allclose(cos.numpy(), [[0.0, 1 - 0.6, 2.0], [1.0, 1 - 0.8, 1.0]], atol=1e-12)
    np.testing.assert_allclose(cost_matrix(zs, zt, "l2", normalize=True).numpy(), expected / 20.0, atol=1e-12)


@pytest.mark.parametrize("cost", ["l2", "cosine"])
def test_sinkhorn_converges_to_exact_ot(cost):
    zs, zt = _batches()
    c = cost_matrix(zs, zt, cost).numpy()
    exact = ot.emd2(np.full(7, 1 / 7), np.full(9, 1 / 9), c)
    errs = []
    for eps in (0.5, 0.1, 0.02, 0.005):
        val = float(sinkhorn_alignment(zs, zt, eps=eps, cost=cost, normalize=False, n_iter=20000, tol=1e-10))
        assert val >= exact - 1e-8  # the entropic plan is feasible, so never below the exact optimum
        errs.append(val - exact)
    assert errs == sorted(errs, reverse=True)  # monotone approach as eps -> 0
    assert errs[-1] < 0.02 * max(exact, 1e-3) + 1e-4


def test_native_and_pot_backends_agree():
    zs, zt = _batches(16, 12, 5, seed=1)
    for cost in ("cosine", "l2"):
        a = sinkhorn_alignment(zs, zt, eps=0.1, cost=cost, normalize=True, backend="native", n_iter=2000, tol=1e-12)
        b = sinkhorn_alignment(zs, zt, eps=0.1, cost=cost, normalize=True, backend="pot", n_iter=2000, tol=1e-12)
        assert float(a) == pytest.approx(float(b), rel=1e-7)


def test_sinkhorn_gradient_reaches_student_only():
    zs, zt = _batches()
    zs.requires_grad_(True)
    zt.requires_grad_(True)
    loss = sinkhorn_alignment(zs, zt, eps=0.1, cost="l2")
    loss.backward()
    assert zs.grad is not None and torch.isfinite(zs.grad).all() and zs.grad.abs().sum() > 0
    assert zt.grad is None


def test_sinkhorn_envelope_gradient_matches_unrolled_at_convergence():
    zs, zt = _batches(6, 6, 2, seed=3)
    grads = []
    for mode in ("envelope", "unrolled"):
        z = zs.clone().requires_grad_(True)
        sinkhorn_alignment(z, zt, eps=1.0, cost="l2", normalize=False, gradient=mode, n_iter=5000, tol=1e-12).backward()
        grads.append(z.grad)
    # the two differ by the derivative of the plan, small but not zero for a finite eps
    cos = F.cosine_similarity(grads[0].flatten(), grads[1].flatten(), dim=0)
    assert cos > 0.9


def test_sinkhorn_identical_batches_near_zero():
    zs, _ = _batches()
    assert float(sinkhorn_alignment(zs, zs.clone(), eps=1e-3, cost="l2", normalize=False, n_iter=5000, tol=1e-10)) < 1e-3


def test_sinkhorn_input_errors():
    zs, zt = _batches()
    with pytest.raises(InputError, match="different dimension"):
        sinkhorn_alignment(zs, zt[:, :2])
    with pytest.raises(InputError, match="unknown cost"):
        sinkhorn_alignment(zs, zt, cost="l1")
    with pytest.raises(InputError, match="eps"):
        sinkhorn_alignment(zs, zt, eps=0.0)


def test_vanilla_kd_by_hand():
    s = torch.tensor([[1.0, 2.0, 0.0], [0.5, -1.0, 2.0]], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([[0.0, 1.0, 3.0], [2.0, 0.0, 0.0]], dtype=torch.float64, requires_grad=True)
    T = 2.0

    def softmax(v):
        e = np.exp(v - v.max())
        return e / e.sum()

    kl = []
    for si, ti in zip(s.detach().numpy(), t.detach().numpy()):
        pt, ps = softmax(ti / T), softmax(si / T)
        kl.append(float(np.sum(pt * np.log(pt / ps))))
    expected = T * T * np.mean(kl)
    loss = vanilla_kd(s, t, T=T)
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-12)
    loss.backward()
    assert t.grad is None and s.grad is not None
    assert float(vanilla_kd(s.detach(), s.detach(), T=4.0)) == pytest.approx(0.0, abs=1e-12)


def test_label_alignment_by_hand():
    s = torch.tensor([[2.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    t = torch.tensor([[1.0, 0.0], [0.0, -1.0]], dtype=torch.float64)
    y = torch.tensor([0, 1])
    ps = torch.softmax(s, 1)[[0, 1], y]
    pt = torch.softmax(t, 1)[[0, 1], y]
    expected = float(torch.mean(-(torch.log(ps) - pt * torch.log(pt))))
    assert float(label_alignment(s, t, y)) == pytest.approx(expected, rel=1e-12)


def test_label_alignment_reduces_to_ce_when_kappa_vanishes():
    g = torch.Generator().manual_seed(0)
    s = torch.randn(20, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 4, (20,), generator=g)
    ce = float(F.cross_entropy(s, y))
    gaps = []
    for margin in (5.0, 20.0, 60.0):
        t = torch.zeros(20, 4, dtype=torch.float64)
        t[torch.arange(20), y] = -margin  # the teacher head puts ~0 probability on the true label
        gaps.append(abs(float(label_alignment(s, t, y)) - ce))
    assert gaps == sorted(gaps, reverse=True)
    assert gaps[-1] < 1e-20


def test_label_alignment_gradient_options():
    g = torch.Generator().manual_seed(1)
    s = torch.randn(8, 3, generator=g, dtype=torch.float64, requires_grad=True)
    t = torch.randn(8, 3, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, 3, (8,), generator=g)
    label_alignment(s, t, y, teacher_grad=True).backward()
    assert t.grad is not None and t.grad.abs().sum() > 0
    # kappa is a detached weight: d/dt of -kappa * CE_T is kappa * d log p_T(y)/dt
    pt = torch.softmax(t.detach(), 1)
    onehot = F.one_hot(y, 3).double()
    kappa = pt[torch.arange(8), y][:, None]
    np.testing.assert_allclose(t.grad.numpy(), (kappa * (onehot - pt) / 8).numpy(), atol=1e-12)
    s.grad = None
    t.grad = None
    label_alignment(s, t, y, teacher_grad=False).backward()
    assert t.grad is None
    ce_grad = torch.autograd.grad(F.cross_entropy(s, y), s)[0]
    np.testing.assert_allclose(s.grad.numpy(), ce_grad.numpy(), atol=1e-12)


def test_feature_kd_is_mse_and_detaches_teacher():
    zs = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    zt = torch.tensor([[0.0, 2.0], [1.0, 1.0]], requires_grad=True)
    loss = feature_kd(zs, zt)
    assert float(loss.detach()) == pytest.approx((1 + 0 + 4 + 9) / 4)
    loss.backward()
    assert zt.grad is None and zs.grad is not None
    with pytest.raises(InputError):
        feature_kd(zs, zt[:1])
    with pytest.raises(InputError):
        vanilla_kd(torch.zeros(2, 3), torch.zeros(2, 4))
    assert math.isfinite(float(label_alignment(torch.zeros(3, 2), torch.zeros(3, 2), torch.tensor([0, 1, 0]))))


def test_class_conditional_alignment_weights_each_class_by_its_share_of_the_student_batch():
    """Student batch: 6 rows of class 0, 2 of class 1 (shares 3/4, 1/4); teacher batch: 2 and 6
    (the teacher's shares are the other way round); a class only the teacher has is skipped."""
    from cchkit.distill.losses import class_conditional_alignment

    zs, zt = _batches(8, 9, seed=3)
    ys = torch.tensor([0, 0, 0, 0, 0, 0, 1, 1])
    yt = torch.tensor([0, 0, 1, 1, 1, 1, 1, 1, 2])
    per_class = [float(sinkhorn_alignment(zs[ys == c], zt[yt == c], eps=0.1, cost="cosine")) for c in (0, 1)]
    expected = 0.75 * per_class[0] + 0.25 * per_class[1]
    got = float(class_conditional_alignment(zs, ys, zt, yt, eps=0.1, cost="cosine"))
    assert got == pytest.approx(expected, rel=1e-9)
    assert abs(expected - (0.25 * per_class[0] + 0.75 * per_class[1])) > 1e-3  # the teacher's shares would differ
