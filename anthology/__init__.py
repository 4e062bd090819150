"""Anthology: contributors' short pieces in, one correct, distributable PDF book out.

The library API is :func:`check_project` and :func:`build_book`; the command
line in :mod:`anthology.cli` is a thin shell over them.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .build import BuildResult, CheckedProject, build_book, check_project

__all__ = ["BuildResult", "CheckedProject", "__version__", "build_book", "check_project"]
