"""The label regime of a few-label validation, and each seed's split of the rows under it.

A student with few labels and many unlabeled rows is the case cross-modal distillation is
used for. :class:`LabelRegime` says how scarce the student's labels are (the labels the data
hold, ``labels_per_class`` kept per class, or a ``labelled_fraction``) and which labels a
teacher may learn from (``same``: only the student's labelled samples; ``own``: every
labelled row of the teacher modality). :func:`plan_seed` draws one seed's split:

* test rows: a stratified share of the student's *labelled* rows, never used for training,
  tuning, a teacher or a criterion;
* the student's labelled training rows (the regime's labels). Few of them (fewer than
  :data:`HOLDOUT_MIN_PER_CLASS` in some class) are split into ``k`` stratified
  cross-validation folds that choose every setting; many are split once into a stratified
  validation share (:data:`HOLDOUT_SHARE`) that chooses. Either way the chosen setting is
  trained again on every labelled row, and only that fit is tested. Cross-validation spends
  ``k`` fits per setting to make the most of a few labels; with many labels one split chooses
  as well, at a third of the cost;
* the student's unlabeled training rows: rows the data hold without a label, plus the
  training rows whose label the regime hides. They are data, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import UNLABELED, plain
from ..exceptions import InputError

__all__ = ["LabelRegime", "SeedPlan", "plan_seed", "TEACHER_LABELS", "CV_FOLDS", "HOLDOUT_MIN_PER_CLASS",
           "HOLDOUT_SHARE"]

#: Which labels a teacher learns from.
TEACHER_LABELS = ("auto", "same", "own")

#: Cross-validation folds on the labelled training rows (fewer when a class has fewer rows).
CV_FOLDS = 3

#: From this many labelled training rows in every class, one validation split chooses instead
#: of cross-validation: its 20% then holds 8 or more rows of every class (the study's regimes,
#: 5 and 20 labels per class, stay cross-validated).
HOLDOUT_MIN_PER_CLASS = 40

#: The stratified share of the labelled training rows that the validation split holds out.
HOLDOUT_SHARE = 0.2


def _is_count(v: Any, least: int) -> bool:
    """``v`` is a whole number (an int, or a float without a fraction; not a bool, NaN or text) >= ``least``."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        return False
    return bool(np.isfinite(v)) and int(v) == v and v >= least


@dataclass(frozen=True)
class LabelRegime:
    """How many labels the student has, and which the teacher has.

    Attributes
    ----------
    labels_per_class : int or None
        Keep this many labelled training rows per class (the rest of the training pool becomes
        unlabeled), stratified per seed.
    labelled_fraction : float or None
        Keep this fraction of the labelled training rows (stratified; at least 2 per class).
    teacher_labels : {"auto", "same", "own"}
        ``same``: the teacher learns only from the student's labelled samples (the same labels);
        ``own``: from every labelled row of its modality except the test samples (label-rich),
        cross-fitted over the student's unlabeled samples so that its target on a sample never
        comes from that sample's label (:func:`cchkit.fewlabels.teachers.withheld_chunks`);
        ``auto``: ``own`` where the data give the teacher labels the student lacks (on the
        student's unlabeled samples, or on samples it does not have: an unpaired teacher), else ``same``.
    test_size : float
        Share of the student's labelled rows held out for testing.
    """

    labels_per_class: int | None = None
    labelled_fraction: float | None = None
    teacher_labels: str = "auto"
    test_size: float = 0.3

    def __post_init__(self) -> None:
        if self.labels_per_class is not None and self.labelled_fraction is not None:
            raise InputError("give labels_per_class or labelled_fraction, not both.")
        if self.labels_per_class is not None and not _is_count(self.labels_per_class, 2):
            raise InputError(f"labels_per_class must be an integer >= 2 (cross-validation needs two labels of "
                             f"each class), got {self.labels_per_class!r}.")
        if self.labelled_fraction is not None and not 0 < self.labelled_fraction <= 1:
            raise InputError(f"labelled_fraction must be in (0, 1], got {self.labelled_fraction!r}.")
        if self.teacher_labels not in TEACHER_LABELS:
            raise InputError(f"teacher_labels must be one of {', '.join(TEACHER_LABELS)}, got {self.teacher_labels!r}.")
        if not 0 < self.test_size < 1:
            raise InputError(f"test_size must be in (0, 1), got {self.test_size!r}.")

    def describe(self) -> str:
        """The regime in words (for verdicts and reports)."""
        if self.labels_per_class is not None:
            return f"{self.labels_per_class} labels per class"
        if self.labelled_fraction is not None:
            # three significant digits: 0.001 is "0.1%", never "0%"
            return f"{100 * self.labelled_fraction:.3g}% of the labels"
        return "the labels the data hold"

    def to_dict(self) -> dict[str, Any]:
        return {"labels_per_class": self.labels_per_class, "labelled_fraction": self.labelled_fraction,
                "teacher_labels": self.teacher_labels, "test_size": self.test_size}


@dataclass(frozen=True)
class SeedPlan:
    """One seed's rows of the student modality (indices into its rows).

    ``folds[f]`` are the labelled rows held out by fold ``f``; the labelled rows a fold trains
    on are ``labelled`` without them, and its unlabeled rows are ``unlabeled`` (a fold's held-out
    rows are left out of its training entirely). Fold key ``None`` is the fit on every labelled
    row, the one tested; only the settings chosen on the folds get it. ``cross_validated``: the
    folds are cross-validation folds (few labels), else one validation split (many labels).
    ``raised``: the classes whose share of a ``labelled_fraction`` rounded below 2 rows and were
    given 2 (cross-validation needs two), so that the caller can say so.
    """

    seed: int
    test: np.ndarray
    labelled: np.ndarray
    unlabeled: np.ndarray
    folds: tuple[np.ndarray, ...]
    cross_validated: bool = True
    raised: tuple[int, ...] = ()

    @property
    def n_folds(self) -> int:
        return len(self.folds)

    @property
    def search_keys(self) -> list[int | None]:
        """The fits of every setting searched: one per fold (the chosen settings' final fits follow)."""
        return list(range(self.n_folds))

    @property
    def selection(self) -> str:
        """How settings are chosen, in words."""
        return f"{self.n_folds}-fold cross-validation" if self.cross_validated else f"a {HOLDOUT_SHARE:.0%} validation split"

    def fold_train(self, f: int | None) -> np.ndarray:
        """The labelled rows that fold ``f`` trains on (None: the final fit, on all of them)."""
        if f is None:
            return self.labelled
        return np.setdiff1d(self.labelled, self.folds[f])


def _stratified_take(idx: np.ndarray, y: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """About ``share`` of ``idx`` per class (at least one row of each class with two or more)."""
    out = []
    for c in np.unique(y[idx]):
        rows = rng.permutation(idx[y[idx] == c])
        k = int(round(share * rows.size))
        k = min(max(k, 1 if rows.size >= 2 else 0), rows.size - 1 if rows.size >= 2 else rows.size)
        out.append(rows[:k])
    return np.sort(np.concatenate(out)) if out else np.zeros(0, dtype=int)


def _kept_labels(pool: np.ndarray, y: np.ndarray, regime: LabelRegime, classes: np.ndarray, seed: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, ...]]:
    """The labelled training rows the regime keeps, per class, and the classes a fraction rounded
    below two rows (given two); a class that cannot give its rows is named."""
    kept, raised = [], []
    for c in range(len(classes)):
        rows = rng.permutation(pool[y[pool] == c])
        if regime.labels_per_class is not None:
            k = int(regime.labels_per_class)
        elif regime.labelled_fraction is not None:
            k = int(round(regime.labelled_fraction * rows.size))
            if k < 2:
                raised.append(c)
                k = 2
        else:
            k = rows.size
        if rows.size < max(k, 2):
            raise InputError(
                f"class {plain(classes[c])!r} has {rows.size} labelled training row(s) in seed {seed} "
                f"(after the test rows); {max(k, 2)} are needed ({regime.describe()}). Ask for fewer labels per "
                "class, a smaller test_size, or label more rows of that class.")
        kept.append(rows[:k])
    return np.sort(np.concatenate(kept)), tuple(raised)


def _folds(labelled: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Stratified folds of the labelled rows: each class dealt round-robin after a shuffle."""
    counts = np.bincount(y[labelled])
    k = int(min(CV_FOLDS, counts[counts > 0].min()))
    fold_of = np.empty(labelled.size, dtype=int)
    for c in np.unique(y[labelled]):
        pos = rng.permutation(np.flatnonzero(y[labelled] == c))
        fold_of[pos] = (np.arange(pos.size) + int(rng.integers(k))) % k
    return tuple(np.sort(labelled[fold_of == f]) for f in range(k))


def _holdout(labelled: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """One stratified validation share of the labelled rows."""
    return (_stratified_take(labelled, y, HOLDOUT_SHARE, rng),)


def plan_seed(labels: np.ndarray, classes: np.ndarray, regime: LabelRegime, seed: int) -> SeedPlan:
    """One seed's split of the student's rows (``labels``: codes, -1 for unlabeled rows).

    The test rows are a stratified ``test_size`` of the labelled rows; of the remaining
    labelled rows the regime keeps its labels and hides the others, which join the rows the
    data hold without a label.
    """
    rng = np.random.default_rng(seed)
    labelled_rows = np.flatnonzero(labels != UNLABELED)
    present = np.unique(labels[labelled_rows])
    if present.size < len(classes):
        missing = [classes[c] for c in range(len(classes)) if c not in set(present.tolist())]
        raise InputError(f"the student has no labelled row of class(es) {missing[:5]}; every class needs labelled rows.")
    test = _stratified_take(labelled_rows, labels, regime.test_size, rng)
    pool = np.setdiff1d(labelled_rows, test)
    kept, raised = _kept_labels(pool, labels, regime, classes, seed, rng)
    unlabeled = np.sort(np.concatenate([np.flatnonzero(labels == UNLABELED), np.setdiff1d(pool, kept)]))
    many = int(np.bincount(labels[kept], minlength=len(classes)).min()) >= HOLDOUT_MIN_PER_CLASS
    folds = _holdout(kept, labels, rng) if many else _folds(kept, labels, rng)
    return SeedPlan(seed=seed, test=test, labelled=kept, unlabeled=unlabeled, folds=folds, cross_validated=not many,
                    raised=raised)
