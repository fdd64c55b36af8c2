"""The distillation-method registry: names -> methods. A leaf: it knows only the contract."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ...exceptions import InputError
from .base import KDMethod

__all__ = ["register_method", "unregister_method", "get_method", "list_methods"]

_REGISTRY: dict[str, KDMethod] = {}
M = TypeVar("M", bound=type)


def register_method(name: str, *, paired: bool = False) -> Callable[[M], M]:
    """Class decorator adding a :class:`~cchkit.distill.methods.base.KDMethod` subclass under
    ``name``; ``paired=True`` for a method that needs paired samples (shared sample ids)."""

    def decorator(cls: M) -> M:
        if not (isinstance(cls, type) and issubclass(cls, KDMethod)):
            raise TypeError("register_method decorates KDMethod subclasses")
        if name in _REGISTRY and type(_REGISTRY[name]) is not cls:
            raise InputError(f"a distillation method named {name!r} is already registered")
        cls.name = name  # type: ignore[attr-defined]
        cls.paired = bool(paired)  # type: ignore[attr-defined]
        _REGISTRY[name] = cls()
        return cls

    return decorator


def unregister_method(name: str) -> None:
    """Remove ``name`` (a no-op when it is not registered)."""
    _REGISTRY.pop(name, None)


def get_method(name: str) -> KDMethod:
    """The method called ``name``; an unknown name lists the registered ones."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise InputError(f"unknown distillation method {name!r}; choose one of {', '.join(_REGISTRY)}.") from None


def list_methods(*, paired: bool | None = None) -> list[str]:
    """Registered names in registration order (only the paired or unpaired ones, if asked)."""
    return [k for k, m in _REGISTRY.items() if paired is None or m.paired == paired]
