"""The distiller: train a student modality with or without knowledge from a teacher modality.


:func:`distill` pre-trains a teacher on its own modality, freezes it, then trains a student on
its own modality with one registered method (:mod:`cchkit.distill.methods`) and reports the
student's held-out accuracy. Every method shares the student's split, initialisation,
mini-batch order, optimiser and schedule for a given ``random_state``, so
``accuracy(method) - accuracy("none")`` at one seed is a paired difference. The parts:
:mod:`~cchkit.distill.splits` (splits and pairs), :mod:`~cchkit.distill.teachers` (the frozen
teacher), :mod:`~cchkit.distill.methods` (the losses), :mod:`~cchkit.distill.loop` (the
training loop), :class:`~cchkit.distill.config.DistillConfig` (the settings).
Methods
-------
``"none"``
    Cross-entropy only: the no-KD baseline.
``"ucmkd"``
    Unpaired, the first-order bilevel algorithm of UCMKD (Tran et al., ICML 2026): per student
    batch, copy the student; ``n1`` inner AdamW steps on the feature alignment
    :func:`~cchkit.distill.losses.sinkhorn_alignment` between the copy's features and an
    independently drawn teacher batch; ``n2`` inner steps on the label alignment
    :func:`~cchkit.distill.losses.label_alignment`; then the cross-entropy at the adapted copy,
    whose gradient (first order, as FOMAML) is applied to the original student by the outer
    optimiser.
``"align"``
    Unpaired, single level: ``CE + lambda1 * FA + lambda2 * LA``.
``"logit-kd"``
    Paired, Hinton's KD: ``CE + lambda1 * T^2 KL(p_T^T || p_S^T)`` on the samples of the
    student's training split that have a teacher pair (same sample id).
``"feature-kd"``
    Paired, feature regression: ``CE + lambda1 * MSE(z_S, z_T)`` on the same pairs.

Data handling
-------------
* The student's train/test split is made on the student's own samples (stratified, seeded);
  ``train_size`` (default None: the split is set by ``test_size``) fixes the training split's
  size instead, e.g. a few labelled samples per class, while the teacher's held-out share stays
  ``test_size`` (``cchkit.datasets.kd_scenarios.starved_student_bundle`` is built for it).
* The teacher is trained on its own modality's samples, except a held-out part used for its
  test accuracy. Leakage guard: the teacher samples whose ids are in the student's test split
  are always held out (when the data are paired the teacher never trains on the test samples'
  other view); when fewer than ``test_size * n_teacher`` are, more are drawn at random. This is
  the *only* place the unpaired methods look at sample ids; switch it off with
  ``exclude_test_ids=False`` to make them ignore ids completely.
* Teacher rows are put in a canonical order (sorted by label, then by their features), so the
  result does not depend on the order of the teacher's rows in the bundle.
* Unpaired methods draw teacher mini-batches independently of the student's (from the
  teacher's training split, a seeded permutation, or with ``class_matched=True`` the same
  class histogram as the student batch) and never use pairs.
* Each modality is standardised with the mean and standard deviation of its training split.

Optimisation (all methods alike): outer SGD with momentum 0.9 and the paper's lr 1e-2, linear
warm-up over the first ``warmup_epochs`` (default ``max(1, epochs // 10)``; the paper: 5 of 100)
then cosine decay to ``lr * 1e-3``, gradient norm clipped at 5; larger outer rates overfit the
small tabular students this package trains. The ``ucmkd`` inner AdamW (weight decay 0.05, fresh
state per batch) defaults to lr 1e-3, not the paper's 1e-5..5e-5: the first AdamW step moves
every weight by about ``lr`` whatever its gradient, so at 1e-5 the adapted copy equals the
student to within float noise and ``ucmkd`` reduces to ``none``, while much larger inner steps
hurt the student.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .._params import BOOL, NONE, Integral, Interval, validate_params
from .._torch import resolve_device, torch_threads
from ..datasets import load_bundle
from .config import DistillConfig
from .loop import StepInputs, StudentRun, train_student
from .methods import get_method, list_methods
from .models import KDNet, accuracy
from .splits import MIN_TRAIN_PAIRS, check_modalities, prepare, sub_seeds
from .teachers import TeacherBatcher, TeacherCache, fit_teacher, teacher_context

logger = logging.getLogger("cchkit")

__all__ = ["distill", "DistillResult", "DistillConfig", "METHODS", "PAIRED_METHODS", "UNPAIRED_METHODS",
           "MIN_TRAIN_PAIRS"]

#: The built-in methods (:func:`~cchkit.distill.methods.list_methods` lists those registered since).
METHODS: tuple[str, ...] = tuple(list_methods())
#: Built-in methods that need paired samples (shared sample ids).
PAIRED_METHODS: tuple[str, ...] = tuple(list_methods(paired=True))
#: Built-in methods that never use pairs.
UNPAIRED_METHODS: tuple[str, ...] = tuple(m for m in list_methods(paired=False) if m != "none")


@dataclass
class DistillResult:
    """The outcome of one :func:`distill` run.

    Attributes
    ----------
    student, teacher, method : str
    seed : int
    accuracy : float
        The student's accuracy on its held-out test split, with the weights of the epoch of best
        validation accuracy (``params["best_epoch"]``; the last epoch with ``val_size=0``).
    teacher_net_accuracy : float
        The frozen teacher's accuracy on its own held-out samples.
    curve : list of dict
        One entry per epoch: ``epoch, lr, loss, ce, fa, la, kd, train_accuracy, val_accuracy,
        test_accuracy`` (terms a method does not use are NaN). ``loss`` is the objective the
        outer optimiser minimised (for ``ucmkd``: the cross-entropy at the adapted copy).
    seconds : float
        Wall-clock time of the whole call (teacher pre-training included).
    params : dict
        Every setting of the run.
    n_train, n_test : int
        Student training / test samples.
    n_teacher_train, n_teacher_test : int
    n_pairs : int
        Paired samples used by a paired method (0 for the others).
    n_val : int
        Student validation samples (carved from its training split) that chose the epoch.
    teacher_curve : list of float
        The teacher's per-epoch pre-training loss.
    test_ids : ndarray
        Sample ids of the student's test split.
    models : dict or None
        With ``keep_models=True``: ``{"student": KDNet, "teacher": KDNet}`` (the trained student
        in eval mode, the frozen teacher); not part of :meth:`to_dict`.
    """

    student: str
    teacher: str
    method: str
    seed: int
    accuracy: float
    teacher_net_accuracy: float
    curve: list[dict[str, float]]
    seconds: float
    params: dict[str, Any]
    n_train: int = 0
    n_test: int = 0
    n_teacher_train: int = 0
    n_teacher_test: int = 0
    n_pairs: int = 0
    n_val: int = 0
    teacher_curve: list[float] = field(default_factory=list)
    test_ids: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    models: dict[str, KDNet] | None = field(default=None, repr=False)

    def curve_frame(self) -> pd.DataFrame:  # noqa: F821
        """The training curve as a pandas DataFrame (one row per epoch)."""
        import pandas as pd

        return pd.DataFrame(self.curve)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of the results (without the models; ``test_ids`` as a list)."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("models",)}
        out["test_ids"] = self.test_ids.tolist()
        out["curve"] = [dict(c) for c in self.curve]
        out["params"] = dict(self.params)
        return out


# ----------------------------------------------------------------------------- helpers


@validate_params({"random_state": [Interval(Integral, 0, None)], "n_threads": [NONE, Interval(Integral, 1, None)],
                  "device": [str], "keep_models": [BOOL], "progress": [BOOL], "seed": [NONE, Interval(Integral, 0, None)]})
def distill(
    bundle: Any,
    student: str,
    teacher: str,
    config: DistillConfig | None = None,
    *,
    random_state: int = 0,
    device: str = "auto",
    n_threads: int | None = 1,
    keep_models: bool = False,
    progress: bool = False,
    teacher_cache: TeacherCache | None = None,
    seed: int | None = None,
    **settings: Any,
) -> DistillResult:
    """Distil ``teacher`` into ``student`` and measure the student's accuracy.

    Parameters
    ----------
    bundle : ModalityBundle, or what :func:`cchkit.load_bundle` reads
        A bundle, a bundled dataset's name or a path (an unlabeled row is set aside, with a warning).
    student, teacher : str
        Modality names (different).
    config : DistillConfig, optional
        The run's settings (default: :class:`DistillConfig`'s defaults).
    random_state : int
        Seeds everything: split, inits, batch order. The same seed gives the same numbers on CPU.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``.
    n_threads : int or None, default 1
        torch intra-op threads during the call (restored afterwards); one thread is fastest
        for these small batches. None leaves torch's setting alone.
    keep_models : bool, default False
        Keep the trained student and the frozen teacher in ``result.models``.
    progress : bool
        A tqdm bar over epochs on stderr.
    teacher_cache : TeacherCache, optional
        Where trained teachers are kept and looked up (the caller owns it; pass one cache to the
        runs that may share teachers, e.g. every method of one seed). None: train afresh.
    seed : int, optional
        Deprecated name of ``random_state``.
    **settings
        Any :class:`DistillConfig` field, overriding ``config``: ``method`` (a registered name,
        see :mod:`cchkit.distill.methods`; paired ones raise
        :class:`~cchkit.exceptions.NotPairedError` without pairs), ``epochs``, ``batch_size``,
        ``min_steps`` (floor on the student's optimisation steps: the epochs are raised to
        ``ceil(min_steps / batches per epoch)``, so a small training split still gets enough SGD
        steps), ``val_size`` (share of the training split that picks the epoch of best
        validation accuracy, earliest on ties, for every method; 0 keeps the last epoch),
        ``feat_dim``, ``hidden``, ``lambda1`` / ``lambda2`` (loss weights), ``n1`` / ``n2``
        (``ucmkd`` inner steps), ``eps`` / ``cost`` (Sinkhorn), ``inner_lr`` /
        ``inner_weight_decay`` (``ucmkd`` inner AdamW; default 1e-3, measured, see the module
        docstring), ``lr`` / ``momentum`` / ``weight_decay`` / ``warmup_epochs`` /
        ``grad_clip`` (outer SGD, all methods alike), ``temperature``, ``teacher_grad``
        (``ucmkd`` / ``align``: False is the public code's stop-gradient; True the paper's form,
        which pushes the student's features away from the teacher's class on mfeat),
        ``class_matched``, ``class_targets`` (``class-align``: ``"mean"`` class-mean targets or
        ``"sample"``), ``lambda_fa``, ``teacher_epochs`` / ``teacher_lr``, ``test_size``,
        ``train_size`` (the student's training split as a count or share instead; the teacher
        keeps its own ``1 - test_size``), ``exclude_test_ids`` (the leakage guard). An unknown
        name is refused.

    Returns
    -------
    DistillResult
    """
    t0 = time.perf_counter()
    if seed is not None:  # the old name of random_state (before 0.2)
        warnings.warn("distill(seed=...) is deprecated; use random_state=...", DeprecationWarning, stacklevel=3)
        random_state = seed
    cfg = DistillConfig.build(config, **settings)
    bundle = load_bundle(bundle).labelled_for("distill")
    check_modalities(bundle, student, teacher)
    dev = resolve_device(device)
    with torch_threads(n_threads if dev.type == "cpu" else None):
        out = _run(bundle, student, teacher, cfg, int(random_state), dev, progress, teacher_cache)
    res, run = out
    res.seconds = time.perf_counter() - t0
    logger.info("distill %s %s->%s seed %d: student acc %.4f, teacher acc %.4f (%.2fs)", cfg.method, teacher, student,
                random_state, res.accuracy, res.teacher_net_accuracy, res.seconds)
    if keep_models:
        res.models = run
    return res


def _run(bundle: Any, student: str, teacher: str, cfg: DistillConfig, random_state: int, dev: torch.device,
         progress: bool, cache: TeacherCache | None) -> tuple[DistillResult, dict[str, KDNet]]:
    """Prepare, fit the teacher, train the student; the result (its time unset) and the models."""
    method = get_method(cfg.method)
    s_split, s_fill, s_tinit, _s_tbatch, s_sinit, s_sbatch, s_tdraw, s_val = sub_seeds(random_state, 8)
    n_classes = int(bundle.n_classes)
    d = prepare(bundle, student, teacher, test_size=cfg.test_size, split_seed=s_split, fill_seed=s_fill,
                paired=method.paired, exclude_test_ids=cfg.exclude_test_ids, device=dev,
                train_size=cfg.train_size, val_size=cfg.val_size, val_seed=s_val)
    tnet, t_curve = fit_teacher(d.xt_tr, d.yt_tr, n_classes, feat_dim=cfg.feat_dim, hidden=cfg.hidden,
                                epochs=cfg.t_epochs, batch_size=cfg.batch_size, lr=cfg.teacher_lr, seed=s_tinit,
                                cache=cache)
    ctx = teacher_context(tnet, d, n_classes, class_temperature=method.class_temperature(cfg), paired=method.paired,
                          dev=dev)
    run = StudentRun.build(d, n_classes, cfg, method, seeds=(s_sinit, s_sbatch), dev=dev)
    batcher = TeacherBatcher(d.yt_tr_np, n_classes, np.random.default_rng(s_tdraw), cfg.class_matched)
    curve = train_student(run, d, StepInputs(method, tnet, ctx, batcher, d, dev, cfg),
                          desc=f"{cfg.method} {teacher}->{student}", progress=progress)
    run.snet.eval()
    params = {**cfg.as_dict(), "random_state": random_state, "warmup_epochs": cfg.warmup,
              "teacher_epochs": cfg.t_epochs, "run_epochs": run.epochs,
              "best_epoch": run.best.epoch if run.best.epoch is not None else run.epochs}
    res = DistillResult(
        student=student, teacher=teacher, method=cfg.method, seed=random_state, accuracy=accuracy(run.snet, d.xs_te, d.ys_te),
        teacher_net_accuracy=accuracy(tnet, d.xt_te, d.yt_te), curve=curve, seconds=0.0, params=params,
        n_train=int(d.xs_tr.shape[0]), n_test=int(d.xs_te.shape[0]), n_teacher_train=int(d.xt_tr.shape[0]),
        n_teacher_test=int(d.xt_te.shape[0]), n_pairs=ctx.n_pairs, teacher_curve=t_curve,
        test_ids=np.asarray(d.test_ids), n_val=int(d.xs_val.shape[0]))
    return res, {"student": run.snet, "teacher": tnet}
