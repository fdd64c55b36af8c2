"""A variant of the few-label study against the shipped one, pair by pair.

``benchmarks/few_labels.py --variant NAME`` runs the study with a setting changed and keeps its
rows in ``few_labels_NAME_rows.csv``. This script pairs them with the shipped rows
(``few_labels_rows.csv``) by (bundle, student, teacher, method, regime), so that a regime the
variant ran only in part is compared on the pairs it has: per regime and method, the real
teachers' median gain before and after, the mean change with its 95% t interval, how many pairs
went up, and how many help; and the controls' significant positive gains before and after.

    python benchmarks/few_labels_compare.py NAME [NAME ...]

Writes ``benchmarks/results/few_labels_<first NAME>_compare.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, header, load_average, md_table, now, write_atomic  # noqa: E402

KEYS = ["bundle", "student", "teacher", "method", "regime"]
CONTROLS = ("noise", "copy")


def _flag(col: pd.Series) -> pd.Series:
    return col.astype(str).str.lower().eq("true")


def paired(names: list[str]) -> pd.DataFrame:
    """The shipped rows joined with every variant's rows of the same pair (a pair that several
    variants ran is taken from the first)."""
    shipped = pd.read_csv(RESULTS / "few_labels_rows.csv").set_index(KEYS)
    old_seconds = shipped["seconds"].rename("seconds_old")
    old_seconds = old_seconds[~old_seconds.index.duplicated()]
    variants = []
    for n in names:
        v = pd.read_csv(RESULTS / f"few_labels_{n}_rows.csv").set_index(KEYS).join(old_seconds)
        # a variant's file starts from the shipped rows of the regimes it does not run: those are
        # the shipped rows themselves (the same run time to the digit), not a comparison
        variants.append(v[v["seconds"] != v["seconds_old"]])
    new = pd.concat(variants)
    new = new[~new.index.duplicated()]
    cols = ["gain", "significant", "helps"]
    return shipped[cols].join(new[cols + ["seconds", "seconds_old"]], rsuffix="_new", how="inner").reset_index()


def _t95(d: np.ndarray) -> str:
    from cchkit._stats import t_interval

    if d.size < 3:
        return f"{d.mean():+.3f}"
    mean, lo, hi = t_interval(d)
    return f"{mean:+.3f} [{lo:+.3f}, {hi:+.3f}]"


def gains_rows(j: pd.DataFrame) -> list[dict]:
    out = []
    real = j[~j["teacher"].isin(CONTROLS)]
    for (regime, method), g in real.groupby(["regime", "method"], sort=False):
        d = (g["gain_new"] - g["gain"]).to_numpy()
        out.append({"regime": regime, "method": method, "pairs": len(g),
                    "median gain, shipped": round(float(g["gain"].median()), 3),
                    "median gain, variant": round(float(g["gain_new"].median()), 3),
                    "mean change [95% t]": _t95(d), "up / down": f"{(d > 0).sum()} / {(d < 0).sum()}",
                    "helps, shipped → variant": f"{_flag(g['helps']).sum()} → {_flag(g['helps_new']).sum()}"})
    return out


def control_rows(j: pd.DataFrame) -> list[dict]:
    out = []
    ctrl = j[j["teacher"].isin(CONTROLS)]
    for (regime, teacher), g in ctrl.groupby(["regime", "teacher"], sort=False):
        plus_old = (_flag(g["significant"]) & (g["gain"] > 0)).sum()
        plus_new = (_flag(g["significant_new"]) & (g["gain_new"] > 0)).sum()
        out.append({"regime": regime, "control": teacher, "pairs (all methods)": len(g),
                    "significant +, shipped → variant": f"{plus_old} → {plus_new}",
                    "helps, shipped → variant": f"{_flag(g['helps']).sum()} → {_flag(g['helps_new']).sum()}"})
    return out


def time_rows(j: pd.DataFrame) -> list[dict]:
    runs = j.drop_duplicates(["bundle", "student", "regime"])
    return [{"regime": regime, "runs": len(g), "minutes, shipped": f"{g['seconds_old'].sum() / 60:.1f}",
             "minutes, variant": f"{g['seconds'].sum() / 60:.1f}"} for regime, g in runs.groupby("regime", sort=False)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="+", help="variants: few_labels_NAME_rows.csv in benchmarks/results")
    args = ap.parse_args()
    started, load_start, t0 = now(), load_average(), time.perf_counter()
    j = paired(args.names)
    text = header(f"Few labels: the {args.names[0]} variant against the shipped study", started=started,
                  seconds=time.perf_counter() - t0, load_start=load_start,
                  extra={"rows": ", ".join(f"few_labels_{n}_rows.csv" for n in args.names) + " against few_labels_rows.csv"})
    text += "\n## Real teachers, pair by pair\n\n" + md_table(gains_rows(j))
    text += "\n## Controls\n\n" + md_table(control_rows(j))
    text += ("\n## Time\n\nWall time of the runs compared (a variant run beside other runs on the shared 2 cores is "
             "slower for that alone: see the variant's own notes before reading a ratio here).\n\n" + md_table(time_rows(j)))
    write_atomic(RESULTS / f"few_labels_{args.names[0]}_compare.md", text)
    print(text)


if __name__ == "__main__":
    main()
