"""Scoring criteria against measured gains: the statistics of ``benchmarks/criteria.py``.

Every statistic takes a pairs table with columns ``unit`` (the leave-one-out unit), ``group``
(one student of one bundle), ``gain``, ``significant`` and one signal column per candidate
(oriented: higher predicts a larger gain; see :meth:`cchkit.criteria.Criterion.signal`).

* **decision quality**: on significant gains, the share whose sign the decision gets right (an
  "inconclusive" is not right); on gains within noise, the share where it abstains
  ("inconclusive"); ``balanced`` = their mean, the objective the bands are fitted to.
* **per-student Spearman** of signal and gain (students with 3 or more teachers), **top-1**
  (the signal's best teacher has the best gain) and **regret** (best gain minus the gain of the
  signal's choice), averaged over students.
* 95% bootstrap intervals: over students (Spearman, top-1, regret) or pairs (shares).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from cchkit.criteria import decide_by_band

N_BOOT = 1000


def decisions(signal: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    return decide_by_band(signal, band[0], band[1])


def decision_quality(dec: np.ndarray, gain: np.ndarray, significant: np.ndarray) -> dict[str, float]:
    sig = significant & np.isfinite(gain)
    right = ((dec == "helps") & (gain > 0)) | ((dec == "hurts") & (gain < 0))
    null = ~significant & np.isfinite(gain)
    sign = float(right[sig].mean()) if sig.any() else math.nan
    abstain = float((dec[null] == "inconclusive").mean()) if null.any() else math.nan
    return {"sign": sign, "n_sig": int(sig.sum()), "abstain_null": abstain, "n_null": int(null.sum()),
            "balanced": float(np.nanmean([sign, abstain]))}


def candidate_bands(signal: np.ndarray) -> list[tuple[float, float]]:
    """Bands to try: the natural rule (0, 0), no abstention at quantiles, and (low, high) pairs
    of the signal's quantiles."""
    s = signal[np.isfinite(signal)]
    if s.size == 0:
        return [(0.0, 0.0)]
    qs = np.unique(np.quantile(s, np.linspace(0.0, 1.0, 21)))
    edges = np.concatenate([[-np.inf], qs, [np.inf]])
    bands = [(0.0, 0.0)] + [(float(lo), float(hi)) for i, lo in enumerate(edges) for hi in edges[i:]]
    return bands


def fit_band(signal: np.ndarray, gain: np.ndarray, significant: np.ndarray) -> tuple[tuple[float, float], float]:
    """The band with the best balanced score on these pairs (ties: the narrower band)."""
    best, best_score = (0.0, 0.0), -np.inf
    for band in candidate_bands(signal):
        score = decision_quality(decisions(signal, band), gain, significant)["balanced"]
        if score > best_score + 1e-12:
            best, best_score = band, score
    return best, best_score


def _spearman(x: np.ndarray, g: np.ndarray) -> float:
    from scipy import stats

    ok = np.isfinite(x) & np.isfinite(g)
    if ok.sum() < 3 or np.ptp(x[ok]) == 0 or np.ptp(g[ok]) == 0:
        return math.nan
    return float(stats.spearmanr(x[ok], g[ok]).statistic)


def per_student(pairs: pd.DataFrame, col: str) -> pd.DataFrame:
    """Spearman, top-1 and regret of one signal, one row per student group with 2+ teachers."""
    rows = []
    for grp, t in pairs.groupby("group", sort=False):
        x, g = t[col].to_numpy(dtype=float), t["gain"].to_numpy(dtype=float)
        ok = np.isfinite(x) & np.isfinite(g)
        if ok.sum() < 2:
            continue
        choice = int(np.argmax(np.where(ok, x, -np.inf)))
        best = float(np.max(g[ok]))
        rows.append({"group": grp, "unit": t["unit"].iloc[0], "spearman": _spearman(x, g),
                     "top1": float(g[choice] == best), "regret": best - float(g[choice])})
    return pd.DataFrame(rows)


def boot_mean(v: np.ndarray, rng: np.random.Generator) -> tuple[float, float, float]:
    v = np.asarray(v, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (math.nan,) * 3
    means = rng.choice(v, (N_BOOT, v.size)).mean(1)
    return float(v.mean()), float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def boot_share(dec: np.ndarray, gain: np.ndarray, significant: np.ndarray,
               rng: np.random.Generator) -> dict[str, tuple[float, float, float]]:
    """Bootstrap intervals of the sign share (significant pairs) and abstention share (null pairs)."""
    right = (((dec == "helps") & (gain > 0)) | ((dec == "hurts") & (gain < 0))).astype(float)
    sig = significant & np.isfinite(gain)
    null = ~significant & np.isfinite(gain)
    return {"sign": boot_mean(right[sig], rng),
            "abstain_null": boot_mean((dec[null] == "inconclusive").astype(float), rng)}


def fmt_ci(t: tuple[float, float, float], pct: bool = False) -> str:
    if not math.isfinite(t[0]):
        return "–"
    if pct:
        return f"{100 * t[0]:.0f}% [{100 * t[1]:.0f}, {100 * t[2]:.0f}]"
    return f"{t[0]:+.3f} [{t[1]:+.3f}, {t[2]:+.3f}]"


def leave_one_unit_out(pairs: pd.DataFrame, signals: list[str]) -> dict[str, Any]:
    """Per signal: the band fitted on the other units, applied to each held-out unit (pooled
    held-out decisions); and the nested procedure that also *chooses the signal* on the other
    units (by their balanced score), whose held-out decisions are the honest track record of
    "the default"."""
    gain, sig = pairs["gain"].to_numpy(dtype=float), pairs["significant"].to_numpy(dtype=bool)
    units = list(dict.fromkeys(pairs["unit"]))
    held = {s: np.full(len(pairs), "inconclusive", dtype=object) for s in signals}
    nested = np.full(len(pairs), "inconclusive", dtype=object)
    chosen = []
    for u in units:
        out = (pairs["unit"] == u).to_numpy()
        fits = {}
        for s in signals:
            x = pairs[s].to_numpy(dtype=float)
            fits[s] = fit_band(x[~out], gain[~out], sig[~out])
            held[s][out] = decisions(x[out], fits[s][0])
        best = max(signals, key=lambda s: fits[s][1])
        nested[out] = held[best][out]
        chosen.append({"held out": u, "chosen on the rest": best, "band": fits[best][0],
                       "balanced on the rest": fits[best][1],
                       **{f"held-out {k}": v for k, v in decision_quality(held[best][out], gain[out], sig[out]).items()
                          if k in ("sign", "n_sig", "abstain_null")}})
    return {"held": held, "nested": nested, "chosen": chosen}


def top1_stability(seed_gains: np.ndarray, n_boot: int = 20000, random_state: int = 0) -> float:
    """How often the measured best teacher stays best when the seeds are drawn again.

    ``seed_gains`` is (teachers, seeds): each teacher's gain on each seed (the seeds share a
    split, so a seed is resampled for every teacher at once). The share of ``n_boot``
    bootstrap resamples of the seeds whose best mean gain belongs to the teacher with the best
    mean gain on every seed (the first of tied teachers, as ``argmax`` reads them). Summed over
    students, it approximates the top-1 that a criterion naming each student's true best teacher
    could expect against this measurement: the measurement's own ceiling (Efron & Tibshirani,
    *An Introduction to the Bootstrap*, 1993, on the bootstrap of a selected maximum).
    """
    g = np.asarray(seed_gains, dtype=float)
    rng = np.random.default_rng(random_state)
    draws = rng.integers(0, g.shape[1], size=(n_boot, g.shape[1]))
    means = g[:, draws].mean(axis=2)  # (teachers, n_boot)
    return float((means.argmax(axis=0) == g.mean(axis=1).argmax()).mean())
