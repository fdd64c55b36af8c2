"""Does the validation validate? Measured KD gains of every distiller, with intervals, in one run.

For every (student, teacher) pair below and two splits -- ``full`` (the student trains on 70% of
its samples) and ``starved`` (10 labelled samples per class; the teacher keeps its own full
split) -- each method is run with 5 seeds by :func:`cchkit.distill.distill` (same seed: same
split, validation split, initialisation, batch order and number of steps for every method), and
the per-seed paired gain ``acc(method) - acc(none)`` is summarised by its mean and 95%
t-interval. Methods:

* ``class-align`` (default of ``cchkit validate``; unpaired): CE + T^2 KL(q_T(.|y) || p_S);
* ``re-paired`` (unpaired): ``class-align`` with ``class_targets="sample"``, i.e. logit KD from a
  teacher sample of the same class drawn at random (pairs re-drawn within class);
* ``ucmkd`` (unpaired, the public code's bilevel loop), ``align`` (unpaired, single level);
* ``logit-kd`` (paired, Hinton).

Pairs: mfeat students ``mor``, ``zer``, ``kar`` with every other view as teacher (15);
digits-avt ``audio`` <- ``image``, ``text`` (2); the synthetic ``complementary_teachers_bundle``
(student <- shared, label_only, noise) and ``mfh_sweep`` (gamma 0, 0.4, 1).

Usage::

    python benchmarks/distill.py             # the full run (about 15 min on 2 cores)
    python benchmarks/distill.py --quick     # 2 pairs, 3 seeds: checks the plumbing

Writes ``benchmarks/results/distill.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _common import RESULTS, header, load_average, log, md_table, now, write_atomic  # noqa: E402

OUT_MD = RESULTS / "distill.md"
METHODS: dict[str, dict[str, Any]] = {
    "class-align": {"method": "class-align"},
    "re-paired": {"method": "class-align", "class_targets": "sample"},
    "ucmkd": {"method": "ucmkd"},
    "align": {"method": "align"},
    "logit-kd": {"method": "logit-kd"},
}
STARVED_PER_CLASS = 10


def _pairs(quick: bool) -> list[tuple[str, Any, str, str]]:
    """(family, bundle, student, teacher) for every pair of the study."""
    import cchkit
    from cchkit.datasets import synthetic as syn

    out: list[tuple[str, Any, str, str]] = []
    mfeat = cchkit.load_bundle("mfeat")
    students = ["mor"] if quick else ["mor", "zer", "kar"]
    for s in students:
        for t in mfeat.names:
            if t != s and not (quick and t not in ("fac",)):
                out.append(("mfeat", mfeat, s, t))
    avt = cchkit.load_bundle("digits-avt")
    for t in ["image"] if quick else ["image", "text"]:
        out.append(("digits-avt", avt, "audio", t))
    if quick:
        return out
    comp = syn.complementary_teachers_bundle(n=2000, random_state=0).bundle
    for t in ("shared", "label_only", "noise"):
        out.append(("synthetic: complementary", comp, "student", t))
    for sb in syn.mfh_sweep(gammas=(0.0, 0.4, 1.0), n=2000, random_state=0):
        out.append((f"synthetic: mfh gamma={sb.params['gamma']}", sb.bundle, "student", "teacher"))
    return out


def _unit(family: str, bundle: Any, student: str, teacher: str, split: str, seed: int,
          methods: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Every method of ``methods`` (default :data:`METHODS`) for one (pair, split, seed); no KD first."""
    from cchkit.distill import distill

    train_size = STARVED_PER_CLASS * bundle.n_classes if split == "starved" else None
    rows = []
    for name, kw in {"none": {"method": "none"}, **(METHODS if methods is None else methods)}.items():
        t0 = time.perf_counter()
        r = distill(bundle, student, teacher, random_state=seed, train_size=train_size, device="cpu", **kw)
        rows.append(dict(family=family, student=student, teacher=teacher, split=split, seed=seed, method=name,
                         accuracy=r.accuracy, teacher_net_accuracy=r.teacher_net_accuracy, seconds=time.perf_counter() - t0,
                         n_train=r.n_train, n_val=r.n_val, n_test=r.n_test, n_teacher_train=r.n_teacher_train))
    return rows


def _summary(runs: Any) -> Any:
    """One row per (pair, split, method): mean gain, t-interval, significance, seconds per seed."""
    import numpy as np
    import pandas as pd

    from cchkit.validation.validate import is_significant, t_interval

    keys = ["family", "student", "teacher", "split"]
    base = runs[runs["method"] == "none"].set_index(keys + ["seed"])["accuracy"]
    out = []
    for (fam, s, t, split, m), g in runs[runs["method"] != "none"].groupby(keys + ["method"], sort=False):
        acc = g.set_index(keys + ["seed"])["accuracy"]
        gains = (acc - base.reindex(acc.index)).to_numpy(dtype=float)
        mean, lo, hi = t_interval(gains)
        out.append(dict(family=fam, student=s, teacher=t, split=split, method=m, gain=mean, low=lo, high=hi,
                        significant=is_significant(lo, hi, int(np.isfinite(gains).sum())),
                        seconds=float(g["seconds"].mean())))
    return pd.DataFrame(out)


def _wide(summary: Any, runs: Any, split: str) -> list[dict[str, Any]]:
    rows = []
    none = runs[(runs["method"] == "none") & (runs["split"] == split)]
    for (fam, s, t), g in summary[summary["split"] == split].groupby(["family", "student", "teacher"], sort=False):
        nb = none[(none["family"] == fam) & (none["student"] == s) & (none["teacher"] == t)]
        row: dict[str, Any] = {"family": fam, "pair": f"{s} <- {t}", "no KD": float(nb["accuracy"].mean()),
                               "teacher acc": float(nb["teacher_accuracy_on_h"].mean())}
        for r in g.itertuples(index=False):
            row[r.method] = f"{r.gain:+.3f} [{r.low:+.3f}, {r.high:+.3f}]" + (" *" if r.significant else "")
        row["s per seed (all methods)"] = float(runs[(runs["family"] == fam) & (runs["student"] == s) & (runs["teacher"] == t)
                                                     & (runs["split"] == split)].groupby("seed")["seconds"].sum().mean())
        rows.append(row)
    return rows


def _targets(summary: Any) -> list[str]:
    import numpy as np

    ca = summary[summary["method"] == "class-align"]
    lk = summary[summary["method"] == "logit-kd"].set_index(["family", "student", "teacher", "split"])["gain"]
    full, starved = ca[ca["split"] == "full"], ca[ca["split"] == "starved"]
    mz = full[(full["family"] == "mfeat") & full["student"].isin(["mor", "zer"])]
    hit = int(((mz["gain"] >= 0.03) & (mz["low"] > 0)).sum())
    avt = full[full["family"] == "digits-avt"]
    avt_hit = int(((avt["gain"] >= 0.03) & (avt["low"] > 0)).sum())
    real = full[full["family"].isin(["mfeat", "digits-avt"])]
    diff = real["gain"].to_numpy() - lk.reindex(real.set_index(["family", "student", "teacher", "split"]).index).to_numpy()
    sreal = starved[starved["family"].isin(["mfeat", "digits-avt"])]
    s_hit = int(sreal["significant"].sum())
    return [
        f"- class-align, full split, mfeat {{mor, zer}} <- others: {hit}/{len(mz)} pairs with gain >= +0.03 and interval "
        f"above 0 (target >= 8/10): {'met' if hit >= 8 else 'NOT met'}.",
        f"- class-align, full split, digits-avt: {avt_hit}/{len(avt)} pairs with gain >= +0.03 and interval above 0 "
        f"(target 2/2): {'met' if avt_hit == len(avt) == 2 else 'NOT met'}.",
        f"- class-align minus paired logit-kd, mean over the {len(real)} real full-split pairs: {np.nanmean(diff):+.4f} "
        f"(target within 0.01): {'met' if abs(np.nanmean(diff)) <= 0.01 else 'NOT met'}.",
        f"- starved split (10 labelled per class): class-align significant on {s_hit}/{len(sreal)} real pairs "
        f"(target at least half): {'met' if 2 * s_hit >= len(sreal) else 'NOT met'}.",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 pairs, 3 seeds (plumbing check)")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=OUT_MD)
    args = ap.parse_args()
    import pandas as pd
    from joblib import Parallel, delayed

    started, load0, t0 = now(), load_average(), time.perf_counter()
    seeds = list(range(3 if args.quick else args.seeds))
    pairs = _pairs(args.quick)
    units = [(f, b, s, t, split, seed) for f, b, s, t in pairs for split in ("full", "starved") for seed in seeds]
    log(f"distill benchmark: {len(pairs)} pairs x 2 splits x {len(seeds)} seeds = {len(units)} units, {args.jobs} jobs")
    out = Parallel(n_jobs=args.jobs, verbose=0)(delayed(_unit)(*u) for u in units)
    runs = pd.DataFrame([r for rows in out for r in rows])
    summary = _summary(runs)
    seconds = time.perf_counter() - t0
    cols = ["family", "pair", "no KD", "teacher acc", *METHODS, "s per seed (all methods)"]
    title = ("QUICK (plumbing check only, numbers mean nothing): " if args.quick else "") + \
        "Distillers: measured KD gains with 95% intervals"
    text = header(title, started=started, seconds=seconds, load_start=load0,
                  extra={"settings": f"{len(seeds)} seeds; distill() defaults (30 epochs, at least 300 SGD steps, "
                         "epoch chosen on a validation split of the training split); starved = "
                         f"{STARVED_PER_CLASS} labelled samples per class; gains are accuracy points / 100, "
                         "* = interval excludes 0 (>= 3 seeds)"})
    text += "\n## Targets\n\n" + "\n".join(_targets(summary)) + "\n"
    for split, title in (("full", "Full split (student trains on 70% of its samples)"),
                         ("starved", f"Starved split ({STARVED_PER_CLASS} labelled samples per class, teacher on its own full split)")):
        text += f"\n## {title}\n\n" + md_table(_wide(summary, runs, split), cols)
    counts = summary.groupby(["split", "method"])["significant"].agg(["sum", "count"]).reset_index()
    counts["significant gains"] = counts["sum"].astype(int).astype(str) + "/" + counts["count"].astype(str)
    mean_gain = summary.groupby(["split", "method"])["gain"].mean().reset_index(name="mean gain")
    text += "\n## Per method\n\n" + md_table(counts.merge(mean_gain)[["split", "method", "significant gains", "mean gain"]])
    write_atomic(args.out, text)
    log(f"wrote {args.out} in {seconds / 60:.1f} min")


if __name__ == "__main__":
    main()
