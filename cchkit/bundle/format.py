"""The bundle file format: reading and writing the arrays and ``bundle.json`` of a bundle.

On disk a bundle is either

* a single ``.npz`` file: one key per modality (its matrix), ``label`` (labels shared by all
  modalities, row i = sample i), optional ``<modality>__ids`` and ``<modality>__label`` for
  modalities with their own ids / labels, and an optional ``__meta__`` JSON string; or
* a directory with ``bundle.json`` (name, modalities, dims, label names, source, licence,
  format version, sha256 of every file) and one ``.npy`` per array.

Both are read without unpickling (:mod:`cchkit._safe_arrays`): a file that needs it is refused.
This module knows nothing of :class:`~cchkit.bundle.ModalityBundle`: it reads files into
:class:`BundleParts` and writes arrays and metadata; the model builds and validates the bundle.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._safe_arrays import check_regular_file, read_json, read_npy, read_npz
from ..exceptions import BundleError, BundleFormatError

__all__ = ["FORMAT_VERSION", "BundleParts", "read_bundle_parts", "write_bundle_files", "check_name", "RESERVED"]

#: Version of the on-disk format written by :func:`write_bundle_files`.
FORMAT_VERSION = 1
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
#: Names a modality may not have (keys of the format).
RESERVED = frozenset({"label", "ids", "__meta__"})


@dataclass
class BundleParts:
    """What a bundle file holds, before the model validates it: per-modality matrices, labels
    (values, class names decoded) and ids, and the bundle's metadata."""

    arrays: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]
    ids: dict[str, np.ndarray]
    name: str = ""
    descriptions: dict[str, str] = field(default_factory=dict)
    representations: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


def read_bundle_parts(path: str | os.PathLike[str]) -> BundleParts:
    """Read a ``.npz`` bundle file or a bundle directory (with ``bundle.json``)."""
    p = Path(path)
    if not p.exists():
        raise BundleFormatError(f"{p}: no such file or directory.")
    if p.is_dir():
        return _read_dir(p)
    return _read_npz(p)


def write_bundle_files(
    path: str | os.PathLike[str], arrays: dict[str, np.ndarray], meta_for: Callable[[dict[str, str] | None], dict]
) -> Path:
    """Write ``arrays`` to one ``.npz`` (when ``path`` ends in ``.npz``, atomically) or to a
    directory of ``.npy`` files with ``bundle.json``; ``meta_for(files)`` gives the metadata
    (``files`` maps array keys to file names, None for an .npz). Returns the path written."""
    p = Path(path)
    header = {"format": "cchkit-bundle", "format_version": FORMAT_VERSION}
    if p.suffix == ".npz":
        arrays = {**arrays, "__meta__": np.array(json.dumps({**header, **meta_for(None)}))}
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f".cchkit-{os.getpid()}.tmp.npz")  # short: p's own name may be at the length limit
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, p)
        return p
    p.mkdir(parents=True, exist_ok=True)
    files = {}
    for key, arr in arrays.items():
        fname = f"{key}.npy"
        np.save(p / fname, arr, allow_pickle=False)
        files[key] = fname
    meta = {**header, **meta_for(files)}
    for entry in list(meta["modalities"].values()) + [meta["label"]]:
        for key in ("file", "ids", "label"):
            if isinstance(entry.get(key), str):
                entry.setdefault("sha256", {})[entry[key]] = _sha256(p / entry[key])
    (p / "bundle.json").write_text(json.dumps(meta, indent=2))
    return p


def check_name(name: str) -> None:
    """Refuse a modality name that cannot be a file or an .npz key of the format."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or "__" in name or name in RESERVED:
        raise BundleError(
            f"invalid modality name {name!r}: use letters, digits, '_', '-' or '.', no '__', and "
            f"not one of {sorted(RESERVED)}."
        )



def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_sha256(path: Path, expected: Any, what: str, fname: str) -> None:
    """Raise when bundle.json records a checksum for ``fname`` (the name it gives, looked up as
    written even when ``path`` is a link to another name) and the file does not match it."""
    if isinstance(expected, dict):
        expected = expected.get(fname, expected.get(Path(fname).name))
    if isinstance(expected, str) and expected and _sha256(path) != expected:
        raise BundleFormatError(
            f"{path}: {what} does not match the sha256 recorded in bundle.json; the file is corrupt "
            "or was edited. Regenerate the bundle (or its bundle.json)."
        )


def _load_array(root: Path, fname: str, what: str, sha256: Any = None) -> np.ndarray:
    """One checked ``.npy`` of the bundle directory ``root`` (inside it, a regular file, no
    objects, header matching its size, checksum)."""
    path = _inside(root, fname)
    check_regular_file(path, what)
    if sha256 is not None:
        _check_sha256(path, sha256, what, fname)
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
        check_name(name)
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
    if names is not None and len({str(v) for v in names}) < len(names):
        dup = next(str(v) for i, v in enumerate(names) if str(v) in {str(w) for w in names[:i]})
        raise BundleFormatError(
            f"{meta_path}: 'label.names' lists class {dup!r} twice (as written or as text); two label codes would "
            "become one class. Give every class a distinct name."
        )
    if "name" in meta and not isinstance(meta["name"], str):
        raise BundleFormatError(f"{meta_path}: 'name' must be a string, got {meta['name']!r:.60}.")
    for entry_name, entry in [*meta["modalities"].items(), ("label", label_meta)]:
        for key in ("file", "ids", "label"):
            if key in entry and isinstance(entry[key], str) and (not entry[key] or "\x00" in entry[key]):
                raise BundleFormatError(
                    f"{meta_path}: {entry_name!r} has {key!r} = {entry[key]!r:.40}, which is not a file name."
                )


def _read_dir(p: Path) -> BundleParts:
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
        shared_label = _load_array(p, label_meta["file"], "the label array", label_meta.get("sha256"))
    descriptions = {}
    reps = []
    for name, entry in meta["modalities"].items():
        fname = entry.get("file") or f"{name}.npy"
        arr = _load_array(p, fname, f"modality {name!r}", entry.get("sha256"))
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
            labels[name] = _load_array(p, entry["label"], f"labels of {name!r}", entry.get("sha256"))
        elif shared_label is not None:
            labels[name] = shared_label
        else:
            raise BundleError(f"{meta_path}: no labels for modality {name!r} (no 'label' file).")
        if entry.get("ids"):
            ids[name] = _load_array(p, entry["ids"], f"ids of {name!r}", entry.get("sha256"))
        descriptions[name] = str(entry.get("description", ""))
        if entry.get("representation"):
            reps.append(name)
    names = label_meta.get("names")
    labels = {k: _decode_names(v, names) for k, v in labels.items()}
    metadata = {k: v for k, v in meta.items() if k not in ("modalities", "label", "format", "format_version", "name", "sha256")}
    return BundleParts(
        arrays=arrays,
        labels=labels,
        ids={k: ids.get(k, np.arange(arrays[k].shape[0])) for k in arrays},
        name=str(meta.get("name", p.name)),
        descriptions=descriptions,
        representations=reps,
        metadata=metadata,
    )


def _decode_names(codes: np.ndarray, names: Sequence[str] | None) -> np.ndarray:
    """Map stored integer codes to class names when bundle.json lists them (-1, an unlabeled
    row, becomes the empty name, which the model reads as a missing label)."""
    if names is None or codes.dtype.kind not in "iu":
        return _unlabeled_as_missing(codes)
    if codes.size and (codes.min() < UNLABELED_CODE or codes.max() >= len(names)):
        raise BundleFormatError("label codes fall outside the label names listed in bundle.json.")
    return np.asarray(["", *[str(v) for v in names]], dtype=str)[codes + 1]


#: On disk, an integer label of -1 marks a row without a label (text labels use the empty string).
UNLABELED_CODE = -1


def _unlabeled_as_missing(labels: np.ndarray) -> np.ndarray:
    """Integer labels with -1 (unlabeled rows) as floats with NaN, which the model reads as missing."""
    if labels.dtype.kind not in "iu" or not (labels == UNLABELED_CODE).any():
        return labels
    out = labels.astype(np.float64)
    out[labels == UNLABELED_CODE] = np.nan
    return out


def _inside(root: Path, fname: str) -> Path:
    try:
        target = (root / fname).resolve()
    except (ValueError, OSError) as exc:
        raise BundleFormatError(f"bundle.json names a file {fname!r:.60} that cannot be opened ({exc}).") from None
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
    mod_names = [k for k in content if "__" not in k and k not in RESERVED]
    allowed = set(mod_names) | {"label", "__meta__"} | {f"{m}__{s}" for m in mod_names for s in ("ids", "label")}
    unknown = [k for k in content if k not in allowed]
    if unknown:
        raise BundleFormatError(
            f"{p} has key(s) that are not bundle keys: {', '.join(map(repr, sorted(unknown)))}. Accepted keys: "
            "one per modality (its matrix), 'label', '<modality>__ids', '<modality>__label' and '__meta__'; "
            f"here: {', '.join(sorted(allowed))}."
        )
    for m in mod_names:
        check_name(m)
    if not mod_names:
        raise BundleFormatError(f"{p} has no modality arrays (keys: {sorted(content)}).")
    return mod_names


def _read_npz(p: Path) -> BundleParts:
    content = read_npz(p)
    meta = _npz_meta(content, p)
    mod_names = _check_npz_keys(content, p)
    labels: dict[str, np.ndarray] = {}
    for m in mod_names:
        if f"{m}__label" in content:
            labels[m] = _unlabeled_as_missing(content[f"{m}__label"])
        elif "label" in content:
            labels[m] = _unlabeled_as_missing(content["label"])
        else:
            raise BundleError(
                f"{p} has no 'label' array (keys: {sorted(content)}); cchkit needs a class label per "
                "sample: add a 'label' key (or '<modality>__label')."
            )
    ids = {m: content.get(f"{m}__ids", np.arange(np.shape(content[m])[0] if content[m].ndim else 1)) for m in mod_names}
    mods_meta = meta.get("modalities", {})
    return BundleParts(
        arrays={m: content[m] for m in mod_names},
        labels=labels,
        ids=ids,
        name=str(meta.get("name", p.stem)),
        descriptions={m: str(mods_meta.get(m, {}).get("description", "")) for m in mod_names},
        representations=[m for m in mod_names if mods_meta.get(m, {}).get("representation")],
        metadata={k: v for k, v in meta.items() if k not in ("modalities", "label", "format", "format_version", "name")},
    )
