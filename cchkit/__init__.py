"""cchkit: which modality should teach which?

Score every candidate teacher modality for a weak student modality with information-theoretic
criteria (the Cross-modal Complementarity Hypothesis score ``I(H_T; H_S) - I(H_S; Y)``), rank
them, and check the advice by actually distilling with an unpaired distribution-alignment
distiller.

>>> import cchkit
>>> ranking = cchkit.rank_teachers("digits-avt", student="audio", candidates=["image", "text"])  # doctest: +SKIP
>>> est = cchkit.get_estimator("gaussian", random_state=0).estimate(x, y)  # doctest: +SKIP
"""

from __future__ import annotations

import logging

from . import (
    datasets,
    distill,  # the subpackage: cchkit.distill.distill(...) trains one student
)
from .bundle import Modality, ModalityBundle, PairedView, load_bundle
from .cch import SCORE_VARIANTS, cch_score, decide
from .distill import DistillResult, ValidationReport, validate
from .estimators.base import (
    MIEstimate,
    MIEstimator,
    get_estimator,
    list_estimators,
    register_estimator,
)
from .exceptions import (
    BundleError,
    BundleFormatError,
    CchkitError,
    EstimatorError,
    InputError,
    NotPairedError,
    RankingFailedError,
    UnknownEstimatorError,
    UnknownModalityError,
)
from .ranking import Ranking, rank_teachers
from .representations import REPRESENTATION_KINDS, RepresentationSet, compute_representations

__version__ = "0.1.0"

logging.getLogger("cchkit").addHandler(logging.NullHandler())


def estimate_mi(x, y, estimator: str = "gaussian", **params) -> MIEstimate:
    """Shortcut: ``get_estimator(estimator, **params).estimate(x, y)``."""
    return get_estimator(estimator, **params).estimate(x, y)


__all__ = [
    "__version__",
    "datasets",
    "Modality",
    "ModalityBundle",
    "PairedView",
    "load_bundle",
    "MIEstimate",
    "MIEstimator",
    "get_estimator",
    "list_estimators",
    "register_estimator",
    "estimate_mi",
    "cch_score",
    "decide",
    "SCORE_VARIANTS",
    "Ranking",
    "distill",
    "DistillResult",
    "validate",
    "ValidationReport",
    "rank_teachers",
    "RepresentationSet",
    "compute_representations",
    "REPRESENTATION_KINDS",
    "CchkitError",
    "InputError",
    "BundleError",
    "BundleFormatError",
    "UnknownModalityError",
    "NotPairedError",
    "EstimatorError",
    "UnknownEstimatorError",
    "RankingFailedError",
]
