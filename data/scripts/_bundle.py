"""Checks and metadata for the bundled datasets, written with cchkit's own bundle writer
(:func:`cchkit.bundle.format.write_bundle_files`, which owns the format and its version).

Used only by the one-off generation scripts in ``data/scripts``; cchkit itself
never imports this file.

A bundle is a directory ``cchkit/datasets/data/<name>/`` holding ``bundle.json``, one
``<modality>.npy`` per modality (float32, shape (n, dim), C-contiguous, row i of
every modality is the same sample) and ``label.npy`` (int64, shape (n,), values
0..C-1).
"""
from __future__ import annotations

import json
import re
from typing import List, Sequence, Tuple

import numpy as np

from cchkit.bundle.format import write_bundle_files


def constant_columns(x: np.ndarray) -> List[int]:
    return [int(j) for j in np.flatnonzero(np.all(x == x[:1], axis=0))]


def duplicate_columns(x: np.ndarray) -> List[Tuple[int, int]]:
    """Pairs (kept, duplicate) of exactly equal columns, duplicate > kept."""
    pairs = []
    first_seen: dict[bytes, int] = {}
    xt = np.ascontiguousarray(x.T)
    for j in range(xt.shape[0]):
        key = xt[j].tobytes()
        if key in first_seen:
            pairs.append((first_seen[key], j))
        else:
            first_seen[key] = j
    return pairs


def check_matrix(name: str, x: np.ndarray, n: int) -> None:
    if x.dtype != np.float32:
        raise TypeError(f"{name}: dtype {x.dtype}, want float32")
    if x.ndim != 2 or x.shape[0] != n:
        raise ValueError(f"{name}: shape {x.shape}, want ({n}, dim)")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name}: NaN or inf present")
    const = constant_columns(x)
    if const:
        raise ValueError(f"{name}: constant columns {const}")
    dup = duplicate_columns(x)
    if dup:
        raise ValueError(f"{name}: duplicated columns {dup}")


def write_bundle(
    out_dir: str,
    *,
    name: str,
    description: str,
    source: str,
    licence: str,
    how_made: str,
    script: str,
    modalities: Sequence[Tuple[str, np.ndarray, str]],
    label: np.ndarray,
    label_names: Sequence[str],
    label_description: str,
) -> dict:
    """Validate and write a bundle. ``modalities`` is a list of
    (modality name, float32 array (n, dim), description)."""
    label = np.asarray(label)
    if label.dtype != np.int64 or label.ndim != 1:
        raise TypeError("label must be int64 with shape (n,)")
    n = int(label.shape[0])
    n_classes = len(label_names)
    if label.min() < 0 or label.max() >= n_classes:
        raise ValueError("label values outside 0..C-1")
    if len(np.unique(label)) != n_classes:
        raise ValueError("some class has no sample")
    arrays = {}
    descriptions = {}
    for mname, x, mdesc in modalities:
        if mname == "label" or not re.fullmatch(r"[a-z][a-z0-9_-]*", mname):
            raise ValueError(f"bad modality name {mname!r}")
        x = np.ascontiguousarray(x, dtype=np.float32)
        check_matrix(mname, x, n)
        arrays[mname] = x
        descriptions[mname] = mdesc
    arrays["label"] = np.ascontiguousarray(label, dtype=np.int64)

    def meta_for(files: dict) -> dict:
        return {
            "name": name,
            "description": description,
            "source": source,
            "licence": licence,
            "how_made": how_made,
            "script": script,
            "n": n,
            "modalities": {
                m: {"file": files[m], "dim": int(arrays[m].shape[1]), "description": descriptions[m]} for m in descriptions
            },
            "label": {"file": files["label"], "names": [str(v) for v in label_names], "description": label_description},
        }

    written = write_bundle_files(out_dir, arrays, meta_for)
    return json.loads((written / "bundle.json").read_text())  # what was written, checksums included
