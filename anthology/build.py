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
from .validate import Project, validate_project


@dataclass(frozen=True, slots=True)
class CheckedProject:
    """A project whose inputs passed every check, with its text parsed."""

    project: Project
    entries: tuple[Entry, ...]
    intro: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class BuildResult:
    book: Book
    output: Path
    seconds: float
    report: Report


def check_project(root: Path) -> tuple[CheckedProject | None, Report]:
    """Run every check on a project; the report lists all problems found."""
    report = Report()
    project = validate_project(root, report)
    if project is None:
        return None, report
    book = project.book
    intro_position = book.intro_position or Position(book.root / "anthology.yaml")
    intro = parse_markdown(book.intro, intro_position, report)
    entries = tuple(parse_entry(c, report) for c in project.contributions)
    return CheckedProject(project, entries, intro), report


def build_book(root: Path, output: Path | None = None) -> BuildResult:
    """Check, lay out, assemble and write the book; raises ProjectError on input errors."""
    started = time.perf_counter()
    checked, report = check_project(root)
    if checked is None or report.errors:
        raise ProjectError(report)
    book_config, layout = checked.project.book, checked.project.layout
    laid_out = [layout_entry(entry, layout, book_config.language) for entry in checked.entries]
    book = assemble(book_config, layout, checked.intro, checked.entries, laid_out)
    target = output or default_output(book_config.root, book_config.title)
    write_atomically(target, book.pdf)
    return BuildResult(book, target, time.perf_counter() - started, report)


def default_output(root: Path, title: str) -> Path:
    """``dist/<slugified title>.pdf`` inside the project."""
    return root / "dist" / f"{slugify(title) or 'anthology'}.pdf"


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
