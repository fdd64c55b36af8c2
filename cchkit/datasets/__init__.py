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

from ..bundle import ModalityBundle
from ..exceptions import BundleFormatError

__all__ = ["list", "load", "load_bundle", "data_dir", "DEFAULT_DATASET"]

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


def load_bundle(path_or_name: str | os.PathLike[str] | ModalityBundle) -> ModalityBundle:
    """A bundle from a path (``.npz`` or directory) or the name of a bundled dataset.

    A path that exists wins over a dataset of the same name; a bundle is returned as it is.
    """
    if isinstance(path_or_name, ModalityBundle):
        return path_or_name
    p = Path(path_or_name)
    if p.exists():
        return ModalityBundle.load(p)
    if str(path_or_name) in list():
        return load(str(path_or_name))
    raise BundleFormatError(
        f"{path_or_name!r} is neither a file or directory nor a bundled dataset ({', '.join(list())})."
    )
