"""Two candidate defaults of the few-label measurement, tried against the shipped ones (issue #34).

Neither is adopted unless it wins; the tables say what each did.

1. **A stronger logit-KD grid** (``--part grid``). With label-rich teachers at 5 labels per
   class the KD weight chosen by cross-validation often sat at the top of its grid. The
   shifted grid ``lam in {2, 8} x tau in {1, 4}`` (four settings, as every objective has)
   replaces ``lam in {0.5, 2} x tau in {2, 4}`` for ``logit-kd`` only; each pair's gain over the
   best teacher-free student is compared with the study's (``few_labels_rows.csv``, same seeds)
   on the students listed in :data:`GRID_STUDENTS`, with ``own`` and ``same`` teachers.
2. **The one-standard-error rule for the teacher-free baseline** (``--part selection``): take
   the most regularised supervised softmax regression whose cross-validated accuracy is within
   one binomial standard error of the best teacher-free student's (Breiman et al., 1984,
   *Classification and Regression Trees*; Hastie et al., *ESL* section 7.10), else the best.
   Its test accuracy and the shipped choice's, against scikit-learn's LogisticRegression with C
   chosen on the same folds (``few_labels.reference_accuracy``), on every bundled student at 5
   and 20 labels per class, seeds 0-4.

Writes ``benchmarks/results/few_labels_variants.md``.

    python benchmarks/few_labels_variants.py [--part grid selection]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, header, load_average, log, md_table, now, write_atomic  # noqa: E402
from few_labels import ROWS, reference_accuracy  # noqa: E402

OUT_MD = RESULTS / "few_labels_variants.md"
#: students of the grid trial, chosen before it ran to span the corpus (every bundle but digits-avt,
#: whose L5 gains are the largest and least in doubt)
GRID_STUDENTS = [("digits-rows", "top"), ("digits-rows", "middle"), ("letters-sgp", "speech"),
                 ("letters-sgp", "phonemes"), ("mfeat", "zer"), ("wdbc", "se"), ("words-cat", "typed"),
                 ("mfeat", "kar")]
SHIFTED_GRID = tuple({"lam": lam, "tau": tau} for lam in (2.0, 8.0) for tau in (1.0, 4.0))
_KEYS = ["family", "objective", "setting", "weight_decay"]


def grid_trial(mode: str) -> pd.DataFrame:
    """The shifted grid's logit-kd gains beside the study's, one row per (student, teacher)."""
    import cchkit
    import cchkit.fewlabels.builtin as builtin
    from cchkit.fewlabels import LabelRegime, validate_few_labels

    shipped, builtin.LogitKD.grid = builtin.LogitKD.grid, SHIFTED_GRID
    study = pd.read_csv(ROWS)
    study = study[(study["regime"] == f"L5-{mode}") & (study["method"] == "logit-kd")]
    rows = []
    try:
        for name, student in GRID_STUDENTS:
            b = cchkit.datasets.load(name)
            rep = validate_few_labels(b, student, [n for n in b.names if n != student], methods=["logit-kd"],
                                      regime=LabelRegime(labels_per_class=5, teacher_labels=mode), progress=False)
            for r in rep.table.itertuples():
                old = study[(study["bundle"] == name) & (study["student"] == student) & (study["teacher"] == r.teacher)]
                rows.append({"regime": f"L5-{mode}", "bundle": name, "student": student, "teacher": r.teacher,
                             "shipped grid": float(old["gain"].iloc[0]), "shifted grid": float(r.gain)})
            log(f"grid {mode} {name} {student}")
    finally:
        builtin.LogitKD.grid = shipped
    out = pd.DataFrame(rows)
    return out.assign(change=out["shifted grid"] - out["shipped grid"])


def _linear_finals(bundle, student: str, plan) -> dict[float, float]:
    """Test accuracy of the supervised softmax regression at every weight decay, fitted on every
    labelled row (the shipped search fits only the chosen setting on them)."""
    from cchkit.fewlabels.run import SeedRows
    from cchkit.fewlabels.stack import WEIGHT_DECAYS, Member, train_members

    s = bundle[student]
    sr = SeedRows.build(s.data, s.labels, plan)
    members = [Member("linear", "supervised", (), wd, None) for wd in WEIGHT_DECAYS]
    lab, unl, ev = (np.repeat(m[None], len(members), axis=0) for m in sr.masks(None))
    acc, _, _ = train_members(sr.x, sr.y, bundle.n_classes, members, lab, unl, ev, [None] * len(members),
                              seed=plan.seed)
    return dict(zip(WEIGHT_DECAYS, acc.tolist()))


def _pick(g: pd.DataFrame, one_se: bool, n_labelled: int, linear: dict[float, float]) -> float:
    """Test accuracy of the chosen teacher-free student of one seed (shipped rule or one-SE)."""
    from cchkit.fewlabels.run import choose

    folds = g[g["fold"] >= 0].groupby(_KEYS, sort=False)
    acc = folds["accuracy"].mean()
    if one_se:
        se = np.sqrt(acc.max() * (1 - acc.max()) / n_labelled)
        plain = [k for k in acc[acc >= acc.max() - se].index if k[0] == "linear" and k[1] == "supervised"]
        if plain:
            return linear[max(plain, key=lambda k: k[3])[3]]
    return float(choose(g)["accuracy"])


def selection_trial(level: int) -> pd.DataFrame:
    """Per student: the shipped baseline and the one-SE baseline minus the reference, over seeds 0-4."""
    import cchkit
    from cchkit.fewlabels import LabelRegime
    from cchkit.fewlabels.run import run_seed

    rows = []
    for name in cchkit.datasets.list():
        b = cchkit.datasets.load(name)
        for student in b.names:
            regime = LabelRegime(labels_per_class=level, teacher_labels="same")
            try:
                ref = reference_accuracy(b, student, regime, list(range(5)))
            except cchkit.exceptions.CchkitError as exc:
                log(f"selection L{level} {name} {student}: refused ({exc})")
                continue
            for seed in range(5):
                runs, _, plan = run_seed(b, student, [], regime, seed, [], {})
                n, linear = plan.labelled.size, _linear_finals(b, student, plan)
                rows.append({"labels": f"L{level}", "bundle": name, "student": student, "seed": seed,
                             "shipped": _pick(runs, False, n, linear) - ref[seed],
                             "one-SE": _pick(runs, True, n, linear) - ref[seed]})
            log(f"selection L{level} {name} {student}")
    return pd.DataFrame(rows)


def grid_summary(t: pd.DataFrame) -> list[dict]:
    return [{"regime": reg, "pairs": len(g), "shifted grid higher": int((g["change"] > 0).sum()),
             "mean change": g["change"].mean(), "median change": g["change"].median(),
             "median gain, shipped": g["shipped grid"].median(), "median gain, shifted": g["shifted grid"].median()}
            for reg, g in t.groupby("regime", sort=False)]


def selection_summary(per: pd.DataFrame) -> list[dict]:
    """Per label count, over the students' means (``per``: one row per student)."""
    return [{"labels": lab, "students": len(g),
             **{f"{rule}: not below reference - 0.01": f"{int((g[rule] >= -0.01).sum())}/{len(g)}" for rule in
                ("shipped", "one-SE")},
             "shipped: mean − reference": g["shipped"].mean(), "one-SE: mean − reference": g["one-SE"].mean()}
            for lab, g in per.groupby("labels", sort=False)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", nargs="*", choices=["grid", "selection"], default=["grid", "selection"])
    args = ap.parse_args()
    started, load0, t0 = now(), load_average(), time.perf_counter()
    text = ""
    if "grid" in args.part:
        t = pd.concat([grid_trial("own"), grid_trial("same")], ignore_index=True)
        text += ("\n## 1. The shifted logit-KD grid against the shipped one (5 labels per class)\n\n"
                 + md_table(grid_summary(t)) + "\n" + md_table(t) + "\n")
    if "selection" in args.part:
        t = pd.concat([selection_trial(5), selection_trial(20)], ignore_index=True)
        per = t.groupby(["labels", "bundle", "student"], sort=False)[["shipped", "one-SE"]].mean().reset_index()
        text += ("\n## 2. The teacher-free baseline: shipped choice and the one-SE rule, minus the reference\n\n"
                 + md_table(selection_summary(per)) + "\n" + md_table(per) + "\n")
    write_atomic(OUT_MD, header("Few labels: two candidate defaults against the shipped ones", started=started,
                                seconds=time.perf_counter() - t0, load_start=load0) + text)
    print(text)


if __name__ == "__main__":
    main()
