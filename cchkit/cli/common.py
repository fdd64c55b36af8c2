"""What every ``cchkit`` command shares: the typer app, the options defined once, logging, and
:func:`handle_errors` (user errors -> one line and exit 2, bugs -> exit 1, Ctrl-C -> 130)."""

from __future__ import annotations

import functools
import inspect
import logging
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, TypeVar

import typer

from .._params import Options, check_param
from .._validation import comma_names
from .._warn import WARNED
from ..exceptions import CchkitError
from ..runlog import redact
from . import _output
from ._output import FORMATS, check_out_is_not_input, check_outputs, escape_control

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
CandidatesOpt = typer.Option(None, "--candidates", "-c", help="Comma-separated teacher modalities (default: all others).")
FormatOpt = typer.Option("table", "--format", "-f", help="Output format: table (people), json or csv (pipelines).")
OutOpt = typer.Option(None, "--out", "-o", help="Write the result to this file (atomically) instead of stdout.")
SeedOpt = typer.Option(0, "--seed", help="Random seed; the same seed gives the same numbers on CPU.")
DeviceOpt = typer.Option("auto", "--device", help="auto (CUDA only where it was measured faster: neural MI estimators from 10,000 rows; the distiller and encoders stay on the CPU), cpu or cuda.")
QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress bars or log messages.")
NJobsOpt = typer.Option(1, "--n-jobs", help="Parallel workers (joblib processes; -1 = all cores): the grid of rank and estimate, the seeds of validate and advise.")
BackendOpt = typer.Option("loky", "--backend", help="Where the parallel work (the grid, or the seeds of validate) runs with --n-jobs: loky (local processes), dask or ray.")
SchedulerOpt = typer.Option(None, "--scheduler", help="Dask scheduler address (tcp://host:8786), with --backend dask.")
LogOpt = typer.Option(None, "--log", help="Record the run in an experiment tracker: 'mlflow' (local ./mlruns, or MLFLOW_TRACKING_URI; needs the optional extra 'mlflow', i.e. mlflow-skinny).")
ReportOpt = typer.Option(None, "--report", help="Also write one self-contained HTML page (tables, plots, settings, data) to this file.")


@dataclass(frozen=True)
class RunOptions:
    """The options that every command which computes (rank, validate) takes, as one object."""

    fmt: str
    out: Path | None
    seed: int
    device: str
    quiet: bool
    n_jobs: int
    backend: str
    scheduler: str | None
    report: Path | None
    log: str | None = None


#: RunOptions field -> (annotation, typer option), appended to a command by :func:`run_options`.
_RUN_OPTIONS: dict[str, tuple[Any, Any]] = {
    "fmt": (str, FormatOpt), "out": (Optional[Path], OutOpt), "seed": (int, SeedOpt), "device": (str, DeviceOpt),
    "quiet": (bool, QuietOpt), "n_jobs": (int, NJobsOpt), "backend": (str, BackendOpt),
    "scheduler": (Optional[str], SchedulerOpt), "report": (Optional[Path], ReportOpt), "log": (Optional[str], LogOpt),
}


def run_options(func: F) -> F:
    """Give a command the shared :class:`RunOptions` (declared once, here): the command takes
    ``run: RunOptions`` and the CLI shows ``--format --out --seed --device --quiet --n-jobs
    --backend --scheduler --report``."""
    sig = inspect.signature(func)
    own = [p for name, p in sig.parameters.items() if name != "run"]
    shared = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=opt, annotation=ann)
              for name, (ann, opt) in _RUN_OPTIONS.items()]

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        _COMMAND["line"] = _retype(func.__name__, kwargs, own + shared)
        run = RunOptions(**{name: kwargs.pop(name) for name in _RUN_OPTIONS})
        from ..runlog import check_log

        check_log(run.log)  # a misspelt tracker fails before any work
        return func(run=run, **kwargs)

    wrapper.__signature__ = sig.replace(parameters=own + shared)  # type: ignore[attr-defined]
    hints = typing.get_type_hints(func)
    wrapper.__annotations__ = {**{k: v for k, v in hints.items() if k != "run"},
                               **{name: ann for name, (ann, _) in _RUN_OPTIONS.items()}}
    return wrapper  # type: ignore[return-value]


#: The running command as retyped by :func:`run_options` (the CLI runs one command per process).
_COMMAND = {"line": ""}


def command_line() -> str:
    """The running command as the user could retype it: ``cchkit <command>`` and every option
    whose value differs from its default (set when a computing command starts)."""
    return _COMMAND["line"] or " ".join(["cchkit", *sys.argv[1:]])


def _retype(name: str, values: dict[str, Any], params: list[inspect.Parameter]) -> str:
    parts = ["cchkit", name.replace("_", "-")]
    for p in params:
        info, value = p.default, values.get(p.name)
        decls = [d for d in (getattr(info, "param_decls", None) or ()) if d.startswith("-")]
        if isinstance(value, bool) and value != getattr(info, "default", None) and decls:
            # a flag off its default: "--tune/--no-tune" set to False is "--no-tune"
            on_off = next((d.split("/") for d in decls if "/" in d), None)
            if on_off:
                parts.append(on_off[0] if value else on_off[1])
                continue
        if value in (None, False, (), []) or value == getattr(info, "default", None) or not decls:
            continue
        opt = max(decls, key=len)
        items = value if isinstance(value, (list, tuple)) else [value]
        parts += [opt] if value is True else [x for v in items for x in (opt, str(v))]
    return " ".join(parts)


def log_run(run: RunOptions, result: Any, html: str | None) -> None:
    """With ``--log``, record ``result`` and its HTML page in the tracker, and say where on stderr."""
    if not run.log:
        return
    from ..runlog import log_result

    run_id = log_result(result, to=run.log, html=html, command=command_line())
    typer.echo(f"logged to MLflow run {run_id}", err=True)


def given_options(names: typing.Iterable[str]) -> list[str]:
    """The options of ``names`` (parameter names) the user gave, on the command line or in the
    environment, their default value included: a value passed is used or refused, and comparing
    it with the default would let ``--epochs 30`` through unread."""
    import importlib

    # the click that typer runs on: typer may vendor its own, whose context the public click cannot see
    click_pkg = typer.BadParameter.__module__.rsplit(".", 1)[0]
    ctx = importlib.import_module(click_pkg + ".globals").get_current_context()
    default = importlib.import_module(click_pkg + ".core").ParameterSource.DEFAULT
    return [name for name in names if ctx.get_parameter_source(name) not in (None, default)]


def progress_enabled(quiet: bool) -> bool:
    return (not quiet) and sys.stderr.isatty()


class _EscapingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return escape_control(redact(super().format(record)))


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of the record (a test runner swaps it)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(_EscapingFormatter("cchkit: %(message)s"))

    @property
    def stream(self):  # noqa: ANN201
        return sys.stderr

    def emit(self, record: logging.LogRecord) -> None:
        if not getattr(record, WARNED, False):  # the same text comes as a Python warning: one line
            super().emit(record)

    @stream.setter
    def stream(self, value) -> None:  # noqa: ANN001
        pass


def setup_logging(quiet: bool) -> None:
    logger = logging.getLogger("cchkit")
    # the package adds only a NullHandler on import; the CLI shows warnings on stderr
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        logger.addHandler(_StderrHandler())
    logger.setLevel(logging.ERROR if quiet else logging.WARNING)


def check_format(fmt: str) -> str:
    """``--format`` is one of :data:`FORMATS`."""
    check_param("", "--format", fmt, [Options(FORMATS)])
    return fmt


def input_paths(data: str) -> list[Path]:
    """The files a ``--data`` value reads: the path itself, or the bundled dataset's directory."""
    from .. import datasets as ds

    path = Path(data)
    if not path.exists() and data in ds.list():
        path = ds.data_dir() / data
    return [path]


def split_names(value: str | None, option: str) -> list[str] | None:
    """Comma-separated names (None stays None); an empty list, or an empty name between commas
    (a name dropped by a typo would change the question without a word), is refused."""
    return None if value is None else comma_names(value, option)


def start_command(quiet: bool, fmt: str, data: str, out: Path | None = None, report: Path | None = None) -> None:
    """What every command that reads ``--data`` and writes files does first: logging, the
    ``--format`` check, and refusing, before any work, an output path that is one of the
    inputs, that cannot be written, or that is given for both outputs."""
    setup_logging(quiet)
    check_format(fmt)
    check_outputs(("--out", out), ("--report", report))
    for path in (out, report):
        check_out_is_not_input(path, input_paths(data))


def write_outputs(text: str, out: Path | None, html: str | None, report: Path | None) -> None:
    """The result (stdout or ``--out``) and the HTML report, both rendered already; the report's
    path is said on stderr."""
    from ._output import write_output

    write_output(text, out)
    if report is not None and html is not None:
        write_output(html, report)
        typer.echo(f"report written to {escape_control(str(report))}", err=True)


def repeated(values: list[str] | None, option: str) -> list[str]:
    """A repeatable option whose values may also be comma-separated (``-e a,b -e c``); an empty
    value is refused, as in :func:`split_names`."""
    out = [v.strip() for item in values or [] for v in item.split(",")]
    if not all(out):
        raise CchkitError(f"{option} has an empty value ({', '.join(map(repr, values or []))}); give names, "
                          "comma-separated or the option repeated.")
    return out


def handle_errors(func: F) -> F:
    """Turn user errors into one line + exit 2, bugs into exit 1, Ctrl-C into exit 130."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import warnings

        _output.WRITTEN.clear()
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
            typer.echo("error: " + escape_control(redact(" ".join(str(exc).splitlines()))), err=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            typer.echo(interrupted_message(), err=True)
            raise typer.Exit(130) from None
        except typer.Exit:
            raise
        except MemoryError:
            typer.echo("error: out of memory; use fewer samples, a smaller --dim or fewer bootstrap resamples.", err=True)
            raise typer.Exit(2) from None
        except Exception as exc:  # a bug: say so, with a hint
            typer.echo(
                f"internal error: {type(exc).__name__}: {escape_control(redact(str(exc)))}\nThis is a bug in cchkit; please report it at "
                f"{ISSUES_URL} with the command you ran (CCHKIT_DEBUG=1 shows the traceback).",
                err=True,
            )
            import os

            if os.environ.get("CCHKIT_DEBUG"):
                raise
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    typer.echo(f"warning: {escape_control(redact(str(message)))}", err=True)


def interrupted_message() -> str:
    """What Ctrl-C leaves behind, truthfully: nothing, or the files already written."""
    if not _output.WRITTEN:
        return "interrupted: nothing was written."
    return "interrupted after writing " + ", ".join(map(str, _output.WRITTEN)) + "; nothing else was written."


