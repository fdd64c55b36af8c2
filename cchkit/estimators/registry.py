"""The estimator registry: names -> estimator classes.

A leaf: it knows the contract and the exceptions, nothing of the estimators themselves. The
built-ins register when :mod:`cchkit.estimators` is imported, which Python does before any of
its modules (this one included), so every process sees them.

>>> from cchkit.estimators import get_estimator
>>> get_estimator("ksg", k=5, random_state=0)     # doctest: +SKIP
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ..exceptions import EstimatorError, UnknownEstimatorError
from .contract import Estimator

__all__ = [
    "register_estimator",
    "unregister_estimator",
    "estimator_class",
    "get_estimator",
    "get_estimator_accepting",
    "list_estimators",
    "estimator_descriptions",
]

_REGISTRY: dict[str, type] = {}
E = TypeVar("E", bound=type)


def register_estimator(name: str) -> Callable[[E], E]:
    """Class decorator adding an estimator class (one with ``estimate``) under ``name``."""

    def decorator(cls: E) -> E:
        if not (isinstance(cls, type) and callable(getattr(cls, "estimate", None))):
            raise TypeError("register_estimator decorates estimator classes (with an estimate method)")
        takes_any = any(p.kind == p.VAR_KEYWORD for p in inspect.signature(cls.__init__).parameters.values())
        if takes_any and not callable(getattr(cls, "accepted_params", None)):
            raise TypeError(
                f"{cls.__name__}.__init__ takes **kwargs; list every parameter explicitly (as scikit-learn "
                "requires), or say which it takes with an accepted_params() classmethod that the "
                "constructor enforces, so that a misspelt parameter is refused instead of dropped"
            )
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise EstimatorError(f"an estimator named {name!r} is already registered")
        cls.name = name  # type: ignore[attr-defined]
        _REGISTRY[name] = cls
        return cls

    return decorator


def unregister_estimator(name: str) -> None:
    """Remove ``name`` from the registry (a no-op when it is not there)."""
    _REGISTRY.pop(name, None)


def list_estimators() -> list[str]:
    """Names of the registered estimators, sorted."""
    return sorted(_REGISTRY)


def estimator_descriptions() -> dict[str, str]:
    """Registry name -> one-line description."""
    return {k: getattr(_REGISTRY[k], "description", "") for k in sorted(_REGISTRY)}


def estimator_class(name: str) -> type:
    """The registered class called ``name``; :class:`UnknownEstimatorError` lists the names."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownEstimatorError(
            f"unknown estimator {name!r}; choose one of {', '.join(sorted(_REGISTRY))}."
        ) from None


def _accepted(cls: type) -> list[str]:
    """The keyword arguments a registered class's constructor takes (its ``accepted_params()``
    where it takes ``**kwargs``)."""
    if callable(getattr(cls, "accepted_params", None)):
        return list(cls.accepted_params())
    params = inspect.signature(cls.__init__).parameters
    return [k for k, p in params.items() if k != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]


def get_estimator(name: str | Estimator, **params: Any) -> Estimator:
    """Build a registered estimator: ``get_estimator("ksg", k=5, random_state=0)``.

    An estimator instance is returned as it is. A parameter the estimator does not take is
    refused by name, with the accepted ones listed: a misspelt ``kk=50`` is never dropped.
    """
    if not isinstance(name, str) and isinstance(name, Estimator):
        return name
    cls = estimator_class(name)  # type: ignore[arg-type]
    accepted = _accepted(cls)
    unknown = [k for k in params if k not in accepted]
    if unknown:
        raise EstimatorError(
            f"estimator {name!r} has no parameter(s) {', '.join(map(repr, unknown))}; "
            f"it accepts {', '.join(accepted)}."
        )
    try:
        return cls(**params)
    except TypeError as exc:
        raise EstimatorError(f"bad parameters for estimator {name!r}: {exc}") from None


def get_estimator_accepting(name: str, offered: Mapping[str, Any] | None = None, **params: Any) -> Estimator:
    """Build ``name`` with ``params`` (each must be accepted) and the ``offered`` settings it takes.

    ``offered`` holds the options one command offers to estimators of different kinds
    (``n_bootstrap``, ``device``, ``progress``, ``random_state``): those the constructor does
    not take are left out. ``params`` are the user's own and are refused when unknown.
    """
    accepted = set(_accepted(estimator_class(name)))
    kept = {k: v for k, v in (offered or {}).items() if k in accepted}
    return get_estimator(name, **{**kept, **params})
