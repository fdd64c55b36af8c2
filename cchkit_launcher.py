"""The ``cchkit`` console script: a module outside the package, so that Ctrl-C while the package
is still importing (the first half-second) ends with one line and exit 130, not a traceback."""

import sys


def main() -> None:
    try:
        from cchkit.cli.app import main as run
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: nothing was written.\n")
        raise SystemExit(130) from None
    run()


if __name__ == "__main__":  # pragma: no cover
    main()
