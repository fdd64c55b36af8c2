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

from .base import decide_by_band
from .registry import get_criterion, list_criteria

__all__ = ["TrackRecord", "load_track_record", "advice_decisions", "track_statement", "default_criterion",
           "TRACK_FILE"]

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


def _bound(v: Any, missing: float) -> float:
    return missing if v is None else float(v)


@lru_cache(maxsize=1)
def load_track_record(path: str | None = None) -> TrackRecord | None:
    """The study's record (None when the package ships none, or it names no registered criterion)."""
    p = Path(path) if path else TRACK_FILE
    if not p.is_file():
        return None
    data = json.loads(p.read_text(encoding="utf-8"))
    known = set(list_criteria())
    crit = {k: v for k, v in data.get("criteria", {}).items() if k in known}
    if data.get("default") not in known:
        return None
    bands = {k: (_bound(v["band"][0], -math.inf), _bound(v["band"][1], math.inf)) for k, v in crit.items()}
    return TrackRecord(default=data["default"], bands=bands, held_out=crit, units=tuple(data.get("units", ())),
                       method=data.get("method", "class-align"), regime=data.get("regime", "full"),
                       date=data.get("date", ""))


def default_criterion() -> str:
    """The criterion the ranking decides by when the user names none: the study's choice."""
    record = load_track_record()
    return record.default if record else FALLBACK_CRITERION


def advice_decisions(table: pd.DataFrame, criterion: str) -> pd.Series:
    """The decisions ``criterion`` advises on ``table``'s rows: its study band on its signal
    where the study fitted one, else its own rule."""
    crit = get_criterion(criterion)
    record = load_track_record()
    if record is None or criterion not in record.bands:
        return crit.decide(table)
    low, high = record.bands[criterion]
    return pd.Series(decide_by_band(crit.signal(table), low, high), index=table.index)


def track_statement(criterion: str) -> str:
    """How often ``criterion``'s advice held on the study's held-out bundles, in one sentence."""
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
