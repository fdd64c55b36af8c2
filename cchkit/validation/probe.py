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
:func:`tuned_probes` chooses ``C`` as the MLP students choose their settings
(:mod:`cchkit.validation.stacked`): by the validation accuracy averaged over the first seeds,
then fits every seed with it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import standardize_fit
from ..distill.splits import student_split

__all__ = ["ProbeResult", "linear_probe", "tuned_probes", "PROBE_CS"]

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


def _c_scores(x: np.ndarray, y: np.ndarray, xv: np.ndarray, yv: np.ndarray, seed: int) -> list[tuple[float, Any]]:
    """Per C of :data:`PROBE_CS`: the validation accuracy and the model fitted on the fit rows
    (with no validation split: the 3-fold CV accuracy on the fit rows, and no model)."""
    from sklearn.model_selection import StratifiedKFold

    out: list[tuple[float, Any]] = []
    for C in PROBE_CS:
        if yv.size:
            model = _fit(x, y, C)
            out.append((float((model.predict(xv) == yv).mean()), model))
            continue
        k = int(min(3, np.bincount(y)[np.bincount(y) > 0].min()))
        folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(x, y) if k >= 2 else []
        accs = [float((_fit(x[a], y[a], C).predict(x[b]) == y[b]).mean()) for a, b in folds]
        out.append((float(np.mean(accs)) if accs else float("nan"), None))
    return out


def _best_c(scores: np.ndarray) -> int:
    """Index of the best score (the first, i.e. the smallest C, on ties; the middle C without any)."""
    return int(np.nanargmax(scores)) if np.isfinite(scores).any() else 2


class _Split:
    """One seed's standardised fit, validation and test rows of the student."""

    def __init__(self, data: np.ndarray, labels: np.ndarray, seed: int, split: dict[str, Any]) -> None:
        fit, val, test = student_split(labels, seed, **split)
        mu, sd = standardize_fit(data[fit])
        z = (data - mu) / sd
        self.x, self.y, self.xv, self.yv = z[fit], labels[fit], z[val], labels[val]
        self.xt, self.yt = z[test], labels[test]
        self.degenerate = np.unique(self.y).size < 2

    def majority(self) -> ProbeResult:  # nothing to fit: the one class seen
        return ProbeResult(float((self.yt == self.y[0]).mean()), float("nan"), float("nan"))

    def result(self, C: float, val_acc: float, model: Any = None) -> ProbeResult:
        model = model if model is not None else _fit(self.x, self.y, C)
        if math.isnan(val_acc) and self.yv.size:
            val_acc = float((model.predict(self.xv) == self.yv).mean())
        return ProbeResult(accuracy=float((model.predict(self.xt) == self.yt).mean()), C=C, val_accuracy=val_acc)


def linear_probe(data: np.ndarray, labels: np.ndarray, random_state: int, *, test_size: float = 0.3,
                 train_size: int | float | None = None, val_size: float = 0.2) -> ProbeResult:
    """Fit the probe on the student's split for ``random_state``, ``C`` chosen on that split
    (see the module docstring). ``data`` (n, d) and ``labels`` (n,) are the student modality's
    rows and class codes."""
    sp = _Split(data, labels, random_state, dict(test_size=test_size, train_size=train_size, val_size=val_size))
    if sp.degenerate:
        return sp.majority()
    scores = _c_scores(sp.x, sp.y, sp.xv, sp.yv, random_state)
    best = _best_c(np.array([a for a, _ in scores]))
    return sp.result(PROBE_CS[best], scores[best][0], scores[best][1])


def tuned_probes(data: np.ndarray, labels: np.ndarray, seeds: Sequence[int], tune_seeds: Sequence[int], *,
                 test_size: float = 0.3, train_size: int | float | None = None,
                 val_size: float = 0.2) -> dict[int, ProbeResult]:
    """The probe of every seed with one ``C``: the one whose validation accuracy, averaged over
    ``tune_seeds``, is best (the MLP students' rule); a fit per C on the tuning seeds, one fit on
    every other seed."""
    split = dict(test_size=test_size, train_size=train_size, val_size=val_size)
    splits = {int(s): _Split(data, labels, int(s), split) for s in dict.fromkeys([*tune_seeds, *seeds])}
    fitted = {s: _c_scores(splits[s].x, splits[s].y, splits[s].xv, splits[s].yv, s)
              for s in map(int, tune_seeds) if not splits[s].degenerate}
    if not fitted:  # no tuning seed has two classes to fit: each seed on its own
        return {int(s): linear_probe(data, labels, int(s), **split) for s in seeds}
    mean = np.nanmean(np.array([[a for a, _ in sc] for sc in fitted.values()]), axis=0)
    best = _best_c(mean)
    out = {}
    for s in map(int, seeds):
        sp = splits[s]
        if sp.degenerate:
            out[s] = sp.majority()
        elif s in fitted:
            out[s] = sp.result(PROBE_CS[best], fitted[s][best][0], fitted[s][best][1])
        else:
            out[s] = sp.result(PROBE_CS[best], float("nan"))
    return out
