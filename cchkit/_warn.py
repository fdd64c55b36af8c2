"""Warnings a user must see, wherever cchkit runs.

A warning goes two ways at once: :func:`warnings.warn` (what notebooks and scripts show, since
cchkit's logger has only a NullHandler) and the ``cchkit`` logger at WARNING, marked so that the
CLI, which prints both, shows it once.
"""

from __future__ import annotations

import logging
import sys
import warnings

from .exceptions import CchkitWarning

__all__ = ["warn_user", "WARNED"]

logger = logging.getLogger("cchkit")

#: The attribute set on a log record that was also issued as a Python warning.
WARNED = "cchkit_warned"


def warn_user(message: str, *args: object) -> None:
    """Issue ``message % args`` as a :class:`~cchkit.exceptions.CchkitWarning` and log it. The
    warning points at the user's line that called into cchkit (the first frame outside the
    package), which is what Python shows beside it."""
    text = message % args if args else message
    logger.warning(text, extra={WARNED: True})
    warnings.warn(text, CchkitWarning, stacklevel=_first_level_outside_cchkit())


def _first_level_outside_cchkit() -> int:
    """The ``stacklevel`` of the first caller outside cchkit, for a warning issued here."""
    frame, level = sys._getframe(2), 2  # the frame that called warn_user is level 2
    while frame is not None and str(frame.f_globals.get("__name__", "")).split(".")[0] == "cchkit":
        frame, level = frame.f_back, level + 1
    return level
