r"""The students of one validation, trained as stacks and tuned with one budget for all.

``validate`` needs, for every seed, a no-KD student and one KD student per (teacher, method).
For the methods whose step is a per-member loss (:data:`STACKABLE`) they are all trained at once
by :func:`~cchkit.distill.batched.train_stack`, in two stacks:

1. **No-KD students**, one per seed and setting of :data:`STUDENT_GRID` (learning rate x weight
   decay); each seed keeps the setting with the best validation accuracy.
2. **KD students**, one per seed, teacher, method and setting of :data:`KD_GRID` (KD weight x
   temperature, the weight never 0) on that seed's chosen no-KD setting; each keeps its best
   setting by validation accuracy.

Both searches are of the same size (6 settings), select on the same validation split by the same
rule and stop by the same best-epoch rule, so a KD student can neither switch KD off nor win by
being searched harder: the gain measures KD, not the search. The test split is read once, at
the end. With ``tune=False`` each student uses the given settings (one member each).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .._parallel import available_cores
from .._torch import torch_threads
from ..distill.batched import Member, MemberResult, StackSettings, train_stack
from ..distill.prepare import PreparedSeed, prepare_seeds

__all__ = ["STACKABLE", "STUDENT_GRID", "KD_GRID", "stackable_methods", "stacked_runs", "RUN_COLUMNS"]

#: Methods trained in stacks (the others run one by one through ``distill``).
STACKABLE = ("none", "class-align", "logit-kd")
#: The no-KD student's search: (learning rate, weight decay).
STUDENT_GRID: tuple[tuple[float, float], ...] = tuple((lr, wd) for lr in (3e-3, 1e-2, 3e-2) for wd in (0.0, 1e-3))
#: The KD students' search on the chosen no-KD setting: (KD weight, temperature); no weight 0.
KD_GRID: tuple[tuple[float, float], ...] = tuple((w, t) for w in (0.5, 1.0, 2.0) for t in (2.0, 4.0))
#: Columns of the runs table (one row per teacher, method and seed).
RUN_COLUMNS = ["teacher", "method", "seed", "accuracy", "val_accuracy", "teacher_net_accuracy", "lr", "weight_decay",
               "kd_weight", "temperature", "seconds", "error"]
#: distill settings a stack honours; any other setting sends a method through ``distill``
_STACK_SETTINGS = {"epochs", "min_steps", "batch_size", "feat_dim", "hidden", "lr", "momentum", "weight_decay",
                   "warmup_epochs", "grad_clip", "lambda1", "temperature", "teacher_epochs", "teacher_lr", "test_size",
                   "train_size", "val_size", "exclude_test_ids", "class_targets", "lambda_fa", "n_threads"}
_KIND = {"class-align": "class", "logit-kd": "paired"}


def stackable_methods(methods: Sequence[str], distill_params: Mapping[str, Any]) -> list[str]:
    """The methods of ``methods`` that the stacks train with these settings."""
    if set(distill_params) - _STACK_SETTINGS or distill_params.get("class_targets", "mean") != "mean" \
            or distill_params.get("lambda_fa", 0.0) > 0:
        return []
    return [m for m in methods if m in STACKABLE]


@dataclass(frozen=True)
class _Job:
    """One member's meaning: which seed, teacher and method, and its settings."""

    seed: int
    teacher: str | None
    method: str
    lr: float
    weight_decay: float
    kd_weight: float = math.nan
    temperature: float = math.nan


def _settings(n_classes: int, epochs: int, dp: Mapping[str, Any]) -> StackSettings:
    keys = ("hidden", "feat_dim", "min_steps", "batch_size", "momentum", "warmup_epochs", "grad_clip")
    return StackSettings(n_classes=n_classes, epochs=epochs, **{k: dp[k] for k in keys if k in dp})


def _train(members: list[Member], data: list[Any], settings: StackSettings) -> list[MemberResult]:
    """Train the members in stacks of equal split sizes; results in the order of ``members``."""
    def size(m: Member) -> tuple[int, ...]:
        d = data[m.data]
        return (d.x_fit.shape[0], d.x_val.shape[0], d.x_test.shape[0])

    out: list[MemberResult | None] = [None] * len(members)
    # a stack is one large batched product per layer, which threads split well (and the values do
    # not depend on the thread count: checked in tests/test_distill_batched.py)
    with torch_threads(available_cores()):
        for key in dict.fromkeys(size(m) for m in members):
            idx = [i for i, m in enumerate(members) if size(m) == key]
            for i, r in zip(idx, train_stack([members[i] for i in idx], data, settings)):
                out[i] = r
    return out  # type: ignore[return-value]


def _best(jobs: list[_Job], results: list[MemberResult], key: Any) -> dict[Any, tuple[_Job, MemberResult]]:
    """Per group (``key(job)``), the job with the best validation accuracy (the first on ties)."""
    best: dict[Any, tuple[_Job, MemberResult]] = {}
    for job, res in zip(jobs, results):
        k = key(job)
        if k not in best or res.val_accuracy > best[k][1].val_accuracy:
            best[k] = (job, res)
    return best


def _no_kd_stage(preps: dict[int, PreparedSeed], tune: bool, dp: Mapping[str, Any], settings: StackSettings,
                 data: list[Any]) -> dict[int, tuple[_Job, MemberResult]]:
    grid = STUDENT_GRID if tune else ((dp.get("lr", 1e-2), dp.get("weight_decay", 0.0)),)
    jobs, members = [], []
    for i, (seed, p) in enumerate(preps.items()):
        for lr, wd in grid:
            jobs.append(_Job(seed, None, "none", lr, wd))
            members.append(Member(i, p.init_seed, p.batch_seed, lr=lr, weight_decay=wd))
    return _best(jobs, _train(members, data, settings), key=lambda j: j.seed)


def _kd_members(preps: dict[int, PreparedSeed], teachers: Sequence[str], methods: Sequence[str], tune: bool,
                dp: Mapping[str, Any], chosen: dict[int, tuple[_Job, MemberResult]]) -> tuple[list[_Job], list[Member]]:
    grid = KD_GRID if tune else ((dp.get("lambda1", 1.0), dp.get("temperature", 4.0)),)
    jobs, members = [], []
    for i, (seed, p) in enumerate(preps.items()):
        base = chosen[seed][0]
        for teacher in p.teachers:
            tt = p.teachers[teacher]
            for method in methods:
                if method == "logit-kd" and tt.pair_logits is None:
                    continue
                for w, t in grid:
                    jobs.append(_Job(seed, teacher, method, base.lr, base.weight_decay, w, t))
                    targets = tt.class_targets(t) if method == "class-align" else tt.pair_logits
                    members.append(Member(i, p.init_seed, p.batch_seed, lr=base.lr, weight_decay=base.weight_decay,
                                          kd=_KIND[method], kd_weight=w, temperature=t, targets=targets,  # type: ignore[arg-type]
                                          pair_mask=tt.pair_mask if method == "logit-kd" else None))
    return jobs, members


def _prepare_all(bundle: Any, student: str, teachers: Sequence[str], seeds: list[int], *, paired: bool, epochs: int,
                 device: str, dp: Mapping[str, Any]) -> dict[int, PreparedSeed]:
    """Every seed's split and its teachers, each teacher modality's networks trained as one stack."""
    keys = ("teacher_epochs", "batch_size", "feat_dim", "hidden", "teacher_lr", "test_size", "train_size", "val_size",
            "exclude_test_ids")
    with torch_threads(available_cores()):
        return prepare_seeds(bundle, student, teachers, seeds, paired=paired, epochs=epochs, device=device,
                             **{k: dp[k] for k in keys if k in dp})


def _row(job: _Job, res: MemberResult | None, teacher: str, teacher_acc: float, error: str = "") -> dict[str, Any]:
    return {"teacher": teacher, "method": job.method, "seed": job.seed,
            "accuracy": res.accuracy if res else math.nan, "val_accuracy": res.val_accuracy if res else math.nan,
            "teacher_net_accuracy": teacher_acc, "lr": job.lr, "weight_decay": job.weight_decay,
            "kd_weight": job.kd_weight, "temperature": job.temperature, "seconds": math.nan, "error": error}


def stacked_runs(bundle: Any, student: str, teachers: Sequence[str], seeds: Sequence[int], methods: Sequence[str], *,
                 epochs: int, device: str, tune: bool, distill_params: Mapping[str, Any]) -> pd.DataFrame:
    """The runs table of the stackable ``methods`` (``none`` included): see the module docstring."""
    dp = dict(distill_params)
    kd_methods = [m for m in methods if m != "none"]
    prepared = _prepare_all(bundle, student, teachers, [int(s) for s in seeds], paired="logit-kd" in kd_methods,
                            epochs=epochs, device=device, dp=dp)
    preps = {s: p for s, p in prepared.items() if p.data is not None}
    data = [p.data for p in preps.values()]
    settings = _settings(int(bundle.n_classes), epochs, dp)
    chosen = _no_kd_stage(preps, tune, dp, settings, data)
    jobs, members = _kd_members(preps, teachers, kd_methods, tune, dp, chosen)
    best = _best(jobs, _train(members, data, settings), key=lambda j: (j.seed, j.teacher, j.method)) if jobs else {}
    rows = []
    for seed, p in prepared.items():
        for teacher in teachers:
            if teacher in p.failed or seed not in preps:  # the input ruled this teacher out for this seed
                err = p.failed.get(teacher, "no teacher could be prepared for this seed")
                rows += [_row(_Job(seed, teacher, m, math.nan, math.nan), None, teacher, math.nan, err)
                         for m in ["none", *kd_methods]]
                continue
            tt = p.teachers[teacher]
            rows.append(_row(*chosen[seed], teacher, tt.accuracy))
            for method in kd_methods:
                if (seed, teacher, method) in best:
                    rows.append(_row(*best[(seed, teacher, method)], teacher, tt.accuracy))
                else:  # logit-kd without pairs
                    rows.append(_row(_Job(seed, teacher, method, math.nan, math.nan), None, teacher, math.nan,
                                     tt.pair_error or "no pairs"))
    return pd.DataFrame(rows, columns=RUN_COLUMNS)
