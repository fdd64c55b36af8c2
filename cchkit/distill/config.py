"""The settings of one distillation run: :class:`DistillConfig`, frozen and checked."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .._params import BOOL, NONE, Integral, Interval, Options, Real, check_params
from ..exceptions import InputError
from .losses import COSTS

__all__ = ["DistillConfig", "CONSTRAINTS"]

_POSITIVE_INT = [Interval(Integral, 1, None)]
_NONNEG_REAL = [Interval(Real, 0, None)]
_POSITIVE_REAL = [Interval(Real, 0, None, closed="neither")]

#: What each setting accepts (checked when a config is made).
CONSTRAINTS: dict[str, list[Any]] = {
    "method": [str], "epochs": _POSITIVE_INT, "batch_size": [Interval(Integral, 2, None)],
    "feat_dim": _POSITIVE_INT, "hidden": [Interval(Integral, 1, None), list, tuple],
    "n1": [Interval(Integral, 0, None)], "n2": [Interval(Integral, 0, None)],
    "lambda1": _NONNEG_REAL, "lambda2": _NONNEG_REAL, "inner_lr": _NONNEG_REAL,
    "inner_weight_decay": _NONNEG_REAL, "grad_clip": _NONNEG_REAL, "lambda_fa": _NONNEG_REAL,
    "lr": _POSITIVE_REAL, "eps": _POSITIVE_REAL, "temperature": _POSITIVE_REAL, "teacher_lr": _POSITIVE_REAL,
    "momentum": [Interval(Real, 0, 1, closed="left")], "weight_decay": _NONNEG_REAL,
    "test_size": [Interval(Real, 0, 1, closed="neither")],
    "train_size": [NONE, Interval(Integral, 1, None), Interval(Real, 0, 1, closed="neither")],
    "class_targets": [Options(["mean", "sample"])], "min_steps": [Interval(Integral, 0, None)],
    "val_size": [Interval(Real, 0, 1, closed="left")], "cost": [Options(COSTS)],
    "warmup_epochs": [NONE, Interval(Integral, 0, None)], "teacher_epochs": [NONE, Interval(Integral, 1, None)],
    "teacher_grad": [BOOL], "class_matched": [BOOL], "exclude_test_ids": [BOOL],
}


@dataclass(frozen=True)
class DistillConfig:
    """Every setting of a :func:`~cchkit.distill.distill` run except where it runs (device,
    threads) and its seed. See :func:`~cchkit.distill.distill` for what each one does; the
    defaults are the measured ones documented there.

    >>> cfg = DistillConfig(method="logit-kd", epochs=10)
    >>> cfg.replace(lambda1=2.0).lambda1
    2.0
    """

    method: str = "class-align"
    epochs: int = 30
    min_steps: int = 300
    val_size: float = 0.2
    batch_size: int = 64
    feat_dim: int = 32
    hidden: int | Sequence[int] = 64
    lambda1: float = 1.0
    lambda2: float = 1.0
    n1: int = 1
    n2: int = 1
    eps: float = 0.1
    cost: Literal["cosine", "l2"] = "cosine"
    inner_lr: float = 1e-3
    inner_weight_decay: float = 0.05
    lr: float = 1e-2
    momentum: float = 0.9
    weight_decay: float = 0.0
    warmup_epochs: int | None = None
    grad_clip: float = 5.0
    temperature: float = 4.0
    teacher_grad: bool = False
    class_matched: bool = False
    class_targets: Literal["mean", "sample"] = "mean"
    lambda_fa: float = 0.0
    teacher_epochs: int | None = None
    teacher_lr: float = 1e-2
    test_size: float = 0.3
    train_size: int | float | None = None
    exclude_test_ids: bool = True

    def __post_init__(self) -> None:
        from .methods import get_method

        check_params("distill", dataclasses.asdict(self), CONSTRAINTS)
        get_method(self.method)  # an unknown method is refused with the registered names
        if not isinstance(self.hidden, int):
            object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))

    @property
    def warmup(self) -> int:
        """Warm-up epochs: ``warmup_epochs``, or ``max(1, epochs // 10)``."""
        return max(1, self.epochs // 10) if self.warmup_epochs is None else int(self.warmup_epochs)

    @property
    def t_epochs(self) -> int:
        """Teacher pre-training epochs: ``teacher_epochs``, or ``epochs``."""
        return self.epochs if self.teacher_epochs is None else int(self.teacher_epochs)

    def replace(self, **changes: Any) -> DistillConfig:
        """A copy with ``changes`` (checked like the settings of a new config)."""
        return DistillConfig.build(self, **changes)

    @classmethod
    def build(cls, base: DistillConfig | None = None, **settings: Any) -> DistillConfig:
        """``base`` (default: the defaults) with ``settings``; an unknown name is refused with the
        accepted ones."""
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(settings) - set(names))
        if unknown:
            raise InputError(f"distill has no setting(s) {', '.join(map(repr, unknown))}; it accepts "
                             f"{', '.join(names)}, random_state, device, n_threads, keep_models, progress, "
                             "teacher_cache.")
        return dataclasses.replace(base or cls(), **settings)

    def as_dict(self) -> dict[str, Any]:
        """The settings as a plain dict (``hidden`` as a list), as :attr:`DistillResult.params` holds them."""
        out = dataclasses.asdict(self)
        out["hidden"] = out["hidden"] if isinstance(out["hidden"], int) else list(out["hidden"])
        return out
