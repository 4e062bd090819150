"""``python -m anthology``: the same command line as ``anthology`` and ``compile.py``."""


from .cli import run

run()
