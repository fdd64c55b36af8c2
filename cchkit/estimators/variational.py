r"""Cross-fitted variational (Barber-Agakov) lower bound on the label information I(H; Y).

For any classifier q(y | h),

.. math::

    I(H; Y) = H(Y) - H(Y \mid H) \;\ge\; H(Y) - \mathbb{E}\big[-\log q(Y \mid H)\big],

because the cross-entropy of any q upper-bounds the conditional entropy (Barber & Agakov 2003,
"The IM algorithm: a variational approach to information maximization", NeurIPS). The
expectation is estimated on held-out samples: q is a multinomial logistic regression fitted on
the other folds (stratified K-fold cross-fitting), so no sample is scored by a model trained on
it; the bound is therefore valid (up to sampling error) whatever the classifier.

The same held-out predictions give Fano's inequality: with error rate :math:`P_e`,
:math:`H(Y \mid H) \le h(P_e) + P_e \log(C - 1)`, so
:math:`I(H; Y) \ge H(Y) - h(P_e) - P_e \log(C - 1)`, a second lower bound (``extra["fano"]``);
the estimate is the larger of the two.

Interval: the per-sample terms :math:`-\log q(y_i | h_i)` are (nearly) independent, so
value +- 1.96 of their standard error; H(Y) is the plug-in entropy of the labels.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..exceptions import EstimatorError, InputError
from .base import MIEstimator
from .contract import RawEstimate

__all__ = ["VariationalLabelMI", "fano_lower_bound", "fano_se", "heldout_log_probs"]

_Z95 = 1.959963984540054


def fano_lower_bound(h_y: float, error: float, n_classes: int) -> float:
    """``H(Y) - h(P_e) - P_e log(C - 1)`` (nats), clipped at 0: Fano's bound on I(H; Y)."""
    e = min(max(float(error), 0.0), 1.0)
    h_e = 0.0 if e in (0.0, 1.0) else -(e * math.log(e) + (1 - e) * math.log(1 - e))
    return max(0.0, h_y - h_e - e * math.log(max(n_classes - 1, 1)))


def fano_se(error: float, n_classes: int, n: int) -> float:
    r"""Standard error of Fano's bound by the delta method on the error rate :math:`P_e`:

    .. math:: \left|\frac{d}{dP_e}\right| = \left|\log\frac{1 - P_e}{P_e} + \log(C - 1)\right|,
              \qquad se(P_e) = \sqrt{P_e (1 - P_e) / n}.

    At :math:`P_e = 0` the binomial standard error is 0 and the derivative infinite; the rule of
    three's :math:`P_e = 3 / n` (the upper 95% bound of a rate with no events) stands in."""
    e = min(max(float(error), 3.0 / n), 1.0 - 1.0 / n)
    slope = abs(math.log((1 - e) / e) + math.log(max(n_classes - 1, 1)))
    return slope * math.sqrt(e * (1 - e) / n)


def heldout_log_probs(x: np.ndarray, labels: np.ndarray, *, folds: int = 5, C: float = 1.0,
                      random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Cross-fitted ``log q(y_i | x_i)`` and predicted classes of a multinomial logistic regression.

    Stratified ``folds``-fold (fewer when a class has fewer samples); every sample is scored by
    a model fitted on the other folds. A class missing from a training fold gets probability
    1e-12 there (a large, honest penalty).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    counts = np.bincount(labels)
    k = int(min(folds, counts[counts > 0].min()))
    if k < 2:
        raise InputError("the variational label bound needs at least 2 samples of every class (cross-fitting).")
    n_cls = counts.size
    logp = np.empty(labels.shape[0])
    pred = np.empty(labels.shape[0], dtype=np.int64)
    for tr, te in StratifiedKFold(n_splits=k, shuffle=True, random_state=random_state).split(x, labels):
        clf = LogisticRegression(C=C, max_iter=2000)
        clf.fit(x[tr], labels[tr])
        proba = np.full((te.size, n_cls), 1e-12)
        proba[:, clf.classes_] = np.clip(clf.predict_proba(x[te]), 1e-12, 1.0)
        proba /= proba.sum(1, keepdims=True)
        logp[te] = np.log(proba[np.arange(te.size), labels[te]])
        pred[te] = proba.argmax(1)
    return logp, pred


class VariationalLabelMI(MIEstimator):
    """Barber-Agakov lower bound ``H(Y) - CE`` of a cross-fitted logistic regression (labels only).

    Not in the estimator registry (it has no form for two matrices): the ranking computes it
    for every I(H; Y) as a check, and ``VariationalLabelMI().estimate(h, labels)`` is the API.

    Parameters
    ----------
    folds : int, default 5
        Cross-fitting folds.
    C : float, default 1.0
        Inverse L2 regularisation of the logistic regression (scikit-learn's ``C``).
    standardize, random_state : see :class:`~cchkit.estimators.base.MIEstimator`.
    """

    name = "variational"
    description = "variational lower bound H(Y) - CE of a cross-fitted classifier (labels only)"
    bound = "lower"

    def __init__(self, *, folds: int = 5, C: float = 1.0, standardize: bool = True, random_state: Any = None) -> None:
        super().__init__(standardize=standardize, random_state=random_state)
        if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or folds < 2:
            raise EstimatorError(f"folds must be an integer >= 2, got {folds!r}.")
        if not (isinstance(C, (int, float)) and math.isfinite(C) and C > 0):
            raise EstimatorError(f"C must be a positive number, got {C!r}.")
        self.folds = int(folds)
        self.C = float(C)

    def _estimate_continuous(self, x: np.ndarray, y: np.ndarray) -> RawEstimate:
        raise EstimatorError("the variational estimator bounds I(H; Y) for class labels only; use another for two matrices.")

    def _estimate_discrete(self, x: np.ndarray, labels: np.ndarray) -> RawEstimate:
        seed = int(self._rng().integers(0, 2**31 - 1))
        logp, pred = heldout_log_probs(x, labels, folds=self.folds, C=self.C, random_state=seed)
        p = np.bincount(labels) / labels.size
        h_y = float(-(p[p > 0] * np.log(p[p > 0])).sum())
        ce = float(-logp.mean())
        ba = h_y - ce
        se = float(logp.std(ddof=1) / math.sqrt(logp.size))
        error = float((pred != labels).mean())
        fano = fano_lower_bound(h_y, error, int(p.size))
        value = max(ba, fano, 0.0)
        method = "value +- 1.96 se of the held-out per-sample log-likelihoods (cross-fitted logistic regression)"
        if fano > ba:  # the interval must be that of the bound that gives the value
            se = fano_se(error, int(p.size), labels.size)
            method = "value +- 1.96 se of Fano's bound (delta method on the held-out error rate)"
        extra = {"barber_agakov": ba, "fano": fano, "cross_entropy": ce, "error": error, "se": se,
                 "ci_method": method}
        return RawEstimate(value=value, ci=(value - _Z95 * se, value + _Z95 * se), extra=extra)
