"""The :class:`MIEstimator` base class: input checks, standardisation, timing and clipping
shared by every built-in estimator (the result types are in :mod:`.contract`, the names in
:mod:`.registry`).

Every estimator answers two questions through one method, ``estimate(x, y)``:

* ``I(X; Y)`` between two continuous matrices (n, d_x) and (n, d_y);
* ``I(X; Y)`` between a continuous matrix and a 1-D vector of class labels (the
  "discrete-label form"), which always satisfies ``0 <= I <= H(Y) <= log(#classes)``.

Units are nats throughout; :meth:`MIEstimate.to` converts to bits.
"""

from __future__ import annotations

import abc
import inspect
import logging
import time
import warnings
from typing import Any, ClassVar

import numpy as np

from .._params import BOOL, validate_params
from .._random import RandomState, as_generator
from .._validation import (
    as_float_matrix,
    as_labels,
    check_informative_columns,
    check_safe_magnitude,
    check_same_rows,
    looks_discrete,
    standardize,
)
from ..exceptions import CchkitWarning, EstimatorError, InputError
from .contract import Bound, MIEstimate, RawEstimate

logger = logging.getLogger("cchkit")

__all__ = ["MIEstimator", "label_entropy"]


def label_entropy(labels: np.ndarray) -> float:
    """Plug-in entropy H(Y) of integer labels, in nats."""
    counts = np.bincount(labels)
    p = counts[counts > 0] / labels.shape[0]
    return float(-(p * np.log(p)).sum())


class MIEstimator(abc.ABC):
    """Base class of every mutual-information estimator.

    Subclasses store validated keyword-only hyper-parameters in ``__init__`` (nothing else) and
    implement :meth:`_estimate_continuous` and :meth:`_estimate_discrete`. The base class checks
    and standardises the inputs, times the call and builds the :class:`MIEstimate`.

    Parameters
    ----------
    standardize : bool, default True
        Centre and scale every column before estimating (k-NN estimates depend on scale).
    random_state : int, numpy Generator or None
        Seeds every random path (bootstrap, tie-breaking noise, network initialisation).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    bound: ClassVar[Bound] = "point"

    @validate_params({"standardize": [BOOL]})
    def __init__(self, *, standardize: bool = True, random_state: RandomState = None) -> None:
        self.standardize = bool(standardize)
        if not isinstance(random_state, np.random.Generator):
            as_generator(random_state)  # a bool, a negative or a float seed fails here, not at estimate()
        self.random_state = random_state

    # ---------------------------------------------------------------- parameters
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's keyword arguments and their current values (``random_state``
        included), as scikit-learn's ``get_params``; ``deep`` is accepted for compatibility
        (an estimator holds no sub-estimators)."""
        return {name: getattr(self, name) for name in self.constructor_params() if hasattr(self, name)}

    @classmethod
    def constructor_params(cls) -> list[str]:
        """The named keyword parameters of the constructors along the class's MRO, subclass first."""
        names: dict[str, None] = {}
        for klass in cls.__mro__:
            if klass is object or "__init__" not in klass.__dict__:
                continue
            for pname, p in inspect.signature(klass.__init__).parameters.items():
                if pname != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                    names.setdefault(pname)
        return list(names)

    def set_params(self, **params: Any) -> MIEstimator:
        """Set constructor parameters, validated as the constructor validates them; returns self.

        Unknown names raise :class:`~cchkit.exceptions.EstimatorError` (a ``ValueError``, as
        scikit-learn's). With :meth:`get_params` this makes ``sklearn.base.clone`` and
        ``GridSearchCV``-style tooling work.
        """
        current = self.get_params()
        unknown = sorted(set(params) - set(current))
        if unknown:
            raise EstimatorError(
                f"{type(self).__name__} has no parameter(s) {unknown}; its parameters are {sorted(current)}."
            )
        fresh = type(self)(**{**current, **params})
        self.__dict__.update(fresh.__dict__)
        return self

    def _reported_params(self) -> dict[str, Any]:
        """The parameters recorded in an :class:`MIEstimate` (the seed has its own field)."""
        return {k: v for k, v in self.get_params().items() if k != "random_state"}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._reported_params().items())
        return f"{type(self).__name__}({args})"

    def min_samples(self) -> int:
        """The fewest samples this estimator can work with."""
        return 4

    # ---------------------------------------------------------------- public API
    def estimate(self, x: Any, y: Any, *, discrete_y: bool | None = None) -> MIEstimate:
        """Estimate I(X; Y) in nats.

        Parameters
        ----------
        x : array-like, shape (n, d_x)
            Continuous samples (numpy, torch, pandas); 1-D means (n, 1).
        y : array-like, shape (n, d_y) or (n,)
            Continuous samples, or a 1-D vector of class labels.
        discrete_y : bool or None
            Treat ``y`` as class labels. ``None`` decides from ``y``: a 1-D vector of integers,
            booleans or strings is labels; floats are continuous.

        Returns
        -------
        MIEstimate
        """
        start = time.perf_counter()
        if discrete_y is None:
            discrete_y = looks_discrete(y)
        xm = as_float_matrix(x, "x")
        if discrete_y:
            raw, n, h_y = self._label_form(xm, y)
            dim_y = 0
        else:
            raw, n, dim_y = self._pair_form(xm, y)
            h_y = None
        seed = self.random_state if isinstance(self.random_state, (int, np.integer)) else None
        return MIEstimate(
            value=float(raw.value),
            ci=None if raw.ci is None else (float(raw.ci[0]), float(raw.ci[1])),
            bound=self.bound,
            estimator=self.name,
            params=self._reported_params(),
            n=int(n),
            dim_x=int(xm.shape[1]),
            dim_y=int(dim_y),
            seed=None if seed is None else int(seed),
            seconds=time.perf_counter() - start,
            extra=raw.extra,
            se=_optional_float(raw.se if raw.se is not None else raw.extra.pop("se", None)),
            ci_method=raw.ci_method if raw.ci_method is not None else raw.extra.pop("ci_method", None),
            label_entropy=h_y,
        )

    def _label_form(self, xm: np.ndarray, y: Any) -> tuple[RawEstimate, int, float]:
        """I(X; Y) for class labels ``y``: the checked estimate clipped into [0, H(Y)]."""
        labels, classes = as_labels(y, "y")
        n = check_same_rows(x=xm, y=labels)
        self._check_n(n)
        if classes.size < 2:
            raise InputError(
                "y has a single class; I(X; Y) with a constant label is 0 by definition and "
                "nothing can be estimated. Give at least two classes."
            )
        check_informative_columns(xm, "x")
        raw = self._estimate_discrete(self._prepare(xm, "x"), labels)
        h_y = label_entropy(labels)
        return _clip_to_label_entropy(raw, h_y), n, h_y

    def _pair_form(self, xm: np.ndarray, y: Any) -> tuple[RawEstimate, int, int]:
        """I(X; Y) for a continuous ``y``; a negative lower bound is reported as 0, with a warning."""
        ym = as_float_matrix(y, "y")
        n = check_same_rows(x=xm, y=ym)
        self._check_n(n)
        check_informative_columns(xm, "x")
        check_informative_columns(ym, "y")
        xp, yp = self._prepare(xm, "x"), self._prepare(ym, "y")
        check_not_determined(xp, yp)
        raw = self._estimate_continuous(xp, yp)
        if self.bound == "lower" and raw.value < 0:
            # MI >= 0, so max(0, bound) is still a valid lower bound; a negative bound means
            # the critic learned nothing useful (too little training or data)
            raw.extra["clipped_from"] = float(raw.value)
            warnings.warn(
                f"{self.name}: the variational bound came out at {raw.value:.3f} nats (< 0), reported as 0; "
                "the critic is under-trained: give more samples or training steps.",
                CchkitWarning,
                stacklevel=3,
            )
            raw.value = 0.0
            if raw.ci is not None:
                raw.ci = (max(raw.ci[0], 0.0), max(raw.ci[1], 0.0))
        return raw, n, ym.shape[1]

    def _prepare(self, a: np.ndarray, name: str) -> np.ndarray:
        """Standardised (scale-safe) columns, or, with ``standardize=False``, ``a`` itself once
        its magnitude is checked to be safe for sums of squares."""
        if self.standardize:
            return standardize(a)
        check_safe_magnitude(a, name)
        return a

    def _check_n(self, n: int) -> None:
        need = self.min_samples()
        if n < need:
            raise InputError(
                f"{self.name} needs at least {need} samples with these settings, got {n}. "
                "Give more samples or lower k / the number of folds."
            )

    def _rng(self) -> np.random.Generator:
        """A fresh Generator from ``random_state`` (same seed, same stream, every call)."""
        if isinstance(self.random_state, np.random.Generator):
            return self.random_state
        return as_generator(self.random_state)

    # ---------------------------------------------------------------- to implement
    @abc.abstractmethod
    def _estimate_continuous(self, x: np.ndarray, y: np.ndarray) -> RawEstimate:
        """I(X; Y) for two standardised float matrices with the same rows."""

    @abc.abstractmethod
    def _estimate_discrete(self, x: np.ndarray, labels: np.ndarray) -> RawEstimate:
        """I(X; Y) for a float matrix and integer labels 0..C-1 (C >= 2)."""


#: rows used to test whether y is a linear function of x (a canonical correlation of 1 shows
#: on any subsample that has more rows than columns)
_DETERMINED_ROWS = 20_000


def max_canonical_correlation(x: np.ndarray, y: np.ndarray) -> float:
    """The largest canonical correlation between the columns of ``x`` and ``y`` (centred),
    from the singular values of ``Q_x^T Q_y`` (thin QR factors)."""
    xc, yc = x - x.mean(0), y - y.mean(0)
    qx, _ = np.linalg.qr(xc)
    qy, _ = np.linalg.qr(yc)
    return float(np.linalg.svd(qx.T @ qy, compute_uv=False).max(initial=0.0))


def check_not_determined(x: np.ndarray, y: np.ndarray) -> None:
    """Refuse a pair where some linear combination of ``y`` is one of ``x`` (a copy, ``2x + 1``).

    For continuous variables such a pair has infinite mutual information; every estimator
    would still return a finite number with a confident interval (the Gaussian one a large
    value, KSG ``psi(n) - psi(k)`` on every subsample, so an interval of zero width).
    """
    n = x.shape[0]
    rows = np.linspace(0, n - 1, num=min(n, _DETERMINED_ROWS)).astype(int)
    xs, ys = x[rows], y[rows]
    if xs.shape[0] <= xs.shape[1] + ys.shape[1]:
        return
    if max_canonical_correlation(xs, ys) > 1.0 - 1e-9:
        raise InputError(
            "y is an exact linear function of x (canonical correlation 1: a copy, or y = a x + b); their "
            "mutual information is infinite for continuous variables, so there is no finite estimate. "
            "Drop the duplicated modality or columns."
        )


def _clip_to_label_entropy(raw: RawEstimate, h_y: float) -> RawEstimate:
    """Clip a label-form estimate into [0, H(Y)], recording when that happened."""
    if raw.value > h_y + 1e-12 or raw.value < 0:
        raw.extra["clipped_from"] = float(raw.value)
        raw.value = float(min(max(raw.value, 0.0), h_y))
    if raw.ci is not None:
        raw.ci = (float(min(max(raw.ci[0], 0.0), h_y)), float(min(max(raw.ci[1], 0.0), h_y)))
    return raw


def _optional_float(v: Any) -> float | None:
    return None if v is None else float(v)
