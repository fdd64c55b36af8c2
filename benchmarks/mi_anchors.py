"""Side-by-side MI benchmark: cchkit's estimators against the anchor libraries, same tasks, one run.

Tasks: Gaussian pairs with closed-form MI from :mod:`cchkit.datasets.mi_tasks` ("sparse": 2
correlated coordinate pairs as in bmi's multinormal-sparse tasks; "dense": all channels, mixed),
dims 1x1, 5x5, 25x25, 50x50, MI 1 and 5 nats, n = 10,000, plus a 100,000-row KSG 5x5 row,
and sparse 5x5 at 1 nat also at n = 1,000, 3,000 and 30,000 ("scaling" rows: every estimator
and anchor but latentmi, cchkit's neural ones with one seed) for the log-log plot of time
against n, ``estimators_time_vs_n.png``.
cchkit's neural estimators (InfoNCE with its default MLP critic and with the quadratic critic,
MINE) run with ``--seeds`` seeds (default 5) on sparse 1x1, 5x5, 50x50 and dense 5x5; each cell
then shows the mean +- standard deviation over seeds, the error of the mean and the time per seed.

The anchors (bmi = benchmark-mi with jax 0.4.30, npeet-plus, torch-mist, latentmi) run in their
own virtual environment, ``benchmarks/.venv-anchors``, which this script creates on first use.
Data travel to it as .npz files, so both sides see the same samples.

Usage::

    python benchmarks/mi_anchors.py --only all --jobs 2    # the side-by-side run (about 40 min on 2 cores)
    python benchmarks/mi_anchors.py --only cchkit         # cchkit's estimators only
    python benchmarks/mi_anchors.py --only cchkit-ksg     # ... KSG and Gaussian only
    python benchmarks/mi_anchors.py --only cchkit-neural  # ... InfoNCE and MINE only
    python benchmarks/mi_anchors.py --only anchors        # cheap anchors (KSG, CCA)
    python benchmarks/mi_anchors.py --only anchors-neural # bmi / torch-mist MINE, InfoNCE; latentmi
    python benchmarks/mi_anchors.py --quick               # a few small tasks, 2 seeds
    python benchmarks/mi_anchors.py --table-only          # rebuild the table from the records

Every run gets a run id; its records go to ``benchmarks/results/estimators.jsonl`` (records of
earlier runs are dropped when a new run starts; ``--append`` adds to the latest run instead),
and ``benchmarks/results/estimators.md`` is built from the records of that one run only.
``--jobs 2`` runs two tasks (or seeds) at a time, each estimator single-threaded.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = HERE / ".venv-anchors"
RESULTS = HERE / "results"
JSONL = RESULTS / "estimators.jsonl"
TABLE = RESULTS / "estimators.md"
ANCHOR_PACKAGES = ["benchmark-mi", "jax==0.4.30", "jaxlib==0.4.30", "npeet-plus", "torch-mist", "latentmi"]
SEED = 42
#: the extra n of the sparse 5x5, 1-nat task for the time-vs-n plot (10,000 and 100,000 exist)
SCALING_NS = (1_000, 3_000, 30_000)
PLOT = RESULTS / "estimators_time_vs_n.png"
KSG_POINT = "KSG k=3, point only (cchkit)"
INFONCE_CEILING = "InfoNCE ceiling: exact critic, K = n/2 (reference)"
KSG_BOTH_CORES = "KSG k=3, point only, n_jobs=2 (cchkit)"
NPEET_STD = "KSG k=3 (npeet-plus, standardised input)"
#: cchkit's neural estimators: (column label, registry name, parameters)
CCHKIT_NEURAL = [
    ("InfoNCE (cchkit)", "infonce", {}),
    ("InfoNCE, quadratic critic (cchkit)", "infonce", {"critic": "quadratic"}),
    ("MINE (cchkit)", "mine", {}),
]
RUN_ID = os.environ.get("CCHKIT_MI_RUN") or _dt.datetime.now().strftime("%Y%m%dT%H%M%S")
NEURAL_STEPS, NEURAL_BATCH = 2000, 256  # anchors' settings, as in the reference measurement
#: latentmi's autoencoder epochs (its default, 300, took over 10 min per 5x5 task on one thread)
LATENTMI_EPOCHS = 50
#: latentmi's KSG (adapted from NPEET) reports bits
LATENTMI_TO_NATS = math.log(2)


# ------------------------------------------------------------------------------ tasks
def task_list(quick: bool) -> list[dict]:
    """(kind, d, mi, n, which) with which in {"all", "ksg"} (the 100k row is KSG only)."""
    if quick:
        return [
            dict(kind="sparse", d=1, mi=1.0, n=10_000, which="all"),
            dict(kind="sparse", d=5, mi=1.0, n=10_000, which="all"),
            dict(kind="sparse", d=5, mi=5.0, n=10_000, which="all"),
        ]
    out = []
    for kind in ("sparse", "dense"):
        for d in (1, 5, 25, 50):
            if kind == "dense" and d == 1:
                continue  # same as sparse 1x1
            for mi in (1.0, 5.0):
                out.append(dict(kind=kind, d=d, mi=mi, n=10_000, which="all"))
    out.append(dict(kind="sparse", d=5, mi=1.0, n=100_000, which="ksg"))
    out += [dict(kind="sparse", d=5, mi=1.0, n=m, which="scaling") for m in SCALING_NS]
    return out


def task_name(t: dict) -> str:
    return f"{t['kind']}"


def sample(t: dict):
    sys.path.insert(0, str(ROOT))
    from cchkit.datasets.mi_tasks import gaussian_task

    return gaussian_task(t["kind"], t["d"], t["d"], t["mi"], n=t["n"], random_state=SEED, n_pairs=_n_pairs(t))


def _n_pairs(t: dict) -> int | None:
    """Correlated channel pairs: 2 for the sparse tasks, all channels for the dense ones."""
    return min(t["d"], 2) if t["kind"] == "sparse" else None


# ------------------------------------------------------------------------------ records
def read_records(run: str | None = None) -> list[dict]:
    """The records of one run (default: the latest run in the file)."""
    if not JSONL.exists():
        return []
    recs = [json.loads(line) for line in JSONL.read_text().splitlines() if line.strip()]
    if not recs:
        return []
    run = run or recs[-1].get("run")
    return [r for r in recs if r.get("run") == run]


def start_run(append: bool) -> None:
    """A new run starts with an empty records file (one run per table); --append keeps the latest run's."""
    global RUN_ID
    RESULTS.mkdir(parents=True, exist_ok=True)
    if append:
        old = read_records()
        if old:
            RUN_ID = old[-1]["run"]
        JSONL.write_text("".join(json.dumps(r) + "\n" for r in old))
    else:
        JSONL.write_text("")
    os.environ["CCHKIT_MI_RUN"] = RUN_ID


def save_record(rec: dict) -> None:
    """Append one record (append-only, so parallel workers do not overwrite each other)."""
    with open(JSONL, "a") as fh:
        fh.write(json.dumps(rec) + "\n")
    print(json.dumps(rec), flush=True)


def make_record(t: dict, truth: float, est: str, value: float, sec: float, error: str | None, side: str,
                seed: int | None = None, steps: int | None = None) -> dict:
    return dict(
        run=RUN_ID, task=t["kind"], dims=f"{t['d']}x{t['d']}", n=t["n"], truth=round(float(truth), 4),
        estimator=est, side=side, seed=seed, value=float(value), abs_err=abs(float(value) - float(truth)),
        sec=round(sec, 2), steps=steps, error=error, date=_dt.datetime.now().isoformat(timespec="seconds"),
    )


# ------------------------------------------------------------------------------ cchkit side
def neural_task(t: dict) -> bool:
    """The neural estimators run on a subset (CPU budget): sparse 1x1, 5x5, 50x50 and dense 5x5."""
    if t["which"] == "scaling":
        return True
    return t["which"] == "all" and t["n"] <= 10_000 and (
        (t["kind"] == "sparse" and t["d"] in (1, 5, 50)) or (t["kind"] == "dense" and t["d"] == 5)
    )


def infonce_ceiling(t: dict, x, y) -> float:
    """InfoNCE of the exact optimal critic ``log p(y | x) - log p(y)`` over K = n/2 held-out rows.

    The bound's own finite-K gap, ``E log(1 + r / K)`` roughly: no trained critic can be
    expected to beat it, so it separates the bound's bias from the critic's training error.
    """
    sys.path.insert(0, str(ROOT))
    import numpy as np
    import torch

    from cchkit.datasets.mi_tasks import gaussian_task_covariance
    from cchkit.estimators.bounds import infonce_terms

    d = x.shape[1]
    _, _, _, cov = gaussian_task_covariance(t["kind"], d, d, t["mi"], n_pairs=_n_pairs(t))
    sxx, syy, sxy = cov[:d, :d], cov[d:, d:], cov[:d, d:]
    reg = sxy.T @ np.linalg.inv(sxx)  # E[y | x] = reg x
    s_inv, syy_inv = np.linalg.inv(syy - reg @ sxy), np.linalg.inv(syy)
    k = x.shape[0] // 2
    mu, ye = x[k:] @ reg.T, y[k:]
    quad = ((ye @ s_inv) * ye).sum(1)[None, :] - 2 * (mu @ s_inv @ ye.T) + ((mu @ s_inv) * mu).sum(1)[:, None]
    scores = -0.5 * quad + 0.5 * ((ye @ syy_inv) * ye).sum(1)[None, :]
    return float(infonce_terms(torch.from_numpy(scores)).mean())


def _cchkit_one(t: dict, label: str, name: str, kw: dict, seed: int | None) -> dict:
    sys.path.insert(0, str(ROOT))
    if name == "ceiling":
        x, y, truth = sample(t)
        t0 = time.perf_counter()
        return make_record(t, truth, label, infonce_ceiling(t, x, y), time.perf_counter() - t0, None, "cchkit", None, None)
    from cchkit.estimators import get_estimator

    x, y, truth = sample(t)
    params = dict(kw, random_state=0 if seed is None else seed)
    if name == "ksg":
        params.setdefault("n_jobs", 1)
    t0 = time.perf_counter()
    steps = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = get_estimator(name, **params).estimate(x, y)
        value, err, steps = est.value, None, est.extra.get("steps")
    except Exception as exc:  # a benchmark records failures
        value, err = float("nan"), f"{type(exc).__name__}: {exc}"[:200]
    return make_record(t, truth, label, value, time.perf_counter() - t0, err, "cchkit", seed, steps)


def run_cchkit(tasks: list[dict], neural: bool, ksg: bool, seeds: int, jobs: int) -> None:
    units: list[tuple] = []
    for t in tasks:
        if ksg:
            if not (t["d"] >= 25 and t["n"] > 10_000):
                units.append((t, "KSG k=3 (cchkit)", "ksg", dict(k=3), None))
                # like for like with the anchors, which return a point estimate only
                units.append((t, KSG_POINT, "ksg", dict(k=3, n_bootstrap=0), None))
            if t["which"] in ("all", "scaling"):
                units.append((t, "Gaussian (cchkit)", "gaussian", {}, None))
        if neural and neural_task(t):
            n_seeds = 1 if t["which"] == "scaling" else seeds
            units += [(t, label, name, kw, s) for label, name, kw in CCHKIT_NEURAL for s in range(n_seeds)]
            units.append((t, INFONCE_CEILING, "ceiling", {}, None))
    # one process per job (spawned, so torch starts fresh); every estimator runs single-threaded
    # (neural: n_threads=1; KSG: n_jobs=1)
    import multiprocessing as mp

    with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn"),
                             initializer=_single_thread) as pool:
        for rec in pool.map(_cchkit_unit, units):
            save_record(rec)
    # KSG on both cores (n_jobs=2), one unit at a time with nothing else running, on the tasks
    # the speed targets name
    both = [(t, KSG_BOTH_CORES, "ksg", dict(k=3, n_bootstrap=0, n_jobs=2), None) for t in tasks
            if ksg and ((t["d"] == 5 and t["n"] == 100_000) or (t["d"] == 50 and t["mi"] == 5.0 and t["n"] == 10_000))]
    for u in both:
        with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
            save_record(pool.submit(_cchkit_unit, u).result())


def _single_thread() -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)


def _cchkit_unit(u: tuple) -> dict:
    return _cchkit_one(*u)


# ------------------------------------------------------------------------------ anchors side
def ensure_venv() -> Path:
    py = VENV / "bin" / "python"
    if py.exists():
        probe = subprocess.run([str(py), "-c", "import bmi, npeet_plus, torch_mist, latentmi"], capture_output=True)
        if probe.returncode == 0:
            return py
    print(f"creating {VENV} (torch first, then the anchors; several minutes)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(py), "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["torch==2.13.0"], check=True)
    subprocess.run(pip + ANCHOR_PACKAGES, check=True)
    return py


def _anchor_task(py: Path, tmp: str, i: int, t: dict, neural: bool) -> list[dict]:
    import numpy as np

    x, y, truth = sample(t)
    f = Path(tmp) / f"task{i}.npz"
    np.savez(f, x=x, y=y)
    out = Path(tmp) / f"task{i}-{'neural' if neural else 'cheap'}.jsonl"
    cmd = [str(py), str(Path(__file__).resolve()), "--worker", "neural" if neural else "cheap", str(f), str(out)]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    proc = subprocess.run(cmd, env=env)
    if proc.returncode != 0:
        print(f"anchor worker failed on task {t}", flush=True)
    recs = []
    if out.exists():
        for line in out.read_text().splitlines():
            r = json.loads(line)
            recs.append(make_record(t, truth, r["est"], r["value"], r["sec"], r["error"], "anchor"))
    return recs


def run_anchors(tasks: list[dict], neural: bool, jobs: int) -> None:
    py = ensure_venv()
    todo = [(i, t) for i, t in enumerate(tasks)
            if t["which"] in ("all", "scaling") or (t["which"] == "ksg" and not neural)]
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=jobs) as pool:
        for recs in pool.map(lambda it: _anchor_task(py, tmp, it[0], it[1], neural), todo):
            for r in recs:
                save_record(r)


def worker(mode: str, npz: str, out: str) -> None:
    """Runs inside the anchors' venv: the anchor estimators on one task."""
    import numpy as np

    warnings.filterwarnings("ignore")
    data = np.load(npz, allow_pickle=False)
    x, y = data["x"], data["y"]

    def cheap():
        import bmi
        import npeet_plus

        yield "KSG k=3 (npeet-plus)", lambda: npeet_plus.mi(x, y, k=3, base=np.e)
        if x.shape[1] <= 5:
            # max-norm KSG is not scale invariant: cchkit (and bmi) standardise each column
            # first, npeet-plus does not; on the same standardised input they should agree
            def zs(a):
                return (a - a.mean(axis=0)) / a.std(axis=0)

            yield NPEET_STD, lambda: npeet_plus.mi(zs(x), zs(y), k=3, base=np.e)
        if x.shape[0] <= 30_000:  # bmi's KSG is O(n^2) memory-light but slow: 100,000 rows take minutes
            def bmi_ksg():
                e = bmi.estimators.KSGEnsembleFirstEstimator(neighborhoods=(3,), n_jobs=1)
                e.fit(x, y)
                return e.get_predictions()[3]

            yield "KSG k=3 (bmi)", bmi_ksg
            yield "CCA (bmi)", lambda: bmi.estimators.CCAMutualInformationEstimator().estimate(x, y)

    def neural():
        import bmi
        import torch

        torch.set_num_threads(1)
        kw = dict(max_n_steps=NEURAL_STEPS, batch_size=NEURAL_BATCH, test_every_n_steps=1000, verbose=False)
        for nm, cls in (("MINE", "MINEEstimator"), ("InfoNCE", "InfoNCEEstimator")):
            yield f"{nm} (bmi)", (lambda c=cls: getattr(bmi.estimators, c)(**kw).estimate(x, y))
        from torch_mist import estimate_mi

        ntr = len(x) // 2
        tx, ty = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
        for nm in ("mine", "infonce"):
            def f(nm=nm):
                torch.manual_seed(0)
                v = estimate_mi({"x": tx[:ntr], "y": ty[:ntr]}, estimator=nm, hidden_dims=[64, 64],
                                test_data={"x": tx[ntr:], "y": ty[ntr:]}, max_iterations=NEURAL_STEPS,
                                batch_size=NEURAL_BATCH, verbose=False, logger=False, early_stopping=False)
                return float(v[0] if isinstance(v, tuple) else v)

            yield f"{'MINE' if nm == 'mine' else 'InfoNCE'} (torch-mist)", f

        def latent():
            # latent MI (Gowri et al. 2024): autoencoder embeddings, then KSG on the latents;
            # the mean pointwise MI is the estimate (its KSG uses log base 2: converted to nats)
            import contextlib
            import io

            from latentmi import lmi

            torch.manual_seed(0)
            np.random.seed(0)
            with contextlib.redirect_stdout(io.StringIO()):  # it prints every epoch even when quiet
                pmis, _, _ = lmi.estimate(x, y, quiet=True, epochs=LATENTMI_EPOCHS)
            return float(np.nanmean(pmis)) * LATENTMI_TO_NATS

        if x.shape[0] == 10_000:  # its autoencoder takes ~110 s a task: the 10,000-row tasks only
            yield "LMI (latentmi)", latent

    for est, fn in (cheap() if mode == "cheap" else neural()):
        t0 = time.perf_counter()
        try:
            value, err = float(fn()), None
        except Exception as exc:
            value, err = float("nan"), f"{type(exc).__name__}: {exc}"[:200]
        rec = dict(est=est, value=value, sec=time.perf_counter() - t0, error=err)
        with open(out, "a") as fh:
            fh.write(json.dumps(rec) + "\n")
        print(json.dumps(rec), flush=True)


# ------------------------------------------------------------------------------ table
def _agg(recs: list[dict]) -> dict:
    ok = [r for r in recs if not r.get("error") and math.isfinite(r["value"])]
    if not ok:
        return dict(n=0, error=recs[0].get("error") if recs else "no record")
    vals = [r["value"] for r in ok]
    mean = statistics.fmean(vals)
    return dict(n=len(ok), mean=mean, sd=statistics.stdev(vals) if len(vals) > 1 else None,
                err=abs(mean - ok[0]["truth"]), sec=statistics.fmean(r["sec"] for r in ok),
                max_err=max(abs(v - ok[0]["truth"]) for v in vals))


def _cell(a: dict | None) -> str:
    if a is None:
        return "–"
    if not a["n"]:
        return "error"
    if a["sd"] is None:
        return f"{a['mean']:.2f} / {a['err']:.2f} / {a['sec']:.1f}s"
    return f"{a['mean']:.2f} ± {a['sd']:.2f} / {a['err']:.2f} / {a['sec']:.1f}s"


def build_rows(recs: list[dict]) -> tuple[dict, list[str]]:
    groups: dict[tuple, dict[str, list[dict]]] = {}
    for r in recs:
        key = (r["task"], r["dims"], r["n"], r["truth"])
        groups.setdefault(key, {}).setdefault(r["estimator"], []).append(r)
    cols = list(dict.fromkeys(r["estimator"] for r in recs))
    cchkit_order = (["Gaussian (cchkit)", "KSG k=3 (cchkit)", KSG_POINT, KSG_BOTH_CORES]
                    + [c[0] for c in CCHKIT_NEURAL] + [INFONCE_CEILING])
    cols = [c for c in cchkit_order if c in cols] + sorted(c for c in cols if "(cchkit)" not in c and c not in cchkit_order)
    rows = {k: {e: _agg(v) for e, v in g.items()} for k, g in groups.items()}
    return rows, cols


def _ratio(row: dict, mine: str, anchor_prefixes: tuple[str, ...]) -> float | None:
    a = row.get(mine)
    # anchors only: cchkit's own columns and the references (the exact-critic InfoNCE ceiling) are not anchors
    anchors = [v["sec"] for k, v in row.items()
               if "(cchkit)" not in k and "(reference)" not in k and k.startswith(anchor_prefixes) and v["n"]]
    if not a or not a["n"] or not anchors:
        return None
    return a["sec"] / max(min(anchors), 1e-3)


def targets(rows: dict) -> list[str]:
    """The issue's targets, each with the figures that decide it."""
    def get(kind, dims, mi, est, n=10_000):
        a = rows.get((kind, dims, n, mi), {}).get(est)
        return a if a and a["n"] else None

    out = ["## The issue's targets", ""]
    # Gaussian
    for kind in ("sparse", "dense"):
        g, cca = get(kind, "50x50", 5.0, "Gaussian (cchkit)"), get(kind, "50x50", 5.0, "CCA (bmi)")
        if g:
            line = f"- Gaussian, {kind} 50x50, MI 5: error {g['err']:.3f} (target <= 0.03: {'met' if g['err'] <= 0.03 else 'NOT met'})"
            if cca:
                sp = cca["sec"] / g["sec"]
                line += f"; {g['sec']:.2f} s vs bmi CCA {cca['sec']:.1f} s = {sp:.1f}x faster (target >= 20x: {'met' if sp >= 20 else 'NOT met'})"
            out.append(line + ".")
    # KSG agreement with npeet-plus (on the same standardised input; raw input for reference)
    for ref, what in ((NPEET_STD, "npeet-plus on the same standardised input"),
                      ("KSG k=3 (npeet-plus)", "npeet-plus on the raw input (no standardisation)")):
        diffs = []
        for key, row in rows.items():
            if key[1] in ("1x1", "5x5") and key[2] == 10_000:
                a, b = row.get("KSG k=3 (cchkit)"), row.get(ref)
                if a and b and a["n"] and b["n"]:
                    diffs.append((abs(a["mean"] - b["mean"]), f"{key[0]} {key[1]} MI {key[3]:g}"))
        if diffs:
            worst = max(diffs)
            verdict = "met" if worst[0] <= 0.02 else "NOT met"
            if ref != NPEET_STD:
                verdict = "for reference: the target compares like with like, above"
            out.append(f"- KSG vs {what}, 1x1 and 5x5 ({len(diffs)} tasks): largest difference {worst[0]:.4f} "
                       f"({worst[1]}) (target <= 0.02: {verdict}).")
    for kind in ("sparse", "dense"):
        for mi in (1.0, 5.0):
            a, b = get(kind, "50x50", mi, KSG_POINT), get(kind, "50x50", mi, "KSG k=3 (npeet-plus)")
            full = get(kind, "50x50", mi, "KSG k=3 (cchkit)")
            if a and b:
                sp = b["sec"] / a["sec"]
                line = (f"- KSG {kind} 50x50 MI {mi:g}: point estimate {a['sec']:.1f} s vs npeet-plus {b['sec']:.1f} s "
                        f"= {sp:.1f}x (target >= 5x: {'met' if sp >= 5 else 'NOT met'})")
                if full:
                    line += f"; with the 100-subsample interval {full['sec']:.1f} s ({b['sec'] / full['sec']:.1f}x)"
                two = get(kind, "50x50", mi, KSG_BOTH_CORES)
                if two:
                    line += f"; point estimate on both cores (n_jobs=2) {two['sec']:.1f} s ({b['sec'] / two['sec']:.1f}x)"
                out.append(line + ".")
    for est in (KSG_POINT, "KSG k=3 (cchkit)", KSG_BOTH_CORES):
        big = get("sparse", "5x5", 1.0, est, n=100_000)
        if big:
            what = {KSG_POINT: "point estimate, single-threaded", KSG_BOTH_CORES: "point estimate, both cores (n_jobs=2)"}.get(
                est, "with the interval, single-threaded")
            out.append(f"- KSG, 100,000 samples at 5x5, {what}: {big['sec']:.1f} s (target < 10 s: "
                       f"{'met' if big['sec'] < 10 else 'NOT met'}).")
    # neural
    for dims, tol, limit in (("50x50", 0.3, 40.0), ("5x5", 0.1, None)):
        for kind in ("sparse", "dense") if dims == "5x5" else ("sparse",):
            for est in [c[0] for c in CCHKIT_NEURAL]:
                a = get(kind, dims, 5.0, est)
                if not a:
                    continue
                ok = a["err"] <= tol and (limit is None or a["sec"] < limit)
                sd = f" ± {a['sd']:.3f}" if a["sd"] is not None else ""
                line = (f"- {est}, {kind} {dims}, MI 5: {a['mean']:.3f}{sd} over {a['n']} seed(s), error of the mean "
                        f"{a['err']:.3f} (worst seed {a['max_err']:.3f}), {a['sec']:.1f} s per seed on one CPU thread "
                        f"(target <= {tol}" + (f" in < {limit:.0f} s" if limit else "") + f": {'met' if ok else 'NOT met'})")
                ceiling = get(kind, dims, 5.0, INFONCE_CEILING)
                if ceiling and est.startswith("InfoNCE"):
                    line += f"; the exact critic's InfoNCE at this K: {ceiling['mean']:.3f} (error {ceiling['err']:.3f})"
                out.append(line + ".")
    return out + _targets_19(get)


def _targets_19(get) -> list[str]:  # noqa: ANN001
    """Issue #19's targets (single thread, this CPU)."""
    out = ["", "### Issue #19", ""]
    for kind in ("sparse", "dense"):
        a = get(kind, "50x50", 5.0, KSG_POINT)
        bmi, npeet = get(kind, "50x50", 5.0, "KSG k=3 (bmi)"), get(kind, "50x50", 5.0, "KSG k=3 (npeet-plus)")
        if a:
            line = f"- KSG {kind} 50x50 MI 5, n = 10,000, point estimate: {a['sec']:.2f} s (target <= 1.0 s: {'met' if a['sec'] <= 1.0 else 'NOT met'})"
            if bmi:
                line += f"; {bmi['sec'] / a['sec']:.1f}x ahead of bmi (target >= 3x: {'met' if bmi['sec'] >= 3 * a['sec'] else 'NOT met'})"
            if npeet:
                line += f"; {npeet['sec'] / a['sec']:.1f}x ahead of npeet-plus (target >= 10x: {'met' if npeet['sec'] >= 10 * a['sec'] else 'NOT met'})"
            out.append(line + ".")
    big = get("sparse", "5x5", 1.0, KSG_POINT, n=100_000)
    if big:
        out.append(f"- KSG 100,000 x (5x5), point estimate, one thread: {big['sec']:.2f} s (target <= 4 s: "
                   f"{'met' if big['sec'] <= 4 else 'NOT met'}).")
    mine = get("sparse", "50x50", 5.0, "MINE (cchkit)")
    if mine:
        out.append(f"- MINE sparse 50x50 MI 5: error of the mean {mine['err']:.3f}, worst seed {mine['max_err']:.3f} "
                   f"over {mine['n']} seeds (target <= 0.3: {'met' if mine['err'] <= 0.3 else 'NOT met'}).")
    return out


def plot_time_vs_n(rows: dict, cols: list[str]) -> bool:
    """Log-log time against n on sparse 5x5 at 1 nat, one line per estimator and anchor."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5))
    drawn = 0
    for c in cols:
        if "(reference)" in c:
            continue
        pts = sorted((key[2], a["sec"]) for key, row in rows.items() if key[:2] == ("sparse", "5x5")
                     and key[3] == 1.0 and (a := row.get(c)) and a["n"] and a["sec"] > 0)
        if len(pts) < 2:
            continue
        ax.plot(*zip(*pts), "o-" if "(cchkit)" in c else "s--", label=c, lw=1.2, ms=4)
        drawn += 1
    if not drawn:
        plt.close(fig)
        return False
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("n (rows)")
    ax.set_ylabel("seconds (one CPU thread; neural: per seed)")
    ax.set_title("sparse 5x5 Gaussian, MI 1 nat: time against n", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", ncol=2)
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)
    plt.close(fig)
    return True


def write_table(command: str, started: str, seconds: float, load_start: str, run: str | None = None) -> None:
    sys.path.insert(0, str(HERE))
    from _common import header, write_atomic

    recs = read_records(run)
    if not recs:
        print("no records yet")
        return
    rows, cols = build_rows(recs)
    dim_order = {"1x1": 0, "5x5": 1, "25x25": 2, "50x50": 3}
    seeds = max((a["n"] for row in rows.values() for e, a in row.items() if e in [c[0] for c in CCHKIT_NEURAL]), default=0)
    lines = [header("MI estimators: cchkit vs the anchor libraries, one run", started=started, seconds=seconds,
                    load_start=load_start, extra={"run id": recs[0]["run"]}), ""]
    lines += [
        "Each cell: **estimate / absolute error / seconds** (nats; wall-clock, one CPU thread per estimator;",
        "with `--jobs 2` two tasks ran at a time, one per core). cchkit's neural estimators: "
        f"**mean ± sd over {seeds} seeds / error of the mean / seconds per seed**.",
        "`ratio` = seconds of the cchkit estimator / seconds of the fastest anchor of the same family on",
        "that row (Gaussian vs bmi's CCA, KSG point only vs the KSG anchors, InfoNCE and MINE vs the",
        "neural anchors); below 1 means cchkit is faster.",
        "Tasks from `cchkit.datasets.mi_tasks.gaussian_task` (sparse: 2 correlated pairs; dense: all",
        f"channels, randomly mixed), samples seeded {SEED}, the same arrays for every estimator.",
        f"Neural anchors: {NEURAL_STEPS} steps, batch {NEURAL_BATCH} (bmi, torch-mist; their defaults otherwise);",
        f"latentmi: its defaults (autoencoder latents, then KSG) except {LATENTMI_EPOCHS} epochs (default 300).",
        "cchkit's Gaussian and KSG times include their intervals (Gaussian: bootstrap; KSG: 100 subsamples);",
        "the anchors return a point estimate only, so \"KSG k=3, point only\" (`n_bootstrap=0`) is the",
        "like-for-like KSG time; \"n_jobs=2\" ran on both cores with nothing else running.",
        "Max-norm KSG is not scale invariant: cchkit and bmi standardise each column, npeet-plus",
        "does not, so npeet-plus also runs on the standardised arrays (1x1, 5x5).",
        "\"InfoNCE ceiling\" is no estimator: the InfoNCE bound of the exact optimal critic (the true",
        "log density ratio) over the same K = n/2 held-out rows, i.e. the best any trained critic can",
        "expect; InfoNCE's error beyond it is training error, the rest is the bound's finite-K gap.",
        "No GPU in this run: GPU times are not available.",
        "",
        "| task | dims | n | true MI | " + " | ".join(cols) + " | ratio Gaussian | ratio KSG | ratio InfoNCE | ratio MINE |",
        "|" + "---|" * 4 + "---|" * len(cols) + "---:|" * 4,
    ]
    for key in sorted(rows, key=lambda k: (k[0], dim_order.get(k[1], 9), k[2], k[3])):
        row = rows[key]
        cells = [_cell(row.get(c)) for c in cols]
        ratios = [_ratio(row, "Gaussian (cchkit)", ("CCA",)), _ratio(row, KSG_POINT, ("KSG",)),
                  _ratio(row, "InfoNCE (cchkit)", ("InfoNCE",)), _ratio(row, "MINE (cchkit)", ("MINE",))]
        lines.append("| " + " | ".join(map(str, key)) + " | " + " | ".join(cells) + " | "
                     + " | ".join("–" if r is None else f"{r:.2f}" for r in ratios) + " |")
    lines += ["", *targets(rows)]
    if plot_time_vs_n(rows, cols):
        lines += ["", "## Time against n", "",
                  "Sparse 5x5 at 1 nat, n = 1,000 to 100,000 (solid: cchkit; dashed: anchors; bmi's KSG up to "
                  "30,000 and the neural estimators up to 30,000; KSG and npeet-plus also at 100,000).", "",
                  f"![time against n]({PLOT.name})"]
    errors = [r for r in recs if r.get("error")]
    if errors:
        lines += ["", "Errors:", ""] + [f"- {r['estimator']} on {r['task']} {r['dims']}: {r['error']}" for r in errors]
    write_atomic(TABLE, "\n".join(lines) + "\n")
    print(f"wrote {TABLE}")


# ------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", choices=["cchkit", "cchkit-ksg", "cchkit-neural", "anchors", "anchors-neural", "all"], default="all")
    p.add_argument("--quick", action="store_true", help="a few small tasks, 2 seeds")
    p.add_argument("--seeds", type=int, default=5, help="seeds of cchkit's neural estimators (default 5)")
    p.add_argument("--jobs", type=int, default=1, help="tasks (or seeds) at a time, each single-threaded")
    p.add_argument("--append", action="store_true", help="add to the latest run instead of starting a new one")
    p.add_argument("--table-only", action="store_true")
    p.add_argument("--dims", type=str, default=None, help="comma list of dims to keep, e.g. 5,50")
    p.add_argument("--worker", nargs=3, metavar=("MODE", "NPZ", "OUT"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        worker(*a.worker)
        return
    sys.path.insert(0, str(HERE))
    from _common import command_line, load_average, now

    started, load_start, t0 = now(), load_average(), time.perf_counter()
    if not a.table_only:
        start_run(a.append)
        tasks = task_list(a.quick)
        seeds = 2 if a.quick else a.seeds
        if a.dims:
            keep = {int(d) for d in a.dims.split(",")}
            tasks = [t for t in tasks if t["d"] in keep]
        if a.only in ("cchkit", "cchkit-ksg", "cchkit-neural", "all"):
            run_cchkit(tasks, neural=a.only != "cchkit-ksg", ksg=a.only != "cchkit-neural", seeds=seeds, jobs=a.jobs)
        if a.only in ("anchors", "all"):
            run_anchors(tasks, neural=False, jobs=a.jobs)
        if a.only in ("anchors-neural", "all"):
            run_anchors([t for t in tasks if t["d"] in (5, 50) and t["kind"] == "sparse"], neural=True, jobs=a.jobs)
    write_table(command_line(), started, time.perf_counter() - t0, load_start)


if __name__ == "__main__":
    main()
