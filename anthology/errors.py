"""The exceptions the library raises; the CLI maps them to messages and exit codes."""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .diagnostics import Report


class AnthologyError(Exception):
    """Base class: something the user can fix, reported without a traceback."""


class ProjectError(AnthologyError):
    """The project's inputs have errors; raised by ``build`` after a failed check."""

    def __init__(self, report: Report) -> None:
        super().__init__(f"the project has errors ({report.summary()})")
        self.report = report



_OS_ADVICE = {
    errno.ENOSPC: ("the disk is full", "free some space and run the command again"),
    errno.EDQUOT: ("the disk quota is used up", "free some space and run the command again"),
    errno.EFBIG: ("the file is larger than this system allows", "free some space or raise the file size limit"),
    errno.EACCES: ("permission denied", "choose another place (-o) or change the folder's permissions"),
    errno.EPERM: ("not permitted", "choose another place (-o) or change the folder's permissions"),
    errno.EROFS: ("the file system is read-only", "choose another place with -o"),
    errno.ENAMETOOLONG: ("the name is too long", "choose a shorter name or folder"),
    errno.EADDRINUSE: ("the address is in use by another program", "choose another --port"),
    errno.EADDRNOTAVAIL: ("this machine has no such address", "choose another --host"),
}


def describe_os_error(error: OSError) -> str:
    """One line for an error from the operating system: the file, what went wrong, what to do."""
    cause, advice = _OS_ADVICE.get(error.errno or 0, (error.strerror or str(error), "check the file and try again"))
    where = f"{error.filename}: " if error.filename else ""
    return f"{where}{cause}; {advice}"
