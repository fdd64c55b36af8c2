"""``cchkit datasets`` and ``cchkit estimators``: what is bundled and registered."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ._output import render_frame, write_output
from .common import (
    FormatOpt,
    OutOpt,
    app,
    check_format,
    handle_errors,
)


@app.command(epilog="Example: cchkit datasets --format json")
@handle_errors
def datasets(fmt: str = FormatOpt, out: Optional[Path] = OutOpt) -> None:
    """List the bundled datasets."""
    import json

    import pandas as pd

    from .. import datasets as ds

    check_format(fmt)
    rows = []
    for name in ds.list():
        b = ds.load(name)
        rows.append(
            {
                "name": name,
                "modalities": ",".join(f"{m.name}({m.dim})" for m in b.modalities.values()),
                "n": max(m.n for m in b.modalities.values()),
                "classes": b.n_classes,
                "source": str(b.metadata.get("source", ""))[:60],
            }
        )
    df = pd.DataFrame(rows, columns=["name", "modalities", "n", "classes", "source"])
    text = json.dumps({"rows": rows}, indent=2) if fmt == "json" else df.to_csv(index=False) if fmt == "csv" else render_frame(df)
    write_output(text, out)


@app.command(epilog="Example: cchkit estimators")
@handle_errors
def estimators(fmt: str = FormatOpt, out: Optional[Path] = OutOpt) -> None:
    """List the registered MI estimators with one-line descriptions."""
    import json

    import pandas as pd

    from ..estimators import estimator_class, estimator_descriptions

    check_format(fmt)
    rows = [{"name": k, "bound": estimator_class(k).bound, "description": v} for k, v in estimator_descriptions().items()]
    df = pd.DataFrame(rows, columns=["name", "bound", "description"])
    text = json.dumps({"rows": rows}, indent=2) if fmt == "json" else df.to_csv(index=False) if fmt == "csv" else render_frame(df)
    write_output(text, out)
