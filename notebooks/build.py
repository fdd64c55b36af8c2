"""Build the notebooks from their plain-text sources (``notebooks/src/*.py``, jupytext percent
format): convert, execute, write ``notebooks/<name>.ipynb`` with its outputs.

    python notebooks/build.py                 # every notebook, full mode (what is committed)
    python notebooks/build.py --fast 01       # CCHKIT_FAST=1, only names starting with 01
    python notebooks/build.py --check         # exit 1 if a committed notebook's cells differ from its source

``make notebooks`` runs the first form. Each run prints the wall time of every notebook and of
its slowest cell. BLAS/OpenMP are pinned to one thread in the kernel (small matrices run
faster that way on a shared CPU); the kernel's working directory is ``notebooks/``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "src"
#: Longest a cell may run (the executed notebook is refused beyond it).
CELL_TIMEOUT_S = 300


def sources(prefixes: list[str]) -> list[Path]:
    """The source scripts whose names start with one of ``prefixes`` (all when empty)."""
    found = sorted(SOURCES.glob("*.py"))
    return [p for p in found if not prefixes or any(p.stem.startswith(x) for x in prefixes)]


def notebook_of(source: Path) -> Path:
    return HERE / f"{source.stem}.ipynb"


def cells_of(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """(cell type, source) of every cell: what a committed notebook must share with its source."""
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def differences(source: Path) -> list[str]:
    """Why the committed notebook of ``source`` does not match it (empty when it does)."""
    target = notebook_of(source)
    if not target.is_file():
        return [f"{target.name} is missing"]
    want, have = cells_of(jupytext.read(source)), cells_of(nbformat.read(target, as_version=4))
    if len(want) != len(have):
        return [f"{target.name}: {len(have)} cells, the source has {len(want)}"]
    return [f"{target.name}: cell {i + 1} differs from the source" for i, (w, h) in enumerate(zip(want, have)) if w != h]


def _slowest_cell(nb: nbformat.NotebookNode) -> tuple[float, int]:
    """(seconds, cell number) of the slowest code cell, from nbclient's timing metadata."""
    best = (0.0, 0)
    for i, cell in enumerate(nb.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if start and end:
            secs = (datetime.fromisoformat(end.rstrip("Z")) - datetime.fromisoformat(start.rstrip("Z"))).total_seconds()
            best = max(best, (secs, i + 1))
    return best


def build(source: Path, fast: bool) -> float:
    """Convert, execute and write one notebook; returns its wall time in seconds."""
    os.environ["CCHKIT_FAST"] = "1" if fast else "0"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    nb = jupytext.read(source)
    nb.metadata.pop("jupytext", None)
    start = time.perf_counter()
    NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", record_timing=True,
                   resources={"metadata": {"path": str(HERE)}}).execute()
    seconds = time.perf_counter() - start
    slow, cell = _slowest_cell(nb)
    nbformat.write(nb, notebook_of(source))
    print(f"{source.stem}: {seconds:.1f} s ({'fast' if fast else 'full'} mode; slowest cell {cell}: {slow:.1f} s)",
          flush=True)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="name prefixes (01, 02-mi...); default: all")
    parser.add_argument("--fast", action="store_true", help="CCHKIT_FAST=1 (small settings)")
    parser.add_argument("--check", action="store_true", help="only compare the committed notebooks with their sources")
    args = parser.parse_args(argv)
    chosen = sources(args.names)
    if args.check:
        problems = [d for s in chosen for d in differences(s)]
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0
    for s in chosen:
        build(s, args.fast)
    return 0


if __name__ == "__main__":
    sys.exit(main())
