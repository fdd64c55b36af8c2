"""Wall time of the few-label validation against the full-label one on the demo (issue #34's
target: at most 1.5x), and against the earlier full-label measurement (``--baseline no-kd``),
the commands alternated, medians of ``--repeats`` runs.

    python benchmarks/few_labels_speed.py [--repeats 3]

Writes ``benchmarks/results/few_labels_speed.md``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, ROOT, header, load_average, log, md_table, measure_subprocess, now, write_atomic  # noqa: E402

CLI = [sys.executable, "-m", "cchkit", "validate", "--student", "audio", "--candidates", "image,text", "--quiet"]
COMMANDS = {
    "full labels (validate: the teacher-free default)": CLI,
    "5 labels per class (validate --labels-per-class 5)": CLI + ["--labels-per-class", "5"],
    "full labels, the earlier measurement (validate --baseline no-kd)": CLI + ["--baseline", "no-kd"],
    "5 labels per class, label-rich teachers (--teacher-labels own: cross-fitted)":
        CLI + ["--labels-per-class", "5", "--teacher-labels", "own"],
    # what the cross-fitting costs: the same with the in-sample teachers it replaced
    "5 labels per class, label-rich teachers in-sample (OWN_CROSS_FIT = 1, not the default)":
        [sys.executable, "-c", "import cchkit.fewlabels.teachers as t; t.OWN_CROSS_FIT = 1; "
         "from cchkit.cli.app import main; main()", *CLI[3:], "--labels-per-class", "5", "--teacher-labels", "own"],
    # a setting measured and not adopted (few_labels_decay.md): what it would cost
    "5 labels per class, the rescaled decay searched too (RESCALE_DECAY, not the default)":
        [sys.executable, "-c", "import cchkit.fewlabels.run as r; r.RESCALE_DECAY = True; "
         "from cchkit.cli.app import main; main()", *CLI[3:], "--labels-per-class", "5"],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    started, load_start, t0 = now(), load_average(), time.perf_counter()
    times: dict[str, list[float]] = {k: [] for k in COMMANDS}
    for i in range(args.repeats):
        for name, cmd in COMMANDS.items():
            r = measure_subprocess(cmd, cwd=ROOT)
            times[name].append(r["seconds"])
            log(f"run {i + 1}: {name}: {r['seconds']:.1f} s (exit {r['returncode']})")
    full, few, no_kd, own, own_in_sample, rescaled = (statistics.median(v) for v in times.values())
    rows = [{"command": name, "runs (s)": ", ".join(f"{v:.1f}" for v in vals), "median (s)": statistics.median(vals)}
            for name, vals in times.items()]
    text = header("Few-label validation: wall time against the full-label run", started=started,
                  seconds=time.perf_counter() - t0, load_start=load_start)
    text += ("\n" + md_table(rows) + f"\nratio few / full (medians, both the default measurement): **{few / full:.2f}x** "
             f"(target: at most 1.5x); few / the no-KD full-label run: {few / no_kd:.2f}x; the rescaled decay searched "
             f"too / few: {rescaled / few:.2f}x; label-rich teachers cross-fitted / in-sample: {own / own_in_sample:.2f}x\n")
    write_atomic(RESULTS / "few_labels_speed.md", text)
    print(text)


if __name__ == "__main__":
    main()
