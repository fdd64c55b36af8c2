"""How often the few-label advice has held: the study's record, per label regime.

``track_record.json`` beside this module is written by ``benchmarks/few_labels.py`` (never at
run time): for each studied regime (``L5-same``: 5 labels per class, teachers with the same
labels; ``L5-own``: label-rich teachers; ``L20-...``; ``all-same``: every label), how often ``teacher_cv_accuracy``'s
first-ranked teacher was the best measured one, over students of bundles held out of nothing
(the criterion has no fitted parameter). The file is checked when read; a bad one is one line.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from ..criteria.regimes import studied_regime, study_words
from ..exceptions import InputError
from .regime import LabelRegime

__all__ = ["load_record", "record_sentence", "regime_key", "check_record"]

#: top1_right may be fractional: a criterion tying k teachers, the best among them, earns 1/k
_FIELDS = {"top1_right": (int, float), "n_students": int, "n_bundles": int, "always_helps_right": int, "n_pairs": int}


def regime_key(regime: LabelRegime, mode: str, n_unlabeled: int = 0, per_class: float | None = None) -> str | None:
    """The studied regime closest to ``regime`` (None where none was studied). Every label, with
    no unlabeled row, is ``all-same`` whatever the teachers' labels: a paired teacher's own
    labels are then the student's. With the labels the data hold (or a labelled fraction) and
    unlabeled rows, ``per_class`` (labelled training rows per class, where known) places it."""
    if regime.labels_per_class is not None:
        return studied_regime(regime.labels_per_class, mode)
    if regime.labelled_fraction in (None, 1.0) and n_unlabeled == 0:
        return "all-same"
    return studied_regime(per_class, mode) if per_class is not None else None


def check_record(record: Any, where: str = "track_record.json") -> dict[str, Any]:
    """The record, or :class:`InputError` naming the first bad field."""
    if not isinstance(record, dict) or not isinstance(record.get("regimes"), dict):
        raise InputError(f"{where}: expected an object with a 'regimes' object.")
    for key, entry in record["regimes"].items():
        if not isinstance(entry, dict):
            raise InputError(f"{where}: regimes.{key} must be an object.")
        for name, typ in _FIELDS.items():
            v = entry.get(name)
            if not isinstance(v, typ) or isinstance(v, bool) or v < 0:
                kind = "number" if typ == (int, float) else "integer"
                raise InputError(f"{where}: regimes.{key}.{name} must be a non-negative {kind}, got {v!r:.40}.")
        if entry["top1_right"] > entry["n_students"] or entry["always_helps_right"] > entry["n_pairs"]:
            raise InputError(f"{where}: regimes.{key} counts more right answers than cases.")
    return record


@functools.lru_cache(maxsize=1)
def load_record() -> dict[str, Any]:
    path = resources.files("cchkit.fewlabels").joinpath("track_record.json")
    if not path.is_file():
        return {"regimes": {}}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:
        raise InputError(f"track_record.json of the few-label study is not valid JSON ({exc}).") from None
    return check_record(record)


def record_sentence(regime: LabelRegime, mode: str, n_unlabeled: int = 0, per_class: float | None = None) -> str:
    """One sentence on how often the advice held in the study of this regime."""
    key = regime_key(regime, mode, n_unlabeled, per_class)
    entry = load_record()["regimes"].get(key) if key else None
    if not entry or not entry["n_students"]:
        return "No study has measured this criterion at this label regime yet."
    share = entry["top1_right"] / entry["n_students"]
    return (f"In {study_words(key)} ({entry['n_bundles']} bundles), it picked the best teacher for "
            f"{entry['top1_right']:g} of {entry['n_students']} students ({share:.0%}).")
