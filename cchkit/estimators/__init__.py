"""Mutual-information estimators.

Layers, each importing only those above it:

* :mod:`.contract` -- :class:`MIEstimate`, :class:`RawEstimate` and the :class:`Estimator`
  protocol (imports nothing else from cchkit);
* :mod:`.registry` -- names -> classes (:func:`register_estimator`, :func:`get_estimator`);
* :mod:`.base` -- :class:`MIEstimator`, the base class doing the input checks;
* the built-ins, registered on import: ``gaussian`` (:mod:`.gaussian`), ``ksg`` (:mod:`.knn`;
  the mixed form for labels), ``mine`` (:mod:`.mine`), ``infonce`` (:mod:`.infonce`);
  :mod:`.variational` (a cross-fitted classifier bound on I(X; Y), used by the ranking's label
  check) is not registered.

To add an estimator: subclass :class:`MIEstimator`, implement ``_estimate_continuous`` and
``_estimate_discrete`` returning :class:`RawEstimate`, and decorate the class with
``@register_estimator("name")`` (see ``docs/architecture.md``).
"""

from . import gaussian, infonce, knn, mine, registry  # noqa: F401  (importing registers the built-ins)
from ._neural import CriticSettings, NeuralEstimator
from .base import MIEstimator, label_entropy
from .contract import Bound, Estimator, MIEstimate, RawEstimate, Unit
from .registry import *  # noqa: F403  (the registry functions; listed in registry.__all__)

__all__ = [
    "Bound",
    "Unit",
    "Estimator",
    "MIEstimate",
    "RawEstimate",
    "MIEstimator",
    "NeuralEstimator",
    "CriticSettings",
    "label_entropy",
    *registry.__all__,
]
