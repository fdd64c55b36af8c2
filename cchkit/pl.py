"""scverse-style plots of what :mod:`cchkit.tl` stored in ``data.uns["cchkit"]``; each returns
matplotlib Axes (scanpy's convention)."""

from __future__ import annotations

from typing import Any

from .tl import stored

__all__ = ["ranking", "validation"]


def ranking(data: Any, *, key: str = "cchkit", ax: Any = None, **kwargs: Any) -> Any:
    """The stored ranking's criterion per teacher with intervals
    (:func:`cchkit.plotting.plot_ranking`)."""
    from .plotting import plot_ranking
    from .ranking import Ranking

    table, settings = stored(data, "ranking", key)
    return plot_ranking(Ranking(table=table, settings=settings), ax=ax, **kwargs)


def validation(data: Any, *, key: str = "cchkit", ax: Any = None, **kwargs: Any) -> Any:
    """The stored validation: criterion against measured gain (:func:`cchkit.plotting.plot_validation`)."""
    from .plotting import plot_validation
    from .validation import ValidationReport

    table, summary = stored(data, "validation", key)
    return plot_validation(ValidationReport(table=table, summary=summary), ax=ax, **kwargs)
