"""The criterion study's verdict, shipped with the package: which criterion decides by default,
the abstention band each criterion decides with, and how often each held on bundles left out.

``benchmarks/criteria.py`` writes ``track_record.json`` beside this module (leave one bundle out:
every band is fitted on the other bundles, and the figures are those of the held-out ones). The
ranking reads it to decide and to say how far its advice can be trusted; nothing here is tuned
at run time.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import InputError
from .base import decide_by_band
from .regimes import band_bounds, check_band, check_counts, load_regime_records, regime_statement
from .registry import get_criterion, list_criteria

__all__ = ["TrackRecord", "load_track_record", "check_track_record", "advice_decisions", "track_statement", "default_criterion",
           "helps_threshold", "record_for", "TRACK_FILE"]

TRACK_FILE = Path(__file__).with_name("track_record.json")
#: What decides when no study has been committed (the paper's criterion).
FALLBACK_CRITERION = "cch_score"


@dataclass(frozen=True)
class TrackRecord:
    """The committed study: the default criterion, per-criterion bands and held-out figures."""

    default: str
    bands: dict[str, tuple[float, float]] = field(default_factory=dict)
    held_out: dict[str, dict[str, Any]] = field(default_factory=dict)
    units: tuple[str, ...] = ()
    method: str = "class-align"
    regime: str = "full"
    date: str = ""


_COUNTS = ("held_out_sign_right", "held_out_significant", "held_out_committed", "held_out_null")


def _check_entry(name: str, entry: Any, where: str) -> None:
    """One criterion's record: a band of two numbers or nulls, low <= high, counts that add up."""
    if not isinstance(entry, dict):
        raise InputError(f"{where}: criteria.{name} must be an object.")
    check_band(entry.get("band"), f"{where}: criteria.{name}")
    check_counts(entry, _COUNTS, f"{where}: criteria.{name}")
    right, significant = entry.get("held_out_sign_right", 0), entry.get("held_out_significant", 0)
    committed = entry.get("held_out_committed", significant)  # absent: every significant gain was decided on
    if not right <= committed <= significant:
        raise InputError(f"{where}: criteria.{name} counts more right signs than committed decisions, or more "
                         "committed decisions than significant gains.")


def check_track_record(data: Any, where: str = "track_record.json") -> dict[str, Any]:
    """The record as read, or :class:`InputError` naming its first bad field (the study checks
    what it writes with the same function)."""
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(data).__name__}.")
    criteria = data.get("criteria", {})
    if not isinstance(criteria, dict):
        raise InputError(f"{where}: 'criteria' must be an object.")
    for name, entry in criteria.items():
        _check_entry(name, entry, where)
    if data.get("default") not in list_criteria():
        raise InputError(f"{where}: its default criterion {data.get('default')!r:.60} is not registered "
                         f"(registered: {', '.join(list_criteria())}).")
    return data


@lru_cache(maxsize=1)
def load_track_record(path: str | None = None) -> TrackRecord | None:
    """The study's record (None when the package ships none); a malformed one is refused with
    one line naming the field (:func:`check_track_record`)."""
    p = Path(path) if path else TRACK_FILE
    if not p.is_file():
        return None
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{p.name} is not valid JSON ({str(exc)[:80]}).") from None
    check_track_record(data, p.name)
    known = set(list_criteria())
    crit = {k: v for k, v in data.get("criteria", {}).items() if k in known}
    bands = {k: band_bounds(v["band"]) for k, v in crit.items()}
    return TrackRecord(default=data["default"], bands=bands, held_out=crit, units=tuple(data.get("units", ())),
                       method=data.get("method", "class-align"), regime=data.get("regime", "full"),
                       date=data.get("date", ""))


def record_for(regime: str | None = None) -> TrackRecord | None:
    """The record a ranking decides with: the study of ``regime`` (a key of
    :func:`~cchkit.criteria.regimes.studied_regime`) where one scored the criteria there, else
    the full-label study of ``track_record.json`` (None: neither ships)."""
    entry = load_regime_records().get(regime) if regime else None
    if not entry:
        return load_track_record()
    known = set(list_criteria())
    crit = {k: v for k, v in entry["criteria"].items() if k in known}
    default = entry.get("default") if entry.get("default") in known else FALLBACK_CRITERION
    bands = {k: band_bounds(v["band"]) for k, v in crit.items()}
    return TrackRecord(default=default, bands=bands, held_out=crit, units=tuple(entry.get("units", ())),
                       method=entry.get("method", "logit-kd"), regime=str(regime), date=entry.get("date", ""))


def default_criterion(regime: str | None = None) -> str:
    """The criterion the ranking decides by when the user names none: the study's choice for
    ``regime`` (None: the full-label study's)."""
    record = record_for(regime)
    return record.default if record else FALLBACK_CRITERION


def advice_decisions(table: pd.DataFrame, criterion: str, regime: str | None = None) -> pd.Series:
    """The decisions ``criterion`` advises on ``table``'s rows: its study band on its signal
    where the study of ``regime`` fitted one, else its own rule."""
    crit = get_criterion(criterion)
    record = record_for(regime)
    if record is None or criterion not in record.bands:
        return crit.decide(table)
    low, high = record.bands[criterion]
    return pd.Series(decide_by_band(crit.signal(table), low, high), index=table.index)


def helps_threshold(criterion: str, regime: str | None = None) -> float:
    """The value of ``criterion``'s signal above which its advice is "helps" (its study band's
    upper end), or NaN where it decides by its own rule (an interval, or no band)."""
    record = record_for(regime)
    if record is None or criterion not in record.bands:
        return math.nan
    return float(record.bands[criterion][1])


def track_statement(criterion: str, regime: str | None = None) -> str:
    """How often ``criterion``'s advice held in the study of ``regime`` (where one scored it)
    or on the full-label study's held-out bundles, in one sentence."""
    if regime and (said := regime_statement(criterion, regime)):
        return said
    record = load_track_record()
    if record is None or criterion not in record.held_out:
        return f"{criterion} has no track record in this release's criterion study."
    h = record.held_out[criterion]
    n_sig, right = int(h["held_out_significant"]), int(h["held_out_sign_right"])
    share = f"{right / n_sig:.0%}" if n_sig else "n/a"
    committed = h.get("held_out_committed")
    spoke = (f" (it committed on {committed}: right on {right / committed:.0%} of those)"
             if committed else " (it never committed on them)" if committed == 0 else "")
    null = h.get("held_out_abstain_null")
    tail = (f"; it answered 'inconclusive' on {null:.0%} of {int(h['held_out_null'])} gains within noise"
            if null is not None and math.isfinite(null) else "")
    return (f"right sign on {right} of {n_sig} significant {record.method} gains ({share}){spoke} across "
            f"{len(record.units)} held-out bundles{tail} (benchmarks/results/criteria.md, {record.date[:10]})")
