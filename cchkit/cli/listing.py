"""``cchkit datasets``, ``cchkit estimators`` and ``cchkit methods``: what is bundled and registered."""

from __future__ import annotations

import inspect
import logging
import re
from pathlib import Path
from typing import Optional

from ..exceptions import CchkitError
from ._output import render_frame, write_output
from .common import (
    FormatOpt,
    OutOpt,
    app,
    check_format,
    handle_errors,
    setup_logging,
)


@app.command(epilog="Example: cchkit datasets --format json")
@handle_errors
def datasets(fmt: str = FormatOpt, out: Optional[Path] = OutOpt) -> None:
    """List the bundled datasets."""
    import json

    import pandas as pd

    from .. import datasets as ds

    setup_logging(False)
    check_format(fmt)
    rows = [_dataset_row(ds, name) for name in ds.list()]
    df = pd.DataFrame(rows, columns=["name", "modalities", "n", "classes", "source"]).astype({"n": "Int64", "classes": "Int64"})
    if fmt == "json":
        text = json.dumps({"rows": rows}, indent=2)
    elif fmt == "csv":
        text = df.to_csv(index=False)
    else:  # sources in full below the table (a URL cut in a column cannot be followed)
        text = render_frame(df.drop(columns="source")) + "\n\n" + "\n".join(f"{r['name']}: {r['source']}" for r in rows)
    write_output(text, out)


def _dataset_row(ds, name: str) -> dict:  # noqa: ANN001
    """One row of ``cchkit datasets``; a bundle that cannot be read is listed as such (with a
    warning), so that one broken bundle does not hide the others."""
    try:
        b = ds.load(name)
    except CchkitError as exc:
        logging.getLogger("cchkit").warning("dataset %r cannot be read: %s", name, exc)
        return {"name": name, "modalities": "(unreadable)", "n": None, "classes": None, "source": str(exc)}
    return {
        "name": name,
        "modalities": ",".join(f"{m.name}({m.dim})" for m in b.modalities.values()),
        "n": max(m.n for m in b.modalities.values()),
        "classes": b.n_classes,
        "source": str(b.metadata.get("source", "")),
    }


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


@app.command(epilog="Example: cchkit methods --format json")
@handle_errors
def methods(fmt: str = FormatOpt, out: Optional[Path] = OutOpt) -> None:
    """List the distillation methods `validate --method` accepts, from their registries: the
    teacher objectives of the default measurement, then the distillers of `--baseline no-kd`."""
    import json

    import pandas as pd

    check_format(fmt)
    rows = method_rows()
    df = pd.DataFrame(rows, columns=["name", "baseline", "pairs", "by default", "description"])
    text = json.dumps({"rows": rows}, indent=2) if fmt == "json" else df.to_csv(index=False) if fmt == "csv" else render_frame(df)
    write_output(text, out)


#: reST markup a terminal shows as noise: a role around its text, a LaTeX command around its argument
_ROLE = re.compile(r":\w+:`~?([^`]*)`")
_LATEX = re.compile(r"\\[a-zA-Z]+\{([^{}]*)\}")
_BARE_LATEX = re.compile(r"\\([a-zA-Z]+)")


def doc_summary(obj: object, width: int = 120) -> str:
    """The first paragraph of ``obj``'s class docstring as plain text on one line (reST roles,
    literals and LaTeX commands unwrapped), cut at a word before ``width`` characters with "...".
    A docstring's first line often stops mid-sentence, which is what the listing showed."""
    doc = inspect.cleandoc(type(obj).__doc__ or "")
    text = " ".join(doc.split("\n\n")[0].split())
    text = _ROLE.sub(lambda m: m.group(1).split(".")[-1] if m.group(0).startswith((":class:", ":func:", ":meth:",
                                                                                    ":mod:", ":data:")) else m.group(1), text)
    text = _BARE_LATEX.sub(r"\1", _LATEX.sub(r"\1", text)).replace("``", "")
    if len(text) <= width:
        return text
    return text[: text.rfind(" ", 0, width - 3)].rstrip(",;:") + "..."


def method_rows() -> list[dict]:
    """One row per registered method: the baseline it is measured over (``teacher-free``, the
    default, or ``no-kd``), whether it needs pairs, whether it runs by default, and what its
    docstring says first (:func:`doc_summary`)."""
    from ..distill.methods import get_method, list_methods
    from ..fewlabels.objectives import get_objective, teacher_objectives

    default = set(teacher_objectives(paired=True, default_only=True))
    rows = [{"name": n, "baseline": "teacher-free", "pairs": "needs" if get_objective(n).paired else "no",
             "by default": ("with pairs" if get_objective(n).paired else "yes") if n in default else "no",
             "description": doc_summary(get_objective(n))}
            for n in teacher_objectives(paired=True)]
    rows += [{"name": n, "baseline": "no-kd", "pairs": "needs" if get_method(n).paired else "no",
              "by default": ("with pairs" if get_method(n).paired else "yes") if get_method(n).by_default else "no",
              "description": doc_summary(get_method(n))} for n in list_methods()]
    return rows
