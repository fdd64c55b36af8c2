"""Measure each teacher where teachers matter: a student with few labels and many unlabeled rows.

:func:`validate_few_labels` is what :func:`cchkit.validate` runs when the student's labels
are scarce (``labels_per_class``, ``labelled_fraction``, or unlabeled rows in the data).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._backends import check_backend, run_chunked
from .._parallel import effective_n_jobs
from .._random import RandomState
from .._stats import MIN_SEEDS, t_interval
from .._validation import UNLABELED, plain
from .._warn import warn_user
from ..criteria.regimes import labels_beyond
from ..exceptions import CchkitError, InputError
from .objectives import get_objective, teacher_objectives
from .regime import LabelRegime
from .report import FewLabelReport, seed_outcomes, summarise_table, verdict
from .run import run_seed
from .track_record import record_sentence

logger = logging.getLogger("cchkit")

__all__ = ["validate_few_labels", "teacher_label_modes", "labels_across_pairs", "labels_beyond_student",
           "default_objectives", "criterion_prediction", "labelled_per_class"]


def teacher_label_modes(bundle: Any, student: str, candidates: Sequence[str], requested: str) -> dict[str, str]:
    """``same`` or ``own`` per teacher. ``auto``: ``own`` where the data give the teacher labels the
    student lacks (:func:`labels_beyond_student`: labelled teacher rows paired with a student row
    without a label, or on samples the student does not have, as an unpaired teacher's are), else
    ``same``. ``own`` for a teacher modality without labels is refused."""
    beyond = labels_beyond_student(bundle, student, candidates) if requested == "auto" else {}
    modes = {}
    for t in candidates:
        if requested == "own" and not (bundle.modality(t).labels != UNLABELED).any():
            raise InputError(f"teacher_labels='own', but the teacher modality {t!r} has no labelled row.")
        modes[t] = requested if requested != "auto" else ("own" if beyond[t] else "same")
    return modes


def labels_beyond_student(bundle: Any, student: str, candidates: Sequence[str]) -> dict[str, int]:
    """Per candidate, its labelled rows on samples the student holds no label for in the data:
    paired with a student row without a label, or a sample the student does not have (every
    labelled row of an unpaired teacher). Labels a regime hides are not counted."""
    s = bundle.modality(student)
    return {t: labels_beyond(s.labels, s.ids, bundle.modality(t).labels, bundle.modality(t).ids) for t in candidates}


def labels_across_pairs(bundle: Any, student: str, candidates: Sequence[str]) -> dict[str, int]:
    """Per candidate, how many of the student's rows without a label in the data are paired with
    a labelled row of that candidate (rows the regime hides are not counted: their labels are
    known and set aside on purpose)."""
    s = bundle.modality(student)
    missing = s.ids[s.labels == UNLABELED]
    out = {}
    for t in candidates:
        tm = bundle.modality(t)
        out[t] = int(pd.Index(tm.ids[tm.labels != UNLABELED]).isin(missing).sum()) if missing.size else 0
    return out


def _warn_labels_across_pairs(counts: dict[str, int], student: str, modes: dict[str, str]) -> None:
    if any(counts.values()):
        where = ", ".join(f"{n:,} in {t!r}" for t, n in counts.items() if n)
        own = any(n and modes[t] == "own" for t, n in counts.items())
        warn_user("%s's rows without a label have labelled pairs (%s): where a label belongs to the sample, the "
                  "same in every modality, copy it across the pair before asking which teacher helps.%s", student, where,
                  " Teachers with their own labels are cross-fitted, so no gain below comes from the label of the "
                  "sample it is measured on." if own else "")


def _warn_raised(plans: Sequence[Any], regime: LabelRegime, classes: np.ndarray) -> None:
    """Say where ``labelled_fraction`` rounded a class below two labelled rows and two were kept."""
    raised = sorted({c for p in plans for c in p.raised})
    if raised:
        named = ", ".join(repr(plain(classes[c])) for c in raised[:5]) + (", ..." if len(raised) > 5 else "")
        warn_user("labelled_fraction=%g leaves fewer than 2 labelled training rows of class(es) %s in some seed; "
                  "each keeps 2 (cross-validation needs two), so the student has more labels than the fraction "
                  "gives (the verdict counts them).", regime.labelled_fraction, named)


def default_objectives(bundle: Any, student: str, candidates: Sequence[str]) -> list[str]:
    """Every registered teacher objective run by default; the paired ones only when every teacher
    shares samples with the student."""
    paired = all(bundle.n_paired(student, c) > 0 for c in candidates)
    return teacher_objectives(paired, default_only=True)


def _checked_objectives(methods: Sequence[str] | None, bundle: Any, student: str, candidates: Sequence[str]) -> list[str]:
    if methods is None:
        return default_objectives(bundle, student, candidates)
    allowed = teacher_objectives(paired=True)
    if not len(methods):
        raise InputError(f"methods is empty; name one or more of {', '.join(allowed)}, or leave it out (None) for "
                         "the defaults.")
    names = [m for m in dict.fromkeys(methods) if m != "none"]
    bad = [m for m in names if m not in allowed]
    if bad or not names:
        raise InputError(f"the default measurement runs the methods {', '.join(allowed)}; {bad or 'none'} "
                         "cannot run there (the other distillers run with baseline='no-kd', every label).")
    for m in names:
        if get_objective(m).paired and not all(bundle.n_paired(student, c) > 0 for c in candidates):
            raise InputError(f"method {m!r} needs paired samples, and a candidate shares none with {student!r}.")
    return names


def _seed_pool(seeds: int | Sequence[int], random_state: RandomState, max_seeds: int) -> tuple[list[int], int]:
    from ..validation.seeds import seed_pool

    count = isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool)
    if not count:
        seeds = [int(s) for s in seeds]
    if (seeds if count else len(seeds)) < MIN_SEEDS or (not count and min(seeds) < 0):
        raise InputError(f"seeds must be a count >= {MIN_SEEDS} or a list of at least {MIN_SEEDS} non-negative ints "
                         f"(a gain's interval needs them), got {seeds!r}.")
    return seed_pool(seeds, random_state, max_seeds)


@dataclass(frozen=True)
class _SeedOutcome:
    """What one seed hands back from a worker: its raw runs, its split and each teacher's
    cross-validated accuracy and family (not the teachers themselves, which are large)."""

    runs: pd.DataFrame
    plan: Any
    cv_accuracy: dict[str, float]
    family: dict[str, str]


def _measure_seeds(seeds: list[int], shared: tuple[Any, ...]) -> list[_SeedOutcome | CchkitError]:
    """The seeds of one task (serial, or a chunk sent to a worker of :func:`~cchkit._backends.run_chunked`).
    A seed's numbers depend on the seed alone, not on the process, the thread count or the other
    seeds, so the report is the same serial or parallel. A seed's refusal is returned (for it and
    the task's later seeds), not raised."""
    bundle, student, candidates, regime, methods, modes, bar = shared
    out: list[_SeedOutcome | CchkitError] = []
    for i, seed in enumerate(seeds):
        try:
            runs, fitted, plan = run_seed(bundle, student, candidates, regime, seed, methods, modes)
        except CchkitError as exc:  # handed back, so that the first seed's refusal is the one raised
            return out + [exc] * (len(seeds) - i)
        out.append(_SeedOutcome(runs, plan, {t: f.cv_accuracy for t, f in fitted.items()},
                                {t: f.family for t, f in fitted.items()}))
        if bar is not None:
            bar.update(1)
    return out


@dataclass
class _Rounds:
    """The seeds measured so far, in the shape the budget rounds
    (:func:`cchkit.validation.seeds.seeds_until_separated`) ask for; with ``n_jobs`` > 1 a
    round's seeds run in parallel on the ``backend``."""

    bundle: Any
    student: str
    candidates: Sequence[str]
    regime: LabelRegime
    methods: list[str]
    modes: dict[str, str]
    progress: bool
    n_jobs: int = 1
    backend: str = "loky"
    scheduler: str | None = None
    plans: list[Any] = field(default_factory=list)
    raw: list[pd.DataFrame] = field(default_factory=list)

    def runs(self, seeds: list[int]) -> pd.DataFrame:
        from tqdm.auto import tqdm

        rows = []
        with tqdm(total=len(seeds), desc="seeds", file=sys.stderr, disable=not self.progress) as bar:
            shared = (self.bundle, self.student, self.candidates, self.regime, self.methods, self.modes)
            if self.backend == "loky" and (self.n_jobs == 1 or len(seeds) == 1):  # a cluster's workers count there
                outcomes = _measure_seeds(seeds, (*shared, bar))
            else:
                outcomes = run_chunked(_measure_seeds, seeds, (*shared, None), n_jobs=self.n_jobs, backend=self.backend,
                                       scheduler=self.scheduler, on_chunk=bar.update)
        refused = next((o for o in outcomes if isinstance(o, CchkitError)), None)
        if refused is not None:
            raise refused
        for seed, o in zip(seeds, outcomes):
            assert isinstance(o, _SeedOutcome)
            rows += [{"seed": seed, **r} for r in seed_outcomes(o.runs, o.cv_accuracy, o.family)]
            self.plans.append(o.plan)
            self.raw.append(o.runs)
        return pd.DataFrame(rows)

    def table(self, seeds: list[int], per_seed: pd.DataFrame) -> tuple[pd.DataFrame, None]:
        return summarise_table(per_seed, self.student, self.modes), None


def _baselines(per_seed: pd.DataFrame) -> pd.DataFrame:
    free = per_seed[per_seed["teacher"] == ""]
    rows = []
    for m, g in free.groupby("method", sort=False):
        acc, lo, hi = t_interval(g["accuracy"].to_numpy(dtype=float), bounds=(0, 1))
        rows.append({"student": m, "acc": acc, "acc_low": lo, "acc_high": hi})
    return pd.DataFrame(rows, columns=["student", "acc", "acc_low", "acc_high"])


def _summary(bundle: Any, student: str, regime: LabelRegime, plans: list[Any], objectives: list[str],
             baselines: pd.DataFrame, per_seed: pd.DataFrame, seeds: list[int]) -> dict[str, Any]:
    best = baselines[baselines["student"] == "best teacher-free"].iloc[0]
    chosen = per_seed.loc[per_seed["method"] == "best teacher-free", "chosen"].value_counts()
    kinds = ", ".join(f"{k} {v}/{len(seeds)}" for k, v in chosen.items())
    return {
        "student": student, "method": objectives[0], "methods": objectives, "regime": regime.to_dict(),
        "regime_text": regime.describe(),
        "n_labelled": int(np.median([p.labelled.size for p in plans])),
        "n_unlabeled": int(np.median([p.unlabeled.size for p in plans])),
        "n_test": int(np.median([p.test.size for p in plans])),
        "selection": plans[0].selection,
        "baseline_text": f"the best teacher-free student ({best.acc:.3f} [{best.acc_low:.3f}, {best.acc_high:.3f}])",
        "baseline_chosen": kinds,
        "seeds": seeds, "data": bundle.name, "data_sha256": bundle.digest(),
    }


def validate_few_labels(bundle: Any, student: str, candidates: Sequence[str], *, regime: LabelRegime,
                        methods: Sequence[str] | None = None, seeds: int | Sequence[int] = 5,
                        random_state: RandomState = 0, progress: bool = True, budget: float | None = None,
                        max_seeds: int = 20, n_jobs: int = 1, backend: str = "loky",
                        scheduler: str | None = None) -> FewLabelReport:
    """Distil each candidate into ``student`` with the labels the regime leaves it.

    Per seed: the test rows (labelled, never trained on), the regime's labelled rows and every
    other training row as unlabeled (:func:`.regime.plan_seed`); teachers and their placebos
    (:mod:`.teachers`); the teacher-free students and each teacher's KD students trained and
    tuned in stacks (:mod:`.run`). See :class:`.report.FewLabelReport` for what is reported.
    With a ``budget`` (seconds), seeds are added after the first ``seeds`` (at most doubling
    each round, up to ``max_seeds``) while the primary method's gain intervals overlap. With
    ``n_jobs`` > 1 the seeds of a round run in parallel on ``backend`` (joblib's local processes,
    a Dask cluster at ``scheduler``, or Ray); the report is the serial one.
    """
    from ..validation.evidence import power_statement
    from ..validation.seeds import seeds_until_separated

    t0 = time.perf_counter()
    check_backend(backend, scheduler)
    n_jobs = effective_n_jobs(n_jobs)
    objectives = _checked_objectives(methods, bundle, student, candidates)
    across = labels_across_pairs(bundle, student, candidates)
    modes = teacher_label_modes(bundle, student, candidates, regime.teacher_labels)
    _warn_labels_across_pairs(across, student, modes)
    pool, n_first = _seed_pool(seeds, random_state, max_seeds if budget is not None else 0)
    rounds = _Rounds(bundle, student, candidates, regime, objectives, modes, progress, n_jobs, backend, scheduler)
    seed_list, per_seed, stop = seeds_until_separated(rounds, pool, n_first, budget, t0)
    _warn_raised(rounds.plans, regime, bundle.classes)
    table = summarise_table(per_seed, student, modes)
    baselines = _baselines(per_seed)
    summary = _summary(bundle, student, regime, rounds.plans, objectives, baselines, per_seed, seed_list)
    summary["teacher_labels"] = modes
    summary["labels_across_pairs"] = across
    summary["verdict"] = verdict(table, summary)
    summary["prediction"] = criterion_prediction(table, summary["method"], regime, modes, summary["n_unlabeled"],
                                                 labelled_per_class(bundle[student].labels, rounds.plans,
                                                                    bundle.n_classes))
    summary["power"] = power_statement(table, objectives[0], len(seed_list), stop=stop, initial=n_first)
    summary["budget"] = budget
    summary["seconds"] = time.perf_counter() - t0
    return FewLabelReport(table=table, baselines=baselines, summary=summary,
                          runs=pd.concat(rounds.raw, ignore_index=True))


def labelled_per_class(labels: np.ndarray, plans: Sequence[Any], n_classes: int) -> float:
    """The labelled training rows per class that place a validation in a studied regime: the
    median over classes (as the ranking counts them, :func:`cchkit.criteria.data_regime`), the
    median over seeds."""
    return float(np.median([np.median(np.bincount(labels[p.labelled], minlength=n_classes)) for p in plans]))


def criterion_prediction(table: pd.DataFrame, method: str, regime: LabelRegime, modes: dict[str, str],
                         n_unlabeled: int = 0, per_class: float | None = None) -> dict[str, Any]:
    """What ``teacher_cv_accuracy`` (the teacher cross-validated on the labelled rows) predicted,
    whether it held on these seeds, and its record in the study of this regime."""
    t = table[table["method"] == method]
    if t.empty:
        return {}
    top = str(t.sort_values("teacher_cv_accuracy", ascending=False)["teacher"].iloc[0])
    ranked = t.sort_values("gain", ascending=False).set_index("teacher")
    best = str(ranked.index[0])
    apart = len(ranked) < 2 or ranked["gain_low"].iloc[0] > ranked["gain_high"].iloc[1:].max()
    if not t["significant"].any():
        held, words = None, "the gains are all within noise, so it can be neither confirmed nor refuted"
    elif top == best:
        held, words = True, "that held" + ("" if apart else " (though the teachers' gains overlap)")
    elif ranked.loc[best, "gain_low"] > ranked.loc[top, "gain_high"]:
        held, words = False, f"{best} did better"
    else:
        held, words = None, f"{best} measured higher, but their gains overlap: neither confirmed nor refuted"
    mode = "same" if set(modes.values()) == {"same"} else "own"
    text = (f"teacher_cv_accuracy ranked {top} first; {words}. " + record_sentence(regime, mode, n_unlabeled, per_class)).strip()
    return {"criterion": "teacher_cv_accuracy", "top": top, "best_measured": best, "held": held, "text": text}
