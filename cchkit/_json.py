"""Results as JSON: numpy scalars to Python, NaN and inf to null, written where asked."""

from __future__ import annotations

import json
import math
import os
from typing import Any

import numpy as np

__all__ = ["jsonable", "dump_json"]


def jsonable(v: Any) -> Any:
    """JSON-ready: numpy scalars to Python, NaN/inf to None, recursively."""
    import pandas as pd

    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    if v is pd.NA or v is None:
        return None
    return v


def dump_json(doc: Any, path: str | os.PathLike[str] | None = None, *, indent: int | None = 2) -> str:
    """``doc`` as JSON text (NaN refused: pass it through :func:`jsonable` first); written to ``path`` when given."""
    text = json.dumps(doc, indent=indent, allow_nan=False)
    if path is not None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    return text
