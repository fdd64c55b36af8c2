"""Bundled real data (files under ``cchkit/datasets/data/``) and synthetic generators with closed-form truth.

>>> import cchkit
>>> cchkit.datasets.list()        # doctest: +SKIP
['digits-avt', 'mfeat']
>>> bundle = cchkit.datasets.load("digits-avt")   # doctest: +SKIP
"""

from __future__ import annotations

import builtins
import os
from pathlib import Path
from typing import Any

from ..bundle import ModalityBundle
from ..bundle.readers import get_reader, list_readers, reader_for, register_reader
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
    """A bundle from whatever a user holds: a :class:`ModalityBundle` (returned as it is), a
    pandas DataFrame (modalities by column prefix ``<modality>_<j>``, labels in column ``label``:
    :meth:`ModalityBundle.from_dataframe`), an AnnData or a MuData (labels in the ``obs`` column
    ``label``: :meth:`ModalityBundle.from_anndata` / :meth:`~ModalityBundle.from_mudata`), a path
    (``.npz`` or directory; a path that exists wins over a dataset of the same name), the name of
    a bundled dataset, or any format registered with :func:`cchkit.bundle.register_reader`.
    Anything else is refused in one line that says what to give.

    ``modalities`` chooses the modalities of in-memory data: for a DataFrame a mapping name ->
    columns, for an AnnData name -> source (``"X"``, ``"layers:<key>"``, ``"obsm:<key>"``), for a
    MuData the ``mod`` names to use. ``sep`` is a DataFrame's prefix separator (default ``_``).
    Either is refused for data whose format does not use it.
    """
    reader = reader_for(path_or_name)
    if reader is None:
        if isinstance(path_or_name, (str, os.PathLike)):
            raise BundleFormatError(
                f"{path_or_name!r} is neither a file or directory nor a bundled dataset ({', '.join(list())}).")
        raise InputError(f"cannot make a bundle from a {type(path_or_name).__name__}; give a ModalityBundle, a path, a "
                         f"bundled dataset name ({', '.join(list())}), a pandas DataFrame, an AnnData or a MuData.")
    given = {k: v for k, v in {"modalities": modalities, "sep": sep}.items() if v is not None}
    unread = [k for k in given if k not in reader.options]
    if unread:
        raise InputError(f"{unread[0]}= does not apply to a {reader.name} (it applies to "
                         f"{', '.join(r for r in list_readers() if unread[0] in get_reader(r).options)}); leave it out.")
    return reader.read(path_or_name, label=label, **given)


def in_memory_kind(obj: Any) -> str:
    """The registered format of an in-memory table (``"dataframe"``, ``"mudata"``,
    ``"anndata"``...) or ``""`` for a path, a name or a bundle."""
    reader = reader_for(obj)
    return reader.name if reader is not None and reader.name not in ("bundle", "path", "dataset") else ""


@register_reader("path", accepts=lambda o: isinstance(o, (str, os.PathLike)) and Path(o).exists())
def _from_path(obj: Any, **_: Any) -> ModalityBundle:
    return ModalityBundle.load(Path(obj))


@register_reader("dataset", accepts=lambda o: isinstance(o, str) and o in list())
def _from_dataset(obj: str, **_: Any) -> ModalityBundle:
    return load(obj)
