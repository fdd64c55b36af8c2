"""The label regimes the criterion study measured, which one a dataset is in, and its record.

How well a criterion predicts a teacher's gain depends on the labels: with 5 labels per class a
teacher can add much and the choice between teachers matters; with every label, no teacher has
helped any student of the bundled corpus over the best teacher-free student
(``benchmarks/results/few_labels.md``). ``benchmarks/criteria_regimes.py`` scores every
registered criterion on the default (teacher-free) gains of each studied regime, held out by
bundle, and writes ``regime_records.json`` beside this module: per regime, the default criterion
(chosen by top-1), each criterion's band and its held-out figures. The ranking reads the record
of the regime its data are in (:func:`studied_regime`); where no study covers that regime it
falls back to the full-label study of ``track_record.json`` and says so.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import UNLABELED
from ..exceptions import InputError

__all__ = ["REGIME_FILE", "STUDIED_LEVELS", "studied_regime", "data_regime", "load_regime_records", "study_words", "labels_beyond",
           "regime_statement", "regime_words", "regime_expectation", "regime_outlook", "EXPECT_NO_GAIN_BELOW", "EXPECT_GAIN_ABOVE"]

REGIME_FILE = Path(__file__).with_name("regime_records.json")
#: Labels per class the study measured (besides every label).
STUDIED_LEVELS = (5, 20)
#: A regime's study says "no gain expected" of any teacher when the Wilson interval of its share of
#: pairs that helped (beat the best teacher-free student and their placebo) lies below this ...
EXPECT_NO_GAIN_BELOW = 0.10
#: ... and "a gain expected" when that interval lies above this; between them, the teacher decides.
EXPECT_GAIN_ABOVE = 0.50
_COUNTS = ("held_out_sign_right", "held_out_significant", "held_out_committed", "held_out_null",
           "held_out_not_helps_null", "top1_right", "n_students")


def studied_regime(labels_per_class: float | None, mode: str) -> str | None:
    """The studied regime nearest ``labels_per_class`` labels per class (on a log scale: label
    counts matter by ratio) with teachers that have the ``same`` labels or their ``own``; None
    where no studied level is within a factor of 2 (None labels per class: every label,
    ``all-same``, where a paired teacher's own labels are the student's)."""
    if labels_per_class is None:
        return "all-same"
    if not labels_per_class > 0:
        return None
    nearest = min(STUDIED_LEVELS, key=lambda k: abs(math.log(labels_per_class / k)))
    return f"L{nearest}-{mode}" if abs(math.log(labels_per_class / nearest)) <= math.log(2) + 1e-12 else None


def study_words(regime: str | None) -> str:
    """The study of a regime, named in words as the validation names it (``L5-own`` -> "the study
    at 5 labels per class, label-rich teachers"; ``all-same`` -> "the study with every label")."""
    words = regime_words(regime)
    return "the study with every label" if regime == "all-same" else f"the study at {words}"


def regime_words(regime: str | None) -> str:
    """A studied regime in words (``L5-own`` -> "5 labels per class, label-rich teachers")."""
    if regime == "all-same":
        return "every label"
    if not regime or not regime.startswith("L") or "-" not in regime:
        return "an unstudied label regime"
    level, mode = regime[1:].split("-", 1)
    return f"{level} labels per class, " + ("label-rich teachers" if mode == "own" else "same-label teachers")


def data_regime(student_labels: np.ndarray, student_ids: np.ndarray,
                teachers: list[tuple[np.ndarray, np.ndarray]], n_classes: int) -> str | None:
    """The studied regime of a student's labels (codes, -1 for unlabeled) among its candidate
    teachers' (labels, ids): every label, or the median labelled rows per class; ``own`` where
    a teacher has labelled rows the student has not labelled."""
    labelled = student_labels != UNLABELED
    if labelled.all():
        return "all-same"
    per_class = float(np.median(np.bincount(student_labels[labelled], minlength=n_classes)))
    own = any(labels_beyond(student_labels, student_ids, labels, ids) for labels, ids in teachers)
    return studied_regime(per_class, "own" if own else "same")


def labels_beyond(student_labels: np.ndarray, student_ids: np.ndarray, teacher_labels: np.ndarray,
                  teacher_ids: np.ndarray) -> int:
    """The teacher's labelled rows on samples the student holds no label for (codes, -1 for
    unlabeled): paired with a student row without a label, or a sample the student does not have.
    Where there are any, the data give the teacher labels the student lacks (an ``own`` regime)."""
    known = pd.Index(student_ids[student_labels != UNLABELED])
    return int((~pd.Index(teacher_ids[teacher_labels != UNLABELED]).isin(known)).sum())


def check_band(band: Any, where: str) -> None:
    """A study band: two numbers or nulls (null: unbounded), the low end not above the high end."""
    if not (isinstance(band, list) and len(band) == 2
            and all(b is None or (isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b))
                    for b in band)):
        raise InputError(f"{where}.band must be two numbers or nulls, got {band!r:.60}.")
    if None not in band and band[0] > band[1]:
        raise InputError(f"{where}.band has its low end {band[0]} above its high end {band[1]}.")


def check_counts(entry: dict[str, Any], names: tuple[str, ...], where: str) -> None:
    """Each of ``names`` absent or a non-negative integer."""
    for name in names:
        v = entry.get(name, 0)
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise InputError(f"{where}.{name} must be a non-negative integer, got {v!r:.40}.")


def band_bounds(band: list[Any]) -> tuple[float, float]:
    """A checked band as (low, high), a null end unbounded."""
    low, high = band
    return (-math.inf if low is None else float(low), math.inf if high is None else float(high))


def _check_regime(key: str, entry: Any, where: str) -> None:
    if not isinstance(entry, dict) or not isinstance(entry.get("criteria"), dict):
        raise InputError(f"{where}: regimes.{key} must be an object with a 'criteria' object.")
    for name, crit in entry["criteria"].items():
        at = f"{where}: regimes.{key}.criteria.{name}"
        if not isinstance(crit, dict):
            raise InputError(f"{at} must be an object.")
        check_band(crit.get("band"), at)
        check_counts(crit, _COUNTS, at)
        if crit.get("top1_right", 0) > crit.get("n_students", 0) or crit.get("held_out_sign_right", 0) > crit.get(
                "held_out_significant", 0) or crit.get("held_out_not_helps_null", 0) > crit.get("held_out_null", 0):
            raise InputError(f"{at} counts more right answers than cases.")


def check_regime_records(data: Any, where: str = "regime_records.json") -> dict[str, Any]:
    """The records as read, or :class:`InputError` naming the first bad field."""
    if not isinstance(data, dict) or not isinstance(data.get("regimes"), dict):
        raise InputError(f"{where}: expected an object with a 'regimes' object.")
    for key, entry in data["regimes"].items():
        _check_regime(key, entry, where)
    return data


@lru_cache(maxsize=4)
def load_regime_records(path: str | None = None) -> dict[str, Any]:
    """regime key -> its record (empty where the package ships none)."""
    p = Path(path) if path else REGIME_FILE
    if not p.is_file():
        return {}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{p.name} is not valid JSON ({str(exc)[:80]}).") from None
    return {k: {**v, "date": data.get("date", "")} for k, v in check_regime_records(data, p.name)["regimes"].items()}


def regime_statement(criterion: str, regime: str) -> str | None:
    """How ``criterion`` did in the study of ``regime`` (None where that study did not score it)."""
    entry = load_regime_records().get(regime)
    crit = (entry or {}).get("criteria", {}).get(criterion)
    if not crit:
        return None
    n_sig, null = crit["held_out_significant"], crit["held_out_null"]
    sign = f"right in sign on {crit['held_out_sign_right']} of {n_sig} significant gains" if n_sig else \
        "no gain was significant"
    proc = entry.get("default_procedure_held_out") or {}
    chosen = (f"the criterion chosen with each bundle held out ranked the best teacher first for "
              f"{proc['top1_right']} of {proc['n_students']} held-out students; " if proc.get("n_students") else "")
    return (f"in {study_words(regime)} ({entry.get('method', 'logit-kd')} gains over the best teacher-free student; "
            f"{entry.get('helped', 0)} of {entry.get('pairs', 0)} pairs helped; {len(entry.get('units', []))} bundles) "
            f"{chosen}{criterion} ranked it first for {crit['top1_right']} of {crit['n_students']} students; its band, "
            f"fitted with each bundle held out, was {sign} and said no 'helps' on {crit['held_out_not_helps_null']} "
            f"of {null} gains within noise (benchmarks/results/criteria_regimes.md, {str(entry.get('date', ''))[:10]})")


def _helped_share(regime: str | None) -> tuple[int, int, float, float] | None:
    """(pairs that helped, pairs, Wilson 95% interval of the share) in the study of ``regime``."""
    from .._stats import wilson_interval

    entry = load_regime_records().get(regime or "")
    if not entry or not entry.get("pairs"):
        return None
    k, n = int(entry.get("helped", 0)), int(entry["pairs"])
    return (k, n, *wilson_interval(k, n))


def regime_outlook(regime: str | None) -> str | None:
    """What the study of ``regime`` says of *any* teacher, before a criterion compares them:
    ``"no gain"`` where the Wilson 95% interval of the share of its pairs that helped (beat the
    best teacher-free student and their placebo) lies below :data:`EXPECT_NO_GAIN_BELOW` (with
    every label: 0 of 60), ``"gain"`` where it lies above :data:`EXPECT_GAIN_ABOVE`, else None
    (the choice of teacher decides)."""
    share = _helped_share(regime)
    return None if share is None else _outlook(*share[2:])


def _outlook(lo: float, hi: float) -> str | None:
    return "no gain" if hi < EXPECT_NO_GAIN_BELOW else "gain" if lo > EXPECT_GAIN_ABOVE else None


def regime_expectation(regime: str | None) -> str | None:
    """:func:`regime_outlook` in words, with the study's counts (None without an outlook)."""
    share = _helped_share(regime)
    if share is None or (outlook := _outlook(*share[2:])) is None:
        return None
    k, n, lo, hi = share
    units = load_regime_records()[str(regime)].get("units", [])
    words = "no gain expected from any teacher" if outlook == "no gain" else "a gain expected from most teachers"
    return (f"{words} with these labels: in {study_words(regime)}, {k} of {n} teachers "
            f"({lo:.0%}-{hi:.0%}, Wilson 95%) beat both the best teacher-free student and their placebo "
            f"({len(units)} bundles, benchmarks/results/criteria_regimes.md)")
