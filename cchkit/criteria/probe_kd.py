r"""A linear probe of class-level distillation: does a linear student gain from the teacher's
class-mean soft targets? Fitted in seconds, cross-fitted on the student's data."""

from __future__ import annotations

import math

import numpy as np

from .base import Criterion, CriterionInputs
from .registry import register_criterion

__all__ = ["ProbeDistillation", "probe_distillation_gain", "soft_target_logreg"]

#: the share of the teacher's soft targets in the probe's training targets
PROBE_WEIGHT = 0.5


def soft_target_logreg(h: np.ndarray, targets: np.ndarray, l2: float = 1e-2, max_iter: int = 200) -> np.ndarray:
    r"""Weights (d + 1, C) of a multinomial logistic regression fitted to soft targets by L-BFGS:
    minimises :math:`-\frac1n \sum_i \sum_c p_{ic} \log \mathrm{softmax}(W^\top [h_i, 1])_c
    + \frac{l_2}{2} \|W_{1:d}\|^2`."""
    from scipy.optimize import minimize
    from scipy.special import log_softmax

    x = np.hstack([h, np.ones((h.shape[0], 1))])
    n, c = x.shape[0], targets.shape[1]
    mask = np.ones((x.shape[1], 1))
    mask[-1] = 0.0  # the intercept is not penalised

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        w = w.reshape(x.shape[1], c)
        logp = log_softmax(x @ w, axis=1)
        grad = x.T @ (np.exp(logp) - targets) / n + l2 * mask * w
        return float(-(targets * logp).sum() / n + 0.5 * l2 * ((mask * w) ** 2).sum()), grad.ravel()

    res = minimize(loss, np.zeros(x.shape[1] * c), jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    return res.x.reshape(x.shape[1], c)


def probe_distillation_gain(h: np.ndarray, labels: np.ndarray, q_teacher: np.ndarray, *,
                            weight: float = PROBE_WEIGHT, folds: int = 5, random_state: int = 0) -> float:
    r"""Cross-fitted accuracy of a linear student trained on
    :math:`(1 - w)\,e_{y} + w\,Q_T(\cdot \mid y)` minus that of the same student trained on
    :math:`e_y` (one-hot), on the same folds (a paired difference; stratified K-fold)."""
    from sklearn.model_selection import StratifiedKFold

    n_classes = q_teacher.shape[0]
    counts = np.bincount(labels, minlength=n_classes)
    k = int(min(folds, counts[counts > 0].min()))
    if k < 2:
        return math.nan
    h = (h - h.mean(0)) / np.where(h.std(0) > 0, h.std(0), 1.0)
    onehot = np.eye(n_classes)[labels]
    mixed = (1.0 - weight) * onehot + weight * q_teacher[labels]
    right = np.zeros(2)
    for tr, te in StratifiedKFold(n_splits=k, shuffle=True, random_state=random_state).split(h, labels):
        for j, targets in enumerate((onehot, mixed)):
            w = soft_target_logreg(h[tr], targets[tr])
            right[j] += (np.argmax(np.hstack([h[te], np.ones((te.size, 1))]) @ w, axis=1) == labels[te]).sum()
    return float((right[1] - right[0]) / labels.size)


@register_criterion("probe_kd")
class ProbeDistillation(Criterion):
    r"""Linear-probe distillation gain: a cheap stand-in for the class-level distiller. On the
    student's representations :math:`H_S`, a multinomial logistic regression is fitted once on
    one-hot labels and once on the teacher's class-mean soft targets mixed in,

    .. math:: \tilde p_i = (1 - w)\, e_{y_i} + w\, Q_T(\cdot \mid y_i), \qquad w = 0.5,

    (:math:`Q_T` the teacher's class-conditional predictive matrix on :math:`H_T`, what
    ``class-align`` distils, after UCMKD's class-level transfer), and the column is the
    cross-fitted accuracy of the second minus that of the first (5 stratified folds). "helps"
    when positive. A learned probe of the effect, in the spirit of KD-prediction work that fits
    small proxies rather than reading MI (e.g. Panigrahi et al. 2025, arXiv:2511.02833). Column
    ``probe_kd``."""

    signal_text = "the linear probe's distillation gain"

    column = "probe_kd"
    columns = ("probe_kd",)
    helps_when = "a linear student gains accuracy from the teacher's class-mean soft targets (probe_kd > 0)"
    recommendable = False

    def compute(self, inputs: CriterionInputs) -> dict[str, float]:
        if inputs.teacher_class_probs is None or inputs.student_h is None or inputs.student_labels is None:
            return {"probe_kd": math.nan}
        return {"probe_kd": probe_distillation_gain(inputs.student_h, inputs.student_labels,
                                                    inputs.teacher_class_probs, random_state=inputs.random_state)}
