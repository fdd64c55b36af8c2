"""Warnings a user must see, wherever cchkit runs.

A warning goes two ways at once: :func:`warnings.warn` (what notebooks and scripts show, since
cchkit's logger has only a NullHandler) and the ``cchkit`` logger at WARNING, marked so that the
CLI, which prints both, shows it once.
"""

from __future__ import annotations

import logging
import warnings

from .exceptions import CchkitWarning

__all__ = ["warn_user", "WARNED"]

logger = logging.getLogger("cchkit")

#: The attribute set on a log record that was also issued as a Python warning.
WARNED = "cchkit_warned"


def warn_user(message: str, *args: object, stacklevel: int = 3) -> None:
    """Issue ``message % args`` as a :class:`~cchkit.exceptions.CchkitWarning` and log it."""
    text = message % args if args else message
    logger.warning(text, extra={WARNED: True})
    warnings.warn(text, CchkitWarning, stacklevel=stacklevel)
