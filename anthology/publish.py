"""Stage 6: put the finished book where readers get it, without ever leaving a broken file.

The PDF is written to a temporary file in the destination folder, flushed
and fsynced, then renamed over the old one. A build that fails at any point
leaves the previous PDF byte for byte as it was and no temporary file behind.
A process killed outright (``kill -9``, a file-size signal) cannot clean up,
so temporary names carry the writer's process id and the next build removes
those whose writer no longer runs.
"""

from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one rename; never leave a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):  # not on Windows, where the mode is set after the rename
            os.fchmod(handle, _mode_for(path))
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if not hasattr(os, "fchmod"):
        os.chmod(path, _mode_for(path))
    if os.name == "posix":  # the rename itself made durable; Windows cannot open a folder this way
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _remove_abandoned(path: Path) -> None:
    """Delete temporary files left by writers of ``path`` that were killed."""
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = leftover.name[len(path.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            leftover.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _mode_for(path: Path) -> int:
    """Keep the old file's permissions; a new file is readable by all, as the umask allows."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
