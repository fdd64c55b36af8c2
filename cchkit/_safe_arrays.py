"""Reading ``.npy`` / ``.npz`` files that may be hostile, without hanging, bombs or pickles.

``numpy.load`` trusts its input: it blocks forever on a FIFO, inflates a deflate bomb before
anything can be checked, allocates whatever shape a header declares, and reports a JSON file
as "pickled data". These readers check first and refuse with one clear
:class:`~cchkit.exceptions.BundleFormatError`:

* only regular files are opened (a FIFO, a device or a socket is refused, never read);
* a zip member's declared size and compression ratio are checked before it is inflated, and
  encrypted members or unknown compression methods are refused;
* each ``.npy`` header is read first: object dtypes are refused (nothing is ever unpickled) and
  the declared shape must match the bytes the member really holds.

The size limit is ``CCHKIT_MAX_BUNDLE_BYTES`` (bytes, default 4 GiB) in total per file; without
that variable a member inflating more than 200x to over 64 MB is refused too, and setting it
(to a limit the user trusts) replaces that ratio rule.
"""

from __future__ import annotations

import json
import math
import os
import stat
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np

from .exceptions import BundleFormatError

__all__ = ["read_npy", "read_npz", "read_json", "check_regular_file", "max_bundle_bytes"]

_DEFAULT_MAX_BYTES = 4 << 30
#: A member inflating more than this many times its compressed size (and to more than
#: _BOMB_MIN_BYTES) is refused as a likely decompression bomb; float data compresses ~1-3x.
_MAX_RATIO = 200
_BOMB_MIN_BYTES = 64 << 20
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_LIMIT_HINT = "set CCHKIT_MAX_BUNDLE_BYTES (bytes) to raise the limit if the file is trusted"


def max_bundle_bytes() -> int:
    """The largest total of uncompressed array bytes one file may declare."""
    raw = os.environ.get("CCHKIT_MAX_BUNDLE_BYTES", "")
    try:
        return int(raw) if raw else _DEFAULT_MAX_BYTES
    except ValueError:
        raise BundleFormatError(f"CCHKIT_MAX_BUNDLE_BYTES must be a number of bytes, got {raw!r}.") from None


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} PB"  # pragma: no cover


def check_regular_file(path: Path, what: str) -> None:
    """Refuse anything but a regular file (after following links): FIFOs hang readers."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise BundleFormatError(f"{path}: {what} does not exist.") from None
    except OSError as exc:
        raise BundleFormatError(f"{path}: {what} cannot be read ({exc.strerror}).") from None
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else (
            "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
        raise BundleFormatError(f"{path}: {what} is {kind}; cchkit reads only regular files.")


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict, refusing a key given twice (``json`` would keep the last)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def read_json(text: str | bytes, what: str) -> Any:
    """``json.loads`` with every failure (syntax, encoding, nesting too deep) as one message."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise BundleFormatError(f"{what} names {exc.args[0]!r} twice in one object; which one is meant is unclear.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleFormatError(f"{what} is not valid JSON ({exc}).") from None
    except RecursionError:
        raise BundleFormatError(f"{what} is nested too deeply to be a cchkit bundle description.") from None


def _read_header(fp: IO[bytes], what: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(fp)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as exc:
        raise BundleFormatError(f"{what} is not a readable .npy array ({exc}).") from None
    if dtype.hasobject:
        raise BundleFormatError(
            f"{what} holds Python objects that need unpickling; cchkit never unpickles files "
            "(it can run arbitrary code). Save plain numeric arrays."
        )
    return tuple(int(s) for s in shape), bool(fortran), dtype


def _read_body(fp: IO[bytes], payload: int, what: str) -> np.ndarray:
    """The array after its header, once the declared shape is checked against ``payload`` bytes."""
    start = fp.tell()
    shape, fortran, dtype = _read_header(fp, what)
    declared = math.prod(shape) * dtype.itemsize
    held = payload - (fp.tell() - start)
    if declared != held:
        raise BundleFormatError(
            f"{what}: its header declares shape {shape} of {dtype} ({_human(declared)}) but it holds "
            f"{_human(held)}; the file is corrupt or truncated."
        )
    data = fp.read(declared)
    if len(data) != declared:
        raise BundleFormatError(f"{what} is truncated ({_human(len(data))} of {_human(declared)}).")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _not_npy_hint(head: bytes) -> str:
    stripped = head.lstrip()
    if stripped[:1] in (b"{", b"["):
        return " It looks like JSON text: a bundle directory holds bundle.json; pass the directory."
    if stripped[:1].isalpha() or b"," in head[:200]:
        return " It looks like a text table: turn it into a bundle with `cchkit import`."
    return ""


def read_npy(path: Path, what: str) -> np.ndarray:
    """One ``.npy`` array from a regular file, checked before it is read."""
    check_regular_file(path, what)
    size = os.stat(path).st_size
    if size > max_bundle_bytes():
        raise BundleFormatError(f"{path}: {what} is {_human(size)}, over the limit; {_LIMIT_HINT}.")
    with open(path, "rb") as fp:
        head = fp.read(6)
        if head != b"\x93NUMPY":
            raise BundleFormatError(f"{path}: {what} is not a .npy array.{_not_npy_hint(head + fp.read(200))}")
        fp.seek(0)
        return np.array(_read_body(fp, size, f"{path}: {what}"))


def _check_members(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    total = 0
    for info in infos:
        name = info.filename
        if info.flag_bits & 0x1:
            raise BundleFormatError(f"{path}: member {name!r} is encrypted; cchkit reads only plain .npz files.")
        if info.compress_type not in _METHODS:
            raise BundleFormatError(
                f"{path}: member {name!r} uses zip compression method {info.compress_type}, which cchkit "
                "does not read; save the bundle with numpy.savez or savez_compressed."
            )
        if not name.endswith(".npy") or "/" in name:
            raise BundleFormatError(f"{path}: member {name!r} is not an .npy array; it is not a cchkit bundle.")
        ratio = info.file_size / max(info.compress_size, 1)
        trusted = bool(os.environ.get("CCHKIT_MAX_BUNDLE_BYTES"))  # an explicit limit replaces the ratio rule
        if not trusted and info.file_size > _BOMB_MIN_BYTES and ratio > _MAX_RATIO:
            raise BundleFormatError(
                f"{path}: member {name!r} would inflate {ratio:.0f}x, from {_human(info.compress_size)} to "
                f"{_human(info.file_size)}; refused as a likely decompression bomb (if the file is trusted, set "
                f"CCHKIT_MAX_BUNDLE_BYTES to at least {info.file_size} to read it)."
            )
        total += info.file_size
    if total > max_bundle_bytes():
        raise BundleFormatError(
            f"{path} declares {_human(total)} of arrays, over the limit of {_human(max_bundle_bytes())}; {_LIMIT_HINT}."
        )


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file (key = member name without ``.npy``), checked first."""
    check_regular_file(path, "the bundle file")
    if os.stat(path).st_size == 0:
        raise BundleFormatError(f"{path} is empty; it is not a bundle.")
    with open(path, "rb") as fp:
        head = fp.read(256)
    if head.startswith(b"\x93NUMPY"):
        raise BundleFormatError(
            f"{path} holds a single array, not a bundle; save an .npz with one key per modality plus 'label'."
        )
    if not zipfile.is_zipfile(path):
        raise BundleFormatError(f"{path} is not a readable .npz bundle or bundle directory.{_not_npy_hint(head)}")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_members(path, infos)
            out: dict[str, np.ndarray] = {}
            for info in infos:
                key = info.filename[: -len(".npy")]
                if key in out:
                    raise BundleFormatError(f"{path} has the key {key!r} twice.")
                with zf.open(info) as fp:
                    out[key] = _read_member(fp, info, f"{path}: entry {key!r}")
            return out
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError, ValueError) as exc:
        if isinstance(exc, BundleFormatError):
            raise
        raise BundleFormatError(f"{path} is a corrupt .npz ({type(exc).__name__}: {exc}).") from None


class _Counted:
    """A stream wrapper that tracks its position (zip member streams cannot ``tell`` reliably)."""

    def __init__(self, fp: IO[bytes]) -> None:
        self._fp = fp
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        data = self._fp.read(n)
        self._pos += len(data)
        return data

    def tell(self) -> int:
        return self._pos


def _read_member(fp: IO[bytes], info: zipfile.ZipInfo, what: str) -> np.ndarray:
    return np.array(_read_body(_Counted(fp), info.file_size, what))  # type: ignore[arg-type]
