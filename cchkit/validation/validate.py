"""Check a teacher ranking against measured distillation gains.

:func:`validate` distils every candidate teacher into the student with each method over several
seeds, measures the student's held-out accuracy with and without KD, and compares the measured
gains with the CCH scores of a :class:`cchkit.ranking.Ranking` (and with the baseline criteria
the ranking carries: teacher accuracy, I(H_T; Y), I(H_T; H_S), the MFH share).
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .._backends import check_backend, run_chunked
from .._parallel import effective_n_jobs
from .._params import BOOL, NONE, Integral, Interval, Options, Real, validate_params
from .._random import RandomState
from .._warn import warn_user
from ..datasets import load_bundle
from ..distill import TeacherCache, distill
from ..exceptions import CchkitError, InputError, RankingFailedError
from ..ranking import rank_teachers
from ..runlog import check_log
from .evidence import baseline_criteria, criterion_stats, gains_separated, power_statement, summarise
from .gains import Baseline, gain_row, measured_baseline, refuse_if_all_runs_failed, split_settings, warn_if_probe_wins
from .plan import checked_candidates, checked_plan
from .report import REPORT_COLUMNS, ValidationReport, report_columns
from .seeds import next_seeds, seed_pool, seeds_until_separated
from .stacked import RUN_COLUMNS, TUNE_SEEDS, Tuned, stackable_methods, stackable_names, stacked_runs, tuned_settings
from .verdict import advice_verdict, ranking_advice

logger = logging.getLogger("cchkit")

#: What a gain can be measured over (``validate``'s ``baseline``): the first is the default.
BASELINES = ("teacher-free", "no-kd")

__all__ = ["validate", "BASELINES", "ValidationReport", "REPORT_COLUMNS", "baseline_criteria", "criterion_stats",
           "next_seeds", "gains_separated"]



def _ranking_table(ranking: Any, student: str) -> pd.DataFrame:
    table = ranking if isinstance(ranking, pd.DataFrame) else getattr(ranking, "table", None)
    if not isinstance(table, pd.DataFrame):
        raise InputError("ranking must be a cchkit Ranking (or any object with a .table DataFrame).")
    if "teacher" not in table.columns:
        raise InputError("the ranking table has no 'teacher' column.")
    t = table
    if "student" in t.columns:
        t = t[t["student"] == student]
    if "estimator" in t.columns and t["estimator"].nunique() > 1:
        est = None
        settings = getattr(ranking, "settings", None) or {}
        if settings.get("estimators"):
            est = list(settings["estimators"])[0]
        if est not in set(t["estimator"]):
            est = t["estimator"].iloc[0]
        logger.info("validate: comparing with the ranking's %r estimator (the first of %d).", est, t["estimator"].nunique())
        t = t[t["estimator"] == est]
    return t.drop_duplicates("teacher").set_index("teacher")


def _run_one(bundle: Any, student: str, teacher: str, seed: int, methods: Sequence[str], epochs: int, device: str,
             params: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    cache = TeacherCache()  # the methods of one (teacher, seed) share that teacher
    for m in methods:
        try:
            r = distill(bundle, student, teacher, method=m, epochs=epochs, random_state=seed, device=device,
                        progress=False, teacher_cache=cache, **params)
            rows.append(dict(teacher=teacher, method=m, seed=seed, accuracy=r.accuracy,
                             teacher_net_accuracy=r.teacher_net_accuracy, seconds=r.seconds, error=""))
        except CchkitError as exc:
            warn_user("validate: %s with teacher %r, seed %d failed: %s", m, teacher, seed, exc)
            rows.append(dict(teacher=teacher, method=m, seed=seed, accuracy=math.nan, teacher_net_accuracy=math.nan,
                             seconds=math.nan, error=f"{type(exc).__name__}: {exc}"))
    return rows


#: The no-KD student's training epochs where ``validate(baseline="no-kd")`` is not given ``epochs``.
NO_KD_EPOCHS = 30


@validate_params(
    {
        "seeds": [Interval(Integral, 1, None), list, tuple],
        "epochs": [Interval(Integral, 1, None), NONE],
        "n_jobs": [Integral],
        "progress": [BOOL],
        "device": [str],
        "tune": [BOOL, NONE],
        "budget": [NONE, Interval(Real, 0, None, closed="neither")],
        "max_seeds": [Interval(Integral, 2, None)],
        "baseline": [Options(BASELINES)],
    }
)
def validate(
    bundle: Any,
    student: str,
    candidates: Sequence[str] | str,
    *,
    methods: Sequence[str] | None = None,
    seeds: int | Sequence[int] = 5,
    epochs: int | None = None,
    ranking: Any = None,
    rank_params: Mapping[str, Any] | None = None,
    random_state: RandomState = 0,
    device: str = "auto",
    progress: bool = True,
    n_jobs: int = 1,
    tune: bool | None = None,
    budget: float | None = None,
    max_seeds: int = 20,
    log: str | None = None,
    backend: str = "loky",
    scheduler: str | None = None,
    labels_per_class: int | None = None,
    labelled_fraction: float | None = None,
    teacher_labels: str = "auto",
    label: str = "label",
    baseline: str = "teacher-free",
    **distill_params: Any,
) -> Any:
    """Distil each candidate teacher into ``student`` and measure whose gain is the teacher's.

    By default (``baseline="teacher-free"``) each teacher's gain is measured over the best
    teacher-free student (softmax regression and an MLP; supervised, label smoothing or
    self-training), every student chosen on validation rows only, with a placebo teacher beside
    each teacher, in any label regime: :func:`cchkit.fewlabels.validate_few_labels`, which
    returns a :class:`~cchkit.fewlabels.FewLabelReport`. Of the parameters below, ``methods``,
    ``seeds``, ``random_state``, ``progress``, ``budget``, ``max_seeds``, ``log``, the label
    regime and ``label`` apply there; the others belong to ``baseline="no-kd"`` and are refused.

    ``baseline="no-kd"`` is the earlier measurement, with every label: for every teacher and
    seed, each method of ``methods`` (``"none"`` is always added: it is the baseline) is run by :func:`~cchkit.distill.distill` with the same seed, hence the same
    split, student initialisation and batch order; the per-seed gain ``acc(method) - acc(none)``
    is a paired difference. Means and 95% Student-t intervals are taken over seeds.

    Parameters
    ----------
    bundle : ModalityBundle (or a path / bundled dataset name)
    student : str
    candidates : list of str or comma-separated str
        Teacher modalities.
    methods : sequence of str, or None
        Registered names (:func:`~cchkit.distill.methods.list_methods`). The first one other than ``"none"`` is the
        *primary* method of the summary. None (default): ``class-align`` (the unpaired
        class-conditional distiller), plus paired ``logit-kd`` beside it when the student shares
        sample ids with every candidate, so that each teacher's unpaired and paired gains are
        shown side by side.
    seeds : int or list of int
        A number of seeds (drawn from ``random_state``) or the seeds themselves.
    epochs : int or None
        ``baseline="no-kd"`` only: the student's training epochs (None: :data:`NO_KD_EPOCHS`).
    ranking : Ranking, DataFrame, or None
        The predictions: anything with a ``.table`` DataFrame holding one row per teacher
        (columns ``teacher, cch_score, cch_low, cch_high, decision`` and the baseline criteria;
        with ``student`` / ``estimator`` columns the student's rows and the first estimator are
        used). None: computed with :func:`cchkit.ranking.rank_teachers` (``random_state``,
        ``device``, ``n_jobs`` and ``rank_params``); a ranking whose every row failed (unpaired
        data, say) is logged and the gains are measured without scores.
    rank_params : mapping, optional
        Keyword arguments of :func:`~cchkit.ranking.rank_teachers` (``estimators``,
        ``representation``, ``variant``, ``n_bootstrap``...) when ``ranking`` is None.
    random_state : int, Generator or None
    device : str
    progress : bool
        tqdm bars over teachers and seeds (stderr).
    n_jobs : int
        Parallel workers. By default (teacher-free): the seeds of a round run on ``n_jobs``
        processes (``-1``: every core), each with one thread per core it is given. With
        ``baseline="no-kd"``: the ranking's grid and the methods that do not train in stacks
        ((teacher, seed) runs with joblib processes); the stacks use one thread per available
        core, capped by ``OMP_NUM_THREADS``. The report does not depend on it.
    tune : bool or None
        ``baseline="no-kd"`` only (None: True). Tune the no-KD student and every KD student with searches of the same size on the
        validation splits of the first 3 seeds (:mod:`cchkit.validation.stacked`: learning rate,
        weight decay, hidden layers and dropout for the student, then KD weight x temperature);
        every seed trains with the settings chosen, so that a gain is not the no-KD student's
        deficit (``summary["tuned"]`` says what was chosen). A value passed for a tuned setting
        (``lr``, ``weight_decay``, ``hidden``, ``lambda1``, ``temperature``) is refused. False: the
        given settings. Applies to the stacked methods (``none``, ``class-align``, ``logit-kd``).
    budget : float or None, default None
        Seconds the validation may take: after the first ``seeds`` seeds, more are added (at
        most doubling each round, up to ``max_seeds``) while the teachers' gain intervals of the
        primary method overlap and the budget allows; the power statement says why it stopped.
        None: exactly ``seeds`` seeds.
    max_seeds : int, default 20
        The most seeds a budget may reach.
    log : {"mlflow"} or None
        Also record the validation in that experiment tracker (:func:`cchkit.runlog.log_result`).
    backend : {"loky", "dask", "ray"}, default "loky"
        Where the distillation runs go (and, with ``baseline="no-kd"``, the ranking's grid unless
        ``rank_params`` names its own). By default: the seeds go to ``n_jobs`` local processes
        (``loky``), or out in chunks to a Dask cluster or Ray. With ``baseline="no-kd"``:
        ``loky`` keeps them in this process (stacks on every core's threads, other methods on
        ``n_jobs`` processes); ``dask`` / ``ray`` send the seeds out in chunks (each chunk's
        students train as one stack on a worker). A student's result does not depend on where
        it trains, so the report is the same as the local one.
    scheduler : str or None
        A Dask scheduler address, with ``backend="dask"`` (default: the running client).
    **distill_params
        Passed to :func:`~cchkit.distill.distill` (``batch_size``, ``lambda1``, ``inner_lr``...).

    labels_per_class : int or None
        Few labels: keep this many labelled training rows per class (stratified per seed) and
        use the rest of the training rows as unlabeled rows (:mod:`cchkit.fewlabels`).
    labelled_fraction : float or None
        Few labels: keep this fraction of the labelled training rows instead.
    teacher_labels : {"auto", "same", "own"}
        Few labels: the teacher learns from the student's labelled samples only (``same``) or
        from every labelled row of its modality but the test samples (``own``); ``auto``:
        ``own`` where the data give the teacher labels the student lacks (paired with a student row
        without a label, or on samples the student does not have, as an unpaired teacher's), else ``same``.
    label : str, default "label"
        With a DataFrame, AnnData or MuData: the column (``obs`` key) holding the labels.
    baseline : {"teacher-free", "no-kd"}, default "teacher-free"
        What a gain is measured over (see above). ``no-kd``: the stronger of a tuned no-KD MLP
        student and a linear probe, every label, no placebo; it runs every registered method
        (``ucmkd``, ``align``, ``feature-kd`` only there) and compares the gains with the ranking.
        With all labels its gains are upper bounds: label smoothing, which it lacks, can make
        them up.

    Returns
    -------
    :class:`~cchkit.fewlabels.FewLabelReport` (the default), or ValidationReport with
    ``baseline="no-kd"``.
    """
    t0 = time.perf_counter()
    check_log(log)
    check_backend(backend, scheduler)
    bundle = load_bundle(bundle, label=label)
    if baseline == "teacher-free":
        # None where not passed: a value passed, the no-kd default's included, is used or refused
        given = {"ranking": ranking, "rank_params": rank_params or None, "tune": tune, "epochs": epochs,
                 "device": None if device == "auto" else device, **distill_params}
        parallel = {"n_jobs": n_jobs, "backend": backend, "scheduler": scheduler}  # checked where they are used
        report = _few_labels(bundle, student, candidates, methods, seeds, random_state, progress, given,
                             budget=budget, max_seeds=max_seeds, parallel=parallel, labels_per_class=labels_per_class,
                             labelled_fraction=labelled_fraction, teacher_labels=teacher_labels)
        if log is not None:
            from ..runlog import log_result

            log_result(report, to=log)
        return report
    if labels_per_class is not None or labelled_fraction is not None or bundle.n_unlabeled(student):
        raise InputError("baseline='no-kd' measures with every label; with few labels (labels_per_class, "
                         "labelled_fraction or unlabeled rows) leave it out: the default baseline applies.")
    identity = {"data": bundle.name, "data_sha256": bundle.digest()}
    if teacher_labels != "auto":
        raise InputError("teacher_labels applies to the default baseline only (baseline='teacher-free').")
    epochs, tune = NO_KD_EPOCHS if epochs is None else epochs, True if tune is None else tune
    bundle = bundle.labelled_for("validate")
    candidates, methods = checked_plan(bundle, student, candidates, methods, distill_params)
    fixed = [k for k in tuned_settings(methods, distill_params) if k in distill_params] if tune else []
    if fixed:
        raise InputError(f"validate tunes {', '.join(fixed)} itself (tune=True); pass tune=False (--no-tune) to "
                         "use your value(s).")
    kd_methods = [m for m in methods if m != "none"]
    pool, n_first = seed_pool(seeds, random_state, max_seeds if budget is not None else 0)
    n_jobs = effective_n_jobs(n_jobs)
    if ranking is None and backend != "loky":
        rank_params = {"backend": backend, "scheduler": scheduler, **(rank_params or {})}
    if ranking is None:
        ranking = _ranking_or_none(bundle, student, candidates, random_state, device, progress, n_jobs, rank_params)
    rtab = _ranking_table(ranking, student)
    ctx = _Measure(bundle, student, candidates, methods, rtab, dict(epochs=epochs, device=device, tune=tune,
                   distill_params=distill_params, n_jobs=n_jobs, progress=progress), distill_params,
                   backend=backend, scheduler=scheduler)
    seed_list, runs_df, stop = seeds_until_separated(ctx, pool, n_first, budget, t0)
    table, base = ctx.table(seed_list, runs_df)
    warn_if_probe_wins(base)
    summary = {**identity, **summarise(table, kd_methods[0], seed_list)}
    summary["baseline"] = base.summary()
    criterion = str(getattr(ranking, "settings", {}).get("criterion", "cch_score")) if ranking is not None else "cch_score"
    summary["verdict"] = advice_verdict(ranking_advice(rtab), criterion, table, kd_methods[0], base.kind)
    summary["power"] = power_statement(table, kd_methods[0], len(seed_list), stop=stop, initial=n_first)
    summary["tuned"] = ctx.tuned.summary() if ctx.tuned is not None else None
    summary["settings"] = {"epochs": epochs, "methods": methods, "tune": tune, "device": device,
                           "train_size": split_settings(distill_params)["train_size"],
                           **{k: v for k, v in distill_params.items() if k != "train_size"}}
    summary["budget"] = budget
    summary["seconds"] = time.perf_counter() - t0
    logger.info("validate %s: %d teachers x %d seeds x %d methods in %.1fs", student, len(candidates), len(seed_list),
                len(methods), summary["seconds"])
    report = ValidationReport(table=table, summary=summary, runs=runs_df)
    if log is not None:
        from ..runlog import log_result

        log_result(report, to=log)
    return report


def _few_labels(bundle: Any, student: str, candidates: Sequence[str] | str, methods: Sequence[str] | None,
                seeds: int | Sequence[int], random_state: RandomState, progress: bool, given: Mapping[str, Any],
                budget: float | None, max_seeds: int, parallel: Mapping[str, Any], **regime: Any) -> Any:
    """The teacher-free measurement (:func:`cchkit.fewlabels.validate_few_labels`); a setting of
    ``baseline="no-kd"`` that does not apply there is refused by name."""
    from ..fewlabels import LabelRegime, validate_few_labels

    unused = [k for k, v in given.items() if v is not None and k != "test_size"]
    if unused:
        verb = "applies" if len(unused) == 1 else "apply"
        raise InputError(f"{', '.join(unused)} {verb} only to baseline='no-kd' (--baseline no-kd: the tuned no-KD "
                         "student, every label), not to the default teacher-free measurement; leave "
                         f"{'it' if len(unused) == 1 else 'them'} out or pass baseline='no-kd'.")
    cands = checked_candidates(bundle, student, candidates)
    test_size = given.get("test_size")
    reg = LabelRegime(**regime, **({"test_size": float(test_size)} if test_size is not None else {}))
    return validate_few_labels(bundle, student, cands, regime=reg, methods=methods, seeds=seeds,
                               random_state=random_state, progress=progress, budget=budget, max_seeds=max_seeds,
                               **parallel)


@dataclass
class _Measure:
    """One validation's fixed inputs: runs for a list of seeds, and the report table from runs."""

    bundle: Any
    student: str
    teachers: list[str]
    methods: list[str]
    rtab: pd.DataFrame
    run_kw: dict[str, Any]
    distill_params: Mapping[str, Any]
    backend: str = "loky"
    scheduler: str | None = None
    tuned: Tuned | None = None
    probes: dict[int, Any] = field(default_factory=dict)

    def runs(self, seeds: list[int]) -> pd.DataFrame:
        """The runs of ``seeds``; the first call of a tuned validation chooses the settings on its
        first :data:`~cchkit.validation.stacked.TUNE_SEEDS` seeds (one stack), which every later
        seed then trains with."""
        head, tail = list(seeds), []
        if self.tuned is None and self.run_kw["tune"]:
            head, tail = head[:TUNE_SEEDS], head[TUNE_SEEDS:]
        runs = self._runs(head, one_task=True)
        if tail:
            runs = pd.concat([runs, self._runs(tail)], ignore_index=True)
        refuse_if_all_runs_failed(runs)
        return runs

    def _runs(self, seeds: list[int], one_task: bool = False) -> pd.DataFrame:
        if self.backend == "loky":
            runs, tuned = _all_runs(self.bundle, self.student, self.teachers, seeds, self.methods, tuned=self.tuned,
                                    **self.run_kw)
        else:
            runs, tuned = self._distributed(seeds, one_task)
        self.tuned = self.tuned or tuned
        return runs

    def _distributed(self, seeds: list[int], one_task: bool) -> tuple[pd.DataFrame, Tuned | None]:
        """The runs of ``seeds`` sent out in chunks on the backend (as one task when
        ``one_task``: the tuning seeds choose together), in the local run's row order (seed by
        seed), so that every mean and interval sums in the same order."""
        kw = {**self.run_kw, "n_jobs": 1, "progress": False}
        shared = (self.bundle, self.student, self.teachers, self.methods, self.tuned, kw)
        tasks: list[Any] = [[int(s) for s in seeds]] if one_task else [int(s) for s in seeds]
        parts = run_chunked(_runs_of_seeds, tasks, shared, n_jobs=max(1, self.run_kw["n_jobs"]),
                            backend=self.backend, scheduler=self.scheduler)
        runs = pd.DataFrame([r for rows, _ in parts for r in rows], columns=RUN_COLUMNS)
        position = {int(s): i for i, s in enumerate(seeds)}
        order = sorted(range(len(runs)), key=lambda i: position[int(runs["seed"].iloc[i])])
        return runs.iloc[order].reset_index(drop=True), next((t for _, t in parts if t is not None), None)

    def table(self, seeds: list[int], runs: pd.DataFrame) -> tuple[pd.DataFrame, Baseline]:
        chosen_on = list(self.tuned.seeds) if self.tuned is not None and self.tuned.seeds else seeds[:TUNE_SEEDS]
        base = measured_baseline(self.bundle, self.student, seeds, chosen_on, runs, self.distill_params, self.probes)
        rows = []
        for teacher in self.teachers:
            rinfo = self.rtab.loc[teacher] if teacher in self.rtab.index else None
            if rinfo is None:
                warn_user("validate: the ranking has no row for teacher %r; its scores are NaN.", teacher)
            tr = runs[runs["teacher"] == teacher]
            rows += [gain_row(self.student, teacher, m, tr, rinfo, len(seeds), base)
                     for m in self.methods if m != "none"]
        return pd.DataFrame(rows, columns=report_columns()), base


def _runs_of_seeds(chunk: list[Any], shared: tuple) -> list[tuple[list[dict[str, Any]], Tuned | None]]:
    """One backend task: the runs of a chunk of seeds (a task is a seed or a list of seeds),
    their students as one stack, with the settings they used."""
    bundle, student, teachers, methods, tuned, kw = shared
    seeds = [s for task in chunk for s in (task if isinstance(task, list) else [task])]
    runs, chosen = _all_runs(bundle, student, teachers, seeds, methods, tuned=tuned, **kw)
    return [(runs.to_dict("records"), chosen)]


def _ranking_or_none(bundle: Any, student: str, candidates: list[str], random_state: RandomState, device: str,
                     progress: bool, n_jobs: int, rank_params: Mapping[str, Any] | None) -> Any:
    """The ranking of the candidates; a ranking whose every row failed (unpaired data, say) is
    logged and returned, so that the gains are measured without scores."""
    try:
        return rank_teachers(bundle, student=student, candidates=candidates, random_state=random_state,
                             device=device, progress=progress, n_jobs=n_jobs, **dict(rank_params or {}))
    except RankingFailedError as exc:  # e.g. unpaired data: the distiller still measures the gains
        warn_user("validate: no CCH score could be computed (%s); gains are measured without one.", exc)
        return exc.ranking


def _all_runs(bundle: Any, student: str, teachers: list[str], seeds: list[int], methods: list[str], *, epochs: int,
              device: str, tune: bool, distill_params: Mapping[str, Any], n_jobs: int, progress: bool,
              tuned: Tuned | None = None) -> tuple[pd.DataFrame, Tuned | None]:
    """Every run: the stackable methods (``none`` included) trained and tuned in stacks
    (:mod:`.stacked`; with ``tuned``, on those settings), the others one by one through
    :func:`distill` with the given settings; and the stacks' settings (None without stacks)."""
    stacked = stackable_methods(methods, distill_params)
    parts = []
    if stacked:
        runs, tuned = stacked_runs(bundle, student, teachers, seeds, stacked, epochs=epochs, device=device, tune=tune,
                                   distill_params=distill_params, tuned=tuned)
        parts.append(runs)
    rest = [m for m in methods if m not in stacked]
    if rest:
        if tune:
            logger.info("validate: %s run(s) untuned, one by one (only %s train in stacks).", ", ".join(rest),
                        ", ".join(stackable_names()))
        tasks = [(t, s) for t in teachers for s in seeds]
        parts.append(_run_all(tasks, n_jobs, progress, lambda t, s: (bundle, student, t, s, rest, epochs, device,
                                                                      distill_params)))
    return (pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]), tuned


def _run_all(tasks: list[tuple[str, int]], n_jobs: int, progress: bool, args_of: Any) -> pd.DataFrame:
    """Every (teacher, seed) task through :func:`_run_one`, in this process or with joblib."""
    from tqdm.auto import tqdm

    runs: list[dict[str, Any]] = []
    if n_jobs == 1:
        for t, s in tqdm(tasks, desc="teacher x seed", file=sys.stderr, disable=not progress):
            runs.extend(_run_one(*args_of(t, s)))
    else:
        from joblib import Parallel, delayed

        out = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(_run_one)(*args_of(t, s)) for t, s in tasks)
        for rows in tqdm(out, total=len(tasks), desc="teacher x seed", file=sys.stderr, disable=not progress):
            runs.extend(rows)
    return pd.DataFrame(runs, columns=RUN_COLUMNS)
