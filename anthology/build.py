"""The pipeline in one place: load and validate → parse text → lay out → assemble → publish."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import hashlib
import multiprocessing
import os
import pickle
import re
import signal
import stat
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .cache import CACHE_FOLDER, EntryCache, RecordCache, digest_of, entry_key, program_fingerprint
from .diagnostics import Diagnostic, Report
from .errors import AnthologyError, ProjectError
from .lastbuild import InputState, build_options, previous_outputs, read_record, remember_build
from .load import read_bytes
from .model import Block, Book, BookConfig, Contribution, Entry, Layout, Limits, Piece, Position
from .publish import write_atomically
from .validate import (
    Project,
    Rejected,
    check_contribution,
    check_drawn_glyphs,
    figure_files,
    figures,
    load_figures,
    validate_project,
    warn_figures_outside_entries,
    warn_unused_files,
)

if TYPE_CHECKING:
    from .assemble import BookTexts, Plan
    from .epub import Edition

# The layout, text and assembly stages (ReportLab's platypus, markdown-it, pikepdf) are
# imported where they are used: a build with nothing to do never loads them.


@dataclass(frozen=True, slots=True)
class CheckedProject:
    """A project whose inputs passed every check, with its text parsed."""

    project: Project
    entries: tuple[Entry, ...]
    """The entries that go into the book, in book order."""
    texts: BookTexts
    """The book's own texts (introduction, part introductions, About the editor), parsed."""
    rejected: tuple[Rejected, ...] = ()
    """Contributions left out because of their errors (only with ``skip_invalid``)."""
    sources: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """slug → the hash an entry's checked record is kept under (see :func:`~anthology.cache.entry_key`)."""


@dataclass(frozen=True, slots=True)
class BuildResult:
    book: Book | None
    """The assembled book; None when nothing changed since the last build."""
    output: Path
    seconds: float
    report: Report
    skipped: tuple[Rejected, ...] = ()
    unchanged: bool = False
    cached_entries: int = 0
    """How many entries came from the cache instead of being laid out."""
    checked: CheckedProject | None = None
    """What the book was built from (None when nothing changed)."""
    edition: Edition | None = None
    """The EPUB edition, when it was asked for and built."""
    edition_output: Path | None = None
    """Where the EPUB was written (also when nothing changed)."""


def check_project(root: Path, skip_invalid: bool = False, layout: str | None = None, *,
                  cache: bool = True, jobs: int | None = None) -> tuple[CheckedProject | None, Report]:
    """Run every check on a project; the report lists all problems found.

    A contribution with errors is an error in the report, unless ``skip_invalid``
    is set: then it is left out and listed in ``CheckedProject.rejected``, and the
    report holds only what concerns the book as a whole. ``layout`` overrides
    the one anthology.yaml names. With ``cache`` a contribution whose files are
    unchanged since the last check is not read again (see :class:`_Checker`);
    many changed ones are checked in ``jobs`` worker processes.
    """
    from .assemble import BookTexts
    from .text import parse_markdown

    root = root.resolve()
    report = Report()
    checker = _Checker(RecordCache(root / CACHE_FOLDER if cache else None), jobs)
    project = validate_project(root, report, layout, checker)
    if project is None:
        return None, report
    book = project.book
    book_file = Position(book.root / "anthology.yaml")
    layout_in_use = project.layout

    def parsed(text: str, where: Position) -> tuple[Block, ...]:
        blocks = parse_markdown(text, where, report, book.language)
        check_drawn_glyphs(blocks, text, where, layout_in_use, report)
        warn_figures_outside_entries(blocks, where, report)
        return blocks

    texts = BookTexts(
        intro=parsed(book.intro, book.intro_position or book_file),
        about_editor=parsed(book.about_editor, book.about_editor_position or book_file),
        part_intros=tuple(parsed(part.intro, part.position or book_file) for part in book.parts),
    )
    entries: list[Entry] = []
    rejected = list(project.rejected)
    used: set[Path] = set()
    sources: dict[str, str] = {}
    for contribution in project.contributions:
        if contribution.source in checker.sources:
            sources[contribution.slug] = checker.sources[contribution.source]
        entry, own = checker.parsed.get(contribution.source) or _parse(contribution, book.limits, layout_in_use,
                                                                        book.language)
        used |= {contribution.source, contribution.body_position.path, *figure_files(entry.blocks)}
        if contribution.photo:
            used.add(contribution.photo.path)
        report.diagnostics += own.warnings
        if own.errors:
            rejected.append(Rejected(contribution.slug, contribution.source, tuple(own.errors)))
        else:
            entries.append(entry)
    warn_unused_files(book.root / "contributions", used, report)
    if not skip_invalid:
        report.diagnostics += [d for r in rejected for d in r.diagnostics]
    elif not entries:
        report.error(Position(book.root / "contributions"), "every contribution has errors; there is nothing to build",
                     "run 'anthology check' and fix at least one entry")
    return CheckedProject(project, tuple(entries), texts, tuple(sorted(rejected, key=lambda r: r.source)),
                          sources), report


def _parse(contribution: Contribution, limits: Limits, layout: Layout, language: str) -> tuple[Entry, Report]:
    """A checked contribution's body parsed, its figures loaded, every character checked as drawn."""
    from .text import parse_entry

    own = Report()
    entry = load_figures(parse_entry(contribution, own, language), limits, own)
    check_drawn_glyphs(entry.blocks, contribution.body, contribution.body_position, layout, own)
    return entry, own


@dataclass(frozen=True, slots=True)
class _Checked:
    """A contribution checked and its body parsed: what the record cache keeps."""

    contribution: Contribution | None
    report: Report
    """The contribution's own diagnostics from checking."""
    parsed: tuple[Entry, Report] | None
    """The parsed entry and the parser's diagnostics (None when checking failed)."""
    images: tuple[tuple[Path, str], ...] = ()
    """Each image file it uses (headshot, figures) with the SHA-256 it had then."""
    kept: bool = False
    """Whether it could be kept (no errors, every figure loaded, every image readable)."""


class _Checker:
    """A :data:`~anthology.validate.ContributionReader` that remembers what it checked.

    A record is keyed by the contribution's files (names, contents, whether they
    are links), the book and layout it is checked against and this program, so an
    edit re-checks only the edited entry; the images it uses are verified against
    the record (same resolved path, still no link, same bytes). Entries with errors,
    or with a figure that could not be loaded, are not kept: their problems are
    found afresh each time. Contributions not in the cache are checked in worker
    processes when there are many; each worker writes its own records.
    """

    def __init__(self, cache: RecordCache, jobs: int | None) -> None:
        self.cache, self.jobs = cache, jobs
        self.parsed: dict[Path, tuple[Entry, Report]] = {}
        self.sources: dict[Path, str] = {}
        """What each kept record stands for: its key and its images' hashes, hashed."""

    def __call__(self, folder: Path, items: list[tuple[Path, list[Path]]], printing: Any,
                 book: BookConfig | None, layout: Layout | None) -> list[tuple[Contribution | None, Report]]:
        if book is None or layout is None:  # the project itself has errors: report, nothing to parse or keep
            return [check_contribution(folder, path, bodies, printing) for path, bodies in items]
        shared = digest_of(printing, book.language, book.limits, layout) if self.cache.key else ""
        keys = [_contribution_key(path, bodies, printing.limits, shared) if shared else None for path, bodies in items]
        results: dict[int, _Checked] = {}
        for index, key in enumerate(keys):
            found = self.cache.get("checked", key) if key else None
            if isinstance(found, _Checked) and _images_unchanged(found.images, book.limits):
                results[index] = found
        todo = [i for i in range(len(items)) if i not in results]
        tasks = [(folder, *items[i], printing, book, layout, self.cache, keys[i]) for i in todo]
        for index, checked in zip(todo, _map(_check, tasks, self.jobs), strict=True):
            results[index] = checked
        out = []
        for index, (path, _) in enumerate(items):
            checked = results[index]
            if checked.parsed is not None:
                self.parsed[path] = checked.parsed
            if keys[index] and checked.kept:
                self.sources[path] = digest_of(keys[index], checked.images)
            out.append((checked.contribution, checked.report))
        return out


def _check(task: tuple[Path, Path, list[Path], Any, BookConfig, Layout, RecordCache, str | None]) -> _Checked:
    """Check and parse one contribution, in whichever process runs it, and keep the result."""
    folder, path, bodies, printing, book, layout, cache, key = task
    contribution, report = check_contribution(folder, path, bodies, printing)
    if contribution is None:
        return _Checked(None, report, None)
    entry, own = _parse(contribution, book.limits, layout, book.language)
    used = [contribution.photo] if contribution.photo else []
    loaded = all(figure.image is not None for figure in figures(entry.blocks))
    used += [figure.image for figure in figures(entry.blocks) if figure.image is not None]
    images = tuple((photo.path, _image_digest(photo.path, book.limits)) for photo in used)
    kept = loaded and not own.errors and all(digest for _, digest in images)
    checked = _Checked(contribution, report, (entry, own), images, kept)
    if key and kept:
        cache.put("checked", key, checked)
    return checked


def _contribution_key(path: Path, bodies: list[Path], limits: Limits, shared: str) -> str | None:
    """What checking a contribution depends on, hashed; None when its files cannot simply be read.

    ``shared`` is what every contribution is checked against (the limits, the book's
    language, the layout), hashed once per build.
    """
    parts: list[object] = [shared]
    for file in [path, *bodies]:
        try:
            regular = stat.S_ISREG(file.lstat().st_mode)  # a link is never opened, not even to be refused
        except OSError:
            return None
        data = read_bytes(file, Report(), limits.body_bytes + limits.metadata_bytes) if regular else None
        if data is None:
            return None  # a link, too big…: checked afresh, which reports it
        parts += [str(file), data]
    return digest_of(*parts)


def _images_unchanged(images: tuple[tuple[Path, str], ...], limits: Limits) -> bool:
    for path, digest in images:
        try:
            unmoved = path.resolve() == path
        except (OSError, RuntimeError):
            return False
        if not unmoved or _image_digest(path, limits) != digest:
            return False
    return True


def _image_digest(path: Path, limits: Limits) -> str:
    """SHA-256 of an image file; empty when it is not (or no longer) a regular file within the size cap."""
    data = read_bytes(path, Report(), limits.photo_bytes)
    return hashlib.sha256(data).hexdigest() if data is not None else ""


@dataclass(frozen=True, slots=True)
class LaidOut:
    """The entries that were laid out, their pieces (in the same order), and those that failed."""

    entries: tuple[Entry, ...]
    pieces: tuple[Piece, ...]
    failed: tuple[Rejected, ...] = ()
    """Entries whose layout raised: each with one error naming the entry, never a traceback."""


T = TypeVar("T")
R = TypeVar("R")

PARALLEL_FROM = 12
"""Below this many entries to render, starting worker processes costs more than it saves."""


def lay_out_entries(checked: CheckedProject, report: Report, *, fit: bool = False, cache: EntryCache | None = None,
                    jobs: int | None = None, progress: bool = False) -> LaidOut:
    """Lay out every entry (from the cache when it can); report those over the page budget.

    Entries not in the cache are laid out in worker processes, one per core
    (``jobs``), when there are enough of them; the result is the same, byte for
    byte, as laying them out one after another. An entry whose layout fails is
    returned in ``failed`` with an error against its file: one contributor's
    text never takes the whole book down.
    """
    from tqdm import tqdm

    layout, language = checked.project.layout, checked.project.book.language
    cache = cache or EntryCache(None)
    keys = [entry_key(entry, layout, language, fit, checked.sources.get(entry.contribution.slug))
            for entry in checked.entries]
    pieces: dict[int, Piece | str] = {}
    for index, key in enumerate(keys):
        found = cache.get(key)
        if found is not None:
            pieces[index] = found
    todo = [i for i in range(len(keys)) if i not in pieces]
    tasks = [(checked.entries[i], layout, language, fit, cache, keys[i]) for i in todo]
    with tqdm(total=len(keys), initial=len(pieces), unit="entry", desc="laying out", delay=1.0,
              disable=None if progress else True, file=sys.stderr, leave=False) as bar:
        for index, piece in zip(todo, _map(_lay_out, tasks, jobs), strict=True):
            pieces[index] = piece
            bar.update()
    cache.used.update(keys[i] for i in todo)  # kept by the workers: this build's records, not to be pruned
    entries, laid_out, failed = [], [], []
    for index, entry in enumerate(checked.entries):
        piece = pieces[index]
        if isinstance(piece, str):
            c = entry.contribution
            failed.append(Rejected(c.slug, c.source, (Diagnostic(
                c.body_position, "error", f"the entry '{c.slug}' could not be laid out: {piece}",
                "simplify the text around the construct named (or leave the entry out with --skip-invalid), "
                "and report it: this is a bug"),)))
            continue
        _report_budget(entry, piece, layout, fit, report)
        entries.append(entry)
        laid_out.append(piece)
    return LaidOut(tuple(entries), tuple(laid_out), tuple(failed))


def _die_with_parent(parent: int) -> None:
    """A worker must not outlive a killed build: on Linux the kernel kills it when its parent dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the line above ran
        os._exit(1)


def _lay_out(task: tuple[Entry, Layout, str, bool, EntryCache, str]) -> Piece | str:
    """One entry, in whichever process runs it (which also keeps it in the cache);
    a failure comes back as its message, never raised."""
    from .layout.entry import fit_entry, layout_entry

    entry, layout, language, fit, cache, key = task
    try:
        piece = fit_entry(entry, layout, language) if fit else layout_entry(entry, layout, language)
    except Exception as error:  # a ReportLab LayoutError, IndexError…: a diagnostic for this entry alone
        return f"{type(error).__name__}: {str(error)[:200]}"
    cache.put(key, piece)
    return piece


def _map(function: Callable[[T], R], tasks: list[T], jobs: int | None) -> Iterator[R]:
    """``function`` over ``tasks`` in order: in worker processes, one per core (``jobs``),
    when there are enough tasks to pay for starting them; the results are the same either way.

    The first task runs in this process before the workers fork: it imports and loads what
    every task needs (ReportLab, the fonts, hyphenation patterns, shaping memos) once, and
    the workers inherit it instead of each loading it again (a third more CPU with two workers).
    """
    workers = min(jobs or os.cpu_count() or 1, len(tasks) // (PARALLEL_FROM // 2) or 1)
    if multiprocessing.current_process().daemon:  # a Pool worker calling the library may have no children
        workers = 1
    if workers > 1 and len(tasks) >= PARALLEL_FROM:
        yield function(tasks[0])
        rest = tasks[1:]
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_die_with_parent,
                                 initargs=(os.getpid(),)) as pool:
            try:
                yield from pool.map(function, rest, chunksize=max(1, len(rest) // (workers * 8)))
            except BrokenProcessPool:
                raise AnthologyError("a worker process of the build ended unexpectedly (killed, or out of memory); "
                                     "nothing was written, build again (with -j 1 to use less memory)") from None
    else:
        yield from map(function, tasks)


def _report_budget(entry: Entry, piece: Piece, layout: Layout, fit: bool, report: Report) -> None:
    from .layout.entry import describe_overflow, overflow

    where = entry.contribution.body_position
    over = overflow(piece, layout)
    if piece.fit and over is None:
        report.warning(where, piece.fit, "the entry now fits its page budget")
    if over is not None:
        tried = ", even at the tightest settings the layout allows" if fit else ""
        report.warning(where, describe_overflow(*over, layout.entry_pages) + tried,
                       "shorten the entry" + ("" if fit else ", or build with --fit to tighten it"))


class _Assembler:
    """The book merged in a process of its own, forked before the project is checked.

    Merging holds the whole book in qpdf at once, the largest thing a build holds
    (about 250 MB at 2 000 entries). Forked while the build is still small, that
    process never holds the checked project, the pieces' layout, a ``-j 1``
    layout's memo tables or ReportLab's drawing of the contents, index and folios
    (see :class:`~anthology.assemble.Plan`), and the build's own process never
    holds the book's objects: the largest process of a build holds one of them.
    """

    def __init__(self) -> None:
        self._process: Any = None
        if multiprocessing.current_process().daemon:
            return  # a daemonic process (a Pool worker calling the library) may have no children: merged here
        context = multiprocessing.get_context("fork")
        self._connection, theirs = context.Pipe()
        self._process = context.Process(target=_merge_when_asked, args=(theirs, self._connection, os.getpid()),
                                        daemon=True)
        self._process.start()
        theirs.close()

    def __enter__(self) -> _Assembler:
        return self

    def __exit__(self, *_: object) -> None:
        """Closing the connection lets a process that was never asked end (the build stopped before assembly)."""
        if self._process is None:
            return
        self._connection.close()
        self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()

    def merge(self, plan: Plan) -> Book:
        """:func:`~anthology.assemble.merge` in the other process; its errors are raised here."""
        if self._process is None:
            from .assemble import merge

            return merge(plan)
        try:
            self._connection.send(plan)
            done, value = self._connection.recv()
        except (EOFError, OSError):
            raise AnthologyError("the book could not be assembled: the process assembling it ended unexpectedly "
                                 "(killed, or out of memory); nothing was written, build again") from None
        if not done:
            raise value
        return value  # type: ignore[no-any-return]


def _merge_when_asked(connection: Any, builds: Any, parent: int) -> None:
    """The merging process: one plan in, one answer out (the book, or the exception merging raised).

    ``builds`` is the build's end of the pipe, inherited by the fork: closed at once, or this process
    would hold the pipe open itself, never see the build close it and wait to be killed (5 s after a
    build stopped by an error), and block writing a book the interrupted build will not read.
    """
    builds.close()
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's to handle; this one ends with it
    from .assemble import merge

    try:
        plan = connection.recv()
    except EOFError:
        return  # the build stopped before assembly
    try:
        answer: tuple[bool, object] = (True, merge(plan))
    except MemoryError:
        answer = (False, AnthologyError("the book could not be assembled: the process assembling it ran out of "
                                        "memory; nothing was written, free some memory and build again"))
    except Exception as error:  # raised again in the build, as if merging had run there
        answer = (False, _as_sent(error))
    with contextlib.suppress(OSError):  # the build is gone (interrupted): nobody to answer
        connection.send(answer)


def _as_sent(error: Exception) -> Exception:
    """``error`` if the build can load it again, else a RuntimeError with its words: a local class cannot be
    pickled, and one whose ``__init__`` wants other arguments than its ``args`` pickles but fails to load,
    which stopped the build with a TypeError traceback from the pipe."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def _for_assembly(entry: Entry) -> Entry:
    """What assembly reads of an entry (names, titles, status, language): its text and headshot left out,
    so they are not copied to the merging process."""
    return Entry(dataclasses.replace(entry.contribution, body="", photo=None, positions={}), ())


def build_book(root: Path, output: Path | None = None, *, skip_invalid: bool = False, fit: bool = False,
               for_print: bool = False, layout: str | None = None, cache: bool = True, jobs: int | None = None,
               progress: bool = False, reuse: bool = True, final: bool = False,
               formats: tuple[str, ...] = ("pdf",)) -> BuildResult:
    """Check, lay out, assemble and write the book; raises ProjectError on input errors.

    With ``skip_invalid`` a contribution with errors is left out (and listed in
    the result) instead of stopping the build; ``fit`` tightens entries that run
    over the layout's page budget; ``for_print`` adds bleed and crop marks;
    ``layout`` builds with another layout than the one anthology.yaml names.
    With ``cache`` (the default) laid-out entries are kept in
    ``.anthology-cache/``, and a build whose inputs, options and program are
    byte for byte those of the last one, whose PDF is still in place, is
    skipped (``BuildResult.unchanged``) unless ``reuse`` is off. ``final`` refuses
    while any entry is not approved; other builds mark such entries' pages PROOF.
    ``formats`` names what is written: ``pdf``, ``epub`` or both. ``output`` names
    the PDF (or the EPUB when only that is asked for); with both, the EPUB goes
    beside the PDF with the suffix ``.epub``. The EPUB is made from the same
    entries, but the book is always assembled, since its page numbers are the PDF's.
    """
    started, since = time.perf_counter(), time.time()
    root = root.resolve()
    if output is not None:
        _refuse_an_input_as_output(root, output, output.with_suffix(".epub") if len(formats) > 1 else output)
    folder = root / CACHE_FOLDER if cache else None
    options = build_options(output, skip_invalid=skip_invalid, fit=fit, for_print=for_print, layout=layout,
                            final=final, formats=formats)
    record = read_record(folder)
    inputs = InputState(root, record, options) if folder else None
    digest = inputs.digest(options, program_fingerprint()) if inputs else ""
    previous = previous_outputs(record, digest, root, options) if reuse else None
    if previous:
        return BuildResult(None, previous[0], time.perf_counter() - started, Report(), unchanged=True,
                           edition_output=previous[-1] if "epub" in formats else None)
    from .assemble import plan  # imported before the fork: both processes use the module

    with _Assembler() as assembler:
        checked, report = check_project(root, skip_invalid, layout, cache=cache, jobs=jobs)
        if final and checked is not None:
            for entry in checked.entries:
                c = entry.contribution
                if c.status != "approved":
                    report.error(c.positions.get("status", Position(c.source)),
                                 f"'{c.slug}' is {c.status}, not approved",
                                 "approve it (anthology accept, or status: approved) before the final build")
        if checked is None or report.errors:
            raise ProjectError(report)
        book_config = checked.project.book
        entry_cache = EntryCache(folder)
        laid_out = lay_out_entries(checked, report, fit=fit, cache=entry_cache, jobs=jobs, progress=progress)
        if laid_out.failed:
            if not skip_invalid:
                report.diagnostics += [d for r in laid_out.failed for d in r.diagnostics]
                raise ProjectError(report)
            rejected = tuple(sorted(checked.rejected + laid_out.failed, key=lambda r: r.source))
            checked = dataclasses.replace(checked, entries=laid_out.entries, rejected=rejected)
            if not checked.entries:
                report.error(Position(book_config.root / "contributions"),
                             "no entry could be laid out; nothing to build",
                             "run 'anthology check --layout' and fix at least one entry")
                raise ProjectError(report)
        entry_cache.prune()
        records = RecordCache(folder)
        book = assembler.merge(plan(book_config, checked.project.layout, checked.texts,
                                    tuple(_for_assembly(entry) for entry in checked.entries), laid_out.pieces,
                                    for_print=for_print, cache=records))
    records.prune(since)
    pdf_target = default_output(book_config.root, book_config.title)
    written: dict[Path, bytes] = {}
    if "pdf" in formats:
        pdf_target = output or pdf_target
        written[pdf_target] = book.pdf
    edition = edition_target = None
    if "epub" in formats:
        from .epub import make_epub

        edition = make_epub(book_config, checked.project.layout, checked.texts, checked.entries, book)
        edition_target = pdf_target.with_suffix(".epub") if "pdf" in formats or not output else output
        written[edition_target] = edition.data
    for target, data in written.items():
        write_atomically(target, data)
    if folder and inputs:
        remember_build(folder, options, inputs, digest, written,
                       [str(r.source.relative_to(root)) if r.source.is_relative_to(root) else str(r.source)
                        for r in checked.rejected], len(report.warnings))
    return BuildResult(book, next(iter(written)), time.perf_counter() - started, report, checked.rejected,
                       cached_entries=entry_cache.hits, checked=checked, edition=edition,
                       edition_output=edition_target)


def _refuse_an_input_as_output(root: Path, *targets: Path) -> None:
    """``-o`` never names a file the book is made from (``-o contributions/ada.md`` wrote the PDF over an entry):
    nothing is written inside contributions/ or layouts/, and no existing project file but a PDF or EPUB is replaced."""
    for target in targets:
        path = target.resolve()
        inside = path.is_relative_to(root / "contributions") or path.is_relative_to(root / "layouts")
        if inside or (path.is_relative_to(root) and path.exists() and path.suffix.lower() not in (".pdf", ".epub")):
            raise AnthologyError(f"{target}: is one of the project's inputs (or inside contributions/ or layouts/), "
                                 "not written; name a .pdf file outside them with -o, or leave -o out for dist/")


def default_output(root: Path, title: str) -> Path:
    """``dist/<slugified title>.pdf`` inside the project."""
    return root / "dist" / f"{slugify(title) or 'anthology'}.pdf"


def slugify(text: str) -> str:
    """'Łukasz Wróbel' → 'lukasz-wrobel': ASCII letters and digits joined by hyphens."""
    from .assemble import LATIN_FOLD

    ascii_text = unicodedata.normalize("NFKD", text.translate(LATIN_FOLD)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
