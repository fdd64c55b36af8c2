"""Whether the ranking's advice held: the ranking's recommendation set against the measured gains.

``validate`` ends with one verdict, printed first: the advice (the teacher the ranking's
criterion recommends, or none), each teacher's measured gain of the primary method with its
interval, and the outcome:

* **held**: the recommended teacher's gain is significantly positive and no other teacher's is
  significantly larger; or nothing was recommended and no teacher's gain is significantly
  positive;
* **did not hold**: the recommended teacher's gain is significantly negative, or another
  teacher's gain is significantly positive and significantly larger; or nothing was recommended
  and some teacher's gain is significantly positive;
* **not confirmed**: the recommended teacher's gain is within noise (and none beats it
  significantly; the reason names any teacher whose own gain is significantly positive).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

__all__ = ["ranking_advice", "advice_verdict", "OUTCOMES", "OUTCOME_PHRASES"]

OUTCOMES = ("held", "did not hold", "not confirmed")
#: Each outcome as the end of the sentence "that advice ..." (``advise``'s verdict text).
OUTCOME_PHRASES = {"held": "held", "did not hold": "did not hold", "not confirmed": "was not confirmed"}


def ranking_advice(rtab: pd.DataFrame) -> str | None:
    """The teacher the ranking recommends (the best-ranked one predicted to help), or None."""
    if rtab.empty:
        return None
    helps = rtab["predicts_gain"].astype(bool) if "predicts_gain" in rtab else rtab.get("decision", "") == "helps"
    rows = rtab[helps.fillna(False) if hasattr(helps, "fillna") else helps]
    if rows.empty:
        return None
    if "rank" in rows:
        rows = rows.sort_values("rank", na_position="last")
    return str(rows.index[0])


def _gain_text(r: Any) -> str:
    star = " *" if r.significant else ""
    if not math.isfinite(r.gain_low):
        return f"{r.teacher} {r.gain:+.3f}{star}"
    return f"{r.teacher} {r.gain:+.3f} [{r.gain_low:+.3f}, {r.gain_high:+.3f}]{star}"


def _outcome(advice: str | None, t: pd.DataFrame) -> tuple[str, str]:
    """(outcome, why) from the primary method's rows ``t`` (indexed by teacher)."""
    up = t[t["significant"] & (t["gain"] > 0)]
    if advice is None:
        if len(up):
            return "did not hold", f"{', '.join(up.index)} gave a significant gain"
        return "held", "no teacher gave a significant gain"
    if advice not in t.index or not math.isfinite(t.loc[advice, "gain"]):
        return "not confirmed", f"{advice} has no measured gain"
    mine = t.loc[advice]
    better = up[(up.index != advice) & (up["gain_low"] > mine["gain_high"])]
    if len(better):
        return "did not hold", f"{', '.join(better.index)} gave a significantly larger gain"
    if mine["significant"]:
        return ("held", f"{advice}'s gain is significant") if mine["gain"] > 0 else \
            ("did not hold", f"{advice}'s gain is significantly negative")
    others = up[up.index != advice]
    also = f" ({', '.join(others.index)}: significantly positive, not significantly larger)" if len(others) else ""
    return "not confirmed", f"{advice}'s gain is within noise{also}"


def advice_verdict(advice: str | None, criterion: str, table: pd.DataFrame, method: str,
                   baseline: str) -> dict[str, Any]:
    """The verdict of one validation (see the module docstring): a dict with ``advice``,
    ``criterion``, ``outcome`` (one of :data:`OUTCOMES`), ``reason`` and the one-line ``text``."""
    t = table[table["method"] == method].set_index("teacher", drop=False)
    outcome, reason = _outcome(advice, t)
    said = f"use {advice}" if advice else "no teacher is predicted to help"
    over = {"probe": "the linear probe", "teacher-free": "the best teacher-free student"}.get(baseline,
                                                                                             "the tuned no-KD student")
    measured = "; ".join(_gain_text(r) for r in t.sort_values("gain", ascending=False).itertuples(index=False))
    text = (f"advice ({criterion}): {said}. measured ({method}, gain over {over}): {measured}. "
            f"Advice {outcome}: {reason}.")
    return {"advice": advice, "criterion": criterion, "outcome": outcome, "reason": reason, "text": text}
