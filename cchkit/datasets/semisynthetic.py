"""Semi-synthetic teachers derived from real modalities, whose effect on a student can be argued
in advance (for the criterion study: a corpus with effects of both signs).

Each function takes a real bundle and returns a new bundle with derived teacher modalities added
(the real modalities are kept). After ../shared/reference/kd_prediction.md:

* :func:`permuted_teacher` (``"<m>.perm"``): the rows of modality ``m`` with their labels rotated
  inside groups of classes. The teacher is as accurate on the groups, but its class structure
  inside them is wrong: its class-mean soft targets for class c point at c's neighbour. Expected
  to hurt a class-level (unpaired) distiller.
* :func:`coarse_teacher` (``"<m>.coarse"``): the rows of ``m`` with each class moved onto its
  group's centroid (the class mean replaced by the group mean), so the teacher cannot separate
  the classes of a group: right structure, less resolution.
* :func:`noisy_teacher` (``"<m>.noisy"``): the rows of ``m`` with a share of their labels
  replaced by another class, uniformly.
* :func:`complementary_split`: one modality split into two feature blocks that become a student
  (``"<m>.a"``) and a teacher that sees what the student lacks (``"<m>.b"``), paired sample by
  sample. Expected to help.

Derived teachers whose labels differ from the real ones get sample ids of their own (so they are
unpaired: the CCH, which needs pairs, cannot score them; the unpaired distiller can).
"""

from __future__ import annotations

import numpy as np

from .._random import RandomState, as_generator
from ..bundle import ModalityBundle
from ..exceptions import InputError

__all__ = ["class_groups", "permuted_teacher", "coarse_teacher", "noisy_teacher", "complementary_split"]


def class_groups(n_classes: int, group_size: int, random_state: RandomState = 0) -> list[np.ndarray]:
    """The classes in a seeded random order, cut into groups of ``group_size`` (the last may be
    larger, so that no class stays alone)."""
    if not 2 <= group_size <= n_classes:
        raise InputError(f"group_size must be between 2 and the number of classes ({n_classes}), got {group_size}.")
    order = as_generator(random_state).permutation(n_classes)
    groups = [order[i:i + group_size] for i in range(0, n_classes, group_size)]
    if len(groups) > 1 and groups[-1].size < 2:
        last = groups.pop()
        groups[-1] = np.concatenate([groups[-1], last])
    return groups


def _with(bundle: ModalityBundle, name: str, data: np.ndarray, labels: np.ndarray, ids: np.ndarray,
          description: str) -> ModalityBundle:
    """``bundle`` with one more modality (labels as class codes of the bundle)."""
    mods = bundle.modalities
    if name in mods:
        raise InputError(f"the bundle already has a modality {name!r}.")
    arrays = {k: m.data for k, m in mods.items()} | {name: data}
    labs = {k: bundle.classes[m.labels] for k, m in mods.items()} | {name: bundle.classes[labels]}
    id_map = {k: m.ids for k, m in mods.items()} | {name: ids}
    desc = {k: m.description for k, m in mods.items()} | {name: description}
    return ModalityBundle.from_arrays(arrays, labels=labs, ids=id_map, name=bundle.name, descriptions=desc,
                                      representations=[k for k, m in mods.items() if m.representation],
                                      metadata=bundle.metadata)


def _own_ids(name: str, n: int) -> np.ndarray:
    return np.array([f"{name}:{i}" for i in range(n)])


def permuted_teacher(bundle: ModalityBundle, source: str, *, group_size: int = 2,
                     random_state: RandomState = 0) -> ModalityBundle:
    """Add ``"<source>.perm"``: ``source``'s rows with labels rotated inside class groups."""
    m = bundle.modality(source)
    rotate = np.arange(bundle.n_classes)
    for g in class_groups(bundle.n_classes, group_size, random_state):
        rotate[g] = np.roll(g, -1)  # class g[i] is labelled g[i + 1]
    name = f"{source}.perm"
    return _with(bundle, name, m.data, rotate[m.labels], _own_ids(name, m.n),
                 f"{source} with its labels rotated inside groups of {group_size} classes (wrong class structure)")


def coarse_teacher(bundle: ModalityBundle, source: str, *, group_size: int = 2,
                   random_state: RandomState = 0) -> ModalityBundle:
    """Add ``"<source>.coarse"``: each class of ``source`` moved onto its group's centroid."""
    m = bundle.modality(source)
    means = np.zeros((bundle.n_classes, m.dim))
    present = np.unique(m.labels)
    for c in present:  # a loop over classes
        means[c] = m.data[m.labels == c].mean(0)
    shift = np.zeros_like(means)
    for g in class_groups(bundle.n_classes, group_size, random_state):
        g = g[np.isin(g, present)]
        if g.size:
            shift[g] = means[g].mean(0) - means[g]
    name = f"{source}.coarse"
    return _with(bundle, name, m.data + shift[m.labels], m.labels, _own_ids(name, m.n),
                 f"{source} with the classes of each group of {group_size} moved onto their centroid (coarse)")


def noisy_teacher(bundle: ModalityBundle, source: str, *, share: float = 0.3,
                  random_state: RandomState = 0) -> ModalityBundle:
    """Add ``"<source>.noisy"``: ``source``'s rows with a ``share`` of labels replaced by another class."""
    if not 0 < share < 1:
        raise InputError(f"share must be in (0, 1), got {share}.")
    m = bundle.modality(source)
    rng = as_generator(random_state)
    flip = rng.random(m.n) < share
    other = (m.labels + rng.integers(1, bundle.n_classes, m.n)) % bundle.n_classes  # never the same class
    name = f"{source}.noisy"
    return _with(bundle, name, m.data, np.where(flip, other, m.labels), _own_ids(name, m.n),
                 f"{source} with {share:.0%} of its labels replaced by another class")


def complementary_split(bundle: ModalityBundle, source: str, *, student_share: float = 0.5,
                        random_state: RandomState = 0) -> ModalityBundle:
    """Add ``"<source>.a"`` (a random ``student_share`` of ``source``'s columns) and
    ``"<source>.b"`` (the other columns), paired with each other and with ``source``."""
    m = bundle.modality(source)
    if m.dim < 2:
        raise InputError(f"{source!r} has {m.dim} column; a split needs at least 2.")
    cols = as_generator(random_state).permutation(m.dim)
    k = int(min(max(1, round(student_share * m.dim)), m.dim - 1))
    out = _with(bundle, f"{source}.a", m.data[:, np.sort(cols[:k])], m.labels, m.ids,
                f"{k} of the {m.dim} columns of {source} (a student)")
    return _with(out, f"{source}.b", m.data[:, np.sort(cols[k:])], m.labels, m.ids,
                 f"the other {m.dim - k} columns of {source} (a teacher that sees what {source}.a lacks)")
