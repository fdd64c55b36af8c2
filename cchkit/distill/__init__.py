"""Cross-modal knowledge distillation: prove a CCH recommendation by distilling.

>>> from cchkit.distill import distill, validate          # doctest: +SKIP
>>> res = distill(bundle, "audio", "video", method="ucmkd", random_state=0)   # doctest: +SKIP
>>> res.accuracy, res.teacher_accuracy                    # doctest: +SKIP
"""

from .losses import feature_kd, label_alignment, sinkhorn_alignment, vanilla_kd
from .trainer import METHODS, PAIRED_METHODS, UNPAIRED_METHODS, DistillResult, distill
from .validate import ValidationReport, validate

__all__ = [
    "distill",
    "DistillResult",
    "validate",
    "ValidationReport",
    "sinkhorn_alignment",
    "label_alignment",
    "vanilla_kd",
    "feature_kd",
    "METHODS",
    "PAIRED_METHODS",
    "UNPAIRED_METHODS",
]
