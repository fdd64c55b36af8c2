"""Linear representations: the standardised features (``raw``), PCA to ``dim`` components
(``pca``) or to the fewest components keeping :data:`PCA_VARIANCE_SHARE` of the variance
(``pca-var``, at most ``n // 6`` so that a pair of modalities keeps 3 samples per dimension).

PCA is unsupervised, so fitting it on all paired samples leaks no label information; a linear
representation is one fold holding every sample. :func:`cv_accuracy` is the "teacher accuracy"
classifier (a cross-validated shrinkage LDA) used for every kind.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._validation import find_constant_columns, standardize
from ..exceptions import InputError
from .lda import fit_lda
from .set import PCA_VARIANCE_SHARE, RepresentationSet

logger = logging.getLogger("cchkit")

__all__ = [
    "class_conditional_probs","linear_representations", "clean_modality", "cv_accuracy", "pca_reduce", "variance_dim"]


def clean_modality(x: np.ndarray, name: str) -> np.ndarray:
    """Standardise and drop constant columns (logged), refusing a modality with none left."""
    const = find_constant_columns(x)
    if const.size:
        if const.size == x.shape[1]:
            raise InputError(f"modality {name!r} has only constant columns; it carries no information.")
        logger.info("modality %r: dropping %d constant column(s)", name, const.size)
        x = np.delete(x, const, axis=1)
    return standardize(x)


def pca_reduce(x: np.ndarray, dim: int, seed: int) -> tuple[np.ndarray, float]:
    from sklearn.decomposition import PCA

    k = int(min(dim, x.shape[1], x.shape[0] - 1))
    pca = PCA(n_components=k, svd_solver="full" if max(x.shape) < 500 else "auto", random_state=seed)
    z = pca.fit_transform(x)
    return z, float(pca.explained_variance_ratio_.sum())


def variance_dim(x: np.ndarray) -> int:
    """The fewest principal components keeping PCA_VARIANCE_SHARE of the variance (<= n // 6)."""
    s = np.linalg.svd(x - x.mean(0), compute_uv=False)
    share = np.cumsum(s**2) / max(float((s**2).sum()), 1e-300)
    k = int(np.searchsorted(share, PCA_VARIANCE_SHARE) + 1)
    return max(1, min(k, x.shape[0] // 6))


def cv_accuracy(x: np.ndarray, labels: np.ndarray, *, random_state: int = 0, folds: int = 5) -> float:
    """Cross-validated accuracy of a shrinkage linear discriminant (closed form, fast:
    :func:`~cchkit.representations.lda.fit_lda`) on ``x``, the mean of the folds' accuracies."""
    from sklearn.model_selection import StratifiedKFold

    counts = np.bincount(labels)
    k = int(min(folds, counts[counts > 0].min()))
    if k < 2:
        return float("nan")
    if x.shape[1] > x.shape[0]:
        # more columns than rows: the (d x d) within-class covariance would be huge and singular;
        # the rows span at most n dimensions, so classify their coordinates in that span
        from sklearn.decomposition import PCA

        x = PCA(n_components=x.shape[0] - 1, svd_solver="full").fit_transform(x)
    cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=random_state)
    return float(np.mean([np.mean(fit_lda(x[tr], labels[tr]).predict(x[te]) == labels[te])
                          for tr, te in cv.split(x, labels)]))


def linear_representations(
    data: Mapping[str, np.ndarray], labels: np.ndarray, *, kind: str, dim: int, given: Sequence[str], seed: int
) -> RepresentationSet:
    """The ``raw``, ``pca`` or ``pca-var`` representations of paired modalities (one fold), with
    the LDA accuracy on each H (``accuracy``) and on the whole modality (``accuracy_raw``)."""
    out: dict[str, np.ndarray] = {}
    info: dict[str, Any] = {"explained_variance": {}}
    accuracy: dict[str, float] = {}
    accuracy_raw: dict[str, float] = {}
    for name, x in data.items():
        z = clean_modality(np.asarray(x, dtype=np.float64), name)
        accuracy_raw[name] = cv_accuracy(z, labels, random_state=seed)
        k = dim if kind == "pca" else variance_dim(z) if kind == "pca-var" else z.shape[1]
        if kind in ("pca", "pca-var") and name not in given and z.shape[1] > k:
            z, ev = pca_reduce(z, k, seed)
            info["explained_variance"][name] = ev
            z = standardize(z)
            accuracy[name] = cv_accuracy(z, labels, random_state=seed)
        else:
            accuracy[name] = accuracy_raw[name]
        out[name] = z
    return RepresentationSet(kind=kind, folds=[out], labels=[np.asarray(labels)], accuracy=accuracy, info=info,
                             accuracy_raw=accuracy_raw)


def class_conditional_probs(h: np.ndarray, labels: np.ndarray, n_classes: int, *, random_state: int = 0,
                            folds: int = 5) -> np.ndarray:
    r"""The (C, C) class-conditional predictive matrix of ``h``: row y is the mean of the
    cross-fitted predicted class probabilities of the samples of class y,

    .. math:: Q(\cdot \mid y) = \frac{1}{|D^y|} \sum_{i \in D^y} \hat p(\cdot \mid h_i),

    from a shrinkage LDA fitted on the other folds (stratified); which classes a modality
    confuses, and how much (the input of the class-structure criteria). A class without samples
    gets the uniform row."""
    from sklearn.model_selection import StratifiedKFold

    counts = np.bincount(labels, minlength=n_classes)
    k = int(min(folds, counts[counts > 0].min()))
    proba = np.full((labels.size, n_classes), 1.0 / n_classes)
    if k >= 2:
        for tr, te in StratifiedKFold(n_splits=k, shuffle=True, random_state=random_state).split(h, labels):
            clf = fit_lda(h[tr], labels[tr])
            proba[te] = 1e-12
            proba[np.ix_(te, clf.classes)] = np.clip(clf.predict_proba(h[te]), 1e-12, 1.0)
            proba[te] /= proba[te].sum(1, keepdims=True)
    q = np.full((n_classes, n_classes), 1.0 / n_classes)
    for c in np.flatnonzero(counts):  # a loop over classes
        q[c] = proba[labels == c].mean(0)
    return q
