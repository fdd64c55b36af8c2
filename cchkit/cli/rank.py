"""``cchkit rank``: the ranking of candidate teachers, as a table, JSON or CSV."""

from __future__ import annotations

from typing import Optional

import typer

from . import common as c
from ._output import fmt_interval, fmt_num, render_frame


def _criterion_help() -> str:
    """The --criterion help, from the studies' records; a record that cannot be read leaves the
    help without it (the commands that use a criterion then refuse it in one line)."""
    from ..exceptions import CchkitError

    try:
        from ..criteria import DEFAULT_CRITERION
        from ..criteria.regimes import load_regime_records
        from ..ranking import RECOMMEND_BY

        chosen = "; ".join(f"{key}: {entry['default']}" for key, entry in load_regime_records().items())
        names = ", ".join(RECOMMEND_BY)
    except CchkitError as exc:
        return f"What the rank and the advice follow (the criterion study's record could not be read: {exc})"
    return (f"What the rank and the advice follow, one of {names}. Default: the criterion the study of the "
            f"data's label regime chose ({chosen or 'none studied'}); other regimes: {DEFAULT_CRITERION}, the "
            "full-label study's. The output's 'decided by' line gives the rule and its band.")


_CRITERION_HELP = _criterion_help()


@c.app.command(
    epilog="Example: cchkit rank --student audio --candidates image,text --estimator gaussian --format json --out ranking.json"
)
@c.handle_errors
@c.run_options
def rank(
    student: str = typer.Option(..., "--student", "-s", help="The student modality, or 'all' for every ordered pair."),
    candidates: Optional[str] = c.CandidatesOpt,
    data: str = c.DataOpt,
    estimator: list[str] = typer.Option(["gaussian"], "--estimator", "-e", help="MI estimator (repeatable); see `cchkit estimators`."),
    representation: str = typer.Option("pca", "--representation", "-r", help="encoder, pca, pca-var (90% of the variance) or raw."),
    variant: str = typer.Option("raw", "--variant", help="Score variant: raw (the paper's form) or matched."),
    dim: int = typer.Option(16, "--dim", help="Representation dimension (pca, encoder)."),
    n_bootstrap: int = typer.Option(200, "--n-bootstrap", help="Bootstrap resamples for the intervals."),
    n_seeds: int = typer.Option(1, "--n-seeds", help="Encoder seeds (their spread enters the interval)."),
    criterion: Optional[str] = typer.Option(None, "--criterion", help=_CRITERION_HELP),
    run: c.RunOptions = None,  # type: ignore[assignment]  (--format ... --report, see run_options)
) -> None:
    """Rank candidate teacher modalities for a student modality by their CCH score."""
    c.start_command(run.quiet, run.fmt, data, run.out, run.report)
    from ..ranking import rank_teachers

    ranking = rank_teachers(
        data, student, c.split_names(candidates, "--candidates"), estimators=c.repeated(estimator, "--estimator"),
        representation=representation, variant=variant, dim=dim, n_bootstrap=n_bootstrap, n_seeds=n_seeds,
        criterion=criterion, random_state=run.seed, device=run.device, n_jobs=run.n_jobs, backend=run.backend,
        scheduler=run.scheduler, progress=c.progress_enabled(run.quiet),
    )
    if run.fmt == "json":
        text = ranking.to_json()
    elif run.fmt == "csv":
        text = ranking.to_csv()
    else:
        text = _ranking_text(ranking)
    html = None
    if run.report is not None or run.log:  # rendered before anything is written (and logged with --log)
        from ..datasets import load_bundle
        from ..report import ranking_report

        html = ranking_report(ranking, load_bundle(data), command=c.command_line())
    c.write_outputs(text, run.out, html, run.report)
    c.log_run(run, ranking, html)


def deciding_cells(t, criterion: str, regime: str | None = None) -> tuple[str, list[str]]:  # noqa: ANN001
    """The column header (the criterion and the threshold its advice needs) and the values that
    decide each row's advice: the criterion with its interval where it has one."""
    import math

    from ..criteria import helps_threshold
    from ..ranking.table import deciding_intervals

    thr = helps_threshold(criterion, regime)
    values = [fmt_interval(*r) for r in deciding_intervals(t, criterion)]
    rule = f"helps > {thr:.3g}" if math.isfinite(thr) else "its own rule"
    return f"{criterion} ({rule})", values


def _ranking_text(ranking) -> str:  # noqa: ANN001
    import pandas as pd

    from ..ranking.verdict import advice_lines

    t = ranking.table
    s = ranking.settings
    lines = [
        f"cchkit rank  data={s['data']}  representation={s['representation']}  variant={s['variant']}  "
        f"n_pairs={int(t['n_pairs'].max()) if len(t) else 0}  units=nats",
        f"the advice follows {s.get('criterion') or 'cch_score'} (its value and threshold first); the paper's "
        "CCH score = I(H_T; H_S) - I(H_S; Y) and its decision are shown beside it. Intervals: 95%.",
        "",
    ]
    header, values = deciding_cells(t, s.get("criterion") or "cch_score", s.get("label_regime"))
    view = pd.DataFrame(
        {
            "student": t["student"],
            "teacher": t["teacher"],
            "estimator": t["estimator"],
            "rank": [fmt_num(v) if pd.notna(v) else "-" for v in t["rank"]],
            header: values,
            "advice": t["advice"].fillna("-"),
            "I(T;S)": [fmt_interval(*r) for r in t[["i_teacher_student", "i_teacher_student_low", "i_teacher_student_high"]].itertuples(index=False)],
            "I(S;Y)": [fmt_interval(*r) for r in t[["i_student_label", "i_student_label_low", "i_student_label_high"]].itertuples(index=False)],
            "CCH score": [fmt_interval(*r) for r in t[["cch_score", "cch_low", "cch_high"]].itertuples(index=False)],
            "CCH decision": t["decision"],
            "teacher acc": [fmt_num(v) for v in t["teacher_accuracy_on_h"]],
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
    lines.append("")
    lines += advice_lines(ranking)
    lines.append(f"({ranking.seconds:.1f} s)")
    return "\n".join(lines)
