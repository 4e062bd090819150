"""Build this repository's sample anthology: ``python compile.py [build|check] [PROJECT]``."""

import sys

from anthology.cli import main

if __name__ == "__main__":
    sys.exit(main())
