"""The stacks' loss, forward pass and SGD step (cchkit.distill.stacked_mlp) against each member's
own network, torch's loss functions and torch.optim.SGD."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from cchkit.distill.stacked_mlp import Batch, member_losses, sgd_step_, stack_forward, stack_gradients

M, B, D, C = 4, 9, 5, 3
WIDTHS = (D, 7, 6, 4, C)  # two hidden ReLU layers, Z, head


def _params(gen):
    out = []
    for i in range(len(WIDTHS) - 1):
        out += [torch.randn(M, WIDTHS[i + 1], WIDTHS[i], generator=gen, dtype=torch.float64),
                torch.randn(M, WIDTHS[i + 1], generator=gen, dtype=torch.float64) * 0.1]
    return out


def _batch(gen, kd: bool) -> Batch:
    x = torch.randn(M, B, D, generator=gen, dtype=torch.float64)
    y = torch.randint(0, C, (M, B), generator=gen)
    if not kd:
        return Batch(x, y)
    q = torch.softmax(torch.randn(M, B, C, generator=gen, dtype=torch.float64), 2)
    has = torch.rand(M, B, generator=gen) < 0.6
    has[0] = True
    has[3] = False  # a member whose batch has no paired row: no KD term
    weight = torch.tensor([0.5, 2.0, 0.0, 1.0], dtype=torch.float64)
    temp = torch.tensor([2.0, 4.0, 1.0, 3.0], dtype=torch.float64)
    return Batch(x, y, q, has, weight, temp)


def _keep(gen):
    p = torch.tensor([0.0, 0.2, 0.5, 0.3], dtype=torch.float64)[:, None, None]
    return [torch.where(torch.rand(M, B, w, generator=gen, dtype=torch.float64) >= p, 1 / (1 - p), 0.0)
            for w in WIDTHS[1:3]]


def _member_loss(params, batch: Batch, keep, m: int) -> torch.Tensor:
    """Member ``m``'s loss as the batched module's docstring writes it, on its own network and
    with torch's own functions (KL to the targets: the soft cross-entropy less the targets'
    entropy, a constant)."""
    h = batch.x[m]
    n = len(params) // 2
    for i in range(n):
        h = h @ params[2 * i][m].T + params[2 * i + 1][m]
        if i < n - 2:
            h = torch.relu(h)
            if keep is not None:
                h = h * keep[i][m]
    loss = F.cross_entropy(h, batch.y[m])
    if batch.targets is not None and batch.has_target[m].any():
        rows = batch.has_target[m]
        t = batch.temperature[m]
        kl = F.kl_div(F.log_softmax(h[rows] / t, 1), batch.targets[m][rows], reduction="batchmean")
        loss = loss + batch.weight[m] * t**2 * kl
    return loss


def _entropy_term(batch: Batch, m: int) -> torch.Tensor:
    """What member ``m``'s soft cross-entropy adds to its KL: lambda T^2 times the targets' mean entropy."""
    if batch.targets is None or not batch.has_target[m].any():
        return torch.tensor(0.0, dtype=torch.float64)
    q = batch.targets[m][batch.has_target[m]]
    t = batch.temperature[m]
    return batch.weight[m] * t**2 * -(q * q.log()).sum(1).mean()


@pytest.fixture(params=[(False, False), (False, True), (True, False), (True, True)], ids=lambda p: f"kd={p[0]}-dropout={p[1]}")
def case(request):
    """Parameters, a batch (with KD targets or not) and dropout multipliers (or none)."""
    kd, dropout = request.param
    gen = torch.Generator().manual_seed(3)
    params, batch = _params(gen), _batch(gen, kd)
    return params, batch, _keep(gen) if dropout else None


def test_each_members_loss_is_its_own_networks(case):
    params, batch, keep = case
    losses = member_losses(stack_forward(params, batch.x, keep), batch)
    for m in range(M):
        torch.testing.assert_close(losses[m], _member_loss(params, batch, keep, m) + _entropy_term(batch, m),
                                   rtol=1e-10, atol=1e-12)


def test_each_members_gradient_is_its_own_networks(case):
    params, batch, keep = case
    ours = stack_gradients(params, batch, keep)
    assert all(not p.requires_grad for p in params)  # the stack's parameters stay plain tensors
    for m in range(M):
        own = [p.clone().requires_grad_(True) for p in params]
        _member_loss(own, batch, keep, m).backward()
        for mine, ref in zip(ours, own):  # a member's gradient is its own loss's, nothing of the others'
            torch.testing.assert_close(mine[m], ref.grad[m], rtol=1e-10, atol=1e-12)


def test_forward_is_the_mlp():
    gen = torch.Generator().manual_seed(5)
    params, batch, keep = _params(gen), _batch(gen, False), _keep(gen)
    before = [p.clone() for p in params] + [batch.x.clone()] + [k.clone() for k in keep]
    logits = stack_forward(params, batch.x, keep)
    h = batch.x
    for i in range(4):
        h = h @ params[2 * i].transpose(1, 2) + params[2 * i + 1][:, None, :]
        if i < 2:
            h = torch.relu(h) * keep[i]
    torch.testing.assert_close(logits, h, rtol=1e-12, atol=1e-12)
    for now, then in zip([*params, batch.x, *keep], before):
        assert torch.equal(now, then)


@pytest.mark.parametrize("weight_decay", [None, (0.0, 1e-2, 1e-3, 0.1)])
def test_sgd_step_is_torch_sgd_per_member(weight_decay):
    gen = torch.Generator().manual_seed(1)
    params = _params(gen)
    lr = torch.tensor([0.1, 0.03, 0.01, 0.2], dtype=torch.float64)
    wd = None if weight_decay is None else torch.tensor(weight_decay, dtype=torch.float64)
    grads_per_step = [[torch.randn_like(p) * 3 for p in params] for _ in range(3)]
    stacked, bufs = [p.clone() for p in params], [None] * len(params)
    for grads in grads_per_step:
        sgd_step_(stacked, [g.clone() for g in grads], bufs, lr, wd, momentum=0.9, grad_clip=1.0)
    for m in range(M):
        own = [p[m].clone().requires_grad_(True) for p in params]
        opt = torch.optim.SGD(own, lr=float(lr[m]), momentum=0.9, weight_decay=0.0 if wd is None else float(wd[m]))
        for grads in grads_per_step:
            for p, g in zip(own, grads):
                p.grad = g[m].clone()
            torch.nn.utils.clip_grad_norm_(own, 1.0)
            opt.step()
        for p, q in zip(stacked, own):
            torch.testing.assert_close(p[m], q.detach(), rtol=1e-10, atol=1e-12)
