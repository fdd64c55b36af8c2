"""``cchkit advise``: rank the candidates, measure the best-ranked ones, and say which teacher to use."""

from __future__ import annotations

import json
from typing import Optional

import typer

from ..advice import ADVISE_BUDGET, ADVISE_TOP
from . import common as c


@c.app.command(epilog="Example: cchkit advise --student audio --candidates image,text --budget 60")
@c.handle_errors
@c.run_options
def advise(
    student: str = typer.Option(..., "--student", "-s", help="The student modality."),
    candidates: Optional[str] = c.CandidatesOpt,
    data: str = c.DataOpt,
    top: Optional[int] = typer.Option(None, "--top", help=f"How many of the best-ranked candidates to validate by distilling (default {ADVISE_TOP}; with few labels every candidate is measured)."),
    seeds: int = typer.Option(5, "--seeds", help="Seeds to start with (more are added within --budget)."),
    budget: float = typer.Option(ADVISE_BUDGET, "--budget", help="Seconds the ranking and the validation may take together (the first round of seeds always runs; a later round that would overrun the budget is not started)."),
    labels_per_class: Optional[int] = typer.Option(None, "--labels-per-class", help="Few labels: keep L labelled training rows per class, the other training rows unlabeled (see cchkit validate)."),
    labelled_fraction: Optional[float] = typer.Option(None, "--labelled-fraction", help="Few labels: keep this fraction of the labelled training rows."),
    teacher_labels: str = typer.Option("auto", "--teacher-labels", help="Few labels: same, own or auto (see cchkit validate)."),
    baseline: str = typer.Option("teacher-free", "--baseline", help="What a gain is measured over: teacher-free (default) or no-kd (see cchkit validate)."),
    run: c.RunOptions = None,  # type: ignore[assignment]  (--format ... --report, see run_options)
) -> None:
    """Which teacher should the student learn from? Rank, measure, and answer from the measurement."""
    from ..advice import advise as run_advise

    c.start_command(run.quiet, run.fmt, data, run.out, run.report)
    few = {"labels_per_class": labels_per_class, "labelled_fraction": labelled_fraction}
    if labels_per_class is not None or labelled_fraction is not None:
        if top is not None:
            raise c.CchkitError("--top does not apply with few labels (every candidate is measured, and none is "
                                "ranked); leave it out.")
    if teacher_labels != "auto":  # data holding unlabeled rows take it too: advise refuses it where labels abound
        few["teacher_labels"] = teacher_labels
    from ..validation import BASELINES

    if baseline not in BASELINES:
        raise c.CchkitError(f"--baseline must be {' or '.join(BASELINES)}, got {baseline!r}.")
    extra = {"baseline": baseline} if baseline != "teacher-free" else {}
    # the ranking's grid and the validation's seeds both go where --n-jobs / --backend say (advise sends both)
    parallel: dict[str, object] = {"n_jobs": run.n_jobs} if run.n_jobs != 1 else {}
    if run.backend != "loky" or run.scheduler is not None:
        parallel.update(backend=run.backend, scheduler=run.scheduler)
    result = run_advise(data, student, c.split_names(candidates, "--candidates"), top=top, seeds=seeds, budget=budget,
                        random_state=run.seed, device=run.device, progress=c.progress_enabled(run.quiet),
                        **{k: v for k, v in few.items() if v is not None}, **extra, **parallel)
    if run.fmt == "json":
        text = json.dumps(result.to_dict(), indent=2, default=str)
    elif run.fmt == "csv":
        text = result.validation.table.to_csv(index=False, float_format="%.6g")
    else:
        text = _advice_text(result)
    html = None
    if run.report is not None or run.log:  # rendered before anything is written (and logged with --log)
        from ..datasets import load_bundle
        from ..report import few_label_report, validation_report

        page = few_label_report if _teacher_free(result) else validation_report
        html = page(result.validation, load_bundle(data), command=c.command_line(), advice=result)
    c.write_outputs(text, run.out, html, run.report)
    c.log_run(run, result, html)


def _advice_text(result) -> str:  # noqa: ANN001
    from .validate import _validation_text, few_labels_text

    body = few_labels_text(result.validation) if _teacher_free(result) else _validation_text(result.validation)
    return "\n".join([f"advice: {result.text}", "", "the measurement behind it:", body])


def _teacher_free(result) -> bool:  # noqa: ANN001
    return type(result.validation).__name__ == "FewLabelReport"
