"""Where teachers matter: the few-label validation over every bundled student (issue #34).

For each bundled dataset, each student modality and each label regime (5 or 20 labels per
class, teachers with the ``same`` labels or their ``own``; every label), runs the few-label validation
(:func:`cchkit.fewlabels.validate_few_labels`, 5 seeds) with every other modality as a
candidate plus two controls: ``noise`` (16 columns of Gaussian noise, paired with the
student) and, with same-label teachers, ``copy`` (the student's own features: with its own
labels a copy is a label-rich teacher, not a control). Then:

* the gains of the real teachers (significant + / -, median, 90th percentile, the spread
  between the best and worst teacher of a student), as in the issue's table;
* the controls: how often the noise and copy teachers get a significant positive gain, and
  how often the advice names them (Wilson intervals);
* the criterion: how often ``teacher_cv_accuracy``'s first teacher is the best measured one,
  against chance, and its helps/hurts rule against "always helps" on significant gains
  (the criterion has no fitted parameter, so this record is already out of sample);
* the unpaired default (class-align) against paired logit-kd, with label-rich teachers;
* the teacher-free supervised student against a reference written apart (scikit-learn's
  LogisticRegression, C chosen by the same folds), on the same rows.

Rows are saved per (student, regime) run and kept: a run repeated after a change of the
measurement replaces its rows only when they are removed first (the table of teachers says
which teacher models the rows had).

Writes ``benchmarks/results/few_labels.md``, ``few_labels_rows.csv`` and the regime record
``cchkit/fewlabels/track_record.json``. ``--reuse`` analyses the saved rows again.

    python benchmarks/few_labels.py [--seeds 5] [--reuse] [--only digits-avt] [--regimes all-same] [--variant NAME] [--n-jobs 2]

``--variant NAME`` measures a changed setting without touching the shipped results: its rows go
to ``few_labels_NAME_rows.csv`` and its analysis to ``few_labels_NAME.md``;
``few_labels_compare.py`` pairs them with the shipped rows.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, ROOT, header, load_average, log, md_table, now, write_atomic  # noqa: E402

SHIPPED_ROWS = RESULTS / "few_labels_rows.csv"
#: the rows this run reads and appends to: the shipped ones, or a variant's (--variant)
ROWS = SHIPPED_ROWS
REFERENCE = RESULTS / "few_labels_reference.csv"
RECORD = ROOT / "cchkit" / "fewlabels" / "track_record.json"
#: (key, labels per class or None for every label, teacher labels). With every label a paired
#: teacher's "own" labels are the student's ("same"), so one regime covers both.
REGIMES = [("L5-same", 5, "same"), ("L5-own", 5, "own"), ("L20-same", 20, "same"), ("L20-own", 20, "own"),
           ("all-same", None, "same")]
CONTROLS = ("noise", "copy")


def with_controls(bundle, student: str):
    """The bundle plus a noise teacher and a copy of the student, both paired with the student."""
    from dataclasses import replace

    from cchkit import ModalityBundle

    s = bundle[student]
    rng = np.random.default_rng(zlib.crc32(f"{bundle.name}/{student}".encode()))
    mods = {n: m for n, m in bundle.modalities.items() if n not in CONTROLS}
    mods["noise"] = replace(s, name="noise", data=rng.normal(size=(s.n, 16)), description="control: noise")
    mods["copy"] = replace(s, name="copy", description="control: the student's own features")
    return ModalityBundle(modalities=mods, classes=bundle.classes, name=bundle.name)


def reference_accuracy(bundle, student: str, regime, seeds: list[int]) -> list[float]:
    """scikit-learn's LogisticRegression on the labelled rows of each seed's plan, C chosen by
    the plan's folds (the reference the supervised student is compared with)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from cchkit.fewlabels import plan_seed

    s = bundle[student]
    out = []
    for seed in seeds:
        p = plan_seed(s.labels, bundle.classes, regime, seed)
        scaler = StandardScaler().fit(s.data[np.concatenate([p.labelled, p.unlabeled])])
        x, y = scaler.transform(s.data), s.labels
        best, best_c = -1.0, 1.0
        for c in (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0):
            accs = []
            for f in range(p.n_folds):
                tr = p.fold_train(f)
                m = LogisticRegression(C=c, max_iter=2000).fit(x[tr], y[tr])
                accs.append(float((m.predict(x[p.folds[f]]) == y[p.folds[f]]).mean()))
            if np.mean(accs) > best:
                best, best_c = float(np.mean(accs)), c
        m = LogisticRegression(C=best_c, max_iter=2000).fit(x[p.labelled], y[p.labelled])
        out.append(float((m.predict(x[p.test]) == y[p.test]).mean()))
    return out


def run_corpus(seeds: int, only: list[str] | None, regimes: list[str] | None, n_jobs: int = 1) -> None:
    """Run every (bundle, student, regime) not yet in :data:`ROWS`, appending its rows."""
    import cchkit
    from cchkit.fewlabels import LabelRegime, validate_few_labels

    done = pd.read_csv(ROWS) if ROWS.exists() else pd.DataFrame(columns=["bundle", "student", "regime"])
    seen = set(zip(done["bundle"], done["student"], done["regime"]))
    # mfeat (six modalities: the costliest runs) last, so that a cut-short run still covers the rest
    names = sorted(cchkit.datasets.list(), key=lambda n: n == "mfeat")
    for name in names:
        if only and name not in only:
            continue
        base = cchkit.datasets.load(name)
        for student in base.names:
            bundle = with_controls(base, student)
            for key, lpc, mode in REGIMES:
                if (name, student, key) in seen or (regimes and key not in regimes):
                    continue
                # a copy of the student with its own labels is a label-rich teacher, not a control
                cands = [n for n in base.names if n != student] + [c for c in CONTROLS if mode == "same" or c != "copy"]
                regime = LabelRegime(labels_per_class=lpc, teacher_labels=mode)
                t0 = time.perf_counter()
                try:
                    rep = validate_few_labels(bundle, student, cands, regime=regime, seeds=seeds, progress=False,
                                              n_jobs=n_jobs)
                except cchkit.exceptions.CchkitError as exc:
                    log(f"{name} {student} {key}: refused ({exc})")
                    continue
                secs = time.perf_counter() - t0
                t = rep.table.assign(bundle=name, regime=key, seconds=secs, verdict=rep.summary["verdict"]["text"],
                                     advised=",".join(rep.summary["verdict"]["teachers"]),
                                     n_unlabeled=rep.summary["n_unlabeled"])
                t["gain_seeds"] = t["gain_seeds"].map(json.dumps)
                b = rep.baselines.set_index("student")["acc"]
                t["acc_supervised"] = float(b["supervised"])
                t["acc_best_free"] = float(b["best teacher-free"])
                ref = reference_accuracy(bundle, student, regime, rep.summary["seeds"])
                t["acc_reference"] = float(np.mean(ref))
                append_rows(t)
                log(f"{name} {student} {key}: {secs:.0f} s; {rep.summary['verdict']['text'][:150]}")


def append_rows(t: pd.DataFrame) -> None:
    """Append a run's rows to :data:`ROWS`; where the report has gained a column since the file
    was started, the file is rewritten with it (empty in the older rows), never misaligned."""
    if ROWS.exists():
        old = pd.read_csv(ROWS, nrows=0)
        if list(old.columns) != list(t.columns):
            write_atomic(ROWS, pd.concat([pd.read_csv(ROWS), t], ignore_index=True).to_csv(index=False))
            return
    t.to_csv(ROWS, mode="a", header=not ROWS.exists(), index=False)


def wilson(k: int, n: int) -> str:
    from cchkit._stats import wilson_interval

    if n == 0:
        return "–"
    lo, hi = wilson_interval(k, n)
    return f"{k}/{n} = {k / n:.0%} [{lo:.0%}, {hi:.0%}]"


def gains_table(rows: pd.DataFrame) -> list[dict]:
    out = []
    real = rows[~rows["teacher"].isin(CONTROLS)]
    for (key, method), g in real.groupby(["regime", "method"], sort=False):
        spread = g.groupby(["bundle", "student"])["gain"].agg(lambda v: v.max() - v.min() if len(v) > 1 else np.nan)
        out.append({"regime": key, "method": method, "pairs": len(g),
                    "significant + / −": f"{int((g.significant & (g.gain > 0)).sum())} / "
                                         f"{int((g.significant & (g.gain < 0)).sum())}",
                    "helps (beats placebo too)": int(g["helps"].sum()),
                    "median gain": float(g["gain"].median()), "90th percentile": float(g["gain"].quantile(0.9)),
                    "best − worst teacher (median)": float(spread.median())})
    return out


def _control_row(regime: str, control: str, g: pd.DataFrame) -> dict:
    """Significant positive gains of the control rows ``g`` and how often a control was advised
    (a draw: one (regime, student, control) run)."""
    draws = g.drop_duplicates(["regime", "bundle", "student", "teacher"])
    advised = int(sum(t in str(a).split(",") for t, a in zip(draws["teacher"], draws["advised"].fillna(""))))
    sig = int((g.significant & (g.gain > 0)).sum())
    return {"regime": regime, "control": control, "significant positive gains (all methods)": wilson(sig, len(g)),
            "advised": wilson(advised, len(draws))}


def controls_table(rows: pd.DataFrame) -> list[dict]:
    """Per regime and control, then every regime together: per control and both controls."""
    ctrl = rows[rows["teacher"].isin(CONTROLS)]
    out = [_control_row(key, teacher, g) for (key, teacher), g in ctrl.groupby(["regime", "teacher"], sort=False)]
    out += [_control_row("every regime", teacher, g) for teacher, g in ctrl.groupby("teacher", sort=False)]
    return out + [_control_row("every regime", " and ".join(CONTROLS), ctrl)]


def top1_credit(signal: np.ndarray, gain: np.ndarray) -> float:
    """1/k when the teacher with the best gain is among the k teachers tied at the signal's
    maximum (within 1e-6: accuracies averaged in float32 differ in their last bits), else 0: a
    tie is not won by the order of a table."""
    tied = np.flatnonzero(signal >= signal.max() - 1e-6)
    return float(np.argmax(gain) in tied) / tied.size


def criterion_table(rows: pd.DataFrame) -> tuple[list[dict], dict]:
    out, record = [], {}
    real = rows[~rows["teacher"].isin(CONTROLS)]
    for key, g in real.groupby("regime", sort=False):
        method = "logit-kd" if (g["method"] == "logit-kd").any() else "class-align"
        g = g[g["method"] == method]
        top_right, chance, n_students, rhos = 0, 0.0, 0, []
        for _, s in g.groupby(["bundle", "student"]):
            if len(s) < 2:
                continue
            n_students += 1
            top_right += top1_credit(s["teacher_cv_accuracy"].to_numpy(float), s["gain"].to_numpy(float))
            chance += 1 / len(s)
            if len(s) >= 3:
                from scipy.stats import spearmanr

                rhos.append(float(spearmanr(s["teacher_cv_accuracy"], s["gain"]).statistic))
        sig = g[g["significant"]]
        rule_right = int(((sig["prediction"] == "helps") == (sig["gain"] > 0)).sum())
        always_right = int((sig["gain"] > 0).sum())
        out.append({"regime": key, "method": method, "students": n_students,
                    "teacher_cv_accuracy top-1": f"{top_right:g}/{n_students}",
                    "chance top-1": f"{chance:.1f}/{n_students}",
                    "median Spearman (students with ≥ 3 teachers)": float(np.median(rhos)) if rhos else None,
                    "rule sign right (significant gains)": f"{rule_right}/{len(sig)}",
                    "'always helps' sign right": f"{always_right}/{len(sig)}"})
        record[key] = {"top1_right": round(float(top_right), 2), "n_students": n_students, "n_bundles": int(g["bundle"].nunique()),
                       "always_helps_right": always_right, "n_pairs": int(len(sig)), "method": method}
    return out, record


def unpaired_table(rows: pd.DataFrame) -> list[dict]:
    out = []
    real = rows[~rows["teacher"].isin(CONTROLS)]
    for key, g in real.groupby("regime", sort=False):
        wide = g.pivot_table(index=["bundle", "student", "teacher"], columns="method", values="gain")
        if not {"logit-kd", "class-align"} <= set(wide.columns):
            continue
        pos = wide[wide["logit-kd"] > 0.01]
        ratio = (pos["class-align"] / pos["logit-kd"]).median() if len(pos) else math.nan
        out.append({"regime": key, "pairs with a paired gain > 0.01": len(pos),
                    "median class-align / logit-kd": float(ratio),
                    "median class-align gain": float(wide["class-align"].median()),
                    "median logit-kd gain": float(wide["logit-kd"].median())})
    return out


def room_table(rows: pd.DataFrame) -> list[dict]:
    """Per regime, how much of what every label would give the paired teacher gives: the *room* of
    a student is the all-label regime's best teacher-free accuracy minus the regime's (paired by
    student); a pair's share is its logit-kd gain over that room."""
    real = rows[~rows["teacher"].isin(CONTROLS) & (rows["method"] == "logit-kd")]
    every = real[real["regime"] == "all-same"].groupby(["bundle", "student"])["acc_baseline"].first()
    out = []
    for key, g in real[real["regime"] != "all-same"].groupby("regime", sort=False):
        full = pd.Series([every.get((b, s), np.nan) for b, s in zip(g["bundle"], g["student"])], index=g.index)
        room = full - g["acc_baseline"]
        ok = room.notna() & (room > 0.01)
        if not ok.any():
            continue
        out.append({"regime": key, "pairs": int(ok.sum()), "median room (every label − baseline)": float(room[ok].median()),
                    "median gain": float(g["gain"][ok].median()), "median share of the room": float((g["gain"] / room)[ok].median()),
                    "pairs within 0.01 of every label": int((g["acc"][ok] >= full[ok] - 0.01).sum())})
    return out


def baseline_table(rows: pd.DataFrame) -> list[dict]:
    """Per student and label count (the teacher-free students do not depend on the teachers' labels)."""
    rows = rows.assign(labels=rows["regime"].str.split("-").str[0])
    per = rows.drop_duplicates(["bundle", "student", "labels"])
    out = []
    for r in per.itertuples():
        out.append({"bundle": r.bundle, "student": r.student, "labels": r.labels,
                    "supervised (cchkit)": r.acc_supervised, "best teacher-free": r.acc_best_free,
                    "reference (sklearn LR)": r.acc_reference, "supervised − reference": r.acc_supervised - r.acc_reference,
                    "best teacher-free − reference": r.acc_best_free - r.acc_reference})
    return out


def teacher_table(rows: pd.DataFrame) -> list[dict]:
    """Per regime, how many real (student, teacher) pairs had each teacher model (``not recorded``:
    a row saved before the report had the column)."""
    real = rows[~rows["teacher"].isin(CONTROLS)].drop_duplicates(["bundle", "student", "teacher", "regime"])
    model = real["teacher_model"] if "teacher_model" in real else pd.Series(np.nan, index=real.index)
    model = model.fillna("not recorded")
    out = []
    for key, _, _ in REGIMES:
        counts = model[real["regime"] == key].value_counts()
        if len(counts):
            out.append({"regime": key, "pairs": int(counts.sum()),
                        "teacher model: pairs": "; ".join(f"{k} {v}" for k, v in counts.items())})
    return out


def analyse(started: str, seconds: float, load_start: str) -> None:
    rows = pd.read_csv(ROWS)
    for col in ("significant", "helps", "beats_placebo"):
        rows[col] = rows[col].astype(str).str.lower().eq("true")
    crit, record = criterion_table(rows)
    base = baseline_table(rows)
    within = sum(abs(b["supervised − reference"]) <= 0.01 for b in base)
    not_below = sum(b["best teacher-free − reference"] >= -0.01 for b in base)
    runs = rows.drop_duplicates(["bundle", "student", "regime"])
    variant = ROWS.name.removeprefix("few_labels_").removesuffix("_rows.csv")
    title = "Few labels: where teachers matter" + ("" if ROWS == SHIPPED_ROWS else f" (the {variant} variant)")
    text = header(title, started=started, seconds=seconds, load_start=load_start,
                  extra={"runs": f"{len(runs)} (student, regime) runs, {runs['seconds'].sum() / 60:.0f} min of validation "
                                 "(with --reuse this file re-reads them: the date above is the analysis')",
                         "corpus": f"{rows['bundle'].nunique()} bundles, {runs[['bundle', 'student']].drop_duplicates().shape[0]} "
                                   f"students, every other modality as a teacher plus the noise and copy controls; "
                                   "5 seeds per run; gains over the best teacher-free student"})
    text += "\n## Gains of the real teachers\n\n" + md_table(gains_table(rows))
    text += ("\n## The teachers\n\nEach teacher's family is chosen per seed by cross-validation on its own training "
             "rows among `cchkit.fewlabels.teachers.TEACHER_FAMILIES` (the softmax regression alone by default); "
             "`mlp (k of 5 seeds)` means the choice differed between seeds.\n\n" + md_table(teacher_table(rows)))
    text += "\n## Controls: a noise teacher and a copy of the student\n\n" + md_table(controls_table(rows))
    text += ("\n## Does teacher_cv_accuracy pick the best teacher?\n\n"
             "The criterion has no fitted parameter: every student is out of sample.\n\n" + md_table(crit))
    text += "\n## The unpaired default against paired KD\n\n" + md_table(unpaired_table(rows))
    text += ("\n## How much of what every label would give the teacher gives\n\nA student's room is what labelling "
             "every training row would add (the all-label run's best teacher-free accuracy minus the regime's); pairs "
             "with a room above 0.01. In an `own` regime on these fully paired bundles the labels of the student's "
             "unlabeled rows are held by the teacher modality: copying them across the pairs would give the whole "
             "room, which is why the teacher is cross-fitted (`OWN_CROSS_FIT`): its target on a sample never comes "
             "from that sample's label.\n\n" + md_table(room_table(rows)))
    text += (f"\n## The teacher-free students against a reference written apart\n\nThe supervised student is within "
             f"0.01 of scikit-learn's LogisticRegression (C chosen on the same folds or validation split) on {within} of "
             f"{len(base)} (student, label count) rows; the best teacher-free student, the baseline every gain is "
             f"measured over, is at most 0.01 below it on {not_below} of {len(base)}.\n\n" + md_table(base))
    text += (f"\n## Time\n\nmedian {runs['seconds'].median():.0f} s per (student, regime) run, "
             f"{runs['seconds'].sum() / 60:.0f} min in all.\n")
    write_atomic(ROWS.with_name(ROWS.name.replace("_rows.csv", ".md")), text)
    if ROWS == SHIPPED_ROWS:  # a variant's study does not write the shipped record
        write_atomic(RECORD, json.dumps({"written_by": "benchmarks/few_labels.py", "date": started,
                                         "regimes": record}, indent=2) + "\n")
    print(text)


def start_variant(name: str, regimes: list[str] | None) -> None:
    """Point :data:`ROWS` at the variant's file; a new variant starts from the shipped rows of the
    regimes it does not run, so that its analysis compares like with like."""
    global ROWS
    ROWS = RESULTS / f"few_labels_{name}_rows.csv"
    if not ROWS.exists():
        rows = pd.read_csv(SHIPPED_ROWS)
        write_atomic(ROWS, rows[~rows["regime"].isin(regimes or [k for k, _, _ in REGIMES])].to_csv(index=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--reuse", action="store_true", help="analyse the saved rows only")
    ap.add_argument("--n-jobs", type=int, default=1, help="processes for each validation's seeds (the rows do not "
                    "depend on it; their 'seconds' do)")
    ap.add_argument("--only", nargs="*", help="bundled datasets to run (default: all)")
    ap.add_argument("--regimes", nargs="*", choices=[k for k, _, _ in REGIMES], help="regimes to run (default: all)")
    ap.add_argument("--variant", help="a variant of the measurement: its rows go to few_labels_VARIANT_rows.csv "
                    "(started from the shipped rows less the --regimes it runs) and its analysis to "
                    "few_labels_VARIANT.md; the shipped rows and track record are left alone")
    args = ap.parse_args()
    if args.variant:
        start_variant(args.variant, args.regimes)
    started, load_start, t0 = now(), load_average(), time.perf_counter()
    if not args.reuse:
        run_corpus(args.seeds, args.only, args.regimes, args.n_jobs)
    analyse(started, time.perf_counter() - t0, load_start)


if __name__ == "__main__":
    main()
