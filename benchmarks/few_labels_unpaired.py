"""Without pairs, how much of the paired gain comes back? (issue #34, item 4)

With a label-rich teacher (``own`` labels) and 5 labels per class, for each student of the
bundles named: the gain of paired ``logit-kd`` and of the three unpaired objectives,
``class-align`` (the teacher's class-conditional targets through the student's own posterior),
``label-dist`` (the student's class marginal on its unlabeled rows aligned with the
teacher's) and ``ot-align`` (UCMKD-style optimal transport of the student's predictions on its
unlabeled rows onto the teacher's on its own rows, marginal or class-conditional through
pseudo-labels), each over the best teacher-free student, 5 seeds. Reports, per unpaired method, the
median ratio of its gain to the paired gain over the pairs where the paired gain exceeds 0.01.

    python benchmarks/few_labels_unpaired.py [--only digits-avt words-cat] [--seeds 5] [--n-jobs 2]

Writes ``benchmarks/results/few_labels_unpaired.md``.
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

METHODS = ["logit-kd", "class-align", "label-dist", "ot-align"]


def measure(names: list[str], seeds: int, n_jobs: int = 1) -> pd.DataFrame:
    import cchkit
    from cchkit.fewlabels import LabelRegime, validate_few_labels

    rows = []
    for name in names:
        bundle = cchkit.datasets.load(name)
        for student in bundle.names:
            cands = [n for n in bundle.names if n != student]
            t0 = time.perf_counter()
            rep = validate_few_labels(bundle, student, cands, regime=LabelRegime(labels_per_class=5, teacher_labels="own"),
                                      methods=METHODS, seeds=seeds, progress=False, n_jobs=n_jobs)
            log(f"{name} {student}: {time.perf_counter() - t0:.0f} s")
            rows.append(rep.table.assign(bundle=name)[["bundle", "student", "teacher", "method", "gain", "significant"]])
    return pd.concat(rows, ignore_index=True)


def summary(rows: pd.DataFrame) -> list[dict]:
    wide = rows.pivot_table(index=["bundle", "student", "teacher"], columns="method", values="gain")
    pos = wide[wide["logit-kd"] > 0.01]
    out = []
    for m in METHODS[1:]:
        sig = rows[(rows["method"] == m)]
        out.append({"unpaired method": m, "pairs with a paired gain > 0.01": len(pos),
                    "median ratio to the paired gain": float((pos[m] / pos["logit-kd"]).median()) if len(pos) else np.nan,
                    "median gain": float(wide[m].median()), "median paired gain": float(wide["logit-kd"].median()),
                    "significant + / −": f"{int((sig.significant & (sig.gain > 0)).sum())} / "
                                         f"{int((sig.significant & (sig.gain < 0)).sum())} of {len(sig)}"})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=["digits-avt"])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--n-jobs", type=int, default=1, help="processes for the seeds (the numbers do not depend on it)")
    args = ap.parse_args()
    started, load_start, t0 = now(), load_average(), time.perf_counter()
    rows = measure(args.only, args.seeds, args.n_jobs)
    text = header("Without pairs: how much of the paired gain comes back", started=started,
                  seconds=time.perf_counter() - t0, load_start=load_start,
                  extra={"corpus": f"{', '.join(args.only)}; every student, every other modality a label-rich "
                                   f"teacher; 5 labels per class; {args.seeds} seeds"})
    text += "\n" + md_table(summary(rows)) + "\n## Every pair\n\n" + md_table(rows) + "\n"
    write_atomic(RESULTS / "few_labels_unpaired.md", text)
    print(text)


if __name__ == "__main__":
    main()
