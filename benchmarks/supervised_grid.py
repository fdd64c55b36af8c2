"""Is the supervised student's decay grid why it misses scikit-learn's reference at 5 labels per class?

The few-label study's supervised student (``cchkit.fewlabels``: both families, the weight decay
searched over decades, 3-fold cross-validation, the chosen setting refitted on every labelled
row) is within 0.01 of scikit-learn's LogisticRegression (C over half-decades, the same folds) on
most students but not all. This script trains the supervised student alone, with the shipped
grid (decades) and with half-decades, on the same seeds' plans, and compares each with the
reference (``few_labels.reference_accuracy``), every bundled student.

    python benchmarks/supervised_grid.py [--labels-per-class 5] [--seeds 5]

Writes ``benchmarks/results/supervised_grid.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, header, load_average, log, md_table, now, write_atomic  # noqa: E402
from few_labels import reference_accuracy  # noqa: E402

GRIDS = {"decades (shipped)": (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0),
         "half-decades": tuple(float(f"{10 ** (e / 2):.4g}") for e in range(-8, 3))}


def supervised_accuracy(bundle, student: str, regime, seeds: list[int], grid: tuple[float, ...]) -> float:
    """Mean test accuracy over ``seeds`` of the supervised student chosen over ``grid``."""
    import cchkit.fewlabels.run as run
    from cchkit.fewlabels import plan_seed

    s, shipped = bundle[student], run.WEIGHT_DECAYS
    run.WEIGHT_DECAYS = grid
    try:
        accs = []
        for seed in seeds:
            plan = plan_seed(s.labels, bundle.classes, regime, seed)
            sr = run.SeedRows.build(s.data, s.labels, plan)
            runs, members, _ = run._stage_one(sr, len(bundle.classes), plan.search_keys)
            accs.append(float(run._refit_chosen(sr, len(bundle.classes), runs, members, {})["accuracy"].iloc[0]))
        return float(np.mean(accs))
    finally:
        run.WEIGHT_DECAYS = shipped


def main() -> None:
    import cchkit
    from cchkit.fewlabels import LabelRegime

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels-per-class", type=int, default=5)
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    started, load_start, t0 = now(), load_average(), time.perf_counter()
    regime, seeds = LabelRegime(labels_per_class=args.labels_per_class), [11 * (i + 1) for i in range(args.seeds)]
    rows = []
    for name in cchkit.datasets.list():
        b = cchkit.datasets.load(name)
        for student in b.names:
            ref = float(np.mean(reference_accuracy(b, student, regime, seeds)))
            row = {"bundle": name, "student": student, "reference (sklearn LR)": round(ref, 3)}
            for g, grid in GRIDS.items():
                row[f"{g} − reference"] = round(supervised_accuracy(b, student, regime, seeds, grid) - ref, 3)
            rows.append(row)
            log(f"{name} {student}: {row}")
    summary = []
    for g in GRIDS:
        d = np.array([r[f"{g} − reference"] for r in rows])
        summary.append({"grid": g, "students": d.size, "within 0.01": int((np.abs(d) <= 0.01).sum()),
                        "at most 0.01 below": int((d >= -0.01).sum()), "mean difference": round(float(d.mean()), 4)})
    text = header(f"The supervised student's decay grid against the reference, {args.labels_per_class} labels per class",
                  started=started, seconds=time.perf_counter() - t0, load_start=load_start,
                  extra={"seeds": ", ".join(map(str, seeds)) + " (the same plans for every grid and the reference)"})
    text += "\n## Summary\n\n" + md_table(summary) + "\n## Per student\n\n" + md_table(rows)
    write_atomic(RESULTS / "supervised_grid.md", text)
    print(text)


if __name__ == "__main__":
    main()
