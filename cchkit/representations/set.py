"""The :class:`RepresentationSet`: representations H_m of several modalities, split into folds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

__all__ = ["RepresentationSet", "RepresentationKind", "REPRESENTATION_KINDS", "PCA_VARIANCE_SHARE"]

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
