"""Torch helpers shared by the encoders, the neural estimators and the distiller: the one
place that builds an MLP (:func:`mlp`), takes an AdamW step (:func:`adamw_step`), picks the
device (:func:`resolve_device`), seeds (:func:`seeded`) and sets thread counts
(:func:`torch_threads`, :func:`limit_threads`). torch is imported inside each function, so
importing this module costs nothing."""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator, Sequence
from typing import Any

from .exceptions import InputError

logger = logging.getLogger("cchkit")

__all__ = ["resolve_device", "mlp", "adamw_step", "seeded", "to_tensor", "torch_threads", "limit_threads"]


#: ``device="auto"`` picks CUDA only for work where a GPU was measured faster: the neural MI
#: estimators from this many rows on (their large batched critics fill a GPU). The small MLPs of
#: the distiller and the encoders launch too little work per step to gain from one, so they stay
#: on the CPU under "auto"; the measurements are in benchmarks/gpu_check.py's table.
GPU_MIN_ROWS_NEURAL = 10_000


def resolve_device(device: str = "auto", *, gpu_pays: bool = False) -> torch.device:  # noqa: F821
    """``"auto"`` -> CUDA when available *and* ``gpu_pays`` (the caller's work is of a kind and
    size measured faster on a GPU, see :data:`GPU_MIN_ROWS_NEURAL`), else CPU; ``"cpu"``,
    ``"cuda"``, ``"cuda:1"`` as given.

    Raises :class:`InputError` when CUDA is asked for but not available.
    """
    import torch

    if device in (None, "auto"):
        return torch.device("cuda" if gpu_pays and torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InputError(f"unknown device {device!r} ({exc}); use 'auto', 'cpu' or 'cuda'.") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {device!r} was asked for but CUDA is not available here; use --device cpu.")
    if dev.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise InputError(f"device {device!r} was asked for but Apple's MPS is not available here; use --device cpu.")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise InputError(f"unsupported device {device!r}; use 'auto', 'cpu' or 'cuda'.")
    return dev


def mlp(
    in_dim: int,
    hidden: Sequence[int] | int,
    out_dim: int,
    *,
    activation: str = "relu",
    dropout: float = 0.0,
) -> torch.nn.Sequential:  # noqa: F821
    """A plain MLP ``in -> hidden... -> out`` (no activation after the last layer)."""
    import torch.nn as nn

    hidden = [hidden] if isinstance(hidden, int) else list(hidden)
    act = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "elu": nn.ELU, "silu": nn.SiLU}[activation]
    layers: list[nn.Module] = []
    prev = in_dim
    for h in hidden:
        layers += [nn.Linear(prev, h), act()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        prev = h
    layers.append(nn.Linear(prev, out_dim))
    return nn.Sequential(*layers)


def adamw_step(
    params: Sequence[torch.Tensor],  # noqa: F821
    grads: Sequence[torch.Tensor | None],  # noqa: F821
    state: dict[str, Any],
    *,
    lr: float,
    weight_decay: float,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
) -> None:
    r"""One in-place AdamW step (Loshchilov & Hutter, ICLR 2019) on plain tensors.

    The update of ``torch.optim.AdamW`` with its defaults (decoupled weight decay):

    .. math::

        \theta \leftarrow \theta(1 - \eta\lambda), \quad m \leftarrow \beta_1 m + (1-\beta_1) g,
        \quad v \leftarrow \beta_2 v + (1-\beta_2) g^2, \quad
        \theta \leftarrow \theta - \frac{\eta}{1-\beta_1^t}\,
        \frac{m}{\sqrt{v} / \sqrt{1-\beta_2^t} + \epsilon}.

    ``state`` (a dict, empty at the start) holds the step count and the moments. Parameters
    whose gradient is None are skipped (no decay either), as torch does. Element-wise, so the
    stacked models of the batched encoders are optimised independently. Written out because
    creating a ``torch.optim`` optimiser imports ``torch._dynamo``, a cost on the order of the
    whole of ``cchkit rank``'s latency; ``torch._foreach_*`` makes one call per
    operation for all tensors.
    """
    import torch

    state["t"] = state.get("t", 0) + 1
    t = state["t"]
    b1, b2 = betas
    if "m" not in state:
        state["m"] = [torch.zeros_like(p) for p in params]
        state["v"] = [torch.zeros_like(p) for p in params]
    idx = [i for i, g in enumerate(grads) if g is not None]
    if not idx:
        return
    ps = [params[i] for i in idx]
    gs = [grads[i] for i in idx]
    ms = [state["m"][i] for i in idx]
    vs = [state["v"][i] for i in idx]
    with torch.no_grad():
        if weight_decay:
            torch._foreach_mul_(ps, 1.0 - lr * weight_decay)
        torch._foreach_mul_(ms, b1)
        torch._foreach_add_(ms, gs, alpha=1.0 - b1)
        torch._foreach_mul_(vs, b2)
        torch._foreach_addcmul_(vs, gs, gs, value=1.0 - b2)
        denom = torch._foreach_div(torch._foreach_sqrt(vs), math.sqrt(1.0 - b2**t))
        torch._foreach_add_(denom, eps)
        torch._foreach_addcdiv_(ps, ms, denom, value=-lr / (1.0 - b1**t))


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's global CPU generator for the block and restore the caller's state afterwards,
    so that no cchkit call moves the caller's random state. Only the CPU generator is touched
    (``torch.manual_seed`` would also seed, or queue a seed for, every CUDA generator): modules
    are built on the CPU and moved to their device."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(int(seed))
        yield


def to_tensor(x, device: torch.device, dtype=None) -> torch.Tensor:  # noqa: F821
    """A float32 (or ``dtype``) tensor on ``device`` from a numpy array or tensor."""
    import torch

    dtype = dtype or torch.float32
    if isinstance(x, torch.Tensor):
        return x.to(device=device, dtype=dtype)
    return torch.as_tensor(x, dtype=dtype, device=device)


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Set torch's intra-op threads to ``n`` for the block and restore them; ``None``: untouched."""
    if n is None:
        yield
        return
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


@contextlib.contextmanager
def limit_threads(n: int | None = 1) -> Iterator[None]:
    """Cap torch's and the BLAS libraries' threads for the block (``None``: leave them alone).

    Many small linear-algebra calls (covariances, shrinkage, small MLPs) run several times
    faster on one thread than on oversubscribed cores; parallel work is spread with ``n_jobs``.
    """
    if n is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with torch_threads(n), threadpool_limits(limits=int(n)):
        yield
