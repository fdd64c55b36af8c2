"""Declarative parameter validation: one rule set, one message format, for every constructor
and entry point of cchkit (in the manner of scikit-learn's ``utils._param_validation``).

A constraint is an :class:`Interval`, an :class:`Options` set, :data:`BOOL`, :data:`NONE` or a
type (``str``, ``Mapping``...); a parameter is valid when it satisfies any one of its
constraints. :func:`validate_params` checks a function's (or ``__init__``'s) arguments
before the body runs::

    @validate_params({"k": [Interval(Integral, 1, None)], "noise": [Interval(Real, 0, None)]})
    def __init__(self, *, k=3, noise=1e-10): ...

and every violation reads ``"<owner>: <name> must be <constraint> or <constraint>, got <value>."``,
raised as :class:`~cchkit.exceptions.InputError` (the CLI turns it into one line and exit 2).
Booleans are never integers or reals here (``n_bootstrap=True`` is refused), and reals must be
finite unless an interval is unbounded on that side.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, Literal, TypeVar

import numpy as np

from .exceptions import InputError

__all__ = [
    "Interval",
    "Options",
    "BOOL",
    "NONE",
    "Constraint",
    "check_param",
    "check_params",
    "validate_params",
    "Integral",
    "Real",
]

F = TypeVar("F", bound=Callable[..., Any])


def _is_bool(v: Any) -> bool:
    return isinstance(v, (bool, np.bool_))


@dataclass(frozen=True)
class Interval:
    """Numbers of ``kind`` (:class:`numbers.Integral` or :class:`numbers.Real`) in an interval.

    ``low`` / ``high`` None mean unbounded; ``closed`` says which ends belong to it.
    """

    kind: type
    low: float | None
    high: float | None
    closed: Literal["both", "left", "right", "neither"] = "both"

    def accepts(self, v: Any) -> bool:
        if _is_bool(v) or not isinstance(v, self.kind):
            return False
        if self.kind is Real and not math.isfinite(float(v)):
            return False
        lo_ok = self.low is None or (v >= self.low if self.closed in ("both", "left") else v > self.low)
        hi_ok = self.high is None or (v <= self.high if self.closed in ("both", "right") else v < self.high)
        return bool(lo_ok and hi_ok)

    def describe(self) -> str:
        kind = "an integer" if self.kind is Integral else "a number"
        if self.low is None and self.high is None:
            return kind
        if self.high is None:
            return f"{kind} {'>=' if self.closed in ('both', 'left') else '>'} {self.low:g}"
        if self.low is None:
            return f"{kind} {'<=' if self.closed in ('both', 'right') else '<'} {self.high:g}"
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        return f"{kind} in {left}{self.low:g}, {self.high:g}{right}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values (compared with ``==``; booleans never match numbers)."""

    values: tuple[Any, ...]

    def __init__(self, values: Iterable[Any]) -> None:
        object.__setattr__(self, "values", tuple(values))

    def accepts(self, v: Any) -> bool:
        try:
            return any(_is_bool(v) == _is_bool(o) and bool(v == o) for o in self.values)
        except (TypeError, ValueError):  # an array compared with a string
            return False

    def describe(self) -> str:
        return "one of " + ", ".join(repr(o) for o in self.values)


class _Bool:
    def accepts(self, v: Any) -> bool:
        return _is_bool(v)

    def describe(self) -> str:
        return "True or False"


class _None:
    def accepts(self, v: Any) -> bool:
        return v is None

    def describe(self) -> str:
        return "None"


@dataclass(frozen=True)
class _Type:
    kind: type | tuple[type, ...]

    def accepts(self, v: Any) -> bool:
        return isinstance(v, self.kind) and not (_is_bool(v) and self.kind is not bool)

    def describe(self) -> str:
        kinds = self.kind if isinstance(self.kind, tuple) else (self.kind,)
        return " or ".join(f"a {k.__name__}" for k in kinds)


BOOL = _Bool()
NONE = _None()
Constraint = Any  # Interval | Options | _Bool | _None | type


def _as_constraint(c: Any) -> Any:
    return _Type(c) if isinstance(c, type) or isinstance(c, tuple) else c


def check_param(owner: str, name: str, value: Any, constraints: Iterable[Constraint]) -> None:
    """Raise :class:`InputError` unless ``value`` satisfies one of ``constraints``."""
    cons = [_as_constraint(c) for c in constraints]
    if any(c.accepts(value) for c in cons):
        return
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    prefix = f"{owner}: " if owner else ""
    raise InputError(f"{prefix}{name} must be {' or '.join(c.describe() for c in cons)}, got {shown}.")


def check_params(owner: str, values: dict[str, Any], constraints: dict[str, list[Constraint]]) -> None:
    """:func:`check_param` for every name of ``constraints`` present in ``values``."""
    for name, cons in constraints.items():
        if name in values:
            check_param(owner, name, values[name], cons)


def validate_params(constraints: dict[str, list[Constraint]], *, owner: str | None = None) -> Callable[[F], F]:
    """Decorator checking a function's arguments against ``constraints`` before it runs.

    ``owner`` names the function in messages (default: its qualified name; for ``__init__``,
    the instance's registered ``name`` or its class name).
    """

    def decorate(func: F) -> F:
        sig = inspect.signature(func)
        missing = set(constraints) - set(sig.parameters)
        if missing:
            raise TypeError(f"{func.__qualname__}: constraints for unknown parameters {sorted(missing)}")
        label = owner or func.__qualname__.replace(".__init__", "")

        is_init = func.__name__ == "__init__"

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = sig.bind_partial(*args, **kwargs)
            bound.apply_defaults()
            who = label
            if is_init and owner is None and args:  # the registered name of the instance's class
                who = getattr(type(args[0]), "name", "") or type(args[0]).__name__
            check_params(who, bound.arguments, constraints)
            return func(*args, **kwargs)

        wrapper.__cchkit_constraints__ = constraints  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
