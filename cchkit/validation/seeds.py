"""Which seeds a validation runs: the seed list, and with a budget the rounds that add seeds
(at most doubling) until the teachers' gain intervals separate or the budget is spent."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._random import RandomState, as_generator
from ..exceptions import InputError
from .evidence import power_statement

__all__ = ["seed_list", "seed_pool", "seeds_until_separated", "next_seeds"]


def seed_list(seeds: int | Sequence[int], random_state: RandomState) -> list[int]:
    """``seeds`` seeds drawn from ``random_state``, or the given list of seeds."""
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        gen = as_generator(random_state)
        return [int(s) for s in gen.integers(0, 2**31 - 1, size=int(seeds))]
    out = [int(s) for s in seeds]
    if not out or any(s < 0 for s in out):
        raise InputError(f"seeds must be a positive count or a list of non-negative ints, got {seeds!r}.")
    if len(set(out)) < len(out):
        # a repeated seed repeats its split and training: one measurement counted twice narrows
        # every interval for nothing
        raise InputError(f"seeds must be distinct, got {seeds!r}.")
    return out


def seed_pool(seeds: int | Sequence[int], random_state: RandomState, max_seeds: int) -> tuple[list[int], int]:
    """The seeds to start with and, with a budget, the ones that may follow (a prefix-stable draw)."""
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if max_seeds and seeds > max_seeds:
            raise InputError(f"seeds={seeds} is above max_seeds={max_seeds}; raise max_seeds or start with fewer.")
        return seed_list(max(int(seeds), max_seeds), random_state), int(seeds)
    fixed = seed_list(seeds, random_state)
    return fixed, len(fixed)


def seeds_until_separated(ctx: Any, pool: list[int], n_first: int, budget: float | None,
                           t0: float) -> tuple[list[int], pd.DataFrame, str]:
    """Runs for the first seeds; with a budget, more seeds (at most doubling each round) until the
    teachers' gain intervals separate, the seeds run out or the budget is spent."""
    seeds = pool[:n_first]
    t_runs, n_round = time.perf_counter(), len(seeds)
    runs = ctx.runs(seeds)
    if budget is None:
        return seeds, runs, "fixed seeds"
    while True:
        table, _ = ctx.table(seeds, runs)
        if power_statement(table, [m for m in ctx.methods if m != "none"][0], len(seeds))["separated"]:
            return seeds, runs, "intervals separated"
        if len(seeds) >= len(pool):
            return seeds, runs, "seed cap reached"
        # the latest round prices a seed: after the tuning round a seed trains no search
        per_seed = (time.perf_counter() - t_runs) / n_round
        room = int((budget - (time.perf_counter() - t0)) / max(per_seed, 1e-9))
        if room < 1:
            return seeds, runs, "budget spent"
        new = next_seeds(pool, len(seeds), room)
        t_runs, n_round = time.perf_counter(), len(new)
        runs = pd.concat([runs, ctx.runs(new)], ignore_index=True)
        seeds = seeds + new


def next_seeds(pool: Sequence[int], n_done: int, room: int) -> list[int]:
    """The seeds of the next budget round: as many as the budget has room for, at most as many
    as have run (the count at most doubles, so one slow round cannot overrun the budget by much)."""
    return list(pool[n_done:n_done + min(room, n_done)])
