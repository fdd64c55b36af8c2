"""``cchkit validate``: distil every candidate and measure whose gain is the teacher's."""

from __future__ import annotations

from typing import Optional

import typer

from ..exceptions import InputError
from . import common as c
from ._output import fmt_interval, fmt_num, render_frame


@c.app.command(
    epilog="Example: cchkit validate --student audio --candidates image,text --method class-align --method ucmkd --seeds 5 --format json"
)
@c.handle_errors
@c.run_options
def validate(
    student: str = typer.Option(..., "--student", "-s", help="The student modality."),
    candidates: Optional[str] = c.CandidatesOpt,
    data: str = c.DataOpt,
    method: Optional[list[str]] = typer.Option(None, "--method", "-m", help="KD method (repeatable; `cchkit methods` lists them, with every label and with few labels); the teacher-free students always run. Default: class-align, plus logit-kd when the data are paired."),
    seeds: int = typer.Option(5, "--seeds", help="Seeds per teacher and method (intervals over seeds)."),
    train_size: Optional[int] = typer.Option(None, "--train-size", help="With --baseline no-kd: the student's labelled budget, in training samples (the teacher keeps its own split). For few labels use --labels-per-class."),
    epochs: int = typer.Option(30, "--epochs", help="With --baseline no-kd: training epochs of the student."),
    estimator: list[str] = typer.Option(["gaussian"], "--estimator", "-e", help="With --baseline no-kd: MI estimator for the ranking side (repeatable)."),
    representation: str = typer.Option("pca", "--representation", "-r", help="With --baseline no-kd: representation for the ranking side: encoder, pca, pca-var or raw."),
    variant: str = typer.Option("raw", "--variant", help="With --baseline no-kd: CCH score variant for the ranking side: raw or matched."),
    n_bootstrap: int = typer.Option(200, "--n-bootstrap", help="With --baseline no-kd: bootstrap resamples for the ranking's intervals."),
    budget: Optional[float] = typer.Option(None, "--budget", help="Seconds the validation may take: seeds are added (up to --max-seeds) until the teachers' gain intervals separate or the budget is spent. Default: exactly --seeds seeds."),
    max_seeds: int = typer.Option(20, "--max-seeds", help="The most seeds --budget may reach."),
    tune: bool = typer.Option(True, "--tune/--no-tune", help="With --baseline no-kd: tune the no-KD and the KD students with one budget on the validation split (default) or use the fixed settings."),
    labels_per_class: Optional[int] = typer.Option(None, "--labels-per-class", help="Few labels: keep L labelled training rows per class and use the other training rows as unlabeled rows (the test rows stay labelled)."),
    labelled_fraction: Optional[float] = typer.Option(None, "--labelled-fraction", help="Few labels: keep this fraction of the labelled training rows; the rest become unlabeled rows."),
    teacher_labels: str = typer.Option("auto", "--teacher-labels", help="Few labels: 'same' (the teacher learns from the student's labelled samples only), 'own' (every labelled row of its modality but the test samples; cross-fitted over the student's unlabeled samples), or 'auto' (own where the data give the teacher labels the student lacks: on its unlabeled samples, or on samples it does not have, as without pairs)."),
    baseline: str = typer.Option("teacher-free", "--baseline", help="What a gain is measured over: 'teacher-free' (default: the best of softmax regression and an MLP, supervised, label smoothing or self-training, with a placebo teacher beside each teacher; any label regime) or 'no-kd' (the tuned no-KD MLP or a linear probe, every label, no placebo; runs every method and compares the gains with the ranking; its gains are upper bounds)."),
    run: c.RunOptions = None,  # type: ignore[assignment]  (--format ... --report, see run_options)
) -> None:
    """Distil every candidate teacher into the student and measure whose gain is the teacher's."""

    from ..datasets import load_bundle
    from ..ranking import resolve_candidates
    from ..validation import validate as run_validation

    c.start_command(run.quiet, run.fmt, data, run.out, run.report)
    bundle = load_bundle(data)
    cands = resolve_candidates(bundle, student, c.split_names(candidates, "--candidates"))[0][1]
    from ..validation import BASELINES

    if baseline not in BASELINES:
        raise InputError(f"--baseline must be {' or '.join(BASELINES)}, got {baseline!r}.")
    if baseline == "teacher-free":
        given = _no_kd_options_given(tune) + (["--device"] if run.device != "auto" else [])
        if given:
            raise InputError(f"{', '.join(given)} {'applies' if len(given) == 1 else 'apply'} only with --baseline no-kd "
                             "(the tuned no-KD student, every label); leave "
                             f"{'it' if len(given) == 1 else 'them'} out or add --baseline no-kd.")
        result = run_validation(bundle, student, cands, methods=c.repeated(method, "--method") or None, seeds=seeds,
                                random_state=run.seed, progress=c.progress_enabled(run.quiet), budget=budget,
                                max_seeds=max_seeds, labels_per_class=labels_per_class,
                                labelled_fraction=labelled_fraction, teacher_labels=teacher_labels, n_jobs=run.n_jobs,
                                backend=run.backend, scheduler=run.scheduler)
        _write(result, bundle, run)
        return
    rank_params = dict(estimators=c.repeated(estimator, "--estimator"), representation=representation, variant=variant,
                       n_bootstrap=n_bootstrap, backend=run.backend, scheduler=run.scheduler)
    methods = c.repeated(method, "--method") or None
    result = run_validation(
        bundle, student, cands, methods=methods, seeds=seeds, epochs=epochs, rank_params=rank_params,
        random_state=run.seed, device=run.device, progress=c.progress_enabled(run.quiet), n_jobs=run.n_jobs,
        backend=run.backend, scheduler=run.scheduler, baseline=baseline, labels_per_class=labels_per_class,
        labelled_fraction=labelled_fraction, teacher_labels=teacher_labels,
        train_size=train_size, tune=tune, budget=budget, max_seeds=max_seeds,
    )
    _write(result, bundle, run)


#: The options only --baseline no-kd reads, by their parameter names.
_NO_KD_ONLY = {"--train-size": "train_size", "--epochs": "epochs", "--tune": "tune", "--estimator": "estimator",
               "--representation": "representation", "--variant": "variant", "--n-bootstrap": "n_bootstrap"}


def _no_kd_options_given(tune: bool) -> list[str]:
    """The no-kd-only options the user gave (:func:`~cchkit.cli.common.given_options`)."""
    given = set(c.given_options(_NO_KD_ONLY.values()))
    typed = [flag for flag, name in _NO_KD_ONLY.items() if name in given]
    return [("--tune" if tune else "--no-tune") if flag == "--tune" else flag for flag in typed]


def _write(result, bundle, run) -> None:  # noqa: ANN001
    """The result in the asked format, its HTML page (rendered before anything is written, and
    logged with --log), and the run log: a validation's or a few-label validation's."""
    from ..report import few_label_report, validation_report

    few = type(result).__name__ == "FewLabelReport"
    if run.fmt == "json":
        text = result.to_json()
    elif run.fmt == "csv":
        text = result.table.to_csv(index=False, float_format="%.6g")
    else:
        text = few_labels_text(result) if few else _validation_text(result)
    html = None
    if run.report is not None or run.log:
        html = (few_label_report if few else validation_report)(result, bundle, command=c.command_line())
    c.write_outputs(text, run.out, html, run.report)
    c.log_run(run, result, html)


def few_labels_text(report) -> str:  # noqa: ANN001
    """The few-label validation as text: the verdict, the prediction, the teacher-free students, the gains."""
    import pandas as pd

    s = report.summary
    t = report.table.sort_values("gain", ascending=False)
    view = pd.DataFrame({
        "teacher": t["teacher"], "method": t["method"], "teacher labels": t["teacher_labels"],
        "accuracy": [fmt_interval(*r) for r in t[["acc", "acc_low", "acc_high"]].itertuples(index=False)],
        "gain": [fmt_interval(*r) + (" *" if sig else "") for *r, sig in
                 t[["gain", "gain_low", "gain_high", "significant"]].itertuples(index=False)],
        "over placebo": [fmt_interval(*r) for r in t[["vs_placebo", "vs_placebo_low", "vs_placebo_high"]].itertuples(index=False)],
        "teacher_cv_accuracy": [fmt_num(v) for v in t["teacher_cv_accuracy"]],
        "teacher model": t["teacher_model"],
        "helps": ["yes" if h else "no" for h in t["helps"]],
    })
    base = pd.DataFrame({"teacher-free student": report.baselines["student"],
                         "accuracy": [fmt_interval(*r) for r in report.baselines[["acc", "acc_low", "acc_high"]].itertuples(index=False)]})
    lines = [f"verdict: {s['verdict']['text']}", "", (s.get("prediction") or {}).get("text", ""), "",
             f"cchkit validate  student={s['student']}  {s['regime_text']}: {s['n_labelled']:,} labelled, "
             f"{s['n_unlabeled']:,} unlabeled, {s['n_test']:,} test rows per seed; 95% intervals over {len(s['seeds'])} "
             "seeds (* significant)", "", render_frame(base), "",
             "gain = accuracy with the teacher - accuracy of the best teacher-free student (every student chosen by "
             f"{s.get('selection', 'cross-validation')} of the labelled rows), paired by seed; placebo = the same "
             "teacher trained on permuted labels", "", "power: " + (s.get("power") or {}).get("statement", "-"), "",
             render_frame(view), "", f"({fmt_num(s.get('seconds'), 1)} s)"]
    return "\n".join(lines)


def _validation_text(report) -> str:  # noqa: ANN001
    import pandas as pd

    from ..validation.stacked import tuned_line

    t = report.table
    rows = []
    for teacher, grp in t.groupby("teacher", sort=False):
        first = grp.iloc[0]
        row = {"teacher": teacher, "acc (no-KD MLP)": fmt_interval(first.acc_none, first.acc_none_low, first.acc_none_high)}
        for r in grp.itertuples(index=False):  # one gain column per method: unpaired and paired side by side
            row[f"gain {r.method}"] = fmt_interval(r.gain, r.gain_low, r.gain_high) + (" *" if r.significant else "")
        row["CCH score"] = fmt_interval(first.cch_score, first.cch_low, first.cch_high)
        row["decision"] = first.decision
        rows.append(row)
    view = pd.DataFrame(rows)
    s = report.summary
    verdict = s.get("verdict", {}).get("text")
    lines = ([f"verdict: {verdict}", ""] if verdict else []) + [
        f"cchkit validate  student={t['student'].iloc[0] if len(t) else '-'}  accuracy on the student's held-out split, "
        "95% intervals over seeds (* significant)", _baseline_line(s.get("baseline")), tuned_line(s.get("tuned")), "",
        render_frame(view), "",
        "power: " + s.get("power", {}).get("statement", "-"), "",
    ]
    lines.append(f"does each criterion predict the measured gain of {s.get('method')}? (sign agreement counts gains whose interval excludes 0)")
    rows = []
    for name, crit in [("cch_score", s)] + list(s.get("baselines", {}).items()):
        noise = crit.get("gains_separated") is False  # no order among the gains to compare with
        rows.append(
            {
                "criterion": name,
                "spearman": "within noise" if noise else fmt_num(crit.get("spearman")),
                "sign agreement": f"{crit.get('sign_agree', '-')}/{crit.get('n_significant', '-')}",
                "top-ranked is best": "within noise" if noise else {True: "yes", False: "no"}.get(
                    crit.get("top_is_best"), "-"),
            }
        )
    lines.append(render_frame(pd.DataFrame(rows)))
    for r in t[t["error"].fillna("").astype(str).str.len() > 0].itertuples(index=False):
        lines.append(f"failed: {r.teacher} ({r.method}): {r.error}")
    lines.append(f"({fmt_num(s.get('seconds'), 1)} s)")
    return "\n".join(lines)


def _baseline_line(base) -> str:  # noqa: ANN001
    """Which baseline the gains are measured over, with both accuracies."""
    if not base:
        return "gain = accuracy with KD - accuracy of the no-KD MLP student, paired by seed"
    mlp, probe = (fmt_interval(*base[k]) for k in ("mlp", "probe"))
    over = "the linear probe" if base["kind"] == "probe" else "the no-KD MLP student"
    return (f"gain = accuracy with KD - accuracy of {over} (the stronger baseline), paired by seed; "
            f"no-KD MLP {mlp}, linear probe (tuned logistic regression) {probe}")
