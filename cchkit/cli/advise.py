"""``cchkit advise``: rank the candidates, measure the best-ranked ones, and say which teacher to use."""

from __future__ import annotations

import json
from typing import Optional

import typer

from ..advice import ADVISE_BUDGET
from . import common as c


@c.app.command(epilog="Example: cchkit advise --student audio --candidates image,text --budget 60")
@c.handle_errors
@c.run_options
def advise(
    student: str = typer.Option(..., "--student", "-s", help="The student modality."),
    candidates: Optional[str] = c.CandidatesOpt,
    data: str = c.DataOpt,
    top: int = typer.Option(3, "--top", help="How many of the best-ranked candidates to validate by distilling."),
    seeds: int = typer.Option(5, "--seeds", help="Seeds to start with (more are added within --budget)."),
    budget: float = typer.Option(ADVISE_BUDGET, "--budget", help="Seconds the ranking and the validation may take together (the first round of seeds always runs; a later round that would overrun the budget is not started)."),
    run: c.RunOptions = None,  # type: ignore[assignment]  (--format ... --report, see run_options)
) -> None:
    """Which teacher should the student learn from? Rank, measure, and answer from the measurement."""
    from ..advice import advise as run_advise

    c.start_command(run.quiet, run.fmt, data, run.out, run.report)
    if run.backend != "loky" or run.scheduler is not None:
        raise c.CchkitError("advise runs its ranking in this process; --backend/--scheduler are for rank and validate.")
    result = run_advise(data, student, c.split_names(candidates, "--candidates"), top=top, seeds=seeds, budget=budget,
                        random_state=run.seed, device=run.device, progress=c.progress_enabled(run.quiet),
                        rank_params={"n_jobs": run.n_jobs})
    if run.fmt == "json":
        text = json.dumps(result.to_dict(), indent=2, default=str)
    elif run.fmt == "csv":
        text = result.validation.table.to_csv(index=False, float_format="%.6g")
    else:
        text = _advice_text(result)
    html = None
    if run.report is not None or run.log:  # rendered before anything is written (and logged with --log)
        from ..datasets import load_bundle
        from ..report import validation_report

        html = validation_report(result.validation, load_bundle(data), command=c.command_line())
    c.write_outputs(text, run.out, html, run.report)
    c.log_run(run, result, html)


def _advice_text(result) -> str:  # noqa: ANN001
    from .validate import _validation_text

    return "\n".join([f"advice: {result.text}", "", "the measurement behind it:", _validation_text(result.validation)])
