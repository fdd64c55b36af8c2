"""``cchkit estimate``: one MI estimate between two modalities or a modality and the labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from .._params import Options, check_param
from . import common as c
from ._output import write_output


@c.app.command(
    epilog="Examples: cchkit estimate -x audio -y label --estimator ksg   |   cchkit estimate -x audio -y image -e gaussian -f json"
)
@c.handle_errors
def estimate(
    x: str = typer.Option(..., "--x", "-x", help="A modality."),
    y: str = typer.Option("label", "--y", "-y", help="Another modality, or 'label' for the class labels."),
    data: str = c.DataOpt,
    estimator: str = typer.Option("gaussian", "--estimator", "-e", help="A registered MI estimator (see `cchkit estimators`)."),
    n_bootstrap: int = typer.Option(200, "--n-bootstrap", help="Bootstrap resamples (an estimator whose interval is no bootstrap refuses it)."),
    units: str = typer.Option("nats", "--units", help="nats or bits."),
    fmt: str = c.FormatOpt,
    out: Optional[Path] = c.OutOpt,
    seed: int = c.SeedOpt,
    device: str = c.DeviceOpt,
    quiet: bool = c.QuietOpt,
) -> None:
    """Estimate the mutual information between two modalities, or a modality and the labels."""
    import json

    from ..datasets import load_bundle
    from ..estimators import get_estimator_accepting

    c.start_command(quiet, fmt, data, out)
    check_param("", "--units", units, [Options(["nats", "bits"])])
    bundle = load_bundle(data)
    # what the user gave is the estimator's to take or refuse ("mine has no parameter n_bootstrap");
    # the defaults are offered to the estimators that take them (an untouched --device is each one's own)
    given = c.given_options(["n_bootstrap", "device"])
    own = {k: v for k, v in {"n_bootstrap": n_bootstrap, "device": device}.items() if k in given}
    offered = {"random_state": seed, "progress": c.progress_enabled(quiet), "n_bootstrap": n_bootstrap}
    est = get_estimator_accepting(estimator, offered, **own)
    if y == "label":
        result = est.estimate(*_labelled_rows(bundle, x), discrete_y=True)
    else:
        view = bundle.paired([x, y])
        result = est.estimate(view.data[x], view.data[y], discrete_y=False)
    result = result.to(units)
    row = {"x": x, "y": y, **{k: v for k, v in result.to_dict().items() if k != "extra"}}
    if fmt == "json":
        text = json.dumps({"rows": [row], "extra": result.to_dict()["extra"]}, indent=2)
    elif fmt == "csv":
        import pandas as pd

        flat = dict(row, ci_low=row["ci"][0] if row["ci"] else None, ci_high=row["ci"][1] if row["ci"] else None)
        flat.pop("ci")
        flat["params"] = json.dumps(flat["params"], default=str)
        text = pd.DataFrame([flat]).to_csv(index=False)
    else:
        ci = f" [{result.ci[0]:.3f}, {result.ci[1]:.3f}]" if result.ci else ""
        text = (
            f"I({x}; {y}) = {result.value:.4f}{ci} {units}  ({estimator}, {result.bound} estimate, n={result.n}, "
            f"dims {result.dim_x}x{result.dim_y or 'labels'}, {result.seconds:.2f} s)\n"
            f"interval: {result.ci_method or 'none'}"
        )
    write_output(text, out)


def _labelled_rows(bundle, name: str) -> tuple[Any, Any]:  # noqa: ANN001
    """Modality ``name``'s features and labels on its labelled rows: a row without a label (code
    -1) is no class of its own; the rows set aside are counted in one warning."""
    from .._warn import warn_user

    m, keep = bundle.modality(name), bundle.labelled_mask(name)
    if not keep.all():
        warn_user("estimate -y label uses %s's labelled rows only: %s unlabeled row(s) set aside.", name,
                  f"{int((~keep).sum()):,}")
    return m.data[keep], m.labels[keep]
