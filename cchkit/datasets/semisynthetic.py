"""Semi-synthetic teachers derived from real modalities, whose effect on a student can be argued
in advance (for the criterion study: a corpus with effects of both signs).

Each function takes a real bundle and returns a new bundle with derived teacher modalities added
(the real modalities are kept). Each is built so that the direction of its effect can be argued
before any distillation:

* :func:`permuted_teacher` (``"<m>.perm"``): for a sample of class c, a row of modality ``m``
  from the class that follows c inside a group of classes. The teacher is as accurate, but its
  class structure is wrong: its confusions for c are those of c's neighbour, so its class-mean
  soft targets spread c's non-target mass over the wrong classes. Expected to hurt a class-level
  (unpaired) distiller.
* :func:`coarse_teacher` (``"<m>.coarse"``): the rows of ``m`` with each class moved onto its
  group's centroid (the class mean replaced by the group mean), so the teacher cannot separate
  the classes of a group: right structure, less resolution.
* :func:`noisy_teacher` (``"<m>.noisy"``): for a share of the samples, a row of ``m`` from
  another class, uniformly (label noise seen from the teacher's side).
* :func:`complementary_split`: one modality split into two feature blocks that become a student
  (``"<m>.a"``) and a teacher that sees what the student lacks (``"<m>.b"``), paired sample by
  sample. Expected to help.

Every derived teacher keeps ``source``'s sample ids and labels, so it is paired with the other
modalities and every criterion can score it: the derivations change which rows a sample gets.
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


def _donor_rows(labels: np.ndarray, donor_class: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each row i, a random row whose label is ``donor_class[i]`` (vectorised: rows grouped by
    class, one uniform draw per row)."""
    order = np.argsort(labels, kind="stable")
    counts = np.bincount(labels, minlength=int(donor_class.max()) + 1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    if np.any(counts[donor_class] == 0):
        raise InputError("a donor class has no row; derive from a modality that has every class.")
    return order[starts[donor_class] + (rng.random(labels.size) * counts[donor_class]).astype(np.int64)]


def permuted_teacher(bundle: ModalityBundle, source: str, *, group_size: int = 2,
                     random_state: RandomState = 0) -> ModalityBundle:
    """Add ``"<source>.perm"``, paired with ``source`` sample by sample: the row of a sample of
    class c is a random row of ``source`` of the class that follows c in its group. The teacher is
    as accurate, but its class structure inside the groups is rotated: its confusions for c are
    those of c's neighbour."""
    m = bundle.modality(source)
    rotate = np.arange(bundle.n_classes)
    for g in class_groups(bundle.n_classes, group_size, random_state):
        rotate[g] = np.roll(g, -1)  # class g[i] takes rows of class g[i + 1]
    rows = _donor_rows(m.labels, rotate[m.labels], as_generator(random_state))
    return _with(bundle, f"{source}.perm", m.data[rows], m.labels, m.ids,
                 f"{source} rows of the neighbouring class inside groups of {group_size} (wrong class structure)")


def coarse_teacher(bundle: ModalityBundle, source: str, *, group_size: int = 2,
                   random_state: RandomState = 0) -> ModalityBundle:
    """Add ``"<source>.coarse"``, paired with ``source``: each class moved onto its group's centroid."""
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
    return _with(bundle, f"{source}.coarse", m.data + shift[m.labels], m.labels, m.ids,
                 f"{source} with the classes of each group of {group_size} moved onto their centroid (coarse)")


def noisy_teacher(bundle: ModalityBundle, source: str, *, share: float = 0.3,
                  random_state: RandomState = 0) -> ModalityBundle:
    """Add ``"<source>.noisy"``, paired with ``source``: for a ``share`` of the samples the row is a
    random row of ``source`` of another class (uniformly), as if that share were mislabelled."""
    if not 0 < share < 1:
        raise InputError(f"share must be in (0, 1), got {share}.")
    m = bundle.modality(source)
    rng = as_generator(random_state)
    flip = rng.random(m.n) < share
    other = (m.labels + rng.integers(1, bundle.n_classes, m.n)) % bundle.n_classes  # never the same class
    rows = _donor_rows(m.labels, np.where(flip, other, m.labels), rng)
    rows = np.where(flip, rows, np.arange(m.n))
    return _with(bundle, f"{source}.noisy", m.data[rows], m.labels, m.ids,
                 f"{source} with {share:.0%} of its rows taken from another class (label noise)")


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
