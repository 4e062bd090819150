"""The pipeline in one place: load and validate → parse text → lay out → assemble → publish."""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .assemble import BookTexts, assemble
from .diagnostics import Report
from .errors import ProjectError
from .layout.entry import describe_overflow, fit_entry, layout_entry, overflow
from .model import Book, Entry, Piece, Position
from .publish import write_atomically
from .text import parse_entry, parse_markdown
from .validate import Project, Rejected, validate_project


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


@dataclass(frozen=True, slots=True)
class BuildResult:
    book: Book
    output: Path
    seconds: float
    report: Report
    skipped: tuple[Rejected, ...] = ()


def check_project(root: Path, skip_invalid: bool = False,
                  layout: str | None = None) -> tuple[CheckedProject | None, Report]:
    """Run every check on a project; the report lists all problems found.

    A contribution with errors is an error in the report, unless ``skip_invalid``
    is set: then it is left out and listed in ``CheckedProject.rejected``, and the
    report holds only what concerns the book as a whole. ``layout`` overrides
    the one anthology.yaml names.
    """
    report = Report()
    project = validate_project(root, report, layout)
    if project is None:
        return None, report
    book = project.book
    book_file = Position(book.root / "anthology.yaml")
    texts = BookTexts(
        intro=parse_markdown(book.intro, book.intro_position or book_file, report, book.language),
        about_editor=parse_markdown(book.about_editor, book.about_editor_position or book_file, report,
                                    book.language),
        part_intros=tuple(parse_markdown(part.intro, part.position or book_file, report, book.language)
                          for part in book.parts),
    )
    entries: list[Entry] = []
    rejected = list(project.rejected)
    for contribution in project.contributions:
        own = Report()
        entry = parse_entry(contribution, own, book.language)
        report.diagnostics += own.warnings
        if own.errors:
            rejected.append(Rejected(contribution.slug, contribution.source, tuple(own.errors)))
        else:
            entries.append(entry)
    if not skip_invalid:
        report.diagnostics += [d for r in rejected for d in r.diagnostics]
    elif not entries:
        report.error(Position(book.root / "contributions"), "every contribution has errors; there is nothing to build",
                     "run 'anthology check' and fix at least one entry")
    return CheckedProject(project, tuple(entries), texts, tuple(sorted(rejected, key=lambda r: r.source))), report


def lay_out_entries(checked: CheckedProject, report: Report, *, fit: bool = False) -> list[Piece]:
    """Lay out every entry; report those over the layout's page budget (and what ``fit`` did)."""
    layout, language = checked.project.layout, checked.project.book.language
    pieces = []
    for entry in checked.entries:
        piece = fit_entry(entry, layout, language) if fit else layout_entry(entry, layout, language)
        where = entry.contribution.body_position
        if piece.fit and overflow(piece, layout) is None:
            report.warning(where, piece.fit, "the entry now fits its page budget")
        over = overflow(piece, layout)
        if over is not None:
            tried = ", even at the tightest settings the layout allows" if fit else ""
            report.warning(where, describe_overflow(*over, layout.entry_pages) + tried,
                           "shorten the entry" + ("" if fit else ", or build with --fit to tighten it"))
        pieces.append(piece)
    return pieces


def build_book(root: Path, output: Path | None = None, *, skip_invalid: bool = False, fit: bool = False,
               for_print: bool = False, layout: str | None = None) -> BuildResult:
    """Check, lay out, assemble and write the book; raises ProjectError on input errors.

    With ``skip_invalid`` a contribution with errors is left out (and listed in
    the result) instead of stopping the build; ``fit`` tightens entries that run
    over the layout's page budget; ``for_print`` adds bleed and crop marks;
    ``layout`` builds with another layout than the one anthology.yaml names.
    """
    started = time.perf_counter()
    checked, report = check_project(root, skip_invalid, layout)
    if checked is None or report.errors:
        raise ProjectError(report)
    book_config = checked.project.book
    laid_out = lay_out_entries(checked, report, fit=fit)
    book = assemble(book_config, checked.project.layout, checked.texts, checked.entries, laid_out,
                    for_print=for_print)
    target = output or default_output(book_config.root, book_config.title)
    write_atomically(target, book.pdf)
    return BuildResult(book, target, time.perf_counter() - started, report, checked.rejected)


def default_output(root: Path, title: str) -> Path:
    """``dist/<slugified title>.pdf`` inside the project."""
    return root / "dist" / f"{slugify(title) or 'anthology'}.pdf"


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
