"""``none``: the no-KD baseline."""

from __future__ import annotations

import torch

from .base import KDMethod, Step, nan_terms
from .registry import register_method

__all__ = ["NoKD"]


@register_method("none")
class NoKD(KDMethod):
    r"""Cross-entropy only, :math:`\mathcal{L} = \mathrm{CE}(p_S, y)`: the baseline every gain is
    measured against."""

    stack_targets = "none"

    def loss(self, s: Step, z: torch.Tensor, logits: torch.Tensor,
             ce: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        return ce, nan_terms()
