"""Rendering results for people (tables) and pipelines (JSON, CSV), and atomic file output."""

from __future__ import annotations

import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import InputError

FORMATS = ("table", "json", "csv")


def fmt_num(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def fmt_interval(v: Any, lo: Any, hi: Any, digits: int = 3) -> str:
    if lo is None or hi is None or (isinstance(lo, float) and not math.isfinite(lo)):
        return fmt_num(v, digits)
    return f"{fmt_num(v, digits)} [{fmt_num(lo, digits)}, {fmt_num(hi, digits)}]"


def render_frame(df: pd.DataFrame) -> str:
    """A plain aligned text table (no index)."""
    if df.empty:
        return "(no rows)"
    return df.to_string(index=False)


def write_output(text: str, out: Path | None) -> None:
    """Print ``text`` to stdout, or write it to ``out`` atomically (temp file + rename)."""
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    out = Path(out)
    directory = out.parent if str(out.parent) else Path(".")
    if out.exists() and out.is_dir():
        raise InputError(f"--out {out} is a directory; give a file path.")
    if not directory.is_dir():
        raise InputError(f"--out {out}: the directory {directory} does not exist.")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write there ({exc.strerror}).") from None
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text if text.endswith("\n") else text + "\n")
        os.replace(tmp, out)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
