"""Plots of cchkit results. Each function takes a result object and an optional Axes, draws on
it, and returns the Axes; none calls ``plt.show()``."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

__all__ = [
    "DECISION_COLOURS",
    "plot_ranking",
    "plot_mi_matrix",
    "plot_estimates_vs_truth",
    "plot_validation",
    "plot_training_curves",
]

#: Colour per CCH decision.
DECISION_COLOURS = {"helps": "#2a9d8f", "hurts": "#e76f51", "inconclusive": "#8d99ae", "failed": "#d3d3d3"}


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 3.5))
    return ax


def plot_ranking(ranking, ax=None, *, estimator: str | None = None, student: str | None = None):
    """Horizontal bars: the CCH score of each teacher with its 95% interval, coloured by decision."""
    ax = _axes(ax)
    est = estimator or ranking.primary_estimator
    t = ranking.table[(ranking.table["estimator"] == est)]
    student = student or t["student"].iloc[0]
    t = t[t["student"] == student].sort_values("cch_score", na_position="first")
    y = np.arange(len(t))
    score = t["cch_score"].to_numpy(float)
    lo = t["cch_low"].to_numpy(float)
    hi = t["cch_high"].to_numpy(float)
    colours = [DECISION_COLOURS.get(d, "#d3d3d3") for d in t["decision"]]
    ax.barh(y, np.nan_to_num(score), color=colours)
    err = np.vstack([score - lo, hi - score])
    ok = np.isfinite(err).all(0)
    ax.errorbar(score[ok], y[ok], xerr=err[:, ok], fmt="none", ecolor="black", capsize=3, lw=1)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, list(t["teacher"]))
    ax.set_xlabel("CCH score  I(H_T;H_S) − I(H_S;Y)  [nats]")
    ax.set_ylabel("teacher")
    ax.set_title(f"teachers for {student} ({est})")
    from matplotlib.patches import Patch

    present = list(dict.fromkeys(t["decision"]))
    ax.legend(handles=[Patch(color=DECISION_COLOURS[d], label=d) for d in present if d in DECISION_COLOURS], loc="best", fontsize=8)
    return ax


def plot_mi_matrix(ranking, ax=None, *, value: str = "cch_score", estimator: str | None = None, annotate: bool = True):
    """Teacher-by-student heat map of ``value`` (default the CCH score; diverging around 0)."""
    ax = _axes(ax)
    m = ranking.matrix(value, estimator=estimator)
    data = m.to_numpy(float)
    vmax = np.nanmax(np.abs(data)) if np.isfinite(data).any() else 1.0
    im = ax.imshow(data, cmap="RdBu_r" if value == "cch_score" else "viridis", vmin=-vmax if value == "cch_score" else None, vmax=vmax)
    ax.set_xticks(range(m.shape[1]), list(m.columns), rotation=45, ha="right")
    ax.set_yticks(range(m.shape[0]), list(m.index))
    ax.set_xlabel("student")
    ax.set_ylabel("teacher")
    ax.figure.colorbar(im, ax=ax, label=value)
    if annotate:
        for i in range(data.shape[0]):
            for j in range(data.shape[1]):
                if np.isfinite(data[i, j]):
                    ax.text(j, i, f"{data[i, j]:.2f}", ha="center", va="center", fontsize=7)
    return ax


def plot_estimates_vs_truth(results: Any, ax=None, *, x: str = "true_mi", y: str = "estimate", hue: str = "estimator"):
    """Estimated MI against closed-form truth (a DataFrame with columns ``x``, ``y``, ``hue`` and
    optional ``low``/``high``), with the identity line."""
    ax = _axes(ax)
    df = results
    for name, grp in df.groupby(hue, sort=False):
        grp = grp.sort_values(x)
        if {"low", "high"} <= set(grp.columns):
            ax.errorbar(grp[x], grp[y], yerr=[grp[y] - grp["low"], grp["high"] - grp[y]], fmt="o-", capsize=2, label=str(name), ms=4)
        else:
            ax.plot(grp[x], grp[y], "o-", label=str(name), ms=4)
    lim = [0, float(np.nanmax(df[[x, y]].to_numpy(float))) * 1.05]
    ax.plot(lim, lim, "k--", lw=0.8, label="truth")
    ax.set_xlabel("true MI [nats]")
    ax.set_ylabel("estimated MI [nats]")
    ax.legend(fontsize=8)
    return ax


def plot_validation(report, ax=None, *, criterion: str = "cch_score", method: str | None = None):
    """A criterion (default the CCH score) against the measured KD gain, both with intervals."""
    ax = _axes(ax)
    t = report.table
    method = method or next((m for m in t["method"].unique() if m != "none"), None)
    t = t[t["method"] == method]
    xv = t[criterion].to_numpy(float)
    yv = t["gain"].to_numpy(float)
    yerr = np.vstack([yv - t["gain_low"].to_numpy(float), t["gain_high"].to_numpy(float) - yv])
    xerr = None
    if criterion == "cch_score" and {"cch_low", "cch_high"} <= set(t.columns):
        xerr = np.vstack([xv - t["cch_low"].to_numpy(float), t["cch_high"].to_numpy(float) - xv])
    ax.errorbar(xv, yv, xerr=xerr, yerr=yerr, fmt="o", capsize=3)
    for xi, yi, name in zip(xv, yv, t["teacher"]):
        ax.annotate(str(name), (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.axhline(0, color="black", lw=0.8)
    if criterion == "cch_score":
        ax.axvline(0, color="black", lw=0.8, ls=":")
    ax.set_xlabel(criterion)
    ax.set_ylabel(f"measured KD gain ({method} − none)")
    return ax


def plot_training_curves(curves: dict[str, Sequence[float]], ax=None, *, ylabel: str = "held-out accuracy"):
    """One line per curve (e.g. per method), epochs on x."""
    ax = _axes(ax)
    for name, curve in curves.items():
        ax.plot(np.arange(1, len(curve) + 1), curve, label=str(name))
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    return ax
