"""Intervals over seeds, and when a gain counts as evidence (shared by both validations)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["MIN_SEEDS", "t_interval", "is_significant", "wilson_interval"]


#: The fewest seeds the default measurement takes: a gain is judged by its t interval over seeds
#: and beside its placebo's, and three seeds are the least that make both worth reading.
MIN_SEEDS = 3


def t_interval(x: np.ndarray, level: float = 0.95,
               bounds: tuple[float, float] = (-math.inf, math.inf)) -> tuple[float, float, float]:
    """Mean and two-sided Student-t interval of the mean (NaN interval for fewer than 2 values),
    clipped to ``bounds``: an accuracy's interval stays in [0, 1], a gain's in [-1, 1]."""
    from scipy import stats

    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return (math.nan, math.nan, math.nan)
    m = float(x.mean())
    if x.size < 2:
        return (m, math.nan, math.nan)
    se = float(x.std(ddof=1)) / math.sqrt(x.size)
    h = float(stats.t.ppf(0.5 + level / 2, x.size - 1)) * se
    lo, hi = bounds
    return (m, max(m - h, lo), min(m + h, hi))


def is_significant(gain_low: float, gain_high: float, n_seeds: int) -> bool:
    """Whether a gain interval is evidence of a gain (or a loss).

    It needs a real interval, from at least 3 seeds, of non-zero width, that excludes 0. A
    zero-width interval (the same gain on every seed: accuracy moves in steps of 1/n_test) is
    not evidence.
    """
    return bool(
        n_seeds >= 3 and np.isfinite(gain_low) and np.isfinite(gain_high) and gain_high > gain_low
        and (gain_low > 0 or gain_high < 0)
    )


def wilson_interval(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval of a proportion ``k / n`` (Wilson, 1927, JASA 22:209):

    ``(p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``, ``p = k/n``; it stays inside
    [0, 1] and is not empty at ``k = 0`` or ``k = n``, where the normal interval collapses.
    """
    if n <= 0:
        return (math.nan, math.nan)
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, (centre - half) / (1 + z * z / n)), min(1.0, (centre + half) / (1 + z * z / n)))
