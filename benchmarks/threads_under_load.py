"""The demo's work idle and beside a bounded local load (issue #35, part 5): thread pools that spin
under contention once made it 10x slower on a shared machine.

Runs ``cchkit advise --student audio --candidates image,text --budget 0.001`` (the demo's
command with the first round only, so that every run does the same work) ``REPEATS`` times idle,
then as many times beside ``2 x cores`` busy-looping processes (the load, stopped afterwards),
and compares the medians of wall time and of CPU time (user + system of the command and its
children). Targets: CPU time under load within 1.5x of idle, wall time within 3x.

    python benchmarks/threads_under_load.py

Writes ``benchmarks/results/threads_under_load.md``. "Idle" is this machine's background load,
given in the header: on a shared machine it is not zero.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, header, load_average, md_table, now, write_atomic  # noqa: E402

COMMAND = [sys.executable, "-m", "cchkit", "advise", "--student", "audio", "--candidates", "image,text",
           "--budget", "0.001", "--quiet", "--format", "json"]
REPEATS = 3
TARGETS = {"cpu": 1.5, "wall": 3.0}


def timed_run() -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of the command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(COMMAND, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def with_load(n: int) -> list[subprocess.Popen]:
    """``n`` processes that keep a core busy each, until stopped."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def main() -> None:
    started, load_start, t0 = now(), load_average(), time.perf_counter()
    cores = len(os.sched_getaffinity(0))
    idle = [timed_run() for _ in range(REPEATS)]
    load = with_load(2 * cores)
    try:
        time.sleep(2)  # the load is running before the first timed run
        loaded = [timed_run() for _ in range(REPEATS)]
    finally:
        for p in load:
            p.kill()
            p.wait()
    (w_idle, c_idle), (w_load, c_load) = medians(idle), medians(loaded)
    rows = [{"condition": "idle", "wall s (median)": w_idle, "CPU s (median)": c_idle, "runs (wall)": ", ".join(
                f"{w:.1f}" for w, _ in idle)},
            {"condition": f"beside {2 * cores} busy processes", "wall s (median)": w_load, "CPU s (median)": c_load,
             "runs (wall)": ", ".join(f"{w:.1f}" for w, _ in loaded)}]
    ratios = {"cpu": c_load / c_idle, "wall": w_load / w_idle}
    verdict = [{"measure": f"{k} time under load / idle", "ratio": v, "target": f"<= {TARGETS[k]}",
                "met": "yes" if v <= TARGETS[k] else "NO"} for k, v in ratios.items()]
    text = header("The demo's work idle and under load", started=started, seconds=time.perf_counter() - t0,
                  load_start=load_start, extra={"work": "`" + " ".join(COMMAND[1:]) + "`",
                                                "repeats": f"{REPEATS} per condition"})
    text += "\n" + md_table(rows, digits=2) + "\n" + md_table(verdict, digits=2)
    write_atomic(RESULTS / "threads_under_load.md", text)
    print(text)


if __name__ == "__main__":
    main()
