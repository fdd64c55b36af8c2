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

from ..exceptions import BundleFormatError

__all__ = ["list", "load", "data_dir", "DEFAULT_DATASET"]

#: The bundle `cchkit rank` uses when no ``--data`` is given.
DEFAULT_DATASET = "digits-avt"


def data_dir() -> Path:
    """Where the bundled data lives: ``$CCHKIT_DATA_DIR`` if set, else the package's own data
    (``cchkit/datasets/data``, shipped in the wheel; found with :mod:`importlib.resources`)."""
    env = os.environ.get("CCHKIT_DATA_DIR")
    if env:
        return Path(env)
    from importlib.resources import files

    return Path(str(files(__package__) / "data"))


def list() -> builtins.list[str]:  # noqa: A001 - mirrors the documented API cchkit.datasets.list()
    """Names of the bundled datasets (directories of ``data/`` holding a ``bundle.json``)."""
    root = data_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "bundle.json").is_file())


def load(name: str):
    """Load a bundled dataset by name (see :func:`list`)."""
    from ..bundle import ModalityBundle

    names = list()
    if name not in names:
        raise BundleFormatError(
            f"no bundled dataset named {name!r}; available: {', '.join(names) or 'none (the package data is missing)'}."
        )
    return ModalityBundle.load(data_dir() / name)
