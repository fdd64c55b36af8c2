"""Ranking teachers for a student: :func:`rank_teachers` (:mod:`.rank`), its estimate grid
(:mod:`.grid`), its rows (:mod:`.rows`) and the :class:`Ranking` result (:mod:`.table`)."""

from . import table
from .rank import RankSettings, rank_teachers, resolve_candidates
from .table import *  # noqa: F403  (the result types; listed in table.__all__)

__all__ = ["RankSettings", "rank_teachers", "resolve_candidates", *table.__all__]
