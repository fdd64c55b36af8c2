"""``cchkit``: rank teacher modalities, estimate MI, validate by distilling.

Exit codes: 0 success; 2 bad usage or bad input (one line on stderr, no traceback); 1 internal
error (with a hint to report it); 130 interrupted (Ctrl-C), nothing written.
"""

from __future__ import annotations

import functools
import logging
import sys
from pathlib import Path
from typing import Any, Callable, List, Optional, TypeVar

import typer

from ..exceptions import CchkitError, InputError
from ._output import FORMATS, fmt_interval, fmt_num, render_frame, write_output

app = typer.Typer(
    name="cchkit",
    help="Which modality should teach which? Rank teacher modalities for a student modality by "
    "information-theoretic criteria (the CCH score), then check the advice by distilling.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])
ISSUES_URL = "https://github.com/cchkit/cchkit/issues"

# ---------------------------------------------------------------- shared options (defined once)
DataOpt = typer.Option(
    "digits-avt", "--data", "-d", help="Bundle: a bundled dataset name (see `cchkit datasets`), an .npz file or a bundle directory."
)
FormatOpt = typer.Option("table", "--format", "-f", help="Output format: table (people), json or csv (pipelines).")
OutOpt = typer.Option(None, "--out", "-o", help="Write the result to this file (atomically) instead of stdout.")
SeedOpt = typer.Option(0, "--seed", help="Random seed; the same seed gives the same numbers on CPU.")
DeviceOpt = typer.Option("auto", "--device", help="auto (CUDA when present), cpu or cuda.")
QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress bars or log messages.")
NJobsOpt = typer.Option(1, "--n-jobs", help="Parallel workers for the estimate grid (joblib; -1 = all cores).")


def _progress_enabled(quiet: bool) -> bool:
    return (not quiet) and sys.stderr.isatty()


def _setup_logging(quiet: bool) -> None:
    logger = logging.getLogger("cchkit")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("cchkit: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.ERROR if quiet else logging.WARNING)


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}.")
    return fmt


def _split_names(value: str | None, option: str) -> list[str] | None:
    if value is None:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise InputError(f"{option} is empty; give comma-separated modality names.")
    return names


def handle_errors(func: F) -> F:
    """Turn user errors into one line + exit 2, bugs into exit 1, Ctrl-C into exit 130."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import warnings

        try:
            with warnings.catch_warnings():
                if kwargs.get("quiet"):
                    warnings.simplefilter("ignore")
                else:
                    warnings.simplefilter("default")
                    warnings.showwarning = _show_warning
                return func(*args, **kwargs)
        except CchkitError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            typer.echo("interrupted: nothing was written.", err=True)
            raise typer.Exit(130) from None
        except typer.Exit:
            raise
        except MemoryError:
            typer.echo("error: out of memory; use fewer samples, a smaller --dim or fewer bootstrap resamples.", err=True)
            raise typer.Exit(2) from None
        except Exception as exc:  # a bug: say so, with a hint
            typer.echo(
                f"internal error: {type(exc).__name__}: {exc}\nThis is a bug in cchkit; please report it at "
                f"{ISSUES_URL} with the command you ran (CCHKIT_DEBUG=1 shows the traceback).",
                err=True,
            )
            import os

            if os.environ.get("CCHKIT_DEBUG"):
                raise
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    typer.echo(f"warning: {message}", err=True)


# ---------------------------------------------------------------- rank
@app.command(
    epilog="Example: cchkit rank --student audio --candidates image,text --estimator gaussian --format json --out ranking.json"
)
@handle_errors
def rank(
    student: str = typer.Option(..., "--student", "-s", help="The student modality, or 'all' for every ordered pair."),
    candidates: Optional[str] = typer.Option(None, "--candidates", "-c", help="Comma-separated teacher modalities (default: all others)."),
    data: str = DataOpt,
    estimator: List[str] = typer.Option(["gaussian"], "--estimator", "-e", help="MI estimator (repeatable); see `cchkit estimators`."),
    representation: str = typer.Option("pca", "--representation", "-r", help="encoder, pca or raw."),
    variant: str = typer.Option("raw", "--variant", help="Score variant: raw (the paper's form) or matched."),
    dim: int = typer.Option(16, "--dim", help="Representation dimension (pca, encoder)."),
    n_bootstrap: int = typer.Option(200, "--n-bootstrap", help="Bootstrap resamples for the intervals."),
    n_seeds: int = typer.Option(1, "--n-seeds", help="Encoder seeds (their spread enters the interval)."),
    fmt: str = FormatOpt,
    out: Optional[Path] = OutOpt,
    seed: int = SeedOpt,
    device: str = DeviceOpt,
    quiet: bool = QuietOpt,
    n_jobs: int = NJobsOpt,
) -> None:
    """Rank candidate teacher modalities for a student modality by their CCH score."""
    _setup_logging(quiet)
    _check_format(fmt)
    from ..ranking import rank_teachers

    estimators = [e for item in estimator for e in item.split(",") if e.strip()]
    ranking = rank_teachers(
        data,
        student,
        _split_names(candidates, "--candidates"),
        estimators=estimators,
        representation=representation,
        variant=variant,
        dim=dim,
        n_bootstrap=n_bootstrap,
        n_seeds=n_seeds,
        random_state=seed,
        device=device,
        n_jobs=n_jobs,
        progress=_progress_enabled(quiet),
    )
    if fmt == "json":
        text = ranking.to_json()
    elif fmt == "csv":
        text = ranking.to_csv()
    else:
        text = _ranking_text(ranking)
    write_output(text, out)


def _ranking_text(ranking) -> str:  # noqa: ANN001
    import pandas as pd

    t = ranking.table
    s = ranking.settings
    lines = [
        f"cchkit rank  data={s['data']}  representation={s['representation']}  variant={s['variant']}  "
        f"n_pairs={int(t['n_pairs'].max()) if len(t) else 0}  units=nats",
        "CCH score = I(H_T; H_S) - I(H_S; Y): > 0 predicts that distilling from the teacher helps the student. "
        "Intervals: 95%.",
        "",
    ]
    view = pd.DataFrame(
        {
            "student": t["student"],
            "teacher": t["teacher"],
            "estimator": t["estimator"],
            "I(T;S)": [fmt_interval(*r) for r in t[["i_teacher_student", "i_teacher_student_low", "i_teacher_student_high"]].itertuples(index=False)],
            "I(S;Y)": [fmt_interval(*r) for r in t[["i_student_label", "i_student_label_low", "i_student_label_high"]].itertuples(index=False)],
            "CCH score": [fmt_interval(*r) for r in t[["cch_score", "cch_low", "cch_high"]].itertuples(index=False)],
            "decision": t["decision"],
            "rank": [fmt_num(v) if pd.notna(v) else "-" for v in t["rank"]],
            "teacher acc": [fmt_num(v) for v in t["teacher_accuracy"]],
            "I(T;Y)": [fmt_num(v) for v in t["i_teacher_label"]],
            "MFH share": [fmt_num(v) for v in t["mfh_score"]],
        }
    )
    if t["student"].nunique() == 1:
        view = view.drop(columns="student")
    if t["estimator"].nunique() > 1:
        view["consensus"] = t["consensus"]
    lines.append(render_frame(view))
    failed = t[t["error"].notna()]
    for r in failed.itertuples(index=False):
        lines.append(f"failed: {r.student} <- {r.teacher} ({r.estimator}): {r.error}")
    rec = ranking.recommended
    lines.append("")
    if isinstance(rec, dict):
        for st, te in rec.items():
            lines.append(f"recommended teacher for {st}: {te or 'none predicted to help'}")
    else:
        lines.append(f"recommended teacher: {rec or 'none predicted to help'}")
    lines.append(f"({s['seconds']:.1f} s)")
    return "\n".join(lines)


# ---------------------------------------------------------------- datasets / estimators
@app.command(epilog="Example: cchkit datasets --format json")
@handle_errors
def datasets(fmt: str = FormatOpt, out: Optional[Path] = OutOpt) -> None:
    """List the bundled datasets."""
    import json

    import pandas as pd

    from .. import datasets as ds

    _check_format(fmt)
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

    from ..estimators.base import _REGISTRY, estimator_descriptions

    _check_format(fmt)
    rows = [{"name": k, "bound": _REGISTRY[k].bound, "description": v} for k, v in estimator_descriptions().items()]
    df = pd.DataFrame(rows, columns=["name", "bound", "description"])
    text = json.dumps({"rows": rows}, indent=2) if fmt == "json" else df.to_csv(index=False) if fmt == "csv" else render_frame(df)
    write_output(text, out)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
