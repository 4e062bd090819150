"""A content-addressed cache of laid-out entries, so a rebuild redoes only what changed.

An entry's PDF depends on its parsed text and metadata, its headshot's pixels,
the layout (and the layout's images), the book's language, whether ``--fit``
is on, the fonts, and this program. The key is a SHA-256 over all of them, so
an edited entry gets a new key and can never be served stale; the old file
is simply never asked for again. Each stored PDF carries its own hash, and a
file that does not match (a crash mid-write, a disk error) is ignored and
rendered again. The folder (``.anthology-cache/`` in the project) is safe to
delete at any time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from . import __version__
from .fonts import FAMILIES
from .model import Entry, Layout, Piece
from .publish import running

CACHE_FOLDER = ".anthology-cache"
PACKAGE = Path(__file__).parent


@functools.cache
def program_fingerprint() -> str:
    """This program, its fonts and its word tables: any change to either invalidates every cached entry."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(PACKAGE.rglob("*.py")) + sorted(PACKAGE.rglob("layout.yaml")) \
            + sorted(PACKAGE.glob("languages/*.yaml")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    for family in FAMILIES.values():
        for path in dataclasses.astuple(family):
            digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def entry_key(entry: Entry, layout: Layout, language: str, fit: bool) -> str:
    """Everything an entry's rendering depends on, hashed."""
    digest = hashlib.sha256(program_fingerprint().encode())
    digest.update(repr((layout, language, fit)).encode())
    for asset in (layout.cover_image, layout.logo):
        digest.update(asset.read_bytes() if asset else b"-")
    digest.update(repr(entry).encode())
    photo = entry.contribution.photo
    digest.update(hashlib.sha256(photo.jpeg).digest() if photo else b"-")
    return digest.hexdigest()


class EntryCache:
    """Laid-out entries stored under ``folder``; a cache without a folder stores nothing.

    A record is trusted only when its metadata is what :meth:`put` writes, for
    this very key, and its PDF has the recorded hash; anything else is laid
    out again. :meth:`prune` keeps the folder bounded after a build.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.hits = 0
        self.used: set[str] = set()

    def get(self, key: str) -> Piece | None:
        if self.folder is None:
            return None
        pdf_path, meta_path = self._paths(key)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            pdf = pdf_path.read_bytes()
        except (OSError, ValueError):
            return None
        if not _is_record(meta, key) or hashlib.sha256(pdf).hexdigest() != meta["sha256"]:
            return None
        self.hits += 1
        self.used.add(key)
        with contextlib.suppress(OSError):
            os.utime(meta_path)  # last used, for pruning
        return Piece(meta["key"], "entry", pdf, meta["page_count"], last_page_height=meta["last_page_height"],
                     fit=meta["fit"], fonts=tuple(meta["fonts"]))

    def put(self, key: str, piece: Piece) -> None:
        if self.folder is None:
            return
        pdf_path, meta_path = self._paths(key)
        meta = {"cache_key": key, "key": piece.key, "page_count": piece.page_count,
                "last_page_height": piece.last_page_height, "fit": piece.fit, "fonts": list(piece.fonts),
                "sha256": hashlib.sha256(piece.pdf).hexdigest()}
        self.used.add(key)
        try:
            pdf_path.parent.mkdir(parents=True, exist_ok=True)
            _replace(pdf_path, piece.pdf)
            _replace(meta_path, json.dumps(meta).encode())
        except OSError:
            pass  # a cache that cannot be written only costs time

    def prune(self) -> int:
        """Keep this build's records and as many others, the most recently used (say, another layout's);
        remove the rest and the temporary files of killed writers. Returns how many files went."""
        if self.folder is None:
            return 0
        removed = 0
        records: list[tuple[float, Path]] = []
        for path in (self.folder / "entries").glob("*/*"):
            try:
                if path.name.endswith(".tmp"):
                    pid = path.name.split(".")[1]
                    if not (pid.isdigit() and running(int(pid))):
                        path.unlink()
                        removed += 1
                elif path.suffix == ".json" and path.stem not in self.used:
                    records.append((path.stat().st_mtime, path))
            except OSError:
                continue
        for _, path in sorted(records, reverse=True)[len(self.used):]:
            for stale in (path, path.with_suffix(".pdf")):
                with contextlib.suppress(OSError):
                    stale.unlink()
                    removed += 1
        return removed

    def _paths(self, key: str) -> tuple[Path, Path]:
        assert self.folder is not None
        base = self.folder / "entries" / key[:2] / key
        return base.with_suffix(".pdf"), base.with_suffix(".json")


_RECORD_TYPES = {"cache_key": str, "key": str, "page_count": int, "last_page_height": (int, float), "fit": str,
                 "fonts": list, "sha256": str}


def _is_record(meta: object, key: str) -> bool:
    """Metadata as :meth:`EntryCache.put` writes it, for ``key`` (not a copy of another entry's record)."""
    return (isinstance(meta, dict) and all(isinstance(meta.get(name), kind) and not isinstance(meta.get(name), bool)
                                           for name, kind in _RECORD_TYPES.items())
            and meta["cache_key"] == key and meta["page_count"] > 0
            and all(isinstance(font, str) for font in meta["fonts"]))


def clean(root: Path) -> int:
    """Delete the project's cache folder (``anthology clean``); returns the bytes freed."""
    folder = root / CACHE_FOLDER
    if not folder.is_dir() or folder.is_symlink():
        return 0
    freed = sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    shutil.rmtree(folder)
    return freed


def _replace(path: Path, data: bytes) -> None:
    """Write by renaming a finished temporary file: a reader never sees half a file.

    The temporary name carries the writer's process id, so :meth:`EntryCache.prune`
    removes only those whose writer was killed.
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
