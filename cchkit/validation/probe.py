r"""The linear probe: a tuned logistic regression on the student's own modality, no teacher.

A knowledge-distillation gain only means something over a student that is not a straw man. An
MLP trained for a fixed budget can end below a plain linear model on small tabular data, and
its deficit then shows up as a "gain" of any regulariser, a teacher included. ``validate``
therefore reports this probe beside the no-KD MLP and measures every gain over the stronger of
the two.

The probe is multinomial logistic regression (L2, ``lbfgs``) on the student's training split,
standardised with that split's moments; the inverse regularisation ``C`` is chosen from
:data:`PROBE_CS` by accuracy on the distiller's validation split (the smallest ``C`` among ties,
i.e. the most regularised), and the test accuracy is that of the model fitted on the fit rows:
the same rows and the same selection data as the MLP students, which stop on that validation
split. Without a validation split, ``C`` is chosen by 3-fold cross-validation on the fit rows.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import standardize_fit
from ..distill.splits import student_split

__all__ = ["ProbeResult", "linear_probe", "PROBE_CS"]

#: The inverse regularisation strengths the probe chooses from.
PROBE_CS: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0, 100.0)


@dataclass(frozen=True)
class ProbeResult:
    """The probe's test accuracy, the chosen ``C`` and its validation accuracy."""

    accuracy: float
    C: float
    val_accuracy: float


def _fit(x: np.ndarray, y: np.ndarray, C: float) -> Any:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a capped fit is still a fair baseline
        return LogisticRegression(C=C, max_iter=1000).fit(x, y)


def _choose_c(x: np.ndarray, y: np.ndarray, xv: np.ndarray, yv: np.ndarray, seed: int) -> tuple[float, float]:
    """The C with the best validation accuracy (the validation split, or 3-fold CV without one)."""
    from sklearn.model_selection import StratifiedKFold

    scores = []
    for C in PROBE_CS:
        if yv.size:
            scores.append(float((_fit(x, y, C).predict(xv) == yv).mean()))
            continue
        k = int(min(3, np.bincount(y)[np.bincount(y) > 0].min()))
        folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(x, y) if k >= 2 else []
        accs = [float((_fit(x[a], y[a], C).predict(x[b]) == y[b]).mean()) for a, b in folds]
        scores.append(float(np.mean(accs)) if accs else float("nan"))
    best = int(np.nanargmax(scores)) if np.isfinite(scores).any() else 2
    return PROBE_CS[best], scores[best]


def linear_probe(data: np.ndarray, labels: np.ndarray, random_state: int, *, test_size: float = 0.3,
                 train_size: int | float | None = None, val_size: float = 0.2) -> ProbeResult:
    """Fit the probe on the student's split for ``random_state`` (see the module docstring).

    ``data`` (n, d) and ``labels`` (n,) are the student modality's rows and class codes.
    """
    fit, val, test = student_split(labels, random_state, test_size=test_size, train_size=train_size,
                                   val_size=val_size)
    mu, sd = standardize_fit(data[fit])
    z = (data - mu) / sd
    if np.unique(labels[fit]).size < 2:  # nothing to fit: the majority class
        return ProbeResult(float((labels[test] == labels[fit][0]).mean()), float("nan"), float("nan"))
    C, val_acc = _choose_c(z[fit], labels[fit], z[val], labels[val], random_state)
    model = _fit(z[fit], labels[fit], C)
    return ProbeResult(accuracy=float((model.predict(z[test]) == labels[test]).mean()), C=C, val_accuracy=val_acc)
