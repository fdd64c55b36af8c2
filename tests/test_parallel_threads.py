"""cchkit's own thread budget respects the environment's cap, the container's CPU quota and
the cores other processes keep busy (issue #35: spinning thread pools under contention)."""

from __future__ import annotations

import os

import cchkit._parallel as _parallel
from cchkit._parallel import available_cores, thread_budget


def test_thread_budget_is_capped_by_omp_num_threads(monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.setattr(_parallel, "cgroup_cores", lambda: None)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert thread_budget() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "999")
    assert thread_budget() == available_cores()
    monkeypatch.setenv("OMP_NUM_THREADS", "not a number")
    assert thread_budget() == available_cores()
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert thread_budget() == available_cores()


def test_busy_cores_and_a_cpu_quota_leave_fewer_threads(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(_parallel, "available_cores", lambda: 8)
    monkeypatch.setattr(_parallel, "cgroup_cores", lambda: None)
    monkeypatch.setattr(_parallel, "_own_load", lambda: 0.0)
    monkeypatch.setattr(os, "getloadavg", lambda: (3.2, 0.0, 0.0))
    assert thread_budget() == 5  # three cores busy
    monkeypatch.setattr(os, "getloadavg", lambda: (20.0, 0.0, 0.0))
    assert thread_budget() == 1  # never zero
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.setattr(_parallel, "cgroup_cores", lambda: 2)
    assert thread_budget() == 2  # the container's quota


def test_the_cgroup_quota_is_read_in_whole_cores(tmp_path, monkeypatch):
    import builtins

    real_open = builtins.open
    cpu_max = tmp_path / "cpu.max"

    def fake_open(path, *args, **kwargs):  # noqa: ANN001
        return real_open(cpu_max if str(path) == "/sys/fs/cgroup/cpu.max" else path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    cpu_max.write_text("250000 100000\n")
    assert _parallel.cgroup_cores() == 2
    cpu_max.write_text("max 100000\n")
    assert _parallel.cgroup_cores() is None


def test_a_long_job_does_not_count_its_own_load(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(_parallel, "available_cores", lambda: 2)
    monkeypatch.setattr(_parallel, "cgroup_cores", lambda: None)
    monkeypatch.setattr(os, "getloadavg", lambda: (2.0, 0.0, 0.0))
    monkeypatch.setattr(_parallel, "_own_load", lambda: 2.0)  # the load is this process's own
    assert thread_budget() == 2
    monkeypatch.setattr(_parallel, "_own_load", lambda: 0.0)  # the load is someone else's
    assert thread_budget() == 1
