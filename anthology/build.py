"""The pipeline in one place: load and validate → parse text → lay out → assemble → publish."""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .assemble import assemble
from .diagnostics import Report
from .errors import ProjectError
from .layout.entry import layout_entry
from .model import Block, Book, Entry, Position
from .publish import write_atomically
from .text import parse_entry, parse_markdown
from .validate import Project, Rejected, validate_project


@dataclass(frozen=True, slots=True)
class CheckedProject:
    """A project whose inputs passed every check, with its text parsed."""

    project: Project
    entries: tuple[Entry, ...]
    """The entries that go into the book, in book order."""
    intro: tuple[Block, ...]
    rejected: tuple[Rejected, ...] = ()
    """Contributions left out because of their errors (only with ``skip_invalid``)."""


@dataclass(frozen=True, slots=True)
class BuildResult:
    book: Book
    output: Path
    seconds: float
    report: Report
    skipped: tuple[Rejected, ...] = ()


def check_project(root: Path, skip_invalid: bool = False) -> tuple[CheckedProject | None, Report]:
    """Run every check on a project; the report lists all problems found.

    A contribution with errors is an error in the report, unless ``skip_invalid``
    is set: then it is left out and listed in ``CheckedProject.rejected``, and the
    report holds only what concerns the book as a whole.
    """
    report = Report()
    project = validate_project(root, report)
    if project is None:
        return None, report
    book = project.book
    intro_position = book.intro_position or Position(book.root / "anthology.yaml")
    intro = parse_markdown(book.intro, intro_position, report)
    entries: list[Entry] = []
    rejected = list(project.rejected)
    for contribution in project.contributions:
        own = Report()
        entry = parse_entry(contribution, own)
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
    return CheckedProject(project, tuple(entries), intro, tuple(sorted(rejected, key=lambda r: r.source))), report


def build_book(root: Path, output: Path | None = None, *, skip_invalid: bool = False) -> BuildResult:
    """Check, lay out, assemble and write the book; raises ProjectError on input errors.

    With ``skip_invalid`` a contribution with errors is left out (and listed in
    the result) instead of stopping the build.
    """
    started = time.perf_counter()
    checked, report = check_project(root, skip_invalid)
    if checked is None or report.errors:
        raise ProjectError(report)
    book_config, layout = checked.project.book, checked.project.layout
    laid_out = [layout_entry(entry, layout, book_config.language) for entry in checked.entries]
    book = assemble(book_config, layout, checked.intro, checked.entries, laid_out)
    target = output or default_output(book_config.root, book_config.title)
    write_atomically(target, book.pdf)
    return BuildResult(book, target, time.perf_counter() - started, report, checked.rejected)


def default_output(root: Path, title: str) -> Path:
    """``dist/<slugified title>.pdf`` inside the project."""
    return root / "dist" / f"{slugify(title) or 'anthology'}.pdf"


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
