"""Does successive halving choose what the full searches choose? (issue #26, validation speed)

    python benchmarks/halving.py            # every real bundle and student of the study, both regimes
    python benchmarks/halving.py --quick    # digits-avt, full regime only

``validate`` tunes its students with two searches on the first ``TUNE_SEEDS`` seeds
(:mod:`cchkit.validation.stacked`): 6 student settings, then 6 (KD weight, temperature) settings
per teacher and method. Successive halving (Jamieson & Talwalkar 2016) stops the worse variants
early. This script trains both searches *to the end* on every real bundle and student of the
criterion study's corpus (real teachers; the ``full`` and ``starved`` regimes of
``criteria_corpus.py``) and records every member's best validation accuracy after every epoch.
Each policy is then replayed on that record, which is exact: a member's training does not depend
on when the others stop. The KD search is replayed on the student setting the full search chose.

Per policy and search: how often it chooses what the full search chooses, the test accuracy of
its choice minus the full search's (mean over the seeds of a group; mean and worst over groups),
and the member-epochs it trains (share of the full search). The rule, set before the run: the
cheapest policy whose mean loss is at most ``TOLERANCE`` in both searches and both regimes,
chosen with each bundle left out in turn (the held-out bundle's loss is reported).
Writes ``benchmarks/results/halving.md``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _common import RESULTS, header, load_average, log, md_table, now, write_atomic  # noqa: E402

OUT = RESULTS / "halving.md"
#: (name, rungs as fractions of the epochs, eta); the first is the full search
POLICIES: tuple[tuple[str, tuple[float, ...], int], ...] = (
    ("full search", (), 3),
    ("1/2, eta 2", (1 / 2,), 2),
    ("1/3, eta 2", (1 / 3,), 2),
    ("1/2, eta 3", (1 / 2,), 3),
    ("1/3, eta 3", (1 / 3,), 3),
    ("1/4, eta 3", (1 / 4,), 3),
    ("1/3 + 2/3, eta 3", (1 / 3, 2 / 3), 3),
)
#: the largest mean loss of test accuracy (accuracy points / 100) a policy may cost
TOLERANCE = 0.003


def _history(jobs: list[Any], preps: dict[int, Any], settings: Any) -> tuple[np.ndarray, np.ndarray]:
    """Every job trained to the end: (jobs, epochs) best validation accuracy so far, and the
    test accuracy at the best epoch."""
    import dataclasses

    from cchkit.distill.batched import StackRun
    from cchkit.validation import stacked as S

    index = {seed: i for i, seed in enumerate(preps)}
    data = [p.data for p in preps.values()]
    shapes = [j.setting.hidden for j in jobs]
    hist: list[Any] = [None] * len(jobs)
    test = np.full(len(jobs), np.nan)
    for hidden in dict.fromkeys(shapes):
        idx = [i for i, h in enumerate(shapes) if h == hidden]
        run = StackRun([S._member(jobs[i], index[jobs[i].seed], preps[jobs[i].seed]) for i in idx], data,
                       dataclasses.replace(settings, hidden=hidden))
        rows = []
        for e in range(run.epochs):
            run.run(until=e + 1)
            rows.append(run.best_val.numpy().copy())
        for k, (i, r) in enumerate(zip(idx, run.results())):
            hist[i], test[i] = np.array([row[k] for row in rows]), r.accuracy
    return np.stack(hist), test


def replay(jobs: list[Any], hist: np.ndarray, test: np.ndarray, search: Any, rungs: tuple[float, ...],
           eta: int) -> tuple[dict[Any, Any], dict[Any, float], float]:
    """A policy on the record: per group its choice and that choice's mean test accuracy, and the
    member-epochs trained as a share of the full search."""
    from cchkit.validation import stacked as S

    epochs = hist.shape[1]
    alive = np.arange(len(jobs))
    trained = np.full(len(jobs), epochs)
    for r in sorted({max(1, round(f * epochs)) for f in rungs}):
        going = np.array(S.halving_survivors([jobs[i] for i in alive], hist[alive, r - 1], search, eta))
        trained[alive[~going]] = r
        alive = alive[going]
    ranked = S.rank_variants([jobs[i] for i in alive], hist[alive, -1], search)
    choice = {k: order[0] for k, order in ranked.items()}
    acc = {k: float(np.mean([test[i] for i in range(len(jobs)) if search.key(jobs[i]) == k
                             and search.variant(jobs[i]) == v])) for k, v in choice.items()}
    return choice, acc, float(trained.sum() / (len(jobs) * epochs))


def record(bundle: Any, student: str, teachers: list[str], regime: str) -> dict[str, Any]:
    """Both searches of one group trained to the end, with what each policy makes of them."""
    from cchkit.validation import stacked as S
    from cchkit.validation.seeds import seed_list as _seed_list

    dp = {"train_size": 10 * bundle.n_classes} if regime == "starved" else {}
    seeds = _seed_list(S.TUNE_SEEDS, 0)  # validate's tuning seeds for random_state=0
    prepared = S._prepare_all(bundle, student, teachers, seeds, paired=True, epochs=30, device="cpu", dp=dp)
    preps = {s: p for s, p in prepared.items() if p.data is not None}
    settings = S._settings(int(bundle.n_classes), 30, dp)
    out: dict[str, Any] = {}
    jobs = [S._Job(seed, None, "none", st) for seed in preps for st in S.STUDENT_GRID]
    out["student"] = (jobs, *_history(jobs, preps, settings), S.STUDENT_SEARCH)
    full_student = replay(*out["student"], (), 3)[0][None]
    jobs = S._kd_jobs(preps, teachers, ["class-align", "logit-kd"], lambda t, m: [(full_student, w) for w in S.KD_GRID])
    out["kd"] = (jobs, *_history(jobs, preps, settings), S.KD_SEARCH)
    return out


def _rows(records: list[tuple[str, str, str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """One row per (regime, search, policy, bundle, group): agreement, loss, cost."""
    rows = []
    for bundle, student, regime, rec in records:
        for search in ("student", "kd"):
            jobs, hist, test, s = rec[search]
            full_choice, full_acc, _ = replay(jobs, hist, test, s, (), 3)
            for name, rungs, eta in POLICIES:
                choice, acc, cost = replay(jobs, hist, test, s, rungs, eta)
                for k in full_choice:
                    rows.append(dict(bundle=bundle, student=student, regime=regime, search=search, policy=name,
                                     same=choice[k] == full_choice[k], loss=full_acc[k] - acc[k], cost=cost))
    return rows


def summarise(df: Any) -> tuple[Any, Any]:
    """Per (policy, regime, search): agreement, mean and worst loss, cost; and the held-out choice
    of the rule (per left-out bundle: the policy chosen on the others, and its loss there)."""
    table = (df.groupby(["policy", "regime", "search"], sort=False)
             .agg(groups=("same", "size"), same_choice=("same", "mean"), mean_loss=("loss", "mean"),
                  worst_loss=("loss", "max"), cost=("cost", "mean")).reset_index())
    cost = df.groupby("policy", sort=False)["cost"].mean()

    def choose(part: Any) -> str:
        worst = part.groupby(["policy", "regime", "search"], sort=False)["loss"].mean().groupby("policy").max()
        ok = [p for p in cost.sort_values().index if worst.get(p, np.inf) <= TOLERANCE]
        return ok[0] if ok else POLICIES[0][0]

    held = []
    for b in sorted(df.bundle.unique()):
        pick = choose(df[df.bundle != b])
        mine = df[(df.bundle == b) & (df.policy == pick)]
        held.append(dict(left_out=b, chosen_on_the_others=pick, held_out_mean_loss=mine.loss.mean(),
                         held_out_same_choice=mine.same.mean(), cost=cost[pick]))
    held.append(dict(left_out="(none: all bundles)", chosen_on_the_others=choose(df), held_out_mean_loss=np.nan,
                     held_out_same_choice=np.nan, cost=cost[choose(df)]))
    import pandas as pd

    return table, pd.DataFrame(held)


def main(quick: bool) -> None:
    import warnings

    import pandas as pd
    from criteria_corpus import REAL

    import cchkit

    started, load0, t0 = now(), load_average(), time.perf_counter()
    records = []
    for name in (["digits-avt"] if quick else REAL):
        b = cchkit.load_bundle(name)
        for regime in (("full",) if quick else ("full", "starved")):
            for s in b.names:
                t1 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    records.append((name, s, regime, record(b, s, [t for t in b.names if t != s], regime)))
                log(f"{name}:{s} {regime} in {time.perf_counter() - t1:.1f}s")
    df = pd.DataFrame(_rows(records))
    table, held = summarise(df)
    text = header("Successive halving against the full searches", started=started,
                  seconds=time.perf_counter() - t0, load_start=load0,
                  extra={"data": f"{len(records)} groups (bundle, student, regime): "
                                 + ("digits-avt, full regime" if quick else
                                    f"{', '.join(REAL)}; full and starved (10 per class) regimes"),
                         "rule (set before the run)": f"the cheapest policy whose mean loss is at most {TOLERANCE} "
                                                      "in every (regime, search), chosen with each bundle left out"})
    text += ("\nloss = test accuracy of the full search's choice - test accuracy of the policy's choice (mean over "
             "the tuning seeds; positive: the policy chose worse). cost = member-epochs trained / the full "
             "search's.\n\n" + md_table(table, digits=4) + "\n\n## Leave one bundle out\n\n" + md_table(held, digits=4)
             + "\n")
    print(text)
    write_atomic(OUT, text)


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
