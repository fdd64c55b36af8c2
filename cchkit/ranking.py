"""Rank candidate teacher modalities for a student modality by their CCH score.

>>> import cchkit
>>> ranking = cchkit.rank_teachers("digits-avt", student="audio", candidates=["image", "text"])  # doctest: +SKIP
>>> ranking.table[["teacher", "cch_score", "cch_low", "cch_high", "decision", "rank"]]  # doctest: +SKIP

The work is a grid of independent tasks (modality x estimator x encoder seed x fold), run with
joblib (``n_jobs``); any joblib backend (Dask, Ray) can run it unchanged through
``joblib.parallel_config``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._parallel import effective_n_jobs
from ._random import RandomState, as_generator
from ._torch import limit_threads
from .bundle import MIN_SAMPLES, ModalityBundle
from .cch import SCORE_VARIANTS, Term, combine_terms, decide, estimate_terms, mfh_share, score_interval
from .datasets import load_bundle
from .estimators import MIEstimate, get_estimator_accepting, list_estimators
from .exceptions import BundleError, CchkitError, InputError, RankingFailedError, UnknownEstimatorError
from .representations import REPRESENTATION_KINDS, RepresentationSet, compute_representations

logger = logging.getLogger("cchkit")

__all__ = ["Ranking", "rank_teachers", "RANKING_COLUMNS", "RECOMMEND_BY", "DEFAULT_CRITERION"]

#: Columns of :attr:`Ranking.table`, in order (documented in the README).
RANKING_COLUMNS = [
    "student",
    "teacher",
    "estimator",
    "variant",
    "representation",
    "n_pairs",
    "i_teacher_student",
    "i_teacher_student_low",
    "i_teacher_student_high",
    "i_student_label",
    "i_student_label_low",
    "i_student_label_high",
    "cch_score",
    "cch_low",
    "cch_high",
    "decision",
    "rank",
    "consensus",
    "estimators_disagree",
    "teacher_accuracy",
    "student_accuracy",
    "teacher_accuracy_raw",
    "student_accuracy_raw",
    "i_teacher_label",
    "i_joint_label",
    "label_gain",
    "label_gain_low",
    "label_gain_high",
    "i_student_label_lb",
    "i_teacher_label_lb",
    "label_check",
    "mfh_score",
    "label_entropy",
    "bound",
    "criterion",
    "predicts_gain",
    "note",
    "error",
]

#: What a ranking can recommend by: the column it ranks teachers by (higher first), and when
#: that criterion predicts that distilling from the teacher helps.
RECOMMEND_BY: dict[str, str] = {
    "cch_score": "the CCH score's interval is above 0 (decision 'helps'), after the paper",
    "teacher_accuracy": "the teacher's held-out accuracy on H_T beats the student's on H_S",
    "label_gain": "I(H_T; Y | H_S) = I([H_T, H_S]; Y) - I(H_S; Y) has its interval above 0",
}
#: The criterion rank_teachers recommends by (chosen by benchmarks/criteria.py).
DEFAULT_CRITERION = "cch_score"

#: A row's decision needs at least this many paired samples per representation dimension
#: (``n_pairs >= MIN_PAIRS_PER_DIM * (d_T + d_S)``); below it the MI estimates of n-by-d data
#: are dominated by their bias (two independent 800-d noise blocks with n = 20 give 15 nats), so
#: the row is reported "inconclusive" with a note instead of a confident decision.
MIN_PAIRS_PER_DIM = 3
#: Fewest paired samples of every class that a ranking needs: its cross-fitted folds and the
#: class-conditional label forms need more than one sample of each class on each side.
MIN_PER_CLASS = 3


@dataclass
class Ranking:
    """The result of :func:`rank_teachers`: a tidy table, one row per (student, teacher, estimator).

    Attributes
    ----------
    table : pandas.DataFrame
        Columns :data:`RANKING_COLUMNS`. MI values in nats. ``rank`` 1 is the best teacher for
        that student under that estimator; failed rows keep their ``error`` and no rank.
    settings : dict
        How the ranking was made (data, estimators, representation, variant, seed...).
    seconds : float
        Wall-clock time (kept out of the JSON so that the same seed gives identical bytes).
    """

    table: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: float = float("nan")

    @property
    def students(self) -> list[str]:
        return list(dict.fromkeys(self.table["student"]))

    @property
    def primary_estimator(self) -> str:
        return str(self.settings.get("estimators", [self.table["estimator"].iloc[0]])[0])

    def top(self, k: int = 1, *, estimator: str | None = None) -> pd.DataFrame:
        """The ``k`` best-ranked teachers per student under ``estimator`` (default: the first)."""
        est = estimator or self.primary_estimator
        t = self.table[(self.table["estimator"] == est) & self.table["rank"].notna()]
        return t.sort_values(["student", "rank"]).groupby("student", sort=False).head(k).reset_index(drop=True)

    @property
    def recommended(self) -> str | dict[str, str | None] | None:
        """The best-ranked teacher that the ranking's criterion predicts to help, per student;
        ``None`` if none (see :data:`RECOMMEND_BY`; with ``cch_score``: decision ``helps``).

        A single student gives a name (or None); ``student="all"`` gives a dict.
        """
        best = self.top(len(self.table), estimator=self.primary_estimator)
        out: dict[str, str | None] = {}
        for student in self.students:
            rows = best[(best["student"] == student) & best["predicts_gain"].astype(bool)]
            out[student] = None if rows.empty else str(rows.iloc[0]["teacher"])
        return out[self.students[0]] if len(out) == 1 else out

    def matrix(self, value: str = "cch_score", *, estimator: str | None = None) -> pd.DataFrame:
        """Teacher-by-student matrix of ``value`` (rows: teachers, columns: students)."""
        est = estimator or self.primary_estimator
        t = self.table[self.table["estimator"] == est]
        return t.pivot(index="teacher", columns="student", values=value)

    def plot(self, ax=None, **kwargs):
        """Scores with intervals, coloured by decision (see :func:`cchkit.plotting.plot_ranking`)."""
        from .plotting import plot_ranking

        return plot_ranking(self, ax=ax, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """``{"rows": [...], "settings": {...}}`` with NaN as None (JSON null)."""
        rows = json.loads(self.table.to_json(orient="records", double_precision=10))
        return {"rows": rows, "settings": self.settings}

    def to_json(self, path: str | os.PathLike[str] | None = None, *, indent: int | None = 2) -> str:
        """JSON text (also written to ``path`` if given)."""
        text = json.dumps(self.to_dict(), indent=indent, sort_keys=False)
        if path is not None:
            Path(path).write_text(text)
        return text

    def to_csv(self, path: str | os.PathLike[str] | None = None) -> str:
        """CSV text of :attr:`table` (also written to ``path`` if given)."""
        text = self.table.to_csv(index=False, float_format="%.6g")
        if path is not None:
            Path(path).write_text(text)
        return text

    def __repr__(self) -> str:
        cols = ["student", "teacher", "estimator", "cch_score", "cch_low", "cch_high", "decision", "rank"]
        return f"Ranking(recommended={self.recommended!r})\n" + self.table[cols].to_string(index=False)

    def _repr_html_(self) -> str:
        return f"<p>Ranking, recommended: <b>{self.recommended}</b></p>" + self.table.to_html(index=False)


# ---------------------------------------------------------------------- the pipeline
def resolve_candidates(
    bundle: ModalityBundle, student: str, candidates: Sequence[str] | str | None
) -> list[tuple[str, list[str]]]:
    """(student, candidates) pairs to score; ``student="all"`` gives every ordered pair."""
    if isinstance(candidates, str):
        candidates = [c.strip() for c in candidates.split(",") if c.strip()]
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


def _estimator_for(name: str, params: Mapping[str, Any], seed: int):
    return get_estimator_accepting(name, **{"progress": False, **params, "random_state": seed})


def _run_task(task: tuple, reps: Sequence[RepresentationSet], variant: str, params: Mapping[str, Mapping[str, Any]]):
    """One (kind, modality, estimator, seed, fold) MI computation; errors are returned, not raised."""
    kind, key, est_name, s, f, seed = task
    rs = reps[s]
    labels = rs.labels[f]
    try:
        if kind == "bound":  # the variational lower bound on I(H_m; Y), on the same H as the label term
            from .estimators.variational import VariationalLabelMI

            h = rs.folds[f][key]
            if variant == "matched":
                from .cch import discriminant_projection

                h = discriminant_projection(h, labels, random_state=seed + 1)
            return task, {"label": VariationalLabelMI(random_state=seed).estimate(h, labels, discrete_y=True)}
        est = _estimator_for(est_name, params.get(est_name, {}), seed)
        if kind == "pair":
            teacher, student = key
            terms = estimate_terms(
                est, rs.folds[f][teacher], rs.folds[f][student], labels, variant=variant, baselines=True, random_state=seed
            )
            return task, {"teacher_student": terms["teacher_student"], "joint_label": terms["joint_label"]}
        # single modality: I(H_m; Y)
        h = rs.folds[f][key]
        if variant == "matched":
            from .cch import discriminant_projection

            h = discriminant_projection(h, labels, random_state=seed + 1)
        return task, {"label": est.estimate(h, labels, discrete_y=True)}
    except CchkitError as exc:
        return task, exc
    except Exception as exc:  # a bug or numerical failure: record it in the row, keep the batch going
        logger.exception("task %s failed", task)
        return task, exc


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
) -> Ranking:
    """Score every candidate teacher for ``student`` by its CCH score and rank them.

    Parameters
    ----------
    bundle : ModalityBundle, path, or bundled dataset name
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
        What ``rank`` and ``recommended`` follow, from :data:`RECOMMEND_BY` (default
        :data:`DEFAULT_CRITERION`). Every row carries the CCH score, its interval and decision
        whatever the criterion.
    n_threads : int or None
        Torch/BLAS threads while ranking. Default (None): 1, because the work is many small
        linear-algebra calls that run faster on one thread; use ``n_jobs`` to use more cores.

    Returns
    -------
    Ranking
    """
    start = time.perf_counter()
    if isinstance(estimators, str):
        estimators = [e.strip() for e in estimators.split(",") if e.strip()]
    estimators = list(dict.fromkeys(estimators))
    if not estimators:
        raise InputError("give at least one estimator.")
    known = list_estimators()
    for e in estimators:
        if e not in known:
            raise UnknownEstimatorError(f"unknown estimator {e!r}; choose one of {', '.join(known)}.")
    if representation not in REPRESENTATION_KINDS:
        raise InputError(
            f"unknown representation {representation!r}; choose one of {', '.join(REPRESENTATION_KINDS)}."
        )
    if variant not in SCORE_VARIANTS:
        raise InputError(f"unknown score variant {variant!r}; choose one of {', '.join(SCORE_VARIANTS)}.")
    criterion = DEFAULT_CRITERION if criterion is None else criterion
    if criterion not in RECOMMEND_BY:
        raise InputError(f"unknown criterion {criterion!r}; choose one of {', '.join(RECOMMEND_BY)}.")
    for pname, pval in (("n_bootstrap", n_bootstrap), ("n_seeds", n_seeds), ("dim", dim)):
        if not isinstance(pval, (int, np.integer)) or pval < 1:
            raise InputError(f"{pname} must be a positive integer, got {pval!r}.")
    from ._torch import resolve_device

    n_jobs = effective_n_jobs(n_jobs)
    from ._backends import check_backend

    check_backend(backend, scheduler)
    resolve_device(device)  # an unknown or unavailable device fails now, whatever the representation
    bundle = load_bundle(bundle)
    plan = resolve_candidates(bundle, student, candidates)
    params: dict[str, dict[str, Any]] = {e: {"n_bootstrap": int(n_bootstrap)} for e in estimators}
    for k, v in (estimator_params or {}).items():
        params.setdefault(k, {}).update(v)
    if device != "auto":
        for e in estimators:
            params[e].setdefault("device", device)

    # which pairs can be scored: the CCH needs paired samples
    failures: dict[tuple[str, str], str] = {}
    usable: set[str] = set()
    for s, cands in plan:
        for t in cands:
            n_pairs = bundle.n_paired(s, t)
            if n_pairs < MIN_SAMPLES:
                failures[(s, t)] = (
                    f"{s!r} and {t!r} share {n_pairs} sample id(s); the CCH score needs paired samples "
                    f"(at least {MIN_SAMPLES}). Use `cchkit validate` (unpaired distiller) instead."
                )
            else:
                usable.update((s, t))
    names = [n for n in bundle.names if n in usable]
    with limit_threads(1 if n_threads is None else n_threads):
        return _rank(
            bundle, student, candidates, plan, failures, names, estimators, representation, variant, dim,
            n_bootstrap, n_seeds, params, encoder_params, random_state, device, n_jobs, progress, start,
            criterion=criterion, label_floor=label_floor, backend=backend, scheduler=scheduler,
        )


def _rank(bundle, student, candidates, plan, failures, names, estimators, representation, variant, dim,
          n_bootstrap, n_seeds, params, encoder_params, random_state, device, n_jobs, progress, start, *,
          criterion: str = DEFAULT_CRITERION, label_floor: bool = True, backend: str = "loky",
          scheduler: str | None = None) -> Ranking:
    """The body of :func:`rank_teachers` once the arguments are checked."""
    rng = as_generator(random_state)
    seeds = [int(x) for x in rng.integers(0, 2**31 - 1, size=n_seeds)]
    reps: list[RepresentationSet] = []
    n_pairs_all = 0
    if names:
        view = bundle.paired(names)
        _check_class_counts(view.labels, bundle.classes)
        n_pairs_all = view.n
        given = [n for n in names if bundle.modality(n).representation]
        for seed in seeds:
            reps.append(
                compute_representations(
                    view.data, view.labels, kind=representation, dim=dim, given=given, random_state=seed,
                    device=device, progress=progress, **dict(encoder_params or {}),
                )
            )
    if reps:
        _refuse_wider_than_n(plan, failures, reps[0], n_pairs_all)
    # the task grid: I(H_m; Y) once per modality, I(H_T; H_S) and I([H_T,H_S]; Y) per pair
    pairs = [(t, s) for s, cands in plan for t in cands if (s, t) not in failures]
    names = [m for m in names if any(m in p for p in pairs)]
    tasks = []
    for e in estimators:
        for si, seed in enumerate(seeds):
            for f in range(len(reps[si].folds) if reps else 0):
                sub = int(seed + 7919 * f) % (2**31 - 1)
                tasks += [("single", m, e, si, f, sub) for m in names]
                tasks += [("pair", p, e, si, f, sub) for p in pairs]
    for si, seed in enumerate(seeds):  # estimator-independent: once per modality and fold
        for f in range(len(reps[si].folds) if reps else 0):
            sub = int(seed + 7919 * f) % (2**31 - 1)
            tasks += [("bound", m, "variational", si, f, sub) for m in names]
    results = _run_grid(tasks, reps, variant, params, n_jobs=n_jobs, progress=progress, backend=backend,
                        scheduler=scheduler)

    rows = []
    for s, cands in plan:
        for t in cands:
            for e in estimators:
                rows.append(_row(s, t, e, results, reps, seeds, failures, representation, variant, n_pairs_all, bundle,
                                 label_floor=label_floor))
    table = pd.DataFrame(rows, columns=RANKING_COLUMNS)
    table = add_ranks(table, criterion)
    settings = {
        "data": bundle.name,
        "student": student,
        "candidates": None if candidates is None else list(candidates) if not isinstance(candidates, str) else candidates,
        "estimators": estimators,
        "representation": representation,
        "variant": variant,
        "dim": int(dim),
        "n_bootstrap": int(n_bootstrap),
        "n_seeds": int(n_seeds),
        "criterion": criterion,
        "label_floor": bool(label_floor),
        "random_state": random_state if isinstance(random_state, (int, type(None))) else "generator",
        "unit": "nats",
    }
    ranking = Ranking(table=table, settings=settings, seconds=time.perf_counter() - start)
    _refuse_if_all_failed(ranking, results)
    return ranking


def _refuse_if_all_failed(ranking: Ranking, results: dict) -> None:
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


def _refuse_wider_than_n(plan, failures: dict, rep: RepresentationSet, n: int) -> None:
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


def _run_chunk(chunk: list, shared: tuple) -> list:
    reps, variant, params = shared
    return [_run_task(t, reps, variant, params) for t in chunk]


def _run_grid(tasks, reps, variant, params, *, n_jobs: int, progress: bool, backend: str = "loky",
              scheduler: str | None = None) -> dict:
    if not tasks:
        return {}
    if n_jobs == 1 and backend == "loky":
        from tqdm.auto import tqdm

        it = tqdm(tasks, desc="MI estimates", disable=not progress, leave=False)
        out = [_run_task(t, reps, variant, params) for t in it]
    else:
        from ._backends import run_chunked

        out = run_chunked(_run_chunk, tasks, (reps, variant, params), n_jobs=n_jobs, backend=backend, scheduler=scheduler)
    return {task: res for task, res in out}


def _collect(results: dict, kind: str, key, est: str, n_seeds: int, field_name: str):
    """Estimates grouped by seed (list over seeds of lists over folds), or the first error."""
    groups: list[list[MIEstimate]] = [[] for _ in range(n_seeds)]
    for task, res in results.items():
        if task[0] == kind and task[1] == key and task[2] == est:
            if isinstance(res, Exception):
                return res
            groups[task[3]].append(res[field_name])
    return groups


def _term(results, kind, key, est, n_seeds, field_name) -> Term | Exception:
    groups = _collect(results, kind, key, est, n_seeds, field_name)
    if isinstance(groups, Exception):
        return groups
    return combine_terms(groups)


def _row(s, t, e, results, reps, seeds, failures, representation, variant, n_pairs, bundle, *,
         label_floor: bool = True) -> dict[str, Any]:
    row: dict[str, Any] = {c: np.nan for c in RANKING_COLUMNS}
    row.update(
        student=s, teacher=t, estimator=e, variant=variant, representation=representation,
        n_pairs=bundle.n_paired(s, t), decision="failed", consensus=None, estimators_disagree=False, error=None,
        bound=None, note=None, label_check=None,
    )
    if (s, t) in failures:
        row["error"] = failures[(s, t)]
        return row
    n_seeds = len(seeds)
    ts = _term(results, "pair", (t, s), e, n_seeds, "teacher_student")
    sy = _term(results, "single", s, e, n_seeds, "label")
    ty = _term(results, "single", t, e, n_seeds, "label")
    jy = _term(results, "pair", (t, s), e, n_seeds, "joint_label")
    for term in (ts, sy, ty, jy):
        if isinstance(term, Exception):
            row["error"] = f"{type(term).__name__}: {term}"
            return row
    sb = _term(results, "bound", s, "variational", n_seeds, "label")
    tb = _term(results, "bound", t, "variational", n_seeds, "label")
    sy, ty, checks = _consistent_label_terms(s, t, sy, ty, sb, tb, floor=label_floor)
    if checks["label_check"] != "ok":
        logger.warning("%s <- %s (%s): %s.", s, t, e, checks["label_check"])
    score, low, high = score_interval(ts, sy)
    label_entropy = float(np.mean([np.nan if est.label_entropy is None else est.label_entropy for est in sy.estimates]))
    row.update(
        i_teacher_student=ts.value,
        i_teacher_student_low=ts.low,
        i_teacher_student_high=ts.high,
        i_student_label=sy.value,
        i_student_label_low=max(sy.low, 0.0),
        i_student_label_high=sy.high,
        cch_score=score,
        cch_low=low,
        cch_high=high,
        decision=decide(low, high),
        teacher_accuracy=float(np.mean([r.accuracy.get(t, np.nan) for r in reps])),
        student_accuracy=float(np.mean([r.accuracy.get(s, np.nan) for r in reps])),
        teacher_accuracy_raw=float(np.mean([r.accuracy_raw.get(t, np.nan) for r in reps])),
        student_accuracy_raw=float(np.mean([r.accuracy_raw.get(s, np.nan) for r in reps])),
        i_teacher_label=ty.value,
        i_joint_label=jy.value,
        **_label_gain(jy, sy),
        mfh_score=mfh_share(ty.value, sy.value, jy.value),
        label_entropy=label_entropy,
        bound=ts.estimates[0].bound if ts.estimates else None,
    )
    row.update(checks)
    dims = reps[0].dim(t) + reps[0].dim(s)
    if n_pairs < MIN_PAIRS_PER_DIM * dims:
        row["decision"] = "inconclusive"
        row["note"] = (
            f"too few pairs for a decision: n={n_pairs} for {dims} representation dimensions (needs "
            f">= {MIN_PAIRS_PER_DIM * dims}); the MI estimates are biased at this n/d"
        )
        logger.warning("%s <- %s: %s.", s, t, row["note"])
    return row


def _consistent_label_terms(s: str, t: str, sy: Term, ty: Term, sb: Any, tb: Any, floor: bool
                            ) -> tuple[Term, Term, dict[str, Any]]:
    """Check I(H_S; Y) and I(H_T; Y) against their variational lower bounds on the same H.

    The bound is ``max(H(Y) - CE, Fano)`` of a cross-fitted logistic regression
    (:mod:`cchkit.estimators.variational`). An estimate whose interval lies entirely below the
    bound's is inconsistent with the data: it is named in ``label_check`` and, with ``floor``
    (the default), replaced by the bound (value and standard error), so that the CCH score and
    the other criteria never use a label term the data contradict.
    """
    fields: dict[str, Any] = {}
    problems, out = [], []
    for col, name, est, bound in (("i_student_label_lb", f"I({s};Y)", sy, sb), ("i_teacher_label_lb", f"I({t};Y)", ty, tb)):
        if isinstance(bound, Exception):
            out.append(est)
            continue
        fields[col] = bound.value
        if est.high < bound.low:
            what = "raised to" if floor else "is below"
            problems.append(f"{name} = {est.value:.3f} {what} its variational lower bound {bound.value:.3f} "
                            f"[{bound.low:.3f}, {bound.high:.3f}]")
            est = Term(value=bound.value, se=bound.se, estimates=est.estimates) if floor else est
        out.append(est)
    fields["label_check"] = "; ".join(problems) if problems else "ok"
    return out[0], out[1], fields


def _label_gain(jy: Term, sy: Term) -> dict[str, float]:
    """``I([H_T,H_S]; Y) - I(H_S; Y)`` with the conservative independent-terms interval."""
    gain = Term(value=jy.value - sy.value, se=math.sqrt(jy.se**2 + sy.se**2))  # NaN se -> NaN bounds
    return {"label_gain": gain.value, "label_gain_low": gain.low, "label_gain_high": gain.high}


def _predicts_gain(table: pd.DataFrame, criterion: str) -> pd.Series:
    if criterion == "cch_score":
        return table["decision"] == "helps"
    if criterion == "teacher_accuracy":
        return table["teacher_accuracy"] > table["student_accuracy"]
    return table["label_gain_low"] > 0


def add_ranks(table: pd.DataFrame, criterion: str = DEFAULT_CRITERION) -> pd.DataFrame:
    ok = table["error"].isna()
    table.loc[ok, "rank"] = (
        table[ok].groupby(["student", "estimator"])[criterion].rank(ascending=False, method="min")
    )
    table["rank"] = table["rank"].astype("Int64")
    table["criterion"] = criterion
    table["predicts_gain"] = (ok & _predicts_gain(table, criterion).fillna(False)).astype(bool)
    for _key, grp in table[ok].groupby(["student", "teacher"], sort=False):
        decisions = list(grp["decision"])
        top, count = Counter(decisions).most_common(1)[0]
        consensus = top if count > len(decisions) / 2 else "inconclusive"
        idx = grp.index
        table.loc[idx, "consensus"] = consensus
        table.loc[idx, "estimators_disagree"] = len(set(decisions)) > 1
    table["estimators_disagree"] = table["estimators_disagree"].astype(bool)
    return table


_ = math
