"""The stacks' written-out gradients and SGD step (cchkit.distill.stacked_mlp) against autograd
and torch.optim.SGD on the loss the batched module documents."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from cchkit.distill.stacked_mlp import Batch, sgd_step_, softmax_last, stack_forward, stack_gradients

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


def _autograd_loss(params, batch: Batch, keep):
    """The loss of the batched module's docstring, written with torch's own functions (KL with
    the targets' entropy: the same gradient)."""
    h = batch.x
    n = len(params) // 2
    for i in range(n):
        h = h @ params[2 * i].transpose(1, 2) + params[2 * i + 1][:, None, :]
        if i < n - 2:
            h = torch.relu(h)
            if keep is not None:
                h = h * keep[i]
    total = 0.0
    for m in range(M):
        loss = F.cross_entropy(h[m], batch.y[m])
        if batch.targets is not None and batch.has_target[m].any():
            rows = batch.has_target[m]
            t = batch.temperature[m]
            kl = F.kl_div(F.log_softmax(h[m][rows] / t, 1), batch.targets[m][rows], reduction="batchmean")
            loss = loss + batch.weight[m] * t**2 * kl
        total = total + loss
    return total


@pytest.mark.parametrize("kd", [False, True])
@pytest.mark.parametrize("dropout", [False, True])
def test_gradients_are_autograds(kd, dropout):
    gen = torch.Generator().manual_seed(3)
    params, batch = _params(gen), _batch(gen, kd)
    keep = _keep(gen) if dropout else None
    leaves = [p.clone().requires_grad_(True) for p in params]
    _autograd_loss(leaves, batch, keep).backward()
    ours = stack_gradients(params, batch, keep)
    for mine, ref in zip(ours, leaves):
        torch.testing.assert_close(mine, ref.grad, rtol=1e-10, atol=1e-12)


def test_forward_is_the_mlp():
    gen = torch.Generator().manual_seed(5)
    params, batch, keep = _params(gen), _batch(gen, False), _keep(gen)
    before = [p.clone() for p in params] + [batch.x.clone()] + [k.clone() for k in keep]
    logits, inputs = stack_forward(params, batch.x, keep, record=True)
    assert len(inputs) == len(params) // 2 and inputs[0] is batch.x
    h = batch.x
    for i in range(4):
        h = h @ params[2 * i].transpose(1, 2) + params[2 * i + 1][:, None, :]
        if i < 2:
            h = torch.relu(h) * keep[i]
    torch.testing.assert_close(logits, h, rtol=1e-12, atol=1e-12)
    # its in-place ReLU and dropout act on its own activations only: parameters, inputs and
    # dropout multipliers are left as they were
    for now, then in zip([*params, batch.x, *keep], before):
        assert torch.equal(now, then)


def test_softmax_last_is_softmax():
    x = torch.randn(5, 7, 10, generator=torch.Generator().manual_seed(0)) * 30
    torch.testing.assert_close(softmax_last(x), torch.softmax(x, -1))


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
