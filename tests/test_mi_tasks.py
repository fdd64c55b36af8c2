"""Gaussian MI tasks: the closed form, the requested MI, and MI-preserving transforms."""

from __future__ import annotations

import numpy as np
import pytest

from cchkit.datasets.mi_tasks import (
    TRANSFORMS,
    apply_transform,
    closed_form_mi,
    gaussian_task,
    gaussian_task_covariance,
    half_cube,
    rho_for_mi,
    spiral,
)
from cchkit.exceptions import InputError


@pytest.mark.parametrize("kind", ["sparse", "dense"])
@pytest.mark.parametrize("dims", [(1, 1), (3, 5), (10, 4)])
@pytest.mark.parametrize("mi", [0.1, 1.0, 5.0])
def test_truth_matches_request(kind, dims, mi):
    x, y, truth = gaussian_task(kind, dims[0], dims[1], mi, n=10, random_state=0)
    assert x.shape == (10, dims[0]) and y.shape == (10, dims[1])
    assert truth == pytest.approx(mi, rel=1e-9, abs=1e-9)


def test_closed_form_bivariate():
    rho = 0.8
    cov = np.array([[1.0, rho], [rho, 1.0]])
    assert closed_form_mi(cov, 1) == pytest.approx(-0.5 * np.log(1 - rho**2))


def test_sample_covariance_matches_closed_form():
    _, _, _, cov = gaussian_task_covariance("dense", 3, 2, 1.0, random_state=0)
    x, y, truth = gaussian_task("dense", 3, 2, 1.0, n=200_000, random_state=1)
    emp = np.cov(np.hstack([x, y]).T)
    assert np.allclose(emp, cov, atol=0.03 * np.abs(cov).max())
    assert closed_form_mi(emp, 3) == pytest.approx(truth, abs=0.02)


def test_sparse_structure_and_n_pairs():
    x, y, _ = gaussian_task("sparse", 4, 4, 2.0, n=50_000, random_state=0, n_pairs=2)
    c = np.corrcoef(np.hstack([x, y]).T)[:4, 4:]
    assert abs(c[0, 0]) > 0.5 and abs(c[1, 1]) > 0.5
    assert np.all(np.abs(c[2:, 2:]) < 0.03)
    assert rho_for_mi(2.0, 2) == pytest.approx(np.sqrt(1 - np.exp(-2.0)))


def test_seeded():
    a = gaussian_task("dense", 3, 3, 1.0, n=20, random_state=5)
    b = gaussian_task("dense", 3, 3, 1.0, n=20, random_state=5)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transforms_are_invertible(name):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 3))
    t = apply_transform(name, x)
    assert t.shape == x.shape and np.all(np.isfinite(t))
    # injective: no two distinct rows collide
    assert np.unique(np.round(t, 12), axis=0).shape[0] == 500


def test_spiral_inverse_and_half_cube_inverse():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100, 3))
    s = spiral(x, speed=0.5)
    assert np.allclose(np.linalg.norm(s, axis=1), np.linalg.norm(x, axis=1))
    assert np.allclose(spiral(s, speed=-0.5), x)
    h = half_cube(x)
    assert np.allclose(np.sign(h) * np.abs(h) ** (2 / 3), x)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(kind="nope", dim_x=1, dim_y=1, mi=1.0),
        dict(kind="sparse", dim_x=0, dim_y=1, mi=1.0),
        dict(kind="sparse", dim_x=2, dim_y=2, mi=-1.0),
        dict(kind="sparse", dim_x=2, dim_y=2, mi=1.0, n_pairs=3),
        dict(kind="sparse", dim_x=1, dim_y=1, mi=1.0, n=0),
    ],
)
def test_bad_task_arguments(kwargs):
    with pytest.raises(InputError):
        gaussian_task(**kwargs)


def test_closed_form_rejects_bad_cov():
    with pytest.raises(InputError):
        closed_form_mi(np.eye(3)[:2], 1)
    with pytest.raises(InputError):
        closed_form_mi(np.array([[1.0, 2.0], [2.0, 1.0]]), 1)
    with pytest.raises(InputError):
        apply_transform("nope", np.zeros((2, 2)))
