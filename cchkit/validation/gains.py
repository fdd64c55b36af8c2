"""The full-label validation's gains: what a gain is measured over (the no-KD MLP or the linear
probe, :class:`Baseline`), one report row per (teacher, method), and the refusal when every run
failed."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._stats import is_significant, t_interval
from .._warn import warn_user
from ..distill import DistillConfig
from ..exceptions import CchkitError
from .plan import RUN_OPTIONS
from .report import ranking_copied

__all__ = ["Baseline", "measured_baseline", "warn_if_probe_wins", "gain_row", "refuse_if_all_runs_failed",
           "split_settings"]


@dataclass(frozen=True)
class Baseline:
    """What a gain is measured over: per seed, the no-KD MLP's accuracy (the same for every
    teacher) and the linear probe's (:mod:`cchkit.validation.probe`); ``kind`` is the stronger of
    the two on average over the seeds."""

    mlp: pd.Series
    probe: pd.Series
    probe_c: dict[int, float]

    @property
    def kind(self) -> str:
        mlp, probe = float(np.nanmean(self.mlp)), float(np.nanmean(self.probe))
        return "probe" if np.isfinite(probe) and not probe <= mlp else "mlp"

    def accuracy(self, teacher_runs: pd.Series) -> pd.Series:
        """The baseline accuracy per seed (the teacher's own no-KD run where the MLP is it)."""
        return self.probe if self.kind == "probe" else teacher_runs

    def summary(self) -> dict[str, Any]:
        mlp, probe = t_interval(self.mlp.to_numpy(), bounds=(0, 1)), t_interval(self.probe.to_numpy(), bounds=(0, 1))
        return {"kind": self.kind, "mlp": list(mlp), "probe": list(probe), "probe_C": self.probe_c}


def split_settings(distill_params: Mapping[str, Any]) -> dict[str, Any]:
    """``test_size``, ``train_size`` and ``val_size`` as the distiller uses them (its defaults unless given)."""

    cfg = DistillConfig.build(**{k: v for k, v in distill_params.items() if k not in RUN_OPTIONS})
    return {"test_size": cfg.test_size, "train_size": cfg.train_size, "val_size": cfg.val_size}


def measured_baseline(bundle: Any, student: str, seeds: list[int], tune_seeds: list[int], runs: pd.DataFrame,
              distill_params: Mapping[str, Any], probes: dict[int, Any]) -> Baseline:
    """The no-KD MLP and the linear probe on the student's split of every seed; ``probes`` keeps
    the probes of earlier rounds (each seed's probe is fitted once, ``C`` chosen on
    ``tune_seeds``, the seeds that chose the MLP students' settings)."""
    from .probe import tuned_probes

    missing = [s for s in seeds if s not in probes]
    if missing:
        m = bundle.modality(student)
        probes |= tuned_probes(m.data, m.labels, missing, tune_seeds, **split_settings(distill_params))
    none = runs[runs["method"] == "none"].groupby("seed")["accuracy"].mean().reindex(seeds)
    return Baseline(mlp=none, probe=pd.Series({s: probes[s].accuracy for s in seeds}).reindex(seeds),
                    probe_c={int(s): probes[s].C for s in seeds})


def warn_if_probe_wins(base: Baseline) -> None:
    if base.kind == "probe":
        warn_user(
            "validate: the no-KD MLP student (accuracy %.3f) ends below a tuned linear probe on the same split "
            "(%.3f); every gain is measured over the probe, the stronger baseline.",
            float(np.nanmean(base.mlp)), float(np.nanmean(base.probe)))


def gain_row(student: str, teacher: str, method: str, tr: pd.DataFrame, rinfo: Any, n_seeds: int,
              baseline: Baseline) -> dict[str, Any]:
    """One report row: accuracies and the paired gain over the stronger baseline, per seed, with
    the ranking's scores."""
    none = tr[tr["method"] == "none"].set_index("seed")["accuracy"]
    an, ap = t_interval(none.to_numpy(), bounds=(0.0, 1.0)), t_interval(baseline.probe.to_numpy(), bounds=(0.0, 1.0))
    base = baseline.accuracy(none)
    mr = tr[tr["method"] == method].set_index("seed")
    acc = mr["accuracy"]
    gains = (acc - base.reindex(acc.index)).to_numpy(dtype=float)
    a, g = t_interval(acc.to_numpy(), bounds=(0.0, 1.0)), t_interval(gains, bounds=(-1.0, 1.0))
    errs = [e for e in mr["error"] if e]
    teacher_acc = mr["teacher_net_accuracy"]
    row: dict[str, Any] = dict(
        student=student, teacher=teacher, method=method, n_seeds=int(np.isfinite(gains).sum()),
        acc_none=an[0], acc_none_low=an[1], acc_none_high=an[2],
        acc_probe=ap[0], acc_probe_low=ap[1], acc_probe_high=ap[2], baseline=baseline.kind,
        acc=a[0], acc_low=a[1], acc_high=a[2],
        gain=g[0], gain_low=g[1], gain_high=g[2],
        significant=is_significant(g[1], g[2], n_seeds),
        gain_seeds=[round(float(v), 10) for v in gains if np.isfinite(v)],
        teacher_net_accuracy=float(np.nanmean(teacher_acc)) if np.isfinite(teacher_acc).any() else math.nan,
        error=errs[0] if errs else "",
    )
    for col in ranking_copied():
        val = rinfo.get(col, math.nan) if rinfo is not None else math.nan
        row[col] = float(val) if val is not None and not (isinstance(val, float) and math.isnan(val)) else math.nan
    row["decision"] = str(rinfo.get("decision", "")) if rinfo is not None else ""
    return row


def refuse_if_all_runs_failed(runs: pd.DataFrame) -> None:
    """Every KD run (or every no-KD baseline) failed: there is no gain to report."""
    for part, what in ((runs[runs["method"] != "none"], "KD"), (runs[runs["method"] == "none"], "no-KD baseline")):
        errors = [e for e in part["error"] if e]
        if len(part) and len(errors) == len(part):
            reasons = list(dict.fromkeys(errors))
            raise CchkitError(
                f"every {what} run failed ({len(part)} runs), so no gain was measured: " + "; ".join(reasons[:3])
            )
