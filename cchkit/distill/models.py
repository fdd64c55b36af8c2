"""Teacher and student networks for the distiller: an MLP encoder into a shared space Z plus a
linear head.

Both the teacher and the student encoders map their own modality into Z (``feat_dim``
dimensions), so modalities of different input dimension need no extra projection layer: the
encoder's last linear layer is that projection.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .._torch import mlp, seeded

logger = logging.getLogger("cchkit")

__all__ = ["KDNet", "build_net", "pretrain_teacher", "freeze", "accuracy"]


class KDNet(nn.Module):
    """``x -> z = encoder(x) in Z -> logits = head(z)``.

    Attributes
    ----------
    encoder : nn.Sequential
        MLP ``in_dim -> hidden... -> feat_dim`` (ReLU, no activation on Z).
    head : nn.Linear
        ``feat_dim -> n_classes``.
    """

    def __init__(self, in_dim: int, n_classes: int, *, feat_dim: int = 32, hidden: int | Sequence[int] = 64) -> None:
        super().__init__()
        self.in_dim = int(in_dim)
        self.n_classes = int(n_classes)
        self.feat_dim = int(feat_dim)
        self.encoder = mlp(self.in_dim, hidden, self.feat_dim)
        self.head = nn.Linear(self.feat_dim, self.n_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(z, logits)``."""
        z = self.encoder(x)
        return z, self.head(z)


def build_net(
    in_dim: int, n_classes: int, *, feat_dim: int = 32, hidden: int | Sequence[int] = 64, seed: int = 0
) -> KDNet:
    """A freshly initialised :class:`KDNet` (torch's default init, seeded by ``seed``)."""
    with seeded(seed):
        return KDNet(in_dim, n_classes, feat_dim=feat_dim, hidden=hidden)


def freeze(net: nn.Module) -> nn.Module:
    """Eval mode, ``requires_grad=False`` and no stored gradient on every parameter; returns ``net``."""
    net.eval()
    for p in net.parameters():
        p.grad = None
        p.requires_grad_(False)
    return net


@torch.no_grad()
def accuracy(net: KDNet, x: torch.Tensor, y: torch.Tensor) -> float:
    """Share of rows whose arg-max logit is the label (nan on an empty set)."""
    if x.shape[0] == 0:
        return float("nan")
    _, logits = net(x)
    return float((logits.argmax(1) == y).float().mean())


def pretrain_teacher(
    net: KDNet,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int = 30,
    batch_size: int = 64,
    lr: float = 1e-2,
    weight_decay: float = 1e-4,
    seed: int = 0,
) -> tuple[KDNet, list[float]]:
    """Train ``net`` with cross-entropy (AdamW, cosine-decayed lr), then freeze it.

    The teacher is trained on its own modality's training samples only; mini-batches are a
    seeded permutation per epoch. Returns the frozen net and the per-epoch mean training loss.
    """
    gen = np.random.default_rng(seed)
    net.train()
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    n = x.shape[0]
    n_batches = max(1, int(np.ceil(n / batch_size)))
    total = max(1, epochs * n_batches)
    step = 0
    losses: list[float] = []
    for _ in range(epochs):
        perm = torch.from_numpy(gen.permutation(n))
        run = 0.0
        for k in range(n_batches):
            idx = perm[k * batch_size : (k + 1) * batch_size]
            for g in opt.param_groups:
                g["lr"] = lr * 0.5 * (1.0 + np.cos(np.pi * step / total))
            _, logits = net(x[idx])
            loss = F.cross_entropy(logits, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            run += float(loss.detach())
            step += 1
        losses.append(run / n_batches)
    return freeze(net), losses
