"""End-to-end cost: time and peak memory of ``cchkit rank`` / ``cchkit validate``, and how ranking scales.

Sections
--------
0. Start-up: ``import cchkit``, ``cchkit --help`` and ``cchkit datasets`` (5 runs each), at HEAD
   and at the commit before the light import (97d35fa^, checked out in a temporary git worktree),
   with whether torch was imported.
1. The command line on both bundled datasets, run as subprocesses with default settings and
   ``--quiet`` (wall time, peak resident memory of the process tree, CPU time).
2. ``rank_teachers`` against the number of candidate teachers (2 to 20) on synthetic bundles
   built with :meth:`cchkit.ModalityBundle.from_arrays` (n = 2,000, 32 features per modality,
   10 classes), default settings (``pca`` representation, ``gaussian`` estimator).
3. ``rank_teachers`` against n (1,000 to 100,000; two candidates): ``pca`` + ``gaussian`` at
   every n, ``pca`` + ``ksg`` and ``encoder`` + ``gaussian`` as far as they finish within a
   per-point time limit. Each point runs in a fresh process; the time is that of the
   ``rank_teachers`` call (imports and data generation excluded), the memory the process's peak.
4. ``cchkit rank -e ksg`` at n = 100,000 on a synthetic bundle of 3 modalities (the section 3
   generator, saved as a bundle directory), as a subprocess: at the default ``--dim 16`` (32
   total dimensions per pair: brute force) and at ``--dim 5`` (10: the k-d tree), one thread and
   ``--n-jobs 2``; it checks that every MI term of every row has an interval.

Usage::

    python benchmarks/end_to_end.py           # full (~15 min on 2 busy cores)
    python benchmarks/end_to_end.py --quick   # tiny settings (~1 min)

Writes ``benchmarks/results/end_to_end.md`` and ``benchmarks/results/end_to_end_scaling.png``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _common import RESULTS, ROOT, header, load_average, log, md_table, measure_subprocess, now, write_atomic  # noqa: E402

OUT_MD = RESULTS / "end_to_end.md"
OUT_PNG = RESULTS / "end_to_end_scaling.png"

#: the commit just before "Light import" (97d35fa): the "before" of section 0
BEFORE_LIGHT_IMPORT = "97d35fa^"
KSG_TARGET_N, KSG_TARGET_SECONDS = 100_000, 60.0
FULL = dict(
    cli_repeats=3,
    candidates=(2, 4, 8, 12, 16, 20),
    ns=(1_000, 3_000, 10_000, 30_000, 100_000),
    configs=(("pca", "gaussian", 100_000), ("pca", "ksg", 100_000), ("encoder", "gaussian", 100_000)),
    point_timeout=300,
    quick_cli=False,
    startup_repeats=5,
    ksg_n=KSG_TARGET_N,
)
QUICK = dict(
    cli_repeats=1,
    candidates=(2, 4),
    ns=(1_000, 3_000),
    configs=(("pca", "gaussian", 3_000), ("pca", "ksg", 1_000), ("encoder", "gaussian", 1_000)),
    point_timeout=120,
    quick_cli=True,
    startup_repeats=1,
    ksg_n=2_000,
)


# ------------------------------------------------------------------------------ synthetic bundles
def synthetic_bundle(n: int, k: int, d: int = 32, n_classes: int = 10, seed: int = 0):
    """A student and ``k`` teachers, each ``d`` noisy linear views of 4 shared latent factors; the
    label is a 10-level quantisation of a noisy function of the first factor."""
    import numpy as np

    import cchkit

    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 4))
    score = z[:, 0] + 0.5 * z[:, 1] + 0.5 * rng.standard_normal(n)
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
    arrays = {}
    for name in ["student"] + [f"t{j:02d}" for j in range(1, k + 1)]:
        a = rng.standard_normal((4, d)) * rng.uniform(0.2, 1.5, size=(4, 1))
        arrays[name] = z @ a + rng.standard_normal((n, d))
    return cchkit.ModalityBundle.from_arrays(arrays, labels=y, name=f"synthetic-n{n}-k{k}")


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one timed ranking in this process (called with --worker)."""
    import warnings

    warnings.filterwarnings("ignore", message="KSG in")
    import logging

    from _common import peak_rss_mib

    import cchkit

    logging.getLogger("cchkit").setLevel(logging.ERROR)
    b = synthetic_bundle(spec["n"], spec["k"])
    before = peak_rss_mib()
    t0 = time.perf_counter()
    r = cchkit.rank_teachers(b, "student", estimators=[spec["estimator"]], representation=spec["representation"],
                             random_state=0, progress=False)
    secs = time.perf_counter() - t0
    errs = [e for e in r.table["error"] if e]
    return {"seconds": secs, "rss_before_mib": before, "peak_mib": peak_rss_mib(), "errors": errs[:1]}


def run_worker(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]
    m = measure_subprocess(cmd, cwd=ROOT, timeout=timeout)
    out: dict[str, Any] = dict(spec)
    out.update(process_seconds=m["seconds"], process_peak_mib=m["peak_mib"], timed_out=m["timed_out"])
    if m["timed_out"]:
        out.update(seconds=math.nan, peak_mib=m["peak_mib"], status=f"timed out (> {timeout:.0f} s)")
        return out
    line = [ln for ln in m["stdout"].splitlines() if ln.startswith("{")]
    if m["returncode"] != 0 or not line:
        tail = (m["stderr"].strip().splitlines() or ["?"])[-1]
        out.update(seconds=math.nan, peak_mib=math.nan, status=f"failed: {tail[:120]}")
        return out
    res = json.loads(line[-1])
    out.update(res)
    out["status"] = "ok" if not res["errors"] else f"row error: {res['errors'][0][:100]}"
    return out


# ------------------------------------------------------------------------------ sections
_TORCH_PROBE = "import sys, cchkit; print('torch' in sys.modules)"


def _startup_commands() -> list[tuple[str, list[str]]]:
    cli = [sys.executable, "-c", "from cchkit.cli import main; main()"]
    return [("python -c 'import cchkit'", [sys.executable, "-c", "import cchkit"]),
            ("cchkit --help", cli + ["--help"]), ("cchkit datasets", cli + ["datasets"])]


def _startup_rows(where: str, env: dict[str, str], reps: int, cwd: Path) -> list[dict]:
    """The start-up commands of one code version, and (once) whether its import loads torch."""
    probe = measure_subprocess([sys.executable, "-c", _TORCH_PROBE], env=env, cwd=cwd)
    torch = probe["stdout"].strip() == "True"
    rows = []
    for label, cmd in _startup_commands():
        times, status = [], "ok"
        for _ in range(reps):
            m = measure_subprocess(cmd, env=env, cwd=cwd)
            times.append(m["seconds"])
            if m["returncode"] != 0:
                status = f"exit {m['returncode']}: {(m['stderr'].strip().splitlines() or ['?'])[-1][:80]}"
        times.sort()
        rows.append({"command": label, "code": where, "runs": reps, "wall s (median)": times[len(times) // 2],
                     "wall s (min–max)": f"{times[0]:.2f}–{times[-1]:.2f}", "imports torch": torch, "status": status})
    return rows


def startup_section(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """Section 0: start-up time at HEAD and before the light import (a temporary worktree)."""
    import subprocess
    import tempfile

    rows = _startup_rows("HEAD", {"PYTHONWARNINGS": "ignore"}, cfg["startup_repeats"], ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        wt = Path(tmp) / "before"
        made = subprocess.run(["git", "worktree", "add", "--detach", str(wt), BEFORE_LIGHT_IMPORT],
                              cwd=ROOT, capture_output=True, text=True)
        try:
            if made.returncode == 0:
                env = {"PYTHONWARNINGS": "ignore", "PYTHONPATH": str(wt)}
                rows += _startup_rows(BEFORE_LIGHT_IMPORT, env, cfg["startup_repeats"], wt)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(wt)], cwd=ROOT, capture_output=True)
    for r in rows:
        log(f"startup: {r['command']} at {r['code']}: {r['wall s (median)']:.2f} s, torch {r['imports torch']}")
    return rows


def ksg_target_section(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """Section 4: ``cchkit rank -e ksg`` on a saved 3-modality bundle, with intervals checked."""
    import tempfile

    exe = Path(sys.executable).with_name("cchkit")
    base = [str(exe)] if exe.exists() else [sys.executable, "-c", "from cchkit.cli import main; main()"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = synthetic_bundle(cfg["ksg_n"], 2).save(Path(tmp) / "bundle")
        for dim, jobs in ((16, 1), (16, 2), (5, 1), (5, 2)):
            args = ["rank", "--data", str(path), "--student", "student", "-e", "ksg", "--dim", str(dim),
                    "--n-jobs", str(jobs), "--quiet", "--format", "json"]
            m = measure_subprocess(base + args, cwd=ROOT, env={"PYTHONWARNINGS": "ignore"},
                                   timeout=cfg["point_timeout"])
            rows.append({"command": "cchkit " + " ".join(a if a != str(path) else "<bundle>" for a in args),
                         "n": cfg["ksg_n"], "total dims per pair": 2 * dim, "wall s": m["seconds"],
                         "peak RSS MiB": m["peak_mib"], **_interval_check(m)})
            log(f"ksg target dim={dim} jobs={jobs}: {m['seconds']:.1f} s ({rows[-1]['status']})")
    return rows


def _interval_check(m: dict[str, Any]) -> dict[str, Any]:
    """Whether every MI term of every row has a finite interval (from the JSON on stdout)."""
    if m["timed_out"]:
        return {"every term has an interval": "–", "status": "timed out"}
    if m["returncode"] != 0:
        return {"every term has an interval": "–", "status": f"exit {m['returncode']}"}
    doc = json.loads(m["stdout"])
    rows = doc["rows"] if isinstance(doc, dict) and "rows" in doc else doc
    terms = [k for k in rows[0] if k.startswith("i_") and not k.endswith(("_low", "_high", "_lb"))]
    ok = all(isinstance(r.get(f"{t}_low"), (int, float)) and isinstance(r.get(f"{t}_high"), (int, float))
             for r in rows for t in terms)
    return {"every term has an interval": f"{ok} ({len(terms)} terms x {len(rows)} rows)", "status": "ok"}


def cli_section(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    exe = Path(sys.executable).with_name("cchkit")
    base = [str(exe)] if exe.exists() else [sys.executable, "-c", "from cchkit.cli import main; main()"]
    jobs = [
        ("rank", ["rank", "--data", "digits-avt", "--student", "audio", "--quiet"], cfg["cli_repeats"]),
        ("rank", ["rank", "--data", "mfeat", "--student", "mor", "--quiet"], cfg["cli_repeats"]),
    ]
    if not cfg["quick_cli"]:
        jobs.append(("rank", ["rank", "--data", "mfeat", "--student", "all", "--quiet"], 1))
    extra = ["--seeds", "1", "--epochs", "2"] if cfg["quick_cli"] else []
    jobs += [
        ("validate", ["validate", "--data", "digits-avt", "--student", "audio", "--quiet", *extra], 1),
        ("validate", ["validate", "--data", "mfeat", "--student", "mor", "--quiet", *extra], 1),
    ]
    rows = []
    for _kind, args, reps in jobs:
        times, peaks, cpus, status = [], [], [], "ok"
        for _ in range(reps):
            m = measure_subprocess(base + args, cwd=ROOT, env={"PYTHONWARNINGS": "ignore"})
            if m["returncode"] != 0:
                status = f"exit {m['returncode']}: {(m['stderr'].strip().splitlines() or ['?'])[-1][:100]}"
            times.append(m["seconds"])
            peaks.append(m["peak_mib"])
            cpus.append(m["cpu_seconds"])
        times.sort()
        rows.append({
            "command": "cchkit " + " ".join(args),
            "runs": reps,
            "wall s (median)": times[len(times) // 2],
            "wall s (min–max)": f"{times[0]:.1f}–{times[-1]:.1f}",
            "CPU s": sorted(cpus)[len(cpus) // 2],
            "peak RSS MiB": max(peaks),
            "status": status,
        })
        log(f"cli: {rows[-1]['command']}: {rows[-1]['wall s (median)']:.1f} s, {rows[-1]['peak RSS MiB']:.0f} MiB")
    return rows


def loglog_slope(xs: list[float], ys: list[float]) -> float:
    import numpy as np

    x, y = np.asarray(xs, float), np.asarray(ys, float)
    ok = np.isfinite(x) & np.isfinite(y) & (y > 0)
    if ok.sum() < 2:
        return math.nan
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


def plot(n_rows: list[dict[str, Any]], k_rows: list[dict[str, Any]]) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    ax = axes[0]
    for key in dict.fromkeys((r["representation"], r["estimator"]) for r in n_rows):
        pts = [(r["n"], r["seconds"]) for r in n_rows if (r["representation"], r["estimator"]) == key
               and math.isfinite(r.get("seconds", math.nan))]
        if pts:
            ax.loglog(*zip(*pts), "o-", label=f"{key[0]} + {key[1]}")
    ns = sorted({r["n"] for r in n_rows})
    if ns:
        ref = [r for r in n_rows if (r["representation"], r["estimator"]) == ("pca", "gaussian")
               and math.isfinite(r.get("seconds", math.nan))]
        if ref:
            t0 = ref[0]["seconds"]
            ax.loglog(ns, [t0 * n / ns[0] for n in ns], ":", color="grey", label="linear in n (reference)")
    ax.set_xlabel("n (paired samples)")
    ax.set_ylabel("rank_teachers wall time (s)")
    ax.set_title("time vs n (2 candidates, 32 features each)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    ax = axes[1]
    pts = [(r["k"], r["seconds"]) for r in k_rows if math.isfinite(r.get("seconds", math.nan))]
    if pts:
        ax.plot(*zip(*pts), "o-")
    ax.set_xlabel("candidate teachers")
    ax.set_ylabel("rank_teachers wall time (s)")
    ax.set_title("time vs candidates (n = 2,000, pca + gaussian)", fontsize=10)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(OUT_PNG, dpi=110)
    plt.close(fig)
    return True


def _ksg_target_text(rows: list[dict[str, Any]], cfg: dict[str, Any]) -> str:
    one = [r for r in rows if "--n-jobs 1" in r["command"]]
    def verdict(r: dict[str, Any]) -> str:
        if cfg["ksg_n"] != KSG_TARGET_N:
            return "not the target's n"
        ok = r["status"] == "ok" and r["wall s"] < KSG_TARGET_SECONDS and r["every term has an interval"].startswith("True")
        return "met" if ok else "NOT met"

    verdicts = [f"{r['total dims per pair']} dims per pair, one thread: {r['wall s']:.1f} s ({verdict(r)})" for r in one]
    return ("\n## 4. `cchkit rank -e ksg` at large n\n\n"
            f"A synthetic bundle of 3 modalities (student and 2 teachers, 32 features each, the section 3 generator), "
            f"n = {cfg['ksg_n']:,}, saved to a directory and ranked by the CLI as a subprocess (start-up included). "
            "`--dim 16` (the default) gives 32 total dimensions per pair, where the exact search is O(n^2) brute "
            "force; `--dim 5` gives 10, where the k-d tree works.\n\n" + md_table(rows, digits=1)
            + f"\nTarget (< {KSG_TARGET_SECONDS:.0f} s at n = {KSG_TARGET_N:,}, intervals on every term): "
            + "; ".join(verdicts) + ".\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny settings (plumbing check)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--skip-cli", action="store_true", help="leave out section 1")
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    cfg = QUICK if args.quick else FULL
    started, load_start, t0 = now(), load_average(), time.perf_counter()

    startup_rows = startup_section(cfg)
    cli_rows = [] if args.skip_cli else cli_section(cfg)

    k_rows = []
    for k in cfg["candidates"]:
        r = run_worker({"n": 2000, "k": k, "representation": "pca", "estimator": "gaussian"}, cfg["point_timeout"])
        k_rows.append(r)
        log(f"candidates k={k}: {r['seconds']:.2f} s ({r['status']}); load {load_average()}")

    n_rows = []
    for rep, est, n_max in cfg["configs"]:
        for n in cfg["ns"]:
            if n > n_max:
                continue
            prev = [x for x in n_rows if (x["representation"], x["estimator"]) == (rep, est)]
            skip = None
            if any(x["timed_out"] for x in prev):
                skip = "skipped (a smaller n timed out)"
            else:
                done = [x for x in prev if math.isfinite(x.get("seconds", math.nan))]
                if len(done) >= 2:  # extrapolate from the last two points (log-log)
                    b = loglog_slope([x["n"] for x in done[-2:]], [x["seconds"] for x in done[-2:]])
                    guess = done[-1]["seconds"] * (n / done[-1]["n"]) ** max(b, 1.0)
                    if guess > 1.5 * cfg["point_timeout"]:
                        skip = (f"skipped: extrapolated ~{guess:.0f} s (slope {b:.2f}) > the "
                                f"{cfg['point_timeout']} s limit")
            if skip:
                n_rows.append({"n": n, "k": 2, "representation": rep, "estimator": est, "seconds": math.nan,
                               "peak_mib": math.nan, "rss_before_mib": math.nan, "timed_out": True,
                               "status": skip})
                log(f"n={n} {rep}+{est}: {skip}")
                continue
            r = run_worker({"n": n, "k": 2, "representation": rep, "estimator": est}, cfg["point_timeout"])
            n_rows.append(r)
            log(f"n={n} {rep}+{est}: {r['seconds']:.2f} s, {r.get('peak_mib', math.nan):.0f} MiB ({r['status']}); "
                f"load {load_average()}")

    ksg_rows = ksg_target_section(cfg)
    png = plot(n_rows, k_rows)
    seconds = time.perf_counter() - t0
    parts = [header("End-to-end time and memory", started=started, seconds=seconds, load_start=load_start,
                    extra={"mode": "QUICK (tiny settings: plumbing check only)" if args.quick else "full"})]
    parts.append(
        "\n## 0. Start-up\n\n"
        f"Median of {cfg['startup_repeats']} subprocess runs (`python -c 'from cchkit.cli import main; main()'` for the "
        f"commands); `{BEFORE_LIGHT_IMPORT}` is the code before the light import, run from a temporary git worktree "
        "with the same interpreter. 'imports torch': whether `import cchkit` loads torch.\n\n"
        + md_table(startup_rows, digits=2))
    if cli_rows:
        parts.append(
            "\n## 1. The command line\n\n"
            "Each command runs as a subprocess from the repository root, default settings plus `--quiet` "
            "(`rank`: `pca` representation, `gaussian` estimator, 200 bootstrap resamples; `validate`: the same "
            "ranking, then its default methods (`class-align`, plus paired `logit-kd` on paired data) and the `none` "
            "baseline, 5 seeds, 30 epochs, 1 job)"
            + (" — QUICK mode adds `--seeds 1 --epochs 2` to validate" if cfg["quick_cli"] else "")
            + ". Wall time includes Python start-up and imports (torch); peak RSS is the process's maximum "
              "resident memory (`/usr/bin/time -v`).\n\n" + md_table(cli_rows, digits=1))
    kk = [{"candidates": r["k"], "rank s": r["seconds"], "s per candidate": r["seconds"] / r["k"],
           "peak RSS MiB": r.get("peak_mib"), "RSS before rank MiB": r.get("rss_before_mib"), "status": r["status"]}
          for r in k_rows]
    slope_k = loglog_slope([r["k"] for r in k_rows], [r["seconds"] for r in k_rows])
    parts.append(
        "\n## 2. Scaling with the number of candidate teachers\n\n"
        "`rank_teachers(bundle, 'student')` (every other modality a candidate), n = 2,000, 32 features per "
        "modality, 10 classes, defaults (`pca`, `gaussian`, 200 bootstrap resamples). Time of the call only; "
        "peak RSS of the whole process (torch and numpy imports included; 'before' is the peak before the call).\n\n"
        + md_table(kk, digits=2)
        + f"\nlog-log slope of time against the number of candidates: {slope_k:.2f} (1 = linear: one pair of MI "
          "terms per candidate plus one label term per modality).\n")
    nn = []
    for r in n_rows:
        nn.append({"n": r["n"], "representation": r["representation"], "estimator": r["estimator"],
                   "rank s": r.get("seconds"), "peak RSS MiB": r.get("peak_mib"),
                   "RSS before rank MiB": r.get("rss_before_mib"), "status": r["status"]})
    notes = []
    for key in dict.fromkeys((r["representation"], r["estimator"]) for r in n_rows):
        rs = [r for r in n_rows if (r["representation"], r["estimator"]) == key]
        ok = [r for r in rs if math.isfinite(r.get("seconds", math.nan))]
        slope = loglog_slope([r["n"] for r in ok], [r["seconds"] for r in ok])
        local = loglog_slope([r["n"] for r in ok[-2:]], [r["seconds"] for r in ok[-2:]]) if len(ok) >= 2 else math.nan
        msg = f"- `{key[0]}` + `{key[1]}`: "
        if ok:
            msg += (f"largest n finished {ok[-1]['n']:,} in {ok[-1]['seconds']:.1f} s "
                    f"(peak {ok[-1].get('peak_mib', math.nan):.0f} MiB); log-log slope {slope:.2f} over all points, "
                    f"{local:.2f} between the two largest")
        else:
            msg += "no point finished"
        bad = [r for r in rs if r.get("timed_out")]
        if bad:
            msg += (f"; **does not scale** to n = {bad[0]['n']:,}: "
                    + ("timed out" if bad[0]["status"].startswith("timed out") else "extrapolated past")
                    + f" the {cfg['point_timeout']} s limit")
        elif math.isfinite(local) and local > 1.5:
            msg += "; **super-linear** at the largest n"
        notes.append(msg + ".")
    parts.append(
        "\n## 3. Scaling with n\n\n"
        "`rank_teachers(bundle, 'student')` with 2 candidates (32 features each), one fresh process per point, "
        f"limit {cfg['point_timeout']} s per point; a configuration stops at its first time-out.\n\n"
        + md_table(nn, digits=2) + "\n" + "\n".join(notes) + "\n")
    parts.append(_ksg_target_text(ksg_rows, cfg))
    if png:
        parts.append(f"\n![time vs n (log-log) and vs candidates]({OUT_PNG.name})\n")
    write_atomic(OUT_MD, "".join(parts))
    log(f"end_to_end: wrote {OUT_MD} in {seconds / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
