"""One seed's data and teachers for stacked training (:mod:`cchkit.distill.batched`): the split,
the student's seeds and every teacher's targets exactly as :func:`~cchkit.distill.distill`
makes them, with the teachers of all seeds pre-trained as one stack."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from .._torch import resolve_device
from ..exceptions import CchkitError, NotPairedError
from .models import KDNet, accuracy, build_net, freeze
from .splits import Prepared, check_modalities, prepare, sub_seeds
from .teachers import TeacherTargets, fit_teacher, teacher_context

__all__ = ["PreparedSeed", "SplitSettings", "prepare_seed", "prepare_seeds"]


@dataclass(frozen=True)
class PreparedSeed:
    """One seed's student split (as :class:`~cchkit.distill.batched.StudentData`), the student's
    initialisation and batch seeds, and every teacher's targets: what :func:`distill` would use
    for that seed, for stacked training."""

    data: Any
    init_seed: int
    batch_seed: int
    teachers: dict[str, TeacherTargets]
    failed: dict[str, str] = field(default_factory=dict)  # teacher -> why it could not be prepared


@dataclass(frozen=True)
class SplitSettings:
    """How :func:`prepare_seed` / :func:`prepare_seeds` split the data and train the teachers
    (the :func:`distill` settings of the same names)."""

    epochs: int = 30
    teacher_epochs: int | None = None
    batch_size: int = 64
    feat_dim: int = 32
    hidden: int | Sequence[int] = 64
    teacher_lr: float = 1e-2
    test_size: float = 0.3
    train_size: int | float | None = None
    val_size: float = 0.2
    exclude_test_ids: bool = True
    device: str = "auto"

    @property
    def t_epochs(self) -> int:
        return self.epochs if self.teacher_epochs is None else int(self.teacher_epochs)


def _seed_split(bundle: Any, student: str, teacher: str, random_state: int, paired: bool,
                st: SplitSettings) -> tuple[Prepared, str]:
    """One seed's prepared data for a (student, teacher) pair, with the pairs where asked for
    and available (else the reason in the second value)."""
    check_modalities(bundle, student, teacher)
    s_split, s_fill, *_, s_val = sub_seeds(random_state, 8)
    kw = dict(test_size=st.test_size, split_seed=s_split, fill_seed=s_fill, exclude_test_ids=st.exclude_test_ids,
              device=resolve_device(st.device), train_size=st.train_size, val_size=st.val_size, val_seed=s_val)
    if paired:
        try:
            return prepare(bundle, student, teacher, paired=True, **kw), ""
        except NotPairedError as exc:
            return prepare(bundle, student, teacher, paired=False, **kw), f"NotPairedError: {exc}"
    return prepare(bundle, student, teacher, paired=False, **kw), ""


def _targets(tnet: KDNet, d: Prepared, pair_error: str, n_classes: int) -> TeacherTargets:
    ctx = teacher_context(tnet, d, n_classes, class_temperature=None, paired=d.pair_rows is not None, dev=d.xt_tr.device)
    return TeacherTargets(accuracy=accuracy(tnet, d.xt_te, d.yt_te), logits=ctx.lt_tr, labels=d.yt_tr,
                          n_classes=n_classes, pair_logits=ctx.lt_pair, pair_mask=ctx.pair_mask, pair_error=pair_error)


def _prepared_seed(random_state: int, splits: dict[str, tuple[Prepared, str]], nets: dict[str, KDNet],
                   n_classes: int) -> PreparedSeed:
    from .batched import StudentData

    d = next(iter(splits.values()))[0]
    *_, s_sinit, s_sbatch, _, _ = sub_seeds(random_state, 8)
    return PreparedSeed(data=StudentData(d.xs_tr, d.ys_tr, d.xs_val, d.ys_val, d.xs_te, d.ys_te), init_seed=s_sinit,
                        batch_seed=s_sbatch,
                        teachers={t: _targets(nets[t], dt, err, n_classes) for t, (dt, err) in splits.items()})


def prepare_seed(bundle: Any, student: str, teachers: Sequence[str], random_state: int, *, paired: bool,
                 **settings: Any) -> PreparedSeed:
    """The split, seeds and teacher targets of ``random_state`` exactly as :func:`distill` makes
    them (each teacher trained alone, as :func:`distill` trains it); ``settings`` are
    :class:`SplitSettings`."""
    st = SplitSettings(**settings)
    n_classes = int(bundle.n_classes)
    splits = {t: _seed_split(bundle, student, t, random_state, paired, st) for t in teachers}
    s_tinit = sub_seeds(random_state, 8)[2]
    nets = {t: fit_teacher(d.xt_tr, d.yt_tr, n_classes, feat_dim=st.feat_dim, hidden=st.hidden, epochs=st.t_epochs,
                        batch_size=st.batch_size, lr=st.teacher_lr, seed=s_tinit)[0] for t, (d, _) in splits.items()}
    return _prepared_seed(random_state, splits, nets, n_classes)


def prepare_seeds(bundle: Any, student: str, teachers: Sequence[str], seeds: Sequence[int], *, paired: bool,
                  **settings: Any) -> dict[int, PreparedSeed]:
    """:func:`prepare_seed` for many seeds, the teacher networks of every modality and seed
    pre-trained together, one stack per training-split size
    (:func:`~cchkit.distill.batched.train_teachers`: the same weights as one by one, to float
    precision)."""
    from .batched import TeacherJob, train_teachers

    st = SplitSettings(**settings)
    n_classes = int(bundle.n_classes)
    splits, failed = _splits_or_errors(bundle, student, teachers, seeds, paired, st)
    nets: dict[int, dict[str, KDNet]] = {s: {} for s in seeds}
    groups: dict[int, list[tuple[int, str]]] = {}
    for t in teachers:  # one stack per training-split size, whatever the modality
        for s in seeds:
            if t in splits[s]:
                groups.setdefault(splits[s][t][0].xt_tr.shape[0], []).append((s, t))
    for group in groups.values():
        jobs = [TeacherJob(splits[s][t][0].xt_tr, splits[s][t][0].yt_tr, sub_seeds(s, 8)[2]) for s, t in group]
        trained = train_teachers(jobs, n_classes=n_classes, hidden=st.hidden, feat_dim=st.feat_dim,
                                 epochs=st.t_epochs, batch_size=st.batch_size, lr=st.teacher_lr)
        for (s, t), job, params in zip(group, jobs, trained):
            net = build_net(job.x.shape[1], n_classes, feat_dim=st.feat_dim, hidden=st.hidden, seed=0)
            with torch.no_grad():
                for p, q in zip(net.parameters(), params):
                    p.copy_(q)
            nets[s][t] = freeze(net.to(job.x.device))
    out = {}
    for s in seeds:
        if splits[s]:
            out[s] = replace(_prepared_seed(s, splits[s], nets[s], n_classes), failed=failed[s])
        else:  # no teacher could be prepared for this seed: nothing to train
            out[s] = PreparedSeed(data=None, init_seed=0, batch_seed=0, teachers={}, failed=failed[s])
    return out


def _splits_or_errors(bundle: Any, student: str, teachers: Sequence[str], seeds: Sequence[int], paired: bool,
                      st: SplitSettings) -> tuple[dict[int, dict[str, tuple[Prepared, str]]], dict[int, dict[str, str]]]:
    """Each seed's prepared data per teacher; a teacher that the input rules out for a seed (one
    class in its split, say) is recorded with its reason instead of stopping the others."""
    splits: dict[int, dict[str, tuple[Prepared, str]]] = {s: {} for s in seeds}
    failed: dict[int, dict[str, str]] = {s: {} for s in seeds}
    for s in seeds:
        for t in teachers:
            try:
                splits[s][t] = _seed_split(bundle, student, t, s, paired, st)
            except CchkitError as exc:
                failed[s][t] = f"{type(exc).__name__}: {exc}"
    return splits, failed
