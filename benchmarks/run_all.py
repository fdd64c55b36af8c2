"""`make bench`: run every benchmark and write its markdown tables to benchmarks/results/.

    python benchmarks/run_all.py                 # everything (may take up to an hour on 2 cores)
    python benchmarks/run_all.py --quick         # tiny settings: checks the plumbing
    python benchmarks/run_all.py --only prediction --jobs 2   # two distillations at a time
    python benchmarks/run_all.py --anchors       # also install and run the anchor libraries (slow)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from _common import COMMAND_ENV, HERE, ROOT, log

BENCHMARKS = ("estimators", "ksg_kernel", "distill", "criteria", "prediction", "end_to_end")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", choices=BENCHMARKS, action="append")
    ap.add_argument("--anchors", action="store_true", help="estimators: also the anchor libraries (own venv, slow)")
    ap.add_argument("--jobs", type=int, default=1, help="prediction, distill, criteria: parallel workers (default 1; distill and criteria default to 2 on their own)")
    args = ap.parse_args(argv)
    chosen = args.only or list(BENCHMARKS)
    failed = []
    for name in chosen:
        if name == "estimators":
            if not (HERE / "mi_anchors.py").exists():
                log("run_all: benchmarks/mi_anchors.py does not exist; skipping the estimator benchmark")
                continue
            cmd = [sys.executable, str(HERE / "mi_anchors.py"), "--only", "all" if args.anchors else "cchkit"]
        else:
            cmd = [sys.executable, str(HERE / f"{name}.py")]
        if args.quick:
            cmd.append("--quick")
        if name in ("prediction", "distill", "criteria") and args.jobs != 1:
            cmd += ["--jobs", str(args.jobs)]
        env = dict(os.environ)
        sub = "python " + " ".join(os.path.relpath(c, ROOT) if c.startswith(str(ROOT)) else c for c in cmd[1:])
        env[COMMAND_ENV] = " ".join(["python benchmarks/run_all.py", *sys.argv[1:]]) + f"` → `{sub}"
        log(f"run_all: {' '.join(cmd)}")
        rc = subprocess.call(cmd, cwd=ROOT, env=env)
        if rc != 0:
            failed.append(name)
    if failed:
        log(f"run_all: failed: {', '.join(failed)}")
        return 1
    log("run_all: results in benchmarks/results/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
