"""What the measured gains say: what the seeds can detect and whether they order the teachers
(:func:`power_statement`), how well each criterion predicted the gains (:func:`criterion_stats`),
and the report's summary of both."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..criteria import get_criterion, list_criteria

__all__ = ["baseline_criteria", "power_statement", "criterion_stats", "gains_separated", "summarise"]


#: The criteria compared with the measured gains besides the CCH score: every registered one
#: (:mod:`cchkit.criteria`), each with its own rule for "helps" / "hurts" / "inconclusive".
def baseline_criteria() -> list[str]:
    return [c for c in list_criteria() if c != "cch_score"]


def power_statement(table: pd.DataFrame, method: str, n_seeds: int, *, stop: str = "fixed seeds",
                    initial: int | None = None) -> dict[str, Any]:
    """What these seeds can detect, and whether they separate the teachers.

    ``min_detectable_gain`` is the median half-width of the per-teacher gain intervals of
    ``method`` (a gain must exceed it to be significant); ``separated`` says whether the teacher
    with the best mean gain has an interval entirely above every other teacher's. ``statement``
    says it in words, with what to change when the validation cannot rank the teachers.
    """
    t = table[table["method"] == method]
    half = ((t["gain_high"] - t["gain_low"]) / 2).to_numpy(dtype=float)
    half = half[np.isfinite(half)]
    mdg = float(np.median(half)) if half.size else math.nan
    ok = t[np.isfinite(t["gain"].to_numpy(dtype=float))]
    separated = gains_separated(t)
    if not math.isfinite(mdg):
        text = (f"with {n_seeds} seed(s) there is no interval for the gains: use --seeds 3 or more.")
    else:
        text = f"with {n_seeds} seeds, {method} gains smaller than about {mdg:+.3f} cannot be told from 0"
        if len(ok) < 2:
            text += "."
        elif separated:
            best = ok.sort_values("gain", ascending=False)["teacher"].iloc[0]
            text += f"; the best teacher ({best}) is separated from the others."
        else:
            text += (
                "; the gain intervals of the teachers overlap, so this validation cannot rank them. "
                "More seeds (--seeds) or a larger test split (more samples) narrow the intervals."
            )
    if stop != "fixed seeds":
        text += f" Seeds: {initial} at first, {n_seeds} in the end ({stop})."
    return {"min_detectable_gain": mdg, "separated": separated, "n_seeds": int(n_seeds), "stopped": stop,
            "statement": text}


def criterion_stats(t: pd.DataFrame, crit: str) -> dict[str, Any]:
    """Spearman of the criterion's value with the gain, its decisions' agreement with the sign
    of the significant gains (an "inconclusive" is not an agreement), and top-is-best."""
    from scipy import stats

    criterion = get_criterion(crit)
    # the criterion's value oriented so that higher predicts a larger gain
    x = t[criterion.column].to_numpy(dtype=float) * (1.0 if criterion.higher_is_better else -1.0)
    g = t["gain"].to_numpy(dtype=float)
    ok = np.isfinite(x) & np.isfinite(g)
    rho = math.nan
    if ok.sum() >= 3 and np.ptp(x[ok]) > 0 and np.ptp(g[ok]) > 0:
        rho = float(stats.spearmanr(x[ok], g[ok]).statistic)
    decision = criterion.decide(t).to_numpy()
    sig = t["significant"].to_numpy(dtype=bool) & np.isfinite(g)
    agree = int(((decision[sig] == "helps") & (g[sig] > 0) | (decision[sig] == "hurts") & (g[sig] < 0)).sum())
    n_sig = int(sig.sum())
    top = math.nan
    has_intervals = "gain_low" not in t or np.isfinite(t["gain_low"].to_numpy(dtype=float)[ok]).all()
    if ok.sum() >= 2 and has_intervals:
        # a claim needs two teachers to compare and gains with intervals (two seeds or more)
        top = bool(np.nanargmax(np.where(ok, x, -np.inf)) == np.nanargmax(np.where(ok, g, -np.inf)))
    return {"spearman": rho, "sign_agree": agree, "n_significant": n_sig,
            "n_inconclusive": int((decision[sig] == "inconclusive").sum()),
            "sign_share": agree / n_sig if n_sig else math.nan, "top_is_best": top,
            "gains_separated": gains_separated(t), "rule": criterion.helps_when}


def gains_separated(t: pd.DataFrame) -> bool:
    """Whether the teacher with the best gain has an interval above every other teacher's: only
    then can an order of the teachers (a Spearman, "top-ranked is best") be read from the gains."""
    ok = t[np.isfinite(t["gain"].to_numpy(dtype=float))] if "gain" in t else t.iloc[:0]
    if len(ok) < 2 or "gain_low" not in ok or not np.isfinite(ok["gain_low"].to_numpy(dtype=float)).all():
        return False
    order = ok.sort_values("gain", ascending=False)
    return bool(order["gain_low"].iloc[0] > order["gain_high"].iloc[1:].max())


def summarise(table: pd.DataFrame, method: str, seeds: list[int]) -> dict[str, Any]:
    t = table[table["method"] == method].reset_index(drop=True)
    main = criterion_stats(t, "cch_score")
    return {
        "student": str(t["student"].iloc[0]) if len(t) else "",
        "method": method,
        **{k: v for k, v in main.items() if k != "rule"},
        "baselines": {c: criterion_stats(t, c) for c in baseline_criteria()},
        "n_teachers": int(len(t)),
        "seeds": list(seeds),
    }
