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
    import typer

    # the click that typer runs on (typer vendors its own): its UsageError is BadParameter's base
    usage_error = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
    try:
        code = app(standalone_mode=False)
    except (KeyboardInterrupt, typer.Abort):
        sys.stderr.write("interrupted: nothing was written.\n")
        raise SystemExit(130) from None
    except usage_error as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `cchkit`: the help, as before
            exc.show()
            raise SystemExit(exc.exit_code) from None
        # one line, as every other refusal (not a boxed usage message)
        where = exc.ctx.command_path if exc.ctx is not None else "cchkit"
        sys.stderr.write(f"error: {' '.join(exc.format_message().split())} (see '{where} --help').\n")
        raise SystemExit(2) from None
    raise SystemExit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
