"""``cchkit info``: a summary of a bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from . import common as c
from ._output import render_frame, write_output


@c.app.command(epilog="Example: cchkit info --data mfeat")
@c.handle_errors
def info(data: str = c.DataOpt, fmt: str = c.FormatOpt, out: Optional[Path] = c.OutOpt) -> None:
    """Summarise a bundle: modalities, dims, n, classes, pairing, constant columns, NaN count."""
    import json

    from ..datasets import load_bundle

    c.start_command(False, fmt, data, out)
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
        text = head + "\n" + render_frame(df.drop(columns="description")) + "\n" + _legend(df)
    write_output(text, out)


#: What each column of the table means (printed under it).
FIELDS = {
    "n": "samples (rows) of the modality",
    "dim": "features (columns)",
    "classes": "classes present among its labels",
    "unlabeled": "rows without a label (used as unlabeled rows by validate with few labels; set aside elsewhere)",
    "constant_columns": "columns with one value in every row (they carry nothing; representations drop them)",
    "nan": "missing values",
    "representation": "True: the bundle marks it as an already-learned representation H, used as it is; "
                      "False: raw features, reduced by --representation before estimating",
}


def _legend(df) -> str:  # noqa: ANN001
    lines = []
    for col in df.columns:
        if col == "description":
            continue
        if col.startswith("paired_with_"):
            lines.append(f"  {col}: samples that share a sample id with {col[len('paired_with_'):]!r} (pairs)")
        elif col in FIELDS:
            lines.append(f"  {col}: {FIELDS[col]}")
    return "columns:\n" + "\n".join(lines)
