"""End-to-end cost of cchkit: time and peak memory of `cchkit rank` / `cchkit validate` on the
bundled data, and how `rank` scales with the number of candidate modalities and with n.

    python benchmarks/end_to_end.py            # full (~5-10 min on 2 cores)
    python benchmarks/end_to_end.py --quick    # plumbing check (~1-2 min)

Writes ``benchmarks/results/end_to_end.md`` and ``benchmarks/results/rank_scaling_n.png``.
The CLI rows are separate processes (imports included) measured with ``/usr/bin/time -v``; the
scaling rows are in-process calls of :func:`cchkit.rank_teachers` after a warm-up (no import cost).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from _common import RESULTS, ROOT, header, load_average, log, md_table, measure_subprocess, now, write_atomic

CLI = str(ROOT / ".venv" / "bin" / "cchkit")

CLI_CASES = [
    ("rank, digits-avt, audio <- image,text (the demo)", ["rank", "--student", "audio", "--candidates", "image,text"]),
    ("rank, digits-avt, encoder representation", ["rank", "--student", "audio", "--candidates", "image,text", "-r", "encoder"]),
    ("rank, mfeat, mor <- all 5 others", ["rank", "--data", "mfeat", "--student", "mor"]),
    ("rank, mfeat, --student all (30 pairs)", ["rank", "--data", "mfeat", "--student", "all"]),
    ("validate, digits-avt, audio <- image,text (3 seeds, ucmkd)", ["validate", "--student", "audio", "--candidates", "image,text"]),
    ("validate, mfeat, mor <- all 5 others (3 seeds, ucmkd)", ["validate", "--data", "mfeat", "--student", "mor"]),
]


def synthetic_bundle(n: int, n_modalities: int, dim: int = 16, seed: int = 0):
    """``n_modalities`` views of a 10-class label factor plus a shared factor, each ``dim`` wide."""
    import cchkit

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    z = np.eye(10)[y]
    a = rng.standard_normal((n, 4))
    arrays = {}
    for m in range(n_modalities):
        mix = rng.standard_normal((14, dim))
        arrays[f"m{m}"] = np.c_[z, a] @ mix + rng.standard_normal((n, dim)) * (1.0 + m % 3)
    return cchkit.ModalityBundle.from_arrays(arrays, labels=y)


def time_rank(bundle, student: str, candidates: list[str]) -> float:
    import cchkit

    t0 = time.perf_counter()
    cchkit.rank_teachers(bundle, student, candidates, random_state=0)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer cases and sizes (plumbing check)")
    args = ap.parse_args(argv)
    started, load0, t_start = now(), load_average(), time.perf_counter()

    cli_rows = []
    cases = CLI_CASES[:1] + CLI_CASES[4:5] if args.quick else CLI_CASES
    for label, cmd in cases:
        log(f"end_to_end: {label}")
        r = measure_subprocess([CLI, *cmd, "--quiet", "--format", "json"], cwd=ROOT, timeout=1800)
        cli_rows.append({
            "command": "cchkit " + " ".join(cmd), "what": label, "wall s": r["seconds"], "CPU s": r["cpu_seconds"],
            "peak MiB": r["peak_mib"], "exit": r["returncode"],
        })

    import cchkit  # noqa: F401  (warm-up: imports out of the scaling timings)

    warm = synthetic_bundle(500, 3)
    time_rank(warm, "m0", ["m1", "m2"])

    cand_rows = []
    for k in ([2, 5] if args.quick else [2, 5, 10, 20]):
        b = synthetic_bundle(2000, k + 1, seed=k)
        log(f"end_to_end: {k} candidates")
        cand_rows.append({"candidates": k, "n": 2000, "dims": 16, "rank s": time_rank(b, "m0", [f"m{i}" for i in range(1, k + 1)])})

    n_rows = []
    for n in ([1000, 10_000] if args.quick else [1000, 3000, 10_000, 30_000, 100_000]):
        b = synthetic_bundle(n, 3, seed=1)
        log(f"end_to_end: n={n}")
        n_rows.append({"n": n, "candidates": 2, "dims": 16, "rank s": time_rank(b, "m0", ["m1", "m2"])})

    ns = np.array([r["n"] for r in n_rows], float)
    ts = np.array([r["rank s"] for r in n_rows], float)
    slope = float(np.polyfit(np.log(ns), np.log(ts), 1)[0]) if len(ns) > 1 else float("nan")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.loglog(ns, ts, "o-", label=f"rank_teachers (slope {slope:.2f})")
    ax.set_xlabel("paired samples n")
    ax.set_ylabel("seconds")
    ax.set_title("cchkit rank: time vs n (3 modalities x 16 dims, pca + gaussian)")
    ax.legend()
    fig.tight_layout()
    png = RESULTS / "rank_scaling_n.png"
    fig.savefig(png, dpi=100)

    text = header(
        "End to end: time and memory of cchkit rank and validate",
        started=started, seconds=time.perf_counter() - t_start, load_start=load0,
        extra={"mode": "QUICK (plumbing check)" if args.quick else "full", "defaults": "pca representation, gaussian estimator, 200 bootstrap resamples, 3 seeds x 30 epochs for validate"},
    )
    text += "\n## The CLI on the bundled data (separate processes, imports included)\n\n"
    text += md_table(cli_rows, ["what", "wall s", "CPU s", "peak MiB", "exit", "command"], digits=1)
    text += "\n## `rank` against the number of candidate teachers (n = 2,000, in-process)\n\n"
    text += md_table(cand_rows, digits=2)
    text += f"\n## `rank` against n (2 candidates, in-process); log-log slope {slope:.2f}\n\n"
    text += md_table(n_rows, digits=2)
    text += f"\n![time vs n]({png.name})\n"
    write_atomic(RESULTS / "end_to_end.md", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
