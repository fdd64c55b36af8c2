"""The GPU check (issue #26, item 7): the same work on CUDA and on the CPU of one machine, in
well under 6 minutes, with the agreement of the results.

    python benchmarks/gpu_check.py                 # cpu and cuda (when CUDA is present)
    python benchmarks/gpu_check.py --devices cpu   # the CPU half only (to try the script anywhere)

Runs, on each device: ``rank -r encoder`` on digits-avt (student audio); ``validate`` with its
defaults (tuned stacked students, 5 seeds); InfoNCE and MINE on a 5x5 Gaussian pair with known
MI (n = 20,000 and 10,000). Checks that rankings decide alike with scores within 0.05 nats, that
every validate gain agrees within its own interval's half-width, and that the neural estimates
agree within 0.1 nats; then writes ``benchmarks/results/gpu.md`` (times per device, speed-ups,
agreement) and exits 1 when a check fails. Never part of ``make test``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _common import RESULTS, header, load_average, md_table, now, write_atomic  # noqa: E402

OUT = RESULTS / "gpu.md"


def _timed(fn):  # noqa: ANN001, ANN202
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def run_device(device: str) -> dict:
    """Every piece of work on ``device``: results and seconds."""
    import numpy as np

    import cchkit

    bundle = cchkit.load_bundle("digits-avt")
    out = {}
    out["rank"] = _timed(lambda: cchkit.rank_teachers(bundle, "audio", ["image", "text"], representation="encoder",
                                                      device=device))
    out["validate"] = _timed(lambda: cchkit.validate(bundle, "audio", ["image", "text"], baseline="no-kd", device=device,
                                                     progress=False))
    rng = np.random.default_rng(0)
    rho = 0.8  # 5 independent channels: I = -5/2 log(1 - rho^2) = 2.55 nats
    for name, n in (("infonce", 20_000), ("mine", 10_000)):
        x = rng.standard_normal((n, 5))
        y = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal((n, 5))
        est = cchkit.get_estimator(name, random_state=0, device=device)
        out[name] = _timed(lambda est=est, x=x, y=y: est.estimate(x, y))
    return out


def agreement(cpu: dict, gpu: dict) -> list[dict]:
    """One row per check: what was compared, the largest difference, its tolerance, pass."""
    rows = []
    a, b = cpu["rank"][0].table, gpu["rank"][0].table
    rows.append({"check": "rank -r encoder: same decisions", "difference": int((a["decision"] != b["decision"]).sum()),
                 "tolerance": 0, "ok": bool((a["decision"] == b["decision"]).all())})
    d = float((a["cch_score"] - b["cch_score"]).abs().max())
    rows.append({"check": "rank -r encoder: CCH scores (nats)", "difference": d, "tolerance": 0.05, "ok": d <= 0.05})
    va, vb = cpu["validate"][0].table, gpu["validate"][0].table
    half = ((va["gain_high"] - va["gain_low"]) / 2).to_numpy()
    diff = (va["gain"] - vb["gain"]).abs().to_numpy()
    rows.append({"check": "validate: gains within their half-width", "difference": float(diff.max()),
                 "tolerance": float(half.min()), "ok": bool((diff <= half).all())})
    for name in ("infonce", "mine"):
        d = abs(cpu[name][0].value - gpu[name][0].value)
        rows.append({"check": f"{name}: estimate (nats)", "difference": d, "tolerance": 0.1, "ok": d <= 0.1})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", default="cpu,cuda")
    args = parser.parse_args()
    import torch

    devices = [d for d in args.devices.split(",") if d != "cuda" or torch.cuda.is_available()]
    started, load0, t_all = now(), load_average(), time.perf_counter()
    results = {d: run_device(d) for d in devices}
    times = [{"work": w, **{f"{d} (s)": round(results[d][w][1], 1) for d in devices}}
             for w in ("rank", "validate", "infonce", "mine")]
    if "cuda" in results:
        for row in times:
            row["cpu / cuda"] = round(row["cpu (s)"] / row["cuda (s)"], 2)
    checks = agreement(results["cpu"], results["cuda"]) if "cuda" in results else []
    text = header("GPU check: the same work on CUDA and on this machine's CPU", started=started,
                  seconds=time.perf_counter() - t_all, load_start=load0,
                  extra={"devices": ", ".join(devices)})
    text += "\n" + md_table(times) + "\n\n"
    if not checks:  # a table without a GPU would read as a GPU check: print it, write nothing
        print(text + "CUDA is not available here: no agreement checks, nothing written.")
        return 0
    text += md_table(checks) + "\n"
    write_atomic(OUT, text)
    print(text)
    return 0 if all(c["ok"] for c in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
