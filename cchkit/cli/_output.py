"""Rendering results for people (tables) and pipelines (JSON, CSV), and atomic file output."""

from __future__ import annotations

import math
import os
import re
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import InputError

FORMATS = ("table", "json", "csv")
#: the files this command has written so far (what an interruption reports)
WRITTEN: list[Path] = []
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escape_control(text: str) -> str:
    """``text`` with terminal control characters (ESC sequences, bells, carriage returns...)
    shown as ``\\x1b`` escapes: a name in a bundle must not be able to drive the terminal."""
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


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


def _write_stdout(text: str) -> None:
    try:
        sys.stdout.write(escape_control(text))
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader went away (`cchkit rank ... | head -1`): stop quietly, as Unix tools do
        _silence_stdout()
        raise SystemExit(141) from None
    except OSError as exc:  # /dev/full, a full disk, a closed descriptor
        _silence_stdout()
        raise InputError(f"cannot write to standard output ({exc.strerror or exc}).") from None


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush of what is left cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real descriptor (a test runner's stream)
        pass


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_out_is_not_input(out: Path | None, inputs: list[Path | str]) -> None:
    """Refuse an output path that is (or lies inside) one of the inputs: it would destroy them."""
    if out is None:
        return
    out = Path(out)
    for given in inputs:
        src = Path(given)
        if not src.exists():
            continue
        if _same_file(out, src) or (src.is_dir() and src.resolve() in out.resolve().parents):
            raise InputError(f"--out {out} is the input {src}; cchkit never overwrites its input. Choose another path.")


def check_outputs(*outputs: tuple[str, Path | None]) -> None:
    """Refuse, before any work, output paths that cannot be written or that name one file twice.

    ``outputs`` are (option, path) pairs such as ``("--out", out)``; None is stdout.
    """
    seen: dict[str, str] = {}
    for option, path in outputs:
        if path is None:
            continue
        path = Path(path)
        key = os.path.realpath(path)
        if key in seen:
            raise InputError(f"{option} {path} is also given as {seen[key]}; one file cannot hold both outputs.")
        seen[key] = option
        _check_writable(path, option)


def _check_writable(out: Path, option: str) -> None:
    target = Path(os.path.realpath(out))
    if target.exists():
        mode = target.stat().st_mode
        if stat.S_ISDIR(mode):
            raise InputError(f"{option} {out} is a directory; give a file path.")
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
            raise InputError(f"{option} {out} is not a regular file, a FIFO or a character device; refused.")
        return
    directory = target.parent
    if not directory.is_dir():
        raise InputError(f"{option} {out}: the directory {directory} does not exist.")
    if not os.access(directory, os.W_OK):
        raise InputError(f"{option} {out}: the directory {directory} is not writable.")


def write_output(text: str, out: Path | None) -> None:
    """Print ``text`` to stdout, or write it to ``out``.

    A regular file (new or existing) is written atomically: a temporary file in the same
    directory, then a rename, so a failure leaves any previous content whole; an existing
    file keeps its permission bits, a new one gets the usual ``0666 & ~umask``. A symbolic link
    is followed (the link stays, its target is replaced). A FIFO or a character device
    (``/dev/stdout``, a named pipe) is written through, never replaced. A directory, a block
    device or a socket is refused.
    """
    text = text if text.endswith("\n") else text + "\n"
    if out is None:
        _write_stdout(text)
        return
    out = Path(out)
    if out.is_symlink():
        out = Path(os.path.realpath(out))
    if out.exists():
        mode = out.stat().st_mode
        if stat.S_ISDIR(mode):
            raise InputError(f"--out {out} is a directory; give a file path.")
        if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
            _write_through(out, text)
            WRITTEN.append(out)
            return
        if not stat.S_ISREG(mode):
            raise InputError(f"--out {out} is not a regular file, a FIFO or a character device; refused.")
    _write_atomic(out, text)
    WRITTEN.append(out)


def _write_through(out: Path, text: str) -> None:
    try:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write there ({exc.strerror or exc}).") from None


def _write_atomic(out: Path, text: str) -> None:
    directory = out.parent if str(out.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"--out {out}: the directory {directory} does not exist.")
    mode = stat.S_IMODE(out.stat().st_mode) if out.exists() else 0o666 & ~_umask()
    try:
        # a short temporary name: the output's own name may already be at the file system's limit
        fd, tmp = tempfile.mkstemp(prefix=".cchkit-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write there ({exc.strerror}).") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, out)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise InputError(f"--out {out}: cannot write there ({exc.strerror or exc}); nothing was changed.") from None
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
