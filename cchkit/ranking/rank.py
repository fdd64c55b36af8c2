"""Rank candidate teacher modalities for a student modality: :func:`rank_teachers`.

>>> import cchkit
>>> ranking = cchkit.rank_teachers("digits-avt", student="audio", candidates=["image", "text"])  # doctest: +SKIP
>>> ranking.table[["teacher", "cch_score", "cch_low", "cch_high", "decision", "rank"]]  # doctest: +SKIP

Representations (:mod:`cchkit.representations`) -> the estimate grid (:mod:`.grid`) -> one row
per (student, teacher, estimator) (:mod:`.rows`) -> ranks by criterion (:mod:`.table`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._backends import check_backend
from .._parallel import effective_n_jobs
from .._params import BOOL, NONE, Integral, Interval, Options, validate_params
from .._random import RandomState, as_generator
from .._torch import limit_threads, resolve_device
from .._validation import comma_names
from .._warn import warn_user
from ..bundle import MIN_SAMPLES, ModalityBundle
from ..cch import SCORE_VARIANTS
from ..criteria import data_regime, default_criterion
from ..criteria.regimes import regime_expectation
from ..datasets import load_bundle
from ..estimators import get_estimator, list_estimators
from ..exceptions import BundleError, CchkitError, InputError, RankingFailedError, UnknownEstimatorError
from ..representations import REPRESENTATION_KINDS, RepresentationSet, class_conditional_probs, compute_representations
from ..runlog import check_log
from .grid import EstimatorPlan, Task, grid_tasks, run_grid
from .rows import RowContext, ranking_row
from .table import (
    MIN_PAIRS_PER_DIM,
    MIN_PER_CLASS,
    RECOMMEND_BY,
    Ranking,
    add_ranks,
    ranking_columns,
)

logger = logging.getLogger("cchkit")

__all__ = ["rank_teachers", "resolve_candidates", "RankSettings"]


def resolve_candidates(
    bundle: ModalityBundle, student: str, candidates: Sequence[str] | str | None
) -> list[tuple[str, list[str]]]:
    """(student, candidates) pairs to score; ``student="all"`` gives every ordered pair."""
    if isinstance(candidates, str):
        candidates = comma_names(candidates, "candidates")
    if student == "all":
        names = bundle.names if candidates is None else bundle.check_modalities(candidates)
        if len(names) < 2:
            raise BundleError("student='all' needs at least two modalities.")
        return [(s, [t for t in names if t != s]) for s in names]
    bundle.modality(student)
    if candidates is None:
        cands = [n for n in bundle.names if n != student]
    else:
        cands = bundle.check_modalities(candidates)
        if student in cands:
            raise BundleError(
                f"the student {student!r} is also listed as a candidate teacher; a modality cannot "
                "teach itself. Remove it from the candidates."
            )
    if not cands:
        raise BundleError(f"no candidate teachers for student {student!r}: the bundle has no other modality.")
    return [(student, cands)]


@validate_params(
    {
        "representation": [Options(REPRESENTATION_KINDS)],
        "variant": [Options(SCORE_VARIANTS)],
        "dim": [Interval(Integral, 1, None)],
        "n_bootstrap": [Interval(Integral, 1, None)],
        "n_seeds": [Interval(Integral, 1, None)],
        "label_floor": [BOOL],
        "progress": [BOOL],
        "n_threads": [NONE, Interval(Integral, 1, None)],
        "n_jobs": [Integral],
        "device": [str],
    },
    owner="rank_teachers",
)
def rank_teachers(
    bundle: ModalityBundle | str | os.PathLike[str],
    student: str,
    candidates: Sequence[str] | str | None = None,
    *,
    estimators: Sequence[str] | str = ("gaussian",),
    representation: str = "pca",
    variant: str = "raw",
    dim: int = 16,
    n_bootstrap: int = 200,
    n_seeds: int = 1,
    estimator_params: Mapping[str, Mapping[str, Any]] | None = None,
    encoder_params: Mapping[str, Any] | None = None,
    random_state: RandomState = 0,
    device: str = "auto",
    n_jobs: int = 1,
    n_threads: int | None = None,
    progress: bool = False,
    criterion: str | None = None,
    label_floor: bool = True,
    backend: str = "loky",
    scheduler: str | None = None,
    log: str | None = None,
    label: str = "label",
) -> Ranking:
    """Score every candidate teacher for ``student`` by its CCH score and rank them.

    Parameters
    ----------
    bundle : ModalityBundle, path, bundled dataset name, pandas DataFrame, AnnData or MuData
        (see :func:`cchkit.load_bundle`; ``label`` names the DataFrame column or ``obs`` key of the labels)
    student : str
        The student modality, or ``"all"`` for every ordered (teacher, student) pair.
    candidates : list of str, comma-separated str, or None (every other modality)
    estimators : names from :func:`cchkit.list_estimators`; one table row per estimator.
    representation : {"encoder", "pca", "raw"}
        How H_m is obtained (see :mod:`cchkit.representations`).
    variant : {"raw", "matched"}
        The score variant (see :mod:`cchkit.cch`).
    dim : int
        Representation dimension (``pca``, ``encoder``).
    n_bootstrap : int
        Bootstrap resamples for the estimators that use a bootstrap.
    n_seeds : int
        Encoder seeds (the spread between seeds enters the interval).
    estimator_params : mapping estimator name -> keyword arguments
    encoder_params : keyword arguments of the encoder representation
    random_state, device, n_jobs, progress
    backend : {"loky", "dask", "ray"}, default "loky"
        Where the estimate grid runs with ``n_jobs`` != 1 (``loky``: local processes); ``dask``
        uses the running Dask client or the one at ``scheduler`` (all its workers), ``ray``
        the running Ray cluster. The output does not depend on it.
    scheduler : str or None
        A Dask scheduler address (``tcp://host:8786``), with ``backend="dask"``.
    label_floor : bool, default True
        Replace a label term I(H; Y) whose interval lies below its variational lower bound
        (:mod:`cchkit.estimators.variational`, on the same H) by that bound; the row's
        ``label_check`` says so. False keeps the estimator's value and only flags it.
    criterion : str or None
        What ``rank`` and ``recommended`` follow, from :data:`RECOMMEND_BY` (default: the
        criterion the study of the data's label regime chose, :func:`cchkit.criteria.data_regime`
        and ``regime_records.json``; an unstudied regime: :data:`DEFAULT_CRITERION`, the
        full-label study's). Every row carries the CCH score, its interval and decision whatever
        the criterion.
    log : {"mlflow"} or None
        Also record the ranking in that experiment tracker (:func:`cchkit.runlog.log_result`).
    n_threads : int or None
        Torch/BLAS threads while ranking. Default (None): 1, because the work is many small
        linear-algebra calls that run faster on one thread; use ``n_jobs`` to use more cores.

    Returns
    -------
    Ranking
    """
    start = time.perf_counter()
    _check_criterion(criterion)
    check_log(log)
    if not isinstance(random_state, np.random.Generator):
        as_generator(random_state)  # a bool or a negative seed fails before any work
    settings = RankSettings(
        estimators=_checked_estimators(estimators), representation=representation, variant=variant, dim=int(dim),
        n_bootstrap=int(n_bootstrap), n_seeds=int(n_seeds), random_state=random_state, device=device,
        n_jobs=effective_n_jobs(n_jobs), progress=progress,
        criterion=criterion or "", criterion_named=criterion is not None, label_floor=label_floor, backend=backend,
        scheduler=scheduler, encoder_params=dict(encoder_params or {}),
    )
    settings.estimator_params.update(_checked_estimator_params(settings, estimator_params))
    check_backend(backend, scheduler)
    resolve_device(device)  # an unknown or unavailable device fails now, whatever the representation
    loaded = load_bundle(bundle, label=label)
    settings.regime = _regime_of(loaded, student, candidates)
    settings.criterion = criterion or default_criterion(settings.regime)
    bundle = loaded.labelled_for("the ranking")
    settings.unlabeled = {m: n for m, n in ((m, loaded.n_unlabeled(m)) for m in loaded.names) if n}
    plan = resolve_candidates(bundle, student, candidates)
    failures = _unpaired_failures(bundle, plan)
    usable = {m for s, cands in plan for t in cands if (s, t) not in failures for m in (s, t)}
    names = [n for n in bundle.names if n in usable]
    with limit_threads(1 if n_threads is None else n_threads):
        table, results = _rank(bundle, plan, failures, names, settings)
    ranking = Ranking(table=table, settings=_settings_record(loaded, student, candidates, settings),
                      seconds=time.perf_counter() - start)
    _refuse_if_all_failed(ranking, results)
    if log is not None:
        from ..runlog import log_result

        log_result(ranking, to=log)
    return ranking


@dataclass
class RankSettings:
    """The checked settings of one :func:`rank_teachers` call."""

    estimators: list[str]
    representation: str
    variant: str
    dim: int
    n_bootstrap: int
    n_seeds: int
    random_state: RandomState
    device: str
    n_jobs: int
    progress: bool
    criterion: str
    #: whether the user named the criterion (its rule then decides, whatever the regime's outlook)
    criterion_named: bool
    label_floor: bool
    backend: str
    scheduler: str | None
    encoder_params: dict[str, Any] = field(default_factory=dict)
    estimator_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: modality -> its unlabeled rows the ranking set aside (the data are then label-scarce)
    unlabeled: dict[str, int] = field(default_factory=dict)
    #: the studied label regime the data are in (:func:`cchkit.criteria.data_regime`), None if none
    regime: str | None = None


def _regime_of(loaded: ModalityBundle, student: Any, candidates: Any) -> str | None:
    """The studied label regime of the students' labels (None where they differ or none was studied)."""
    keys = {data_regime(loaded[s].labels, loaded[s].ids, [(loaded[t].labels, loaded[t].ids) for t in cands],
                        loaded.n_classes) for s, cands in resolve_candidates(loaded, student, candidates)}
    return keys.pop() if len(keys) == 1 else None


def _check_criterion(criterion: str | None) -> None:
    """A criterion to recommend by: registered, and one that may recommend (:data:`RECOMMEND_BY`)."""
    if criterion is not None and criterion not in RECOMMEND_BY:
        raise InputError(
            f"rank_teachers: criterion must be None or one of {', '.join(RECOMMEND_BY)}, got {criterion!r}."
        )


def _checked_estimators(estimators: Sequence[str] | str) -> list[str]:
    if isinstance(estimators, str):
        estimators = [e.strip() for e in estimators.split(",") if e.strip()]
    estimators = list(dict.fromkeys(estimators))
    if not estimators:
        raise InputError("give at least one estimator.")
    known = list_estimators()
    for e in estimators:
        if e not in known:
            raise UnknownEstimatorError(f"unknown estimator {e!r}; choose one of {', '.join(known)}.")
    return estimators


def _checked_estimator_params(settings: RankSettings, extra: Mapping[str, Mapping[str, Any]] | None
                              ) -> dict[str, dict[str, Any]]:
    """The caller's keyword arguments per estimator, refused up front when they name an
    estimator the ranking does not use or a parameter that estimator does not take."""
    if extra is not None and not isinstance(extra, Mapping):
        raise InputError(f"estimator_params must map estimator names to keyword arguments, got {extra!r:.60}.")
    bad = [k for k, v in (extra or {}).items() if not isinstance(v, Mapping)]
    if bad:
        raise InputError(f"estimator_params[{bad[0]!r}] must be a mapping of keyword arguments.")
    params = {str(k): dict(v) for k, v in (extra or {}).items()}
    unused = [k for k in params if k not in settings.estimators]
    if unused:
        raise InputError(
            f"estimator_params names {', '.join(map(repr, unused))}, which the ranking does not use; "
            f"its estimators are {', '.join(settings.estimators)}."
        )
    for name, kw in params.items():
        if "random_state" in kw:
            raise InputError(f"estimator_params[{name!r}] sets random_state; it is drawn per task from random_state.")
        get_estimator(name, **kw)  # unknown or out-of-range parameters fail now, not in every task
    return params


def _estimator_plan(settings: RankSettings) -> EstimatorPlan:
    """The grid's estimators: ``n_bootstrap`` and ``device`` offered, the caller's parameters kept."""
    offered: dict[str, Any] = {"n_bootstrap": settings.n_bootstrap}
    if settings.device != "auto":
        offered["device"] = settings.device
    return EstimatorPlan(offered=offered, params=settings.estimator_params)


def _unpaired_failures(bundle: ModalityBundle, plan: list[tuple[str, list[str]]]) -> dict[tuple[str, str], str]:
    """The (student, teacher) pairs that cannot be scored: the CCH needs paired samples."""
    failures: dict[tuple[str, str], str] = {}
    for s, cands in plan:
        for t in cands:
            n_pairs = bundle.n_paired(s, t)
            if n_pairs < MIN_SAMPLES:
                failures[(s, t)] = (
                    f"{s!r} and {t!r} share {n_pairs} sample id(s); the CCH score needs paired samples "
                    f"(at least {MIN_SAMPLES}). Use `cchkit validate` (unpaired distiller) instead."
                )
    return failures


def _representations(bundle: ModalityBundle, names: list[str], seeds: list[int],
                     settings: RankSettings, bar: Any) -> tuple[list[RepresentationSet], int]:
    """One representation set of the paired samples per encoder seed, and the number of pairs."""
    if not names:
        return [], 0
    view = bundle.paired(names)
    _warn_if_pairs_cut(bundle, names, view.n)
    _check_class_counts(view.labels, bundle.classes)
    given = [n for n in names if bundle.modality(n).representation]
    reps = []
    for seed in seeds:
        bar.set_postfix_str("representations")
        reps.append(compute_representations(
            view.data, view.labels, kind=settings.representation, dim=settings.dim, given=given, random_state=seed,
            device=settings.device, progress=settings.progress, **settings.encoder_params,
        ))
        bar.update()
    return reps, view.n


def _warn_if_pairs_cut(bundle: ModalityBundle, names: list[str], n_used: int) -> None:
    """Every estimate uses the samples that *all* ranked modalities share (one representation
    set, so that every row compares the same samples); say so when one modality cuts that set
    well below what a pair shares on its own. Each row's ``n_pairs`` is the size used."""
    for a in names:
        own = max((bundle.n_paired(a, b) for b in names if b != a), default=n_used)
        if own > n_used:
            worst = min((b for b in names if b != a), key=lambda b: bundle.n_paired(a, b))
            warn_user(
                "every MI estimate uses the %d samples shared by all of %s, although %r shares up to %d with another "
                "modality; %r shares only %d with %r. Rank it separately (--candidates) to use more pairs.",
                n_used, ", ".join(names), a, own, worst, bundle.n_paired(a, worst), a,
            )
            return


def _rank(bundle: ModalityBundle, plan: list[tuple[str, list[str]]], failures: dict, names: list[str],
          settings: RankSettings) -> tuple[pd.DataFrame, dict[Task, Any]]:
    """The table (ranked) and the grid's results, once the arguments are checked.

    One progress bar counts every step (a representation set per seed, each estimate, then the
    criteria), so that its rate and time left cover the whole ranking, not only the estimates."""
    from tqdm.auto import tqdm

    rng = as_generator(settings.random_state)
    seeds = [int(x) for x in rng.integers(0, 2**31 - 1, size=settings.n_seeds)]
    with tqdm(total=len(seeds), desc="ranking", unit="step", disable=not settings.progress, leave=False) as bar:
        reps, n_pairs_all = _representations(bundle, names, seeds, settings, bar)
        if reps:
            _refuse_wider_than_n(plan, failures, reps[0], n_pairs_all)
        pairs = [(t, s) for s, cands in plan for t in cands if (s, t) not in failures]
        names = [m for m in names if any(m in p for p in pairs)]
        tasks = grid_tasks(settings.estimators, seeds, reps, names, pairs)
        bar.total = len(seeds) + len(tasks) + 1
        bar.set_postfix_str("MI estimates")
        results = run_grid(tasks, reps, settings.variant, _estimator_plan(settings), n_jobs=settings.n_jobs,
                           bar=bar, backend=settings.backend, scheduler=settings.scheduler)
        bar.set_postfix_str("criteria")
        ctx = RowContext(results=results, reps=reps, n_seeds=len(seeds), failures=failures,
                         representation=settings.representation, variant=settings.variant, n_pairs=n_pairs_all,
                         bundle=bundle, label_floor=settings.label_floor,
                         class_probs=_class_probs(reps, names, bundle.n_classes, seeds))
        rows = [ranking_row(s, t, e, ctx) for s, cands in plan for t in cands for e in settings.estimators]
        bar.update()
    table = add_ranks(pd.DataFrame(rows, columns=ranking_columns()), settings.criterion, settings.regime,
                      follow_outlook=not settings.criterion_named)
    return table, results


def _class_probs(reps: list[RepresentationSet], names: list[str], n_classes: int,
                 seeds: list[int]) -> dict[str, np.ndarray]:
    """Each modality's class-conditional predictive matrix on H, averaged over seeds and folds."""
    out = {}
    for m in names:
        mats = [class_conditional_probs(rep.folds[f][m], rep.labels[f], n_classes, random_state=seed)
                for rep, seed in zip(reps, seeds) for f in range(len(rep.folds))]
        out[m] = np.mean(mats, axis=0)
    return out


def _settings_record(bundle: ModalityBundle, student: str, candidates: Any, settings: RankSettings) -> dict[str, Any]:
    """How the ranking was made, as written to its JSON."""
    rs = settings.random_state
    regime = {"unlabeled_rows": settings.unlabeled} if settings.unlabeled else {}
    return {
        "data": bundle.name,
        "data_sha256": bundle.digest(),
        **regime,
        "student": student,
        "candidates": None if candidates is None else list(candidates) if not isinstance(candidates, str) else candidates,
        "estimators": settings.estimators,
        "representation": settings.representation,
        "variant": settings.variant,
        "dim": settings.dim,
        "n_bootstrap": settings.n_bootstrap,
        "n_seeds": settings.n_seeds,
        "criterion": settings.criterion,
        "label_regime": settings.regime,
        "regime_expectation": regime_expectation(settings.regime),
        "label_floor": bool(settings.label_floor),
        "random_state": rs if isinstance(rs, (int, type(None))) else "generator",
        "unit": "nats",
    }


def _refuse_if_all_failed(ranking: Ranking, results: Mapping[Task, Any]) -> None:
    """A ranking whose every row failed is a failure, not a result.

    A bug in any task is re-raised as it is (the CLI reports it as an internal error); failures
    caused by the input raise :class:`RankingFailedError` listing the distinct reasons.
    """
    table = ranking.table
    if table.empty or table["error"].isna().any():
        return
    for res in results.values():
        if isinstance(res, Exception) and not isinstance(res, CchkitError):
            raise res
    reasons = list(dict.fromkeys(str(e) for e in table["error"]))
    more = f" (and {len(reasons) - 3} more)" if len(reasons) > 3 else ""
    raise RankingFailedError(
        f"every one of the {len(table)} ranking rows failed, so there is no recommendation: "
        + "; ".join(reasons[:3]) + more,
        ranking=ranking,
    )


def _refuse_wider_than_n(plan: list[tuple[str, list[str]]], failures: dict, rep: RepresentationSet, n: int) -> None:
    """Pairs whose representations have more dimensions than paired samples fail up front.

    With d_T + d_S >= n no MI estimate is meaningful (and the label forms in hundreds of
    dimensions take minutes to say so); the row says what to change instead.
    """
    for s, cands in plan:
        for t in cands:
            if (s, t) in failures:
                continue
            dims = rep.dim(t) + rep.dim(s)
            if dims >= n:
                failures[(s, t)] = (
                    f"{n} paired samples for {dims} representation dimensions ({t} {rep.dim(t)} + {s} "
                    f"{rep.dim(s)}): too few to estimate MI; use --representation pca with a smaller --dim "
                    f"(at most {max(1, n // (2 * MIN_PAIRS_PER_DIM))} keeps a decision possible) or more samples."
                )


def _check_class_counts(labels: np.ndarray, classes: np.ndarray) -> None:
    """Two classes at least, each with MIN_PER_CLASS paired samples."""
    counts = np.bincount(labels, minlength=len(classes))
    present = np.flatnonzero(counts)
    if present.size < 2:
        raise BundleError("the paired samples hold a single class; a ranking needs at least 2 classes.")
    few = present[counts[present] < MIN_PER_CLASS]
    if few.size:
        c = few[0]
        raise BundleError(
            f"{few.size} class(es) have fewer than {MIN_PER_CLASS} paired samples (e.g. class "
            f"{classes[c].item()!r} has {counts[c]}); the ranking's "
            "cross-fitted folds and label terms need more. Merge or drop the rare classes."
        )
