"""Input checks shared by the estimators, the bundle and the pipeline.

Each check raises :class:`~cchkit.exceptions.InputError` with a message that says what is
wrong and what to do, never a silent wrong number.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from .exceptions import InputError

__all__ = [
    "to_numpy",
    "as_float_matrix",
    "as_labels",
    "missing_labels",
    "UNLABELED",
    "check_same_rows",
    "find_constant_columns",
    "find_duplicate_columns",
    "check_informative_columns",
    "looks_discrete",
    "standardize",
    "standardize_fit",
    "check_safe_magnitude",
    "plain",
    "comma_names",
]


#: Largest dense matrix a sparse input is expanded to (bytes of float64).
MAX_DENSE_BYTES = 4 << 30


def _densify(a: Any, name: str) -> np.ndarray:
    """A scipy.sparse matrix (AnnData's usual ``.X``) as a dense array, if it fits."""
    n, d = a.shape
    need = 8 * n * d
    if need > MAX_DENSE_BYTES:
        raise InputError(
            f"{name} is a sparse {n} x {d} matrix; as dense float64 it needs {need / 1e9:.1f} GB (limit "
            f"{MAX_DENSE_BYTES / 1e9:.1f} GB). Reduce it first (e.g. TruncatedSVD or a learned embedding)."
        )
    return np.asarray(a.toarray())


def to_numpy(a: Any, name: str) -> np.ndarray:
    """``a`` (numpy, torch, pandas, scipy.sparse, nested lists) as a numpy array; masked values
    are refused; a sparse matrix is densified when it fits in :data:`MAX_DENSE_BYTES`."""
    if hasattr(a, "tocsr") and hasattr(a, "nnz"):  # scipy.sparse, without importing scipy
        return _densify(a, name)
    if isinstance(a, np.ma.MaskedArray):
        n_masked = int(np.ma.count_masked(a))
        if n_masked:
            raise InputError(
                f"{name} is a masked array with {n_masked} masked value(s); cchkit does not guess what "
                "they hold: drop the masked rows (or fill them) first, e.g. x[~x.mask.any(axis=1)]."
            )
        a = np.ma.getdata(a)
    if hasattr(a, "detach") and hasattr(a, "cpu"):  # torch tensor, without importing torch
        if getattr(a, "is_meta", False):
            raise InputError(f"{name} is a torch tensor on the 'meta' device, which holds no values; "
                             "materialise it (e.g. .to('cpu') after filling it) first.")
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
    arr = to_numpy(a, name)
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
    arr = to_numpy(a, "y")
    if arr.ndim == 2 and arr.shape[1] == 1:  # a column of labels, as a (n, 1) array
        arr = arr[:, 0]
    if arr.ndim != 1:
        return False
    if arr.dtype.kind in "biuUS" or arr.dtype == object:
        return True
    return False


#: The code of a row without a label (an unlabeled row of a label-scarce bundle).
UNLABELED = -1


def missing_labels(arr: np.ndarray) -> np.ndarray:
    """Which entries of a label vector are missing: None, NaN, pandas' NA / NaT, and the empty
    string (what an empty CSV cell or a missing category becomes)."""
    if arr.dtype == object or arr.dtype.kind in "fmM":
        import pandas as pd

        miss = np.asarray(pd.isna(arr), dtype=bool)
    else:
        miss = np.zeros(arr.shape, dtype=bool)
    if arr.dtype.kind in "US" or arr.dtype == object:
        miss |= np.asarray([isinstance(v, (str, bytes)) and not v.strip() for v in arr.tolist()], dtype=bool)
    return miss


def as_labels(a: Any, name: str = "labels", *, allow_missing: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Encode class labels as integers 0..C-1.

    Accepts integers, booleans, strings, and floats that are whole numbers (``1.0``). Returns
    ``(codes, classes)`` where ``classes[codes] == a``. Missing labels (:func:`missing_labels`)
    are refused with their count, or, with ``allow_missing``, coded :data:`UNLABELED` (-1): a
    missing label is never a class.
    """
    arr = to_numpy(a, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise InputError(f"{name} must be a 1-D vector of class labels, got shape {arr.shape}.")
    if arr.shape[0] == 0:
        raise InputError(f"{name} is empty.")
    miss = missing_labels(arr)
    if miss.any():
        if not allow_missing:
            raise InputError(f"{name} has {int(miss.sum())} missing value(s); every sample needs a label here.")
        codes = np.full(arr.shape[0], UNLABELED, dtype=np.int64)
        if miss.all():
            return codes, np.asarray([], dtype=np.int64)
        known, classes = as_labels(arr[~miss], name)
        codes[~miss] = known
        return codes, classes
    if arr.dtype == object:
        kinds = {type(v) for v in arr.tolist()}
        if len({("text" if issubclass(k, (str, bytes)) else "number") for k in kinds}) > 1:
            raise InputError(f"{name} mixes text and numbers ({', '.join(sorted(k.__name__ for k in kinds))}); "
                             "convert the labels to one type.")
        if any(issubclass(k, complex) for k in kinds):
            raise InputError(f"{name} holds complex numbers; class labels must be integers or strings.")
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
        if np.all(np.abs(arr) < 2.0**53):  # exact as integers; larger whole floats stay floats
            arr = arr.astype(np.int64)
    if arr.dtype.kind not in "biufUS":
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
    """Pairs (first, later) of columns that are exactly equal.

    Columns are grouped by a digest of their bytes (``+ 0.0`` makes -0.0 and 0.0 one value), and
    a group's members are then compared exactly, so a digest collision cannot invent a duplicate.
    This is linear in the rows, where sorting the columns as rows of length n (``np.unique``
    over axis 0) took most of a million-row ranking.
    """
    cols = np.ascontiguousarray((np.asarray(x, dtype=np.float64) + 0.0).T)
    groups: dict[bytes, list[int]] = {}
    for j in range(cols.shape[0]):
        groups.setdefault(hashlib.blake2b(cols[j].tobytes(), digest_size=16).digest(), []).append(j)
    dups = []
    for members in groups.values():
        firsts: list[int] = []
        for j in members:
            first = next((f for f in firsts if np.array_equal(cols[f], cols[j])), None)
            if first is None:
                firsts.append(j)
            else:
                dups.append((first, j))
    return sorted(dups, key=lambda p: p[1])


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


def _power_of_two_scale(x: np.ndarray) -> np.ndarray:
    """Per column, the power of two ``2**e`` with ``max |x| / 2**e`` in [0.5, 1) (1 for zeros).

    Dividing by a power of two is exact in floating point (no rounding), so the scaled column
    keeps every bit of the original while its squares neither overflow (1e300) nor underflow
    (1e-300).
    """
    peak = np.max(np.abs(x), axis=0) if x.shape[0] else np.zeros(x.shape[1])
    _, exponent = np.frexp(peak)
    return np.ldexp(1.0, exponent).astype(np.float64)


def _scaled_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``x`` divided by its per-column power of two, with that matrix's mean and std (1 if 0)."""
    scale = _power_of_two_scale(x)
    scaled = x / scale
    mu = scaled.mean(axis=0)
    sd = scaled.std(axis=0)
    sd[sd == 0] = 1.0
    return scaled, mu, sd, scale


def standardize_fit(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and population standard deviations of ``x``, scale-safe.

    ``(x - mu) / sd`` standardises ``x``. The moments are computed on the columns divided by a
    power of two (see :func:`_power_of_two_scale`), then scaled back, so that a modality at
    1e-300 or 1e300 gives the same standardised values as one at 1 (MI is invariant to a
    column's scale). A constant column gets ``sd = 1``.
    """
    _, mu, sd, scale = _scaled_moments(x)
    return mu * scale, sd * scale


def standardize(x: np.ndarray) -> np.ndarray:
    """Centre each column and scale it to unit standard deviation (population std), scale-safe.

    Computed on the power-of-two-scaled columns (bit-identical to ``(x - mean) / std`` wherever
    that does not overflow or underflow); constant columns are only centred.
    """
    scaled, mu, sd, _ = _scaled_moments(x)
    return (scaled - mu) / sd


#: Largest absolute value (and smallest non-zero one) whose square is a normal float64.
_SAFE_MAGNITUDE = 1e150


def check_safe_magnitude(x: np.ndarray, name: str) -> None:
    """Refuse values whose squares overflow or underflow, for estimators asked not to standardise.

    With ``standardize=True`` (the default) every magnitude is fine: standardisation is
    scale-safe. Without it, sums of squares of values near 1e300 overflow to inf and those of
    values near 1e-300 underflow to 0, which would give a silently wrong estimate.
    """
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak > _SAFE_MAGNITUDE or 0.0 < peak < 1.0 / _SAFE_MAGNITUDE:
        raise InputError(
            f"{name} has values of magnitude {peak:.1e}, whose squares overflow or underflow in float64; "
            "use standardize=True (scale-safe; MI does not depend on the scale) or rescale the data."
        )


def plain(v: Any) -> Any:
    """A numpy scalar as the Python value it holds, so that a message says '0', not np.str_('0')."""
    return v.item() if isinstance(v, np.generic) else v


def comma_names(text: str, what: str) -> list[str]:
    """Comma-separated names, stripped; none at all, or an empty name between commas (a name
    dropped by a typo would change the question without a word), is refused naming ``what``."""
    names = [v.strip() for v in text.split(",")]
    if not any(names):
        raise InputError(f"{what} is empty; give comma-separated modality names.")
    if not all(names):
        raise InputError(f"{what} {text!r} has an empty name between commas; give comma-separated modality names.")
    return names
