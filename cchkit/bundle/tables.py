"""Bundles from files other than the bundle format: tables (CSV, TSV, parquet), AnnData
(``.h5ad``) and MuData (``.h5mu``); :func:`read_bundle_source` is what ``cchkit import`` runs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from .._safe_arrays import check_regular_file, read_json
from ..exceptions import CchkitError, InputError
from .model import ModalityBundle

__all__ = ["read_table", "read_column_mapping", "read_bundle_source", "TABLE_SUFFIXES", "SCVERSE_SUFFIXES"]

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")
SCVERSE_SUFFIXES = (".h5ad", ".h5mu")


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A CSV / TSV / parquet file as a DataFrame; unreadable files raise :class:`InputError`."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
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


def read_bundle_source(path: str | os.PathLike[str], *, label: str = "label", name: str = "",
                       **grouping: Any) -> ModalityBundle:
    """A bundle from a table or from an AnnData / MuData file (``label`` is then an ``obs``
    column). ``grouping`` (``modalities``, ``sep``, ``id_column``) says how a table's columns
    form modalities, as in :meth:`ModalityBundle.from_dataframe`. ``name`` defaults to the
    file's stem."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file.")
    name = name or p.stem
    if p.suffix.lower() in SCVERSE_SUFFIXES:
        return _scverse_bundle(p, label, name)
    return ModalityBundle.from_dataframe(read_table(p), label=label, name=name, **grouping)

