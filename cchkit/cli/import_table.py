"""``cchkit import``: a table (CSV, TSV, parquet) or an AnnData / MuData file as a new bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..exceptions import InputError
from .common import (
    app,
    handle_errors,
)


@app.command(
    "import",
    epilog="Examples: cchkit import table.csv --label y --out mine.npz   |   cchkit import t.parquet --label y --mapping groups.json --out mine/",
)
@handle_errors
def import_table(
    table: Path = typer.Argument(..., help="A .csv or .parquet table, one row per sample."),
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the bundle (.npz file or a directory)."),
    label: str = typer.Option("label", "--label", "-l", help="The label column."),
    mapping: Optional[Path] = typer.Option(None, "--mapping", "-m", help='JSON file {"modality": ["col", ...], ...}.'),
    sep: str = typer.Option("_", "--sep", help="Without --mapping: a column <modality><sep><index> belongs to <modality> (rna_seq_0 -> rna_seq); other columns to the prefix before the first separator."),
    id_column: Optional[str] = typer.Option(None, "--id-column", help="A sample-id column (optional)."),
    name: str = typer.Option("", "--name", help="Bundle name (default: the table's file name)."),
) -> None:
    """Turn a CSV or parquet table into a bundle (columns grouped by prefix or by a JSON mapping)."""
    from ..bundle.tables import read_bundle_source, read_column_mapping

    groups = None if mapping is None else read_column_mapping(mapping)
    bundle = read_bundle_source(table, label=label, modalities=groups, sep=sep, id_column=id_column, name=name)
    _write_new_bundle(bundle, Path(out))


def _write_new_bundle(bundle, out: Path) -> None:  # noqa: ANN001
    """Write ``bundle`` to a path that must not exist yet (atomically: temp dir, then rename)."""
    import os
    import shutil
    import tempfile

    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"--out {out}: the directory {parent} does not exist.")
    if out.exists() or out.is_symlink():  # a dangling link is an existing path too
        raise InputError(f"--out {out} already exists; cchkit does not overwrite bundles. Choose a new path.")
    tmp = Path(tempfile.mkdtemp(prefix=".cchkit-import-", dir=parent))
    try:
        written = bundle.save(tmp / ("bundle.npz" if out.suffix == ".npz" else "bundle"))
        if out.exists() or out.is_symlink():  # appeared meanwhile: still never replaced
            raise InputError(f"--out {out} appeared while the bundle was written; nothing was replaced.")
        os.replace(written, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    unlabeled = _unlabeled_samples(bundle)
    typer.echo(f"wrote {out}: {modalities_line(list(bundle.modalities.values()))}; {bundle.n_classes} classes"
               + (f"; {unlabeled:,} samples without a label" if unlabeled else ""), err=True)


def _unlabeled_samples(bundle) -> int:  # noqa: ANN001
    """Samples (table rows) without a label; each has a row in every modality, so counting the
    modalities' rows would count it once per modality."""
    import numpy as np

    ids = [m.ids[~bundle.labelled_mask(name)] for name, m in bundle.modalities.items()]
    return len(np.unique(np.concatenate(ids).astype(str))) if ids else 0


#: Modalities named one by one in the import summary; beyond them, a count.
NAMED_MODALITIES = 12


def modalities_line(mods: list) -> str:  # noqa: ANN001
    """The modalities written, summarised past :data:`NAMED_MODALITIES` (a table of ten thousand
    one-column groups made a line of 139,000 characters)."""
    named = ", ".join(f"{m.name} ({m.n}x{m.dim})" for m in mods[:NAMED_MODALITIES])
    if len(mods) <= NAMED_MODALITIES:
        return named
    rest = mods[NAMED_MODALITIES:]
    return (f"{len(mods):,} modalities: {named} and {len(rest):,} more ({sum(m.dim for m in rest):,} columns); "
            "`cchkit info --data` lists them all")
