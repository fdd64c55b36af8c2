"""Side-by-side MI benchmark: cchkit's estimators against the anchor libraries, same tasks.

Tasks: Gaussian pairs with closed-form MI from :mod:`cchkit.datasets.mi_tasks` ("sparse": 2
correlated coordinate pairs as in bmi's multinormal-sparse tasks; "dense": all channels, mixed),
dims 1x1, 5x5, 25x25, 50x50, MI 1 and 5 nats, n = 10,000, plus a 100,000-row KSG 5x5 row.

The anchors (bmi = benchmark-mi with jax 0.4.30, npeet-plus, torch-mist, latentmi) run in their
own virtual environment, ``benchmarks/.venv-anchors``, which this script creates on first use.
Data travel to it as .npz files, so both sides see the same samples.

Usage::

    python benchmarks/mi_anchors.py                       # everything (long: neural anchors)
    python benchmarks/mi_anchors.py --only cchkit         # cchkit's estimators only
    python benchmarks/mi_anchors.py --only cchkit-ksg     # ... KSG and Gaussian only
    python benchmarks/mi_anchors.py --only cchkit-neural  # ... InfoNCE and MINE only
    python benchmarks/mi_anchors.py --only anchors        # cheap anchors (KSG, CCA)
    python benchmarks/mi_anchors.py --only anchors-neural # bmi / torch-mist MINE, InfoNCE
    python benchmarks/mi_anchors.py --quick               # a few small tasks
    python benchmarks/mi_anchors.py --table-only          # rebuild the table from the records

Every run appends JSON records to ``benchmarks/results/estimators.jsonl`` (for the table, the
latest record of a task, n, true MI and estimator wins) and rewrites ``benchmarks/results/estimators.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = HERE / ".venv-anchors"
RESULTS = HERE / "results"
JSONL = RESULTS / "estimators.jsonl"
TABLE = RESULTS / "estimators.md"
ANCHOR_PACKAGES = ["benchmark-mi", "jax==0.4.30", "jaxlib==0.4.30", "npeet-plus", "torch-mist", "latentmi"]
SEED = 42
NEURAL_STEPS, NEURAL_BATCH = 2000, 256  # anchors' settings, as in the reference measurement


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
    return out


def task_name(t: dict) -> str:
    return f"{t['kind']}"


def sample(t: dict):
    sys.path.insert(0, str(ROOT))
    from cchkit.datasets.mi_tasks import gaussian_task

    n_pairs = min(t["d"], 2) if t["kind"] == "sparse" else None
    return gaussian_task(t["kind"], t["d"], t["d"], t["mi"], n=t["n"], random_state=SEED, n_pairs=n_pairs)


# ------------------------------------------------------------------------------ records
def _key(r: dict) -> tuple:
    return (r["task"], r["dims"], r["n"], r["truth"], r["estimator"])


def load_records() -> list[dict]:
    """Records, the latest one per (task, dims, n, truth, estimator)."""
    if not JSONL.exists():
        return []
    latest: dict[tuple, dict] = {}
    for line in JSONL.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            latest[_key(r)] = r
    return list(latest.values())


def save_record(rec: dict) -> None:
    """Append one record (append-only, so runs in parallel do not overwrite each other)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(JSONL, "a") as fh:
        fh.write(json.dumps(rec) + "\n")
    print(json.dumps(rec), flush=True)


def make_record(t: dict, truth: float, est: str, value: float, sec: float, error: str | None, side: str) -> dict:
    return dict(
        task=t["kind"], dims=f"{t['d']}x{t['d']}", n=t["n"], truth=round(float(truth), 4), estimator=est,
        side=side, value=float(value), abs_err=abs(float(value) - float(truth)), sec=round(sec, 2), error=error,
        date=_dt.datetime.now().isoformat(timespec="seconds"),
    )


# ------------------------------------------------------------------------------ cchkit side
def neural_task(t: dict) -> bool:
    """The neural estimators run on a subset (CPU budget): sparse 1x1, 5x5, 50x50 and dense 5x5."""
    return t["which"] == "all" and t["n"] <= 10_000 and (
        (t["kind"] == "sparse" and t["d"] in (1, 5, 50)) or (t["kind"] == "dense" and t["d"] == 5)
    )


def run_cchkit(tasks: list[dict], neural: bool, ksg: bool = True) -> None:
    sys.path.insert(0, str(ROOT))
    from cchkit.estimators.base import get_estimator

    for t in tasks:
        if not ksg and not neural_task(t):
            continue
        x, y, truth = sample(t)
        ests = [("KSG k=3 (cchkit)", "ksg", dict(k=3, random_state=0))] if ksg else []
        if neural and neural_task(t):
            ests += [
                ("InfoNCE (cchkit)", "infonce", dict(random_state=0)),
                ("MINE (cchkit)", "mine", dict(random_state=0)),
            ]
        if t["which"] == "all" and ksg:
            ests.append(("Gaussian (cchkit)", "gaussian", dict(random_state=0)))
        for label, name, kw in ests:
            if name == "ksg" and t["d"] >= 25 and t["n"] > 10_000:
                continue
            t0 = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    value, err = get_estimator(name, **kw).estimate(x, y).value, None
            except Exception as exc:  # a benchmark records failures
                value, err = float("nan"), f"{type(exc).__name__}: {exc}"[:200]
            save_record(make_record(t, truth, label, value, time.perf_counter() - t0, err, "cchkit"))


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


def run_anchors(tasks: list[dict], neural: bool) -> None:
    py = ensure_venv()
    with tempfile.TemporaryDirectory() as tmp:
        for i, t in enumerate(tasks):
            if t["which"] != "all" and not (t["which"] == "ksg" and not neural):
                continue
            x, y, truth = sample(t)
            f = Path(tmp) / f"task{i}.npz"
            import numpy as np

            np.savez(f, x=x, y=y)
            out = Path(tmp) / f"task{i}.jsonl"
            cmd = [str(py), str(Path(__file__).resolve()), "--worker", "neural" if neural else "cheap",
                   str(f), str(out)]
            env = dict(os.environ, XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
            proc = subprocess.run(cmd, env=env)
            if proc.returncode != 0:
                print(f"anchor worker failed on task {t}", flush=True)
            if out.exists():
                for line in out.read_text().splitlines():
                    r = json.loads(line)
                    save_record(make_record(t, truth, r["est"], r["value"], r["sec"], r["error"], "anchor"))


def worker(mode: str, npz: str, out: str) -> None:
    """Runs inside the anchors' venv: the anchor estimators on one task."""
    import numpy as np

    warnings.filterwarnings("ignore")
    data = np.load(npz)
    x, y = data["x"], data["y"]

    def cheap():
        import bmi
        import npeet_plus

        yield "KSG k=3 (npeet-plus)", lambda: npeet_plus.mi(x, y, k=3, base=np.e)
        if x.shape[0] <= 10_000:
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
def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_table(command: str) -> None:
    recs = load_records()
    if not recs:
        print("no records yet")
        return
    rows: dict[tuple, dict[str, dict]] = {}
    cols: list[str] = []
    for r in recs:
        key = (r["task"], r["dims"], r["n"], r["truth"])
        rows.setdefault(key, {})[r["estimator"]] = r
        if r["estimator"] not in cols:
            cols.append(r["estimator"])
    cols = sorted([c for c in cols if "(cchkit)" in c]) + sorted([c for c in cols if "(cchkit)" not in c])
    dim_order = {"1x1": 0, "5x5": 1, "25x25": 2, "50x50": 3}
    lines = [
        "# MI estimators: cchkit vs the anchor libraries",
        "",
        "Each cell: **estimate / absolute error / seconds** (nats; wall-clock). `ratio` = seconds of the",
        "cchkit estimator / seconds of the fastest anchor of the same family on that row (KSG vs KSG",
        "anchors, neural vs neural anchors); below 1 means cchkit is faster.",
        "Tasks from `cchkit.datasets.mi_tasks.gaussian_task` (sparse: 2 correlated pairs; dense: all",
        f"channels, randomly mixed), samples seeded {SEED}, the same arrays for every estimator.",
        "",
        f"- command: `{command}`",
        f"- machine: {machine()}",
        f"- date: {_dt.date.today().isoformat()}",
        "- note: this machine is shared; timings under load vary by ~2x.",
        "",
        "| task | dims | n | true MI | " + " | ".join(cols) + " | ratio KSG | ratio InfoNCE | ratio MINE |",
        "|" + "---|" * (4 + len(cols) + 3),
    ]
    for key in sorted(rows, key=lambda k: (k[0], dim_order.get(k[1], 9), k[2], k[3])):
        cells = []
        row = rows[key]
        for c in cols:
            r = row.get(c)
            if r is None:
                cells.append("-")
            elif r.get("error"):
                cells.append("error")
            else:
                cells.append(f"{r['value']:.2f} / {r['abs_err']:.2f} / {r['sec']:.1f}s")

        def ratio(mine: str, family: str, row: dict = row) -> str:
            r = row.get(mine)
            anchors = [v["sec"] for k, v in row.items() if "(cchkit)" not in k and k.startswith(family) and not v.get("error")]
            if r is None or not anchors or r.get("error"):
                return "-"
            return f"{r['sec'] / max(min(anchors), 1e-3):.2f}"

        ratios = [ratio("KSG k=3 (cchkit)", "KSG"), ratio("InfoNCE (cchkit)", "InfoNCE"), ratio("MINE (cchkit)", "MINE")]
        lines.append("| " + " | ".join(map(str, key)) + " | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    errors = [r for r in recs if r.get("error")]
    if errors:
        lines += ["", "Errors:", ""] + [f"- {r['estimator']} on {r['task']} {r['dims']}: {r['error']}" for r in errors]
    TABLE.write_text("\n".join(lines) + "\n")
    print(f"wrote {TABLE}")


# ------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", choices=["cchkit", "cchkit-ksg", "cchkit-neural", "anchors", "anchors-neural", "all"], default="all")
    p.add_argument("--quick", action="store_true", help="a few small tasks")
    p.add_argument("--table-only", action="store_true")
    p.add_argument("--dims", type=str, default=None, help="comma list of dims to keep, e.g. 5,50")
    p.add_argument("--worker", nargs=3, metavar=("MODE", "NPZ", "OUT"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        worker(*a.worker)
        return
    command = "python benchmarks/mi_anchors.py " + " ".join(argv if argv is not None else sys.argv[1:])
    if not a.table_only:
        tasks = task_list(a.quick)
        if a.dims:
            keep = {int(d) for d in a.dims.split(",")}
            tasks = [t for t in tasks if t["d"] in keep]
        if a.only in ("cchkit", "cchkit-ksg", "cchkit-neural", "all"):
            run_cchkit(tasks, neural=a.only != "cchkit-ksg", ksg=a.only != "cchkit-neural")
        if a.only in ("anchors", "all"):
            run_anchors(tasks, neural=False)
        if a.only in ("anchors-neural", "all"):
            run_anchors([t for t in tasks if t["d"] in (5, 50) and t["kind"] == "sparse"], neural=True)
    write_table(command)


if __name__ == "__main__":
    main()
