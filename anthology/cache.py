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
import hmac
import io
import json
import os
import pickle
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from . import __version__
from .fonts import FAMILIES
from .lastbuild import CACHE_FOLDER, PACKAGE, program_sources
from .model import Entry, Layout, Piece
from .publish import running

V = TypeVar("V")


def program_files() -> list[Path]:
    """This program's own files and its fonts: what :func:`program_fingerprint` hashes."""
    return program_sources() + _font_files()


def _font_files() -> list[Path]:
    return [Path(path) for family in FAMILIES.values() for path in dataclasses.astuple(family)]


@functools.cache
def program_fingerprint() -> str:
    """This program, its fonts and its word tables: any change to either invalidates every cached entry."""
    digest = hashlib.sha256(__version__.encode())
    for path in program_sources():
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    for path in _font_files():
        digest.update(path.read_bytes())
    return digest.hexdigest()


def entry_key(entry: Entry, layout: Layout, language: str, fit: bool, source: str | None = None) -> str:
    """Everything an entry's rendering depends on, hashed.

    ``source`` is the hash its checked record was kept under (its files and images,
    what they were checked against, this program), which fixes the entry as surely
    as its whole ``repr`` and costs nothing to compute; without one the entry
    itself is hashed, with its images' pixels (which its ``repr`` leaves out).
    """
    digest = hashlib.sha256(program_fingerprint().encode())
    digest.update(repr((layout, language, fit)).encode())
    digest.update(layout_assets(layout))
    if source:
        digest.update(b"source:" + source.encode())
        return digest.hexdigest()
    digest.update(repr(entry).encode())
    from .validate import figures  # validate reads the images; this only hashes them

    images = [entry.contribution.photo, *(figure.image for figure in figures(entry.blocks))]
    for image in images:
        digest.update(hashlib.sha256(image.jpeg).digest() if image else b"-")
    return digest.hexdigest()


def layout_assets(layout: Layout) -> bytes:
    """The layout's image files, whose contents its repr does not show."""
    return b"".join(hashlib.sha256(asset.read_bytes()).digest() if asset else b"-"
                    for asset in (layout.cover_image, layout.logo))


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
                     fit=meta["fit"], fonts=tuple(meta["fonts"]), structure=meta["structure"])

    def put(self, key: str, piece: Piece) -> None:
        if self.folder is None:
            return
        pdf_path, meta_path = self._paths(key)
        meta = {"cache_key": key, "key": piece.key, "page_count": piece.page_count,
                "last_page_height": piece.last_page_height, "fit": piece.fit, "fonts": list(piece.fonts),
                "structure": piece.structure,
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
                if _killed_writers(path):
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


def _killed_writers(path: Path) -> bool:
    """A temporary file (see :func:`_replace`) whose writer is no longer running."""
    if not path.name.endswith(".tmp"):
        return False
    pid = path.name.split(".")[1]
    return not (pid.isdigit() and running(int(pid)))


_RECORD_TYPES = {"cache_key": str, "key": str, "page_count": int, "last_page_height": (int, float), "fit": str,
                 "fonts": list, "structure": str, "sha256": str}


def _is_record(meta: object, key: str) -> bool:
    """Metadata as :meth:`EntryCache.put` writes it, for ``key`` (not a copy of another entry's record)."""
    return (isinstance(meta, dict) and all(isinstance(meta.get(name), kind) and not isinstance(meta.get(name), bool)
                                           for name, kind in _RECORD_TYPES.items())
            and meta["cache_key"] == key and meta["page_count"] > 0
            and all(isinstance(font, str) for font in meta["fonts"])
            and _is_structure(meta["structure"], meta["page_count"]))


def _is_structure(text: str, page_count: int) -> bool:
    """An entry's structure record as :meth:`~anthology.layout.tagging.ArtifactPages.structure` writes it, for
    ``page_count`` pages: assembly grafts it without further checks, so anything else is laid out again."""
    try:
        record = json.loads(text)
    except ValueError:
        return False
    if not isinstance(record, dict) or set(record) != {"elements", "pages", "links", "areas"}:
        return False
    elements, pages, links = record["elements"], record["pages"], record["links"]

    def number(value: object, low: int, high: int) -> bool:
        return type(value) is int and low <= value < high

    return (isinstance(elements, list) and all(  # an element's parent comes before it: no cycles
                isinstance(e, list) and len(e) == 4 and isinstance(e[0], str) and _ROLE.fullmatch(e[0]) is not None
                and number(e[1], -1, index) and isinstance(e[2], str) and isinstance(e[3], str)
                for index, e in enumerate(elements))
            and isinstance(pages, list) and len(pages) == page_count
            and all(isinstance(page, list) and all(number(n, 0, len(elements)) for n in page) for page in pages)
            and isinstance(links, list) and len(links) == page_count
            and all(isinstance(page, list) and all(isinstance(link, list) and len(link) == 2
                                                    and number(link[0], -1, len(elements)) and isinstance(link[1], str)
                                                    for link in page) for page in links)
            and record["areas"] == [])  # an entry has no link areas (those are the contents' and index's)


_ROLE = re.compile(r"[A-Z][A-Za-z0-9]{0,15}")


class RecordCache:
    """Python values kept between builds (checked contributions, rendered listings), signed.

    A record is a pickle, and unpickling runs code, so each one carries an
    HMAC-SHA256 of its kind, key and body made with a key kept outside the project (see :func:`signing_key`):
    a record that someone else wrote into ``.anthology-cache/`` (a project folder
    received from elsewhere) fails the check and is ignored, never loaded.
    Without a key (no writable user cache folder) nothing is stored.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.key = signing_key() if folder is not None else None

    def get(self, kind: str, key: str) -> object | None:
        if self.folder is None or self.key is None:
            return None
        try:
            data = self._path(kind, key).read_bytes()
        except OSError:
            return None
        signature, body = data[:32], data[32:]
        if not hmac.compare_digest(signature, self._signature(kind, key, body)):
            return None
        try:
            value = pickle.loads(body)
        except Exception:  # a record from another version of a class: simply made again
            return None
        with contextlib.suppress(OSError):
            os.utime(self._path(kind, key))  # last used, for pruning
        return value

    def put(self, kind: str, key: str, value: object) -> None:
        if self.folder is None or self.key is None:
            return
        buffer = io.BytesIO()
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
        body = buffer.getvalue()
        path = self._path(kind, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _replace(path, self._signature(kind, key, body) + body)
        except OSError:
            pass  # a cache that cannot be written only costs time

    def remember(self, kind: str, parts: object, make: Callable[[], V]) -> V:
        """The value kept under ``parts`` (hashed), or ``make()``'s, kept for next time."""
        if self.key is None:
            return make()
        key = digest_of(kind, parts)
        found = self.get(kind, key)
        if found is None:
            found = make()
            self.put(kind, key, found)
        return found  # type: ignore[return-value]

    def prune(self, since: float) -> int:
        """Like :meth:`EntryCache.prune`: keep the records used since ``since`` (a time stamp) and as
        many others of each kind, the most recently used; remove the rest and killed writers' files."""
        if self.folder is None:
            return 0
        removed = 0
        for kind in sorted(p for p in self.folder.iterdir() if p.is_dir() and p.name in RECORD_KINDS):
            used, others = 0, []
            for path in kind.glob("*/*"):
                try:
                    if _killed_writers(path):
                        path.unlink()
                        removed += 1
                    elif (modified := path.stat().st_mtime) >= since:
                        used += 1
                    else:
                        others.append((modified, path))
                except OSError:
                    continue
            for _, path in sorted(others, reverse=True)[used:]:
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed += 1
        return removed

    def _path(self, kind: str, key: str) -> Path:
        assert self.folder is not None
        return self.folder / kind / key[:2] / key

    def _signature(self, kind: str, key: str, body: bytes) -> bytes:
        """The record's HMAC, over where it belongs as well as what it holds: a signed record copied
        under another key (another entry's checked form, another listing) is not this key's record."""
        assert self.key is not None
        signature = hmac.new(self.key, f"{kind}/{key}\0".encode(), hashlib.sha256)
        signature.update(body)  # not concatenated: the font carrier and the index are hundreds of kilobytes
        return signature.digest()


class _Pickler(pickle.Pickler):
    """Keeps a dataclass as a call of its class with its fields' values.

    Loaded, it runs the class's generated ``__init__`` (straight-line code), not
    dataclasses' ``__setstate__`` for frozen classes with slots, which looks the
    fields up again for every object: about 1 s of CPU for the 21 000 objects of
    500 checked entries, two thirds of loading them.
    """

    def reducer_override(self, obj: object) -> object:
        names = _init_fields(type(obj))
        if names is None:
            return NotImplemented
        return type(obj), tuple(getattr(obj, name) for name in names)


@functools.cache
def _init_fields(cls: type) -> tuple[str, ...] | None:
    """The fields a dataclass's ``__init__`` takes, in order; None for other classes (or a field it leaves out)."""
    if not dataclasses.is_dataclass(cls):
        return None
    fields = dataclasses.fields(cls)
    if any(not field.init or field.kw_only for field in fields):
        return None
    return tuple(field.name for field in fields)


def key_file() -> Path:
    """Where this user's key for :class:`RecordCache` lives: ``$XDG_CACHE_HOME/anthology/record-key``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "anthology" / "record-key"


@functools.cache
def signing_key() -> bytes | None:
    """This user's secret for :class:`RecordCache`, made on first use (see :func:`key_file`)."""
    try:
        path = key_file()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(handle, "wb") as stream:
                stream.write(os.urandom(32))
        key = path.read_bytes()
    except (OSError, RuntimeError):  # RuntimeError: no home folder to be found
        return None
    return key if len(key) == 32 else None


def digest_of(*parts: object) -> str:
    """A cache key: SHA-256 of this program and the parts' ``repr`` (bytes are hashed as they are)."""
    digest = hashlib.sha256(program_fingerprint().encode())
    for part in parts:
        digest.update(part if isinstance(part, bytes) else repr(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()


RECORD_KINDS = ("checked", "piece", "furniture", "carrier")
"""The folders :class:`RecordCache` writes."""


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
