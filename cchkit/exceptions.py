"""Exceptions raised by cchkit.

Every error a user can cause derives from :class:`CchkitError`, so the CLI can turn it into
one line and exit code 2, while a bug (any other exception) exits 1.
"""

from __future__ import annotations

__all__ = [
    "CchkitError",
    "InputError",
    "BundleError",
    "BundleFormatError",
    "UnknownModalityError",
    "NotPairedError",
    "EstimatorError",
    "UnknownEstimatorError",
    "RankingFailedError",
    "CchkitWarning",
]


class CchkitError(ValueError):
    """Base class of every error caused by the caller's input or settings."""


class InputError(CchkitError):
    """An array or parameter is unusable (NaN, wrong shape, too few samples, ...)."""


class BundleError(CchkitError):
    """A modality bundle is inconsistent (rows, labels, classes, names)."""


class BundleFormatError(BundleError):
    """A file or directory is not a readable cchkit bundle."""


class UnknownModalityError(BundleError):
    """A modality name that the bundle does not have."""


class NotPairedError(BundleError):
    """Paired samples are needed but the modalities share no (or too few) sample ids."""


class EstimatorError(CchkitError):
    """An estimator was configured wrongly or cannot run on the given data."""


class UnknownEstimatorError(EstimatorError):
    """A name that is not in the estimator registry."""


class RankingFailedError(CchkitError):
    """Every row of a ranking failed: there is no result to act on.

    The failed :class:`~cchkit.ranking.Ranking` (each row with its ``error``) is kept in
    :attr:`ranking`, for callers that want to show or log the reasons.
    """

    def __init__(self, message: str, ranking: object = None) -> None:
        super().__init__(message)
        self.ranking = ranking


class CchkitWarning(UserWarning):
    """Something about a result that its user must know (samples cut, an estimate corrected, a
    seed that failed): shown by Python in notebooks and scripts, and on one ``warning:`` line
    by the CLI. Filter it as any warning (``warnings.simplefilter("ignore", CchkitWarning)``)."""
