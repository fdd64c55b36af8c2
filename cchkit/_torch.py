"""Torch helpers shared by the encoders, the neural estimators and the distiller."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence

from .exceptions import InputError

logger = logging.getLogger("cchkit")

__all__ = ["resolve_device", "mlp", "seeded", "to_tensor", "torch_threads", "limit_threads"]


def resolve_device(device: str = "auto") -> torch.device:  # noqa: F821
    """``"auto"`` -> CUDA when available, else CPU; ``"cpu"``, ``"cuda"``, ``"cuda:1"`` as given.

    Raises :class:`InputError` when CUDA is asked for but not available.
    """
    import torch

    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
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
    act = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "elu": nn.ELU}[activation]
    layers: list[nn.Module] = []
    prev = in_dim
    for h in hidden:
        layers += [nn.Linear(prev, h), act()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        prev = h
    layers.append(nn.Linear(prev, out_dim))
    return nn.Sequential(*layers)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's global RNG for the block (CPU and CUDA), restoring the previous CPU state."""
    import torch

    state = torch.random.get_rng_state()
    torch.manual_seed(int(seed))
    try:
        yield
    finally:
        torch.random.set_rng_state(state)


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
