"""What a distillation method is: the :class:`KDMethod` contract and the :class:`Step` (one
student mini-batch with everything the frozen teacher provides) it turns into a loss."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from ..models import KDNet
from ..splits import Prepared
from ..teachers import TeacherBatcher, TeacherContext

__all__ = ["KDMethod", "Step", "nan_terms"]


def nan_terms() -> dict[str, float]:
    """The loss terms a method does not use are NaN in the training curve."""
    return {"fa": float("nan"), "la": float("nan"), "kd": float("nan")}


@dataclass
class Step:
    """One student mini-batch: its rows (``bidx``, the tensors ``xb``, ``yb``), the student (and
    its optional feature mapper), the frozen teacher with what it precomputed (``ctx``), the
    teacher batcher of the unpaired methods, the run's data and its config."""

    bidx: np.ndarray
    xb: torch.Tensor
    yb: torch.Tensor
    snet: KDNet
    names: list[str]
    tnet: KDNet
    ctx: TeacherContext
    t_batcher: TeacherBatcher
    d: Prepared
    dev: torch.device
    mapper: torch.nn.Module | None
    cfg: Any  # DistillConfig

    def teacher_rows(self) -> torch.Tensor:
        """An independent teacher mini-batch for this student batch (unpaired methods)."""
        return torch.as_tensor(self.t_batcher.draw(self.d.ys_tr_np[self.bidx]), device=self.dev)


class KDMethod(abc.ABC):
    """A registered distillation method (see :func:`~cchkit.distill.methods.register_method`).

    The default :meth:`step` runs the student on the batch, adds :meth:`loss` to nothing else
    and back-propagates; a method with its own optimisation (UCMKD's bilevel step) overrides
    :meth:`step` and writes the student's gradients itself.

    Class attributes
    ----------------
    name : str
        The registry name (set by the decorator).
    paired : bool
        Whether the method needs paired samples (set by the decorator).
    own_settings : tuple of str
        The :class:`~cchkit.distill.DistillConfig` fields only some methods read that this one
        reads: a validation refuses such a setting when no method it runs reads it.
    stack_targets : {"none", "class", "paired"} or None
        How the full-label stacks of :mod:`cchkit.distill.batched` train it, when its loss is
        cross-entropy plus a per-row target distribution: ``"none"`` (no KD term), ``"class"``
        (the teacher's class-mean soft target of each row's label), ``"paired"`` (the paired
        teacher's softened prediction); None: one student at a time through ``distill``.
    """

    name: ClassVar[str] = ""
    paired: ClassVar[bool] = False
    #: whether ``validate`` runs it when no methods are named (a paired one only on paired data)
    by_default: ClassVar[bool] = False
    own_settings: ClassVar[tuple[str, ...]] = ()
    stack_targets: ClassVar[str | None] = None

    def class_temperature(self, cfg: Any) -> float | None:
        """The temperature of the teacher's class-mean soft targets the method needs, or None."""
        return None

    def needs_mapper(self, cfg: Any) -> bool:
        """Whether the student trains a linear map of its features into the teacher's space."""
        return False

    @abc.abstractmethod
    def loss(self, s: Step, z: torch.Tensor, logits: torch.Tensor,
             ce: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """The batch objective from the student's features ``z``, ``logits`` and cross-entropy
        ``ce``, and the values of the terms ``fa``, ``la``, ``kd`` it uses (the others NaN)."""

    def step(self, s: Step) -> tuple[dict[str, float], torch.Tensor, torch.Tensor]:
        """Forward, loss, backward; returns (terms with ``loss`` and ``ce``, logits, labels)."""
        z, logits = s.snet(s.xb)
        ce = F.cross_entropy(logits, s.yb)
        loss, terms = self.loss(s, z, logits, ce)
        loss.backward()
        return {"loss": float(loss.detach()), "ce": float(ce.detach()), **terms}, logits, s.yb
