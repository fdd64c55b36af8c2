"""The one shape of cchkit's registries (bounds, few-label objectives, input formats...): an
ordered name -> item mapping whose lookup refuses an unknown name in one line that lists the
registered ones."""

from __future__ import annotations

from typing import TypeVar

from .exceptions import InputError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(dict[str, T]):
    """Registration order is kept (listings and defaults follow it)."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def lookup(self, name: str) -> T:
        """The item registered as ``name``; an unknown name is an :class:`InputError`."""
        try:
            return self[name]
        except (KeyError, TypeError):
            raise InputError(f"unknown {self.kind} {name!r}; registered: {', '.join(self)}.") from None
