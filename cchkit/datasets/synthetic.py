"""Synthetic modality bundles whose CCH quantities are known in closed form.

Two families, each returning a :class:`SyntheticBundle` (the bundle, the truth in nats, the
parameters):

**Gaussian CCH family** (cchkit's own model; the CCH paper, Xie, Xu & Sanguinetti, arXiv
2510.13182, uses jointly Gaussian data but does not publish its exact model). Latent factors

.. math::

    z \\sim N(0, I_{k_z}) \\ (\\text{label factor}), \\quad a \\sim N(0, I_{k_a})
    \\ (\\text{shared, label-free}), \\quad e_m \\sim N(0, I_{d_m}),

modalities :math:`x_m = P_m z + Q_m a + s_m e_m` (student ``m = S``, teachers ``m = T``), a
label score :math:`\\mathrm{score} = w^\\top z + \\sigma_y \\varepsilon` with :math:`|w| = 1`
and a binary label :math:`Y = 1[\\mathrm{score} > \\tau]`. The loadings are
:math:`[P_m, Q_m] = U_m\\,\\mathrm{diag}(\\alpha_m 1_{k_z}, \\beta_m 1_{k_a})` with :math:`U_m`
a random :math:`d_m \\times (k_z + k_a)` matrix with orthonormal columns, so that
:math:`\\alpha_m` (``label_strength``) and :math:`\\beta_m` (``shared_strength``) are signal
amplitudes against the noise :math:`s_m` (``noise``). Everything in
:math:`(x_S, x_T, \\mathrm{score})` is jointly Gaussian, so

.. math::

    I(x_T; x_S) = \\tfrac12 \\log \\frac{\\det \\Sigma_{TT} \\det \\Sigma_{SS}}{\\det \\Sigma_{(T,S)}},

and :math:`I(x_S; Y)` is a 1-D integral: with :math:`c = \\mathrm{Cov}(x_S, \\mathrm{score})`,
:math:`q = c^\\top \\Sigma_{SS}^{-1} c` and :math:`v = \\mathrm{Var}(\\mathrm{score}) - q`,
:math:`P(Y=1 \\mid x_S) = \\Phi((\\mu - \\tau)/\\sqrt v)` where :math:`\\mu = c^\\top
\\Sigma_{SS}^{-1} x_S \\sim N(0, q)`, hence

.. math::

    I(x_S; Y) = H(Y) - \\mathbb E_{t \\sim N(0,1)}\\Big[h_b\\big(\\Phi((\\sqrt q\\, t - \\tau)/\\sqrt v)\\big)\\Big],

computed by adaptive quadrature (:func:`binary_label_mi`). The true CCH margin of teacher T
is :math:`I(x_T; x_S) - I(x_S; Y)`.

**MFH family** (Xue et al., "The Modality Focusing Hypothesis: Towards Understanding
Crossmodal Knowledge Distillation", ICLR 2023): a hyperplane :math:`a \\sim N(0, I_k)`,
decisive features :math:`x_s \\sim N(0, I_k)`, :math:`y = 1[x_s^\\top a > 0]`; each modality is
Gaussian noise with ``n_per_modality`` channels overwritten by (noisy) copies of decisive
features; ``gamma`` is the share of the teacher's decisive features that the student also has.
This is again jointly Gaussian in (x_S, x_T, score), so the same closed forms apply.

Invertible element-wise transforms (``"half_cube"``, ``"asinh"``, as in Czyz et al., "Beyond
Normal", NeurIPS 2023) applied per modality leave every mutual information unchanged while
making the data non-Gaussian.

All values are in nats. ``random_state`` seeds the samples; ``structure_seed`` seeds the fixed
structure (loadings, hyperplane, channel choices), so the truth does not change with
``random_state``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy import integrate, optimize, special

from .._params import Integral, Interval, Real, check_param
from .._random import RandomState, as_generator
from ..bundle import ModalityBundle
from ..exceptions import InputError
from .closed_forms import as_index, check_cov, gaussian_mi
from .mi_tasks import asinh, half_cube

logger = logging.getLogger("cchkit")

__all__ = [
    "Truth",
    "TeacherTruth",
    "SyntheticBundle",
    "gaussian_mi",
    "binary_label_mi",
    "binary_entropy",
    "bayes_accuracy",
    "gaussian_cch",
    "gaussian_cch_sweep",
    "complementary_teachers_bundle",
    "mfh",
    "mfh_sweep",
    "SYNTHETIC_TRANSFORMS",
]

#: Element-wise invertible transforms available to the synthetic families (MI-preserving).
SYNTHETIC_TRANSFORMS: dict[str, Any] = {"half_cube": half_cube, "asinh": asinh}

STUDENT = "student"


@dataclass(frozen=True)
class SyntheticBundle:
    """A synthetic bundle with its closed-form truth.

    Attributes
    ----------
    bundle : ModalityBundle
        The sampled modalities (student ``"student"`` plus teachers) and binary labels.
    truth : dict str -> float
        Closed-form quantities in nats, e.g. ``"I(teacher;student)"``, ``"I(student;Y)"``,
        ``"margin[teacher]"`` (= I(x_T; x_S) - I(x_S; Y), the true CCH margin on the raw
        modalities), ``"H(Y)"``, ``"bayes_accuracy[student]"``.
    params : dict
        The generating parameters, the joint covariance ``cov`` of (modalities..., score) with
        ``index`` (name -> column indices into ``cov``), and ``expected_order`` (teachers by
        true margin, best first).
    """

    bundle: ModalityBundle
    truth: Truth
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def margins(self) -> dict[str, float]:
        """Teacher name -> true CCH margin I(x_T; x_S) - I(x_S; Y) (nats)."""
        return {name: t.margin for name, t in self.truth.teachers.items()}


@dataclass(frozen=True)
class TeacherTruth:
    """Closed-form quantities of one teacher modality, in nats."""

    i_teacher_student: float  # I(x_T; x_S)
    i_teacher_label: float  # I(x_T; Y)
    margin: float  # I(x_T; x_S) - I(x_S; Y), the true CCH margin on the raw modalities
    bayes_accuracy: float


@dataclass(frozen=True)
class Truth(Mapping):
    """The closed-form truth of a synthetic bundle, typed, and readable by the documented names
    as a mapping: ``"H(Y)"``, ``"I(student;Y)"`` (also ``"I(S;Y)"``), ``"I(student;score)"``,
    ``"bayes_accuracy[student]"``, per teacher ``"I(<t>;student)"``, ``"I(<t>;Y)"``,
    ``"margin[<t>]"``, ``"bayes_accuracy[<t>]"``, with one teacher also ``"I(T;S)"`` and
    ``"margin"``, and the family's ``extra`` values (``"gamma"``...)."""

    h_y: float
    i_student_label: float
    i_student_score: float
    bayes_accuracy_student: float
    teachers: dict[str, TeacherTruth]
    extra: dict[str, float] = field(default_factory=dict)

    def _as_dict(self) -> dict[str, float]:
        out = {"H(Y)": self.h_y, "I(student;Y)": self.i_student_label, "I(S;Y)": self.i_student_label,
               "I(student;score)": self.i_student_score, "bayes_accuracy[student]": self.bayes_accuracy_student}
        for t, tt in self.teachers.items():
            out.update({f"I({t};student)": tt.i_teacher_student, f"I({t};Y)": tt.i_teacher_label,
                        f"margin[{t}]": tt.margin, f"bayes_accuracy[{t}]": tt.bayes_accuracy})
        if len(self.teachers) == 1:
            (only,) = self.teachers.values()
            out.update({"I(T;S)": only.i_teacher_student, "margin": only.margin})
        return {**out, **self.extra}

    def __getitem__(self, key: str) -> float:
        return self._as_dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._as_dict())

    def __len__(self) -> int:
        return len(self._as_dict())


# ---------------------------------------------------------------------- closed forms
def binary_entropy(p: Any) -> Any:
    """:math:`h_b(p) = -p\\log p - (1-p)\\log(1-p)` in nats (0 at p in {0, 1})."""
    p = np.asarray(p, dtype=np.float64)
    return special.entr(p) + special.entr(1.0 - p)


def _posterior_moments(cov: np.ndarray, idx_x: np.ndarray, idx_score: int) -> tuple[float, float, float]:
    """(q, v, s2): Var E[score|x], Var(score|x), Var(score) for a jointly Gaussian (x, score)."""
    sxx = cov[np.ix_(idx_x, idx_x)]
    c = cov[idx_x, idx_score]
    s2 = float(cov[idx_score, idx_score])
    if s2 <= 0:
        raise InputError("the score has zero variance.")
    try:
        sol = np.linalg.solve(sxx, c)
    except np.linalg.LinAlgError:
        raise InputError("the covariance of x is singular.") from None
    q = float(np.clip(c @ sol, 0.0, s2))
    return q, max(s2 - q, 0.0), s2


def _expect_std_normal(f: Any, center: float, width: float) -> float:
    """E f(t), t ~ N(0, 1), by adaptive quadrature with break points around ``center``."""
    lo, hi = -12.0, 12.0
    pts = sorted({float(np.clip(p, lo + 1e-9, hi - 1e-9)) for p in (center - 5 * width, center, center + 5 * width)})
    val, _ = integrate.quad(
        lambda t: math.exp(-0.5 * t * t) / math.sqrt(2 * math.pi) * f(t),
        lo,
        hi,
        points=pts,
        limit=500,
        epsabs=1e-13,
        epsrel=1e-11,
    )
    return float(val)


def _label_mi_from_moments(q: float, v: float, s2: float, threshold: float) -> float:
    p1 = float(special.ndtr(-threshold / math.sqrt(s2)))
    hy = float(binary_entropy(p1))
    if q <= 1e-15 * s2:
        return 0.0
    if v <= 1e-13 * s2:
        return hy
    sq, sv = math.sqrt(q), math.sqrt(v)

    def h_cond(t: float) -> float:
        u = (sq * t - threshold) / sv
        lp, lq = special.log_ndtr(u), special.log_ndtr(-u)
        return float(-(math.exp(lp) * lp + math.exp(lq) * lq))

    eh = _expect_std_normal(h_cond, threshold / sq, sv / sq)
    return float(min(max(hy - eh, 0.0), hy))


def binary_label_mi(cov: Any, idx_x: Sequence[int], idx_score: int, *, threshold: float = 0.0) -> float:
    """Exact :math:`I(X; Y)` for :math:`Y = 1[\\mathrm{score} > \\tau]`, (X, score) jointly
    Gaussian with zero mean, in nats.

    :math:`P(Y=1 \\mid X) = \\Phi((\\mu(X) - \\tau)/\\sqrt v)` depends on X only through the
    1-D projection :math:`\\mu(X) = c^\\top\\Sigma_{XX}^{-1}X \\sim N(0, q)` with
    :math:`c = \\mathrm{Cov}(X, \\mathrm{score})`, :math:`q = c^\\top\\Sigma_{XX}^{-1}c`,
    :math:`v = \\mathrm{Var}(\\mathrm{score}) - q`. Hence

    .. math::

        I(X; Y) = h_b\\big(\\Phi(-\\tau/\\sqrt{q + v})\\big) -
        \\mathbb E_{t\\sim N(0,1)}\\, h_b\\big(\\Phi((\\sqrt q\\,t - \\tau)/\\sqrt v)\\big),

    a 1-D integral computed by adaptive Gauss-Kronrod quadrature (``scipy.integrate.quad``,
    absolute error ~1e-10), with :math:`h_b` the binary entropy. ``q = 0`` gives 0 and
    ``v = 0`` (Y a deterministic function of X) gives H(Y).

    Parameters
    ----------
    cov : array (D, D)
        Joint covariance of (X, score, ...).
    idx_x : sequence of int
        Coordinates of X.
    idx_score : int
        Coordinate of the score.
    threshold : float
        :math:`\\tau`.
    """
    cov = check_cov(cov)
    ix = as_index(idx_x, cov.shape[0], "idx_x")
    isc = int(idx_score)
    if not 0 <= isc < cov.shape[0] or isc in ix:
        raise InputError("idx_score must be one coordinate of cov that is not in idx_x.")
    q, v, s2 = _posterior_moments(cov, ix, isc)
    return _label_mi_from_moments(q, v, s2, float(threshold))


def bayes_accuracy(cov: Any, idx_x: Sequence[int], idx_score: int, *, threshold: float = 0.0) -> float:
    """Accuracy of the Bayes classifier of :math:`Y = 1[\\mathrm{score} > \\tau]` from X:
    :math:`\\mathbb E\\,\\max(p, 1-p) = \\mathbb E\\,\\Phi(|\\mu(X) - \\tau| / \\sqrt v)` (see
    :func:`binary_label_mi` for the notation)."""
    cov = check_cov(cov)
    ix = as_index(idx_x, cov.shape[0], "idx_x")
    q, v, s2 = _posterior_moments(cov, ix, int(idx_score))
    threshold = float(threshold)
    p1 = float(special.ndtr(-threshold / math.sqrt(s2)))
    if q <= 1e-15 * s2:
        return max(p1, 1 - p1)
    if v <= 1e-13 * s2:
        return 1.0
    sq, sv = math.sqrt(q), math.sqrt(v)
    return _expect_std_normal(lambda t: float(special.ndtr(abs(sq * t - threshold) / sv)), threshold / sq, sv / sq)


# ---------------------------------------------------------------------- helpers
def _check_transform(transform: str | None) -> Any:
    if transform is None or transform == "identity":
        return None
    if transform not in SYNTHETIC_TRANSFORMS:
        raise InputError(f"unknown transform {transform!r}; choose one of {', '.join(SYNTHETIC_TRANSFORMS)} or None.")
    return SYNTHETIC_TRANSFORMS[transform]


def _pos_int(value: Any, name: str, low: int = 1) -> int:
    check_param("", name, value, [Interval(Integral, low, None)])
    return int(value)


def _nonneg(value: Any, name: str, positive: bool = False) -> float:
    check_param("", name, value, [Interval(Real, 0, None, closed="right" if positive else "both")])
    return float(value)


def _pair(value: Any, name: str) -> tuple[float, float]:
    """A scalar (same for student and teacher) or a (student, teacher) pair."""
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise InputError(f"{name} must be a number or a (student, teacher) pair, got {value!r}.")
        return _nonneg(value[0], name), _nonneg(value[1], name)
    v = _nonneg(value, name)
    return v, v


def _orthonormal(d: int, k: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((d, k)))
    return q * np.sign(np.diag(r))


def _finish(
    arrays: dict[str, np.ndarray],
    y: np.ndarray,
    transform: str | None,
    name: str,
    truth: Truth,
    params: dict[str, Any],
) -> SyntheticBundle:
    f = _check_transform(transform)
    if f is not None:
        arrays = {k: f(v) for k, v in arrays.items()}
    if np.unique(y).size < 2:
        raise InputError(f"the sample has a single class (n={y.shape[0]}); use more samples.")
    meta = {"truth": dict(truth), "family": name, "transform": transform}
    meta.update({k: v for k, v in params.items() if isinstance(v, (int, float, str, bool)) or v is None})
    bundle = ModalityBundle.from_arrays(arrays, labels=y, name=name, metadata=meta)
    return SyntheticBundle(bundle=bundle, truth=truth, params=params)


def _truth_from_cov(
    cov: np.ndarray, index: dict[str, np.ndarray], score: int, teachers: Sequence[str], threshold: float
) -> Truth:
    s = index[STUDENT]
    p1 = float(special.ndtr(-threshold / math.sqrt(cov[score, score])))
    isy = binary_label_mi(cov, s, score, threshold=threshold)
    per_teacher = {}
    for t in teachers:
        its = gaussian_mi(cov, index[t], s)
        per_teacher[t] = TeacherTruth(
            i_teacher_student=its, i_teacher_label=binary_label_mi(cov, index[t], score, threshold=threshold),
            margin=its - isy, bayes_accuracy=bayes_accuracy(cov, index[t], score, threshold=threshold),
        )
    return Truth(h_y=float(binary_entropy(p1)), i_student_label=isy, i_student_score=gaussian_mi(cov, s, [score]),
                 bayes_accuracy_student=bayes_accuracy(cov, s, score, threshold=threshold), teachers=per_teacher)


# ---------------------------------------------------------------------- Gaussian CCH family
_TEACHER_KEYS = ("label_strength", "shared_strength", "noise", "dim")


def _gaussian_cch_structure(
    specs: dict[str, dict[str, float]], k_z: int, k_a: int, label_noise: float, structure_seed: int
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, dict[str, np.ndarray], int]:
    """Loadings L_m (d_m, k_z + k_a), w, the joint covariance of (x_m..., score) and its index."""
    k = k_z + k_a
    loads: dict[str, np.ndarray] = {}
    for name, sp in specs.items():
        # each modality's own stream of the structure seed, so adding a teacher changes no other
        sub = np.random.default_rng([structure_seed, *name.encode("utf-8")])
        u = _orthonormal(int(sp["dim"]), k, sub)
        loads[name] = u * np.r_[np.full(k_z, sp["label_strength"]), np.full(k_a, sp["shared_strength"])]
    w = np.ones(k_z) / math.sqrt(k_z)
    big_l = np.vstack([loads[m] for m in specs])
    noise = np.concatenate([np.full(int(sp["dim"]), sp["noise"] ** 2) for sp in specs.values()])
    d = big_l.shape[0]
    cov = np.zeros((d + 1, d + 1))
    cov[:d, :d] = big_l @ big_l.T + np.diag(noise)
    cov[:d, d] = cov[d, :d] = big_l[:, :k_z] @ w
    cov[d, d] = 1.0 + label_noise**2
    index: dict[str, np.ndarray] = {}
    start = 0
    for name, sp in specs.items():
        index[name] = np.arange(start, start + int(sp["dim"]))
        start += int(sp["dim"])
    return loads, w, cov, index, d


def _gaussian_cch_specs(
    dim_s: int,
    dim_t: int,
    k_z: int,
    k_a: int,
    label_strength: Any,
    shared_strength: Any,
    noise_s: float,
    noise_t: float,
    teachers: Mapping[str, Mapping[str, float]] | None,
) -> dict[str, dict[str, float]]:
    ls, lt = _pair(label_strength, "label_strength")
    ss, st = _pair(shared_strength, "shared_strength")
    ns, nt = _nonneg(noise_s, "noise_s", True), _nonneg(noise_t, "noise_t", True)
    specs = {STUDENT: {"label_strength": ls, "shared_strength": ss, "noise": ns, "dim": dim_s}}
    default_t = {"label_strength": lt, "shared_strength": st, "noise": nt, "dim": dim_t}
    if teachers is None:
        teachers = {"teacher": {}}
    if not isinstance(teachers, Mapping) or not teachers:
        raise InputError("teachers must be a non-empty mapping name -> {label_strength, shared_strength, noise, dim}.")
    for name, sp in teachers.items():
        if name == STUDENT:
            raise InputError(f"a teacher cannot be called {STUDENT!r} (the student's name).")
        bad = set(sp) - set(_TEACHER_KEYS)
        if bad:
            raise InputError(f"teacher {name!r}: unknown keys {sorted(bad)}; use {', '.join(_TEACHER_KEYS)}.")
        full = {**default_t, **dict(sp)}
        specs[str(name)] = {
            "label_strength": _nonneg(full["label_strength"], f"{name}.label_strength"),
            "shared_strength": _nonneg(full["shared_strength"], f"{name}.shared_strength"),
            "noise": _nonneg(full["noise"], f"{name}.noise", True),
            "dim": _pos_int(full["dim"], f"{name}.dim"),
        }
    for name, sp in specs.items():
        if sp["dim"] < k_z + k_a:
            raise InputError(
                f"modality {name!r} has dim {sp['dim']} < k_z + k_a = {k_z + k_a}; every modality needs "
                "room for all latent factors. Raise its dim or lower k_z / k_a."
            )
    return specs


def gaussian_cch(
    n: int = 2000,
    *,
    dim_s: int = 8,
    dim_t: int = 8,
    k_z: int = 1,
    k_a: int = 2,
    label_strength: float | tuple[float, float] = 1.0,
    shared_strength: float | tuple[float, float] = 1.0,
    noise_s: float = 1.0,
    noise_t: float = 1.0,
    label_noise: float = 0.3,
    threshold: float = 0.0,
    teachers: Mapping[str, Mapping[str, float]] | None = None,
    transform: str | None = None,
    random_state: RandomState = 0,
    structure_seed: int = 0,
) -> SyntheticBundle:
    """Sample the Gaussian CCH family: a student and one or more teachers with closed-form truth.

    .. math::

        x_m = P_m z + Q_m a + s_m e_m,\\quad \\mathrm{score} = w^\\top z + \\sigma_y\\varepsilon,
        \\quad Y = 1[\\mathrm{score} > \\tau],

    with :math:`[P_m, Q_m] = U_m\\,\\mathrm{diag}(\\alpha_m, \\dots, \\beta_m, \\dots)`, see the
    module docstring. ``truth`` holds :math:`I(x_T; x_S)` (log-determinants),
    :math:`I(x_S; \\mathrm{score})`, :math:`I(x_S; Y)` and :math:`I(x_T; Y)` (quadrature), the
    margins :math:`I(x_T; x_S) - I(x_S; Y)` and Bayes accuracies.

    Parameters
    ----------
    n : int
        Number of paired samples.
    dim_s, dim_t : int
        Student / default teacher dimension (each >= k_z + k_a).
    k_z, k_a : int
        Dimensions of the label factor z and of the shared label-free factor a (k_a may be 0).
    label_strength, shared_strength : float or (student, teacher)
        Amplitudes :math:`\\alpha` of z and :math:`\\beta` of a in each modality.
    noise_s, noise_t : float
        Private noise amplitudes :math:`s_S, s_T` (> 0).
    label_noise : float
        :math:`\\sigma_y`, noise of the label score (0 makes Y a function of z).
    threshold : float
        :math:`\\tau` (0 gives balanced classes).
    teachers : mapping name -> dict, optional
        Several teachers: each a dict with any of ``label_strength``, ``shared_strength``,
        ``noise``, ``dim`` (missing keys default to the teacher values above). Default: one
        teacher called ``"teacher"``.
    transform : {"half_cube", "asinh", None}
        Element-wise invertible map applied to every modality (MI unchanged).
    random_state : int, Generator or None
        Seeds the samples.
    structure_seed : int
        Seeds the loadings U_m (the truth depends on it, not on ``random_state``).

    Returns
    -------
    SyntheticBundle
        Modalities ``"student"`` and the teachers; ``params["expected_order"]`` lists the
        teachers by true margin, best first.

    Examples
    --------
    >>> sb = gaussian_cch(500, random_state=0)
    >>> sb.bundle.names
    ['student', 'teacher']
    >>> round(sb.truth["I(teacher;student)"], 4), round(sb.truth["I(student;Y)"], 4)
    (0.4315, 0.1738)
    >>> round(sb.truth["margin"], 4)
    0.2578
    """
    n = _pos_int(n, "n", 2)
    dim_s, dim_t = _pos_int(dim_s, "dim_s"), _pos_int(dim_t, "dim_t")
    k_z, k_a = _pos_int(k_z, "k_z"), _pos_int(k_a, "k_a", 0)
    label_noise = _nonneg(label_noise, "label_noise")
    threshold = float(threshold)
    _check_transform(transform)
    specs = _gaussian_cch_specs(dim_s, dim_t, k_z, k_a, label_strength, shared_strength, noise_s, noise_t, teachers)
    loads, w, cov, index, d = _gaussian_cch_structure(specs, k_z, k_a, label_noise, int(structure_seed))
    teacher_names = [m for m in specs if m != STUDENT]
    truth = _truth_from_cov(cov, index, d, teacher_names, threshold)

    rng = as_generator(random_state)
    u = rng.standard_normal((n, k_z + k_a))
    score = u[:, :k_z] @ w + label_noise * rng.standard_normal(n)
    arrays = {}
    for name, sp in specs.items():
        arrays[name] = u @ loads[name].T + sp["noise"] * rng.standard_normal((n, int(sp["dim"])))
    y = (score > threshold).astype(np.int64)
    order = sorted(teacher_names, key=lambda t: -truth[f"margin[{t}]"])
    params: dict[str, Any] = {
        "family": "gaussian_cch",
        "n": n,
        "k_z": k_z,
        "k_a": k_a,
        "label_noise": label_noise,
        "threshold": threshold,
        "transform": transform,
        "structure_seed": int(structure_seed),
        "modalities": {k: dict(v) for k, v in specs.items()},
        "student": STUDENT,
        "teachers": teacher_names,
        "expected_order": order,
        "cov": cov,
        "index": {k: v.tolist() for k, v in index.items()},
        "score_index": d,
        "w": w,
        "loadings": loads,
    }
    return _finish(arrays, y, transform, "gaussian-cch", truth, params)


def _margin_for(
    specs: dict[str, dict[str, float]], k_z: int, k_a: int, label_noise: float, threshold: float, structure_seed: int
) -> float:
    _, _, cov, index, d = _gaussian_cch_structure(specs, k_z, k_a, label_noise, structure_seed)
    return gaussian_mi(cov, index["teacher"], index[STUDENT]) - binary_label_mi(
        cov, index[STUDENT], d, threshold=threshold
    )


def gaussian_cch_sweep(
    n_configs: int = 20,
    *,
    margins: tuple[float, float] = (-0.3, 0.6),
    n: int = 2000,
    dim_s: int = 8,
    dim_t: int = 8,
    k_z: int = 1,
    k_a: int = 2,
    student_label_strength: float = 2.0,
    student_shared_strength: float = 1.5,
    teacher_label_strength: float = 0.25,
    noise_s: float = 1.0,
    noise_t: float = 1.0,
    label_noise: float = 0.3,
    transform: str | None = None,
    random_state: RandomState = 0,
    structure_seed: int = 0,
) -> list[SyntheticBundle]:
    """Gaussian CCH bundles whose true margin runs evenly from ``margins[0]`` to ``margins[1]``.

    The student is fixed (so :math:`I(x_S; Y)` is fixed); the teacher's weak label loading is
    fixed and its shared-factor amplitude :math:`\\beta_T` is solved (Brent's method on the
    closed form; :math:`I(x_T; x_S)` increases with :math:`\\beta_T`) so that
    :math:`I(x_T; x_S) - I(x_S; Y)` equals each of ``n_configs`` evenly spaced targets. Every
    configuration uses the same ``random_state`` (common random numbers), so differences
    between configurations come from the parameters, not from resampling.

    Returns
    -------
    list of SyntheticBundle
        In increasing order of margin; ``params["shared_strength_teacher"]`` holds the solved
        amplitude and ``truth["margin"]`` the achieved margin.

    Raises
    ------
    InputError
        When a target margin is outside what the teacher can reach (the message gives the range).
    """
    n_configs = _pos_int(n_configs, "n_configs", 2)
    lo, hi = float(margins[0]), float(margins[1])
    if not lo < hi:
        raise InputError(f"margins must be (low, high) with low < high, got {margins!r}.")
    base = dict(
        dim_s=dim_s,
        dim_t=dim_t,
        k_z=k_z,
        k_a=k_a,
        noise_s=noise_s,
        noise_t=noise_t,
        label_noise=label_noise,
        transform=transform,
        random_state=random_state,
        structure_seed=structure_seed,
    )
    if _pos_int(k_a, "k_a", 0) == 0:
        raise InputError("the sweep moves the shared factor a; it needs k_a >= 1.")

    def margin(beta: float) -> float:
        specs = _gaussian_cch_specs(
            dim_s,
            dim_t,
            k_z,
            k_a,
            (student_label_strength, teacher_label_strength),
            (student_shared_strength, beta),
            noise_s,
            noise_t,
            None,
        )
        return _margin_for(specs, k_z, k_a, _nonneg(label_noise, "label_noise"), 0.0, int(structure_seed))

    beta_max = 1e3
    m_lo, m_hi = margin(0.0), margin(beta_max)
    if lo < m_lo - 1e-9 or hi > m_hi + 1e-9:
        raise InputError(
            f"margins {margins!r} are outside the reachable range [{m_lo:.3f}, {m_hi:.3f}] nats for "
            "this student; narrow them, or raise student_shared_strength (higher ceiling) / "
            "student_label_strength (lower floor)."
        )
    out = []
    for target in np.linspace(lo, hi, n_configs):
        if abs(target - m_lo) < 1e-12:
            beta = 0.0
        else:
            beta = float(optimize.brentq(lambda b, t=target: margin(b) - t, 0.0, beta_max, xtol=1e-12, rtol=1e-12))
        sb = gaussian_cch(
            n,
            label_strength=(student_label_strength, teacher_label_strength),
            shared_strength=(student_shared_strength, beta),
            **base,
        )
        sb.params["shared_strength_teacher"] = beta
        sb.params["target_margin"] = float(target)
        out.append(sb)
    return out


def complementary_teachers_bundle(
    n: int = 2000,
    random_state: RandomState = 0,
    *,
    dim: int = 8,
    transform: str | None = None,
    structure_seed: int = 0,
) -> SyntheticBundle:
    """A student with three teachers of known CCH ranking.

    * ``"shared"``: shares the instance-level factor a and the label factor z with the student:
      large :math:`I(x_T; x_S)`, clearly positive margin;
    * ``"label_only"``: shares only the label factor z (an informative teacher about Y, but
      little about the student's instances): margin clearly negative;
    * ``"noise"``: pure noise, :math:`I(x_T; x_S) = 0`, margin :math:`= -I(x_S; Y)`.

    True values (nats, default structure): I(x_S; Y) = 0.325; margins +0.57 (shared), -0.14
    (label_only), -0.33 (noise). The label-only teacher is the *more accurate* one (Bayes
    accuracy 0.70 vs 0.64), so ranking by teacher accuracy gets the order wrong, as MFH and CCH
    both predict. ``params["expected_order"] == ["shared", "label_only", "noise"]``,
    ``params["expected_sign"]`` the sign of each true margin, ``params["accuracy_order"]`` the
    teachers by Bayes accuracy.
    """
    teachers = {
        "shared": {"label_strength": 0.5, "shared_strength": 2.0, "noise": 1.0, "dim": dim},
        "label_only": {"label_strength": 0.8, "shared_strength": 0.0, "noise": 1.0, "dim": dim},
        "noise": {"label_strength": 0.0, "shared_strength": 0.0, "noise": 1.0, "dim": dim},
    }
    sb = gaussian_cch(
        n,
        dim_s=dim,
        k_z=1,
        k_a=2,
        label_strength=(2.0, 1.0),
        shared_strength=(1.5, 2.0),
        noise_s=1.0,
        label_noise=0.3,
        teachers=teachers,
        transform=transform,
        random_state=random_state,
        structure_seed=structure_seed,
    )
    m = sb.margins
    expected = ["shared", "label_only", "noise"]
    if sorted(m, key=lambda t: -m[t]) != expected:  # pragma: no cover - fixed design
        raise RuntimeError(f"complementary_teachers_bundle design broke: margins {m}.")
    sb.params["expected_order"] = expected
    sb.params["expected_sign"] = {t: int(np.sign(v)) for t, v in m.items()}
    sb.params["accuracy_order"] = sorted(m, key=lambda t: -sb.truth[f"bayes_accuracy[{t}]"])
    sb.bundle.metadata["expected_order"] = expected
    return sb


# ---------------------------------------------------------------------- MFH family
def mfh(
    n: int = 1200,
    *,
    dim: int = 20,
    n_decisive: int = 10,
    n_per_modality: int | None = None,
    gamma: float = 0.5,
    copy_noise: float = 0.5,
    noise: float = 1.0,
    transform: str | None = None,
    random_state: RandomState = 0,
    structure_seed: int = 0,
) -> SyntheticBundle:
    """The Modality Focusing Hypothesis family (Xue et al., ICLR 2023), with closed-form truth.

    A hyperplane :math:`a \\sim N(0, I_k)` and decisive features :math:`x_s \\sim N(0, I_k)`
    (:math:`k` = ``n_decisive``) give :math:`y = 1[x_s^\\top a > 0]`. Each modality
    (``"student"``, ``"teacher"``) is ``dim`` channels of :math:`N(0, \\texttt{noise}^2)` noise,
    ``n_per_modality`` (default ``k // 2``) of which are overwritten by copies
    :math:`x_{s,j} + \\texttt{copy\\_noise}\\,\\epsilon` of decisive features. The student has the
    decisive set :math:`D_S`; the teacher has ``round(gamma * m)`` of them plus features of
    :math:`D_S`'s complement: ``gamma`` is the modality-general share of the teacher's decisive
    features. Both modalities have the same number of decisive channels, so their accuracy is
    comparable whatever ``gamma``, which is MFH's point: KD efficacy follows ``gamma``, not
    teacher accuracy.

    (x_S, x_T, score) is jointly Gaussian, so the truth is closed form: ``I(teacher;student)``
    :math:`= n_{shared}\\cdot\\tfrac12\\log\\frac{(1+c^2)^2}{(1+c^2)^2 - 1}` with ``c = copy_noise``
    (``inf`` for exact copies, ``copy_noise=0``, with shared channels), ``I(student;Y)``,
    ``I(teacher;Y)`` (quadrature), the margin and Bayes accuracies, plus ``gamma`` (the
    effective share) and ``n_shared``.

    Parameters
    ----------
    n : int
    dim : int
        Channels per modality (>= n_per_modality).
    n_decisive : int
        k, the number of decisive features.
    n_per_modality : int, optional
        m, decisive channels per modality; ``2 m <= k + round(gamma m)`` is needed.
    gamma : float in [0, 1]
    copy_noise : float
        Noise added to each copied decisive feature (> 0 keeps every MI finite).
    noise : float
        Amplitude of the non-decisive channels.
    transform, random_state, structure_seed
        As in :func:`gaussian_cch`; ``structure_seed`` fixes the hyperplane and the channel
        choices, which are nested across ``gamma`` (a sweep changes only the overlap).
    """
    n = _pos_int(n, "n", 2)
    dim = _pos_int(dim, "dim")
    k = _pos_int(n_decisive, "n_decisive")
    m = k // 2 if n_per_modality is None else _pos_int(n_per_modality, "n_per_modality")
    if m < 1:
        raise InputError(f"n_decisive={k} leaves no decisive channel per modality; use n_decisive >= 2.")
    if m > dim:
        raise InputError(f"n_per_modality={m} decisive channels do not fit in dim={dim} channels.")
    g = _nonneg(gamma, "gamma")
    if g > 1:
        raise InputError(f"gamma is a share and must lie in [0, 1], got {gamma}.")
    c = _nonneg(copy_noise, "copy_noise")
    sig = _nonneg(noise, "noise", True)
    _check_transform(transform)
    n_shared = int(round(g * m))
    if m - n_shared > k - m:
        raise InputError(
            f"with n_decisive={k} and n_per_modality={m}, the teacher needs {m - n_shared} decisive "
            f"features the student lacks but only {k - m} exist; raise n_decisive or gamma."
        )

    a, d_s, d_t, pos_s, pos_t = _mfh_structure(np.random.default_rng(structure_seed), k, m, n_shared, dim)
    cov = _mfh_covariance(dim, a, (pos_s, d_s), (pos_t, d_t), sig, c)
    index = {STUDENT: np.arange(dim), "teacher": np.arange(dim, 2 * dim)}
    score = 2 * dim

    if c == 0 and n_shared > 0:
        logger.info("mfh: exact copies (copy_noise=0) of shared features make I(teacher;student) infinite")
    truth = _truth_from_cov(cov, index, score, ["teacher"], 0.0)
    rho2 = 1.0 / (1.0 + c**2) ** 2
    per_channel = math.inf if rho2 >= 1 else -0.5 * math.log1p(-rho2)
    check = n_shared * per_channel if n_shared else 0.0
    if math.isfinite(check) and abs(check - truth["I(teacher;student)"]) > 1e-8:  # pragma: no cover
        raise RuntimeError("mfh closed forms disagree")
    truth = replace(truth, extra={"gamma": n_shared / m, "n_shared": float(n_shared)})

    rng = as_generator(random_state)
    xs = rng.standard_normal((n, k))
    y = (xs @ a > 0).astype(np.int64)
    arrays = {}
    for name, pos, dec in ((STUDENT, pos_s, d_s), ("teacher", pos_t, d_t)):
        x = sig * rng.standard_normal((n, dim))
        x[:, pos] = xs[:, dec] + c * rng.standard_normal((n, m))
        arrays[name] = x
    params: dict[str, Any] = {
        "family": "mfh", "n": n, "dim": dim, "n_decisive": k, "n_per_modality": m, "gamma_requested": g,
        "gamma": n_shared / m, "n_shared": n_shared, "copy_noise": c, "noise": sig, "transform": transform,
        "structure_seed": int(structure_seed), "hyperplane": a, "decisive_student": d_s.tolist(),
        "decisive_teacher": d_t.tolist(), "positions_student": pos_s.tolist(), "positions_teacher": pos_t.tolist(),
        "student": STUDENT, "teachers": ["teacher"], "expected_order": ["teacher"], "cov": cov,
        "index": {kk: v.tolist() for kk, v in index.items()}, "score_index": score,
    }
    return _finish(arrays, y, transform, "mfh", truth, params)


def _mfh_structure(srng: np.random.Generator, k: int, m: int, n_shared: int, dim: int) -> tuple[np.ndarray, ...]:
    """The decision hyperplane ``a``, the decisive features each modality copies (the teacher
    shares ``n_shared`` with the student) and the channels holding the copies."""
    a = srng.standard_normal(k)
    perm_k = srng.permutation(k)
    d_s = perm_k[:m]
    rest = perm_k[m:]
    shared_order = srng.permutation(d_s)
    d_t = np.concatenate([shared_order[:n_shared], rest[: m - n_shared]])
    pos_s = srng.permutation(dim)[:m]
    pos_t = srng.permutation(dim)[:m]
    return a, d_s, d_t, pos_s, pos_t


def _mfh_covariance(dim: int, a: np.ndarray, student: tuple[np.ndarray, np.ndarray],
                    teacher: tuple[np.ndarray, np.ndarray], sig: float, c: float) -> np.ndarray:
    """Joint covariance of (x_S, x_T, score): copied channels ``x = z_dec + c eps``, the others
    ``sig eps``, and the score ``a . z``."""
    k = a.shape[0]
    maps, variances = [], []
    for pos, dec in (student, teacher):
        mat = np.zeros((dim, k))  # channel -> decisive feature it copies
        mat[pos, dec] = 1.0
        var = np.full(dim, sig**2)
        var[pos] = c**2
        maps.append(mat)
        variances.append(var)
    big = np.vstack(maps)
    cov = np.zeros((2 * dim + 1, 2 * dim + 1))
    cov[: 2 * dim, : 2 * dim] = big @ big.T + np.diag(np.r_[variances[0], variances[1]])
    cov[: 2 * dim, 2 * dim] = cov[2 * dim, : 2 * dim] = big @ a
    cov[2 * dim, 2 * dim] = a @ a
    return cov


def mfh_sweep(gammas: Sequence[float] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0), **kwargs: Any) -> list[SyntheticBundle]:
    """:func:`mfh` bundles over a grid of ``gamma`` (same structure and samples seeds, nested
    channel choices); keyword arguments are passed on. Returns them in the order of ``gammas``."""
    gammas = list(gammas)
    if not gammas:
        raise InputError("gammas is empty.")
    if "gamma" in kwargs:
        raise InputError("pass the overlaps as gammas=..., not gamma=...")
    return [mfh(gamma=g, **kwargs) for g in gammas]
