"""Which criterion predicts the KD gain over a tuned baseline? The criterion study.

1. **Corpus and gains** (:mod:`criteria_corpus`): six real bundles and their semi-synthetic
   twins (derived teachers with a known direction of effect), every ordered (teacher, student)
   pair, gains by :func:`cchkit.validate` over the stronger of a tuned MLP and a linear probe,
   5 seeds, class-align and logit-kd, full and starved (10 labels per class) regimes.
2. **Criteria**: one :func:`cchkit.rank_teachers` per student (defaults: gaussian on PCA), every
   registered criterion's signal (:meth:`cchkit.criteria.Criterion.signal`), the constant rules
   "always helps" / "always hurts", and a ridge combination of all signals fitted inside the
   leave-one-out loop.
3. **Scores** (:mod:`criteria_eval`): sign right on significant gains, abstention on gains within
   noise, per-student Spearman, top-1, regret, with bootstrap intervals.
4. **Default by leave one bundle out**: for each real bundle held out (with its twin), every
   signal's abstention band is fitted on the others; the default is chosen on the others too
   (nested), so its held-out figures are a track record, not a fit. The shipped default and band
   are then fitted on all units and written to ``cchkit/criteria/track_record.json``, which
   ``rank`` reads to say which criterion decided and how often it held out.

Usage::

    python benchmarks/criteria.py             # measure the gains (about an hour on 2 cores), then score
    python benchmarks/criteria.py --reuse     # score the gains in results/criteria_gains.csv

Writes ``benchmarks/results/criteria.md``, ``criteria_gains.csv``, ``criteria_signals.csv`` and
``cchkit/criteria/track_record.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import RESULTS, header, load_average, log, md_table, now, write_atomic  # noqa: E402
from criteria_corpus import GAINS_CSV, STARVED_PER_CLASS, corpus, measure_all  # noqa: E402
from criteria_eval import (  # noqa: E402
    boot_mean,
    boot_share,
    decision_quality,
    decisions,
    fit_band,
    fmt_ci,
    leave_one_unit_out,
    per_student,
)

OUT_MD = RESULTS / "criteria.md"
SIGNALS_CSV = RESULTS / "criteria_signals.csv"
TRACK = HERE.parent / "cchkit" / "criteria" / "track_record.json"
CONSTANTS = {"always helps": 1.0, "always hurts": -1.0, "always inconclusive": 0.0}
COMBO = "ridge combination (fitted per held-out bundle)"
PRIMARY = ("class-align", "full")


def signals(quick: bool) -> pd.DataFrame:
    """Every criterion's signal for every (group, teacher): one ranking per student."""
    import cchkit
    from cchkit.criteria import get_criterion, list_criteria

    rows = []
    by_student: dict[tuple[str, str], Any] = {}
    for g in corpus(quick):
        key = (g.unit if g.bundle_name != f"{g.unit}+split" else g.bundle_name, g.student)
        entry = by_student.setdefault(key, {"bundle": g.bundle, "teachers": [], "names": []})
        if len(g.bundle.names) > len(entry["bundle"].names):
            entry["bundle"] = g.bundle
        entry["teachers"] += g.teachers
        entry["names"] += [g.bundle_name] * len(g.teachers)
    for (unit, student), e in by_student.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = cchkit.rank_teachers(e["bundle"], student, candidates=e["teachers"], progress=False).table
        t = t.set_index("teacher").loc[e["teachers"]].reset_index()
        out = pd.DataFrame({"bundle": e["names"], "student": student, "teacher": e["teachers"]})
        for name in list_criteria():
            out[name] = get_criterion(name).signal(t).to_numpy()
        out["cch_decision"] = t["decision"].to_numpy()
        rows.append(out)
        log(f"signals {unit}:{student}: {len(e['teachers'])} teachers")
    return pd.concat(rows, ignore_index=True)


def pairs_of(gains: pd.DataFrame, sig: pd.DataFrame, method: str, regime: str) -> pd.DataFrame:
    g = gains[(gains["method"] == method) & (gains["regime"] == regime) & gains["tuned"].astype(bool)]
    keep = ["unit", "bundle", "student", "teacher", "kind", "gain", "gain_low", "gain_high", "significant"]
    p = g[keep].merge(sig, on=["bundle", "student", "teacher"], how="left")
    base = p["bundle"].str.replace("+derived", "", regex=False)
    p["group"] = base + ":" + p["student"]
    p["significant"] = p["significant"].astype(bool)
    for name, v in CONSTANTS.items():
        p[name] = v
    return p.reset_index(drop=True)


def ridge_held_out(pairs: pd.DataFrame, cols: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The combination's decisions on each unit, from a ridge fit and a band fitted on the other
    units only (standardised signals, missing values as the training mean)."""
    from sklearn.linear_model import RidgeCV

    gain, sig = pairs["gain"].to_numpy(dtype=float), pairs["significant"].to_numpy(dtype=bool)
    x = pairs[cols].to_numpy(dtype=float)
    dec = np.full(len(pairs), "inconclusive", dtype=object)
    score = np.full(len(pairs), np.nan)
    for u in dict.fromkeys(pairs["unit"]):
        out = (pairs["unit"] == u).to_numpy()
        mu = np.nanmean(x[~out], 0)
        sd = np.nanstd(x[~out], 0)
        sd[~(sd > 0)] = 1.0
        z = np.where(np.isfinite(x), (x - mu) / sd, 0.0)
        model = RidgeCV(alphas=np.logspace(-2, 3, 11)).fit(z[~out], gain[~out])
        band, _ = fit_band(model.predict(z[~out]), gain[~out], sig[~out])
        score[out] = model.predict(z[out])
        dec[out] = decisions(score[out], band)
    return dec, score


def headline(pairs: pd.DataFrame, cols: list[str], rng: np.random.Generator) -> tuple[list[dict], dict]:
    """One row per signal: natural rule, held-out band, Spearman, top-1, regret."""
    gain, sig = pairs["gain"].to_numpy(dtype=float), pairs["significant"].to_numpy(dtype=bool)
    lobo = leave_one_unit_out(pairs, [c for c in cols if c not in CONSTANTS])
    combo_dec, combo_score = ridge_held_out(pairs, [c for c in cols if c not in CONSTANTS])
    p2 = pairs.assign(**{COMBO: combo_score})
    rows = []
    for c in [*cols, COMBO]:
        natural = decisions(p2[c].to_numpy(dtype=float), (0.0, 0.0)) if c != COMBO else None
        held = combo_dec if c == COMBO else natural if c in CONSTANTS else lobo["held"][c]
        st = per_student(p2, c)
        q = boot_share(held, gain, sig, rng)
        rows.append({
            "criterion": c,
            "sign right, natural rule": fmt_ci(boot_share(natural, gain, sig, rng)["sign"], pct=True)
            if natural is not None else "–",
            "sign right, held-out band": fmt_ci(q["sign"], pct=True),
            "abstains on null, held-out band": fmt_ci(q["abstain_null"], pct=True),
            "Spearman per student": fmt_ci(boot_mean(st["spearman"].to_numpy(), rng)) if len(st) else "–",
            "top-1": fmt_ci(boot_mean(st["top1"].to_numpy(), rng), pct=True) if len(st) else "–",
            "regret": fmt_ci(boot_mean(st["regret"].to_numpy(), rng)) if len(st) else "–",
            "_balanced": decision_quality(held, gain, sig)["balanced"],
        })
    nested = decision_quality(lobo["nested"], gain, sig)
    return sorted(rows, key=lambda r: -r["_balanced"]), {"chosen": lobo["chosen"], "held": lobo["held"], "nested": nested,
                                                        "nested_ci": boot_share(lobo["nested"], gain, sig, rng)}


def corpus_table(gains: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    g = gains[gains["tuned"].astype(bool)]
    for (method, regime), t in g.groupby(["method", "regime"], sort=False):
        s = t[t["significant"].astype(bool)]
        rows.append({"method": method, "regime": regime, "bundles": t["bundle"].nunique(), "pairs": len(t),
                     "significant": len(s), "positive": int((s["gain"] > 0).sum()),
                     "negative": int((s["gain"] < 0).sum()),
                     "negative share": (s["gain"] < 0).mean() if len(s) else float("nan"),
                     "mean gain": t["gain"].mean()})
    return rows


def kind_table(gains: pd.DataFrame) -> list[dict[str, Any]]:
    g = gains[gains["tuned"].astype(bool)]
    rows = []
    for (method, regime, kind), t in g.groupby(["method", "regime", "kind"], sort=False):
        s = t[t["significant"].astype(bool)]
        rows.append({"method": method, "regime": regime, "teacher kind": kind, "pairs": len(t),
                     "mean gain": t["gain"].mean(), "significant +": int((s["gain"] > 0).sum()),
                     "significant -": int((s["gain"] < 0).sum())})
    return rows


def tuning_table(gains: pd.DataFrame) -> list[dict[str, Any]]:
    """Per real bundle and student (class-align, full): the no-KD MLP before and after tuning,
    the probe, and the mean gain and significant count before and after."""
    g = gains[(gains["method"] == "class-align") & (gains["regime"] == "full") & (gains["kind"] == "real")]
    rows = []
    for (bundle, student), t in g.groupby(["bundle", "student"], sort=False):
        before, after = t[~t["tuned"].astype(bool)], t[t["tuned"].astype(bool)]
        if before.empty or after.empty:
            continue
        rows.append({"bundle": bundle, "student": student, "no-KD MLP untuned": before["acc_none"].mean(),
                     "no-KD MLP tuned": after["acc_none"].mean(), "linear probe": after["acc_probe"].mean(),
                     "mean gain before": before["gain"].mean(), "mean gain after": after["gain"].mean(),
                     "significant before (+/-)": f"{int((before['significant'] & (before['gain'] > 0)).sum())}/"
                                                 f"{int((before['significant'] & (before['gain'] < 0)).sum())}",
                     "significant after (+/-)": f"{int((after['significant'] & (after['gain'] > 0)).sum())}/"
                                                f"{int((after['significant'] & (after['gain'] < 0)).sum())}"})
    return rows


def track_record(pairs: pd.DataFrame, cols: list[str], lobo: dict[str, Any]) -> dict[str, Any]:
    """The shipped default: the registered criterion whose held-out decisions (band fitted on the
    other bundles) score best, its band refitted on all units, and every criterion's held-out
    figures (right sign, how often it committed on significant gains, abstention on null gains)."""
    from cchkit.criteria import list_criteria

    gain, sig = pairs["gain"].to_numpy(dtype=float), pairs["significant"].to_numpy(dtype=bool)
    registered = [c for c in cols if c in list_criteria()]
    held = lobo["held"]  # the headline's leave-one-out, every registered criterion among its signals
    per, score = {}, {}
    for c in registered:
        q = decision_quality(held[c], gain, sig)
        committed = int(((held[c] != "inconclusive") & sig).sum())
        band = fit_band(pairs[c].to_numpy(dtype=float), gain, sig)[0]
        per[c] = {"band": [v if np.isfinite(v) else None for v in band],
                  "held_out_sign_right": int(round(q["sign"] * q["n_sig"])), "held_out_significant": q["n_sig"],
                  "held_out_committed": committed, "held_out_abstain_null": q["abstain_null"],
                  "held_out_null": q["n_null"], "held_out_balanced": q["balanced"]}
        score[c] = q["balanced"]
    default = max(registered, key=lambda c: score[c])
    nested = lobo["nested"]
    return {"study": "benchmarks/results/criteria.md", "date": now(), "method": PRIMARY[0], "regime": PRIMARY[1],
            "units": sorted(set(pairs["unit"])), "default": default, "criteria": per,
            "default_procedure_held_out": {"sign_right": int(round(nested["sign"] * nested["n_sig"])),
                                           "significant": nested["n_sig"], "abstain_null": nested["abstain_null"],
                                           "null": nested["n_null"]}}


def report(gains: pd.DataFrame, sig: pd.DataFrame, rng: np.random.Generator) -> tuple[str, dict[str, Any]]:
    from cchkit.criteria import list_criteria

    cols = [*list_criteria(), *CONSTANTS]
    text = "\n## Corpus (gains over the tuned baseline)\n\n" + md_table(corpus_table(gains))
    text += "\n## Gains by teacher kind\n\n" + md_table(kind_table(gains))
    text += ("\n## The baseline before and after tuning (class-align, full regime, real teachers)\n\n"
             + md_table(tuning_table(gains)))
    record: dict[str, Any] = {}
    for method, regime in [PRIMARY, ("class-align", "starved"), ("logit-kd", "full"), ("logit-kd", "starved")]:
        pairs = pairs_of(gains, sig, method, regime)
        if pairs.empty:
            continue
        rows, lobo = headline(pairs, cols, rng)
        text += f"\n## {method}, {regime} regime: {len(pairs)} pairs, {int(pairs['significant'].sum())} significant\n\n"
        text += md_table([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows])
        n = lobo["nested"]
        ci = lobo["nested_ci"]
        text += (f"\nThe default chosen inside the loop (nested leave-one-bundle-out): sign right on "
                 f"{fmt_ci(ci['sign'], pct=True)} of {n['n_sig']} significant gains; abstains on "
                 f"{fmt_ci(ci['abstain_null'], pct=True)} of {n['n_null']} gains within noise.\n\n")
        text += md_table([{k: (f"({v[0]:+.4g}, {v[1]:+.4g})" if k == "band" else v) for k, v in r.items()}
                          for r in lobo["chosen"]])
        if (method, regime) == PRIMARY:
            record = track_record(pairs, cols, lobo)
    return text, record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="digits-avt and its twins only (plumbing check)")
    ap.add_argument("--reuse", action="store_true", help=f"score the gains in {GAINS_CSV.name} instead of measuring")
    args = ap.parse_args()
    started, load0, t0 = now(), load_average(), time.perf_counter()
    if args.reuse:
        gains = pd.read_csv(GAINS_CSV)
    else:
        gains = measure_all(corpus(args.quick))
        if not args.quick:
            gains.to_csv(GAINS_CSV, index=False)
    sig = signals(args.quick)
    if not args.quick:
        sig.to_csv(SIGNALS_CSV, index=False)
    text, record = report(gains, sig, np.random.default_rng(0))
    seconds = time.perf_counter() - t0
    title = ("QUICK (plumbing check only): " if args.quick else "") + "Criteria against KD gains over tuned baselines"
    head = header(title, started=started, seconds=seconds, load_start=load0, extra={
        "gains": ("cchkit.validate defaults (tuned no-KD MLP and KD students; gain over the stronger of the MLP and "
                  f"a tuned linear probe), 5 seeds; regimes full (70/30) and starved ({STARVED_PER_CLASS} labels per "
                  "class); significant = 95% t-interval over seeds excludes 0"
                  + (f"; gains read from {GAINS_CSV.name} (--reuse)" if args.reuse else "")),
        "decision scores": ("sign right = share of significant gains whose sign the decision gets (inconclusive "
                            "counts as not right); abstains on null = share of gains within noise answered "
                            "'inconclusive'; bands fitted to the mean of the two on the other bundles")})
    if not args.quick:
        write_atomic(OUT_MD, head + text)
        from cchkit.criteria.track_record import check_track_record

        check_track_record(json.loads(json.dumps(record, default=float)), str(TRACK))  # the reader's own checks
        TRACK.write_text(json.dumps(record, indent=1, default=float) + "\n")
    else:
        print(head + text)
    log(f"criteria study done in {seconds / 60:.1f} min")


if __name__ == "__main__":
    main()
