"""Shared machinery of the neural (variational-bound) MI estimators: critics, bounds, training.

A *critic* ``f(x, y)`` scores pairs; a *bound* turns the scores of a batch into a lower bound on
I(X; Y). Training maximises the bound on a training split; the reported value is the bound on
a held-out split, evaluated after every round of ``eval_every`` steps (the training curve), with
early stopping on that held-out bound and the critic of the best round kept.

Critics
-------
``"separable"`` (InfoNCE's default): ``f(x, y) = g(x) . h(y) + q(x, y)``, two MLPs plus the
quadratic term below; the scores of all ``K x K`` pairs of a batch cost one matrix product, so
every held-out pair can be used. ``g . h`` starts at zero and, with ``warm_start`` (default),
training first fits ``q`` alone, then the whole critic from there: the Gaussian part of the
dependence is fitted before the MLPs can start memorising noise dimensions.
``"quadratic"``: ``f(x, y) = q(x, y) = -1/2 ||c (A x - B y)||^2`` alone, with ``A`` (dim_x x r),
``B`` (dim_y x r), ``r = min(rank, dim_x, dim_y)``: a low-rank log-bilinear critic (CPC's
``x^T W y`` with ``W = c^2 A B^T``) plus the squared norms that the log density ratio of a
Gaussian pair also has, so the Gaussian optimum is representable exactly. No MLP: it cannot
model non-linear dependence, but it has few parameters and does not overfit the noise
dimensions of high-dimensional data (on sparse 50x50 at 5 nats, n = 10,000, the MLP critics'
held-out bound peaks early and then collapses as they memorise the training pairs).
``c = 10`` is a fixed reparameterisation: Adam moves each parameter by about ``lr`` per step,
and a pair with 2.5 nats has coefficient ``rho / (1 - rho^2) ~ 148`` on ``x y``, out of reach
of unscaled parameters in a few thousand steps.
``"concat"``: ``f(x, y) = MLP([x, y])``; all pairs of a batch cost ``K^2`` MLP calls, so the
held-out set is evaluated in blocks of ``eval_block`` rows.

Class labels enter as a one-hot vector, so the same critics and bounds apply; the label form of
every bound is <= H(Y) in expectation, and the base class clips to [0, H(Y)].
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, ClassVar

import numpy as np

from .._params import BOOL, NONE, Integral, Interval, Options, Real, check_params
from .._random import derive_seed
from .._warn import warn_user
from ..exceptions import EstimatorError, InputError
from .base import MIEstimator
from .bounds import get_bound
from .contract import RawEstimate

logger = logging.getLogger("cchkit")

#: held-out rows used for the per-round curve / early stopping (the final value uses all)
_CURVE_ROWS = 2048

__all__ = ["NeuralEstimator", "CriticSettings", "SETTING_NAMES", "resolve_device", "build_critic"]


# --------------------------------------------------------------------------- device
from .._torch import (  # noqa: E402  (resolve_device re-exported)
    GPU_MIN_ROWS_NEURAL,
    mlp,
    resolve_device,
    seeded,
    torch_threads,
)

# --------------------------------------------------------------------------- critics
_ACTIVATIONS = ("relu", "silu", "elu", "tanh")


#: fixed scale of the quadratic term's parameters (see the module docstring)
QUAD_SCALE = 10.0
CRITICS = ("separable", "quadratic", "concat")


def build_critic(
    kind: str,
    dim_x: int,
    dim_y: int,
    hidden: int,
    layers: int,
    embed_dim: int,
    activation: str = "relu",
    rank: int = 8,
):
    """A critic module whose ``forward(x, y)`` returns the (len(x), len(y)) score matrix.

    Call under a seeded torch generator: the quadratic term starts from small random values.
    """
    import torch
    from torch import nn

    class QuadraticTerm(nn.Module):
        """``q(x, y) = -1/2 ||c (A x - B y)||^2`` for every pair of rows (a K x K matrix)."""

        def __init__(self) -> None:
            super().__init__()
            r = max(1, min(rank, dim_x, dim_y))
            # small random start: at A = B = 0 the gradient of q is exactly zero
            self.a = nn.Parameter(torch.randn(dim_x, r) * (0.01 / math.sqrt(dim_x)))
            self.b = nn.Parameter(torch.randn(dim_y, r) * (0.01 / math.sqrt(dim_y)))

        def forward(self, x, y):
            u, v = QUAD_SCALE * (x @ self.a), QUAD_SCALE * (y @ self.b)
            sq = (u * u).sum(1)[:, None] + (v * v).sum(1)[None, :] - 2.0 * (u @ v.T)
            return -0.5 * sq

    class SeparableCritic(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.g = mlp(dim_x, [hidden] * layers, embed_dim, activation=activation)
            self.h = mlp(dim_y, [hidden] * layers, embed_dim, activation=activation)
            # g . h starts at exactly 0 (h's output layer is zero; its gradient is not), so the
            # critic starts as the quadratic term and the MLPs add to it
            nn.init.zeros_(self.h[-1].weight)
            nn.init.zeros_(self.h[-1].bias)
            self.q = QuadraticTerm()

        def forward(self, x, y):
            return self.g(x) @ self.h(y).T + self.q(x, y)

    class QuadraticCritic(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q = QuadraticTerm()

        def forward(self, x, y):
            return self.q(x, y)

    class ConcatCritic(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.f = mlp(dim_x + dim_y, [hidden] * layers, 1, activation=activation)

        def pairs(self, x, y):
            return self.f(torch.cat([x, y], dim=-1)).reshape(-1)

        def forward(self, x, y):
            bx, by = x.shape[0], y.shape[0]
            xx = x[:, None, :].expand(bx, by, x.shape[1])
            yy = y[None, :, :].expand(bx, by, y.shape[1])
            return self.f(torch.cat([xx, yy], dim=-1)).reshape(bx, by)

    if kind == "separable":
        return SeparableCritic()
    if kind == "quadratic":
        return QuadraticCritic()
    if kind == "concat":
        return ConcatCritic()
    raise InputError(f"critic must be one of {CRITICS}, got {kind!r}.")


# --------------------------------------------------------------------------- results
@dataclass
class _EvalResult:
    value: float
    se: float
    k: int


@dataclass
class _Config:
    objective: str
    critic: str
    hidden: int
    layers: int
    embed_dim: int
    batch_size: int
    lr: float
    max_steps: int
    eval_every: int
    patience: int
    eval_fraction: float
    eval_block: int | None
    ema_rate: float
    weight_decay: float
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _TrainLog:
    """The training record of a critic: held-out curve, steps and the best state so far."""

    total: int
    steps: int = 0
    curve: list[float] = field(default_factory=list)
    phase_steps: dict[str, int] = field(default_factory=dict)
    best_value: float = -math.inf
    best_state: dict[str, Any] | None = None
    best_step: int = 0

    def record(self, value: float, model: Any) -> bool:
        """Add a held-out value to the curve; True (and the state kept) when it is the best."""
        self.curve.append(value)
        if not value > self.best_value:  # (NaN is never the best)
            return False
        self.best_value, self.best_step = value, self.steps
        self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        return True


_SETTING_CONSTRAINTS = {
    "critic": [Options(CRITICS)],
    "warm_start": [BOOL],
    "rank": [Interval(Integral, 1, None)],
    "activation": [Options(_ACTIVATIONS)],
    "hidden": [Interval(Integral, 1, None)],
    "layers": [Interval(Integral, 0, None)],
    "embed_dim": [Interval(Integral, 1, None)],
    "batch_size": [Interval(Integral, 2, None)],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "max_steps": [Interval(Integral, 1, None)],
    "eval_every": [Interval(Integral, 1, None)],
    "patience": [Interval(Integral, 1, None)],
    "eval_fraction": [Interval(Real, 0, 1, closed="neither")],
    "eval_block": [NONE, Interval(Integral, 2, None)],
    "weight_decay": [Interval(Real, 0, None)],
    "device": [str],
    "n_threads": [NONE, Interval(Integral, 1, None)],
    "progress": [BOOL],
}


@dataclass(frozen=True)
class CriticSettings:
    """How a neural estimator's critic is built and trained: one checked object that MINE,
    InfoNCE and any estimator on :class:`NeuralEstimator` share (each may change a default:
    :attr:`NeuralEstimator.setting_defaults`).

    Attributes
    ----------
    critic : {"separable", "quadratic", "concat"}
        Critic family (see the module docstring).
    warm_start : bool, default True
        Separable critic only: train the quadratic term alone first (up to ``max_steps``, with
        early stopping), then the whole critic from the best of that phase (again up to
        ``max_steps``); the best held-out critic of both phases is kept. The MLP part starts at
        exactly zero, so the second phase can only add to the quadratic fit. Without it, the
        MLPs overfit high-dimensional noise before the quadratic term has converged
        (``benchmarks/results/estimators.md``).
    rank : int, default 8
        Rank ``r`` of the quadratic term (``"separable"`` and ``"quadratic"`` critics), capped at
        ``min(dim_x, dim_y)``. Low, because more parameters overfit the noise dimensions of
        sparse high-dimensional dependence (``benchmarks/results/estimators.md``).
    activation : {"silu", "relu", "elu", "tanh"}
        Hidden-layer activation (SiLU: smooth critics fit the sharp log density ratios of high
        MI far better than ReLU).
    hidden, layers : int
        Width and number of hidden layers of each MLP.
    embed_dim : int
        Embedding size of the separable critic.
    batch_size : int
        Training batch size (InfoNCE's training bound is capped at ``log batch_size``).
    lr : float
        Adam learning rate.
    max_steps : int
        Most optimisation steps.
    eval_every : int
        Steps between held-out evaluations (one point of ``extra["curve"]`` each).
    patience : int
        Stop after this many evaluations without a better held-out bound.
    eval_fraction : float
        Share of the rows held out for evaluation.
    eval_block : int or None
        Held-out rows scored together (InfoNCE's ``K``); ``None``: all of them for the
        separable and quadratic critics, 512 for the concat critic.
    weight_decay : float
        Adam weight decay.
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``; CPU is the reference.
    n_threads : int or None, default 1
        torch CPU threads during the fit (restored afterwards); ``None`` leaves torch's setting.
        One thread is fastest for these small networks and avoids oversubscription.
    progress : bool
        Show a tqdm progress bar.
    """

    critic: str = "separable"
    warm_start: bool = True
    rank: int = 8
    activation: str = "silu"
    hidden: int = 128
    layers: int = 2
    embed_dim: int = 32
    batch_size: int = 512
    lr: float = 2e-3
    max_steps: int = 2000
    eval_every: int = 100
    patience: int = 5
    eval_fraction: float = 0.5
    eval_block: int | None = None
    weight_decay: float = 0.0
    device: str = "auto"
    n_threads: int | None = 1
    progress: bool = False

    def __post_init__(self) -> None:
        check_params("CriticSettings", {f.name: getattr(self, f.name) for f in fields(self)}, _SETTING_CONSTRAINTS)


#: the settings' names, which a neural estimator also takes one by one
SETTING_NAMES: tuple[str, ...] = tuple(f.name for f in fields(CriticSettings))


class NeuralEstimator(MIEstimator):
    """Common base of the neural lower-bound estimators (``"mine"``, ``"infonce"``).

    Parameters
    ----------
    settings : CriticSettings or None
        How the critic is built and trained (None: :class:`CriticSettings` with this class's
        :attr:`setting_defaults`).
    **changes
        Any field of :class:`CriticSettings` by name (``max_steps=300``), applied over
        ``settings``; any other name is refused, naming the accepted ones.
    standardize : bool
    random_state : int, Generator or None
        Seeds the split, the initialisation and the batches (deterministic on CPU).

    Every setting reads as an attribute (``est.max_steps``), and :meth:`get_params` lists them
    one by one, as scikit-learn's tools expect.
    """

    bound = "lower"
    #: the held-out bound it evaluates, by name (:mod:`cchkit.estimators.bounds`)
    _objective: str = "infonce"
    #: this estimator's defaults where they differ from :class:`CriticSettings`'
    setting_defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, *, settings: CriticSettings | None = None, standardize: bool = True,
                 random_state: Any = None, **changes: Any) -> None:
        super().__init__(standardize=standardize, random_state=random_state)
        owner = getattr(type(self), "name", "") or type(self).__name__
        unknown = sorted(set(changes) - set(SETTING_NAMES))
        if unknown:
            raise EstimatorError(f"{owner} has no parameter(s) {unknown}; it accepts {', '.join(self.accepted_params())}.")
        if settings is not None and not isinstance(settings, CriticSettings):
            raise InputError(f"{owner}: settings must be a CriticSettings or None, got {type(settings).__name__}.")
        check_params(owner, changes, _SETTING_CONSTRAINTS)
        self.settings = replace(settings or CriticSettings(**self.setting_defaults), **changes)

    @classmethod
    def accepted_params(cls) -> list[str]:
        """Every keyword the constructor takes: its own and each setting's name."""
        return list(dict.fromkeys([*cls.constructor_params(), *SETTING_NAMES]))

    def __getattr__(self, name: str) -> Any:
        settings = self.__dict__.get("settings")  # (absent while unpickling: no recursion)
        if settings is not None and name in SETTING_NAMES:
            return getattr(settings, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The settings one by one, then the constructor's own parameters (``settings`` is
        spelt out, so that ``set_params`` and ``sklearn.base.clone`` rebuild it)."""
        own = {k: v for k, v in super().get_params(deep).items() if k != "settings"}
        return {**asdict(self.settings), **own}

    def min_samples(self) -> int:
        """At least 8 rows: 4 to train on and 4 to evaluate on."""
        return 8

    # ------------------------------------------------------------------ hooks
    def _train_loss(self, scores, state: dict[str, Any]):
        raise NotImplementedError

    def _train_loss_pairs(self, joint, marginal, state: dict[str, Any]):
        raise NotImplementedError

    @property
    def _pairwise(self) -> bool:
        """DV with a concat critic: train and evaluate on pairs, marginals by shuffling."""
        return self.critic in get_bound(self._objective).pairwise_critics

    @property
    def _all_pairs(self) -> bool:
        """Critics whose K x K score matrix costs one matrix product."""
        return self.critic in ("separable", "quadratic")

    # ------------------------------------------------------------------ evaluation
    def _evaluate(self, model, x, y, block: int) -> _EvalResult:
        """The bound on held-out rows, in blocks of ``block`` rows, with a standard error."""
        import torch

        n = x.shape[0]
        if self._pairwise:
            return self._evaluate_pairs(model, x, y)
        bound = get_bound(self._objective)
        terms: list[Any] = []
        with torch.no_grad():
            for s in range(0, n, block):
                xb, yb = x[s : s + block], y[s : s + block]
                if xb.shape[0] < 2:
                    continue
                terms.append(bound.block(self._score_matrix(model, xb, yb)))
        value, se = bound.pool(terms)
        return _EvalResult(value=value, se=se, k=min(block, n))

    def _evaluate_pairs(self, model, x, y, n_shifts: int = 16) -> _EvalResult:
        """DV bound on held-out pairs; the product of marginals from ``n_shifts`` cyclic shifts."""
        import torch

        n = x.shape[0]
        shifts = np.unique(np.linspace(1, n - 1, num=min(n_shifts, n - 1)).astype(int))
        with torch.no_grad():
            joint = model.pairs(x, y).double()
            marg = torch.stack([model.pairs(x, torch.roll(y, int(s), dims=0)).double() for s in shifts])
        c = marg.max()
        e = torch.exp(marg - c)  # (shifts, n)
        lme = torch.log(e.mean()) + c
        value = float(joint.mean() - lme)
        r = e.mean(dim=0)
        infl = joint - r / r.mean()
        se = float(infl.std(unbiased=True) / math.sqrt(n)) if n > 1 else 0.0
        return _EvalResult(value=value, se=se, k=n)

    def _score_matrix(self, model, xb, yb):
        import torch

        if self._all_pairs:
            return model(xb, yb)
        rows = max(1, (1 << 18) // max(1, yb.shape[0]))
        return torch.cat([model(xb[s : s + rows], yb) for s in range(0, xb.shape[0], rows)], dim=0)

    # ------------------------------------------------------------------ training
    def _fit(self, x: np.ndarray, y: np.ndarray, discrete: bool) -> RawEstimate:
        with torch_threads(self.n_threads):
            return self._fit_inner(x, y, discrete)

    def _fit_inner(self, x: np.ndarray, y: np.ndarray, discrete: bool) -> RawEstimate:
        import torch

        rng = self._rng()
        seed = derive_seed(rng)
        n = x.shape[0]
        device = resolve_device(self.device, gpu_pays=n >= GPU_MIN_ROWS_NEURAL)
        n_eval = max(4, int(round(n * self.eval_fraction)))
        n_train = n - n_eval
        if n_train < 4:
            raise InputError(f"{self.name}: too few rows to train ({n}); give at least 8.")
        perm = rng.permutation(n)
        tr, ev = perm[:n_train], perm[n_train:]
        xt = torch.as_tensor(x, dtype=torch.float32, device=device)
        yt = torch.as_tensor(y, dtype=torch.float32, device=device)
        with seeded(seed):
            model = build_critic(
                self.critic, x.shape[1], y.shape[1], self.hidden, self.layers, self.embed_dim,
                self.activation, self.rank,
            ).to(device)
        gen = torch.Generator(device="cpu")
        gen.manual_seed(seed)
        block = min(self.eval_block or (n_eval if self._all_pairs else 512), n_eval)
        log = self._train(model, (xt[tr], yt[tr]), (xt[ev], yt[ev]), gen, block)
        model.load_state_dict(log.best_state)
        model.eval()
        best_eval = self._evaluate(model, xt[ev], yt[ev], block)
        extra: dict[str, Any] = {
            "curve": log.curve, "curve_rows": min(n_eval, _CURVE_ROWS), "best_step": log.best_step,
            "steps": log.steps, "stopped_early": log.steps < log.total, "phase_steps": log.phase_steps,
            "n_train": n_train, "n_eval": n_eval, "eval_block": block, "device": str(device), "critic": self.critic,
        }
        return self._raw_result(best_eval, extra, block, discrete)

    def _phases(self, model: Any) -> list[tuple[str, list]]:
        """(name, parameters trained) per phase; each runs up to ``max_steps`` with its own early
        stopping, and the best held-out critic over all phases is kept."""
        if self.critic == "separable" and self.warm_start:
            return [("quadratic", list(model.q.parameters())), ("all", list(model.parameters()))]
        return [("all", list(model.parameters()))]

    def _batch_loss(self, model: Any, xb: Any, yb: Any, gen: Any, state: dict[str, Any]) -> Any:
        """The training loss of one mini-batch (the objective's bound, negated)."""
        import torch

        if self._pairwise:
            # joint pairs and the same rows with y shuffled (product of marginals)
            shift = int(torch.randint(1, xb.shape[0], (1,), generator=gen))
            return self._train_loss_pairs(model.pairs(xb, yb), model.pairs(xb, torch.roll(yb, shift, dims=0)), state)
        scores = model(xb, yb) if self._all_pairs else self._score_matrix(model, xb, yb)
        return self._train_loss(scores, state)

    def _train(self, model: Any, train: tuple, held_out: tuple, gen: Any, block: int) -> _TrainLog:
        """Adam over the phases with early stopping on the held-out bound. The curve (and the
        stopping) uses at most ``_CURVE_ROWS`` held-out rows; the best critic is kept."""
        import torch
        from tqdm.auto import tqdm

        (x_tr, y_tr), (x_ev, y_ev) = train, held_out
        n_train = x_tr.shape[0]
        n_curve = min(x_ev.shape[0], _CURVE_ROWS)
        batch, curve_block = min(self.batch_size, n_train), min(block, n_curve)
        phases = self._phases(model)
        log = _TrainLog(total=self.max_steps * len(phases))
        state: dict[str, Any] = {}
        order, pos = torch.randperm(n_train, generator=gen), 0
        bar = tqdm(total=log.total, disable=not self.progress, desc=self.name, leave=False)
        try:
            for phase, params in phases:
                if log.best_state is not None:  # continue from the best critic so far
                    model.load_state_dict(log.best_state)
                opt = torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)
                bad, start = 0, log.steps
                while log.steps - start < self.max_steps:
                    if pos + batch > n_train:
                        order, pos = torch.randperm(n_train, generator=gen), 0
                    idx = order[pos : pos + batch].to(x_tr.device)
                    pos += batch
                    model.train()
                    loss = self._batch_loss(model, x_tr[idx], y_tr[idx], gen, state)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    log.steps += 1
                    bar.update(1)
                    if (log.steps - start) % self.eval_every == 0 or log.steps - start == self.max_steps:
                        model.eval()
                        res = self._evaluate(model, x_ev[:n_curve], y_ev[:n_curve], curve_block)
                        bar.set_postfix(heldout=f"{res.value:.3f}")
                        bad = 0 if log.record(res.value, model) else bad + 1
                        if bad >= self.patience:
                            break
                log.phase_steps[phase] = log.steps - start
        finally:
            bar.close()
        return log

    def _raw_result(self, best_eval: _EvalResult, extra: dict[str, Any], block: int, discrete: bool) -> RawEstimate:
        """The estimate with its held-out interval; the InfoNCE cap warning where it binds."""
        value = best_eval.value
        ci = (value - 1.96 * best_eval.se, value + 1.96 * best_eval.se)
        bound = get_bound(self._objective)
        terms = bound.terms_text
        ci_method = (
            "held-out standard error: value +- 1.96 se over the per-row terms of the "
            f"held-out bound ({extra['n_eval']} rows; {terms}); "
            "conditional on the trained critic, it excludes seed-to-seed training variance"
        )
        cap = bound.cap(block)
        if cap is not None:
            extra["cap"] = cap
            if not discrete and value >= 0.9 * cap:
                msg = (
                    f"{type(self).__name__} estimate {value:.3f} is within 10% of its cap log K = {cap:.3f} "
                    f"(K = {block} held-out rows per block): the true MI may be higher; use more "
                    "samples (a larger held-out set) or MINE."
                )
                warn_user(msg)
                extra["warnings"] = [msg]
        return RawEstimate(value=value, ci=ci, extra=extra, se=best_eval.se, ci_method=ci_method)

    def _estimate_continuous(self, x: np.ndarray, y: np.ndarray) -> RawEstimate:
        return self._fit(x, y, discrete=False)

    def _estimate_discrete(self, x: np.ndarray, labels: np.ndarray) -> RawEstimate:
        n_classes = int(labels.max()) + 1
        onehot = np.zeros((labels.shape[0], n_classes))
        onehot[np.arange(labels.shape[0]), labels] = 1.0
        raw = self._fit(x, onehot, discrete=True)
        raw.extra["label_encoding"] = "one-hot"
        return raw
