"""How long a validation takes, one student at a time against stacked (issue #26), and whether
the stacked students give the single ones' numbers.

    python benchmarks/validate_speed.py          # digits-avt, student audio, teachers image and text

For 5 and 20 seeds: (1) every student trained one by one (once) through ``distill`` (what ``validate``
did before the stacks: none, class-align and logit-kd per teacher and seed, untuned); (2) the
same students as stacks (``validate(tune=False)``, ranking passed in); (3) the tuned stacks
(``validate()``'s default: 6 no-KD settings and 6 KD settings per teacher and method, searched on
the first ``TUNE_SEEDS`` seeds, each search halved: see ``halving.py``; each later seed trains the
chosen settings only), all three with ``baseline="no-kd"``; (4) ``validate``'s default, the
teacher-free measurement (teacher-free and KD students of two families, placebo teachers, every
setting chosen per seed), once per size, serial and with ``n_jobs=2`` (the seeds on two processes; the
two reports must be the same). (2) and (3) are timed ``REPEATS`` times, alternating, and the table gives
their medians. Also the largest
difference between the per-run accuracies of (1) and (2). Last, the demo commands as a user runs
them (``cchkit validate --data digits-avt --student audio --candidates image,text --quiet`` and
``make demo``'s ``cchkit advise --student audio --candidates image,text``, subprocesses: start-up,
ranking and tuned validation), wall-clock. Writes
``benchmarks/results/validate_speed.md``.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _common import RESULTS, header, load_average, md_table, now, write_atomic  # noqa: E402

OUT = RESULTS / "validate_speed.md"
#: stacked validations are timed this many times each (medians in the table), alternating sizes
REPEATS = 3
METHODS = ("none", "class-align", "logit-kd")


def single_loop(bundle, seeds):  # noqa: ANN001, ANN201
    """Every (teacher, method, seed) student alone, as validate ran them before the stacks."""
    from cchkit.distill import distill

    rows = {}
    for t in ("image", "text"):
        for s in seeds:
            for m in METHODS:
                rows[(t, m, s)] = distill(bundle, "audio", t, method=m, random_state=s, device="cpu").accuracy
    return rows


def tuned_students(n_seeds: int, tune_seeds: int, n_student: int, n_kd: int, kd_runs: int = 4) -> int:
    """Students a tuned validation starts: both searches on the tuning seeds, then one no-KD and
    one student per (teacher, method) on each later seed (here 2 teachers x 2 methods)."""
    k = min(n_seeds, tune_seeds)
    return k * (n_student + kd_runs * n_kd) + (n_seeds - k) * (1 + kd_runs)


def halved_length(n_variants: int) -> float:
    """Full-length trainings one halved search of ``n_variants`` costs: every variant to the first
    rung, the survivors of each rung to the next, the last one to the end."""
    from cchkit.validation.stacked import HALVING_ETA, HALVING_RUNGS

    cost, alive, start = 0.0, n_variants, 0.0
    for rung in (*HALVING_RUNGS, 1.0):
        cost += alive * (rung - start)
        alive, start = math.ceil(alive / HALVING_ETA), rung
    return cost


def tuned_full_lengths(n_seeds: int, tune_seeds: int, n_student: int, n_kd: int, kd_runs: int = 4) -> float:
    """:func:`tuned_students` counted in full-length trainings (a student stopped at a third of the
    epochs counts a third)."""
    k = min(n_seeds, tune_seeds)
    return k * (halved_length(n_student) + kd_runs * halved_length(n_kd)) + (n_seeds - k) * (1 + kd_runs)


DEMO_COMMANDS = (  # the demo's validate, and make demo's advise (default budget: the whole call)
    ["validate", "--data", "digits-avt", "--student", "audio", "--candidates", "image,text", "--quiet"],
    ["advise", "--student", "audio", "--candidates", "image,text", "--quiet"],
    ["validate", "--data", "digits-avt", "--student", "audio", "--candidates", "image,text", "--quiet", "--n-jobs", "2"],
)


def demo_command(args: list[str]) -> dict[str, object]:
    """One demo command as a subprocess: wall seconds, the last line (its own timer) and its seeds."""
    import subprocess

    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "cchkit", *args], capture_output=True, text=True, check=True,
                         cwd=HERE.parent)
    wall = time.perf_counter() - t0
    seeds = next((ln.split("Seeds: ")[-1].strip() for ln in out.stdout.splitlines() if "Seeds: " in ln), "-")
    return {"command": "cchkit " + " ".join(args), "wall s": round(wall, 1),
            "its own timer": out.stdout.strip().splitlines()[-1], "seeds": seeds}


def main() -> None:
    import cchkit
    from cchkit.validation import validate
    from cchkit.validation.seeds import seed_list as _seed_list
    from cchkit.validation.stacked import KD_GRID, STUDENT_GRID, TUNE_SEEDS

    started, load0, t_all = now(), load_average(), time.perf_counter()
    bundle = cchkit.load_bundle("digits-avt")
    ranking = cchkit.rank_teachers(bundle, "audio", ["image", "text"])
    singles, times, worst = {}, {}, 0.0
    for n in (5, 20):
        t0 = time.perf_counter()
        singles[n] = single_loop(bundle, _seed_list(n, 0))
        times[(n, "single")] = [time.perf_counter() - t0]
    for _ in range(REPEATS):  # the stacked runs alternate, so a slow minute of the shared machine hits both sizes
        for n in (5, 20):
            for tune in (False, True):
                t0 = time.perf_counter()
                rep = validate(bundle, "audio", ["image", "text"], baseline="no-kd", methods=["class-align", "logit-kd"], seeds=n,
                               ranking=ranking, tune=tune, progress=False, device="cpu")
                times.setdefault((n, tune), []).append(time.perf_counter() - t0)
                if not tune:
                    worst = max([worst] + [abs(r.accuracy - singles[n][(r.teacher, r.method, r.seed)])
                                           for r in rep.runs.itertuples(index=False)])
    default, parallel = {}, {}
    for n in (5, 20):
        t0 = time.perf_counter()
        serial = validate(bundle, "audio", ["image", "text"], seeds=n, progress=False)
        default[n] = time.perf_counter() - t0
        t0 = time.perf_counter()
        on_two = validate(bundle, "audio", ["image", "text"], seeds=n, progress=False, n_jobs=2)
        parallel[n] = time.perf_counter() - t0
        if on_two.to_json() != serial.to_json():
            raise SystemExit(f"{n} seeds: the report with n_jobs=2 differs from the serial one")
        print(n, "default", default[n], "n_jobs=2", parallel[n], flush=True)
    table = []
    for n in (5, 20):
        table.append({"seeds": n, "one by one (s)": round(times[(n, "single")][0], 1),
                      "stacked, untuned (s)": round(statistics.median(times[(n, False)]), 1),
                      "stacked, tuned (s)": round(statistics.median(times[(n, True)]), 1),
                      "tuned, each run (s)": " / ".join(f"{t:.1f}" for t in times[(n, True)]),
                      "default: teacher-free (s)": round(default[n], 1),
                      "default, n_jobs=2 (s)": round(parallel[n], 1),
                      "students started, tuned": tuned_students(n, TUNE_SEEDS, len(STUDENT_GRID), len(KD_GRID)),
                      "in full-length trainings": round(tuned_full_lengths(n, TUNE_SEEDS, len(STUDENT_GRID),
                                                                           len(KD_GRID)), 1)})
        print(table[-1], flush=True)
    demo = []
    for args in DEMO_COMMANDS:
        runs = [demo_command(args) for _ in range(REPEATS)]
        walls = [float(r["wall s"]) for r in runs]  # type: ignore[arg-type]
        mid = runs[walls.index(sorted(walls)[len(walls) // 2])]
        demo.append({**mid, "wall s": round(statistics.median(walls), 1),
                     "each run (s)": " / ".join(f"{w:.1f}" for w in walls)})
    print(demo, flush=True)
    ratio = {k: table[1][k] / table[0][k] for k in ("one by one (s)", "stacked, untuned (s)", "stacked, tuned (s)",
                                                  "default: teacher-free (s)", "default, n_jobs=2 (s)")}
    text = header("Validation speed: one by one against stacked students", started=started,
                  seconds=time.perf_counter() - t_all, load_start=load0,
                  extra={"data": "digits-avt, student audio, teachers image and text, methods none / class-align / "
                                 "logit-kd; the no-KD columns include the linear probe, not the ranking; the default "
                                 "column is validate without a baseline argument (logit-kd and class-align)"})
    text += "\n" + md_table(table) + "\n\n"
    text += ("20 seeds / 5 seeds: " + ", ".join(f"{k} {v:.2f}x" for k, v in ratio.items()) + ".\n\n")
    text += ("Serial / n_jobs=2, the default measurement (the same report, compared as JSON): "
             + ", ".join(f"{n} seeds {default[n] / parallel[n]:.2f}x" for n in (5, 20)) + ".\n\n")
    text += (f"Largest difference between a stacked (untuned) student's test accuracy and the same student trained "
             f"alone: {worst:.2e}. A batched product sums in another order than a single one; over hundreds of SGD "
             "steps those last-bit differences grow into different (equally good) networks, a few test rows apart. "
             "On small problems the two agree to 1e-6 (tests/test_distill_batched.py).\n\n")
    text += ("## The demo commands (tuned, with their ranking and Python start-up; `make demo` runs the second)\n\n"
             + md_table(demo) + "\n")
    write_atomic(OUT, text)
    print(text)


if __name__ == "__main__":
    main()
