"""Bundled real data (files under ``cchkit/datasets/data/``) and synthetic generators with closed-form truth.

>>> import cchkit
>>> cchkit.datasets.list()        # doctest: +SKIP
['digits-avt', 'mfeat']
>>> bundle = cchkit.datasets.load("digits-avt")   # doctest: +SKIP
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..bundle import ModalityBundle
from ..exceptions import BundleFormatError, InputError

__all__ = ["list", "load", "load_bundle", "in_memory_kind", "data_dir", "DEFAULT_DATASET"]

#: The bundle `cchkit rank` uses when no ``--data`` is given.
DEFAULT_DATASET = "digits-avt"


def data_dir() -> Path:
    """Where the bundled data lives: ``$CCHKIT_DATA_DIR`` if set, else the package's own data
    (``cchkit/datasets/data``, shipped in the wheel; found with :mod:`importlib.resources`)."""
    env = os.environ.get("CCHKIT_DATA_DIR")
    if env:
        if not Path(env).is_dir():
            raise BundleFormatError(f"CCHKIT_DATA_DIR={env!r} is not a directory; point it at a folder of bundles.")
        return Path(env)
    from importlib.resources import files

    return Path(str(files(__package__) / "data"))


def list() -> builtins.list[str]:  # noqa: A001 - mirrors the documented API cchkit.datasets.list()
    """Names of the bundled datasets (directories of ``data/`` holding a ``bundle.json``)."""
    root = data_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "bundle.json").is_file())


def load(name: str) -> ModalityBundle:
    """Load a bundled dataset by name (see :func:`list`)."""
    names = list()
    if name not in names:
        raise BundleFormatError(
            f"no bundled dataset named {name!r}; available: {', '.join(names) or 'none (the package data is missing)'}."
        )
    return ModalityBundle.load(data_dir() / name)


def load_bundle(path_or_name: Any, *, label: str = "label", modalities: Any = None,
                sep: str | None = None) -> ModalityBundle:
    """A bundle from whatever a user holds: a :class:`ModalityBundle` (returned as it is), a path
    (``.npz`` or directory; a path that exists wins over a dataset of the same name), the name of
    a bundled dataset, a pandas DataFrame (modalities by column prefix ``<modality>_<j>``, labels
    in column ``label``: :meth:`ModalityBundle.from_dataframe`), an AnnData or a MuData (labels
    in the ``obs`` column ``label``: :meth:`ModalityBundle.from_anndata` /
    :meth:`~ModalityBundle.from_mudata`). Anything else, or a table whose grouping is missing,
    is refused in one line that says what to give.

    ``modalities`` chooses the modalities of in-memory data: for a DataFrame a mapping name ->
    columns, for an AnnData name -> source (``"X"``, ``"layers:<key>"``, ``"obsm:<key>"``), for a
    MuData the ``mod`` names to use. ``sep`` is a DataFrame's prefix separator (default ``_``).
    Either is refused for data that do not use it.
    """
    kind = "" if isinstance(path_or_name, ModalityBundle) else in_memory_kind(path_or_name)
    _check_grouping(kind, modalities, sep)
    if isinstance(path_or_name, ModalityBundle):
        return path_or_name
    if kind:
        return _from_memory(path_or_name, kind, label, modalities, sep)
    if not isinstance(path_or_name, (str, os.PathLike)):
        raise InputError(f"cannot make a bundle from a {type(path_or_name).__name__}; give a ModalityBundle, a path, a "
                         f"bundled dataset name ({', '.join(list())}), a pandas DataFrame, an AnnData or a MuData.")
    p = Path(path_or_name)
    if p.exists():
        return ModalityBundle.load(p)
    if str(path_or_name) in list():
        return load(str(path_or_name))
    raise BundleFormatError(
        f"{path_or_name!r} is neither a file or directory nor a bundled dataset ({', '.join(list())})."
    )


def _check_grouping(kind: str, modalities: Any, sep: str | None) -> None:
    """``modalities`` / ``sep`` are used or refused, never dropped."""
    if modalities is not None and not kind:
        raise InputError("modalities= chooses the modalities of a DataFrame, an AnnData or a MuData; these data are "
                         "a bundle or a file, whose modalities are fixed (use candidates= to choose among them).")
    if sep is not None and kind != "dataframe":
        raise InputError("sep= is the column-prefix separator of a DataFrame; these data are not one.")
    if modalities is not None and kind in ("dataframe", "anndata") and not isinstance(modalities, Mapping):
        raise InputError(f"modalities= for a {'DataFrame' if kind == 'dataframe' else 'AnnData'} maps each modality "
                         f"name to its {'columns' if kind == 'dataframe' else 'source (X, layers:<key>, obsm:<key>)'}; "
                         f"got a {type(modalities).__name__}.")


def in_memory_kind(obj: Any) -> str:
    """``"dataframe"``, ``"mudata"``, ``"anndata"`` or ``""``, by type name (no import needed)."""
    names = {c.__module__.split(".")[0] + "." + c.__name__ for c in type(obj).__mro__}
    if "pandas.DataFrame" in names:
        return "dataframe"
    if "mudata.MuData" in names:
        return "mudata"
    if "anndata.AnnData" in names:
        return "anndata"
    return ""


def _from_memory(obj: Any, kind: str, label: str, modalities: Any = None, sep: str | None = None) -> ModalityBundle:
    if kind == "dataframe":
        if label not in obj.columns:
            raise InputError(f"the DataFrame has no label column {label!r}; name yours with label='...' "
                             "(columns: " + ", ".join(map(str, [*obj.columns][:8])) + "...).")
        return ModalityBundle.from_dataframe(obj, label=label, modalities=modalities, sep="_" if sep is None else sep)
    if kind == "mudata":
        return ModalityBundle.from_mudata(obj, label=label, modalities=modalities)
    if label not in obj.obs.columns:
        raise InputError(f"adata.obs has no label column {label!r}; name yours with label='...' "
                         "(obs columns: " + ", ".join(map(str, [*obj.obs.columns][:8])) + ").")
    return ModalityBundle.from_anndata(obj, label=label, modalities=modalities)
