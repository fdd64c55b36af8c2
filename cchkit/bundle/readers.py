"""What ``load_bundle`` can read, in one registry: each input format is a function that says
whether it accepts an object and one that makes the bundle of it.

A format is one function plus a registration (:func:`register_reader`); formats are tried in
the order they were registered, the first that accepts the object reads it. A reader declares
the grouping options it uses (``modalities=``, ``sep=``); ``load_bundle`` refuses the others by
name instead of dropping them.

>>> from cchkit.bundle import register_reader                   # doctest: +SKIP
>>> @register_reader("dict", accepts=lambda o: isinstance(o, dict))
... def from_dict(obj, *, label, **_):
...     return ModalityBundle.from_arrays({k: v for k, v in obj.items() if k != label}, labels=obj[label])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .._registry import Registry
from ..exceptions import InputError
from .model import ModalityBundle

__all__ = ["Reader", "register_reader", "unregister_reader", "list_readers", "get_reader", "reader_for", "type_names",
           "GROUPING_OPTIONS"]

#: The options a reader may take besides ``label``: how columns or sources form modalities.
GROUPING_OPTIONS = ("modalities", "sep")


@dataclass(frozen=True)
class Reader:
    """A registered input format: ``accepts(obj)`` and ``read(obj, *, label, **options)``."""

    name: str
    accepts: Callable[[Any], bool]
    read: Callable[..., ModalityBundle]
    options: tuple[str, ...] = ()


_REGISTRY: Registry[Reader] = Registry("input format")


def register_reader(name: str, *, accepts: Callable[[Any], bool],
                    options: tuple[str, ...] = ()) -> Callable[[Callable[..., ModalityBundle]], Callable[..., ModalityBundle]]:
    """Decorator registering ``read`` as the format ``name``; ``options``: the grouping options
    (:data:`GROUPING_OPTIONS`) it reads."""
    bad = [o for o in options if o not in GROUPING_OPTIONS]
    if bad:
        raise InputError(f"reader {name!r}: unknown option(s) {bad}; a reader may take {', '.join(GROUPING_OPTIONS)}.")

    def decorator(read: Callable[..., ModalityBundle]) -> Callable[..., ModalityBundle]:
        _REGISTRY[name] = Reader(name, accepts, read, tuple(options))
        return read

    return decorator


def unregister_reader(name: str) -> None:
    """Remove the format ``name`` (a no-op when it is not registered)."""
    _REGISTRY.pop(name, None)


def list_readers() -> list[str]:
    return [*_REGISTRY]


def get_reader(name: str) -> Reader:
    return _REGISTRY.lookup(name)


def reader_for(obj: Any) -> Reader | None:
    """The first registered format that accepts ``obj``, or None."""
    return next((r for r in _REGISTRY.values() if _accepts(r, obj)), None)


def _accepts(reader: Reader, obj: Any) -> bool:
    try:
        return bool(reader.accepts(obj))
    except Exception:  # a format's test that cannot handle this object does not accept it
        return False


def type_names(obj: Any) -> set[str]:
    """``"package.Class"`` of ``obj``'s type and its bases (no import of the package needed)."""
    return {c.__module__.split(".")[0] + "." + c.__name__ for c in type(obj).__mro__}


# ------------------------------------------------------------------ the in-memory formats
def _label_missing(where: str, label: str, columns: Any) -> InputError:
    return InputError(f"{where} has no label column {label!r}; name yours with label='...' "
                      "(columns: " + ", ".join(map(str, [*columns][:8])) + "...).")


@register_reader("bundle", accepts=lambda o: isinstance(o, ModalityBundle))
def _as_is(obj: ModalityBundle, **_: Any) -> ModalityBundle:
    return obj


@register_reader("dataframe", accepts=lambda o: "pandas.DataFrame" in type_names(o), options=("modalities", "sep"))
def _from_dataframe(obj: Any, *, label: str, modalities: Mapping[str, Any] | None = None,
                    sep: str | None = None) -> ModalityBundle:
    if label not in obj.columns:
        raise _label_missing("the DataFrame", label, obj.columns)
    _mapping_or_refuse(modalities, "DataFrame", "columns")
    return ModalityBundle.from_dataframe(obj, label=label, modalities=modalities, sep="_" if sep is None else sep)


@register_reader("mudata", accepts=lambda o: "mudata.MuData" in type_names(o), options=("modalities",))
def _from_mudata(obj: Any, *, label: str, modalities: Any = None) -> ModalityBundle:
    return ModalityBundle.from_mudata(obj, label=label, modalities=modalities)


@register_reader("anndata", accepts=lambda o: "anndata.AnnData" in type_names(o), options=("modalities",))
def _from_anndata(obj: Any, *, label: str, modalities: Mapping[str, str] | None = None) -> ModalityBundle:
    if label not in obj.obs.columns:
        raise _label_missing("adata.obs", label, obj.obs.columns)
    _mapping_or_refuse(modalities, "AnnData", "source (X, layers:<key>, obsm:<key>)")
    return ModalityBundle.from_anndata(obj, label=label, modalities=modalities)


def _mapping_or_refuse(modalities: Any, kind: str, what: str) -> None:
    if modalities is not None and not isinstance(modalities, Mapping):
        raise InputError(f"modalities= for a {kind} maps each modality name to its {what}; "
                         f"got a {type(modalities).__name__}.")
