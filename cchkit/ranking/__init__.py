"""Ranking teachers for a student: :func:`rank_teachers` (:mod:`.rank`), its estimate grid
(:mod:`.grid`), its rows (:mod:`.rows`) and the :class:`Ranking` result (:mod:`.table`)."""

from .rank import RankSettings, rank_teachers, resolve_candidates
from .table import (
    DEFAULT_CRITERION,
    MIN_PAIRS_PER_DIM,
    MIN_PER_CLASS,
    RANKING_COLUMNS,
    RECOMMEND_BY,
    Ranking,
    add_ranks,
)

__all__ = [
    "Ranking",
    "RankSettings",
    "rank_teachers",
    "resolve_candidates",
    "add_ranks",
    "RANKING_COLUMNS",
    "RECOMMEND_BY",
    "DEFAULT_CRITERION",
    "MIN_PAIRS_PER_DIM",
    "MIN_PER_CLASS",
]
