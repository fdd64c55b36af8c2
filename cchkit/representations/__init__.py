"""Representations H_m of each modality, the inputs of every MI term of the CCH score.

* :mod:`.set` -- :class:`RepresentationSet` (representations split into folds, with accuracies);
* :mod:`.linear` -- ``raw``, ``pca`` and ``pca-var``, and the LDA accuracy;
* :mod:`.encoders` -- ``encoder``: cross-fitted MLPs trained on the labels (the CCH paper's H);
* :mod:`.compute` -- :func:`compute_representations`, which picks one of them.
"""

from .compute import compute_representations
from .encoders import ENCODER_DEFAULTS, encoder_representations
from .linear import class_conditional_probs, cv_accuracy
from .set import PCA_VARIANCE_SHARE, REPRESENTATION_KINDS, RepresentationKind, RepresentationSet

__all__ = [
    "RepresentationSet",
    "RepresentationKind",
    "REPRESENTATION_KINDS",
    "PCA_VARIANCE_SHARE",
    "compute_representations",
    "encoder_representations",
    "ENCODER_DEFAULTS",
    "cv_accuracy",
    "class_conditional_probs",
]
