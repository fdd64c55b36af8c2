"""Bundles from files other than the bundle format, in one registry of file formats keyed by
suffix: tables (CSV, TSV, parquet), AnnData (``.h5ad``) and MuData (``.h5mu``).
:func:`read_bundle_source` is what ``cchkit import`` runs.

A file format is one function plus a registration (:func:`register_file_format`): it names its
suffixes and the grouping options it reads (``modalities``, ``sep``, ``id_column``);
:func:`read_bundle_source` refuses the others by name instead of dropping them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .._registry import Registry
from .._safe_arrays import check_regular_file, read_json
from ..exceptions import CchkitError, InputError
from .model import ModalityBundle

__all__ = ["read_table", "read_column_mapping", "read_bundle_source", "register_file_format", "unregister_file_format",
           "file_suffixes", "FILE_OPTIONS"]

#: The grouping options ``cchkit import`` passes (its flags): how a table's columns form modalities.
FILE_OPTIONS = ("modalities", "sep", "id_column")
_FLAGS = {"modalities": "--mapping", "sep": "--sep", "id_column": "--id-column"}
_TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")


@dataclass(frozen=True)
class FileFormat:
    """A registered file format: ``read(path, *, label, name, **options)`` -> bundle."""

    name: str
    suffixes: tuple[str, ...]
    read: Callable[..., ModalityBundle]
    options: tuple[str, ...] = ()


_FORMATS: Registry[FileFormat] = Registry("file format")


def register_file_format(name: str, suffixes: tuple[str, ...], *,
                         options: tuple[str, ...] = ()) -> Callable[[Callable[..., ModalityBundle]], Callable[..., ModalityBundle]]:
    """Decorator registering ``read`` as the file format ``name`` for ``suffixes`` (lower case,
    with the dot); ``options``: the :data:`FILE_OPTIONS` it reads."""
    bad = [o for o in options if o not in FILE_OPTIONS]
    taken = [x for x in suffixes for f in _FORMATS.values() if x in f.suffixes and f.name != name]
    if bad or taken or not suffixes or any(not x.startswith(".") or x != x.lower() for x in suffixes):
        raise InputError(f"file format {name!r}: suffixes must be new, lower-case and start with a dot (taken: "
                         f"{taken}) and options one of {', '.join(FILE_OPTIONS)} (unknown: {bad}).")

    def decorator(read: Callable[..., ModalityBundle]) -> Callable[..., ModalityBundle]:
        _FORMATS[name] = FileFormat(name, tuple(suffixes), read, tuple(options))
        return read

    return decorator


def unregister_file_format(name: str) -> None:
    """Remove the file format ``name`` (a no-op when it is not registered)."""
    _FORMATS.pop(name, None)


def file_suffixes() -> list[str]:
    """Every suffix a registered file format reads."""
    return [x for f in _FORMATS.values() for x in f.suffixes]


def _format_of(p: Path) -> FileFormat:
    suffix = p.suffix.lower()
    found = next((f for f in _FORMATS.values() if suffix in f.suffixes), None)
    if found is None:
        raise InputError(f"{p}: unsupported file type {p.suffix!r}; cchkit reads {', '.join(file_suffixes())}.")
    return found


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A CSV / TSV / parquet file as a DataFrame; unreadable files raise :class:`InputError`."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in _TABLE_SUFFIXES:
        raise InputError(f"{p}: unsupported table type {p.suffix!r}; use .csv, .tsv or .parquet.")
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(p)
        return pd.read_csv(p, sep="\t" if suffix == ".tsv" else ",")
    except ImportError:
        raise InputError(
            f"reading {p.suffix} files needs pyarrow: pip install 'cchkit[parquet]' (or pip install pyarrow)."
        ) from None
    except Exception as exc:
        raise InputError(f"{p} could not be read as a table ({type(exc).__name__}: {exc}).") from None


def read_column_mapping(path: str | os.PathLike[str], what: str = "--mapping") -> dict[str, list[str]]:
    """A JSON file ``{"modality": ["column", ...], ...}`` (read without recursion limits biting)."""
    p = Path(path)
    check_regular_file(p, what)
    groups = read_json(p.read_bytes(), f"{what} {p}")
    if not isinstance(groups, dict) or not all(
        isinstance(v, list) and all(isinstance(c, (str, int)) for c in v) for v in groups.values()
    ):
        raise InputError(f'{what} must be a JSON object {{"modality": ["column", ...]}}.')
    return groups


@register_file_format("table", _TABLE_SUFFIXES, options=FILE_OPTIONS)
def _table_bundle(path: Path, *, label: str, name: str, **grouping: Any) -> ModalityBundle:
    return ModalityBundle.from_dataframe(read_table(path), label=label, name=name, **grouping)


def _scverse_bundle(path: Path, label: str, name: str) -> ModalityBundle:
    """An AnnData ``.h5ad`` (X and every obsm key) or a MuData ``.h5mu`` (every modality)."""
    try:
        if path.suffix.lower() == ".h5ad":
            import anndata

            return ModalityBundle.from_anndata(anndata.read_h5ad(path), label=label, name=name)
        import mudata

        return ModalityBundle.from_mudata(mudata.read_h5mu(path), label=label, name=name)
    except ImportError:
        raise InputError(f"reading {path.suffix} files needs anndata and mudata: pip install 'cchkit[scverse]'.") from None
    except CchkitError:
        raise
    except Exception as exc:  # h5py and anndata raise many kinds on a corrupt or foreign file
        raise InputError(f"{path} could not be read as {path.suffix} ({type(exc).__name__}: {exc}).") from None


@register_file_format("anndata", (".h5ad",))
def _anndata_bundle(path: Path, *, label: str, name: str) -> ModalityBundle:
    return _scverse_bundle(path, label, name)


@register_file_format("mudata", (".h5mu",))
def _mudata_bundle(path: Path, *, label: str, name: str) -> ModalityBundle:
    return _scverse_bundle(path, label, name)


#: What a grouping option is when the user gave none (``cchkit import`` always passes them).
_UNSET: dict[str, Any] = {"modalities": None, "sep": "_", "id_column": None}


def read_bundle_source(path: str | os.PathLike[str], *, label: str = "label", name: str = "",
                       **grouping: Any) -> ModalityBundle:
    """A bundle from a file of a registered format (:func:`file_suffixes`; for AnnData / MuData
    ``label`` is an ``obs`` column). ``grouping`` (``modalities``, ``sep``, ``id_column``) says
    how a table's columns form modalities, as in :meth:`ModalityBundle.from_dataframe`; one a
    format does not read is refused by name. ``name`` defaults to the file's stem."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file.")
    fmt = _format_of(p)
    unknown = [k for k in grouping if k not in FILE_OPTIONS]
    unused = [k for k, v in grouping.items() if k in FILE_OPTIONS and k not in fmt.options and v != _UNSET[k]]
    if unknown or unused:
        flags = ", ".join(_FLAGS.get(k, k) for k in unknown + unused)
        raise InputError(f"{p}: {flags} {'does' if len(unknown + unused) == 1 else 'do'} not apply to {fmt.name} files "
                         f"(they group a table's columns); leave {'it' if len(unknown + unused) == 1 else 'them'} out.")
    return fmt.read(p, label=label, name=name or p.stem, **{k: v for k, v in grouping.items() if k in fmt.options})
