"""How many worker processes a parallel step really gets."""

from __future__ import annotations

import logging
import os

from .exceptions import InputError

logger = logging.getLogger("cchkit")

__all__ = ["available_cores", "thread_budget", "effective_n_jobs"]


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS has one, else the CPU count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def thread_budget() -> int:
    """Threads one process may use for its own work: the available cores, capped by
    ``OMP_NUM_THREADS`` when the user (or a scheduler such as SLURM) set it, so that cchkit never
    starts more threads than the environment allows."""
    cores = available_cores()
    try:
        cap = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        return cores
    return max(1, min(cores, cap))


def effective_n_jobs(n_jobs: int) -> int:
    """Workers for ``n_jobs``: ``-1`` means all available cores, ``-k`` all but ``k - 1``.

    More workers than available cores only oversubscribe them (each extra process costs start-up
    time and memory and makes nothing faster), so the count is capped at the cores with a
    warning. Zero or a non-integer raises :class:`~cchkit.exceptions.InputError`.
    """
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) and not hasattr(n_jobs, "__index__"):
        raise InputError(f"n_jobs must be an integer, got {n_jobs!r}.")
    n_jobs = int(n_jobs)
    cores = available_cores()
    if n_jobs == 0:
        raise InputError("n_jobs must be a positive number of workers, or -1 for all cores; got 0.")
    wanted = n_jobs if n_jobs > 0 else cores + 1 + n_jobs
    if wanted < 1:
        raise InputError(f"n_jobs={n_jobs} leaves no worker on this machine's {cores} core(s).")
    if wanted > cores:
        logger.warning("n_jobs=%d is more than the %d available core(s); using %d workers.", n_jobs, cores, cores)
        return cores
    return wanted
