"""What the last build was made from and what it wrote, so that a build with nothing to do does nothing.

A build is skipped when the project's files, the options, this program and the
files it wrote are what they were. Deciding that must cost far less than the
build, so it is done the way ``make``, ``ninja`` and git do it: each file's
status (size, modification and change times, inode, device, type) is compared
with the one recorded, and only a file whose status moved is read and hashed;
it counts as changed only if its bytes did. The change time cannot be set back
(``touch -d`` sets the modification time, and moves the change time to now), so an
edit is never hidden by restoring the old modification time. A file modified
within :data:`RACY_NS` of the moment its status was taken could still change
within the same clock tick without its status showing it (git's "racy" files), so
such a file is always hashed. This module uses the standard library only: a
build that has nothing to do never imports the layout, text or PDF machinery.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from . import __version__

CACHE_FOLDER = ".anthology-cache"
RECORD = "last-build.json"
RACY_NS = 2_000_000_000
"""Files changed less than this before their status was taken are hashed every time (coarse
file-system clocks tick every second or two)."""

FORMATS = ("pdf", "epub")
"""What a build can write (``--format all``)."""
PACKAGE = Path(__file__).parent
_SKIPPED_FOLDERS = {"dist", "__pycache__", "node_modules"}
"""Left out at the project's top level only: ``contributions/dist/`` can hold an entry's photo."""

Status = tuple[int, int, int, int, int, int]
"""(size, modification ns, change ns, inode, device, mode) of a file, as ``lstat`` gives it."""


def _status(path: Path | str) -> Status | None:
    """A file's status; a link's is its target's (what a build reads through it), or its own if broken."""
    try:
        s = os.lstat(path)
        if stat.S_ISLNK(s.st_mode):
            with contextlib.suppress(OSError):
                s = os.stat(path)
    except OSError:
        return None
    return (s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino, s.st_dev, s.st_mode)


def _hash_file(path: Path | str) -> str | None:
    try:
        with open(path, "rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except OSError:
        return None


def _trusted(status: Status | None, taken: int) -> bool:
    """Whether a status taken at ``taken`` (ns) pins the file's bytes: not modified within a clock tick of it."""
    return status is not None and max(status[1], status[2]) < taken - RACY_NS


def project_files(root: Path, written: frozenset[str] = frozenset()) -> Iterator[tuple[str, str]]:
    """Every file the book could be made from: (name relative to ``root`` with ``/``, path), in a fixed order.

    The top level's hidden folders (``.git``, ``.anthology-cache``, a virtual
    environment) and its ``dist/``, ``__pycache__`` and ``node_modules`` are left
    out: the outputs and caches live there. Hidden files, and hidden folders further
    down, are listed: an entry may name ``.portrait.jpg`` and a layout may be
    called ``.draft``. A link to a folder is listed as a file, never walked into
    (see :func:`_status`). The files in ``written`` (this build's outputs, by absolute
    path) are left out too: a book written inside the project is not its own input.
    """
    base = os.path.join(str(root), "")
    for folder, subfolders, files in os.walk(base):
        top = folder == base
        kept = [d for d in subfolders if not (top and (d.startswith(".") or d in _SKIPPED_FOLDERS))]
        linked = [d for d in kept if os.path.islink(os.path.join(folder, d))]
        subfolders[:] = sorted(d for d in kept if d not in linked)
        for name in sorted([f for f in files if not _editor_scratch(f)] + linked):
            path = os.path.join(folder, name)
            if path in written:
                continue
            yield path[len(base):].replace(os.sep, "/"), path


def _editor_scratch(name: str) -> bool:
    """An editor's swap, lock or backup file (vim, emacs): rewritten while typing, never a book's input
    (no entry, photo or layout file has such a name)."""
    return name.endswith(("~", ".swp", ".swo", ".swx")) or name.startswith(".#")


LINKED_FILES = 10_000
"""The most files listed in a folder reached through a link (a link to ``/`` must not walk the disk)."""


def _folder_hash(path: str) -> str | None:
    """The names and statuses of what a linked folder holds, or None if too big. Statuses only: the folder may
    be outside the project, where nothing is opened (an edit there still moves a change time)."""
    digest, count = hashlib.sha256(), 0
    for folder, subfolders, files in os.walk(path):
        subfolders.sort()
        for name in sorted(files):
            count += 1
            if count > LINKED_FILES:
                return None
            file = os.path.join(folder, name)
            digest.update(os.path.relpath(file, path).encode() + b"\0" + repr(_status(file)).encode())
    return digest.hexdigest()


def _content(path: str, root: Path, status: Status) -> str | None:
    """A regular file's SHA-256; for a link that leads out of the project, a hash of its target's status
    instead: a file outside the project is never opened because the project names it."""
    if os.path.islink(path) and not Path(os.path.realpath(path)).is_relative_to(root):
        return hashlib.sha256(repr(status).encode()).hexdigest()
    return _hash_file(path)


class InputState:
    """The project's files with their status and (for regular files) content hashes.

    Hashes come from the last build's record where a file's status is unchanged
    and was trusted then; every other regular file is read, and its status taken
    again after reading, so an edit made meanwhile shows as a moved status later.
    """

    def __init__(self, root: Path, previous: dict | None = None,  # type: ignore[type-arg]
                 options: dict[str, object] | None = None) -> None:
        self.taken = time.time_ns()
        known = previous.get("files") if isinstance(previous, dict) else None
        known = known if isinstance(known, dict) else {}
        self.files: dict[str, list] = {}  # type: ignore[type-arg]
        self.certain = True
        """False when a folder reached through a link is too large to hash: then no build may be skipped."""
        for name, path in project_files(root, _written(options or {})):
            status, sha, trusted = _status(path), None, False
            if status is not None and stat.S_ISDIR(status[5]):
                sha = _folder_hash(path)
                self.certain = self.certain and sha is not None
            if status is not None and stat.S_ISREG(status[5]):  # never follow a link out, never block on a FIFO
                old = known.get(name)
                if isinstance(old, list) and len(old) == 3 and old[2] is True and old[0] == list(status):
                    sha, trusted = old[1], True
                else:
                    sha = _content(path, root, status)
                    after = _status(path)
                    trusted = after == status and _trusted(status, self.taken) and not os.path.islink(path)
            self.files[name] = [list(status) if status else None, sha, trusted]

    def digest(self, options: dict[str, object], program: str) -> str:
        """A hash of every file (its name, and the bytes of a regular one), the options and ``program``."""
        digest = hashlib.sha256(program.encode() + json.dumps(options, sort_keys=True).encode())
        if not self.certain:
            digest.update(os.urandom(16))
        for name, (_, sha, _) in self.files.items():
            digest.update(name.encode() + b"\0")
            if sha is not None:
                digest.update(bytes.fromhex(sha))
        return digest.hexdigest()


def inputs_digest(root: Path, options: dict[str, object]) -> str:
    """A hash of every file the book could be made from, the options and this program.

    Every regular file of the project counts (hidden ones, ``dist/`` and caches
    excepted), so an edit anywhere, however small and whatever its modification
    time, is seen. Symbolic links and special files are named but not read.
    """
    from .cache import program_fingerprint

    return InputState(root).digest(options | _environment(), program_fingerprint())


def read_record(folder: Path | None) -> dict | None:  # type: ignore[type-arg]
    if folder is None:
        return None
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # unreadable, damaged, or nested past the parser's depth
        return None
    return record if isinstance(record, dict) else None


def build_options(output: Path | None, *, skip_invalid: bool, fit: bool, for_print: bool, layout: str | None,
                  final: bool, formats: tuple[str, ...]) -> dict[str, object]:
    """The options that change what a build writes (the environment's among them), as they are recorded."""
    return {"skip_invalid": skip_invalid, "fit": fit, "for_print": for_print, "layout": layout,
            "output": str(output.resolve()) if output else None, "final": final, "formats": sorted(formats),
            **_environment()}


def _written(options: dict[str, object]) -> frozenset[str]:
    """Where a build with ``-o`` writes (the PDF or EPUB named, and an EPUB beside it), as absolute paths."""
    output = options.get("output")
    return frozenset((str(output), str(Path(str(output)).with_suffix(".epub")))) if output else frozenset()


def _environment() -> dict[str, object]:
    """What the environment changes in the files written: the dates stamped into the PDF, EPUB and site."""
    return {"SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH")}


def unchanged_outputs(root: Path, options: dict[str, object]) -> list[Path]:
    """The files of the last build (PDF first) if its inputs, options, program and outputs are all as they were.

    Statuses first; a file whose status moved (or was not trusted) is hashed and
    compared, and the outputs are always hashed. Nothing else is read.
    """
    record = read_record(root / CACHE_FOLDER)
    try:
        if (record is None or record.get("version") != __version__ or record.get("options") != options
                or not _program_unchanged(record["program"])):
            return []
        known: dict = record["files"]  # type: ignore[type-arg]
        names = iter(known)
        for name, path in project_files(root, _written(options)):
            if next(names, None) != name:
                return []  # a file added, removed or renamed
            status, sha, trusted = known[name]
            now = _status(path)
            if now is None or status is None:
                if now != status:
                    return []
            elif stat.S_ISDIR(now[5]):
                return []  # a link into a folder: what it holds is not listed
            elif not stat.S_ISREG(now[5]) or not stat.S_ISREG(status[5]):
                if stat.S_IFMT(now[5]) != stat.S_IFMT(status[5]):
                    return []  # a link or special file is named, never read: only its kind counts
            elif not (trusted is True and list(now) == status) and _content(path, root, now) != sha:
                return []
        if next(names, None) is not None:
            return []
        return _intact(record["outputs"], root, options)
    except (KeyError, TypeError, ValueError, IndexError):
        return []


def last_notes(root: Path) -> list[str]:
    """What the last build said beyond its success, for a build that finds nothing to do: it is still true."""
    record = read_record(root / CACHE_FOLDER) or {}
    left_out, warnings = record.get("left_out"), record.get("warnings")
    notes = []
    if isinstance(left_out, list) and left_out:
        notes.append(f"still left out (--skip-invalid), with errors: {', '.join(map(str, left_out))}; "
                     "run 'anthology check' to see them")
    if isinstance(warnings, int) and warnings > 0:
        notes.append(f"the last build had {warnings} warning(s); run 'anthology check' to see them")
    return notes


def _intact(outputs: list, root: Path, options: dict[str, object]) -> list[Path]:  # type: ignore[type-arg]
    """The recorded outputs' paths (PDF first) if each still holds the bytes written; else nothing.

    Only where this build would write counts (beside ``-o``'s file, or in ``dist/``): a record
    that came with someone else's project cannot make a build point at any other file.
    """
    paths = [Path(path) for path, _ in outputs]
    folder = Path(str(options["output"])).parent if options.get("output") else root / "dist"
    if paths and all(path.parent == folder and _regular(path) for path in paths) and all(
            _hash_file(path) == sha for path, sha in outputs):
        return paths
    return []


def _regular(path: Path) -> bool:
    """A file in its own right: an output replaced by a link (to anything) is written again."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def previous_outputs(record: dict | None, digest: str, root: Path,  # type: ignore[type-arg]
                     options: dict[str, object]) -> list[Path]:
    """The last build's files if it was made from inputs hashing to ``digest`` and they are intact."""
    try:
        return _intact(record["outputs"], root, options) if record and record["inputs"] == digest else []
    except (KeyError, TypeError, ValueError):
        return []


def _program_unchanged(files: object) -> bool:
    """This program's own files and fonts have the status they had (any doubt: not unchanged)."""
    if not isinstance(files, list) or not files:
        return False
    listed = {path for path, _ in files}
    if any(str(path) not in listed for path in program_sources()):
        return False  # a module or table was added
    taken = time.time_ns()
    return all(_trusted(now := _status(path), taken) and list(now) == status for path, status in files)


def program_sources() -> list[Path]:
    """The program's own files whose bytes the book depends on: modules, built-in layouts (with their EPUB and
    site templates), word tables."""
    return sorted(PACKAGE.rglob("*.py")) + sorted(p for p in (PACKAGE / "layouts").rglob("*") if p.is_file()) + sorted(
        PACKAGE.glob("languages/*.yaml"))


LIBRARIES = ("reportlab", "_rl_accel", "pikepdf", "pypdf", "uharfbuzz", "pyphen", "PIL", "markdown_it",
             "mdit_py_plugins", "linkify_it", "yaml", "babel", "jinja2", "pypdfium2")
"""The libraries whose upgrade can change the bytes written (an upgrade rewrites their files)."""


def library_files() -> list[Path]:
    """Each library's package file, found without importing it."""
    import importlib.util

    found = []
    for name in LIBRARIES:
        with contextlib.suppress(ImportError, ValueError):
            spec = importlib.util.find_spec(name)
            if spec is not None and spec.origin and os.path.isfile(spec.origin):
                found.append(Path(spec.origin))
    return found


def remember_build(folder: Path, options: dict[str, object], inputs: InputState, digest: str,
                   written: dict[Path, bytes], left_out: list[str], warnings: int) -> None:
    """Record what this build was made from and wrote (best effort: without a record the next build works)."""
    from .cache import program_files

    record = {"version": __version__, "inputs": digest, "options": options,
              "program": [[str(path), list(s)] for path in program_files() + library_files() if (s := _status(path))],
              "files": inputs.files,
              "outputs": [[str(path.resolve()), hashlib.sha256(data).hexdigest()] for path, data in written.items()],
              "left_out": left_out, "warnings": warnings}
    temporary = folder / f".{RECORD}.{os.getpid()}"
    try:
        folder.mkdir(exist_ok=True)
        (folder / ".gitignore").write_text("*\n")
        temporary.write_text(json.dumps(record, separators=(",", ":")), encoding="utf-8")
        os.replace(temporary, folder / RECORD)
    except OSError:  # a full disk or a read-only folder: no half-written record left behind
        with contextlib.suppress(OSError):
            temporary.unlink()
