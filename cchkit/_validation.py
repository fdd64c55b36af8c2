"""Input checks shared by the estimators, the bundle and the pipeline.

Each check raises :class:`~cchkit.exceptions.InputError` with a message that says what is
wrong and what to do, never a silent wrong number.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .exceptions import InputError

__all__ = [
    "as_float_matrix",
    "as_labels",
    "check_same_rows",
    "find_constant_columns",
    "find_duplicate_columns",
    "check_informative_columns",
    "looks_discrete",
    "standardize",
]


def _to_numpy(a: Any, name: str) -> np.ndarray:
    if hasattr(a, "detach") and hasattr(a, "cpu"):  # torch tensor, without importing torch
        a = a.detach().cpu().numpy()
    elif hasattr(a, "to_numpy"):  # pandas DataFrame / Series
        a = a.to_numpy()
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged lists and the like
        raise InputError(f"{name} could not be read as an array: {exc}") from None
    return arr


def as_float_matrix(a: Any, name: str = "x", *, allow_nonfinite: bool = False) -> np.ndarray:
    """Return ``a`` as a C-contiguous float64 array of shape (n, d).

    Accepts numpy arrays, torch tensors, pandas objects and nested lists; a 1-D input becomes
    (n, 1). Raises on object/string dtypes, on more than two dimensions, on empty input and on
    NaN/inf (unless ``allow_nonfinite``).
    """
    arr = _to_numpy(a, name)
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise InputError(
            f"{name} is not numeric (dtype {arr.dtype}); convert it to a float matrix first "
            "(strings and Python objects cannot be used as features)."
        )
    if arr.dtype.kind not in "biuf":
        raise InputError(f"{name} has unsupported dtype {arr.dtype}; expected real numbers.")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InputError(f"{name} must be 1-D or 2-D (n_samples, n_features), got shape {arr.shape}.")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputError(f"{name} is empty (shape {arr.shape}).")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not allow_nonfinite:
        bad = ~np.isfinite(arr)
        if bad.any():
            n_nan = int(np.isnan(arr).sum())
            n_inf = int(bad.sum()) - n_nan
            rows = np.flatnonzero(bad.any(axis=1))
            raise InputError(
                f"{name} has {n_nan} NaN and {n_inf} infinite values (first bad rows: "
                f"{rows[:5].tolist()}); drop or impute them before estimating."
            )
    return arr


def looks_discrete(a: Any) -> bool:
    """True when a 1-D array holds class labels: integers, booleans, strings, or whole floats."""
    arr = _to_numpy(a, "y")
    if arr.ndim != 1:
        return False
    if arr.dtype.kind in "biuUS" or arr.dtype == object:
        return True
    return False


def as_labels(a: Any, name: str = "labels") -> tuple[np.ndarray, np.ndarray]:
    """Encode class labels as integers 0..C-1.

    Accepts integers, booleans, strings, and floats that are whole numbers (``1.0``). Returns
    ``(codes, classes)`` where ``classes[codes] == a``.
    """
    arr = _to_numpy(a, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise InputError(f"{name} must be a 1-D vector of class labels, got shape {arr.shape}.")
    if arr.shape[0] == 0:
        raise InputError(f"{name} is empty.")
    if arr.dtype == object:
        try:
            arr = arr.astype(str)
        except Exception:
            raise InputError(f"{name} holds Python objects that are not labels.") from None
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise InputError(f"{name} has NaN or infinite values; every sample needs a label.")
        if not np.all(arr == np.round(arr)):
            raise InputError(
                f"{name} holds non-integer floats (e.g. {arr[arr != np.round(arr)][0]!r}); class "
                "labels must be integers or strings. For a continuous target pass it as a feature."
            )
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "biuUS":
        raise InputError(f"{name} has unsupported dtype {arr.dtype} for class labels.")
    classes, codes = np.unique(arr, return_inverse=True)
    return codes.astype(np.int64).reshape(-1), classes


def check_same_rows(**arrays: np.ndarray) -> int:
    """Raise unless every array has the same number of rows; return that number."""
    sizes = {k: int(np.shape(v)[0]) for k, v in arrays.items()}
    if len(set(sizes.values())) > 1:
        desc = ", ".join(f"{k} has {v}" for k, v in sizes.items())
        raise InputError(
            f"sample counts do not match: {desc} rows. Each row must be the same sample "
            "in every input (pair them by sample id first)."
        )
    return next(iter(sizes.values()))


def find_constant_columns(x: np.ndarray) -> np.ndarray:
    """Indices of columns whose values are all equal."""
    return np.flatnonzero(np.all(x == x[:1], axis=0))


def find_duplicate_columns(x: np.ndarray) -> list[tuple[int, int]]:
    """Pairs (first, later) of columns that are exactly equal."""
    _, first, inverse = np.unique(x.T, axis=0, return_index=True, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    dups = [(int(first[g]), j) for j, g in enumerate(inverse) if first[g] != j]
    return dups


def check_informative_columns(x: np.ndarray, name: str) -> None:
    """Raise on constant or exactly duplicated columns (they make MI undefined or infinite)."""
    const = find_constant_columns(x)
    if const.size:
        raise InputError(
            f"{name} has {const.size} constant column(s) (indices {const[:10].tolist()}); they carry "
            "no information and make the covariance singular: drop them."
        )
    if x.shape[1] > 1:
        dups = find_duplicate_columns(x)
        if dups:
            raise InputError(
                f"{name} has {len(dups)} duplicated column(s) (e.g. column {dups[0][1]} equals "
                f"column {dups[0][0]}); duplicates make MI estimates infinite or biased: drop them."
            )


def standardize(x: np.ndarray) -> np.ndarray:
    """Centre each column and scale it to unit standard deviation (population std)."""
    mu = x.mean(axis=0)
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    return (x - mu) / sd
