"""How many worker processes a parallel step really gets."""

from __future__ import annotations

import logging
import os

from ._warn import warn_user
from .exceptions import InputError

logger = logging.getLogger("cchkit")

__all__ = ["available_cores", "cgroup_cores", "thread_budget", "effective_n_jobs"]


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS has one, else the CPU count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def cgroup_cores() -> int | None:
    """Whole cores of this container's CPU quota (cgroup v2 ``cpu.max``), or None without one."""
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max", encoding="ascii").read().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    try:
        return max(1, int(float(quota) // float(period)))
    except (ValueError, ZeroDivisionError):
        return None


_LAST_CALL: list[float] = []  # (wall, process CPU seconds) at the last thread_budget() call


def _own_load() -> float:
    """This process's own share of the load average: the cores it kept busy since the last call
    (a long job would otherwise see its own work as another process's)."""
    import time

    now = (time.monotonic(), time.process_time())
    last, _LAST_CALL[:] = list(_LAST_CALL), now
    if not last or now[0] - last[0] <= 0 or now[0] - last[0] > 300:
        return 0.0
    return (now[1] - last[1]) / (now[0] - last[0])


def _idle_cores(cores: int) -> int:
    """Cores not already busy with other processes, from the 1-minute load average less this
    process's own share: a thread pool that spins on a core another process holds slows the work
    by far more than the factor of 2 that one thread fewer can cost
    (``benchmarks/results/threads_under_load.md``)."""
    own = _own_load()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return cores
    return max(1, cores - int(max(0.0, load - own) + 0.5))


def thread_budget() -> int:
    """Threads one process may use for its own work: the cores it may run on (affinity and the
    container's CPU quota), less those the machine's load already keeps busy, capped by
    ``OMP_NUM_THREADS`` when the user (or a scheduler such as SLURM) set it, so that cchkit never
    starts more threads than the environment allows or than are idle."""
    cores = available_cores()
    quota = cgroup_cores()
    if quota is not None:
        cores = min(cores, quota)
    try:
        cap = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        return _idle_cores(cores)
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
        warn_user("n_jobs=%d is more than the %d available core(s); using %d workers.", n_jobs, cores, cores)
        return cores
    return wanted
