"""Shared fixtures: small bundles with known structure, and a quiet matplotlib backend."""

from __future__ import annotations

import os

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
os.environ.setdefault("CCHKIT_FAST", "1")
# the tests check the CPU reference (device="auto" would pick a visible GPU, whose float results
# differ in the last digits); benchmarks/gpu_check.py compares CUDA with it on a lent machine.
# CCHKIT_TEST_CUDA=1 keeps CUDA visible.
if not os.environ.get("CCHKIT_TEST_CUDA"):
    os.environ["CUDA_VISIBLE_DEVICES"] = ""

import torch  # noqa: E402

# pytest runs 2 workers on 2 cores: one torch thread each avoids oversubscription (10x slowdowns);
# OMP_NUM_THREADS also caps the threads cchkit's stacks take (cchkit._parallel.thread_budget)
os.environ.setdefault("OMP_NUM_THREADS", "1")
torch.set_num_threads(1)

from cchkit.bundle import ModalityBundle  # noqa: E402


def make_structured_bundle(n: int = 900, seed: int = 0) -> ModalityBundle:
    """A student, a teacher sharing an instance-level factor with it, one sharing only the label,
    and pure noise. Known CCH order: shared > label_only > noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    z = np.eye(4)[y]
    a = rng.standard_normal((n, 3))  # instance-level factor, independent of the label
    student = np.c_[z + 1.5 * rng.standard_normal((n, 4)), a + 0.3 * rng.standard_normal((n, 3))]
    shared = np.c_[z + 0.5 * rng.standard_normal((n, 4)), a + 0.3 * rng.standard_normal((n, 3))]
    label_only = np.c_[z + 0.5 * rng.standard_normal((n, 4)), rng.standard_normal((n, 3))]
    noise = rng.standard_normal((n, 7))
    return ModalityBundle.from_arrays(
        {"student": student, "shared": shared, "label_only": label_only, "noise": noise}, labels=y, name="structured"
    )


@pytest.fixture(scope="session")
def structured_bundle() -> ModalityBundle:
    return make_structured_bundle()


@pytest.fixture
def small_bundle() -> ModalityBundle:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 60)
    return ModalityBundle.from_arrays(
        {"a": rng.standard_normal((60, 4)) + y[:, None], "b": rng.standard_normal((60, 2))},
        labels=y,
        name="small",
    )


def make_clean_noise_bundle() -> ModalityBundle:
    """A student ``s``, a teacher ``clean`` that sees the class means, and a ``noise`` teacher (150 rows)."""
    rng = np.random.default_rng(0)
    n = 150
    y = rng.integers(0, 3, n)
    mu = rng.normal(size=(3, 3)) * 1.5
    s = mu[y] + rng.normal(size=(n, 3))
    clean = mu[y] @ rng.normal(size=(3, 4)) + 0.1 * rng.normal(size=(n, 4))
    noise = rng.normal(size=(n, 4))
    return ModalityBundle.from_arrays({"s": s, "clean": clean, "noise": noise}, labels=y, name="toy")


@pytest.fixture(scope="module")
def clean_noise_bundle() -> ModalityBundle:
    return make_clean_noise_bundle()


@pytest.fixture
def paper_rule(tmp_path, monkeypatch):
    """Rank without the criterion study's bands: each criterion advises by its own rule (the CCH:
    its 95% interval against 0), as the tests of the rules and of known rankings need."""
    from cchkit.criteria import regimes, track_record

    monkeypatch.setattr(track_record, "TRACK_FILE", tmp_path / "no_track_record.json")
    monkeypatch.setattr(regimes, "REGIME_FILE", tmp_path / "no_regime_records.json")
    track_record.load_track_record.cache_clear()
    regimes.load_regime_records.cache_clear()
    yield
    track_record.load_track_record.cache_clear()
    regimes.load_regime_records.cache_clear()
