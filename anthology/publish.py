"""Stage 6: put the finished book where readers get it, without ever leaving a broken file.

The PDF is written to a temporary file in the destination folder, flushed
and fsynced, then renamed over the old one. A build that fails at any point
leaves the previous PDF byte for byte as it was and no temporary file behind.
A process killed outright (``kill -9``, a file-size signal) cannot clean up,
so temporary names carry the writer's process id and the next build removes
those whose writer no longer runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import filecmp
import glob
import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import AnthologyError
from .load import open_regular

if TYPE_CHECKING:
    from .model import Book


def write_atomically(path: Path, data: bytes, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` in one rename; never leave a partial file.

    The file keeps the old one's permissions, or gets ``mode`` when given.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_abandoned(path)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise OSError(error.errno, error.strerror, str(path)) from None
    try:
        if hasattr(os, "fchmod"):  # not on Windows, where the mode is set after the rename
            os.fchmod(handle, _mode_for(path) if mode is None else mode)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as error:  # named by the file the user asked for, not the temporary one
        Path(temporary).unlink(missing_ok=True)
        raise OSError(error.errno, error.strerror, str(path)) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if not hasattr(os, "fchmod"):
        os.chmod(path, _mode_for(path) if mode is None else mode)
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
        if pid.isdigit() and not running(int(pid)):
            leftover.unlink(missing_ok=True)


def running(pid: int) -> bool:
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
        return _allowed(0o666)


def _allowed(mode: int) -> int:
    """``mode`` as the process's umask lets a new file or folder have it."""
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


RELEASE_MARKER = ".anthology-release"
"""The file naming what ``dist`` wrote into a release folder; nothing else there is ever removed."""

MARKER_BYTES = 16 * 1024 * 1024
"""A marker larger than this is not one ``dist`` wrote (a million entries' files fit)."""


def publish_folder(folder: Path, files: dict[str, bytes]) -> tuple[str, ...]:
    """Make ``folder`` hold exactly ``files`` (plus what others put there), switched in one step.

    The release is written into a fresh staging folder beside ``folder``,
    fsynced and checked against the bytes in memory, then exchanged with the
    live folder in one ``renameat2(RENAME_EXCHANGE)`` (two renames where the
    system lacks it), so a reader sees the old release or the new one, never a
    mix. Files in ``folder`` that an earlier ``dist`` did not write (its marker
    file lists what it did) are carried into the new release as hard links.
    Only a new, empty or marked folder is used. A staging or old folder left by
    a killed run is cleaned by the next. Returns the foreign files kept.

    A ``folder`` that is a symbolic link (``/var/www/book -> /srv/book``) is
    published where it points: the link stays a link and its target is the
    folder switched, never the link swapped for a folder and the target emptied.
    """
    folder = Path(os.path.realpath(folder))
    if os.path.ismount(folder):
        raise _mount_point(folder)
    if folder.exists() and not folder.is_dir():
        raise AnthologyError(f"{folder} is a file, not a folder; nothing was changed. Give -o a new or empty "
                             "folder for the release (the book's PDF goes inside it)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _folder_lock(folder.parent):
        for leftover in sorted(folder.parent.glob(f".{glob.escape(folder.name)}.release-*")):
            if leftover.is_dir() and not leftover.is_symlink():  # a link of that name is not ours to empty
                _discard(leftover, folder)
        owned = _owned_files(folder)
        if owned is None:
            raise AnthologyError(f"{folder} holds files that 'anthology dist' did not write (it has no "
                                 f"{RELEASE_MARKER} file); nothing in it was changed. Choose a new or empty "
                                 "folder with -o, or move its files elsewhere")
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.release-", dir=folder.parent))
        try:
            os.chmod(staging, stat.S_IMODE(folder.stat().st_mode) if folder.is_dir() else _allowed(0o777))
            _write_staging(staging, files)
            kept = _carry_over(folder, staging, owned, set(files)) if folder.is_dir() else ()
            if not folder.exists() or not any(folder.iterdir()):
                os.replace(staging, folder)  # a new or empty folder: one rename
            else:
                _exchange(staging, folder)
            _fsync_folder(folder.parent)
        except OSError as error:  # named by the folder the user asked for, not the staging one
            if error.errno == errno.EBUSY:  # a bind mount on the same file system, which ismount cannot see
                raise _mount_point(folder) from None
            raise OSError(error.errno, error.strerror, str(folder)) from None
        finally:
            if staging.exists():
                _discard(staging, folder)  # the old release, or an unfinished new one
    return kept


def _mount_point(folder: Path) -> AnthologyError:
    """A mounted folder (a Docker volume, say) cannot be renamed, so a release cannot be switched into it."""
    return AnthologyError(f"{folder} is a mount point, and a release is switched into place by renaming its "
                          "folder, which a mount point cannot be; the folder was not changed. Publish into a "
                          f"folder inside it (-o {folder / 'site'}) and serve that one")


def _write_staging(staging: Path, files: dict[str, bytes]) -> None:
    """Write the marker first (so a killed run's folder is known), then every file, then read them back."""
    marker = json.dumps({"written_by": "anthology dist", "files": sorted(files)}, indent=1).encode()
    for name, data in ((RELEASE_MARKER, marker), *sorted(files.items())):
        path = staging / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
    for name, data in files.items():
        if hashlib.sha256((staging / name).read_bytes()).digest() != hashlib.sha256(data).digest():
            raise AnthologyError(f"{staging / name} did not read back as written; the release was not switched")
    for sub in {staging / name for name in files} | {staging}:
        _fsync_folder(sub.parent if sub != staging else staging)


def _carry_over(folder: Path, staging: Path, owned: set[str], names: set[str]) -> tuple[str, ...]:
    """Hard-link every file of ``folder`` that dist did not write into ``staging``; refuse a clash of names."""
    kept = []
    for path in _tree(folder):
        relative = path.relative_to(folder).as_posix()
        if relative in owned or relative == RELEASE_MARKER or (path.is_dir() and not path.is_symlink() and any(
                name.startswith(relative + "/") for name in names)):
            continue
        if relative in names or any(relative.startswith(name + "/") for name in names):
            raise AnthologyError(f"{path} was not written by dist but has the name of a release file; "
                                 "nothing was changed. Move it elsewhere and run dist again")
        target = staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            os.symlink(os.readlink(path), target)
        elif path.is_dir():
            target.mkdir(exist_ok=True)
        elif path.is_file():
            try:
                os.link(path, target)
            except OSError:
                shutil.copy2(path, target)
        else:
            raise AnthologyError(f"{path} is not a regular file; dist keeps only files and folders it did not "
                                 "write. Move it elsewhere and run dist again")
        if not path.is_dir() or path.is_symlink():
            kept.append(relative)
    return tuple(kept)


def _discard(old: Path, live: Path) -> None:
    """Remove a release folder that is no longer live: only what its marker lists and copies of what
    ``live`` holds. Anything else stays (and the folder with it)."""
    listed = _owned_files(old) or set()
    for path in sorted(_tree(old), key=lambda p: len(p.parts), reverse=True):
        relative = path.relative_to(old).as_posix()
        twin = live / relative
        try:
            if path.is_dir() and not path.is_symlink():
                if twin.is_dir() or any(name.startswith(relative + "/") for name in listed):
                    path.rmdir()
            elif relative in listed or relative == RELEASE_MARKER or _same(path, twin):
                path.unlink()
        except OSError:
            pass  # not empty, or not ours: it stays
    with contextlib.suppress(OSError):
        old.rmdir()


def _tree(folder: Path) -> list[Path]:
    """Every file, folder and link under ``folder``, parents first, never following a link."""
    found = []
    for top, folders, files in os.walk(folder):
        folders.sort()
        found += [Path(top, name) for name in sorted(folders + files)]
    return sorted(found)


def _same(path: Path, twin: Path) -> bool:
    try:
        if path.is_symlink() or twin.is_symlink():
            return path.is_symlink() and twin.is_symlink() and os.readlink(path) == os.readlink(twin)
        first, second = path.lstat(), twin.lstat()
        if (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino):
            return True
        return stat.S_ISREG(first.st_mode) and first.st_size == second.st_size and filecmp.cmp(path, twin, False)
    except OSError:
        return False


def _owned_files(folder: Path) -> set[str] | None:
    """What dist wrote into ``folder`` by its marker; empty for a new or empty folder; None if not a release."""
    if not folder.exists():
        return set()
    if not folder.is_dir():
        return None
    try:
        descriptor, info = open_regular(folder / RELEASE_MARKER)  # never a link's target, never a FIFO's wait
        with os.fdopen(descriptor, "rb") as stream:
            if info.st_size > MARKER_BYTES:
                raise ValueError
            names = json.loads(stream.read(MARKER_BYTES).decode("utf-8"))["files"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError
    except (OSError, ValueError, KeyError, TypeError):
        return None if any(folder.iterdir()) else set()
    return {n for n in names if n and not n.startswith("/") and ".." not in n.split("/")}


def _exchange(staging: Path, folder: Path) -> None:
    """Swap two folders atomically; where the kernel cannot, rename the live one aside first."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None:
        at_cwd, exchange = -100, 2
        if renameat2(at_cwd, os.fsencode(staging), at_cwd, os.fsencode(folder), exchange) == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(code, os.strerror(code), str(folder))
    aside = Path(tempfile.mkdtemp(prefix=f".{folder.name}.release-", dir=folder.parent))
    os.replace(folder, aside)
    os.replace(staging, folder)
    os.replace(aside, staging)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """One release at a time per parent folder (``serve --watch`` and a manual ``dist`` may overlap)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


# The last release, as the build reports what moved since (here, not in release.py, so that a build
# does not import the release's machinery: Jinja2, PDFium, Pillow).


@dataclass(frozen=True, slots=True)
class Move:
    """An entry whose first page changed since the last release."""

    name: str
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.name}: page {self.before} → {self.after}"


def default_site(root: Path) -> Path:
    """Where ``dist`` writes the release unless told otherwise."""
    return root / "dist" / "site"


def moves_since_release(root: Path, book: Book) -> tuple[Move, ...]:
    """Entries of a freshly built book whose first page differs from the published release's."""
    current = {"entries": [{"slug": line.slug, "name": line.name, "first_page": line.label} for line in book.toc]}
    return moved_entries(read_manifest(default_site(root)), current)


def moved_entries(previous: dict | None, manifest: dict) -> tuple[Move, ...]:
    """Entries whose first printed page differs from the previous release's."""
    if not previous:
        return ()
    before = {e["slug"]: e["first_page"] for e in previous.get("entries", [])}
    return tuple(Move(e["name"], before[e["slug"]], e["first_page"]) for e in manifest["entries"]
                 if e["slug"] in before and before[e["slug"]] != e["first_page"])


def read_manifest(folder: Path) -> dict | None:
    """The release in ``folder`` as its manifest.json describes it; None when there is none to read, or
    when it is not one ``dist`` wrote (edited by hand, cut short): every build reads it, and must not fail on it."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entries = manifest.get("entries") if isinstance(manifest, dict) else None
    if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("slug"), str) and isinstance(e.get("first_page"), str)
            for e in entries):
        return None
    return manifest
