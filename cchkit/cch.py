r"""The Cross-modal Complementarity Hypothesis (CCH) score and decision.

Xie, Xu & Sanguinetti (2025), "Information-Theoretic Criteria for Knowledge Distillation in
Multimodal Learning", arXiv:2510.13182: cross-modal KD from teacher modality T to student S
helps when

.. math:: I(H_T; H_S) > I(H_S; Y),

so the CCH score of a teacher is

.. math:: \mathrm{score}(T) = I(H_T; H_S) - I(H_S; Y)

(positive: KD predicted to help; negative: to hurt). This module is the only place the formula
lives (:func:`cch_score`).

Score variants (``variant``)
----------------------------
``raw``
    The paper's form on the representations as given. Caveat: I(H_S; Y) <= H(Y) <= log C while
    I(H_T; H_S) between continuous representations is unbounded and grows with dimension, so
    on rich representations the raw score says "helps" almost always.
``matched``
    Both terms measured in representations of matched dimension that keep only what is
    predictive of Y: each of H_T and H_S is projected onto its (C-1)-dimensional linear
    discriminant space (LDA, cross-fitted within the fold so no sample is projected by a map fit
    on it), then ``I(Z_T; Z_S) - I(Z_S; Y)``. The teacher-student term then counts only
    label-relevant shared information, on the same scale as the label term.

Decision
--------
``helps`` when the score's interval lies above 0, ``hurts`` when it lies below 0,
``inconclusive`` when it straddles 0.

Interval
--------
Each MI term comes with its estimator's interval (bootstrap over held-out samples for the
Gaussian estimator; see each estimator). Terms are averaged over cross-fitting folds and encoder
seeds; the score's standard error combines the terms' standard errors as if independent, which is
conservative because both terms share H_S and are positively correlated, plus the spread between
encoder seeds when several are used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np

from ._validation import standardize
from .estimators import MIEstimate, MIEstimator
from .exceptions import InputError

__all__ = [
    "cch_score",
    "decide",
    "decide_by_interval",
    "ScoreVariant",
    "SCORE_VARIANTS",
    "Term",
    "combine_terms",
    "discriminant_projection",
]

#: ``raw``: the paper's score on H as it is; ``matched``: on H projected to its discriminant space.
ScoreVariant = Literal["raw", "matched"]
SCORE_VARIANTS: tuple[str, ...] = get_args(ScoreVariant)
Decision = Literal["helps", "hurts", "inconclusive"]
_Z95 = 1.959963984540054


def cch_score(i_teacher_student: float, i_student_label: float) -> float:
    """The CCH score ``I(H_T; H_S) - I(H_S; Y)`` (nats)."""
    return float(i_teacher_student) - float(i_student_label)


def decide(low: float, high: float) -> Decision:
    """``helps`` if the interval is above 0, ``hurts`` if below, else ``inconclusive``."""
    return decide_by_interval([low], [high])[0]


def decide_by_interval(low: Any, high: Any) -> np.ndarray:
    """The interval rule on arrays, the one implementation of it: ``helps`` where the interval
    lies above 0, ``hurts`` where below, ``inconclusive`` otherwise and wherever an end is missing."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    out = np.full(low.shape, "inconclusive", dtype=object)
    both = np.isfinite(low) & np.isfinite(high)
    out[both & (low > 0)] = "helps"
    out[both & (high < 0)] = "hurts"
    return out


@dataclass(frozen=True)
class Term:
    """One MI term pooled over folds / seeds: value, standard error, and the raw estimates."""

    value: float
    se: float
    estimates: tuple[MIEstimate, ...] = field(default=(), repr=False)

    @property
    def low(self) -> float:
        return self.value - _Z95 * self.se

    @property
    def high(self) -> float:
        return self.value + _Z95 * self.se


def _se_of(est: MIEstimate) -> float:
    """Standard error of an estimate: its own ``se`` if given, else from its 95% interval."""
    se = est.se
    if se is not None and math.isfinite(se):
        return float(se)
    if est.ci is not None:
        return float(est.ci[1] - est.ci[0]) / (2 * _Z95)
    return float("nan")


def combine_terms(groups: Sequence[Sequence[MIEstimate]]) -> Term:
    """Pool estimates: ``groups[s][f]`` is seed s, fold f.

    Folds are averaged within a seed (SE of a mean of independent folds); seeds are averaged and
    their spread (between-seed variance / S) is added to the within-seed variance.
    """
    seed_vals, seed_vars, flat = [], [], []
    for group in groups:
        vals = np.array([e.value for e in group])
        ses = np.array([_se_of(e) for e in group])
        seed_vals.append(vals.mean())
        seed_vars.append(np.nansum(ses**2) / len(group) ** 2 if np.isfinite(ses).any() else np.nan)
        flat.extend(group)
    s = len(seed_vals)
    value = float(np.mean(seed_vals))
    within = float(np.nanmean(seed_vars)) / s if np.isfinite(seed_vars).any() else 0.0
    between = float(np.var(seed_vals, ddof=1)) / s if s > 1 else 0.0
    return Term(value=value, se=math.sqrt(within + between), estimates=tuple(flat))


def score_interval(ts: Term, sy: Term) -> tuple[float, float, float]:
    """Score, low, high from the two pooled terms (conservative independent combination)."""
    score = cch_score(ts.value, sy.value)
    se = math.sqrt(ts.se**2 + sy.se**2) if math.isfinite(ts.se) and math.isfinite(sy.se) else float("nan")
    if not math.isfinite(se):
        return score, float("nan"), float("nan")
    return score, score - _Z95 * se, score + _Z95 * se


def discriminant_projection(h: np.ndarray, labels: np.ndarray, *, random_state: int = 0) -> np.ndarray:
    """Cross-fitted projection of ``h`` onto its (C-1)-dim LDA space (the ``matched`` variant).

    Two halves (stratified, seeded): each half is projected by an LDA fitted on the other half,
    so no sample is projected by a map fitted on it. Output columns are standardised.
    """
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.model_selection import StratifiedKFold

    n_cls = int(np.unique(labels).size)
    k = int(min(n_cls - 1, h.shape[1]))
    counts = np.bincount(labels)
    if counts[counts > 0].min() < 2:
        raise InputError("the matched variant needs at least 2 samples per class in every fold.")
    out = np.empty((h.shape[0], k))
    skf = StratifiedKFold(n_splits=2, shuffle=True, random_state=random_state)
    for fit_idx, apply_idx in skf.split(h, labels):
        lda = LinearDiscriminantAnalysis(n_components=k, solver="eigen", shrinkage="auto")
        lda.fit(h[fit_idx], labels[fit_idx])
        out[apply_idx] = lda.transform(h[apply_idx])[:, :k]
    return standardize(out)


#: The terms :func:`estimate_terms` can compute.
TERMS = ("teacher_student", "student_label", "teacher_label", "joint_label")


def estimate_terms(
    estimator: MIEstimator,
    h_teacher: np.ndarray,
    h_student: np.ndarray,
    labels: np.ndarray,
    *,
    variant: str = "raw",
    baselines: bool = True,
    random_state: int = 0,
    terms: Sequence[str] | None = None,
) -> dict[str, MIEstimate]:
    """The MI terms for one (teacher, student) pair on one fold.

    ``teacher_student`` = I(H_T; H_S), ``student_label`` = I(H_S; Y) and, with ``baselines``,
    ``teacher_label`` = I(H_T; Y) and ``joint_label`` = I([H_T, H_S]; Y) (for the MFH-style
    shared-information score). ``terms`` names the ones to compute (default: those); each is
    estimated from the estimator's seed alone, so computing fewer changes none of the others.
    """
    if variant not in SCORE_VARIANTS:
        raise InputError(f"unknown score variant {variant!r}; choose one of {', '.join(SCORE_VARIANTS)}.")
    if terms is None:
        terms = TERMS if baselines else TERMS[:2]
    unknown = sorted(set(terms) - set(TERMS))
    if unknown:
        raise InputError(f"unknown term(s) {unknown}; choose from {', '.join(TERMS)}.")
    if variant == "matched":
        # one projection per modality and seed: the same one the ranking's label terms use, so
        # that I(Z_T; Z_S), I(Z_T; Y) and I([Z_T, Z_S]; Y) all see the same Z_T
        h_teacher = discriminant_projection(h_teacher, labels, random_state=random_state)
        h_student = discriminant_projection(h_student, labels, random_state=random_state)
    inputs = {
        "teacher_student": lambda: (h_teacher, h_student, False),
        "student_label": lambda: (h_student, labels, True),
        "teacher_label": lambda: (h_teacher, labels, True),
        "joint_label": lambda: (np.concatenate([h_teacher, h_student], axis=1), labels, True),
    }
    out = {}
    for name in TERMS:
        if name in terms:
            x, y, discrete = inputs[name]()
            out[name] = estimator.estimate(x, y, discrete_y=discrete)
    return out


def mfh_share(i_teacher_label: float, i_student_label: float, i_joint_label: float) -> float:
    """Share of the teacher's label information that the student's modality also carries.

    Redundancy ``R = I(H_T;Y) + I(H_S;Y) - I([H_T,H_S];Y)`` (co-information, a lower bound on
    shared label information), divided by I(H_T; Y) and clipped to [0, 1]. After the Modality
    Focusing Hypothesis (Xue et al., ICLR 2023): KD helps when the teacher's decisive features
    are modality-general, i.e. also present in the student's modality.
    """
    if not i_teacher_label > 0:
        return float("nan")
    red = i_teacher_label + i_student_label - i_joint_label
    return float(min(max(red / i_teacher_label, 0.0), 1.0))
