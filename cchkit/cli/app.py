"""``cchkit``: rank teacher modalities, estimate MI, validate by distilling.

Exit codes: 0 success; 2 bad usage or bad input (one line on stderr, no traceback); 1 internal
error (with a hint to report it); 130 interrupted (Ctrl-C), nothing written.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional, TypeVar

import typer

from ..exceptions import CchkitError, InputError
from ._output import FORMATS, check_out_is_not_input, fmt_interval, fmt_num, render_frame, write_output

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
BackendOpt = typer.Option("loky", "--backend", help="Where the grid runs with --n-jobs: loky (local processes), dask or ray.")
SchedulerOpt = typer.Option(None, "--scheduler", help="Dask scheduler address (tcp://host:8786), with --backend dask.")
ReportOpt = typer.Option(None, "--report", help="Also write one self-contained HTML page (tables, plots, settings, data) to this file.")


def _progress_enabled(quiet: bool) -> bool:
    return (not quiet) and sys.stderr.isatty()


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of the record (a test runner swaps it)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("cchkit: %(message)s"))

    @property
    def stream(self):  # noqa: ANN201
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # noqa: ANN001
        pass


def _setup_logging(quiet: bool) -> None:
    logger = logging.getLogger("cchkit")
    # the package adds only a NullHandler on import; the CLI shows warnings on stderr
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        logger.addHandler(_StderrHandler())
    logger.setLevel(logging.ERROR if quiet else logging.WARNING)


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}.")
    return fmt


def _input_paths(data: str) -> list[Path]:
    """The files a ``--data`` value reads: the path itself, or the bundled dataset's directory."""
    from .. import datasets as ds

    path = Path(data)
    if not path.exists() and data in ds.list():
        path = ds.data_dir() / data
    return [path]


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
            # one line, whatever the message quotes (a path or a name with a newline in it)
            typer.echo("error: " + " ".join(str(exc).splitlines()), err=True)
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
    estimator: list[str] = typer.Option(["gaussian"], "--estimator", "-e", help="MI estimator (repeatable); see `cchkit estimators`."),
    representation: str = typer.Option("pca", "--representation", "-r", help="encoder, pca, pca-var (90% of the variance) or raw."),
    variant: str = typer.Option("raw", "--variant", help="Score variant: raw (the paper's form) or matched."),
    dim: int = typer.Option(16, "--dim", help="Representation dimension (pca, encoder)."),
    n_bootstrap: int = typer.Option(200, "--n-bootstrap", help="Bootstrap resamples for the intervals."),
    n_seeds: int = typer.Option(1, "--n-seeds", help="Encoder seeds (their spread enters the interval)."),
    criterion: Optional[str] = typer.Option(None, "--criterion", help="What the rank and the recommendation follow: cch_score, teacher_accuracy or label_gain (default: the study's winner, see the README)."),
    fmt: str = FormatOpt,
    out: Optional[Path] = OutOpt,
    seed: int = SeedOpt,
    device: str = DeviceOpt,
    quiet: bool = QuietOpt,
    n_jobs: int = NJobsOpt,
    backend: str = BackendOpt,
    scheduler: Optional[str] = SchedulerOpt,
    report: Optional[Path] = ReportOpt,
) -> None:
    """Rank candidate teacher modalities for a student modality by their CCH score."""
    _setup_logging(quiet)
    _check_format(fmt)
    for path in (out, report):
        check_out_is_not_input(path, _input_paths(data))
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
        criterion=criterion,
        random_state=seed,
        device=device,
        n_jobs=n_jobs,
        backend=backend,
        scheduler=scheduler,
        progress=_progress_enabled(quiet),
    )
    if fmt == "json":
        text = ranking.to_json()
    elif fmt == "csv":
        text = ranking.to_csv()
    else:
        text = _ranking_text(ranking)
    write_output(text, out)
    if report is not None:
        from ..datasets import load_bundle
        from ..report import ranking_report

        write_output(ranking_report(ranking, load_bundle(data)), report)


def _ranking_text(ranking) -> str:  # noqa: ANN001
    import pandas as pd

    from ..ranking import RECOMMEND_BY as RECOMMEND_BY_TEXT

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
    for r in t[t["note"].notna()].itertuples(index=False):
        lines.append(f"note: {r.student} <- {r.teacher} ({r.estimator}): {r.note}")
    for r in t[t["label_check"].notna() & (t["label_check"] != "ok")].itertuples(index=False):
        lines.append(f"check: {r.student} <- {r.teacher} ({r.estimator}): {r.label_check}")
    recs = ranking.recommendations
    lines.append("")
    lines.append(f"ranked and recommended by {s.get('criterion', 'cch_score')}: helps when {RECOMMEND_BY_TEXT.get(s.get('criterion'), '-')}")
    if len(recs) > 1:
        for st, te in recs.items():
            lines.append(f"recommended teacher for {st}: {te or 'none predicted to help'}")
    else:
        lines.append(f"recommended teacher: {ranking.recommended or 'none predicted to help'}")
    lines.append(f"({ranking.seconds:.1f} s)")
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

    from ..estimators import estimator_class, estimator_descriptions

    _check_format(fmt)
    rows = [{"name": k, "bound": estimator_class(k).bound, "description": v} for k, v in estimator_descriptions().items()]
    df = pd.DataFrame(rows, columns=["name", "bound", "description"])
    text = json.dumps({"rows": rows}, indent=2) if fmt == "json" else df.to_csv(index=False) if fmt == "csv" else render_frame(df)
    write_output(text, out)


@app.command(
    epilog="Example: cchkit validate --student audio --candidates image,text --method class-align --method ucmkd --seeds 5 --format json"
)
@handle_errors
def validate(
    student: str = typer.Option(..., "--student", "-s", help="The student modality."),
    candidates: Optional[str] = typer.Option(None, "--candidates", "-c", help="Comma-separated teacher modalities (default: all others)."),
    data: str = DataOpt,
    method: Optional[list[str]] = typer.Option(None, "--method", "-m", help="KD method (repeatable): class-align, ucmkd, align, logit-kd, feature-kd; 'none' is always run. Default: class-align, plus logit-kd when the data are paired."),
    seeds: int = typer.Option(5, "--seeds", help="Seeds per teacher and method (intervals over seeds)."),
    train_size: Optional[int] = typer.Option(None, "--train-size", help="The student's labelled budget: training samples (the teacher keeps its own split)."),
    epochs: int = typer.Option(30, "--epochs", help="Training epochs of the student."),
    estimator: list[str] = typer.Option(["gaussian"], "--estimator", "-e", help="MI estimator for the ranking side (repeatable)."),
    representation: str = typer.Option("pca", "--representation", "-r", help="Representation for the ranking side: encoder, pca, pca-var or raw."),
    variant: str = typer.Option("raw", "--variant", help="CCH score variant for the ranking side: raw or matched."),
    n_bootstrap: int = typer.Option(200, "--n-bootstrap", help="Bootstrap resamples for the ranking's intervals."),
    fmt: str = FormatOpt,
    out: Optional[Path] = OutOpt,
    seed: int = SeedOpt,
    device: str = DeviceOpt,
    quiet: bool = QuietOpt,
    n_jobs: int = NJobsOpt,
    backend: str = BackendOpt,
    scheduler: Optional[str] = SchedulerOpt,
    report: Optional[Path] = ReportOpt,
) -> None:
    """Distil every candidate teacher into the student and check the ranking against the measured gains."""

    from ..datasets import load_bundle
    from ..distill import validate as run_validation
    from ..ranking import resolve_candidates

    _setup_logging(quiet)
    _check_format(fmt)
    for path in (out, report):
        check_out_is_not_input(path, _input_paths(data))
    if seeds < 1:
        raise InputError(f"--seeds must be a positive integer, got {seeds}.")
    if epochs < 1:
        raise InputError(f"--epochs must be a positive integer, got {epochs}.")
    bundle = load_bundle(data)
    cands = resolve_candidates(bundle, student, _split_names(candidates, "--candidates"))[0][1]
    estimators_ = [e for item in estimator for e in item.split(",") if e.strip()]
    rank_params = dict(estimators=estimators_, representation=representation, variant=variant, n_bootstrap=n_bootstrap,
                       backend=backend, scheduler=scheduler)
    methods = [m for item in method for m in item.split(",") if m.strip()] if method else None
    if train_size is not None and train_size < 1:
        raise InputError(f"--train-size must be a positive number of samples, got {train_size}.")
    result = run_validation(
        bundle, student, cands, methods=methods, seeds=seeds, epochs=epochs, rank_params=rank_params,
        random_state=seed, device=device, progress=_progress_enabled(quiet), n_jobs=n_jobs, train_size=train_size,
    )
    if fmt == "json":
        text = result.to_json()
    elif fmt == "csv":
        text = result.table.to_csv(index=False, float_format="%.6g")
    else:
        text = _validation_text(result)
    write_output(text, out)
    if report is not None:
        from ..report import validation_report

        write_output(validation_report(result, bundle), report)


def _validation_text(report) -> str:  # noqa: ANN001
    import pandas as pd

    t = report.table
    rows = []
    for teacher, grp in t.groupby("teacher", sort=False):
        first = grp.iloc[0]
        row = {"teacher": teacher, "acc (no KD)": fmt_interval(first.acc_none, first.acc_none_low, first.acc_none_high)}
        for r in grp.itertuples(index=False):  # one gain column per method: unpaired and paired side by side
            row[f"gain {r.method}"] = fmt_interval(r.gain, r.gain_low, r.gain_high) + (" *" if r.significant else "")
        row["CCH score"] = fmt_interval(first.cch_score, first.cch_low, first.cch_high)
        row["decision"] = first.decision
        rows.append(row)
    view = pd.DataFrame(rows)
    s = report.summary
    lines = [
        f"cchkit validate  student={t['student'].iloc[0] if len(t) else '-'}  accuracy on the student's held-out split, "
        "95% intervals over seeds (* significant)", "", render_frame(view), "",
        "power: " + s.get("power", {}).get("statement", "-"), "",
    ]
    lines.append(f"does each criterion predict the measured gain of {s.get('method')}? (sign agreement counts gains whose interval excludes 0)")
    rows = []
    for name, c in [("cch_score", s)] + list(s.get("baselines", {}).items()):
        rows.append(
            {
                "criterion": name,
                "spearman": fmt_num(c.get("spearman")),
                "sign agreement": f"{c.get('sign_agree', '-')}/{c.get('n_significant', '-')}",
                "top-ranked is best": {True: "yes", False: "no"}.get(c.get("top_is_best"), "-"),
            }
        )
    lines.append(render_frame(pd.DataFrame(rows)))
    for r in t[t["error"].fillna("").astype(str).str.len() > 0].itertuples(index=False):
        lines.append(f"failed: {r.teacher} ({r.method}): {r.error}")
    lines.append(f"({fmt_num(s.get('seconds'), 1)} s)")
    return "\n".join(lines)


@app.command(epilog="Example: cchkit info --data mfeat")
@handle_errors
def info(data: str = DataOpt, fmt: str = FormatOpt, out: Optional[Path] = OutOpt) -> None:
    """Summarise a bundle: modalities, dims, n, classes, pairing, constant columns, NaN count."""
    import json

    from ..datasets import load_bundle

    _check_format(fmt)
    check_out_is_not_input(out, _input_paths(data))
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


@app.command(
    epilog="Examples: cchkit estimate -x audio -y label --estimator ksg   |   cchkit estimate -x audio -y image -e gaussian -f json"
)
@handle_errors
def estimate(
    x: str = typer.Option(..., "--x", "-x", help="A modality."),
    y: str = typer.Option("label", "--y", "-y", help="Another modality, or 'label' for the class labels."),
    data: str = DataOpt,
    estimator: str = typer.Option("gaussian", "--estimator", "-e", help="A registered MI estimator (see `cchkit estimators`)."),
    n_bootstrap: int = typer.Option(200, "--n-bootstrap", help="Bootstrap resamples (estimators that bootstrap)."),
    units: str = typer.Option("nats", "--units", help="nats or bits."),
    fmt: str = FormatOpt,
    out: Optional[Path] = OutOpt,
    seed: int = SeedOpt,
    device: str = DeviceOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Estimate the mutual information between two modalities, or a modality and the labels."""
    import json

    from ..datasets import load_bundle
    from ..estimators import get_estimator_accepting, list_estimators

    _setup_logging(quiet)
    _check_format(fmt)
    check_out_is_not_input(out, _input_paths(data))
    if units not in ("nats", "bits"):
        raise InputError(f"--units must be nats or bits, got {units!r}.")
    if n_bootstrap < 1:
        raise InputError(f"--n-bootstrap must be a positive integer, got {n_bootstrap}.")
    if estimator not in list_estimators():
        raise InputError(f"unknown estimator {estimator!r}; choose one of {', '.join(list_estimators())}.")
    bundle = load_bundle(data)
    params: dict[str, Any] = {"random_state": seed, "n_bootstrap": n_bootstrap, "progress": _progress_enabled(quiet)}
    if device != "auto":
        params["device"] = device
    est = get_estimator_accepting(estimator, **params)
    if y == "label":
        m = bundle.modality(x)
        result = est.estimate(m.data, m.labels, discrete_y=True)
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
    sep: str = typer.Option("_", "--sep", help="Without --mapping: columns are grouped by the prefix before this separator."),
    id_column: Optional[str] = typer.Option(None, "--id-column", help="A sample-id column (optional)."),
    name: str = typer.Option("", "--name", help="Bundle name (default: the table's file name)."),
) -> None:
    """Turn a CSV or parquet table into a bundle (columns grouped by prefix or by a JSON mapping)."""

    import pandas as pd

    from ..bundle import ModalityBundle

    if not table.is_file():
        raise InputError(f"{table}: no such file.")
    if table.suffix.lower() in (".h5ad", ".h5mu"):
        _write_new_bundle(_scverse_bundle(table, label, name or table.stem), Path(out))
        return
    try:
        if table.suffix.lower() in (".parquet", ".pq"):
            df = pd.read_parquet(table)
        elif table.suffix.lower() in (".csv", ".tsv", ".txt"):
            df = pd.read_csv(table, sep="\t" if table.suffix.lower() == ".tsv" else ",")
        else:
            raise InputError(f"{table}: unsupported table type {table.suffix!r}; use .csv, .tsv or .parquet.")
    except InputError:
        raise
    except ImportError:
        raise InputError(
            f"reading {table.suffix} files needs pyarrow: pip install 'cchkit[parquet]' (or pip install pyarrow)."
        ) from None
    except Exception as exc:
        raise InputError(f"{table} could not be read as a table ({type(exc).__name__}: {exc}).") from None
    groups = None
    if mapping is not None:
        from .._safe_arrays import check_regular_file, read_json

        check_regular_file(Path(mapping), "--mapping")
        groups = read_json(Path(mapping).read_bytes(), f"--mapping {mapping}")
        if not isinstance(groups, dict) or not all(
            isinstance(v, list) and all(isinstance(c, (str, int)) for c in v) for v in groups.values()
        ):
            raise InputError('--mapping must be a JSON object {"modality": ["column", ...]}.')
    bundle = ModalityBundle.from_dataframe(
        df, label=label, modalities=groups, sep=sep, id_column=id_column, name=name or table.stem
    )
    _write_new_bundle(bundle, Path(out))


def _scverse_bundle(path: Path, label: str, name: str):  # noqa: ANN202
    """A bundle from an AnnData ``.h5ad`` (X and every obsm key) or a MuData ``.h5mu`` (every modality)."""
    from ..bundle import ModalityBundle

    try:
        if path.suffix.lower() == ".h5ad":
            import anndata

            return ModalityBundle.from_anndata(anndata.read_h5ad(path), label=label, name=name)
        import mudata

        return ModalityBundle.from_mudata(mudata.read_h5mu(path), label=label, name=name)
    except ImportError:
        raise InputError(f"reading {path.suffix} files needs anndata and mudata: pip install 'cchkit[scverse]'.") from None
    except (OSError, KeyError) as exc:
        raise InputError(f"{path} could not be read ({type(exc).__name__}: {exc}).") from None


def _write_new_bundle(bundle, out: Path) -> None:  # noqa: ANN001
    """Write ``bundle`` to a path that must not exist yet (atomically: temp dir, then rename)."""
    import os
    import shutil
    import tempfile

    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"--out {out}: the directory {parent} does not exist.")
    if out.exists():
        raise InputError(f"--out {out} already exists; cchkit does not overwrite bundles. Choose a new path.")
    tmp = Path(tempfile.mkdtemp(prefix=".cchkit-import-", dir=parent))
    try:
        written = bundle.save(tmp / out.name)
        os.replace(written, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    typer.echo(f"wrote {out}: " + ", ".join(f"{m.name} ({m.n}x{m.dim})" for m in bundle.modalities.values()) + f"; {bundle.n_classes} classes", err=True)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
