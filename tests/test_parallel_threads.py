"""cchkit's own thread budget respects the environment's cap."""

from __future__ import annotations

from cchkit._parallel import available_cores, thread_budget


def test_thread_budget_is_capped_by_omp_num_threads(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert thread_budget() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "999")
    assert thread_budget() == available_cores()
    monkeypatch.setenv("OMP_NUM_THREADS", "not a number")
    assert thread_budget() == available_cores()
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert thread_budget() == available_cores()
