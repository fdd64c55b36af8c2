"""Semi-synthetic teachers (issue #25, item 3b): each derivation does what its name says."""

from __future__ import annotations

import numpy as np
import pytest

import cchkit
from cchkit.datasets.semisynthetic import (
    class_groups,
    coarse_teacher,
    complementary_split,
    noisy_teacher,
    permuted_teacher,
)
from cchkit.exceptions import InputError


@pytest.fixture(scope="module")
def mfeat():
    return cchkit.load_bundle("mfeat").select(["fac", "mor"])


def test_groups_cover_every_class_once():
    groups = class_groups(10, 3, random_state=1)
    assert sorted(np.concatenate(groups).tolist()) == list(range(10)) and all(g.size >= 2 for g in groups)
    with pytest.raises(InputError):
        class_groups(10, 1)


def test_permuted_teacher_takes_rows_of_the_next_class_in_its_group(mfeat):
    b = permuted_teacher(mfeat, "fac", group_size=2, random_state=0)
    src, perm = b.modality("fac"), b.modality("fac.perm")
    assert b.n_paired("fac", "fac.perm") == src.n and np.array_equal(perm.labels, src.labels)
    # each teacher row is a source row; find its class in the source
    row_class = {r.tobytes(): int(c) for r, c in zip(src.data, src.labels)}
    donor = np.array([row_class[r.tobytes()] for r in perm.data])
    for g in class_groups(mfeat.n_classes, 2, 0):
        for i, c in enumerate(g):  # class g[i] gets rows of class g[i + 1]
            assert set(donor[src.labels == c].tolist()) == {int(np.roll(g, -1)[i])}


def test_coarse_teacher_merges_class_means_inside_groups(mfeat):
    b = coarse_teacher(mfeat, "fac", group_size=2, random_state=0)
    c = b.modality("fac.coarse")
    for g in class_groups(mfeat.n_classes, 2, 0):
        means = [c.data[c.labels == k].mean(0) for k in g]
        assert np.allclose(means[0], means[1])
    within = [np.allclose(c.data[c.labels == k] - c.data[c.labels == k].mean(0),
                          b.modality("fac").data[b.modality("fac").labels == k]
                          - b.modality("fac").data[b.modality("fac").labels == k].mean(0)) for k in range(10)]
    assert all(within)  # the spread inside a class is kept


def test_noisy_teacher_takes_about_the_share_from_other_classes(mfeat):
    b = noisy_teacher(mfeat, "mor", share=0.3, random_state=0)
    src, noisy = b.modality("mor"), b.modality("mor.noisy")
    assert b.n_paired("mor", "mor.noisy") == src.n and np.array_equal(noisy.labels, src.labels)
    same_row = np.all(noisy.data == src.data, axis=1)
    assert 0.25 < 1 - same_row.mean() < 0.35
    row_class = {r.tobytes(): int(c) for r, c in zip(src.data, src.labels)}
    moved = ~same_row
    assert all(row_class[r.tobytes()] != c for r, c in zip(noisy.data[moved], src.labels[moved]))


def test_complementary_split_partitions_the_columns(mfeat):
    b = complementary_split(mfeat, "fac", student_share=0.25, random_state=0)
    a, t, src = b.modality("fac.a"), b.modality("fac.b"), b.modality("fac")
    assert a.dim + t.dim == src.dim and b.n_paired("fac.a", "fac.b") == src.n
    joined = np.sort(np.concatenate([a.data, t.data], axis=1), axis=1)
    assert np.allclose(joined, np.sort(src.data, axis=1))
