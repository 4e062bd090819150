"""Anthology: contributors' short pieces in, one correct, distributable PDF book out.

The library API is :func:`check_project` and :func:`build_book`; the command
line in :mod:`anthology.cli` is a thin shell over them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

__all__ = ["BuildResult", "CheckedProject", "__version__", "build_book", "check_project"]

if TYPE_CHECKING:
    from .build import BuildResult, CheckedProject, build_book, check_project


def __getattr__(name: str) -> object:
    """The API from :mod:`anthology.build`, imported on first use: a build with nothing to do
    (decided by :mod:`anthology.lastbuild`) never loads the layout and PDF machinery."""
    if name in __all__:
        from . import build

        return getattr(build, name)
    raise AttributeError(f"module 'anthology' has no attribute {name!r}")
