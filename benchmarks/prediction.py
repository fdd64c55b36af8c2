"""Does the advice come true? Criteria against measured distillation gains.

For four families of (student, teacher) pairs this script

1. scores every teacher with :func:`cchkit.rank_teachers` -- the CCH score under the ``gaussian``
   and ``ksg`` estimators and both score variants (``raw``, ``matched``), plus the baseline
   criteria the ranking carries (``teacher_accuracy_on_h``, ``i_teacher_label``, ``i_teacher_student``,
   ``mfh_score``, taken from the gaussian / raw ranking);
2. measures the KD gain by distilling (:func:`cchkit.validate`, methods ``ucmkd`` (unpaired) and
   ``logit-kd`` (paired), ``seeds`` seeds, paired per-seed gains, 95% t-intervals);
3. reports, per family and criterion, the Spearman correlation between criterion and gain, the
   sign agreement on gains whose interval excludes 0, and a top-1 / adjacent-pair hit rate.

Families
--------
``gaussian``  :func:`cchkit.datasets.synthetic.gaussian_cch_sweep`: one teacher per configuration,
              true CCH margins evenly spaced from negative to positive (representation ``raw``:
              the truth is defined on the raw features).
``mfh``       :func:`cchkit.datasets.synthetic.mfh_sweep`: the MFH overlap (gamma) sweep
              (representation ``raw``).
``mfeat``     UCI Multiple Features; students ``mor`` and ``zer`` (the two weakest views), every
              other view as teacher (representations ``pca`` -- the default -- and ``encoder``).
``digits-avt`` student ``audio``, teachers ``image`` and ``text`` (``pca`` and ``encoder``).

Usage::

    python benchmarks/prediction.py            # full (about 40 min on 2 busy cores)
    python benchmarks/prediction.py --quick    # tiny settings, to check the plumbing (~1-2 min)
    python benchmarks/prediction.py --resume   # reuse finished units of an interrupted run

Writes ``benchmarks/results/prediction.md`` and ``benchmarks/results/prediction_synthetic.png``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import pickle
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _common import RESULTS, Stopwatch, header, load_average, log, md_table, now, write_atomic  # noqa: E402

OUT_MD = RESULTS / "prediction.md"
OUT_PNG = RESULTS / "prediction_synthetic.png"
ESTIMATORS = ("gaussian", "ksg")
VARIANTS = ("raw", "matched")
METHODS = ("ucmkd", "logit-kd")
METHOD_LABEL = {"ucmkd": "UCMKD", "logit-kd": "logit KD"}
MFEAT_VIEWS = ("fou", "fac", "kar", "pix", "zer", "mor")
SWEEPS = ("gaussian", "gaussian-starved", "mfh")
GAUSSIAN = ("gaussian", "gaussian-starved")


@dataclass
class Settings:
    n_configs: int = 20
    margins: tuple[float, float] = (-0.3, 0.6)
    n_gaussian: int = 2000
    gammas: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    n_mfh: int = 1200
    seeds: int = 5
    epochs: int = 30
    mfeat_students: tuple[str, ...] = ("mor", "zer")
    mfeat_candidates: tuple[str, ...] | None = None  # None: every other view
    digits_student: str = "audio"
    digits_candidates: tuple[str, ...] = ("image", "text")
    real_representations: tuple[str, ...] = ("pca", "encoder")
    n_bootstrap: int = 200  # gaussian estimator (the library default)
    ksg_bootstrap: int = 50  # KSG subsample interval: 50 instead of 200 to keep the run time in bounds
    encoder_params: dict[str, Any] = field(default_factory=dict)
    starved_train_size: int = 20  # gaussian-starved: the student trains on this many labelled samples
    families: tuple[str, ...] = ("gaussian", "gaussian-starved", "mfh", "mfeat", "digits-avt")


FULL = Settings()
QUICK = Settings(
    n_configs=4, n_gaussian=600, gammas=(0.0, 0.5, 1.0), n_mfh=600, seeds=2, epochs=3,
    mfeat_students=("mor",), mfeat_candidates=("fac", "pix", "kar"), n_bootstrap=20, ksg_bootstrap=4,
    encoder_params={"epochs": 3, "patience": 2},
)


# ------------------------------------------------------------------------------ units of work
@dataclass
class Unit:
    family: str
    key: str  # unique within the family
    student: str
    candidates: list[str]
    representations: tuple[str, ...]
    param_name: str = ""
    param: float = math.nan
    truth: dict[str, float] = field(default_factory=dict)  # teacher -> true margin (synthetic)
    bundle: Any = None
    distill_params: dict[str, Any] = field(default_factory=dict)  # passed to validate -> distill
    rankings_from: str | None = None  # reuse the rankings of this unit (same bundle): "family/key"


def build_units(s: Settings) -> list[Unit]:
    import cchkit
    from cchkit.datasets import synthetic as syn

    units: list[Unit] = []
    if "gaussian" in s.families or "gaussian-starved" in s.families:
        sweep = syn.gaussian_cch_sweep(n_configs=s.n_configs, margins=s.margins, n=s.n_gaussian, random_state=0)
        for fam in ("gaussian", "gaussian-starved"):
            if fam not in s.families:
                continue
            for sb in sweep:
                tm = float(sb.params["target_margin"])
                u = Unit(fam, f"margin{tm:+.4f}", "student", ["teacher"], ("raw",), "target margin", tm,
                         dict(sb.margins), sb.bundle)
                if fam == "gaussian-starved":
                    u.distill_params = {"train_size": s.starved_train_size}
                    if "gaussian" in s.families:
                        u.rankings_from = f"gaussian/{u.key}"
                units.append(u)
    if "mfh" in s.families:
        for sb in syn.mfh_sweep(gammas=s.gammas, n=s.n_mfh, random_state=0):
            g = float(sb.params["gamma"])
            units.append(Unit("mfh", f"gamma{g:.2f}", "student", ["teacher"], ("raw",), "gamma", g, dict(sb.margins),
                              sb.bundle))
    if "mfeat" in s.families:
        b = cchkit.datasets.load("mfeat")
        for st in s.mfeat_students:
            cands = [v for v in (s.mfeat_candidates or b.names) if v != st]
            units.append(Unit("mfeat", st, st, cands, s.real_representations, bundle=b))
    if "digits-avt" in s.families:
        b = cchkit.datasets.load("digits-avt")
        units.append(Unit("digits-avt", s.digits_student, s.digits_student, list(s.digits_candidates),
                          s.real_representations, bundle=b))
    return units


def run_unit(u: Unit, s: Settings, jobs: int, reuse: dict[str, Any] | None = None) -> dict[str, Any]:
    """Rankings (representation x variant, both estimators) and one validation; ``reuse``: the
    rankings of another unit on the same bundle (not recomputed, their time not counted again)."""
    import cchkit

    out: dict[str, Any] = {"rankings": {}, "rank_seconds": {}}
    first = None
    if reuse is not None:
        out["rankings"] = dict(reuse["rankings"])
        out["rank_seconds"] = {k: 0.0 for k in reuse["rankings"]}
        first = cchkit.Ranking(table=reuse["rankings"][(u.representations[0], "raw")],
                               settings={"estimators": list(ESTIMATORS)})
    for rep in ([] if reuse is not None else u.representations):
        for variant in VARIANTS:
            with Stopwatch() as sw:
                r = cchkit.rank_teachers(
                    u.bundle, u.student, u.candidates, estimators=list(ESTIMATORS), representation=rep,
                    variant=variant, n_bootstrap=s.n_bootstrap,
                    estimator_params={"ksg": {"n_bootstrap": s.ksg_bootstrap}},
                    encoder_params=dict(s.encoder_params) if rep == "encoder" else None,
                    random_state=0, progress=False,
                )
            out["rankings"][(rep, variant)] = r.table
            out["rank_seconds"][(rep, variant)] = sw.seconds
            if first is None:
                first = r
    with Stopwatch() as sw:
        rep = cchkit.validate(u.bundle, u.student, u.candidates, baseline="no-kd", methods=METHODS, seeds=s.seeds, epochs=s.epochs,
                              ranking=first, random_state=0, progress=False, n_jobs=jobs, **u.distill_params)
    out["validation"] = rep.table
    out["runs"] = rep.runs
    out["validate_seconds"] = sw.seconds
    return out


# ------------------------------------------------------------------------------ the data table
def crit_col(est: str, variant: str) -> str:
    return f"cch[{est},{variant}]"


def unit_rows(u: Unit, res: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (representation, teacher): every criterion and the gain of each method."""
    import numpy as np

    rows = []
    val = res["validation"]
    for rep in u.representations:
        for t in u.candidates:
            row: dict[str, Any] = dict(family=u.family, unit=u.key, representation=rep, student=u.student, teacher=t,
                                       param_name=u.param_name, param=u.param,
                                       true_margin=u.truth.get(t, math.nan))
            for variant in VARIANTS:
                tab = res["rankings"][(rep, variant)]
                for est in ESTIMATORS:
                    r = tab[(tab["teacher"] == t) & (tab["estimator"] == est)].iloc[0]
                    c = crit_col(est, variant)
                    row[c] = float(r["cch_score"])
                    row[c + ":low"] = float(r["cch_low"])
                    row[c + ":high"] = float(r["cch_high"])
                    row[c + ":decision"] = str(r["decision"])
                    row[c + ":error"] = r["error"]
            base = res["rankings"][(rep, "raw")]
            b = base[(base["teacher"] == t) & (base["estimator"] == "gaussian")].iloc[0]
            for col in ("teacher_accuracy_on_h", "student_accuracy_on_h", "i_teacher_label", "i_student_label",
                        "i_teacher_student", "mfh_score"):
                row[col] = float(b[col]) if b[col] is not None else math.nan
            for m in METHODS:
                v = val[(val["teacher"] == t) & (val["method"] == m)].iloc[0]
                row[f"{m}:gain"] = float(v["gain"])
                row[f"{m}:low"] = float(v["gain_low"])
                row[f"{m}:high"] = float(v["gain_high"])
                row[f"{m}:sig"] = bool(v["significant"])
                row[f"{m}:acc_none"] = float(v["acc_none"])
                row[f"{m}:acc"] = float(v["acc"])
                row[f"{m}:error"] = v["error"]
            row["teacher_net_accuracy"] = float(np.nanmean(val[val["teacher"] == t]["teacher_net_accuracy"]))
            rows.append(row)
    return rows


# ------------------------------------------------------------------------------ statistics
#: "helps" when the column is above this (a number, a column, or the candidates' median)
POINT_RULES = {"teacher_accuracy_on_h": "student_accuracy_on_h", "i_teacher_label": "i_student_label",
               "i_teacher_student": "median", "mfh_score": "0.5"}


def criteria_for(family: str) -> list[tuple[str, str, str]]:
    """(label, column, threshold rule) in table order; the point rules this study used (the
    registered criteria's own rules are in cchkit.criteria)."""
    out = [(f"CCH {e}/{v}" + (" (default)" if (e, v) == ("gaussian", "raw") else ""), crit_col(e, v), "0")
           for e in ESTIMATORS for v in VARIANTS]
    out += [(c, c, POINT_RULES[c]) for c in ("teacher_accuracy_on_h", "i_teacher_label", "i_teacher_student", "mfh_score")]
    if family in SWEEPS:
        out.append(("true margin (oracle)", "true_margin", "0"))
    return out


def _spearman(x, g) -> float:
    import numpy as np
    from scipy import stats

    x, g = np.asarray(x, float), np.asarray(g, float)
    ok = np.isfinite(x) & np.isfinite(g)
    if ok.sum() < 3 or np.ptp(x[ok]) == 0 or np.ptp(g[ok]) == 0:
        return math.nan
    return float(stats.spearmanr(x[ok], g[ok]).statistic)


def _thresholds(df, col: str, rule: str):
    import numpy as np

    x = df[col].to_numpy(float)
    if rule == "0":
        return np.zeros_like(x)
    if rule == "0.5":
        return np.full_like(x, 0.5)
    if rule == "median":  # median over the student's candidates (a sweep: over the family's configurations)
        return df.groupby("student")[col].transform("median").to_numpy(float)
    if rule == "student_accuracy_on_h":
        thr = df["student_accuracy_on_h"].to_numpy(float)
        return thr
    return df[rule].to_numpy(float)


def criterion_stats(df, col: str, rule: str, method: str, sweep: bool) -> dict[str, Any]:
    """Spearman, sign agreement on significant gains, top-1 (per student) or adjacent-pair concordance."""
    import numpy as np

    x = df[col].to_numpy(float)
    g = df[f"{method}:gain"].to_numpy(float)
    sig = df[f"{method}:sig"].to_numpy(bool)
    thr = _thresholds(df, col, rule)
    ok = np.isfinite(x) & np.isfinite(g) & np.isfinite(thr)
    s = sig & ok
    agree = int(((x[s] > thr[s]) == (g[s] > 0)).sum())
    n_sig = int(s.sum())
    out: dict[str, Any] = {"agree": agree, "n_sig": n_sig, "share": agree / n_sig if n_sig else math.nan,
                           "n": int(ok.sum())}
    if sweep:
        out["spearman"] = _spearman(x, g)
        out["per_student"] = {}
        # adjacent pairs in criterion order: does the gain move the same way? (ties in gain count 1/2)
        idx = np.flatnonzero(ok)
        order = idx[np.argsort(x[idx], kind="stable")]
        pairs = [(a, b) for a, b in zip(order[:-1], order[1:]) if x[b] > x[a]]
        conc = sum(1.0 if g[b] > g[a] else 0.5 if g[b] == g[a] else 0.0 for a, b in pairs)
        out["adjacent"] = conc / len(pairs) if pairs else math.nan
        out["n_pairs"] = len(pairs)
    else:
        per, hits, n_students = {}, 0, 0
        for st, grp in df.groupby("student", sort=False):
            per[st] = _spearman(grp[col], grp[f"{method}:gain"])
            xs, gs = grp[col].to_numpy(float), grp[f"{method}:gain"].to_numpy(float)
            okk = np.isfinite(xs) & np.isfinite(gs)
            if okk.sum() >= 2:
                n_students += 1
                hits += int(np.argmax(np.where(okk, xs, -np.inf)) == np.argmax(np.where(okk, gs, -np.inf)))
        vals = [v for v in per.values() if math.isfinite(v)]
        out["spearman"] = float(np.mean(vals)) if vals else math.nan
        out["per_student"] = per
        out["pooled"] = _spearman(x, g)
        out["top1"] = hits
        out["n_students"] = n_students
    return out


def summary_table(df, families: list[str]) -> tuple[list[dict[str, Any]], dict]:
    rows, stats = [], {}
    for fam in families:
        sweep = fam in SWEEPS
        fdf = df[df["family"] == fam]
        for rep in list(dict.fromkeys(fdf["representation"])):
            d = fdf[fdf["representation"] == rep]
            for label, col, rule in criteria_for(fam):
                row: dict[str, Any] = {"family": fam, "repr.": rep, "criterion": label,
                                       "predicts helps when": {"0": "> 0", "0.5": "> 0.5",
                                                               "median": "> median",
                                                               "student_accuracy_on_h": "> student acc.",
                                                               "i_student_label": "> I(H_S;Y)"}[rule]}
                for m in METHODS:
                    st = criterion_stats(d, col, rule, m, sweep)
                    stats[(fam, rep, col, m)] = st
                    lab = METHOD_LABEL[m]
                    rho = "–" if not math.isfinite(st["spearman"]) else f"{st['spearman']:+.2f}"
                    if not sweep and st["per_student"]:
                        parts = [f"{k} {v:+.2f}" if math.isfinite(v) else f"{k} –" for k, v in st["per_student"].items()]
                        rho += " (" + ", ".join(parts) + ")"
                    row[f"{lab} ρ"] = rho
                    row[f"{lab} sign agree"] = (f"{st['agree']}/{st['n_sig']}"
                                                + (f" ({st['share']:.0%})" if st["n_sig"] else ""))
                    if sweep:
                        row[f"{lab} adjacent"] = "–" if not math.isfinite(st["adjacent"]) else f"{st['adjacent']:.0%}"
                    else:
                        row[f"{lab} top-1"] = f"{st['top1']}/{st['n_students']}"
                rows.append(row)
    return rows, stats


def harmonise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sweeps report 'adjacent', real bundles 'top-1': one column 'top-1 / adjacent' per method."""
    out = []
    for r in rows:
        r = dict(r)
        for m in METHODS:
            lab = METHOD_LABEL[m]
            v = r.pop(f"{lab} adjacent", None) or r.pop(f"{lab} top-1", None)
            r[f"{lab} top-1 / adj."] = v
        out.append(r)
    cols = ["family", "repr.", "criterion", "predicts helps when"]
    for m in METHODS:
        lab = METHOD_LABEL[m]
        cols += [f"{lab} ρ", f"{lab} sign agree", f"{lab} top-1 / adj."]
    return [{c: r.get(c) for c in cols} for r in out]


def target_i(df) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Gaussian family: the decision (helps / hurts / inconclusive) against the sign of significant gains."""
    rows, verdict = [], {}
    for fam, e, v in [(f, e, v) for f in GAUSSIAN for e in ESTIMATORS for v in VARIANTS]:
        d = df[(df["family"] == fam)]
        if d.empty:
            continue
        if True:
            c = crit_col(e, v)
            row: dict[str, Any] = {"family": fam,
                                   "criterion": f"CCH {e}/{v}" + (" (default)" if (e, v) == ("gaussian", "raw") else "")}
            for m in METHODS:
                sig = d[d[f"{m}:sig"]]
                dec = sig[c + ":decision"]
                pos = sig[f"{m}:gain"] > 0
                agree = int((((dec == "helps") & pos) | ((dec == "hurts") & ~pos)).sum())
                concl = int((dec != "inconclusive").sum())
                n = len(sig)
                lab = METHOD_LABEL[m]
                row[f"{lab}: significant gains"] = n
                row[f"{lab}: decision agrees"] = f"{agree}/{n}" + (f" ({agree / n:.0%})" if n else "")
                row[f"{lab}: among conclusive"] = f"{agree}/{concl}" + (f" ({agree / concl:.0%})" if concl else "")
                if (e, v) == ("gaussian", "raw"):
                    verdict[(fam, m)] = {"n": n, "agree": agree, "share": agree / n if n else math.nan, "conclusive": concl}
            rows.append(row)
    return rows, verdict


# ------------------------------------------------------------------------------ plot
def plot(df, path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np
    except ImportError:
        return False
    fams = [f for f in SWEEPS if (df["family"] == f).any()]
    if not fams:
        return False
    panels = []
    if "gaussian" in fams:
        panels += [("gaussian", "true_margin", "true CCH margin (nats)"),
                   ("gaussian", crit_col("gaussian", "raw"), "estimated CCH score, gaussian/raw (nats)")]
    if "gaussian-starved" in fams:
        panels += [("gaussian-starved", "true_margin", "true CCH margin (nats)")]
    if "mfh" in fams:
        panels += [("mfh", "param", "MFH overlap gamma")]
    ncol = 2 if len(panels) > 2 else len(panels)
    nrow = math.ceil(len(panels) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.2 * ncol, 3.9 * nrow), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, (fam, col, xlabel) in zip(axes.flat, panels):
        d = df[(df["family"] == fam)].sort_values(col)
        for k, m in enumerate(METHODS):
            x = d[col].to_numpy(float) + (k - 0.5) * 0.004 * (np.ptp(d[col].to_numpy(float)) or 1)
            y = d[f"{m}:gain"].to_numpy(float)
            err = np.vstack([y - d[f"{m}:low"].to_numpy(float), d[f"{m}:high"].to_numpy(float) - y])
            err = np.where(np.isfinite(err), np.abs(err), 0.0)
            ax.errorbar(x, y, yerr=err, fmt="o-" if fam == "mfh" else "o", ms=4, capsize=2, lw=0.8,
                        label=METHOD_LABEL[m])
        ax.axhline(0, color="grey", lw=0.8, ls="--")
        if col != "param":
            ax.axvline(0, color="grey", lw=0.8, ls="--")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("measured KD gain (accuracy)")
        ax.set_title({"gaussian": "Gaussian CCH sweep",
                      "gaussian-starved": "Gaussian CCH sweep, starved student",
                      "mfh": "MFH gamma sweep"}[fam], fontsize=10)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# ------------------------------------------------------------------------------ report
def _ci(v: float, lo: float, hi: float, digits: int = 3) -> str:
    if not math.isfinite(v):
        return "–"
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return f"{v:+.{digits}f}"
    return f"{v:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]"


def detail_rows(df) -> list[dict[str, Any]]:
    out = []
    for r in df.to_dict(orient="records"):
        row = {"family": r["family"], "repr.": r["representation"], "student": r["student"], "teacher": r["teacher"]}
        row["param"] = (f"{r['param_name']} {r['param']:+.3f}" if r["param_name"] else "")
        row["true margin"] = r["true_margin"]
        for e in ESTIMATORS:
            for v in VARIANTS:
                c = crit_col(e, v)
                dec = {"helps": "+", "hurts": "−", "inconclusive": "?", "failed": "fail"}.get(r[c + ":decision"], "?")
                row[f"CCH {e}/{v}"] = (f"{r[c]:+.3f} {dec}" if math.isfinite(r[c]) else "fail")
        row["teacher acc."] = r["teacher_accuracy_on_h"]
        row["student acc."] = r["student_accuracy_on_h"]
        row["I(T;Y)"] = r["i_teacher_label"]
        row["I(S;Y)"] = r["i_student_label"]
        row["I(T;S)"] = r["i_teacher_student"]
        row["MFH"] = r["mfh_score"]
        for m in METHODS:
            row[f"{METHOD_LABEL[m]} gain [95% CI]"] = _ci(r[f"{m}:gain"], r[f"{m}:low"], r[f"{m}:high"]) + (
                " *" if r[f"{m}:sig"] else "")
        out.append(row)
    return out


def findings(stats: dict, families: list[str], df) -> list[str]:
    """Plain sentences, computed from the numbers: the best criterion per family and method."""
    lines = []
    for fam in families:
        reps = list(dict.fromkeys(df[df["family"] == fam]["representation"]))
        for m in METHODS:
            for rep in reps:
                crits = criteria_for(fam)
                cand = [(lab, stats[(fam, rep, col, m)]) for lab, col, _ in crits if "oracle" not in lab]
                n_sig = cand[0][1]["n_sig"]
                fin = [(lab, st) for lab, st in cand if math.isfinite(st["spearman"])]
                default = stats[(fam, rep, crit_col("gaussian", "raw"), m)]
                msg = f"- **{fam}** ({rep}), {METHOD_LABEL[m]}: "
                if fin:
                    best = max(fin, key=lambda p: p[1]["spearman"])
                    msg += (f"default CCH ρ = {default['spearman']:+.2f}" if math.isfinite(default["spearman"])
                            else "default CCH ρ undefined")
                    msg += f"; highest ρ: {best[0]} ({best[1]['spearman']:+.2f})"
                else:
                    msg += ("no Spearman defined (the gains or the criteria are constant)" if fam in SWEEPS
                            else "no Spearman defined (fewer than 3 teachers per student)")
                if n_sig:
                    shares = [(lab, st["share"]) for lab, st in cand if st["n_sig"]]
                    top = max(s for _, s in shares)
                    bests = [lab for lab, s in shares if s == top]
                    msg += (f"; {n_sig} significant gain(s), default CCH sign agreement "
                            f"{default['agree']}/{default['n_sig']}, best: {', '.join(bests)} ({top:.0%})")
                else:
                    msg += "; no gain interval excludes 0, so sign agreement is not testable"
                if fam in SWEEPS:
                    o = stats[(fam, rep, "true_margin", m)]
                    if math.isfinite(o["spearman"]):
                        msg += f"; the true margin itself has ρ = {o['spearman']:+.2f}"
                lines.append(msg + ".")
    return lines


def write_report(df, s: Settings, quick: bool, started: str, seconds: float, load_start: str,
                 timing: dict[str, Any], png: bool) -> None:
    import numpy as np

    families = [f for f in s.families if (df["family"] == f).any()]
    rows, stats = summary_table(df, families)
    t_rows, verdict = target_i(df) if any(f in families for f in GAUSSIAN) else ([], {})
    parts = [header("Does the advice come true? Criteria vs measured KD gains", started=started, seconds=seconds,
                    load_start=load_start,
                    extra={"mode": "QUICK (tiny settings: plumbing check only, numbers mean nothing)" if quick
                           else "full"})]
    parts.append(
        "\n## Settings\n\n"
        f"- Gaussian CCH family: `gaussian_cch_sweep(n_configs={s.n_configs}, margins={s.margins}, "
        f"n={s.n_gaussian})`, one teacher per configuration, representation `raw`.\n"
        f"- `gaussian-starved`: the same {s.n_configs} bundles and rankings, but every distillation trains the "
        f"student on only `train_size={s.starved_train_size}` labelled samples (`validate(..., "
        f"train_size={s.starved_train_size})`; the teacher keeps its full training split). Added because with "
        "the full training split no KD gain in the Gaussian family is distinguishable from 0 (see the "
        "results), which leaves target (i) untestable.\n"
        f"- MFH family: `mfh_sweep(gammas={s.gammas}, n={s.n_mfh})`, representation `raw`.\n"
        f"- mfeat: students {', '.join(f'`{x}`' for x in s.mfeat_students)}, teachers "
        f"{'every other view' if s.mfeat_candidates is None else ', '.join(s.mfeat_candidates)}; "
        f"digits-avt: student `{s.digits_student}`, teachers {', '.join(s.digits_candidates)}; representations "
        f"{', '.join(f'`{r}`' for r in s.real_representations)} (`pca` is the library default).\n"
        f"- Ranking: `rank_teachers(..., estimators=['gaussian', 'ksg'], variant='raw'|'matched', "
        f"n_bootstrap={s.n_bootstrap}, estimator_params={{'ksg': {{'n_bootstrap': {s.ksg_bootstrap}}}}}, "
        "random_state=0)`; the KSG interval uses fewer subsamples than the default 200 to bound the run time "
        "(it changes only KSG's intervals/decisions, not its scores)"
        + (f", encoder options {s.encoder_params}" if s.encoder_params else "") + ".\n"
        f"- Gains: `validate(..., methods=('ucmkd', 'logit-kd'), seeds={s.seeds}, epochs={s.epochs}, "
        "random_state=0)`: per-seed paired gain `acc(method) - acc(none)` on the student's held-out split, "
        "mean and 95% Student-t interval over seeds; *significant* = the interval excludes 0.\n"
        "- Baseline criteria come from the gaussian-estimator, raw-variant ranking of the same representation. "
        "Thresholds (predicts *helps* when) are the point rules of `POINT_RULES` in this script: CCH score > 0, "
        "teacher accuracy > student accuracy (both the ranking's cross-validated linear accuracy), "
        "I(H_T;Y) > I(H_S;Y), I(H_T;H_S) > its median over the student's candidates (in a sweep, where each "
        "configuration has one teacher, over the family's configurations), MFH share > 0.5.\n"
    )
    parts.append(
        "\n## How to read the table\n\n"
        "- **ρ**: Spearman rank correlation between the criterion and the mean measured gain. Sweeps: over "
        "the configurations. Real bundles: the mean of the per-student correlations (per student in brackets; "
        "undefined with fewer than 3 teachers, so digits-avt with 2 teachers has none).\n"
        "- **sign agree**: among (student, teacher) pairs whose gain interval excludes 0, how many have the sign "
        "the criterion's threshold predicts.\n"
        "- **top-1 / adj.**: real bundles: for how many students the criterion's top teacher has the best "
        "mean gain. Sweeps: 'which configuration is best' is not a meaningful question when every "
        "configuration is a different bundle, so this column gives the *adjacent-pair concordance* instead: "
        "sort the configurations by the criterion; the share of neighbouring pairs whose gain moves in the "
        "same direction (ties in gain count one half; 50% is chance).\n"
        "- `true margin (oracle)` uses the closed-form truth instead of an estimate: it shows whether the "
        "hypothesis itself holds in the family, whatever the estimator.\n"
    )
    parts.append("\n## Results\n\n" + md_table(harmonise(rows)))

    # targets
    tg = ["\n## The issue's targets\n"]
    if verdict:
        tg.append("**(i) Gaussian family: the recommended decision agrees in sign with the measured gain in >= 90% "
                  "of the configurations whose gain interval excludes 0.** The decision is `helps` / `hurts` / "
                  "`inconclusive` (score interval above / below / across 0); an `inconclusive` decision on a "
                  "significant gain counts as a miss.\n")
        tg.append(md_table(t_rows))
        for (fam, m), v in verdict.items():
            if v["n"] == 0:
                tg.append(f"- {fam}, {METHOD_LABEL[m]}: no configuration has a gain interval that excludes 0: the "
                          "target **cannot be tested** (there is no significant gain to agree with).")
            else:
                met = v["share"] >= 0.9
                tg.append(f"- {fam}, {METHOD_LABEL[m]}: {v['agree']}/{v['n']} = {v['share']:.0%} "
                          f"({v['conclusive']} conclusive decisions): target **{'MET' if met else 'NOT MET'}**.")
        tg.append("")
    real = [f for f in families if f in ("mfeat", "digits-avt")]
    if real:
        tg.append("**(ii) Real bundles: the default criterion's Spearman above teacher accuracy's.** Default "
                  "criterion = CCH, gaussian estimator, raw variant, `pca` representation. Spearman is defined "
                  "only where a student has >= 3 teachers (mfeat); digits-avt (2 teachers) enters through "
                  "top-1 and sign agreement only.\n")
        for fam in real:
            for rep in list(dict.fromkeys(df[df["family"] == fam]["representation"])):
                for m in METHODS:
                    a = stats[(fam, rep, crit_col("gaussian", "raw"), m)]
                    b = stats[(fam, rep, "teacher_accuracy_on_h", m)]
                    if math.isfinite(a["spearman"]) and math.isfinite(b["spearman"]):
                        ok = a["spearman"] > b["spearman"]
                        verdict_txt = "MET" if ok else "NOT MET"
                        tg.append(f"- {fam} ({rep}{', the default' if rep == 'pca' else ''}), {METHOD_LABEL[m]}: "
                                  f"CCH ρ = {a['spearman']:+.2f} vs teacher accuracy ρ = {b['spearman']:+.2f}: "
                                  f"**{verdict_txt}**" + ("" if ok else " — the CCH score does not beat teacher "
                                                          "accuracy here") + ".")
                    else:
                        tg.append(f"- {fam} ({rep}), {METHOD_LABEL[m]}: Spearman undefined (top-1: CCH "
                                  f"{a['top1']}/{a['n_students']}, teacher accuracy {b['top1']}/{b['n_students']}).")
    parts.append("\n".join(tg) + "\n")
    parts.append("\n## Findings (generated from the numbers above)\n\n" + "\n".join(findings(stats, families, df)) + "\n")

    # timing
    tl = ["\n## Run time\n"]
    trows = []
    for fam in families:
        tf = timing["families"].get(fam, {})
        trows.append({"family": fam, "units": tf.get("units"), "ranking s": tf.get("rank"),
                      "validation s": tf.get("validate"), "KD runs": tf.get("runs"),
                      "s per (teacher, seed) for none+UCMKD+logit KD": tf.get("per_teacher_seed")})
    tl.append(md_table(trows, digits=1))
    if "mfeat" in families and timing["families"].get("mfeat", {}).get("per_teacher_seed"):
        per = timing["families"]["mfeat"]["per_teacher_seed"]
        n_pairs = len(MFEAT_VIEWS) * (len(MFEAT_VIEWS) - 1)
        done = int((df[(df["family"] == "mfeat")]["representation"] == s.real_representations[0]).sum())
        per_rank = timing["families"]["mfeat"]["rank"] / max(1, len(s.mfeat_students))
        est = n_pairs * s.seeds * per + len(MFEAT_VIEWS) * per_rank
        tl.append(f"\n**Why a subset of mfeat.** Distillation cost {per:.1f} s per (teacher, seed) for the three "
                  f"methods here, and ranking {per_rank:.0f} s per student; all {n_pairs} ordered pairs with "
                  f"{s.seeds} seeds would take about {est / 60:.0f} min, against {done} pairs here. "
                  "`mor` (morphological, 6 features) and `zer` (Zernike moments) are the two weakest views, "
                  "the students for which a teacher is most plausibly useful; every other view teaches them.")
    parts.append("\n".join(tl) + "\n")
    if png:
        parts.append(f"\n![gain vs criterion on the synthetic families]({OUT_PNG.name})\n")
    parts.append("\n## Data\n\nOne row per (family, representation, student, teacher). CCH scores in nats with the "
                 "decision (+ helps, − hurts, ? inconclusive); gains with 95% intervals over seeds, `*` = significant."
                 "\n\n<details><summary>per-pair values</summary>\n\n" + md_table(detail_rows(df)) + "\n</details>\n")
    bad = [c for c in df.columns if c.endswith(":error")]
    errs = sorted({str(v) for c in bad for v in df[c] if v not in (None, "", float("nan")) and str(v) != "nan"})
    if errs:
        parts.append("\n## Errors\n\n" + "\n".join(f"- {e}" for e in errs) + "\n")
    _ = np
    write_atomic(OUT_MD, "".join(parts))


# ------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny settings (plumbing check)")
    ap.add_argument("--families", default=None, help="comma-separated subset of gaussian,gaussian-starved,mfh,mfeat,digits-avt")
    ap.add_argument("--jobs", type=int, default=1, help="parallel (teacher, seed) distillations (default 1)")
    ap.add_argument("--resume", action="store_true", help="reuse finished units from the cache of an earlier run")
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "cchkit-bench-prediction"))
    args = ap.parse_args(argv)

    logging.getLogger("cchkit").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="KSG in")
    warnings.filterwarnings("ignore", category=UserWarning, module="sklearn")
    import pandas as pd

    s = QUICK if args.quick else FULL
    if args.families:
        s = Settings(**{**asdict(s), "families": tuple(x.strip() for x in args.families.split(",") if x.strip())})
    started, load_start, t0 = now(), load_average(), time.perf_counter()
    tag = hashlib.sha1(json.dumps(asdict(s), sort_keys=True, default=str).encode()).hexdigest()[:10]
    cache = Path(args.cache) / f"{'quick' if args.quick else 'full'}-{tag}"
    cache.mkdir(parents=True, exist_ok=True)

    units = build_units(s)
    log(f"prediction: {len(units)} units ({'quick' if args.quick else 'full'}), cache {cache}")
    rows: list[dict[str, Any]] = []
    timing: dict[str, Any] = {"families": {}}
    done: dict[str, Any] = {}
    for i, u in enumerate(units):
        f = cache / f"{u.family}-{u.key}.pkl"
        if args.resume and f.exists():
            res = pickle.loads(f.read_bytes())
            log(f"[{i + 1}/{len(units)}] {u.family} {u.key}: from cache")
        else:
            reuse = done.get(u.rankings_from) if u.rankings_from else None
            with Stopwatch() as sw:
                res = run_unit(u, s, args.jobs, reuse)
            f.write_bytes(pickle.dumps(res))
            log(f"[{i + 1}/{len(units)}] {u.family} {u.key}: {sw.seconds:.0f} s "
                f"(rank {sum(res['rank_seconds'].values()):.0f} s, validate {res['validate_seconds']:.0f} s); "
                f"load {load_average()}")
        done[f"{u.family}/{u.key}"] = res
        rows.extend(unit_rows(u, res))
        tf = timing["families"].setdefault(u.family, {"units": 0, "rank": 0.0, "validate": 0.0, "runs": 0,
                                                      "run_seconds": 0.0, "teacher_seeds": 0})
        tf["units"] += 1
        tf["rank"] += sum(res["rank_seconds"].values())
        tf["validate"] += res["validate_seconds"]
        tf["runs"] += len(res["runs"])
        tf["teacher_seeds"] += len(res["runs"][["teacher", "seed"]].drop_duplicates())
    for tf in timing["families"].values():
        tf["per_teacher_seed"] = tf["validate"] / tf["teacher_seeds"] if tf["teacher_seeds"] else math.nan
    df = pd.DataFrame(rows)
    png = plot(df, OUT_PNG)
    write_report(df, s, args.quick, started, time.perf_counter() - t0, load_start, timing, png)
    log(f"prediction: wrote {OUT_MD} in {(time.perf_counter() - t0) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
