"""Plots of cchkit results. Each function takes a result object and an optional Axes, draws on
it, and returns the Axes; none calls ``plt.show()``."""

from __future__ import annotations

from typing import Any

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
    """Horizontal bars: the value of the criterion that decides the ranking's advice
    (``ranking.settings["criterion"]``) for each teacher, with its 95% interval where it has one,
    coloured by that advice, best-ranked on top; a dashed line marks the threshold its study
    fitted (its band), else its own rule's 0.

    One bar per teacher of ``student`` (default: the ranking's first student) under ``estimator``
    (default: the ranking's first). Failed rows (no value) get an empty bar; missing interval
    ends draw no error bar.
    """
    ax = _axes(ax)
    t, est, student = _ranking_rows(ranking, estimator, student)
    name = ranking.settings.get("criterion") or "cch_score"
    value, lo, hi, threshold, label = _criterion_axis(name, t)
    y = np.arange(len(t))
    decisions = t["advice"] if "advice" in t and t["advice"].notna().any() else t["decision"]
    colours = [DECISION_COLOURS.get(d, "#d3d3d3") for d in decisions]
    ax.barh(y, np.nan_to_num(value), color=colours)
    err = _asym_err(value, lo, hi)
    ok = np.isfinite(err).all(0) & np.isfinite(value)
    if ok.any():
        ax.errorbar(value[ok], y[ok], xerr=err[:, ok], fmt="none", ecolor="black", capsize=3, lw=1)
    ax.axvline(0, color="black", lw=0.8)
    if threshold is not None and threshold != 0:
        ax.axvline(threshold, color="black", lw=0.8, ls="--", label=f"helps above {threshold:.3g}")
    _both_sides(ax, np.concatenate([value, lo, hi, [threshold or 0.0]]), "x")
    ax.set_yticks(y, list(t["teacher"]))
    ax.set_xlabel(label)
    ax.set_ylabel("teacher (best-ranked on top)")
    ax.set_title(f"teachers for {student}: decided by {name} ({est})")
    from matplotlib.patches import Patch

    handles = [Patch(color=DECISION_COLOURS[d], label=d) for d in dict.fromkeys(decisions) if d in DECISION_COLOURS]
    ax.legend(handles=handles + ax.get_legend_handles_labels()[0], loc="best", fontsize=8)
    return ax


#: Axis labels of the built-in criteria (others are labelled by their column).
_CRITERION_AXES = {"cch_score": "CCH score  I(H_T;H_S) − I(H_S;Y)  [nats]",
                   "label_gain": "label gain  I(H_T;Y | H_S)  [nats]",
                   "teacher_accuracy": "teacher − student accuracy on H"}


def _ranking_rows(ranking, estimator: str | None, student: str | None):
    """The rows of one student under one estimator, best-ranked last (the top bar)."""
    table = ranking.table
    est = estimator or ranking.primary_estimator
    t = table[table["estimator"] == est]
    if t.empty:
        raise ValueError(f"the ranking has no row for estimator {est!r}; it has {sorted(set(table['estimator']))}.")
    student = student or t["student"].iloc[0]
    t = t[t["student"] == student]
    if t.empty:
        raise ValueError(f"the ranking has no row for student {student!r}.")
    return t.sort_values("rank", ascending=False, na_position="first"), est, student


def _both_sides(ax: Any, values: np.ndarray, axis: str) -> None:
    """Limits symmetric around 0 on ``axis``, so that both sides of a decision show."""
    v = np.abs(values[np.isfinite(values)])
    lim = 1.15 * float(v.max()) if v.size and v.max() > 0 else 1.0
    (ax.set_xlim if axis == "x" else ax.set_ylim)(-lim, lim)


def _asym_err(v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """(2, n) error-bar lengths ``v - lo`` and ``hi - v``, clipped at 0 (matplotlib refuses
    negative lengths, e.g. a bias-corrected estimate just outside its percentile interval);
    NaN where an end is missing."""
    with np.errstate(invalid="ignore"):
        err = np.vstack([v - lo, hi - v])
        return np.where(np.isfinite(err), np.clip(err, 0.0, None), np.nan)


def plot_mi_matrix(ranking, ax=None, *, value: str = "cch_score", estimator: str | None = None, annotate: bool = True):
    """Teacher-by-student heat map of ``value`` (default the CCH score; diverging around 0)."""
    ax = _axes(ax)
    m = ranking.matrix(value, estimator=estimator)
    data = m.to_numpy(float)
    finite = np.isfinite(data)
    diverging = value in ("cch_score", "cch_low", "cch_high")
    if diverging:
        vmax = float(np.abs(data[finite]).max()) if finite.any() else 1.0
        vmax = vmax if vmax > 0 else 1.0
        im = ax.imshow(data, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    else:
        im = ax.imshow(data, cmap="viridis")
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
    """Estimated MI against closed-form truth, one line per ``hue`` group, with the identity line.

    ``results``: a DataFrame (or a list of dicts) with columns ``x``, ``y``, ``hue`` and optional
    ``low``/``high`` (drawn as error bars; an estimate outside its interval gets a zero-length
    bar on that side). Returns the Axes.
    """
    import pandas as pd

    ax = _axes(ax)
    df = results if isinstance(results, pd.DataFrame) else pd.DataFrame(list(results))
    if df.empty:
        raise ValueError("no results to plot.")
    if hue not in df.columns:
        df = df.assign(**{hue: y})
    for name, grp in df.groupby(hue, sort=False):
        grp = grp.sort_values(x)
        if {"low", "high"} <= set(grp.columns) and np.isfinite(grp[["low", "high"]].to_numpy(float)).any():
            v = grp[y].to_numpy(float)
            err = _asym_err(v, grp["low"].to_numpy(float), grp["high"].to_numpy(float))
            ax.errorbar(grp[x], v, yerr=np.nan_to_num(err), fmt="o-", capsize=2, label=str(name), ms=4)
        else:
            ax.plot(grp[x], grp[y], "o-", label=str(name), ms=4)
    vals = df[[x, y]].to_numpy(float)
    top = float(np.nanmax(vals)) if np.isfinite(vals).any() else 1.0
    lim = [0, max(top, 1e-3) * 1.05]
    ax.plot(lim, lim, "k--", lw=0.8, label="truth")
    ax.set_xlabel("true MI [nats]")
    ax.set_ylabel("estimated MI [nats]")
    ax.legend(fontsize=8)
    return ax


def plot_validation(report, ax=None, *, criterion: str | None = None, method: str | None = None):
    """The criterion that decided the advice against the measured KD gain, both with intervals.

    One point per teacher of ``report.table`` for ``method`` (default: the report's primary
    method, ``report.summary["method"]``). ``criterion``: a registered criterion (drawn as its
    signal, with its interval where it has one, and the threshold of its advice) or any numeric
    column of the table; default: the one the ranking's advice followed
    (``report.summary["verdict"]["criterion"]``), else the CCH score. The y axis names the
    baseline the gain is over. Rows with a missing value or gain are left out; missing interval
    ends (one seed) draw no bar.
    """
    ax = _axes(ax)
    summary = getattr(report, "summary", None) or {}
    name = criterion or (summary.get("verdict") or {}).get("criterion") or "cch_score"
    t = report.table
    method = method or summary.get("method") or next((m for m in t["method"].unique() if m != "none"), None)
    t = t[t["method"] == method]
    xv, lo, hi, threshold, label = _criterion_axis(name, t)
    yv = t["gain"].to_numpy(float)
    ok = np.isfinite(xv) & np.isfinite(yv)
    t, xv, yv, lo, hi = t[ok], xv[ok], yv[ok], lo[ok], hi[ok]
    yerr = np.nan_to_num(_asym_err(yv, t["gain_low"].to_numpy(float), t["gain_high"].to_numpy(float)))
    xerr = np.nan_to_num(_asym_err(xv, lo, hi)) if np.isfinite(lo).any() else None
    seeds = _seed_gains(t)
    for xi, g in zip(xv, seeds):  # each seed's paired gain, as a dot
        ax.plot(np.full(len(g), xi), g, ".", color="#999", ms=4, zorder=1)
    if len(t):
        ax.errorbar(xv, yv, xerr=xerr, yerr=yerr, fmt="o", capsize=3, zorder=2)
    for xi, yi, teacher in zip(xv, yv, t["teacher"]):
        ax.annotate(str(teacher), (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.axhline(0, color="black", lw=0.8)
    _threshold_line(ax, threshold, np.concatenate([xv, lo, hi]))
    _both_sides(ax, np.concatenate([yv, t["gain_low"].to_numpy(float), t["gain_high"].to_numpy(float),
                                    *[np.asarray(g, float) for g in seeds]]), "y")
    ax.set_xlabel(label)
    ax.set_ylabel(f"KD gain ({method}) over {_baseline_words(summary)}")
    return ax


def _criterion_axis(name: str, t: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, float | None, str]:
    """(x, low, high, threshold or None, axis label) of a criterion or a column on ``t``'s rows."""
    from .criteria import get_criterion, helps_threshold, list_criteria
    from .exceptions import InputError

    nan = np.full(len(t), np.nan)
    if name not in list_criteria():
        if name not in t.columns:
            raise InputError(f"unknown criterion {name!r}; give one of {', '.join(list_criteria())} or a column "
                             f"of the table.")
        return t[name].to_numpy(float), nan, nan, None, name
    crit = get_criterion(name)
    x = crit.signal(t).to_numpy(float)
    cols = crit.interval_columns if crit.higher_is_better else None
    lo, hi = (t[cols[1]].to_numpy(float), t[cols[2]].to_numpy(float)) if cols else (nan, nan)
    band = helps_threshold(name)
    if {"criterion", "criterion_threshold"} <= set(t.columns) and len(t) and (t["criterion"] == name).all():
        band = float(t["criterion_threshold"].iloc[0])  # the band of the ranking's own label regime
    threshold = band if np.isfinite(band) else 0.0
    return x, lo, hi, threshold, f"{_CRITERION_AXES.get(name, crit.signal_text or name)} (advice: helps > {threshold:.3g})"


def _threshold_line(ax: Any, threshold: float | None, xs: np.ndarray) -> None:
    """The advice's threshold as a dotted line with the quadrants named, where it lies near the
    data; a threshold far off the data (a band fitted on other bundles) is said, not drawn."""
    if threshold is None:
        return
    v = xs[np.isfinite(xs)]
    lo, hi = (float(v.min()), float(v.max())) if v.size else (threshold, threshold)
    span = max(hi - lo, 1e-9)
    if lo - span <= threshold <= hi + span:
        ax.axvline(threshold, color="black", lw=0.8, ls=":")
        ax.set_xlim(min(lo, threshold) - 0.15 * span, max(hi, threshold) + 0.15 * span)
        _quadrants(ax)
    else:
        side = "right" if threshold > hi else "left"
        ax.figure.text(0.99 if side == "right" else 0.01, 0.5, f"advice threshold {threshold:.3g}: off the axis ({side})",
                       transform=ax.transAxes, ha=side, va="center", fontsize=7, color="#777")  # axes texts: teachers


def _baseline_words(summary: dict) -> str:
    kind = (summary.get("baseline") or {}).get("kind")
    return {"probe": "the linear probe", "mlp": "the tuned no-KD student"}.get(kind, "the no-KD student")


def _seed_gains(t: Any) -> list[list[float]]:
    """Each row's per-seed gains (column ``gain_seeds``), or none."""
    if "gain_seeds" not in t.columns:
        return [[] for _ in range(len(t))]
    return [list(g) if isinstance(g, (list, tuple, np.ndarray)) else [] for g in t["gain_seeds"]]


def _quadrants(ax: Any) -> None:
    """Name the four quadrants of criterion (x) against measured gain (y), as figure texts placed
    in the axes' corners (the axes' own texts stay the teachers' labels)."""
    style = dict(fontsize=7, color="#777", transform=ax.transAxes)
    for x, y, ha, va, label in ((0.99, 0.98, "right", "top", "predicted help, measured help"),
                                (0.01, 0.98, "left", "top", "predicted hurt, measured help"),
                                (0.99, 0.02, "right", "bottom", "predicted help, measured hurt"),
                                (0.01, 0.02, "left", "bottom", "predicted hurt, measured hurt")):
        ax.figure.text(x, y, label, ha=ha, va=va, **style)


def _curve_values(c: Any, key: str) -> np.ndarray:
    """One curve as floats: a sequence of numbers, a list of per-epoch dicts (``DistillResult.curve``),
    a DataFrame with column ``key``, or a :class:`~cchkit.distill.DistillResult`."""
    if hasattr(c, "curve") and hasattr(c, "method"):
        c = c.curve
    if hasattr(c, "columns"):
        return c[key].to_numpy(float)
    c = list(c)
    if c and isinstance(c[0], dict):
        return np.array([row.get(key, np.nan) for row in c], dtype=float)
    return np.asarray(c, dtype=float)


def plot_training_curves(curves: Any, ax=None, *, ylabel: str | None = None, key: str = "test_accuracy"):
    """One line per curve, epochs on x.

    ``curves`` is a mapping name -> curve, or a :class:`~cchkit.distill.DistillResult`, or a
    list of them (named by method). A curve is a sequence of numbers, a ``DistillResult`` (its
    ``curve[...][key]``, default the held-out accuracy), its ``.curve`` list, or a *list of*
    ``DistillResult`` / curves (e.g. one per seed): drawn as the mean with a min-max band.
    """
    ax = _axes(ax)
    if hasattr(curves, "curve") and hasattr(curves, "method"):
        curves = [curves]
    if not isinstance(curves, dict):
        named: dict[str, list] = {}
        for r in curves:
            named.setdefault(str(getattr(r, "method", len(named))), []).append(r)
        curves = {k: v[0] if len(v) == 1 else v for k, v in named.items()}
    for name, curve in curves.items():
        many = isinstance(curve, (list, tuple)) and len(curve) > 0 and (
            hasattr(curve[0], "curve") or isinstance(curve[0], (list, tuple, np.ndarray))
        )
        if many:
            arrs = [_curve_values(c, key) for c in curve]
            n = min(len(a) for a in arrs)
            stack = np.vstack([a[:n] for a in arrs])
            epochs = np.arange(1, n + 1)
            (line,) = ax.plot(epochs, np.nanmean(stack, 0), label=f"{name} (mean of {len(arrs)})")
            ax.fill_between(epochs, np.nanmin(stack, 0), np.nanmax(stack, 0), color=line.get_color(), alpha=0.2, lw=0)
        else:
            v = _curve_values(curve, key)
            ax.plot(np.arange(1, len(v) + 1), v, label=str(name))
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel or ("held-out accuracy" if key == "test_accuracy" else key))
    ax.legend(fontsize=8)
    return ax


def plot_few_labels(report, ax=None, *, method: str | None = None):
    """Test accuracy of each teacher-free student and of each teacher's KD student (and its
    placebo), means with 95% intervals over seeds, from a
    :class:`~cchkit.fewlabels.FewLabelReport`; the dashed line is the best teacher-free student."""
    ax = _axes(ax)
    s = report.summary
    method = method or s["method"]
    b = report.baselines
    t = report.table[report.table["method"] == method].sort_values("gain", ascending=False)
    labels = list(b["student"]) + [f"{r.teacher} ({method})" for r in t.itertuples()]
    acc = np.concatenate([b["acc"], t["acc"]]).astype(float)
    lo = np.concatenate([b["acc_low"], t["acc_low"]]).astype(float)
    hi = np.concatenate([b["acc_high"], t["acc_high"]]).astype(float)
    colors = ["#999999"] * len(b) + ["#1f77b4" if h else "#d62728" for h in t["helps"]]
    y = np.arange(len(labels))
    ax.barh(y, acc, xerr=_asym_err(acc, lo, hi), color=colors, alpha=0.85)
    ax.scatter(t["acc_placebo"], y[len(b):], marker="x", color="black", zorder=3, label="placebo teacher")
    best = b.loc[b["student"] == "best teacher-free", "acc"]
    if len(best):
        ax.axvline(float(best.iloc[0]), ls="--", color="#555555", lw=1)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel(f"test accuracy of {s['student']} ({s['regime_text']}, {s['n_unlabeled']:,} unlabeled rows)")
    ax.legend(loc="lower right", fontsize=8)
    return ax

