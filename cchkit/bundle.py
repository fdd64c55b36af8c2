"""The modality bundle: cchkit's one data format.

A :class:`ModalityBundle` is a set of named modalities, each an (n_m, d_m) float matrix whose
rows carry a sample id and a class label. Two modalities are *paired* where they share sample
ids; the CCH score needs paired samples, the unpaired distiller does not.

On disk a bundle is either

* a single ``.npz`` file: one key per modality (its matrix), ``label`` (labels shared by all
  modalities, row i = sample i), optional ``<modality>__ids`` and ``<modality>__label`` for
  modalities with their own ids / labels, and an optional ``__meta__`` JSON string; or
* a directory with ``bundle.json`` (name, modalities, dims, label names, source, licence,
  format version) and one ``.npy`` per array.

Both are read with ``allow_pickle=False``: a file that needs unpickling is refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._safe_arrays import check_regular_file, read_json, read_npy, read_npz
from ._validation import as_float_matrix, as_labels, find_constant_columns, to_numpy
from .exceptions import (
    BundleError,
    BundleFormatError,
    CchkitError,
    InputError,
    NotPairedError,
    UnknownModalityError,
)

logger = logging.getLogger("cchkit")

__all__ = ["Modality", "ModalityBundle", "PairedView", "FORMAT_VERSION", "MIN_SAMPLES"]

FORMAT_VERSION = 1
#: Fewest samples a modality may have: below this no estimate or split is meaningful.
MIN_SAMPLES = 10
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
_RESERVED = {"label", "ids", "__meta__"}


@dataclass(frozen=True)
class Modality:
    """One modality: a float matrix with a label and a sample id per row.

    Attributes
    ----------
    name : str
    data : ndarray, shape (n, d), float64
    labels : ndarray, shape (n,), int64 codes into the bundle's ``classes``
    ids : ndarray, shape (n,)
        Sample ids (ints or strings); rows of two modalities with the same id are one sample.
    description : str
    representation : bool
        True when ``data`` is already a learned embedding (used as H_m as it is).
    """

    name: str
    data: np.ndarray
    labels: np.ndarray
    ids: np.ndarray
    description: str = ""
    representation: bool = False

    @property
    def n(self) -> int:
        return int(self.data.shape[0])

    @property
    def dim(self) -> int:
        return int(self.data.shape[1])


@dataclass(frozen=True)
class PairedView:
    """Rows of several modalities aligned on their shared sample ids."""

    data: dict[str, np.ndarray]
    labels: np.ndarray
    ids: np.ndarray

    @property
    def n(self) -> int:
        return int(self.labels.shape[0])


@dataclass
class ModalityBundle:
    """Named modalities with labels and sample ids. Build it with :meth:`from_arrays`,
    :meth:`from_dataframe` or :meth:`load`; it is validated on construction."""

    modalities: dict[str, Modality]
    classes: np.ndarray
    name: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.modalities:
            raise BundleError("a bundle needs at least one modality.")
        for m in self.modalities.values():
            if m.n < MIN_SAMPLES:
                raise BundleError(
                    f"modality {m.name!r} has {m.n} sample(s); at least {MIN_SAMPLES} are needed."
                )
        if len(self.classes) < 2:
            raise BundleError(
                f"the labels have {len(self.classes)} class; at least 2 classes are needed "
                "(with one class there is nothing to predict and I(H; Y) = 0)."
            )
        for m in self.modalities.values():
            _check_name(m.name)
            if m.n < MIN_SAMPLES:
                raise BundleError(
                    f"modality {m.name!r} has {m.n} sample(s); at least {MIN_SAMPLES} are needed."
                )
            if m.labels.shape != (m.n,) or m.ids.shape != (m.n,):
                raise BundleError(f"modality {m.name!r}: labels/ids do not match its {m.n} rows.")
            if m.labels.min() < 0 or m.labels.max() >= len(self.classes):
                raise BundleError(f"modality {m.name!r}: label codes outside 0..{len(self.classes) - 1}.")
            if pd.Index(m.ids).has_duplicates:
                dup = pd.Index(m.ids)[pd.Index(m.ids).duplicated()][0]
                raise BundleError(f"modality {m.name!r} has duplicated sample id {_plain(dup)!r}; ids must be unique.")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(
        cls,
        arrays: Mapping[str, Any],
        labels: Any | Mapping[str, Any] | None = None,
        *,
        ids: Any | Mapping[str, Any] | None = None,
        paired: bool = True,
        name: str = "",
        descriptions: Mapping[str, str] | None = None,
        representations: Iterable[str] = (),
        metadata: Mapping[str, Any] | None = None,
    ) -> ModalityBundle:
        """Build a bundle from arrays.

        Parameters
        ----------
        arrays : mapping name -> array-like (n_m, d_m)
            One matrix per modality (numpy, torch, pandas; 1-D means one feature).
        labels : array-like (n,) or mapping name -> array-like (n_m,)
            Class labels (integers, strings, or whole-number floats). One vector shared by all
            modalities (then every modality has n rows, row i = sample i), or one per modality.
        ids : array-like (n,) or mapping name -> array-like, optional
            Sample ids. Default: the row number, so modalities are paired row by row.
        paired : bool, default True
            With ``ids`` omitted, ``paired=False`` gives every modality its own ids, so that no
            sample is paired with another (an unpaired bundle).
        descriptions : mapping name -> str, optional
        representations : names of modalities that already are learned embeddings.
        """
        if labels is None:
            raise BundleError(
                "no labels were given; cchkit needs a class label for every sample "
                "(pass labels=... or a 'label' array in the file)."
            )
        if not isinstance(arrays, Mapping) or not arrays:
            raise BundleError("arrays must be a non-empty mapping of modality name -> matrix.")
        descriptions = dict(descriptions or {})
        reps = set(representations)
        unknown = reps - set(arrays)
        if unknown:
            raise UnknownModalityError(f"representations names unknown modalities: {sorted(unknown)}.")
        # labels: one shared vector or one per modality
        per_mod_labels = isinstance(labels, Mapping)
        if per_mod_labels:
            missing = set(arrays) - set(labels)
            if missing:
                raise BundleError(f"labels are missing for modalities {sorted(missing)}.")
            raw_labels = {k: _label_values(to_numpy(labels[k], f"labels of {k!r}"), f"labels of {k!r}") for k in arrays}
            allv = np.concatenate([raw_labels[k] for k in arrays])
        else:
            allv = _label_values(to_numpy(labels, "labels"), "labels")
        codes_all, classes = as_labels(allv, "labels")
        modalities: dict[str, Modality] = {}
        offset = 0
        for mname, arr in arrays.items():
            _check_name(mname)
            try:
                data = as_float_matrix(arr, f"modality {mname!r}")
            except InputError as exc:
                raise BundleError(str(exc)) from None
            n = data.shape[0]
            if per_mod_labels:
                n_lab = raw_labels[mname].shape[0]
            else:
                n_lab = codes_all.shape[0]
            if n_lab != n:
                raise BundleError(
                    f"modality {mname!r} has {n} rows but its labels have {n_lab}; every row needs "
                    "exactly one label."
                )
            if per_mod_labels:
                codes = codes_all[offset : offset + n]
                offset += n
            else:
                codes = codes_all
            if ids is None:
                mids = np.arange(n) if paired else np.array([f"{mname}:{i}" for i in range(n)])
            else:
                src = ids[mname] if isinstance(ids, Mapping) else ids
                mids = to_numpy(src, f"ids of {mname!r}").reshape(-1)
                if mids.dtype == object:
                    mids = mids.astype(str)
                if mids.shape[0] != n:
                    raise BundleError(f"modality {mname!r} has {n} rows but {mids.shape[0]} ids.")
            modalities[mname] = Modality(
                name=mname,
                data=data,
                labels=codes,
                ids=mids,
                description=descriptions.get(mname, ""),
                representation=mname in reps,
            )
        bundle = cls(modalities=modalities, classes=classes, name=name, metadata=dict(metadata or {}))
        return bundle

    @classmethod
    def from_dataframe(
        cls,
        df: pd.DataFrame,
        *,
        label: str = "label",
        modalities: Mapping[str, Sequence[str]] | None = None,
        sep: str = "_",
        id_column: str | None = None,
        name: str = "",
    ) -> ModalityBundle:
        """Build a bundle from a table with one row per sample.

        Columns are grouped into modalities either by ``modalities`` (name -> column list) or by
        the prefix before the first ``sep`` (``audio_0, audio_1, image_0`` -> audio, image).
        ``label`` names the label column; ``id_column`` an optional sample-id column.
        """
        if modalities is None and not sep:
            raise BundleError("the column separator is empty; give a separator such as '_' (or a modalities mapping).")
        if label not in df.columns:
            raise BundleError(
                f"the table has no label column {label!r} (columns: {list(df.columns)[:10]}...); "
                "name it with label=..."
            )
        used = {label} | ({id_column} if id_column else set())
        if id_column and id_column not in df.columns:
            raise BundleError(f"the table has no id column {id_column!r}.")
        if modalities is None:
            groups: dict[str, list[str]] = {}
            for col in df.columns:
                if col in used:
                    continue
                prefix = str(col).split(sep, 1)[0] if sep in str(col) else None
                if not prefix:
                    raise BundleError(
                        f"column {col!r} has no '<modality>{sep}' prefix; rename it or pass a "
                        "modalities mapping."
                    )
                groups.setdefault(prefix, []).append(col)
        else:
            groups = {k: list(v) for k, v in modalities.items()}
            missing = [c for cols in groups.values() for c in cols if c not in df.columns]
            if missing:
                raise BundleError(f"the modality mapping names columns the table lacks: {missing[:10]}.")
        if not groups:
            raise BundleError("the table has no feature columns besides the label.")
        arrays = {}
        for mname, cols in groups.items():
            block = df[cols]
            non_numeric = [c for c in cols if not pd.api.types.is_numeric_dtype(block[c])]
            if non_numeric:
                raise BundleError(
                    f"modality {mname!r} has non-numeric columns {non_numeric[:5]}; features must be numbers."
                )
            arrays[mname] = block.to_numpy(dtype=np.float64)
        ids = df[id_column].to_numpy() if id_column else None
        return cls.from_arrays(arrays, labels=df[label].to_numpy(), ids=ids, name=name)

    @classmethod
    def from_anndata(cls, adata: Any, *, label: str, modalities: Mapping[str, str] | None = None,
                     name: str = "") -> ModalityBundle:
        """Build a bundle from an AnnData (scverse): several representations of the same cells.

        Parameters
        ----------
        adata : anndata.AnnData
        label : str
            The ``adata.obs`` column with the class labels.
        modalities : mapping modality name -> source, optional
            Sources are ``"X"``, ``"obsm:<key>"`` or ``"layers:<key>"``. Default: ``X`` (as
            modality ``"X"``) and every ``obsm`` key. Sparse matrices are densified (with a
            memory check).
        name : str

        Sample ids are ``adata.obs_names``; every modality has every cell, so all are paired.
        """
        if label not in adata.obs.columns:
            raise BundleError(f"adata.obs has no column {label!r} (columns: {list(adata.obs.columns)[:10]}).")
        if modalities is None:
            modalities = {"X": "X", **{str(k): f"obsm:{k}" for k in adata.obsm.keys()}}
        arrays = {mname: _anndata_source(adata, src) for mname, src in modalities.items()}
        ids = np.asarray(adata.obs_names).astype(str)
        return cls.from_arrays(arrays, labels=_obs_labels(adata.obs[label], label), ids=ids, name=name)

    @classmethod
    def from_mudata(cls, mdata: Any, *, label: str, modalities: Sequence[str] | None = None,
                    name: str = "") -> ModalityBundle:
        """Build a bundle from a MuData (scverse): one modality per ``mdata.mod`` entry.

        ``label`` is a column of the global ``mdata.obs`` (also as ``"<mod>:<label>"``) or of
        each modality's own ``obs``. Each modality's ``X`` is used (sparse is densified) and its
        ``obs_names`` are the sample ids, so cells measured in only some modalities are paired
        where they overlap (the CCH uses the shared cells; the unpaired distiller uses all).
        """
        names = list(mdata.mod.keys()) if modalities is None else list(modalities)
        arrays, labels, ids = {}, {}, {}
        for mname in names:
            if mname not in mdata.mod:
                raise UnknownModalityError(f"the MuData has no modality {mname!r}; it has {', '.join(mdata.mod.keys())}.")
            mod = mdata.mod[mname]
            obs_ids = np.asarray(mod.obs_names).astype(str)
            if label in mod.obs.columns:
                column = mod.obs[label]
            elif label in mdata.obs.columns:
                column = mdata.obs[label].reindex(mod.obs_names)
            elif f"{mname}:{label}" in mdata.obs.columns:
                column = mdata.obs[f"{mname}:{label}"].reindex(mod.obs_names)
            else:
                raise BundleError(f"no label column {label!r} in mdata.obs or in the obs of modality {mname!r}.")
            arrays[mname], labels[mname], ids[mname] = mod.X, _obs_labels(column, label), obs_ids
        return cls.from_arrays(arrays, labels=labels, ids=ids, name=name)

    # ------------------------------------------------------------------ access
    @property
    def names(self) -> list[str]:
        """Modality names, in insertion order."""
        return list(self.modalities)

    @property
    def n_classes(self) -> int:
        return int(len(self.classes))

    def __contains__(self, name: object) -> bool:
        return name in self.modalities

    def __getitem__(self, name: str) -> Modality:
        return self.modality(name)

    def __len__(self) -> int:
        return len(self.modalities)

    def modality(self, name: str) -> Modality:
        """The modality called ``name``; :class:`UnknownModalityError` lists the valid names."""
        try:
            return self.modalities[name]
        except (KeyError, TypeError):
            raise UnknownModalityError(
                f"unknown modality {name!r}; this bundle has {', '.join(self.names)}."
            ) from None

    def check_modalities(self, names: Iterable[str]) -> list[str]:
        """Validate a list of names (unknown names and repeats raise); return it as a list."""
        out = list(names)
        for n in out:
            self.modality(n)
        dup = {n for n in out if out.count(n) > 1}
        if dup:
            raise BundleError(f"modality named more than once: {sorted(dup)}.")
        return out

    def paired(self, names: Sequence[str], *, min_pairs: int = MIN_SAMPLES) -> PairedView:
        """Align the rows of ``names`` on their shared sample ids (order of the first modality).

        Raises :class:`NotPairedError` when fewer than ``min_pairs`` ids are shared, and
        :class:`BundleError` when paired rows disagree on their label.
        """
        names = self.check_modalities(names)
        first = self.modality(names[0])
        common = pd.Index(first.ids)
        for nm in names[1:]:
            common = common.intersection(pd.Index(self.modality(nm).ids), sort=False)
        if len(common) < min_pairs:
            raise NotPairedError(
                f"modalities {', '.join(names)} share {len(common)} sample id(s); the CCH score "
                f"needs at least {min_pairs} paired samples. Pair the data by sample id, or use "
                "the unpaired distiller (cchkit validate), which needs no pairs."
            )
        order = pd.Index(first.ids).get_indexer(common)
        common_ids = first.ids[np.sort(order)]
        data: dict[str, np.ndarray] = {}
        labels = None
        for nm in names:
            m = self.modality(nm)
            idx = pd.Index(m.ids).get_indexer(common_ids)
            data[nm] = m.data[idx]
            lab = m.labels[idx]
            if labels is None:
                labels = lab
            elif not np.array_equal(labels, lab):
                bad = int((labels != lab).sum())
                raise BundleError(
                    f"{bad} paired samples have different labels in {names[0]!r} and {nm!r}; "
                    "sample ids must refer to the same sample in every modality."
                )
        assert labels is not None
        return PairedView(data=data, labels=labels, ids=common_ids)

    def n_paired(self, a: str, b: str) -> int:
        """How many sample ids modalities ``a`` and ``b`` share."""
        return int(len(pd.Index(self.modality(a).ids).intersection(pd.Index(self.modality(b).ids))))

    def summary(self) -> pd.DataFrame:
        """One row per modality: n, dim, classes, constant columns, representation flag."""
        rows = []
        first = self.names[0]
        for m in self.modalities.values():
            rows.append(
                {
                    "modality": m.name,
                    "n": m.n,
                    "dim": m.dim,
                    "classes": int(np.unique(m.labels).size),
                    "constant_columns": int(find_constant_columns(m.data).size),
                    "nan": int(np.isnan(m.data).sum()),
                    f"paired_with_{first}": self.n_paired(first, m.name),
                    "representation": m.representation,
                    "description": m.description,
                }
            )
        return pd.DataFrame(rows)

    def select(self, names: Sequence[str]) -> ModalityBundle:
        """A bundle with only ``names``."""
        names = self.check_modalities(names)
        return replace(self, modalities={n: self.modalities[n] for n in names})

    # ------------------------------------------------------------------ disk
    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ModalityBundle:
        """Read a bundle from a ``.npz`` file or a directory with ``bundle.json``."""
        p = Path(path)
        if not p.exists():
            raise BundleFormatError(f"{p}: no such file or directory.")
        if p.is_dir():
            return _load_dir(cls, p)
        return _load_npz(cls, p)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the bundle: to a single ``.npz`` when ``path`` ends in ``.npz``, otherwise to a
        directory (``bundle.json`` + ``.npy`` files). Returns the path written."""
        p = Path(path)
        arrays = self._arrays_for_disk()
        if p.suffix == ".npz":
            meta = self._meta_json(files=None)
            arrays["__meta__"] = np.array(json.dumps(meta))
            p.parent.mkdir(parents=True, exist_ok=True)
            tmp = p.with_name(p.name + ".tmp.npz")
            np.savez_compressed(tmp, **arrays)
            os.replace(tmp, p)
            return p
        p.mkdir(parents=True, exist_ok=True)
        files = {}
        for key, arr in arrays.items():
            fname = f"{key}.npy"
            np.save(p / fname, arr, allow_pickle=False)
            files[key] = fname
        meta = self._meta_json(files=files)
        for entry in list(meta["modalities"].values()) + [meta["label"]]:
            for key in ("file", "ids", "label"):
                if isinstance(entry.get(key), str):
                    entry.setdefault("sha256", {})[entry[key]] = _sha256(p / entry[key])
        (p / "bundle.json").write_text(json.dumps(meta, indent=2))
        return p

    def _shared_labels(self) -> bool:
        mods = list(self.modalities.values())
        m0 = mods[0]
        return all(
            m.n == m0.n and np.array_equal(m.labels, m0.labels) and np.array_equal(m.ids, m0.ids) for m in mods
        )

    def _arrays_for_disk(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {}
        shared = self._shared_labels()
        m0 = next(iter(self.modalities.values()))
        if shared:
            arrays["label"] = self.classes[m0.labels]
        for m in self.modalities.values():
            arrays[m.name] = m.data
            if not shared:
                arrays[f"{m.name}__label"] = self.classes[m.labels]
            if not (shared and np.array_equal(m.ids, np.arange(m.n))):
                arrays[f"{m.name}__ids"] = m.ids
        return arrays

    def _meta_json(self, files: dict[str, str] | None) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "format": "cchkit-bundle",
            "format_version": FORMAT_VERSION,
            "name": self.name,
        }
        meta.update({k: v for k, v in self.metadata.items() if k not in ("modalities", "label", "format", "format_version")})
        mods = {}
        for m in self.modalities.values():
            entry: dict[str, Any] = {"dim": m.dim, "n": m.n, "description": m.description, "representation": m.representation}
            if files is not None:
                entry["file"] = files[m.name]
                if f"{m.name}__ids" in files:
                    entry["ids"] = files[f"{m.name}__ids"]
                if f"{m.name}__label" in files:
                    entry["label"] = files[f"{m.name}__label"]
            mods[m.name] = entry
        meta["modalities"] = mods
        label: dict[str, Any] = {"names": [str(c) for c in self.classes]}
        if files is not None and "label" in files:
            label["file"] = files["label"]
        meta["label"] = label
        return meta


# ---------------------------------------------------------------------- helpers
def _anndata_source(adata: Any, src: str) -> Any:
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


def _obs_labels(column: Any, label: str) -> np.ndarray:
    """An obs column as label values; cells without a label are refused by name."""
    values = column.to_numpy() if hasattr(column, "to_numpy") else np.asarray(column)
    missing = pd.isna(values)
    if missing.any():
        raise BundleError(
            f"{int(missing.sum())} cell(s) have no {label!r} label; drop or annotate them first."
        )
    return values.astype(str) if values.dtype == object else values


def _plain(v: Any) -> Any:
    """A numpy scalar as the Python value it holds (so messages say 0, not np.int64(0))."""
    return v.item() if isinstance(v, np.generic) else v


def _label_values(v: Any, what: str) -> np.ndarray:
    arr = np.asarray(v)
    if arr.ndim == 0:
        raise BundleError(f"{what} must be a vector with one label per sample, got a scalar.")
    return arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape else arr


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name) or "__" in name or name in _RESERVED:
        raise BundleError(
            f"invalid modality name {name!r}: use letters, digits, '_', '-' or '.', no '__', and "
            f"not one of {sorted(_RESERVED)}."
        )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_sha256(path: Path, expected: Any, what: str) -> None:
    """Raise when bundle.json records a checksum for ``path`` and the file does not match it."""
    if isinstance(expected, dict):
        expected = expected.get(path.name)
    if isinstance(expected, str) and expected and _sha256(path) != expected:
        raise BundleFormatError(
            f"{path}: {what} does not match the sha256 recorded in bundle.json; the file is corrupt "
            "or was edited. Regenerate the bundle (or its bundle.json)."
        )


def _load_array(path: Path, what: str, sha256: Any = None) -> np.ndarray:
    """One checked ``.npy`` (regular file, no objects, header matching its size, checksum)."""
    check_regular_file(path, what)
    if sha256 is not None:
        _check_sha256(path, sha256, what)
    return read_npy(path, what)


#: The keys a modality entry of bundle.json may have, with their types.
_ENTRY_KEYS: dict[str, tuple[type, ...]] = {
    "file": (str,), "ids": (str,), "label": (str,), "dim": (int,), "n": (int,),
    "description": (str,), "representation": (bool,), "sha256": (str, dict),
}
_LABEL_KEYS: dict[str, tuple[type, ...]] = {"file": (str,), "names": (list,), "description": (str,), "sha256": (str, dict)}


def _check_keys(obj: dict, allowed: Mapping[str, tuple[type, ...]], where: str) -> None:
    """Refuse unknown keys (a typo must not be ignored) and values of the wrong type."""
    unknown = [k for k in obj if k not in allowed]
    if unknown:
        raise BundleFormatError(
            f"{where} has unknown key(s) {', '.join(map(repr, unknown))}; accepted keys: {', '.join(allowed)}."
        )
    for key, types in allowed.items():
        if key not in obj or obj[key] is None:
            continue
        val = obj[key]
        if isinstance(val, bool) and bool not in types or not isinstance(val, types):
            names = " or ".join("an integer" if t is int else f"a {t.__name__}" for t in types)
            raise BundleFormatError(f"{where}: {key!r} must be {names}, got {val!r:.60}.")


def _check_bundle_json(meta: Any, meta_path: Path) -> None:
    if not isinstance(meta, dict) or not isinstance(meta.get("modalities"), dict) or not meta["modalities"]:
        raise BundleFormatError(f"{meta_path} has no 'modalities' object; it is not a cchkit bundle.json.")
    version = meta.get("format_version", FORMAT_VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise BundleFormatError(
            f"{meta_path} has format_version {version!r}; this cchkit reads version {FORMAT_VERSION}. Upgrade cchkit."
        )
    for name, entry in meta["modalities"].items():
        _check_name(name)
        if not isinstance(entry, dict):
            raise BundleFormatError(f"{meta_path}: modality {name!r} entry is not an object.")
        _check_keys(entry, _ENTRY_KEYS, f"{meta_path}: modality {name!r}")
    label_meta = meta.get("label", {})
    if not isinstance(label_meta, dict):
        raise BundleFormatError(f"{meta_path}: 'label' must be an object, got {label_meta!r:.60}.")
    _check_keys(label_meta, _LABEL_KEYS, f"{meta_path}: 'label'")
    names = label_meta.get("names")
    if names is not None and not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in names):
        raise BundleFormatError(f"{meta_path}: 'label.names' must be a list of class names (strings).")


def _load_dir(cls: type[ModalityBundle], p: Path) -> ModalityBundle:
    meta_path = p / "bundle.json"
    if not meta_path.exists():
        raise BundleFormatError(
            f"{p} is a directory without bundle.json, so it is not a cchkit bundle. Write one with "
            "ModalityBundle.save(dir) or `cchkit import`, or pass an .npz file."
        )
    check_regular_file(meta_path, "bundle.json")
    meta = read_json(meta_path.read_bytes(), str(meta_path))
    _check_bundle_json(meta, meta_path)
    label_meta = meta.get("label") or {}
    arrays: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    ids: dict[str, np.ndarray] = {}
    shared_label = None
    if label_meta.get("file"):
        shared_label = _load_array(_inside(p, label_meta["file"]), "the label array", label_meta.get("sha256"))
    descriptions = {}
    reps = []
    for name, entry in meta["modalities"].items():
        fname = entry.get("file") or f"{name}.npy"
        arr = _load_array(_inside(p, fname), f"modality {name!r}", entry.get("sha256"))
        if arr.ndim == 1:
            arr = arr[:, None]
        for key, actual in (("dim", arr.shape[1] if arr.ndim == 2 else None), ("n", arr.shape[0])):
            if key in entry and entry[key] != actual:
                raise BundleFormatError(
                    f"{meta_path} says modality {name!r} has {key}={entry[key]}, but {fname} has "
                    f"{actual}; the bundle is inconsistent (regenerate bundle.json)."
                )
        arrays[name] = arr
        if entry.get("label"):
            labels[name] = _load_array(_inside(p, entry["label"]), f"labels of {name!r}", entry.get("sha256"))
        elif shared_label is not None:
            labels[name] = shared_label
        else:
            raise BundleError(f"{meta_path}: no labels for modality {name!r} (no 'label' file).")
        if entry.get("ids"):
            ids[name] = _load_array(_inside(p, entry["ids"]), f"ids of {name!r}", entry.get("sha256"))
        descriptions[name] = str(entry.get("description", ""))
        if entry.get("representation"):
            reps.append(name)
    names = label_meta.get("names")
    labels = {k: _decode_names(v, names) for k, v in labels.items()}
    metadata = {k: v for k, v in meta.items() if k not in ("modalities", "label", "format", "format_version", "name", "sha256")}
    return cls.from_arrays(
        arrays,
        labels=labels,
        ids={k: ids.get(k, np.arange(arrays[k].shape[0])) for k in arrays},
        name=str(meta.get("name", p.name)),
        descriptions=descriptions,
        representations=reps,
        metadata=metadata,
    )


def _decode_names(codes: np.ndarray, names: Sequence[str] | None) -> np.ndarray:
    """Map stored integer codes to class names when bundle.json lists them."""
    if names is None or codes.dtype.kind not in "iu":
        return codes
    if codes.size and (codes.min() < 0 or codes.max() >= len(names)):
        raise BundleFormatError("label codes fall outside the label names listed in bundle.json.")
    return np.asarray([str(v) for v in names], dtype=str)[codes]


def _inside(root: Path, fname: str) -> Path:
    target = (root / fname).resolve()
    if root.resolve() not in target.parents:
        raise BundleFormatError(f"bundle.json points outside its directory ({fname!r}); refused.")
    return target


def _npz_meta(content: dict[str, np.ndarray], p: Path) -> dict[str, Any]:
    """The ``__meta__`` JSON object of an .npz (empty without one), checked."""
    if "__meta__" not in content:
        return {}
    raw = content.pop("__meta__")
    if raw.ndim != 0 or raw.dtype.kind not in "US":
        raise BundleFormatError(f"{p}: the __meta__ entry must be one JSON string.")
    meta = read_json(str(raw), f"{p}: the __meta__ entry")
    if not isinstance(meta, dict):
        raise BundleFormatError(f"{p}: the __meta__ entry must be a JSON object.")
    mods = meta.get("modalities", {})
    if not isinstance(mods, dict) or not all(isinstance(v, dict) for v in mods.values()):
        raise BundleFormatError(f"{p}: __meta__ 'modalities' must be an object of objects.")
    for name, entry in mods.items():
        _check_keys(entry, _ENTRY_KEYS, f"{p}: __meta__ modality {name!r}")
    return meta


def _check_npz_keys(content: Mapping[str, np.ndarray], p: Path) -> list[str]:
    """The modality names of an .npz; any key that is not a bundle key is refused by name."""
    mod_names = [k for k in content if "__" not in k and k not in _RESERVED]
    allowed = set(mod_names) | {"label", "__meta__"} | {f"{m}__{s}" for m in mod_names for s in ("ids", "label")}
    unknown = [k for k in content if k not in allowed]
    if unknown:
        raise BundleFormatError(
            f"{p} has key(s) that are not bundle keys: {', '.join(map(repr, sorted(unknown)))}. Accepted keys: "
            "one per modality (its matrix), 'label', '<modality>__ids', '<modality>__label' and '__meta__'; "
            f"here: {', '.join(sorted(allowed))}."
        )
    for m in mod_names:
        _check_name(m)
    if not mod_names:
        raise BundleFormatError(f"{p} has no modality arrays (keys: {sorted(content)}).")
    return mod_names


def _load_npz(cls: type[ModalityBundle], p: Path) -> ModalityBundle:
    content = read_npz(p)
    meta = _npz_meta(content, p)
    mod_names = _check_npz_keys(content, p)
    labels: dict[str, np.ndarray] = {}
    for m in mod_names:
        if f"{m}__label" in content:
            labels[m] = content[f"{m}__label"]
        elif "label" in content:
            labels[m] = content["label"]
        else:
            raise BundleError(
                f"{p} has no 'label' array (keys: {sorted(content)}); cchkit needs a class label per "
                "sample: add a 'label' key (or '<modality>__label')."
            )
    ids = {m: content.get(f"{m}__ids", np.arange(np.shape(content[m])[0] if content[m].ndim else 1)) for m in mod_names}
    mods_meta = meta.get("modalities", {})
    return cls.from_arrays(
        {m: content[m] for m in mod_names},
        labels=labels,
        ids=ids,
        name=str(meta.get("name", p.stem)),
        descriptions={m: str(mods_meta.get(m, {}).get("description", "")) for m in mod_names},
        representations=[m for m in mod_names if mods_meta.get(m, {}).get("representation")],
        metadata={k: v for k, v in meta.items() if k not in ("modalities", "label", "format", "format_version", "name")},
    )


def load_bundle(path_or_name: str | os.PathLike[str] | ModalityBundle) -> ModalityBundle:
    """A bundle from a path (``.npz`` or directory) or the name of a bundled dataset."""
    if isinstance(path_or_name, ModalityBundle):
        return path_or_name
    p = Path(path_or_name)
    if p.exists():
        return ModalityBundle.load(p)
    from . import datasets

    if str(path_or_name) in datasets.list():
        return datasets.load(str(path_or_name))
    raise BundleFormatError(
        f"{path_or_name!r} is neither a file or directory nor a bundled dataset "
        f"({', '.join(datasets.list())})."
    )


_ = CchkitError  # re-exported for convenience in type hints
