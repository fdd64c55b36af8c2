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

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._random import RandomState, as_generator
from ..exceptions import InputError
from .encoders import encoder_representations
from .linear import clean_modality, cv_accuracy, linear_representations
from .set import REPRESENTATION_KINDS, RepresentationKind, RepresentationSet

__all__ = ["compute_representations"]


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
    kind : {"encoder", "pca", "pca-var", "raw"}
    dim : int
        Output dimension of ``pca`` and ``encoder`` representations.
    given : names of modalities that already are representations (used as they are).
    random_state, device, progress, **encoder_params
        Seeds; where and how visibly to train (``encoder``); the options of
        :func:`~cchkit.representations.encoders.encoder_representations`.
    """
    if kind not in REPRESENTATION_KINDS:
        raise InputError(f"unknown representation {kind!r}; choose one of {', '.join(REPRESENTATION_KINDS)}.")
    if int(dim) < 1:
        raise InputError(f"representation dim must be >= 1, got {dim}.")
    if kind == "encoder":
        reps = encoder_representations(
            data, labels, dim=dim, given=given, random_state=random_state, device=device,
            progress=progress, **encoder_params,
        )
        seed = int(as_generator(random_state).integers(0, 2**31 - 1))
        codes = np.unique(np.asarray(labels), return_inverse=True)[1].reshape(-1)
        reps.accuracy_raw = {
            name: cv_accuracy(clean_modality(np.asarray(x, dtype=np.float64), name), codes, random_state=seed)
            for name, x in data.items()
        }
        return reps
    if encoder_params:
        raise InputError(f"options {sorted(encoder_params)} apply to the encoder representation only.")
    seed = int(as_generator(random_state).integers(0, 2**31 - 1))
    return linear_representations(data, labels, kind=kind, dim=dim, given=given, seed=seed)
