"""Random-state handling shared by every random path in cchkit."""

from __future__ import annotations

from typing import Union

import numpy as np

RandomState = Union[int, np.random.Generator, None]

__all__ = ["RandomState", "as_generator", "derive_seed", "torch_generator"]


def as_generator(random_state: RandomState) -> np.random.Generator:
    """Return a numpy Generator from an int seed, a Generator (returned as is) or None."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, (bool, np.bool_)):
        from .exceptions import InputError

        raise InputError(f"random_state must be an int seed, a numpy Generator or None, got {random_state!r}.")
    if random_state is None or isinstance(random_state, (int, np.integer)):
        if random_state is not None and int(random_state) < 0:
            from .exceptions import InputError

            raise InputError(f"random_state must be a non-negative integer, got {random_state}.")
        return np.random.default_rng(None if random_state is None else int(random_state))
    from .exceptions import InputError

    raise InputError(
        f"random_state must be an int, a numpy Generator or None, got {type(random_state).__name__}."
    )


def derive_seed(random_state: RandomState) -> int:
    """Draw an int seed (for torch or a sub-task) from a random state, deterministically."""
    return int(as_generator(random_state).integers(0, 2**31 - 1))


def torch_generator(seed: int, device: str = "cpu"):
    """A seeded ``torch.Generator`` on ``device``."""
    import torch

    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed))
    return gen
