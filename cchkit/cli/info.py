"""``cchkit info``: a summary of a bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ._output import check_out_is_not_input, render_frame, write_output
from .common import (
    DataOpt,
    FormatOpt,
    OutOpt,
    app,
    check_format,
    handle_errors,
    input_paths,
)


@app.command(epilog="Example: cchkit info --data mfeat")
@handle_errors
def info(data: str = DataOpt, fmt: str = FormatOpt, out: Optional[Path] = OutOpt) -> None:
    """Summarise a bundle: modalities, dims, n, classes, pairing, constant columns, NaN count."""
    import json

    from ..datasets import load_bundle

    check_format(fmt)
    check_out_is_not_input(out, input_paths(data))
    bundle = load_bundle(data)
    df = bundle.summary()
    if fmt == "json":
        text = json.dumps(
            {"name": bundle.name, "classes": [str(c) for c in bundle.classes], "rows": json.loads(df.to_json(orient="records"))},
            indent=2,
        )
    elif fmt == "csv":
        text = df.to_csv(index=False)
    else:
        head = f"bundle {bundle.name!r}: {len(bundle)} modalities, {bundle.n_classes} classes ({', '.join(map(str, bundle.classes[:12]))}{'...' if bundle.n_classes > 12 else ''})"
        text = head + "\n" + render_frame(df.drop(columns="description"))
    write_output(text, out)
