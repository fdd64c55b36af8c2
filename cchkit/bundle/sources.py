"""Where bundle matrices come from besides arrays: AnnData / MuData sources (scverse)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import BundleError

__all__ = ["anndata_source", "obs_labels"]


def anndata_source(adata: Any, src: str) -> Any:
    """The matrix an AnnData source names: ``X``, ``obsm:<key>`` or ``layers:<key>``."""
    kind, _, key = str(src).partition(":")
    if src == "X":
        return adata.X
    store = {"obsm": adata.obsm, "layers": adata.layers}.get(kind)
    if store is None or key not in store:
        raise BundleError(
            f"unknown AnnData source {src!r}; use 'X', 'obsm:<key>' ({', '.join(adata.obsm.keys()) or 'none'}) or "
            f"'layers:<key>' ({', '.join(adata.layers.keys()) or 'none'})."
        )
    return store[key]


def obs_labels(column: Any, label: str) -> np.ndarray:
    """An obs column as label values; a cell without a label (NaN, None, a missing category)
    stays missing (None), so that the bundle holds it as an unlabeled row, never as a class."""
    values = column.to_numpy() if hasattr(column, "to_numpy") else np.asarray(column)
    missing = np.asarray(pd.isna(values), dtype=bool)
    if values.dtype != object:
        return values
    out = np.asarray([None if miss else str(v) for v, miss in zip(values.tolist(), missing)], dtype=object)
    if missing.all():
        raise BundleError(f"no cell has a {label!r} label; at least two classes need labelled cells.")
    return out
