"""Cross-modal knowledge distillation: train a student with a frozen teacher's knowledge.

>>> from cchkit.distill import DistillConfig, distill                      # doctest: +SKIP
>>> res = distill(bundle, "audio", "image", method="class-align", random_state=0)  # doctest: +SKIP
>>> res.accuracy, res.teacher_net_accuracy                                # doctest: +SKIP

Parts: :mod:`~cchkit.distill.splits` (splits and pairs), :mod:`~cchkit.distill.teachers` (the
frozen teacher and its cache), :mod:`~cchkit.distill.methods` (the registered losses),
:mod:`~cchkit.distill.loop` (the training loop), :mod:`~cchkit.distill.trainer` (:func:`distill`),
:mod:`~cchkit.distill.batched` / :mod:`~cchkit.distill.prepare` (many students as one stack).
``validate`` lives above the distiller and the ranking, in :mod:`cchkit.validation`.
"""

from .config import DistillConfig
from .losses import feature_kd, label_alignment, sinkhorn_alignment, vanilla_kd
from .methods import KDMethod, get_method, list_methods, register_method, unregister_method
from .teachers import TeacherCache
from .trainer import METHODS, PAIRED_METHODS, UNPAIRED_METHODS, DistillResult, distill

__all__ = [
    "distill",
    "DistillConfig",
    "DistillResult",
    "TeacherCache",
    "KDMethod",
    "register_method",
    "unregister_method",
    "get_method",
    "list_methods",
    "sinkhorn_alignment",
    "label_alignment",
    "vanilla_kd",
    "feature_kd",
    "METHODS",
    "PAIRED_METHODS",
    "UNPAIRED_METHODS",
]
