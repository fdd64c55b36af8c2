"""Training objectives of the few-label validation, in one registry.

An objective is what a student minimises besides nothing else: the supervised cross-entropy on
its labelled rows plus, for some, a term on its unlabeled rows. Teacher-free objectives
(``supervised``, ``label-smoothing``, ``self-training``) are the baselines a gain is measured
over; teacher objectives (``logit-kd`` on paired rows, ``class-align`` without pairs) use a
frozen teacher's outputs. Each declares the settings it is tuned over (``grid``, all of one
size, so that no family gets a larger search), prepares its per-member targets from the
teacher (``targets``) and returns one loss per member (``loss``); the stacked trainer
(:mod:`.stack`) sums them and takes gradients with autograd, so a new objective is one class
plus :func:`register_objective`.

Notation: ``s`` a member's logits on its rows, ``p_S = softmax(s)``, ``L`` its labelled rows
with labels ``y``, ``U`` its unlabeled rows, ``tau`` a temperature, ``lam`` a weight.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .._registry import Registry
from ..exceptions import InputError

__all__ = ["Objective", "Batch", "TeacherView", "register_objective", "unregister_objective", "get_objective",
           "list_objectives",
           "teacher_free_objectives", "teacher_objectives", "teacher_probs"]

_REGISTRY: Registry[Objective] = Registry("objective")


@dataclass(frozen=True)
class TeacherView:
    """What a frozen teacher offers a student of one seed and fold.

    ``logits_on_rows`` (n_rows, C) are the teacher's logits on the teacher rows paired with
    the student's rows (zeros where ``paired`` is False); ``class_logits`` is a list, one array
    (n_c, C) per class, of its logits on its own training rows of that class (by the labels it
    was trained with: permuted ones for a placebo).
    """

    logits_on_rows: np.ndarray
    paired: np.ndarray
    class_logits: tuple[np.ndarray, ...]

    def probs_on_rows(self, tau: float) -> np.ndarray:
        return _softmax(self.logits_on_rows / tau)

    def class_targets(self, tau: float) -> np.ndarray:
        """q_T(. | c) = mean over the teacher's training rows of class c of softmax(z_T / tau)
        (uniform for a class the teacher has no row of)."""
        c = len(self.class_logits)
        return np.stack([_softmax(z / tau).mean(axis=0) if len(z) else np.full(c, 1.0 / c)
                         for z in self.class_logits])


def log_softmax(z: torch.Tensor) -> torch.Tensor:
    """``z - logsumexp(z)`` over the last axis in three element-wise passes (torch's kernel is
    slow on rows of a few classes); the same values and gradient."""
    shifted = z - z.detach().amax(-1, keepdim=True)
    return shifted - shifted.exp().sum(-1, keepdim=True).log()


def softmax_nograd(z: torch.Tensor) -> torch.Tensor:
    """softmax of detached logits through :func:`log_softmax` (faster on rows of a few classes)."""
    with torch.no_grad():
        return log_softmax(z.detach()).exp()


def teacher_probs(z: np.ndarray, tau: float) -> np.ndarray:
    """``softmax(z / tau)`` over the last axis (a frozen teacher's soft predictions)."""
    return _softmax(z / tau)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@dataclass
class Batch:
    """One objective's members in a stack, on the seed's rows.

    ``logits`` (m, n, C); ``y`` (n,) labels (0 where a row has none); ``lab`` / ``unl`` (m, n)
    0/1 masks of each member's labelled and unlabeled training rows; ``settings`` name -> (m,)
    tensor; ``targets`` name -> (m, ...) tensor from :meth:`Objective.targets`; ``progress`` the
    share of training done (in [0, 1)).
    """

    logits: torch.Tensor
    y: torch.Tensor
    lab: torch.Tensor
    unl: torch.Tensor
    settings: dict[str, torch.Tensor]
    targets: dict[str, torch.Tensor] = field(default_factory=dict)
    progress: float = 0.0
    #: the rows before this one hold every labelled row (later rows are unlabeled for every member)
    n_labelled_rows: int | None = None

    def per_row_mean(self, values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean of (m, n) ``values`` over each member's rows in ``mask`` (0 with no row)."""
        return (values * mask).sum(1) / mask.sum(1).clamp_min(1.0)

    def labelled_ce(self, smoothing: torch.Tensor | None = None) -> torch.Tensor:
        """Mean cross-entropy on the labelled rows, with label smoothing ``smoothing`` (m,):
        ``-(1 - eps) log p_S(y) - eps * mean_c log p_S(c)`` (Szegedy et al., 2016)."""
        k = self.n_labelled_rows if self.n_labelled_rows is not None else self.y.shape[0]
        lp = log_softmax(self.logits[:, :k])
        nll = -lp.gather(2, self.y[:k].view(1, -1, 1).expand(lp.shape[0], -1, 1)).squeeze(2)
        if smoothing is not None:
            eps = smoothing.view(-1, 1)
            nll = (1 - eps) * nll - eps * lp.mean(dim=2)
        return self.per_row_mean(nll, self.lab[:, :k])

    def soft_ce(self, targets: torch.Tensor, mask: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        """``tau^2 * mean_rows CE(targets, softmax(s / tau))`` over ``mask`` (Hinton et al., 2015;
        the same gradient as the KL divergence, whose target entropy is a constant)."""
        lp = log_softmax(self.logits / tau.view(-1, 1, 1))
        ce = -(targets * lp).sum(-1)
        return tau**2 * self.per_row_mean(ce, mask)



class Objective:
    """A student objective; see the module docstring. Subclasses set ``grid`` (a tuple of
    setting dicts, every value a float) and implement :meth:`loss`."""

    name: str = ""
    #: names of :meth:`targets` entries indexed by row (dimension 1), cut to each step's rows
    row_targets: tuple[str, ...] = ()
    uses_teacher: bool = False
    paired: bool = False
    #: whether ``validate`` runs it when no methods are named (False: only when named)
    by_default: bool = True
    #: a teacher-free objective that only differs from ``supervised`` on unlabeled rows (skipped
    #: where a seed has none: it would repeat the supervised search)
    needs_unlabeled: bool = False
    grid: tuple[Mapping[str, float], ...] = ({},)

    def targets(self, teacher: TeacherView | None, setting: Mapping[str, float]) -> dict[str, np.ndarray]:
        """Per-member arrays the loss reads (stacked over the members by the trainer)."""
        return {}

    def loss(self, b: Batch) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


def register_objective(name: str) -> Callable[[type[Objective]], type[Objective]]:
    """Class decorator: register an objective under ``name`` (a clash is refused)."""

    def deco(cls: type[Objective]) -> type[Objective]:
        if not name or not isinstance(name, str):
            raise InputError(f"an objective needs a non-empty name, got {name!r}.")
        if name in _REGISTRY and type(_REGISTRY[name]) is not cls:
            raise InputError(f"an objective named {name!r} is already registered.")
        sizes = {len(o.grid) for o in _REGISTRY.values() if o.name != "supervised"}
        obj = cls()
        obj.name = name
        if name != "supervised" and sizes and len(obj.grid) not in sizes:
            raise InputError(f"objective {name!r} searches {len(obj.grid)} settings; every objective searches "
                             f"{sizes.pop()} so that no family gets a larger search.")
        _REGISTRY[name] = obj
        return cls

    return deco


def unregister_objective(name: str) -> None:
    """Remove ``name`` (a no-op when it is not registered)."""
    _REGISTRY.pop(name, None)


def get_objective(name: str) -> Objective:
    return _REGISTRY.lookup(name)


def list_objectives() -> list[str]:
    return list(_REGISTRY)


def teacher_free_objectives() -> list[str]:
    return [n for n, o in _REGISTRY.items() if not o.uses_teacher]


def teacher_objectives(paired: bool, *, default_only: bool = False) -> list[str]:
    """Objectives that use a teacher (``paired=False``: only those that need no pairs;
    ``default_only``: only those run when no methods are named)."""
    return [n for n, o in _REGISTRY.items()
            if o.uses_teacher and (paired or not o.paired) and (o.by_default or not default_only)]


def settings_tensor(grid_settings: list[Mapping[str, float]]) -> dict[str, torch.Tensor]:
    """name -> (m,) float tensor from the members' settings."""
    keys = list(grid_settings[0]) if grid_settings else []
    return {k: torch.tensor([float(s[k]) for s in grid_settings], dtype=torch.float32) for k in keys}


def stack_targets(per_member: list[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    keys = list(per_member[0]) if per_member else []
    return {k: torch.as_tensor(np.stack([t[k] for t in per_member]), dtype=torch.float32) for k in keys}


def describe(setting: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in setting.items()) or "-"
