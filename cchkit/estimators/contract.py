"""The estimator contract: what an estimate *is* and what an estimator *does*.

This module imports nothing else from cchkit, so an extension (or a type checker) can depend on
it alone:

* :class:`MIEstimate` -- the result every estimator returns;
* :class:`RawEstimate` -- what an estimator's ``_estimate_*`` methods hand to the base class
  :class:`~cchkit.estimators.base.MIEstimator`, which validates the inputs and builds the result;
* :class:`Estimator` -- the protocol: a ``name``, a ``bound`` kind and ``estimate(x, y)``.

Units are nats throughout; :meth:`MIEstimate.to` converts to bits.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import numpy as np

__all__ = ["Bound", "Unit", "MIEstimate", "RawEstimate", "Estimator", "jsonable"]

Bound = Literal["point", "lower", "upper"]
Unit = Literal["nats", "bits"]


@dataclass(frozen=True)
class MIEstimate:
    """The result of one mutual-information estimate.

    Attributes
    ----------
    value : float
        The estimate, in ``unit`` (nats unless converted).
    ci : tuple of float or None
        A (low, high) interval; how it was obtained is in ``ci_method``.
    bound : {"point", "lower", "upper"}
        ``"point"`` for a consistent estimator, ``"lower"`` for a variational lower bound.
    estimator : str
        Registry name of the estimator.
    params : dict
        The estimator's hyper-parameters.
    n, dim_x, dim_y : int
        Samples and dimensions used (``dim_y`` is 0 for class labels).
    seed : int or None
        The integer seed, when one was given.
    seconds : float
        Wall-clock time of the estimate.
    extra : dict
        Estimator-specific details (training curve, caps, bounds, warnings...), for people;
        what other code reads has a field of its own.
    unit : {"nats", "bits"}
    se : float or None
        Standard error of ``value`` (bootstrap, subsampling or delta method), in ``unit``;
        None when the estimator gives none.
    ci_method : str or None
        How ``ci`` was obtained ("bootstrap (200 resamples, ...)", "none (n_bootstrap=0)", ...).
    label_entropy : float or None
        The plug-in entropy H(Y) in nats, for the label form (an upper bound of the estimate).
    """

    value: float
    ci: tuple[float, float] | None
    bound: Bound
    estimator: str
    params: dict[str, Any]
    n: int
    dim_x: int
    dim_y: int
    seed: int | None = None
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    unit: Unit = "nats"
    se: float | None = None
    ci_method: str | None = None
    label_entropy: float | None = None

    def to(self, unit: Unit) -> MIEstimate:
        """Return the same estimate in ``unit`` ("nats" or "bits")."""
        if unit not in ("nats", "bits"):
            raise ValueError(f"unit must be 'nats' or 'bits', got {unit!r}.")
        if unit == self.unit:
            return self
        factor = 1.0 / math.log(2) if unit == "bits" else math.log(2)
        ci = None if self.ci is None else (self.ci[0] * factor, self.ci[1] * factor)
        se = None if self.se is None else self.se * factor
        return dataclasses.replace(self, value=self.value * factor, ci=ci, se=se, unit=unit)

    @property
    def discrete_y(self) -> bool:
        """True when ``y`` was a class-label vector."""
        return self.dim_y == 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (the training curve and other arrays become lists)."""
        out = dataclasses.asdict(self)
        out["ci"] = None if self.ci is None else [float(self.ci[0]), float(self.ci[1])]
        out["extra"] = jsonable(self.extra)
        out["params"] = jsonable(self.params)
        return out

    def __str__(self) -> str:
        ci = "" if self.ci is None else f" [{self.ci[0]:.3f}, {self.ci[1]:.3f}]"
        return f"I = {self.value:.3f}{ci} {self.unit} ({self.estimator}, {self.bound}, n={self.n})"


@dataclass
class RawEstimate:
    """What an estimator's ``_estimate_continuous`` / ``_estimate_discrete`` returns.

    The base class turns it into an :class:`MIEstimate` (clipping the label form into
    ``[0, H(Y)]`` and a negative lower bound to 0, recording both in ``extra``).
    """

    value: float
    ci: tuple[float, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    se: float | None = None
    ci_method: str | None = None


@runtime_checkable
class Estimator(Protocol):
    """What cchkit asks of an MI estimator (the built-ins derive from
    :class:`~cchkit.estimators.base.MIEstimator`, which implements it)."""

    name: ClassVar[str]
    bound: ClassVar[Bound]

    def estimate(self, x: Any, y: Any, *, discrete_y: bool | None = None) -> MIEstimate:
        """Estimate I(X; Y) in nats; ``y`` may be a label vector."""
        ...


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy arrays and scalars turned into lists and Python scalars."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
