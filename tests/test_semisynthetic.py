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


def test_permuted_teacher_rotates_labels_inside_groups(mfeat):
    b = permuted_teacher(mfeat, "fac", group_size=2, random_state=0)
    src, perm = b.modality("fac"), b.modality("fac.perm")
    assert np.array_equal(perm.data, src.data) and b.n_paired("fac", "fac.perm") == 0
    mapping = {int(a): int(c) for a, c in zip(src.labels, perm.labels)}
    assert all(mapping[a] != a for a in mapping)  # every class relabelled ...
    groups = class_groups(mfeat.n_classes, 2, 0)
    for g in groups:  # ... to another class of its own group
        assert {mapping[int(c)] for c in g} == set(g.tolist())


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


def test_noisy_teacher_flips_about_the_share(mfeat):
    b = noisy_teacher(mfeat, "mor", share=0.3, random_state=0)
    flipped = (b.modality("mor").labels != b.modality("mor.noisy").labels).mean()
    assert 0.25 < flipped < 0.35


def test_complementary_split_partitions_the_columns(mfeat):
    b = complementary_split(mfeat, "fac", student_share=0.25, random_state=0)
    a, t, src = b.modality("fac.a"), b.modality("fac.b"), b.modality("fac")
    assert a.dim + t.dim == src.dim and b.n_paired("fac.a", "fac.b") == src.n
    joined = np.sort(np.concatenate([a.data, t.data], axis=1), axis=1)
    assert np.allclose(joined, np.sort(src.data, axis=1))
