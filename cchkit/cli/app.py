"""``cchkit``: rank teacher modalities, estimate MI, validate by distilling.

Exit codes: 0 success; 2 bad usage or bad input (one line on stderr, no traceback); 1 internal
error (with a hint to report it); 130 interrupted (Ctrl-C; the message names any file already
written).

Each command lives in a module of its own over the library (:mod:`.rank`, :mod:`.listing`,
:mod:`.validate`, :mod:`.advise`, :mod:`.info`, :mod:`.estimate`, :mod:`.import_table`); importing them
registers them on :data:`app` (defined in :mod:`.common`), in the order ``--help`` lists them.
"""

from __future__ import annotations

# isort: skip_file
# the order of these imports is the order of the commands in --help
from . import rank  # noqa: F401  (importing a command module registers its command)
from . import listing  # noqa: F401
from . import validate  # noqa: F401
from . import advise  # noqa: F401
from . import info  # noqa: F401
from . import estimate  # noqa: F401
from . import import_table  # noqa: F401
from .common import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point: terminal text that the locale cannot encode is escaped
    (``\\u2265``) instead of failing; Ctrl-C outside a command ends with one line, exit 130."""
    import sys

    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: nothing was written.\n")
        raise SystemExit(130) from None


if __name__ == "__main__":  # pragma: no cover
    main()
