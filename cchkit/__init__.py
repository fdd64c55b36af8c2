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

import importlib
import logging
from typing import Any

from . import datasets, exceptions
from .bundle import Modality, ModalityBundle, PairedView
from .cch import SCORE_VARIANTS, cch_score, decide
from .datasets import load_bundle
from .estimators import (
    Estimator,
    MIEstimate,
    MIEstimator,
    RawEstimate,
    get_estimator,
    list_estimators,
    register_estimator,
)
from .exceptions import *  # noqa: F403  (every exception; listed in exceptions.__all__)
from .ranking import Ranking, rank_teachers
from .representations import REPRESENTATION_KINDS, RepresentationSet, compute_representations

__version__ = "0.1.0"

#: Names served lazily (PEP 562): the distiller imports torch, which costs about 0.8 s, so
#: ``import cchkit`` (and every CLI command that does not distil) does not pay for it.
_LAZY = {
    "distill": ("cchkit.distill", None),  # the subpackage: cchkit.distill.distill(...) trains one student
    "DistillResult": ("cchkit.distill", "DistillResult"),
    "ValidationReport": ("cchkit.validation", "ValidationReport"),
    "validate": ("cchkit.validation", "validate"),
    "advise": ("cchkit.advice", "advise"),
    "Advice": ("cchkit.advice", "Advice"),
    "tl": ("cchkit.tl", None),  # scverse-style tools: results stored in .uns["cchkit"]
    "pl": ("cchkit.pl", None),  # and their plots
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = importlib.import_module(module)
        value = value if attr is None else getattr(value, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cchkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

logging.getLogger("cchkit").addHandler(logging.NullHandler())


def mutual_info(x: Any, y: Any, estimator: str = "gaussian", *, discrete_y: bool | None = None,
                **params: Any) -> MIEstimate:
    """I(X; Y) in nats in one call, as scikit-learn's ``mutual_info_regression``:
    ``get_estimator(estimator, **params).estimate(x, y, discrete_y=discrete_y)``.

    ``y`` may be a matrix or a vector of class labels (``discrete_y=None`` decides from its
    dtype); ``params`` are the estimator's (``random_state``, ``k``, ``n_bootstrap``...).

    >>> cchkit.mutual_info(x, y, "ksg", k=5, random_state=0).value  # doctest: +SKIP
    """
    return get_estimator(estimator, **params).estimate(x, y, discrete_y=discrete_y)


def estimate_mi(x: Any, y: Any, estimator: str = "gaussian", **params: Any) -> MIEstimate:
    """The former name of :func:`mutual_info`."""
    return mutual_info(x, y, estimator, **params)


__all__ = [
    "__version__",
    "datasets",
    "Modality",
    "ModalityBundle",
    "PairedView",
    "load_bundle",
    "MIEstimate",
    "MIEstimator",
    "RawEstimate",
    "Estimator",
    "get_estimator",
    "list_estimators",
    "register_estimator",
    "mutual_info",
    "estimate_mi",
    "cch_score",
    "decide",
    "SCORE_VARIANTS",
    "Ranking",
    "distill",  # noqa: F405  (lazy, see _LAZY)
    "DistillResult",  # noqa: F405
    "validate",  # noqa: F405
    "advise",  # noqa: F405
    "Advice",  # noqa: F405
    "ValidationReport",  # noqa: F405
    "tl",  # noqa: F405
    "pl",  # noqa: F405
    "rank_teachers",
    "RepresentationSet",
    "compute_representations",
    "REPRESENTATION_KINDS",
    *exceptions.__all__,
]
