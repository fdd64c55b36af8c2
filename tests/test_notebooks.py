"""Execute every notebook in notebooks/ in fast mode (CCHKIT_FAST=1); any cell error fails the test.

The notebooks are executed with nbclient on a copy (the committed files, with their outputs, are
left untouched). BLAS/OpenMP are pinned to one thread in the kernel: the estimators work on small
matrices, where multi-threaded BLAS on a loaded machine is several times slower (measured: a
digits-avt ranking took 12 s with the default threads and 4 s with one).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
#: Fast-mode budget per notebook (seconds); the notebooks are written to take well under it.
TIMEOUT_PER_CELL = 300


def _kernel_available() -> bool:
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        return "python3" in KernelSpecManager().find_kernel_specs()
    except Exception:  # pragma: no cover - jupyter_client missing or broken
        return False


def _builder():
    """notebooks/build.py, imported by path (it is a script, not part of the package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("notebook_builder", NOTEBOOK_DIR / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_notebooks_match_their_sources():
    """Every notebook is built from its jupytext source in notebooks/src (``make notebooks``):
    a cell edited in one and not the other fails here."""
    pytest.importorskip("jupytext")
    builder = _builder()
    srcs = builder.sources([])
    assert {builder.notebook_of(s).name for s in srcs} == {p.name for p in NOTEBOOKS}
    assert [d for s in srcs for d in builder.differences(s)] == []


def test_a_stale_notebook_is_detected(tmp_path, monkeypatch):
    pytest.importorskip("jupytext")
    builder = _builder()
    src = builder.sources(["01"])[0]
    nb = nbformat.read(builder.notebook_of(src), as_version=4)
    nb.cells[1].source += "\nprint('edited by hand')"
    monkeypatch.setattr(builder, "HERE", tmp_path)
    nbformat.write(nb, tmp_path / f"{src.stem}.ipynb")
    assert builder.differences(src) == [f"{src.stem}.ipynb: cell 2 differs from the source"]


def test_notebooks_exist():
    names = {p.name for p in NOTEBOOKS}
    assert {"01-quickstart.ipynb", "02-mi-estimators.ipynb", "03-cch-validation.ipynb",
            "04-unpaired-distillation.ipynb"} <= names


@pytest.mark.slow
@pytest.mark.skipif(not _kernel_available(), reason="no python3 Jupyter kernel (python -m ipykernel install --sys-prefix)")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes_in_fast_mode(path, monkeypatch, record_property):
    monkeypatch.setenv("CCHKIT_FAST", "1")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert 'FAST = os.environ.get("CCHKIT_FAST", "0") == "1"' in first_code.source, "first code cell must read FAST"
    client = nbclient.NotebookClient(
        nb, timeout=TIMEOUT_PER_CELL, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError on the first failing cell
    seconds = time.perf_counter() - start
    record_property("seconds", round(seconds, 1))
    print(f"{path.name}: {seconds:.1f} s")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    mode = [o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert any("FAST" in t for t in mode), "the notebook should print that it ran in FAST mode"


def test_committed_notebooks_hold_outputs_and_figures():
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.get("execution_count") for c in code), f"{path.name}: not executed"
        assert not any(o.get("output_type") == "error" for c in code for o in c.outputs), f"{path.name}: has errors"
        assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs), f"{path.name}: no figure"


#: A measured figure in prose: a decimal with two or more places (``0.827``, ``+0.024``, ``−0.009``).
_QUOTED = r"(?<![\w.])[+\-−]?\d+\.\d{2,}"


def _quoted_numbers_missing_from_outputs(nb) -> list[str]:
    import re

    outputs = ""
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            outputs += "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
            outputs += "".join(out.get("data", {}).get("text/html", ""))
    quoted = [n for c in nb.cells if c.cell_type == "markdown" for n in re.findall(_QUOTED, c.source)]
    return [n for n in quoted if n.replace("−", "-").lstrip("+") not in outputs]


def test_notebook_prose_quotes_only_what_its_cells_printed():
    """A number in a notebook's prose is one of its computed outputs, so prose cannot go stale or
    claim a figure another run did not give."""
    for path in NOTEBOOKS:
        missing = _quoted_numbers_missing_from_outputs(nbformat.read(path, as_version=4))
        assert not missing, f"{path.name}: prose quotes {missing}, which no cell printed"


def test_a_stale_number_in_prose_is_caught():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(0.827)", outputs=[nbformat.v4.new_output("stream", text="0.827\n")]),
                nbformat.v4.new_markdown_cell("the student is at 0.827; kar gains −0.009, significant")]
    assert _quoted_numbers_missing_from_outputs(nb) == ["−0.009"]
