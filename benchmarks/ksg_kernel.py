"""KSG's compiled kernels: brute force (time, threads), the k-d tree against scikit-learn's, and
the brute-force / k-d tree crossover that ``use_brute_force`` encodes.

    python benchmarks/ksg_kernel.py            # writes benchmarks/results/ksg_kernel.md
    python benchmarks/ksg_kernel.py --quick    # small sizes (a smoke run; the banner says so)

Every timing is the median of ``--repeats`` calls of ``cchkit.estimators.knn.ksg_mi`` (the point
estimate, no interval) on one sparse Gaussian task of ``cchkit.datasets.mi_tasks`` (MI 1 nat,
standardised), after one warm-up call that loads the compiled code. "same value" checks that
the brute-force kernel and the k-d tree give the bit-identical estimate, and that 1 and 2
threads do too. Rows at n = 100,000 are timed once (a brute-force call there takes 20-40 s).
"""

from __future__ import annotations

import argparse
import statistics
import time

from _common import RESULTS, header, load_average, log, md_table, now, write_atomic

#: The kernel that this replaced (torch, float32 with float64 fix-ups), from
#: benchmarks/results/estimators.md of 2026-11-30 (sparse / dense 50x50, n = 10,000, one thread).
PREVIOUS_50x50_SECONDS = 2.8


def _task(dims: int, n: int):  # noqa: ANN202
    import numpy as np

    from cchkit._validation import standardize
    from cchkit.datasets.mi_tasks import gaussian_task

    x, y, _ = gaussian_task("sparse", dims, dims, mi=1.0, n=n, random_state=42)
    return np.ascontiguousarray(standardize(x)), np.ascontiguousarray(standardize(y))


def _time(fn, repeats: int) -> tuple[float, float]:  # noqa: ANN001
    values, times = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        values.append(fn())
        times.append(time.perf_counter() - t0)
    assert len(set(values)) == 1, "the estimate changed between repeats"
    return statistics.median(times), values[0]


def speed_rows(sizes: list[tuple[int, int]], repeats: int) -> list[dict]:
    from cchkit.estimators.knn import ksg_mi

    rows = []
    for dims, n in sizes:
        x, y = _task(dims, n)
        ksg_mi(x[:200], y[:200], 3, brute=True)  # warm-up: load the compiled kernels
        t1, v1 = _time(lambda x=x, y=y: ksg_mi(x, y, 3, brute=True, n_jobs=1), repeats)
        t2, v2 = _time(lambda x=x, y=y: ksg_mi(x, y, 3, brute=True, n_jobs=2), repeats)
        rows.append({"dims": f"{dims}x{dims}", "n": n, "estimate": v1, "1 thread [s]": t1, "2 threads [s]": t2,
                     "speed-up": t1 / t2, "same value (1 vs 2 threads)": v1 == v2})
        log(f"{dims}x{dims} n={n}: {t1:.2f} s / {t2:.2f} s")
    return rows


def crossover_rows(grid: list[tuple[int, int]], repeats: int) -> list[dict]:
    """Brute force against the k-d tree at each (dims per side, n); brute force is skipped (–)
    where the tree is already more than 4x faster at a smaller n."""
    from cchkit.estimators.knn import ksg_mi, use_brute_force

    rows = []
    for dims, n in grid:
        x, y = _task(dims, n)
        reps = 1 if n >= 100_000 else repeats
        tt, vt = _time(lambda x=x, y=y: ksg_mi(x, y, 3, brute=False), reps)
        skip = n >= 100_000 and 2 * dims <= 12
        tb, vb = (float("nan"), vt) if skip else _time(lambda x=x, y=y: ksg_mi(x, y, 3, brute=True), reps)
        rows.append({"total dims": 2 * dims, "n": n, "brute force [s]": "–" if skip else tb, "k-d tree [s]": tt,
                     "faster": "k-d tree" if skip or tt <= tb else "brute force", "same value": vb == vt,
                     "used by default": "brute force" if use_brute_force(2 * dims, n) else "k-d tree"})
        log(f"{2 * dims} dims, n={n}: brute {tb:.2f} s, tree {tt:.2f} s")
    return rows


def sklearn_rows(sizes: list[tuple[int, int]], repeats: int) -> list[dict]:
    """The compiled k-d tree against scikit-learn's Chebyshev ``KDTree`` (the search it replaced:
    ``query`` for the k-th distance, ``query_radius(count_only=True)`` for the counts)."""
    import numpy as np
    from scipy.special import digamma
    from sklearn.neighbors import KDTree

    from cchkit.estimators.knn import ksg_mi

    def sklearn_ksg(x, y):  # noqa: ANN001, ANN202
        z = np.hstack([x, y])
        eps = KDTree(z, metric="chebyshev", leaf_size=10).query(z, k=4)[0][:, -1]
        r = np.nextafter(eps, 0.0)
        cx = KDTree(x, metric="chebyshev").query_radius(x, r, count_only=True)
        cy = KDTree(y, metric="chebyshev").query_radius(y, r, count_only=True)
        return float(digamma(3) + digamma(len(x)) - np.mean(digamma(cx) + digamma(cy)))

    rows = []
    for dims, n in sizes:
        x, y = _task(dims, n)
        t1, v1 = _time(lambda x=x, y=y: ksg_mi(x, y, 3, brute=False, n_jobs=1), repeats)
        t2, v2 = _time(lambda x=x, y=y: ksg_mi(x, y, 3, brute=False, n_jobs=2), repeats)
        ts, vs = _time(lambda x=x, y=y: sklearn_ksg(x, y), 1)
        rows.append({"dims": f"{dims}x{dims}", "n": n, "cchkit tree, 1 thread [s]": t1, "2 threads [s]": t2,
                     "scikit-learn KDTree, 1 thread [s]": ts, "speed-up (1 thread)": ts / t1,
                     "same value (tree, threads, scikit-learn)": v1 == v2 == vs})
        log(f"tree {dims}x{dims} n={n}: {t1:.2f} s / {t2:.2f} s; sklearn {ts:.2f} s")
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    started, load_start, t0 = now(), load_average(), time.perf_counter()
    n = 2000 if args.quick else 10_000
    speed = speed_rows([(5, n), (25, n), (50, n)], args.repeats)
    big = 5_000 if args.quick else 100_000
    trees = sklearn_rows([(1, big), (5, big)], args.repeats)
    grid = [(d, m) for m in ((2_000, 5_000) if args.quick else (10_000, 30_000, 100_000))
            for d in ((4, 8) if args.quick else (4, 6, 8, 10, 12))]
    cross = crossover_rows(grid, args.repeats)
    fifty = next(r for r in speed if r["dims"] == "50x50")
    five = next(r for r in trees if r["dims"] == "5x5")
    text = header("KSG compiled kernels", started=started, seconds=time.perf_counter() - t0,
                  load_start=load_start, extra={"QUICK RUN": "small sizes; not the figures to quote"} if args.quick else None)
    text += (
        "\nPoint estimate (`ksg_mi`, k = 3, no interval), median of "
        f"{args.repeats} calls after a warm-up; sparse Gaussian task, MI 1 nat, standardised.\n\n"
        "## Time and threads (brute force)\n\n" + md_table(speed) +
        "\n## The k-d tree against scikit-learn's\n\n" + md_table(trees) +
        "\n## Brute force against the k-d tree\n\n" + md_table(cross) +
        f"\n## The issue's targets\n\n- KSG 50x50, n = {n}, point estimate, one thread: {fifty['1 thread [s]']:.2f} s "
        f"(target <= 1.0 s: {'met' if fifty['1 thread [s]'] <= 1.0 else 'NOT met'}); the previous torch kernel took "
        f"{PREVIOUS_50x50_SECONDS} s in estimators.md (2026-11-30), a {PREVIOUS_50x50_SECONDS / fifty['1 thread [s]']:.1f}x "
        "speed-up.\n"
        f"- KSG 5x5, n = {big}, point estimate, one thread: {five['cchkit tree, 1 thread [s]']:.2f} s (target <= 4 s: "
        f"{'met' if five['cchkit tree, 1 thread [s]'] <= 4.0 else 'NOT met'}); scikit-learn's KDTree "
        f"{five['scikit-learn KDTree, 1 thread [s]']:.2f} s.\n"
    )
    out = RESULTS / ("ksg_kernel_quick.md" if args.quick else "ksg_kernel.md")
    write_atomic(out, text)
    print(text)


if __name__ == "__main__":
    main()
