"""``python -m anthology``: the same command line as ``anthology`` and ``compile.py``."""

import sys

from .cli import main

sys.exit(main())
