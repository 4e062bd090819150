"""The exceptions the library raises; the CLI maps them to messages and exit codes."""

from __future__ import annotations

from .diagnostics import Report


class AnthologyError(Exception):
    """Base class: something the user can fix, reported without a traceback."""


class ProjectError(AnthologyError):
    """The project's inputs have errors; raised by ``build`` after a failed check."""

    def __init__(self, report: Report) -> None:
        super().__init__(f"the project has errors ({report.summary()})")
        self.report = report

