"""Representations H_m of each modality, the inputs of every MI term of the CCH score.

Kinds
-----
``raw``
    The standardised features as they are (one fold holding every paired sample).
``pca``
    Standardised features reduced by PCA to ``dim`` components (unsupervised, so fitting it on
    all samples leaks no label information; one fold).
``pca-var``
    PCA to the fewest components that keep :data:`PCA_VARIANCE_SHARE` (90%) of the variance,
    at most ``n // 6`` (so that a pair of modalities keeps 3 samples per dimension).
``encoder``
    (see :func:`encoder_representations`) an MLP per modality trained on the labels of one
    split; H_m = its penultimate activations on the held-out split, cross-fitted.

Modalities marked ``representation=True`` in the bundle are used as they are, whatever the kind.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ._random import RandomState, as_generator
from ._validation import find_constant_columns, standardize
from .exceptions import InputError

logger = logging.getLogger("cchkit")

__all__ = ["RepresentationSet", "compute_representations", "REPRESENTATION_KINDS"]

RepresentationKind = Literal["encoder", "pca", "pca-var", "raw"]
REPRESENTATION_KINDS: tuple[str, ...] = ("encoder", "pca", "pca-var", "raw")
#: Share of the variance ``pca-var`` keeps.
PCA_VARIANCE_SHARE = 0.9


@dataclass
class RepresentationSet:
    """Representations of several modalities on paired samples, split into folds.

    Every MI term is estimated within a fold (the representations of different folds come from
    different encoders, so their coordinates are not comparable) and averaged over folds.

    Attributes
    ----------
    kind : str
    folds : list of dict name -> ndarray (n_f, d)
        Held-out representations per fold.
    labels : list of ndarray (n_f,)
        The labels of each fold's samples.
    accuracy : dict name -> float
        Held-out accuracy of a classifier on each modality's representation H_m, the same H
        the MI terms see (the "teacher accuracy" criterion): a cross-validated shrinkage LDA on
        the PCA / raw H; the encoder's own held-out predictions for ``encoder``.
    accuracy_raw : dict name -> float
        The same classifier on the whole (standardised) modality, before any reduction.
    info : dict
        Details (dims, explained variance, training curves...).
    """

    kind: str
    folds: list[dict[str, np.ndarray]]
    labels: list[np.ndarray]
    accuracy: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    accuracy_raw: dict[str, float] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return list(self.folds[0])

    @property
    def n(self) -> int:
        return int(sum(lab.shape[0] for lab in self.labels))

    def dim(self, name: str) -> int:
        return int(self.folds[0][name].shape[1])


def _clean(x: np.ndarray, name: str) -> np.ndarray:
    """Standardise and drop constant columns (logged), refusing a modality with none left."""
    const = find_constant_columns(x)
    if const.size:
        if const.size == x.shape[1]:
            raise InputError(f"modality {name!r} has only constant columns; it carries no information.")
        logger.info("modality %r: dropping %d constant column(s)", name, const.size)
        x = np.delete(x, const, axis=1)
    return standardize(x)


def _pca(x: np.ndarray, dim: int, seed: int) -> tuple[np.ndarray, float]:
    from sklearn.decomposition import PCA

    k = int(min(dim, x.shape[1], x.shape[0] - 1))
    pca = PCA(n_components=k, svd_solver="full" if max(x.shape) < 500 else "auto", random_state=seed)
    z = pca.fit_transform(x)
    return z, float(pca.explained_variance_ratio_.sum())


def _variance_dim(x: np.ndarray) -> int:
    """The fewest principal components keeping PCA_VARIANCE_SHARE of the variance (<= n // 6)."""
    s = np.linalg.svd(x - x.mean(0), compute_uv=False)
    share = np.cumsum(s**2) / max(float((s**2).sum()), 1e-300)
    k = int(np.searchsorted(share, PCA_VARIANCE_SHARE) + 1)
    return max(1, min(k, x.shape[0] // 6))


def cv_accuracy(x: np.ndarray, labels: np.ndarray, *, random_state: int = 0, folds: int = 5) -> float:
    """Cross-validated accuracy of a shrinkage linear discriminant (closed form, fast) on ``x``."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.model_selection import StratifiedKFold, cross_val_score

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
    clf = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
    return float(cross_val_score(clf, x, labels, cv=cv).mean())


def compute_representations(
    data: Mapping[str, np.ndarray],
    labels: np.ndarray,
    *,
    kind: RepresentationKind = "pca",
    dim: int = 16,
    given: Sequence[str] = (),
    random_state: RandomState = 0,
    device: str = "auto",
    progress: bool = False,
    **encoder_params: Any,
) -> RepresentationSet:
    """Representations of paired modalities.

    Parameters
    ----------
    data : mapping name -> (n, d) array, rows paired across modalities
    labels : (n,) int labels
    kind : {"encoder", "pca", "raw"}
    dim : int
        Output dimension of ``pca`` and ``encoder`` representations.
    given : names of modalities that already are representations (used as they are).
    """
    if kind not in REPRESENTATION_KINDS:
        raise InputError(f"unknown representation {kind!r}; choose one of {', '.join(REPRESENTATION_KINDS)}.")
    if int(dim) < 1:
        raise InputError(f"representation dim must be >= 1, got {dim}.")
    if kind == "encoder":
        from .encoders import encoder_representations

        reps = encoder_representations(
            data, labels, dim=dim, given=given, random_state=random_state, device=device,
            progress=progress, **encoder_params,
        )
        seed = int(as_generator(random_state).integers(0, 2**31 - 1))
        codes = np.unique(np.asarray(labels), return_inverse=True)[1].reshape(-1)
        reps.accuracy_raw = {
            name: cv_accuracy(_clean(np.asarray(x, dtype=np.float64), name), codes, random_state=seed)
            for name, x in data.items()
        }
        return reps
    if encoder_params:
        raise InputError(f"options {sorted(encoder_params)} apply to the encoder representation only.")
    seed = int(as_generator(random_state).integers(0, 2**31 - 1))
    out: dict[str, np.ndarray] = {}
    info: dict[str, Any] = {"explained_variance": {}}
    accuracy: dict[str, float] = {}
    accuracy_raw: dict[str, float] = {}
    for name, x in data.items():
        z = _clean(np.asarray(x, dtype=np.float64), name)
        accuracy_raw[name] = cv_accuracy(z, labels, random_state=seed)
        k = dim if kind == "pca" else _variance_dim(z) if kind == "pca-var" else z.shape[1]
        if kind in ("pca", "pca-var") and name not in given and z.shape[1] > k:
            z, ev = _pca(z, k, seed)
            info["explained_variance"][name] = ev
            z = standardize(z)
            accuracy[name] = cv_accuracy(z, labels, random_state=seed)
        else:
            accuracy[name] = accuracy_raw[name]
        out[name] = z
    return RepresentationSet(kind=kind, folds=[out], labels=[np.asarray(labels)], accuracy=accuracy, info=info,
                             accuracy_raw=accuracy_raw)
