"""The built-in objectives of the few-label validation (registered on import).

Teacher-free: ``supervised``, ``label-smoothing``, ``self-training``. With a teacher:
``logit-kd`` (paired rows) and ``class-align`` (no pairs); ``label-dist`` and ``ot-align`` (no
pairs) run when named. Every objective but ``supervised`` searches four settings; ``supervised``
searches the weight decay that all the others reuse (as a setting, where a seed has unlabeled
rows, at two strengths: :func:`~.run.decay_scales`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from .objectives import (
    Batch,
    Objective,
    TeacherView,
    log_softmax,
    register_objective,
    softmax_nograd,
    teacher_probs,
)

#: Self-training's term starts after this share of the training (the student first fits its labels).
SELF_TRAINING_WARMUP = 0.25
#: A hard pseudo-label is used where the student's top probability reaches this.
HARD_CONFIDENCE = 0.8
#: Soft pseudo-labels are sharpened with this temperature (p^(1/T), renormalised).
SHARPEN_T = 0.5


@register_objective("supervised")
class Supervised(Objective):
    """Cross-entropy on the labelled rows: ``mean_{i in L} -log p_S(y_i | x_i)``."""

    def loss(self, b: Batch) -> torch.Tensor:
        return b.labelled_ce()


@register_objective("label-smoothing")
class LabelSmoothing(Objective):
    """Cross-entropy against ``(1 - eps) onehot(y) + eps / C`` (Szegedy et al., 2016, "Rethinking
    the Inception architecture"). A near-uniform teacher is this, so a teacher's gain must
    beat it."""

    grid = tuple({"eps": e} for e in (0.05, 0.1, 0.2, 0.3))

    def loss(self, b: Batch) -> torch.Tensor:
        return b.labelled_ce(smoothing=b.settings["eps"])


@register_objective("self-training")
class SelfTraining(Objective):
    """The student's own pseudo-labels on its unlabeled rows (Lee, 2013; sharpening after
    Berthelot et al., 2019, MixMatch):

    ``CE_L + w(t) * lam * mean_{i in U} CE(r_i, p_S(. | x_i))``, with ``r_i`` the one-hot argmax
    of the detached ``p_S`` where its top probability is at least 0.8 (``hard`` = 1), or the
    sharpened ``p_S^2 / sum p_S^2`` (``hard`` = 0); ``w(t)`` is 0 for the first quarter of the
    training, then 1.
    """

    needs_unlabeled = True
    grid = tuple({"hard": h, "lam": lam} for h in (1.0, 0.0) for lam in (0.5, 1.0))

    def loss(self, b: Batch) -> torch.Tensor:
        ce = b.labelled_ce()
        if b.progress < SELF_TRAINING_WARMUP:
            return ce
        p = softmax_nograd(b.logits)
        conf, top = p.max(-1)
        hard_target = torch.nn.functional.one_hot(top, p.shape[-1]).to(p.dtype)
        sharp = p ** (1.0 / SHARPEN_T)
        sharp = sharp / sharp.sum(-1, keepdim=True)
        is_hard = b.settings["hard"].view(-1, 1, 1)
        target = is_hard * hard_target + (1 - is_hard) * sharp
        mask = b.unl * torch.where(is_hard.view(-1, 1) > 0, (conf >= HARD_CONFIDENCE).to(p.dtype), torch.ones_like(conf))
        lp = log_softmax(b.logits)
        return ce + b.settings["lam"] * b.per_row_mean(-(target * lp).sum(-1), mask)


_KD_GRID = tuple({"lam": lam, "tau": tau} for lam in (0.5, 2.0) for tau in (2.0, 4.0))


@register_objective("logit-kd")
class LogitKD(Objective):
    """Paired logit distillation on every paired training row, labelled or not (Hinton et al.,
    2015): ``CE_L + lam * tau^2 * mean_{i paired} KL(p_T(. | x_T,i; tau) || p_S(. | x_i; tau))``."""

    uses_teacher = True
    paired = True
    grid = _KD_GRID
    row_targets = ("probs", "paired")

    def targets(self, teacher: TeacherView | None, setting: Mapping[str, float]) -> dict[str, np.ndarray]:
        assert teacher is not None
        return {"probs": teacher.probs_on_rows(setting["tau"]), "paired": teacher.paired.astype(np.float32)}

    def loss(self, b: Batch) -> torch.Tensor:
        mask = b.targets["paired"] * torch.clamp(b.lab + b.unl, max=1.0)
        return b.labelled_ce() + b.settings["lam"] * b.soft_ce(b.targets["probs"], mask, b.settings["tau"])


@register_objective("class-align")
class ClassAlign(Objective):
    """Unpaired class-conditional distillation: the teacher's class-mean soft prediction
    ``q_T(. | c) = mean_{j: y_j = c} softmax(z_T,j / tau)`` over its own training rows is the
    target of every student row of class ``c``; an unlabeled row's class is the student's own
    current posterior ``r_i = p_S(. | x_i)`` (detached, refined as it trains; after UCMKD's
    class-level alignment, Tran et al., ICML 2026), so its target is ``sum_c r_ic q_T(. | c)``:
    ``CE_L + lam * tau^2 * mean_{i in L u U} CE(t_i, p_S(. | x_i; tau))``, the unlabeled rows
    joining after the first quarter of the training (before it, pseudo-labels are noise). No
    pair is read: shuffling the pairing leaves it unchanged."""

    uses_teacher = True
    grid = _KD_GRID

    def targets(self, teacher: TeacherView | None, setting: Mapping[str, float]) -> dict[str, np.ndarray]:
        assert teacher is not None
        return {"class_targets": teacher.class_targets(setting["tau"])}

    def loss(self, b: Batch) -> torch.Tensor:
        q = b.targets["class_targets"]  # (m, C, C): row c is q_T(. | c)
        onehot = torch.nn.functional.one_hot(b.y, q.shape[-1]).to(q.dtype).unsqueeze(0)
        posterior = softmax_nograd(b.logits)
        lab = b.lab.unsqueeze(-1)
        weights = lab * onehot + (1 - lab) * posterior
        targets = torch.bmm(weights, q)
        unl = b.unl if b.progress >= SELF_TRAINING_WARMUP else torch.zeros_like(b.unl)
        mask = torch.clamp(b.lab + unl, max=1.0)
        return b.labelled_ce() + b.settings["lam"] * b.soft_ce(targets, mask, b.settings["tau"])


@register_objective("label-dist")
class LabelDistribution(Objective):
    """Unpaired label-distribution alignment: the student's mean prediction over its unlabeled
    rows is pulled to the teacher's class marginal,

    ``CE_L + lam * KL(pi_T || pbar_S)``, ``pi_T = mean_j softmax(z_T,j / tau)`` over the teacher's
    own training rows, ``pbar_S = mean_{i in U} p_S(. | x_i)`` (per batch; after the
    distribution alignment of Berthelot et al., 2020, ReMixMatch, and the label-distribution
    term of unpaired cross-modal transfer). It carries no information about *which* unlabeled
    row is which class, only how many of each there are, so it can correct a student whose
    predictions drift to a few classes and no more. No pair is read. Not run by default (name it:
    ``methods=["label-dist"]``); its term joins after the first quarter of the training."""

    uses_teacher = True
    by_default = False
    grid = _KD_GRID

    def targets(self, teacher: TeacherView | None, setting: Mapping[str, float]) -> dict[str, np.ndarray]:
        assert teacher is not None
        rows = np.concatenate([z for z in teacher.class_logits if len(z)])
        return {"marginal": teacher_probs(rows, setting["tau"]).mean(axis=0)}

    def loss(self, b: Batch) -> torch.Tensor:
        ce = b.labelled_ce()
        if b.progress < SELF_TRAINING_WARMUP:
            return ce
        pi = b.targets["marginal"]  # (m, C)
        p = log_softmax(b.logits).exp()  # (m, n, C)
        unl = b.unl.unsqueeze(-1)
        pbar = (p * unl).sum(1) / unl.sum(1).clamp(min=1.0)
        kl = (pi * (pi.clamp_min(1e-8).log() - pbar.clamp_min(1e-8).log())).sum(-1)
        return ce + b.settings["lam"] * kl


#: Teacher points an ``ot-align`` member is transported onto (the teacher's own training rows,
#: evenly spaced through them in class order, so that every class keeps its share).
OT_TEACHER_POINTS = 64
#: Entropic regularisation of ``ot-align``'s plan, on costs in [0, 2 + OT_CLASS_PENALTY].
OT_EPS = 0.1
#: Sinkhorn iterations per step (the plan is recomputed from the current predictions every step).
OT_ITERATIONS = 20
#: Extra cost of moving a row pseudo-labelled c onto a teacher row of another class (class-conditional).
OT_CLASS_PENALTY = 2.0


def sinkhorn_plan(cost: torch.Tensor, a: torch.Tensor, eps: float, iterations: int) -> torch.Tensor:
    r"""Entropic optimal-transport plans of a stack, without gradient (Cuturi, 2013):
    ``cost`` (m, n, k), ``a`` (m, n) the row weights (each member's sum 1; 0 for a row it does
    not move), uniform weights 1/k on the targets. Sinkhorn's scalings
    :math:`u \leftarrow a / K v`, :math:`v \leftarrow b / K^\top u` with :math:`K = e^{-C/\varepsilon}`;
    the plan :math:`P = \mathrm{diag}(u) K \mathrm{diag}(v)`."""
    with torch.no_grad():
        kernel = torch.exp(-cost / eps)
        b = torch.full(cost.shape[::2], 1.0 / cost.shape[2], dtype=cost.dtype)
        v = torch.ones_like(b)
        for _ in range(iterations):
            u = a / torch.bmm(kernel, v.unsqueeze(-1)).squeeze(-1).clamp_min(1e-30)
            v = b / torch.bmm(kernel.transpose(1, 2), u.unsqueeze(-1)).squeeze(-1).clamp_min(1e-30)
        return u.unsqueeze(-1) * kernel * v.unsqueeze(1)


@register_objective("ot-align")
class OTAlign(Objective):
    r"""Unpaired optimal-transport alignment of the student's predictions on its unlabeled rows
    with the teacher's on its own training rows (UCMKD's feature alignment, Tran et al., ICML 2026,
    moved to the prediction space that a softmax regression and an MLP student share):

    ``CE_L + lam * <P, C>``, :math:`C_{ij} = \lVert p_S(\cdot \mid x_i) - q_j \rVert^2 + \kappa\,
    \mathrm{cond}\,[\hat y_i \neq c_j]`, with :math:`q_j = \mathrm{softmax}(z_{T,j})` on
    :data:`OT_TEACHER_POINTS` of the teacher's rows (class :math:`c_j`), :math:`\hat y_i` the
    student's own current pseudo-label (``cond`` = 1: class-conditional through pseudo-labels; 0:
    the marginal alignment) and :math:`P` the entropic plan (:func:`sinkhorn_plan`, ``eps`` =
    :data:`OT_EPS`) between the student's unlabeled rows and those points. The plan is held
    fixed in the gradient (the envelope theorem: the gradient of the OT cost in ``C``). No pair
    is read. Not run by default (name it: ``methods=["ot-align"]``); its term joins after the
    first quarter of the training."""

    uses_teacher = True
    by_default = False
    grid = tuple({"lam": lam, "cond": cond} for lam in (1.0, 4.0) for cond in (0.0, 1.0))

    def targets(self, teacher: TeacherView | None, setting: Mapping[str, float]) -> dict[str, np.ndarray]:
        assert teacher is not None
        c = len(teacher.class_logits)
        rows = np.concatenate([z for z in teacher.class_logits if len(z)])
        classes = np.concatenate([np.full(len(z), k) for k, z in enumerate(teacher.class_logits)])
        pick = np.linspace(0, len(rows) - 1, OT_TEACHER_POINTS).round().astype(int)
        return {"points": teacher_probs(rows[pick], 1.0), "point_class": np.eye(c)[classes[pick]]}

    def loss(self, b: Batch) -> torch.Tensor:
        ce = b.labelled_ce()
        if b.progress < SELF_TRAINING_WARMUP:
            return ce
        k = b.n_labelled_rows or 0
        p = log_softmax(b.logits[:, k:]).exp()  # (m, n_u, C): the rows after k are unlabeled
        unl = b.unl[:, k:]
        q = b.targets["points"]  # (m, K, C)
        cost = (p * p).sum(-1, keepdim=True) + (q * q).sum(-1).unsqueeze(1) - 2 * torch.bmm(p, q.transpose(1, 2))
        other = 1.0 - torch.bmm(torch.nn.functional.one_hot(p.detach().argmax(-1), p.shape[-1]).to(q.dtype),
                                b.targets["point_class"].transpose(1, 2))
        cost = cost + OT_CLASS_PENALTY * b.settings["cond"].view(-1, 1, 1) * other
        weights = unl / unl.sum(1, keepdim=True).clamp_min(1.0)
        plan = sinkhorn_plan(cost.detach(), weights, OT_EPS, OT_ITERATIONS)
        return ce + b.settings["lam"] * (plan * cost).sum(dim=(1, 2))
