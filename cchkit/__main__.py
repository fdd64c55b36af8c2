"""``python -m cchkit``: the command line, as the ``cchkit`` script runs it."""

from .cli.app import main

if __name__ == "__main__":
    main()
