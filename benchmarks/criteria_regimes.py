"""Every registered criterion in every label regime, scored on the default (teacher-free) gains.

The few-label study (``benchmarks/few_labels.py``) measured, for 21 students of the bundled
corpus, the gain of each teacher over the best teacher-free student in five regimes (5 or 20
labels per class, teachers with the ``same`` labels or their ``own``; every label). This script
asks which criterion would have predicted those gains, with only the labels the user has:

1. **Signals.** For each student, label level (5, 20, every label) and each of the study's
   seeds, the seed's split (:func:`cchkit.fewlabels.plan_seed`, the one the gains were
   measured on) gives the student's labelled training rows. The bundle keeps those labels
   only (every other row of every modality unlabeled; the seed's test rows removed from every
   modality) and :func:`cchkit.rank_teachers` scores every real teacher; each registered
   criterion's signal is averaged over the seeds. No criterion reads a hidden label or a test
   row. Criteria read the student's labels, so ``same`` and ``own`` teachers share a signal.
2. **Scores per regime** (logit-kd, the paired method whose gains are largest): top-1 (the
   signal's first teacher has the best gain), median per-student Spearman, and decisions held
   out by bundle (``criteria_eval.leave_one_unit_out``: each abstention band fitted on the other
   bundles), against the constant rules.
3. **A default per regime, chosen held out**: for each bundle left out, the criterion with the
   best mean top-1 on the others (ties: mean Spearman); its top-1 on the left-out bundle is the
   procedure's record. The shipped choice and band, fitted on every bundle, go to
   ``cchkit/criteria/regime_records.json``, which ``rank`` reads for the regime its data are in.

Writes ``benchmarks/results/criteria_regimes.md``, ``criteria_regimes_signals.csv`` and
``cchkit/criteria/regime_records.json``. ``--reuse`` scores the saved signals again.

    python benchmarks/criteria_regimes.py [--reuse] [--only digits-avt]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, ROOT, header, load_average, log, md_table, now, write_atomic  # noqa: E402
from criteria_eval import decision_quality, fit_band, leave_one_unit_out, per_student, top1_stability  # noqa: E402

ROWS = RESULTS / "few_labels_rows.csv"
SIGNALS = RESULTS / "criteria_regimes_signals.csv"
OUT_MD = RESULTS / "criteria_regimes.md"
RECORD = ROOT / "cchkit" / "criteria" / "regime_records.json"
CONTROLS = ("noise", "copy")
#: label level of the study -> the regimes measured with it
LEVELS = {"L5": 5, "L20": 20, "all": None}
METHOD = "logit-kd"
CONSTANTS = {"always helps": 1.0, "always hurts": -1.0}


def masked(bundle: Any, student: str, plan: Any) -> Any:
    """The bundle as the user of this seed holds it: the student's labelled training rows keep
    their labels, every other row of every modality is unlabeled, and the seed's test rows
    are gone from every modality."""
    s = bundle[student]
    test_ids, kept_ids = s.ids[plan.test], s.ids[plan.labelled]
    mods = {}
    for name, m in bundle.modalities.items():
        keep = ~np.isin(m.ids, test_ids)
        labels = np.where(np.isin(m.ids, kept_ids), m.labels, -1)
        mods[name] = replace(m, data=m.data[keep], labels=labels[keep], ids=m.ids[keep])
    return replace(bundle, modalities=mods)


def student_signals(bundle: Any, student: str, teachers: list[str], level: int | None,
                    seeds: list[int]) -> pd.DataFrame | None:
    """Every registered criterion's signal per teacher, averaged over the seeds (None where the
    level cannot be drawn, as the study's validation refused it)."""
    import cchkit
    from cchkit.criteria import get_criterion, list_criteria
    from cchkit.fewlabels import LabelRegime, plan_seed

    per_seed = []
    for seed in seeds:
        try:
            plan = plan_seed(bundle[student].labels, bundle.classes, LabelRegime(labels_per_class=level), seed)
        except cchkit.exceptions.InputError:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                t = cchkit.rank_teachers(masked(bundle, student, plan), student, teachers, random_state=seed,
                                         progress=False).table
            except cchkit.exceptions.RankingFailedError as exc:  # too few labelled pairs: nothing to score
                t = exc.ranking.table
        t = t.set_index("teacher").loc[teachers].reset_index()
        ok = t["error"].isna().to_numpy()
        per_seed.append(pd.DataFrame({name: np.where(ok, get_criterion(name).signal(t).to_numpy(dtype=float), np.nan)
                                      for name in list_criteria()}, index=teachers))
    out = pd.concat(per_seed).groupby(level=0, sort=False).mean()
    return out.rename_axis("teacher").reset_index()


def measure(only: list[str] | None) -> pd.DataFrame:
    import cchkit
    from cchkit.validation.seeds import seed_pool

    seeds = seed_pool(5, 0, 0)[0]  # the study's seeds: validate_few_labels(seeds=5, random_state=0)
    frames = []
    for name in cchkit.datasets.list():
        if only and name not in only:
            continue
        bundle = cchkit.datasets.load(name)
        for student in bundle.names:
            teachers = [n for n in bundle.names if n != student]
            for level, lpc in LEVELS.items():
                t0 = time.perf_counter()
                sig = student_signals(bundle, student, teachers, lpc, seeds)
                if sig is None:
                    log(f"{name} {student} {level}: no split at this level")
                    continue
                frames.append(sig.assign(bundle=name, student=student, level=level))
                log(f"{name} {student} {level}: {time.perf_counter() - t0:.1f} s")
    return pd.concat(frames, ignore_index=True)


def regime_pairs(rows: pd.DataFrame, sig: pd.DataFrame, regime: str) -> pd.DataFrame:
    """The study's logit-kd gains of the real teachers in ``regime`` joined with the signals."""
    g = rows[(rows["regime"] == regime) & (rows["method"] == METHOD) & ~rows["teacher"].isin(CONTROLS)]
    level = regime.split("-")[0]
    p = g[["bundle", "student", "teacher", "gain", "significant", "helps", "gain_seeds"]].merge(
        sig[sig["level"] == level].drop(columns="level"), on=["bundle", "student", "teacher"], how="inner")
    p = p.assign(unit=p["bundle"], group=p["bundle"] + ":" + p["student"])
    for name, v in CONSTANTS.items():
        p[name] = v
    return p.reset_index(drop=True)


def students(pairs: pd.DataFrame, col: str) -> pd.DataFrame:
    """``criteria_eval.per_student`` with its columns even where no student has two scored teachers."""
    st = per_student(pairs, col)
    return st if len(st) else pd.DataFrame(columns=["group", "unit", "spearman", "top1", "regret"], dtype=float)


def _top1(pairs: pd.DataFrame, col: str) -> pd.DataFrame:
    """Per student with 2+ teachers: whether ``col``'s first teacher has the best gain, the
    chance of that, and Spearman (3+ teachers)."""
    st = students(pairs, col)
    n_teachers = pairs.groupby("group").size()
    return st.assign(chance=1.0 / st["group"].map(n_teachers).to_numpy())


def top1_ceiling(pairs: pd.DataFrame) -> tuple[float, int]:
    """The top-1 a criterion naming each student's true best teacher could expect against
    this noisy measurement (:func:`criteria_eval.top1_stability`, summed over the students
    with 2+ teachers), and that number of students."""
    total, n = 0.0, 0
    for _, t in pairs.groupby("group", sort=False):
        if len(t) < 2:
            continue
        seeds = np.array([json.loads(v) for v in t["gain_seeds"]], dtype=float)
        total, n = total + top1_stability(seeds), n + 1
    return total, n


def choose_by_top1(pairs: pd.DataFrame, cols: list[str]) -> tuple[str, float]:
    """The criterion with the best mean top-1 over these students (ties: mean Spearman, then name)."""
    def key(c: str) -> tuple[float, float, str]:
        st = students(pairs, c)
        return float(st["top1"].mean()), float(np.nan_to_num(st["spearman"].mean(), nan=-1.0)), c
    best = max(cols, key=key)
    return best, key(best)[0]


def held_out_choice(pairs: pd.DataFrame, cols: list[str]) -> tuple[pd.DataFrame, list[dict]]:
    """Leave one bundle out: the criterion chosen by top-1 on the others, scored on the left-out one."""
    held, chosen = [], []
    for u in dict.fromkeys(pairs["unit"]):
        rest, out = pairs[pairs["unit"] != u], pairs[pairs["unit"] == u]
        if rest.empty:
            continue
        best, score = choose_by_top1(rest, cols)
        st = students(out, best)
        held.append(st)
        chosen.append({"held out": u, "chosen on the rest": best, "top-1 on the rest": score,
                       "held-out top-1": f"{int(st['top1'].sum())}/{len(st)}"})
    return (pd.concat(held, ignore_index=True) if held else pd.DataFrame({"top1": []})), chosen


def criterion_rows(pairs: pd.DataFrame, cols: list[str], lobo: dict[str, Any]) -> list[dict]:
    gain, sig = pairs["gain"].to_numpy(dtype=float), pairs["significant"].to_numpy(dtype=bool)
    null = ~sig
    rows = []
    for c in cols:
        st = _top1(pairs, c)
        dec = lobo["held"][c] if c in lobo["held"] else np.where(pairs[c] > 0, "helps", "hurts").astype(object)
        q = decision_quality(dec, gain, sig)
        rows.append({"criterion": c, "students": len(st), "top-1": f"{int(st['top1'].sum())}/{len(st)}",
                     "chance": f"{st['chance'].sum():.1f}",
                     "median Spearman": float(st["spearman"].median()) if st["spearman"].notna().any() else None,
                     "held-out sign right (significant)": f"{int(round(q['sign'] * q['n_sig']))}/{q['n_sig']}",
                     "held-out 'inconclusive' on null gains": f"{int((dec[null] == 'inconclusive').sum())}/{int(null.sum())}",
                     "held-out not 'helps' on null gains": f"{int((dec[null] != 'helps').sum())}/{int(null.sum())}"})
    return rows


def held_out_spearman(held: pd.DataFrame) -> dict[str, Any]:
    """The median per-student Spearman of the criteria chosen held out, over the left-out
    students with 3+ teachers (None where there are none), and their number."""
    sp = held["spearman"].dropna() if "spearman" in held else pd.Series(dtype=float)
    return {"median_spearman": round(float(sp.median()), 3) if len(sp) else None, "n_spearman": int(len(sp))}


def regime_record(pairs: pd.DataFrame, registered: list[str], lobo: dict[str, Any], held_top1: pd.DataFrame) -> dict:
    """What ``rank`` reads for this regime: the default (top-1 on every bundle), each registered
    criterion's band fitted on every bundle, and its held-out figures."""
    gain, sig = pairs["gain"].to_numpy(dtype=float), pairs["significant"].to_numpy(dtype=bool)
    default, _ = choose_by_top1(pairs, registered)
    per = {}
    for c in registered:
        dec, st = lobo["held"][c], students(pairs, c)
        q = decision_quality(dec, gain, sig)
        band = fit_band(pairs[c].to_numpy(dtype=float), gain, sig)[0]
        per[c] = {"band": [float(v) if np.isfinite(v) else None for v in band],
                  "held_out_sign_right": int(round(q["sign"] * q["n_sig"])) if q["n_sig"] else 0,
                  "held_out_significant": q["n_sig"],
                  "held_out_committed": int(((dec != "inconclusive") & sig).sum()),
                  "held_out_null": q["n_null"],
                  "held_out_not_helps_null": int(((dec != "helps") & ~sig).sum()),
                  "top1_right": int(st["top1"].sum()), "n_students": int(len(st))}
    return {"method": METHOD, "units": sorted(set(pairs["unit"])), "default": default, "criteria": per,
            "default_procedure_held_out": {"top1_right": int(held_top1["top1"].sum()),
                                           "n_students": int(len(held_top1)), **held_out_spearman(held_top1)},
            "pairs": int(len(pairs)), "helped": int(pairs["helps"].sum())}


def _spearman_words(proc: dict[str, Any]) -> str:
    if not proc["n_spearman"]:
        return " (no left-out student has 3+ teachers, so no Spearman)"
    return f", median Spearman {proc['median_spearman']:.2f} over the {proc['n_spearman']} of them with 3+ teachers"


def analyse(sig: pd.DataFrame, started: str, seconds: float, load0: str) -> None:
    from cchkit.criteria import list_criteria

    rows = pd.read_csv(ROWS)
    for col in ("significant", "helps"):
        rows[col] = rows[col].astype(str).str.lower().eq("true")
    registered = [c for c in list_criteria() if c in sig.columns]
    cols = [*registered, *CONSTANTS]
    text = header("Criteria in every label regime, on the default (teacher-free) gains", started=started,
                  seconds=seconds, load_start=load0,
                  extra={"gains": f"{ROWS.name} (benchmarks/few_labels.py), {METHOD}, real teachers",
                         "signals": "one rank_teachers per (student, label level, seed) on the seed's labelled "
                                    "training rows only; averaged over the study's 5 seeds"})
    record: dict[str, Any] = {}
    for regime in dict.fromkeys(rows["regime"]):
        pairs = regime_pairs(rows, sig, regime)
        if pairs.empty:
            continue
        lobo = leave_one_unit_out(pairs, registered)
        held_top1, chosen = held_out_choice(pairs, registered)
        rec = regime_record(pairs, registered, lobo, held_top1)
        record[regime] = rec
        text += (f"\n## {regime}: {len(pairs)} pairs, {int(pairs['significant'].sum())} significant, "
                 f"{rec['helped']} help (beat their placebo too)\n\n" + md_table(criterion_rows(pairs, cols, lobo)))
        nested, null = lobo["nested"], ~pairs["significant"].to_numpy(dtype=bool)
        q = decision_quality(nested, pairs["gain"].to_numpy(dtype=float), ~null)
        text += (f"\nDecisions chosen held out (criterion and band by balanced score on the other bundles): right in "
                 f"sign on {int(round(q['sign'] * q['n_sig'])) if q['n_sig'] else 0}/{q['n_sig']} significant gains; on "
                 f"the {int(null.sum())} gains within noise, 'inconclusive' {int((nested[null] == 'inconclusive').sum())}, "
                 f"not 'helps' {int((nested[null] != 'helps').sum())}.\n")
        text += (f"\nThe default chosen held out (top-1 on the other bundles): top-1 "
                 f"{rec['default_procedure_held_out']['top1_right']}/{rec['default_procedure_held_out']['n_students']} "
                 f"on the left-out bundles{_spearman_words(rec['default_procedure_held_out'])}; chosen on every "
                 f"bundle: **{rec['default']}**.\n\n" + md_table(chosen))
        ceiling, n_st = top1_ceiling(pairs)
        rec["top1_ceiling"] = {"expected_top1": round(ceiling, 2), "n_students": n_st}
        text += (f"\nThe measurement's own ceiling: drawn again (a bootstrap over the seeds), each student's "
                 f"measured best teacher stays best with a probability whose sum is {ceiling:.1f} of {n_st}. A "
                 "criterion that always named the true best teacher could expect about that top-1 here; no "
                 "criterion's top-1 above it says more than noise.\n")
    write_atomic(OUT_MD, text)
    write_atomic(RECORD, json.dumps({"study": "benchmarks/results/criteria_regimes.md", "date": started,
                                     "gains": "teacher-free (benchmarks/few_labels.py)", "regimes": record},
                                    indent=2) + "\n")
    print(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reuse", action="store_true", help=f"score the signals in {SIGNALS.name} again")
    ap.add_argument("--only", nargs="*", help="bundles to measure (default: all)")
    args = ap.parse_args()
    started, load0, t0 = now(), load_average(), time.perf_counter()
    if args.reuse:
        sig = pd.read_csv(SIGNALS)
    else:
        sig = measure(args.only)
        sig.to_csv(SIGNALS, index=False)
    analyse(sig, started, time.perf_counter() - t0, load0)


if __name__ == "__main__":
    main()
