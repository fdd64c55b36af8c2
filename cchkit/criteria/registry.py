"""The criterion registry: names -> criteria. A leaf: it knows only the contract."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..exceptions import InputError
from .base import Criterion

__all__ = ["register_criterion", "unregister_criterion", "get_criterion", "list_criteria", "criteria_columns"]

_REGISTRY: dict[str, Criterion] = {}
#: Columns of the ranking table that no criterion may fill (what identifies a row and what decides it).
RESERVED_COLUMNS = frozenset({
    "student", "teacher", "estimator", "variant", "representation", "n_pairs", "rank", "advice", "decision",
    "consensus", "estimators_disagree", "error"})
C = TypeVar("C", bound=type)


def register_criterion(name: str) -> Callable[[C], C]:
    """Class decorator adding a :class:`~cchkit.criteria.base.Criterion` subclass under ``name``."""

    def decorator(cls: C) -> C:
        if not (isinstance(cls, type) and issubclass(cls, Criterion)):
            raise TypeError("register_criterion decorates Criterion subclasses")
        if not cls.column or cls.columns[:1] != (cls.column,):
            raise TypeError(f"{cls.__name__}: 'columns' must start with 'column' ({cls.column!r})")
        if not isinstance(name, str) or not name.strip() or name != name.strip():
            raise InputError(f"a criterion needs a non-empty name without surrounding spaces, got {name!r}.")
        if name in _REGISTRY and type(_REGISTRY[name]) is not cls:
            raise InputError(f"a criterion named {name!r} is already registered")
        taken = {col: n for n, c in _REGISTRY.items() if n != name for col in c.columns} | {
            col: "the ranking table" for col in RESERVED_COLUMNS}
        clash = [f"{col!r} ({taken[col]})" for col in cls.columns if col in taken]
        if clash:
            raise InputError(f"criterion {name!r} would overwrite the column(s) {', '.join(clash)}; name its "
                             "columns apart.")
        cls.name = name  # type: ignore[attr-defined]
        _REGISTRY[name] = cls()
        return cls

    return decorator


def unregister_criterion(name: str) -> None:
    """Remove ``name`` (a no-op when it is not registered)."""
    _REGISTRY.pop(name, None)


def list_criteria(*, recommendable: bool | None = None) -> list[str]:
    """Registered names in registration order (only those that may recommend, if asked)."""
    return [k for k, c in _REGISTRY.items() if recommendable is None or c.recommendable == recommendable]


def get_criterion(name: str) -> Criterion:
    """The criterion called ``name``; an unknown name lists the registered ones."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise InputError(f"unknown criterion {name!r}; choose one of {', '.join(_REGISTRY)}.") from None


def criteria_columns() -> list[str]:
    """Every column the registered criteria fill, in registration order, once each."""
    return list(dict.fromkeys(col for c in _REGISTRY.values() for col in c.columns))
