"""scverse-style plots of what :mod:`cchkit.tl` stored in ``data.uns["cchkit"]``.

As in scanpy, each function takes ``show`` (call ``plt.show()`` and return None) and ``save``
(write the figure to that path; its suffix gives the format), and otherwise returns the
matplotlib Axes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .exceptions import InputError
from .tl import stored

__all__ = ["ranking", "validation", "advice"]

#: Figure formats ``save=`` accepts (matplotlib's common ones).
SAVE_FORMATS = (".png", ".pdf", ".svg", ".jpg", ".jpeg")


def ranking(data: Any, *, key: str = "cchkit", ax: Any = None, show: bool = False,
            save: str | os.PathLike | None = None, **kwargs: Any) -> Any:
    """The stored ranking: the deciding criterion per teacher with intervals, coloured by its
    advice (:func:`cchkit.plotting.plot_ranking`)."""
    from .plotting import plot_ranking
    from .ranking import Ranking

    _check_save(save)
    table, settings = stored(data, "ranking", key)
    return _finish(plot_ranking(Ranking(table=table, settings=settings), ax=ax, **kwargs), show, save)


def validation(data: Any, *, key: str = "cchkit", ax: Any = None, show: bool = False,
               save: str | os.PathLike | None = None, **kwargs: Any) -> Any:
    """The stored validation: each teacher's accuracy beside the teacher-free students
    (:func:`cchkit.plotting.plot_few_labels`), or with ``baseline="no-kd"`` the criterion
    against the measured gain (:func:`cchkit.plotting.plot_validation`)."""
    return _validation_plot(data, "validation", key, ax, show, save, kwargs)


def advice(data: Any, *, key: str = "cchkit", ax: Any = None, show: bool = False,
           save: str | os.PathLike | None = None, **kwargs: Any) -> Any:
    """The measurement behind the stored advice (:func:`cchkit.tl.advise`), as :func:`validation`."""
    return _validation_plot(data, "advice", key, ax, show, save, kwargs)


def _validation_plot(data: Any, what: str, key: str, ax: Any, show: bool, save: Any, kwargs: dict) -> Any:
    import pandas as pd

    from .fewlabels import FewLabelReport
    from .plotting import plot_few_labels, plot_validation
    from .validation import ValidationReport

    _check_save(save)
    table, summary = stored(data, what, key)
    if "regime" in summary:  # the teacher-free measurement: its students and each teacher's, with intervals
        report = FewLabelReport(table=table, baselines=pd.DataFrame(summary.get("baseline_students", [])),
                                summary=summary)
        return _finish(plot_few_labels(report, ax=ax, **kwargs), show, save)
    return _finish(plot_validation(ValidationReport(table=table, summary=summary), ax=ax, **kwargs), show, save)


def _check_save(save: Any) -> None:
    """A ``save`` path is refused before any work when matplotlib cannot write its format."""
    if save is not None and Path(save).suffix.lower() not in SAVE_FORMATS:
        raise InputError(f"save={str(save)!r}: name a file ending in one of {', '.join(SAVE_FORMATS)}.")


def _finish(ax: Any, show: bool, save: Any) -> Any:
    if save is not None:
        ax.figure.savefig(save, bbox_inches="tight")
    if show:
        import matplotlib.pyplot as plt

        plt.show()
        return None
    return ax
