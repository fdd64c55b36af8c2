"""The modality bundle: cchkit's one data model.

A :class:`ModalityBundle` is a set of named modalities, each an (n_m, d_m) float matrix whose
rows carry a sample id and a class label. Two modalities are *paired* where they share sample
ids; the CCH score needs paired samples, the unpaired distiller does not. Files are read and
written by :mod:`.format`; this module builds and validates the bundle in memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import UNLABELED, as_float_matrix, as_labels, find_constant_columns, plain, to_numpy
from .._warn import warn_user
from ..exceptions import BundleError, InputError, NotPairedError, UnknownModalityError
from .format import BundleParts, check_name, read_bundle_parts, write_bundle_files
from .sources import anndata_source, obs_labels

__all__ = ["Modality", "ModalityBundle", "PairedView", "MIN_SAMPLES", "column_prefix"]

#: Fewest samples a modality may have: below this no estimate or split is meaningful.
MIN_SAMPLES = 10


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


def column_prefix(column: str, sep: str) -> str | None:
    """The modality a DataFrame column belongs to (see :meth:`ModalityBundle.from_dataframe`), or
    None when it has no ``sep``."""
    if sep not in column:
        return None
    head, tail = column.rsplit(sep, 1)
    return head if tail.isdigit() and head else column.split(sep, 1)[0]


@dataclass(repr=False)
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
        if not any((m.labels != UNLABELED).any() for m in self.modalities.values()):
            raise BundleError(
                "no row has a label (every label is missing: NaN, None, an empty cell or -1); label rows of at "
                "least 2 classes (the rest may stay unlabeled)."
            )
        if len(self.classes) < 2:
            raise BundleError(
                f"the labelled rows have {len(self.classes)} class(es); at least 2 classes are needed "
                "(with one class there is nothing to predict and I(H; Y) = 0)."
            )
        for m in self.modalities.values():
            check_name(m.name)
            if m.n < MIN_SAMPLES:
                raise BundleError(
                    f"modality {m.name!r} has {m.n} sample(s); at least {MIN_SAMPLES} are needed."
                )
            if m.labels.shape != (m.n,) or m.ids.shape != (m.n,):
                raise BundleError(f"modality {m.name!r}: labels/ids do not match its {m.n} rows.")
            if m.labels.min() < UNLABELED or m.labels.max() >= len(self.classes):
                raise BundleError(f"modality {m.name!r}: label codes outside 0..{len(self.classes) - 1}.")
            if pd.Index(m.ids).has_duplicates:
                dup = pd.Index(m.ids)[pd.Index(m.ids).duplicated()][0]
                raise BundleError(f"modality {m.name!r} has duplicated sample id {plain(dup)!r}; ids must be unique.")

    def __repr__(self) -> str:
        mods = ", ".join(f"{m.name}({m.n}x{m.dim}{self._unlabeled_note(m.name)})" for m in self.modalities.values())
        return f"ModalityBundle({self.name or 'unnamed'!s}: {len(self.classes)} classes; {mods})"

    def _unlabeled_note(self, name: str) -> str:
        unl = self.n_unlabeled(name)
        return f", {unl:,} unlabeled" if unl else ""

    def _repr_html_(self) -> str:
        import html

        rows = "".join(f"<tr><td>{html.escape(m.name)}</td><td>{m.n}</td><td>{self.n_unlabeled(m.name)}</td>"
                       f"<td>{m.dim}</td><td>{html.escape(m.description[:80])}</td></tr>"
                       for m in self.modalities.values())
        return (f"<p><b>ModalityBundle</b> {html.escape(self.name or 'unnamed')}: {len(self.classes)} classes</p>"
                "<table><tr><th>modality</th><th>samples</th><th>unlabeled</th><th>dims</th><th>description</th>"
                f"</tr>{rows}</table>")

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
        labels, ids = _align_pandas(arrays, labels, ids)
        descriptions = dict(descriptions or {})
        reps = set(representations)
        unknown = reps - set(arrays)
        if unknown:
            raise UnknownModalityError(f"representations names unknown modalities: {sorted(unknown)}.")
        codes_of, classes = _label_codes(arrays, labels)
        modalities: dict[str, Modality] = {}
        for mname, arr in arrays.items():
            check_name(mname)
            try:
                data = as_float_matrix(arr, f"modality {mname!r}")
            except InputError as exc:
                raise BundleError(str(exc)) from None
            n = data.shape[0]
            codes = codes_of[mname]
            if codes.shape[0] != n:
                raise BundleError(
                    f"modality {mname!r} has {n} rows but its labels have {codes.shape[0]}; every row needs "
                    "exactly one label."
                )
            modalities[mname] = Modality(
                name=mname, data=data, labels=codes, ids=_modality_ids(mname, n, ids, paired),
                description=descriptions.get(mname, ""), representation=mname in reps,
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
        their prefix: a column ``<modality><sep><index>`` (the index all digits) belongs to
        everything before its last ``sep`` (``rna_seq_0, rna_seq_1, atac_0`` -> rna_seq, atac);
        any other column to what precedes its first ``sep`` (``audio_mfcc`` -> audio).
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
                prefix = column_prefix(str(col), sep)
                if not prefix:
                    raise BundleError(
                        f"column {col!r} has no '<modality>{sep}' prefix; rename it or pass a "
                        "modalities mapping."
                    )
                groups.setdefault(prefix, []).append(col)
        else:
            groups = {k: list(v) for k, v in modalities.items()}
            _check_mapping(groups, df, used)
        if not groups:
            raise BundleError("the table has no feature columns besides the label.")
        if len(df) == 0:
            raise BundleError("the table has a header but no rows; every sample is one row.")
        arrays = {}
        for mname, cols in groups.items():
            block = df[cols]
            complex_cols = [c for c in cols if pd.api.types.is_complex_dtype(block[c])]
            if complex_cols:
                raise BundleError(f"modality {mname!r} has complex columns {complex_cols[:5]}; features must be real "
                                  "numbers (split them into real and imaginary parts, or take the modulus).")
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
        arrays = {mname: anndata_source(adata, src) for mname, src in modalities.items()}
        ids = np.asarray(adata.obs_names).astype(str)
        return cls.from_arrays(arrays, labels=obs_labels(adata.obs[label], label), ids=ids, name=name)

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
            arrays[mname], labels[mname], ids[mname] = mod.X, obs_labels(column, label), obs_ids
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
        bad = 0
        for nm in names:
            m = self.modality(nm)
            idx = pd.Index(m.ids).get_indexer(common_ids)
            data[nm] = m.data[idx]
            lab = m.labels[idx]
            if labels is None:
                labels = lab
            else:
                # a sample labelled in one modality and not in another has the one label it was given
                both = (labels != UNLABELED) & (lab != UNLABELED)
                bad = int((labels[both] != lab[both]).sum())
                labels = np.maximum(labels, lab)
            if bad:
                raise BundleError(
                    f"{bad} paired samples have different labels in {names[0]!r} and {nm!r}; "
                    "sample ids must refer to the same sample in every modality."
                )
        assert labels is not None
        return PairedView(data=data, labels=labels, ids=common_ids)

    def labelled_mask(self, name: str) -> np.ndarray:
        """Which rows of modality ``name`` carry a label (unlabeled rows have code -1)."""
        return self.modality(name).labels != UNLABELED

    def n_unlabeled(self, name: str | None = None) -> int:
        """Rows without a label, in modality ``name`` or in all modalities."""
        names = [name] if name is not None else self.names
        return int(sum((~self.labelled_mask(n)).sum() for n in names))

    def labelled(self) -> ModalityBundle:
        """The bundle restricted to its labelled rows (itself when every row has a label)."""
        if not self.n_unlabeled():
            return self
        mods = {}
        for n, m in self.modalities.items():
            keep = m.labels != UNLABELED
            if int(keep.sum()) < MIN_SAMPLES:
                raise BundleError(f"modality {n!r} has {int(keep.sum())} labelled row(s); at least {MIN_SAMPLES} "
                                  "are needed here.")
            mods[n] = replace(m, data=m.data[keep], labels=m.labels[keep], ids=m.ids[keep])
        return replace(self, modalities=mods)

    def labelled_for(self, what: str) -> ModalityBundle:
        """:meth:`labelled`, with one warning that says how many unlabeled rows ``what`` sets aside."""
        counts = {name: self.n_unlabeled(name) for name in self.names}
        if any(counts.values()):
            where = (f"{next(iter(counts.values())):,} in each modality" if len(set(counts.values())) == 1 else
                     ", ".join(f"{k} {v:,}" for k, v in counts.items() if v))
            # the default validate and advise take the data's unlabeled rows as they are, no option needed
            warn_user("%s uses labelled rows only: unlabeled rows set aside (%s); validate and advise use them as "
                      "unlabeled rows.", what, where)
        return self.labelled()

    def n_paired(self, a: str, b: str) -> int:
        """How many sample ids modalities ``a`` and ``b`` share."""
        return int(len(pd.Index(self.modality(a).ids).intersection(pd.Index(self.modality(b).ids))))

    def digest(self) -> str:
        """SHA-256 of the bundle's content (each modality's name, data, labels and ids, and the
        class names), for provenance: the same data give the same digest wherever it is read from."""
        import hashlib

        h = hashlib.sha256()
        for name in sorted(self.modalities):
            m = self.modalities[name]
            h.update(name.encode("utf-8"))
            h.update(np.ascontiguousarray(m.data, dtype=np.float64).tobytes())
            h.update(np.ascontiguousarray(m.labels, dtype=np.int64).tobytes())
            h.update(m.ids.dtype.kind.encode("ascii"))  # text ids "1" and integer ids 1 pair differently
            h.update("\x1f".join(map(str, m.ids)).encode("utf-8"))
        h.update("\x1f".join(map(str, self.classes)).encode("utf-8"))
        return h.hexdigest()

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
                    "classes": int(np.unique(m.labels[m.labels != UNLABELED]).size),
                    "unlabeled": int((m.labels == UNLABELED).sum()),
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
        return cls.from_parts(read_bundle_parts(path))

    @classmethod
    def from_parts(cls, parts: BundleParts) -> ModalityBundle:
        """Build (and validate) a bundle from what :func:`~cchkit.bundle.format.read_bundle_parts` read."""
        return cls.from_arrays(
            parts.arrays,
            labels=parts.labels,
            ids=parts.ids,
            name=parts.name,
            descriptions=parts.descriptions,
            representations=parts.representations,
            metadata=parts.metadata,
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the bundle: to a single ``.npz`` when ``path`` ends in ``.npz``, otherwise to a
        directory (``bundle.json`` + ``.npy`` files). Returns the path written."""
        return write_bundle_files(path, self._arrays_for_disk(), self._meta_json)

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
            arrays["label"] = self._label_values(m0.labels)
        for m in self.modalities.values():
            arrays[m.name] = m.data
            if not shared:
                arrays[f"{m.name}__label"] = self._label_values(m.labels)
            if not (shared and np.array_equal(m.ids, np.arange(m.n))):
                arrays[f"{m.name}__ids"] = m.ids
        return arrays

    def _label_values(self, codes: np.ndarray) -> np.ndarray:
        """Label values as written to disk: an unlabeled row is -1 (numeric classes) or "" (text)."""
        if not (codes == UNLABELED).any():
            return self.classes[codes]
        if self.classes.dtype.kind in "iub":
            if (self.classes == UNLABELED).any():
                raise BundleError("the bundle has a class -1 and unlabeled rows; -1 marks an unlabeled row on disk. "
                                  "Recode the classes before saving.")
            return np.where(codes == UNLABELED, UNLABELED, self.classes[np.maximum(codes, 0)]).astype(np.int64)
        return np.where(codes == UNLABELED, "", self.classes[np.maximum(codes, 0)].astype(str))

    def _meta_json(self, files: dict[str, str] | None) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": self.name}
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


def _label_values(v: Any, what: str) -> np.ndarray:
    """Labels as a vector (an (n, 1) or (1, n) column is flattened); other shapes are refused."""
    arr = np.asarray(v)
    if arr.ndim == 0:
        raise BundleError(f"{what} must be a vector with one label per sample, got a scalar.")
    arr = arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape else arr
    if arr.ndim != 1:
        raise BundleError(f"{what} must be a vector with one label per sample, got shape {arr.shape}.")
    return arr


def _label_codes(arrays: Mapping[str, Any], labels: Any) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Integer codes of each modality's labels (one shared vector or one per modality), and
    the classes they index (one coding for the whole bundle)."""
    if isinstance(labels, Mapping):
        missing = set(arrays) - set(labels)
        if missing:
            raise BundleError(f"labels are missing for modalities {sorted(missing)}.")
        raw = {k: _label_values(to_numpy(labels[k], f"labels of {k!r}"), f"labels of {k!r}") for k in arrays}
        _check_label_kinds(raw)
        codes_all, classes = as_labels(np.concatenate([raw[k] for k in arrays]), "labels", allow_missing=True)
        bounds = np.cumsum([0] + [raw[k].shape[0] for k in arrays])
        return {k: codes_all[bounds[i] : bounds[i + 1]] for i, k in enumerate(arrays)}, classes
    codes_all, classes = as_labels(_label_values(to_numpy(labels, "labels"), "labels"), "labels", allow_missing=True)
    return {k: codes_all for k in arrays}, classes


def _check_mapping(groups: Mapping[str, list[str]], df: pd.DataFrame, reserved: set[str]) -> None:
    """A modality mapping names existing columns, none twice, and never the label or id column
    (a feature that is the label would make that modality a perfect, leaking teacher)."""
    missing = [c for cols in groups.values() for c in cols if c not in df.columns]
    if missing:
        raise BundleError(f"the modality mapping names columns the table lacks: {missing[:10]}.")
    for mname, cols in groups.items():
        leak = [c for c in cols if c in reserved]
        if leak:
            raise BundleError(
                f"modality {mname!r} lists {leak[0]!r}, the label or id column, as a feature; that would leak "
                "the answer into the features. Remove it from the mapping."
            )
        twice = sorted({c for c in cols if cols.count(c) > 1})
        if twice:
            raise BundleError(f"modality {mname!r} lists column {twice[0]!r} more than once in the mapping.")


def _is_pandas(a: Any) -> bool:
    return isinstance(a, (pd.DataFrame, pd.Series))


def _align_pandas(arrays: Mapping[str, Any], labels: Any, ids: Any) -> tuple[Any, Any]:
    """Labels and ids for pandas inputs, paired by their index rather than by position.

    DataFrames whose indexes differ (rows reordered, other samples) are paired on the index
    values; a labels Series is aligned to each modality's index. Explicit ``ids`` win. Mixing an
    indexed DataFrame with a plain array is refused: how their rows pair is unknown.
    """
    if ids is not None:
        return labels, ids
    frames = {k: a for k, a in arrays.items() if _is_pandas(a)}
    if not frames:
        return labels, ids
    indexes = {k: a.index for k, a in frames.items()}
    first = next(iter(indexes.values()))
    same = len(frames) == len(arrays) and all(ix.equals(first) for ix in indexes.values())
    default = all(ix.equals(pd.RangeIndex(len(ix))) for ix in indexes.values())
    if same or (default and not _is_pandas(labels)):
        if _is_pandas(labels) and not labels.index.equals(first):
            labels = _reindexed(labels, first, "labels")
        return labels, ids
    if len(frames) < len(arrays):
        plain = next(k for k in arrays if k not in frames)
        raise BundleError(
            f"modality {plain!r} is a plain array while {next(iter(frames))!r} is a pandas object with its own "
            "index, so how their rows pair is unknown; pass ids=... (or DataFrames for every modality)."
        )
    if isinstance(labels, Mapping):
        labels = {k: _reindexed(v, indexes[k], f"labels of {k!r}") if _is_pandas(v) else v for k, v in labels.items()}
    elif _is_pandas(labels):
        labels = {k: _reindexed(labels, ix, "labels") for k, ix in indexes.items()}
    else:
        raise BundleError(
            "the modalities' DataFrames have different indexes (rows in another order, or other samples), so "
            "a plain label array cannot be matched to their rows; pass the labels as a Series with the same "
            "index, or ids=..."
        )
    return labels, {k: ix.to_numpy() for k, ix in indexes.items()}


def _reindexed(series: Any, index: Any, what: str) -> np.ndarray:
    """``series`` in the order of ``index``; an index value it lacks is refused."""
    missing = index.difference(series.index)
    if len(missing):
        raise BundleError(f"{what} have no value for index {missing[0]!r} ({len(missing)} row(s) in all).")
    return series.reindex(index).to_numpy()


def _label_kind(v: np.ndarray) -> str:
    """"number" or "text": what a modality's labels are (object arrays by their elements)."""
    if v.dtype.kind in "biuf":
        return "number"
    if v.dtype.kind in "US":
        return "text"
    kinds = {"number" if isinstance(x, (int, float, np.number)) and not isinstance(x, bool) else "text" for x in v}
    return kinds.pop() if len(kinds) == 1 else "mixed"


def _check_label_kinds(raw: Mapping[str, np.ndarray]) -> None:
    """Refuse modalities whose labels are numbers in one and text in another: 0.0 and "0" would
    be two classes, and no class of one modality would match a class of the other."""
    kinds = {k: _label_kind(v) for k, v in raw.items()}
    if len(set(kinds.values())) > 1:
        desc = ", ".join(f"{k}: {v}" for k, v in kinds.items())
        raise BundleError(
            f"the modalities' labels are of different kinds ({desc}); convert them to one kind (all strings "
            "or all integers) so that the same class has the same label everywhere."
        )


def _modality_ids(mname: str, n: int, ids: Any, paired: bool) -> np.ndarray:
    """The sample ids of one modality: given, or the row number (``paired``), or private ones."""
    if ids is None:
        return np.arange(n) if paired else np.array([f"{mname}:{i}" for i in range(n)])
    src = ids[mname] if isinstance(ids, Mapping) else ids
    mids = to_numpy(src, f"ids of {mname!r}").reshape(-1)
    missing = pd.isna(mids) if mids.dtype.kind in "fOc" else np.zeros(mids.shape, bool)
    if missing.any():
        raise BundleError(
            f"modality {mname!r} has {int(missing.sum())} missing (NaN/None) sample id(s), e.g. row "
            f"{int(np.flatnonzero(missing)[0])}; every sample needs an id (a missing id would pair with any other)."
        )
    if mids.dtype == object:
        mids = mids.astype(str)
    if mids.shape[0] != n:
        raise BundleError(f"modality {mname!r} has {n} rows but {mids.shape[0]} ids.")
    return mids
