"""Stage 2: turn the project's files into typed values, reporting every problem.

``validate_project`` reads ``anthology.yaml``, every contribution and the
chosen layout, checks each field against :mod:`anthology.schema`, and checks
what crosses files: duplicate ``order`` values, an ``order`` list naming
unknown slugs, photos that are missing, not JPEG/PNG, or outside
``contributions/``. It never stops at the first problem, and it never opens a
file outside the project because an input named it: paths are checked
lexically and after resolving symlinks before anything is opened.

Each contribution is judged on its own: one with errors is *rejected* (kept
with its diagnostics) rather than sinking the others, so the editor can choose
to build without it (``build --skip-invalid``).
"""

from __future__ import annotations

import dataclasses
import html.entities
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import schema, words
from .diagnostics import Diagnostic, Report, did_you_mean
from .fonts import FAMILIES, family_label, missing_glyphs, undrawable
from .load import MAX_YAML_BYTES, Node, parse_yaml, read_bytes, read_text, split_front_matter
from .model import (
    Block,
    BookConfig,
    CodeBlock,
    Contribution,
    Entry,
    Figure,
    Heading,
    Layout,
    Limits,
    ListBlock,
    Notes,
    Paragraph,
    Part,
    Photo,
    Position,
    Quote,
    Span,
    Submissions,
    Table,
)
from .photos import PhotoProblem, check_photo
from .words import LANGUAGES, Words

BUILTIN_LAYOUTS = Path(__file__).parent / "layouts"
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png"}
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}
"""Characters that reorder text; they are removed from bodies (names and titles drop them in :mod:`schema`)."""
BIDI = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
"""C0 and C1 control characters except tab and newline, and lone surrogates (Unicode categories Cc, Cs)."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """A contribution that cannot go into the book, with every error that keeps it out."""

    slug: str
    source: Path
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True, slots=True)
class Project:
    """Everything the later stages need, validated."""

    book: BookConfig
    layout: Layout
    contributions: tuple[Contribution, ...]
    """The valid contributions, in book order."""
    rejected: tuple[Rejected, ...] = ()
    """Contributions with errors; their diagnostics are not in the project report."""


ContributionReader = Callable[[Path, list[tuple[Path, list[Path]]], "_Printing", "BookConfig | None", "Layout | None"],
                              list[tuple["Contribution | None", Report]]]
"""Checks contribution files: given the folder, each entry's main file with its body files,
what they are checked against, the book and the layout (None when they have errors), it
returns each one's contribution (None when it has errors) and its own report. Built in:
:func:`read_contributions`; ``build`` passes one that reuses earlier results."""


def validate_project(root: Path, report: Report, layout_name: str | None = None,
                     reader: ContributionReader | None = None) -> Project | None:
    """Check a whole project; None when the book or layout itself has errors.

    Errors in a contribution go into its :class:`Rejected` record, not ``report``;
    the caller decides whether they stop the build. ``layout_name`` overrides
    the layout that anthology.yaml names. ``reader`` checks the contribution
    files (by default one after another, from scratch); the checks across
    entries (order, sections) always run here, on its results.
    """
    root = root.resolve()
    book, layout = _read_book(root, report, layout_name)
    printing = _Printing.of(book.limits if book else Limits(), layout)
    contributions, rejected = _read_contributions(root, printing, book, layout, report, reader or read_contributions)
    if book is None or layout is None or report.errors:
        report.diagnostics += [d for r in rejected for d in r.diagnostics]
        return None
    ordered = _order(book, contributions, {r.slug for r in rejected}, report)
    if report.errors:
        return None
    return Project(book, layout, ordered, tuple(rejected))


def check_contribution_file(root: Path, path: Path, report: Report) -> tuple[Contribution | None, Layout | None]:
    """Check one contribution file that lives outside ``contributions/`` (a submission in the inbox).

    It is judged exactly as ``check`` would judge it in the book: by the project's
    limits and layout. Its photo must lie in the submission's own folder.
    """
    book, layout = _read_book(root.resolve(), Report(), None)
    printing = _Printing.of(book.limits if book else Limits(), layout)
    bodies = sorted(p for p in path.parent.iterdir() if p.stem == path.stem and p.suffix.lower() in BODY_SUFFIXES)
    return _read_contribution(path.parent, path, bodies, printing, report), layout


# anthology.yaml ------------------------------------------------------------


def read_book(root: Path) -> tuple[BookConfig | None, Layout | None]:
    """The book's settings and layout alone, without reading any entry (None where they have errors)."""
    report = Report()
    book, layout = _read_book(root.resolve(), report, None)
    return (None, None) if report.errors else (book, layout)


def _read_book(root: Path, report: Report, layout_name: str | None) -> tuple[BookConfig | None, Layout | None]:
    """anthology.yaml and the layout it names (the layout decides which characters can be printed)."""
    path = root / "anthology.yaml"
    if not path.is_file():
        report.error(Position(path), "no anthology.yaml in the project folder",
                     "start a book here with `anthology init`, or run the command in the project folder")
        return None, read_layout(root, layout_name or "perspectives", Report())
    source = read_text(path, report, MAX_YAML_BYTES, "anthology.yaml")
    node = parse_yaml(source.text, path, report) if source.text is not None else None
    sections = [s.name for s in schema.BOOK_SECTIONS] + [schema.BOOK_PARTS.name]
    values = _check_mapping(node, schema.BOOK_FIELDS, path, report, extra=sections)
    written = (values or {}).get("layout")
    layout = read_layout(root, layout_name or (written or ("perspectives", None))[0], report,
                         None if layout_name or not written else written[1])
    layout_name = layout_name or (written or ("perspectives", None))[0]
    if values is None or "title" not in values:
        return None, layout
    values["layout"] = (layout_name, values.get("layout", (None, Position(path)))[1])
    assert node is not None and isinstance(node.value, dict)
    limits = Limits()
    if "limits" in node.value:
        checked = _check_mapping(node.value["limits"], schema.LIMIT_FIELDS, path, report)
        limits = Limits(**{key: value for key, (value, _) in (checked or {}).items()})
    submissions = Submissions()
    if "submissions" in node.value:
        checked = _check_mapping(node.value["submissions"], schema.SUBMISSION_FIELDS, path, report)
        submissions = Submissions(**{key: value for key, (value, _) in (checked or {}).items()})
    printing = _Printing.of(limits, layout)
    book_words = _read_words(node.value.get("words"), values.get("language"), path, printing, report)
    parts = _read_parts(node.value.get("sections"), path, printing, report)
    printing.check_fields(values, report)
    texts: dict[str, Any] = {}
    for key in ("intro", "about_editor"):
        text, position = values.pop(key, ("", None))
        if text and "\n" not in text.strip() and text.strip().endswith(".md"):
            text, position = _read_markdown_file(root, text.strip(), position, key, printing, report)
        elif text and re.fullmatch(r"[\w./-]+\.[A-Za-z]\w{0,4}", text.strip()):  # a file name, not a text
            report.error(position, f"{key} '{text.strip()}' looks like a file name, but only .md files are read"
                                   f"{_nearest_file(root / text.strip(), '.md')}",
                         "name a Markdown file ending in .md, or write the text itself")
        texts |= {key: text, f"{key}_position": position}
    plain = {key: value for key, (value, _) in values.items()}
    return BookConfig(root=root, limits=limits, parts=parts, submissions=submissions, words=book_words, **texts,
                      **plain), layout


def _read_words(node: Node | None, language: tuple[str, Position] | None, path: Path, printing: _Printing,
                report: Report) -> Words:
    """The book's fixed words; one warning when some fall back to English.

    An override must fill in only the fields its English word has (``{page}``, ``{n}``),
    be a plain line for a plain word, and be printable by the layout's fonts.
    """
    checked = _check_mapping(node, schema.WORD_FIELDS, path, report) if node is not None else {}
    overrides = {}
    for key, (value, position) in (checked or {}).items():
        forms = value.values() if isinstance(value, dict) else [value]
        if isinstance(value, dict) and not words.counted(key):
            report.error(position, f"words: '{key}' is one line of text, not a list of plural forms",
                         f"write {key}: \"…\"")
            continue
        allowed = words.fields(key)
        try:
            wrong = sorted({f for form in forms for f in words.fields_of(form)} - allowed)
        except ValueError:
            wrong = ["a stray brace"]
        if wrong:
            report.error(position, f"words: '{key}' uses {', '.join(wrong)}, which it cannot fill in",
                         f"it may use {', '.join('{' + f + '}' for f in sorted(allowed)) or 'no {fields}'}; "
                         "write {{ and }} for a literal brace")
            continue
        for form in forms:
            printing.check_fields({f"words: {key}": (form, position)}, report)
        overrides[key] = value
    code, where = language or ("en", Position(path))
    book_words = Words.of(code, overrides)
    if book_words.missing:
        shown = ", ".join(book_words.missing[:6]) + (", …" if len(book_words.missing) > 6 else "")
        report.warning(where, f"no word table for the language '{code}': {len(book_words.missing)} fixed words "
                              f"({shown}) are printed in English",
                       f"give them under words: in anthology.yaml, or use one of {', '.join(sorted(LANGUAGES))}")
    return book_words


def _read_parts(node: Node | None, path: Path, printing: _Printing, report: Report) -> tuple[Part, ...]:
    if node is None:
        return ()
    if not isinstance(node.value, list):
        report.error(node.position, "'sections' must be a list of parts",
                     "write '- title: …' lines, each with an 'entries:' list")
        return ()
    parts = []
    for item in node.value:
        checked = _check_mapping(item, schema.SECTION_FIELDS, path, report)
        if checked and {"title", "entries"} <= checked.keys():
            printing.check_fields(checked, report)
            parts.append(Part(checked["title"][0], checked["entries"][0],
                              checked.get("intro", ("", None))[0], item.position))
    return tuple(parts)


def _read_markdown_file(root: Path, name: str, position: Position, key: str, printing: _Printing,
                        report: Report) -> tuple[str, Position]:
    path = resolve_inside(root, name, position, report, key)
    if path is None:
        return "", position
    source = read_text(path, report, MAX_YAML_BYTES, key.replace("_", " "))
    text = printing.check_body(source.text, Position(path), key.replace("_", " "), report) if source.text else ""
    return text, Position(path)


# contributions -------------------------------------------------------------


METADATA_SUFFIXES = (".yaml", ".yml")
BODY_SUFFIXES = (".md", ".markdown")
"""Contribution file endings, in any letter case (``bob.YAML`` + ``bob.MD`` is an entry)."""


def _read_contributions(root: Path, printing: _Printing, book: BookConfig | None, layout: Layout | None,
                        report: Report, reader: ContributionReader) -> tuple[list[Contribution], list[Rejected]]:
    folder = root / "contributions"
    if not folder.is_dir():
        report.error(Position(root / "anthology.yaml"), "no contributions/ folder in the project",
                     "create contributions/ and put one <slug>.yaml + <slug>.md per entry in it")
        return [], []
    files = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    metadata = {p.stem: p for p in files if p.suffix.lower() in METADATA_SUFFIXES}
    bodies: dict[str, list[Path]] = {}
    for p in files:
        if p.suffix.lower() in BODY_SUFFIXES:
            bodies.setdefault(p.stem, []).append(p)
    found: list[Contribution] = []
    rejected: list[Rejected] = []
    items = [(path, bodies.get(path.stem, [])) for path in files
             if path.suffix.lower() in METADATA_SUFFIXES + BODY_SUFFIXES
             and not (path.suffix.lower() in BODY_SUFFIXES and path.stem in metadata)]
    for (path, _), (entry, own) in zip(items, reader(folder, items, printing, book, layout), strict=True):
        report.diagnostics += own.warnings
        if own.errors or entry is None:
            rejected.append(Rejected(path.stem, path, tuple(own.errors)))
        else:
            found.append(entry)
    for path in (p for p in files if p.suffix.lower() in METADATA_SUFFIXES and metadata[p.stem] != p):
        report.error(Position(path), f"two metadata files for '{path.stem}'",
                     f"keep one of {metadata[path.stem].name} and {path.name}")
    if not found and not rejected:
        report.error(Position(folder), "contributions/ holds no entries",
                     "add <slug>.yaml with <slug>.md, or <slug>.md with front matter")
    return found, rejected


def warn_unused_files(folder: Path, used: set[Path], report: Report) -> None:
    """Every file in ``contributions/`` that no entry uses gets a warning: nothing there is ignored silently."""
    if not folder.is_dir():
        return
    paths = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    contribution_files = {p for p in paths if p.suffix.lower() in METADATA_SUFFIXES + BODY_SUFFIXES}
    # Contribution files were read above, with their own diagnostics. Paths are compared as
    # listed first; only the few left are resolved (a large book has thousands of files here).
    unused = [p for p in paths if p not in used and p not in contribution_files]
    if unused:
        resolved = {p.resolve() for p in used}
        unused = [p for p in unused if p.resolve() not in resolved]
    named: bytes | None = None
    for path in unused:
        if path.suffix.lower() in PHOTO_SUFFIXES:
            if named is None:  # an entry with errors still names its photo: that file is not forgotten
                named = b"\n".join(_small_file(p) for p in sorted(contribution_files))
            if path.name.encode() in named:
                continue
        kind = "folder" if path.is_dir() else "file"
        report.warning(Position(path), f"the {kind} '{path.name}' in contributions/ is not used by any entry",
                       "entries are <slug>.yaml + <slug>.md (or .markdown), or <slug>.md with front matter; "
                       "photos and figures are used when an entry names them; move anything else out")


def _small_file(path: Path) -> bytes:
    """A contribution file's bytes for a name search; nothing for links, devices and huge files."""
    try:
        info = path.lstat()
        if stat.S_ISREG(info.st_mode) and info.st_size <= 2 * 1024 * 1024:
            return path.read_bytes()
    except OSError:
        pass
    return b""


def read_contributions(folder: Path, items: list[tuple[Path, list[Path]]], printing: _Printing,
                       book: BookConfig | None, layout: Layout | None) -> list[tuple[Contribution | None, Report]]:
    """The plain :data:`ContributionReader`: every file checked afresh, one after another."""
    return [check_contribution(folder, path, bodies, printing) for path, bodies in items]


def check_contribution(folder: Path, path: Path, bodies: list[Path],
                       printing: _Printing) -> tuple[Contribution | None, Report]:
    """One contribution on its own: the contribution (None when it has errors) and its report."""
    own = Report()
    contribution = _read_contribution(folder, path, bodies, printing, own)
    return (None if own.errors else contribution), own


def _read_contribution(folder: Path, path: Path, bodies: list[Path], printing: _Printing,
                       report: Report) -> Contribution | None:
    if path.is_symlink():
        report.error(Position(path), "contribution files may not be symbolic links",
                     "copy the file into contributions/ instead")
        return None
    if path.suffix.lower() in METADATA_SUFFIXES:
        if len(bodies) > 1:
            report.error(Position(path), f"more than one body for '{path.stem}': "
                         + ", ".join(b.name for b in bodies), "keep one of them")
            return None
        return _read_pair(folder, path, bodies[0] if bodies else path.with_suffix(".md"), printing, report)
    return _read_front_matter(folder, path, printing, report)


def _read_pair(folder: Path, path: Path, body_path: Path, printing: _Printing, report: Report) -> Contribution | None:
    limits = printing.limits
    source = read_text(path, report, limits.metadata_bytes, "contribution metadata", "metadata_bytes")
    if body_path.is_symlink():
        report.error(Position(body_path), "contribution files may not be symbolic links",
                     "copy the file into contributions/ instead")
        body = None
    elif not body_path.exists():
        report.error(Position(path), f"no body file {body_path.name} next to {path.name}",
                     f"write the entry's text in contributions/{body_path.name}")
        body = None
    else:
        body = read_text(body_path, report, limits.body_bytes, "contribution body", "body_bytes").text
    if source.text is None:
        return None
    node = parse_yaml(source.text, path, report, limit=limits.metadata_bytes)
    return _contribution(folder, path, node, body, Position(body_path), printing, report)


def _read_front_matter(folder: Path, path: Path, printing: _Printing, report: Report) -> Contribution | None:
    limits = printing.limits
    source = read_text(path, report, limits.body_bytes + limits.metadata_bytes, "contribution", "body_bytes")
    if source.text is None:
        return None
    parts = split_front_matter(source.text)
    if parts is None:
        report.error(Position(path), "no metadata for this entry",
                     f"start the file with a '---' fenced YAML block, or add {path.stem}.yaml")
        return None
    yaml_text, body, body_line = parts
    node = parse_yaml(yaml_text, path, report, first_line=2, limit=limits.metadata_bytes)
    return _contribution(folder, path, node, body, Position(path, body_line), printing, report)


def _contribution(folder: Path, path: Path, node: Node | None, body: str | None,
                  body_position: Position, printing: _Printing, report: Report) -> Contribution | None:
    slug = path.stem
    if not SLUG.fullmatch(slug):
        suggestion = re.sub(r"[^a-z0-9]+", "-", slug.lower()).strip("-") or "entry"
        report.error(Position(path), f"'{slug}' is not a valid slug (lower-case letters, digits, '-')",
                     f"rename the file to {suggestion}{path.suffix}")
    if node is not None and node.value is None:
        report.error(node.position, "the metadata is empty", "write at least 'name:' and 'title:' lines")
        return None
    values = _check_mapping(node, schema.CONTRIBUTION_FIELDS, path, report)
    if body is not None and not body.strip():
        report.error(body_position, "the entry's body is empty", "write the text of the entry")
    photo = None
    if values is not None and "photo" in values:  # checked whatever else is wrong: every problem in one pass
        name, position = values["photo"]
        photo = _check_photo(folder, name, position, printing, report)
    if values is None or body is None or not {"name", "title"} <= values.keys():
        return None
    body = printing.check_body(body, body_position, "body", report)
    printing.check_fields(values, report)
    positions = {key: position for key, (_, position) in values.items()}
    values.pop("photo", None)
    plain = {key: value for key, (value, _) in values.items()}
    return Contribution(slug=slug, body=body, body_position=body_position, photo=photo,
                        source=path, positions=positions, **plain)


def _check_photo(folder: Path, name: str, position: Position, printing: _Printing, report: Report) -> Photo | None:
    limits = printing.limits
    path = resolve_inside(folder, name, position, report, "photo", "contributions/")
    if path is None:
        return None
    if path.suffix.lower() not in PHOTO_SUFFIXES:
        report.error(position, f"photo '{name}' is not a .jpg, .jpeg or .png file",
                     "convert the headshot to JPEG or PNG")
        return None
    data = read_bytes(path, report, limits.photo_bytes, f"photo '{name}'", position, "photo_bytes")
    if data is None:
        return None
    try:
        checked = check_photo(data, limits.photo_megapixels)
    except PhotoProblem as problem:
        report.error(position, f"photo '{name}' {problem}", problem.hint)
        return None
    printing.check_resolution(name, checked.original_size, position, report)
    return Photo(path, position, checked.jpeg, checked.original_size)


# characters and print quality -----------------------------------------------

_UNPRINTED = {"photo", "photo_focus", "order", "sort_as", "status", "layout", "language", "entries"}


@dataclass(frozen=True, slots=True)
class _Printing:
    """What a contribution is checked against: the size caps and how the layout will print it."""

    limits: Limits
    chains: tuple[tuple[str, tuple[str, ...]], ...]
    """(family, fallbacks) for each font role of the layout; every printed field must fit all."""
    photo_size: float = 0.0
    min_photo_dpi: int = 0

    @classmethod
    def of(cls, limits: Limits, layout: Layout | None) -> _Printing:
        if layout is None:  # the layout has errors of its own: judge by every font there is
            return cls(limits, tuple((family, tuple(FAMILIES)) for family in FAMILIES))
        roles = dict.fromkeys((layout.body_font, layout.heading_font, layout.caption_font))
        return cls(limits, tuple((family, layout.fallback_fonts) for family in roles),
                   layout.photo_size, layout.min_photo_dpi)

    def check_body(self, text: str, start: Position, what: str, report: Report) -> str:
        """Reject control characters, refuse right-to-left text, drop bidi controls; positions are exact."""
        control = CONTROL.search(text)
        if control:
            report.error(_offset(start, text, control.start()),
                         f"the {what} contains the control character U+{ord(control[0]):04X}",
                         "delete it; it is invisible and cannot be printed")
            return text
        hidden = next((i for i, c in enumerate(text) if c in BIDI_CONTROLS), None) if BIDI.search(text) else None
        if hidden is not None:
            report.warning(_offset(start, text, hidden),
                           f"direction-control characters (U+{ord(text[hidden]):04X}, …) removed from the {what}",
                           "they would reorder the printed text; delete them")
            text = "".join(c for c in text if c not in BIDI_CONTROLS)
        self._check_printable(what, text, start, report, text)
        return text

    def check_fields(self, values: dict[str, tuple[Any, Position]], report: Report) -> None:
        for key, (value, position) in values.items():
            if isinstance(value, str) and key not in _UNPRINTED:
                self._check_printable(key, value, position, report)

    def _check_printable(self, key: str, value: str, position: Position, report: Report,
                         source: str | None = None) -> None:
        """Every character must be drawable left to right: never a silent box, never reversed text.

        ``source`` is the text ``position`` starts (a body), so the error can point at
        the exact line and column of the first bad character.
        """
        rtl = [c for c in dict.fromkeys(value) if unicodedata.bidirectional(c) in ("R", "AL")]
        if rtl:
            report.error(_where(position, source, value.index(rtl[0])),
                         f"{key} contains right-to-left text ({_listed(rtl)}), which this version cannot set",
                         "the layout engine would print it in reverse order; send a transliteration instead")
            return
        chains = self.chains[:1] if source is not None else self.chains  # a body is set in the body font
        lacking = {family: missing_glyphs(value, family, fallbacks) for family, fallbacks in chains}
        missing = sorted(set().union(*lacking.values()), key=value.index)
        if missing:
            fonts = " or ".join(family_label(f) for f, chars in lacking.items() if chars)
            report.error(_where(position, source, value.index(missing[0])),
                         f"{_listed(missing)} in {key} cannot be drawn by {fonts}; add a fallback font",
                         "name a family that has it under fonts: fallback in the layout, or replace the character")

    def check_resolution(self, name: str, size: tuple[int, int], position: Position, report: Report) -> None:
        """Warn when a headshot would print below the layout's resolution at its printed size."""
        if not self.photo_size or not self.min_photo_dpi:
            return
        inches = self.photo_size / 72
        dpi = min(size) / inches
        if dpi < self.min_photo_dpi:
            needed = round(self.min_photo_dpi * inches)
            report.warning(position, f"photo '{name}' is {size[0]}×{size[1]} pixels: {dpi:.0f} dpi at "
                           f"{inches:.2f} in, under the layout's {self.min_photo_dpi} dpi",
                           f"send a photo of at least {needed}×{needed} pixels, or it will print soft")


def _listed(chars: list[str], most: int = 5) -> str:
    shown = ", ".join(f"'{c}' (U+{ord(c):04X})" for c in chars[:most])
    return shown + (f" and {len(chars) - most} more" if len(chars) > most else "")


def _where(position: Position, source: str | None, index: int) -> Position:
    return _offset(position, source, index) if source is not None else position


def _offset(start: Position, text: str, index: int) -> Position:
    """The file position of ``text[index]`` when ``text`` begins at ``start``."""
    before = text[:index]
    newlines = before.count("\n")
    if newlines == 0:
        return Position(start.path, start.line, start.col + index)
    return Position(start.path, start.line + newlines, index - before.rfind("\n"))


# paths ---------------------------------------------------------------------


def _nearest_file(missing: Path, suffix: str = "") -> str:
    """A ``(did you mean 'x'?)`` for the existing file nearest a missing one, looked for in its own folder."""
    try:
        siblings = [p.name for p in missing.parent.iterdir() if p.is_file() and not p.name.startswith(".")]
    except OSError:
        return ""
    suffix = (suffix or missing.suffix).lower()
    same_kind = [n for n in siblings if Path(n).suffix.lower() == suffix] or siblings
    return did_you_mean(missing.name, same_kind)


def resolve_inside(base: Path, name: str, position: Position, report: Report, what: str,
            shown: str = "the project") -> Path | None:
    """Resolve ``name`` under ``base`` without ever leaving it; report and return None if it would.

    The same "points outside" error is given whether or not the target exists,
    so the check cannot be used to learn which files exist elsewhere.
    """
    outside = (f"{what} '{name}' points outside {shown}",
               f"put the file inside {shown} and give its path relative to it")
    if ("\x00" in name or "\\" in name or name.startswith(("/", "~"))
            or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", name)):
        report.error(position, *outside)
        return None
    candidate = os.path.normpath(os.path.join(base, name))
    if os.path.commonpath([candidate, str(base)]) != str(base):
        report.error(position, *outside)
        return None
    resolved = Path(os.path.realpath(candidate))
    if os.path.commonpath([str(resolved), str(base)]) != str(base):
        report.error(position, *outside)
        return None
    try:
        mode = resolved.stat().st_mode
    except OSError:
        report.error(position, f"{what} '{name}' not found{_nearest_file(Path(candidate))}",
                     f"check the file name in {shown}")
        return None
    if not stat.S_ISREG(mode):
        report.error(position, f"{what} '{name}' is not a regular file", "name an image file")
        return None
    return resolved


# layout.yaml ---------------------------------------------------------------


def available_layouts(root: Path) -> dict[str, Path]:
    """Layout name → its layout.yaml; the project's own override built-in ones."""
    found: dict[str, Path] = {}
    for folder in (BUILTIN_LAYOUTS, root / "layouts"):
        if folder.is_dir():
            for candidate in sorted(folder.glob("*/layout.yaml")):
                found[candidate.parent.name] = candidate
    return found


def read_layout(root: Path, name: str, report: Report, position: Position | None = None) -> Layout | None:
    """Read, merge (``base:``) and check a layout by name; every problem in one pass.

    ``position`` is where the name was written (``layout:`` in anthology.yaml), for an unknown name.
    """
    own = Report()
    layout = _read_layout(root, name, own, position or Position(root / "anthology.yaml"))
    report.diagnostics += own.diagnostics
    return None if own.errors else layout


def _read_layout(root: Path, name: str, report: Report, position: Position) -> Layout | None:
    folders: list[Path] = []
    node = _layout_node(root, name, report, position, (), folders)
    if node is None:
        return None
    path = available_layouts(root)[name]
    assert isinstance(node.value, dict)
    section_names = [s.name for s in schema.LAYOUT_SECTIONS]
    top = {k: v for k, v in node.value.items() if k not in section_names}
    values = _check_mapping(Node(top, node.position), schema.LAYOUT_FIELDS, path, report, extra=section_names)
    settings: dict[str, Any] = {}
    for section in schema.LAYOUT_SECTIONS:
        child = node.value.get(section.name)
        if child is None:
            if section.required:
                report.error(Position(path), f"layout has no '{section.name}' section", section.doc)
            continue
        checked = _check_mapping(child, section.fields, child.position.path, report) or {}
        for field in section.fields:
            if field.name in checked:
                value, position = checked[field.name]
                settings[field.attr] = _layout_value(field.attr, value, position, report)
    fonts = node.value["fonts"].value if "fonts" in node.value else {}
    assert isinstance(fonts, dict)
    for role, child in fonts.items():
        for family in settings.get("fallback_fonts", ()) if role == "fallback" else (child.value,):
            if isinstance(family, str) and family not in FAMILIES:
                report.error(child.position, f"unknown font family '{family}'{did_you_mean(family, FAMILIES)}",
                             f"available: {', '.join(sorted(FAMILIES))}")
    if values is None or report.errors:
        return None
    top_values = {key: value for key, (value, _) in values.items() if key not in ("description", "base")}
    return Layout(name=name, description=values["description"][0], source=path, folders=tuple(folders),
                  **top_values, **settings)


def _layout_value(attr: str, value: Any, position: Position, report: Report) -> Any:
    """Asset names become checked paths inside the layout's own folder; other values pass."""
    if attr not in ("cover_image", "logo"):
        return value
    folder = position.path.parent
    found = resolve_inside(folder, value, position, report, attr.replace("_", " "), f"{folder.name}/")
    if found is None:
        return None
    data = read_bytes(found, report, 20 * 1024 * 1024, f"{attr} '{value}'", position)
    if data is not None:
        try:
            check_photo(data, 100)
        except PhotoProblem as problem:
            report.error(position, f"{attr} '{value}' {problem}", problem.hint)
    return found


def _layout_node(root: Path, name: str, report: Report, position: Position,
                 seen: tuple[str, ...], chain: list[Path]) -> Node | None:
    """The layout's merged YAML; ``chain`` collects its folder and those of its bases, nearest first."""
    layouts = available_layouts(root)
    if name not in layouts:
        report.error(position, f"unknown layout '{name}'{did_you_mean(name, layouts)}",
                     f"available: {', '.join(sorted(layouts))}")
        return None
    if name in seen:
        report.error(position, f"layout '{name}' is its own base ({' → '.join((*seen, name))})")
        return None
    path = layouts[name]
    chain.append(path.parent)
    source = read_text(path, report, MAX_YAML_BYTES, "layout.yaml")
    node = parse_yaml(source.text, path, report) if source.text is not None else None
    if node is None or not isinstance(node.value, dict):
        if node is not None:
            report.error(node.position, "layout.yaml must be a mapping of keys to values")
        return None
    base = node.value.get("base")
    if base is None:
        return node
    parent = _layout_node(root, str(base.value), report, base.position, (*seen, name), chain)
    return _merge(parent, node) if parent else None


def _merge(base: Node, override: Node) -> Node:
    """Values of ``override`` win; nested mappings merge key by key."""
    if not (isinstance(base.value, dict) and isinstance(override.value, dict)):
        return override
    merged = dict(base.value)
    for key, value in override.value.items():
        merged[key] = _merge(merged[key], value) if key in merged else value
    merged.pop("base", None)
    return Node(merged, override.position)


# shared ----------------------------------------------------------------


def _check_mapping(node: Node | None, fields: tuple[schema.Field, ...], path: Path, report: Report,
                   extra: list[str] | None = None) -> dict[str, tuple[Any, Position]] | None:
    """Check a mapping against declared fields; returns name → (value, position)."""
    if node is None:
        return None
    if not isinstance(node.value, dict):
        report.error(node.position, "expected a mapping of 'key: value' lines",
                     "start each line with a field name such as 'name:'")
        return None
    known = {f.name: f for f in fields}
    values: dict[str, tuple[Any, Position]] = {}
    for key, child in node.value.items():
        if key in (extra or []):
            continue
        where = child.key_position or child.position
        if key not in known:
            report.error(where, f"unknown key '{key}'{did_you_mean(key, list(known) + (extra or []))}",
                         f"known keys: {', '.join(list(known) + (extra or []))}")
            continue
        if child.value is None:
            continue
        try:
            value = known[key].kind(child)
        except schema.FieldProblem as problem:
            report.error(child.position, f"'{key}' {problem}", problem.hint)
            continue
        cap = known[key].max_chars
        if cap and isinstance(value, str) and len(value) > cap:
            report.error(child.position, f"'{key}' is {len(value):,} characters long; at most {cap:,} are allowed",
                         "shorten it" + ("; long text belongs in the entry's body" if cap < 1000 else ""))
            continue
        values[key] = (value, child.position)
    for field in fields:
        if field.required and field.name not in values and not _reported_at(node, field.name):
            report.error(node.position, f"missing required field '{field.name}'",
                         f"add a line '{field.name}: …' ({field.doc})")
    return values


def _reported_at(node: Node, key: str) -> bool:
    """True when the key is present but its value was wrong (already reported)."""
    assert isinstance(node.value, dict)
    child = node.value.get(key)
    return child is not None and child.value is not None


def _order(book: BookConfig, contributions: list[Contribution], rejected: set[str],
           report: Report) -> tuple[Contribution, ...]:
    by_slug = {c.slug: c for c in contributions}
    seen_orders: dict[int, Contribution] = {}
    for c in sorted(contributions, key=lambda c: str(c.source)):
        if c.order is None:
            continue
        if c.order in seen_orders:
            other = seen_orders[c.order]
            report.error(c.positions.get("order", Position(c.source)),
                         f"duplicate order {c.order} (also used by {other.slug})",
                         "give every entry its own order number")
        seen_orders[c.order] = c
    listing = [s for part in book.parts for s in part.slugs] if book.parts else list(book.order)
    if not listing:
        return tuple(sorted(contributions, key=_natural_key))
    what = "sections" if book.parts else "order"
    position = Position(book.root / "anthology.yaml")
    for slug in [s for s in listing if s not in by_slug and s not in rejected]:
        report.error(position, f"{what} names '{slug}', which is not a contribution"
                     f"{did_you_mean(slug, by_slug)}", "use the file name without .yaml/.md")
    for slug in {s for s in listing if listing.count(s) > 1}:
        report.error(position, f"{what} names '{slug}' more than once", "list every entry once")
    listed = [by_slug[s] for s in dict.fromkeys(listing) if s in by_slug]
    rest = [c for c in contributions if c.slug not in listing]
    place = "at the end of the last section" if book.parts else "after the listed entries"
    for c in rest:
        report.warning(Position(c.source), f"'{c.slug}' is not in anthology.yaml's {what} list",
                       f"it is placed {place}")
    return tuple(listed + sorted(rest, key=_natural_key))


def _natural_key(c: Contribution) -> tuple[int, int, str, str]:
    return (c.order is None, c.order or 0, c.name.casefold(), c.slug)


# the text as it will be drawn ---------------------------------------------


MAX_FIGURES = 40
"""Different image files one entry may print; each is decoded, so a flood of them is refused."""


def load_figures(entry: Entry, limits: Limits, report: Report) -> Entry:
    """The entry with each figure's image read through the headshot checks (inside ``contributions/`` only).

    A figure whose image cannot be used keeps its caption, with a warning saying why. Each file
    is read and decoded once however often it is named, and at most :data:`MAX_FIGURES` are.
    """
    folder = entry.contribution.source.parent
    loaded: dict[str, Photo | None] = {}

    def image(figure: Figure) -> Photo | None:
        if figure.source not in loaded and len(loaded) == MAX_FIGURES:
            report.warning(figure.position or Position(folder),
                           f"more than {MAX_FIGURES} different figures; only the caption of '{figure.source[:80]}' "
                           "is printed", "split the entry, or use fewer images")
            return None
        if figure.source not in loaded:
            loaded[figure.source] = _figure_image(folder, figure, limits, report)
        return loaded[figure.source]

    def load(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
        out: list[Block] = []
        for block in blocks:
            if isinstance(block, Figure):
                block = dataclasses.replace(block, image=image(block))
            elif isinstance(block, Quote):
                block = Quote(load(block.blocks))
            elif isinstance(block, ListBlock):
                block = dataclasses.replace(block, items=tuple(load(item) for item in block.items))
            elif isinstance(block, Notes):  # a figure in a footnote is a figure too
                block = Notes(tuple(dataclasses.replace(note, blocks=load(note.blocks)) for note in block.notes))
            out.append(block)
        return tuple(out)

    return dataclasses.replace(entry, blocks=load(entry.blocks))


def _figure_image(folder: Path, figure: Figure, limits: Limits, report: Report) -> Photo | None:
    where = figure.position or Position(folder)
    name = figure.source
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", name):
        report.warning(where, f"figure '{name[:80]}' is not fetched from the web; only its caption is printed",
                       "put the image file in contributions/ and give its name")
        return None
    own = Report()
    path = resolve_inside(folder, name, where, own, "figure", "contributions/")
    data = read_bytes(path, own, limits.photo_bytes, f"figure '{name}'", where, "photo_bytes") if path else None
    checked = None
    if data is not None:
        try:
            checked = check_photo(data, limits.photo_megapixels)
        except PhotoProblem as problem:
            own.error(where, f"figure '{name}' {problem}", problem.hint)
    for problem in own.diagnostics:  # the caption still prints: a warning, not an error
        report.warning(problem.position, problem.message + "; only its caption is printed", problem.hint)
    return Photo(path, where, checked.jpeg, checked.original_size) if checked and path else None


def figure_files(blocks: tuple[Block, ...]) -> set[Path]:
    """The image files an entry's figures use (for the unused-files warning)."""
    return {figure.image.path for figure in figures(blocks) if figure.image is not None}


def figures(blocks: tuple[Block, ...]) -> Iterator[Figure]:
    """Every figure of the blocks, those in quotes, lists and footnotes too."""
    for block in blocks:
        if isinstance(block, Figure):
            yield block
        elif isinstance(block, Quote):
            yield from figures(block.blocks)
        elif isinstance(block, ListBlock):
            for item in block.items:
                yield from figures(item)
        elif isinstance(block, Notes):  # a figure in a footnote is a figure too
            for note in block.notes:
                yield from figures(note.blocks)


def warn_figures_outside_entries(blocks: tuple[Block, ...], where: Position, report: Report) -> None:
    """The book's own texts (introduction, part introductions, About the editor) print no images:
    say so, rather than print a caption under nothing."""
    for figure in figures(blocks):
        report.warning(figure.position or where,
                       f"figure '{figure.source[:80]}' is printed only in an entry; here only its caption is printed",
                       "put the figure in a contribution, or describe it in words")


def _written_at(source: str, char: str) -> int:
    """Where ``char`` is written in ``source``: as itself or as a character reference (``&#x210B;``,
    ``&#8459;``, ``&HilbertSpace;``), whichever comes first; -1 if nowhere."""
    code = ord(char)
    names = [f"&{name}" if name.endswith(";") else f"&{name};" for name, value in html.entities.html5.items()
             if value == char]
    pattern = "|".join([re.escape(char), rf"&#0*{code};", rf"&#[xX]0*{code:x};", *map(re.escape, names)])
    match = re.search(pattern, source, flags=re.IGNORECASE)
    return match.start() if match else -1


def check_drawn_glyphs(blocks: tuple[Block, ...], source: str, start: Position, layout: Layout,
                       report: Report) -> None:
    """Every character as it will be drawn (entities decoded, quotes curled) must exist in the face
    that draws it, or in a fallback: code in the code face, emphasis in italic, headings in the heading face."""
    body, heading, code = (f"{layout.body_font}-", f"{layout.heading_font}-", f"{layout.code_font}-regular")
    lacking: dict[str, set[str]] = {}

    def spans(runs: tuple[Span, ...], family: str, bold: bool = False, italic: bool = False) -> None:
        for span in runs:
            b, i = span.bold or bold, span.italic or italic
            face = code if span.code else family + {(0, 0): "regular", (0, 1): "italic", (1, 0): "bold",
                                                   (1, 1): "bold-italic"}[(b, i)]
            for char in undrawable(span.text, face, layout.fallback_fonts):
                lacking.setdefault(char, set()).add(family_label(face.rsplit("-", 1)[0].removesuffix("-bold")))

    def walk(blocks: tuple[Block, ...]) -> None:
        for block in blocks:
            if isinstance(block, Paragraph):
                spans(block.spans, body)
            elif isinstance(block, Heading):
                spans(block.spans, heading, bold=True, italic=block.level == 3)
            elif isinstance(block, CodeBlock):
                spans((Span(block.text, code=True),), body)
            elif isinstance(block, Table):
                for number, row in enumerate((block.header, *block.rows)):
                    for cell in row:
                        spans(cell, body, bold=number == 0)
            elif isinstance(block, Figure):
                spans(block.alt, f"{layout.caption_font}-", italic=True)
            elif isinstance(block, Quote):
                walk(block.blocks)
            elif isinstance(block, ListBlock):
                if block.checked:  # the layout draws the task boxes in the body face
                    spans((Span("".join("☑" if c else "☐" for c in block.checked if c is not None)),), body)
                for item in block.items:
                    walk(item)
            elif isinstance(block, Notes):
                for note in block.notes:
                    walk(note.blocks)

    walk(blocks)
    # What the source shows literally and the body family lacks was reported before parsing, with its place.
    chars = sorted((c for c in lacking if c not in source or not missing_glyphs(c, layout.body_font,
                                                                                 layout.fallback_fonts)), key=ord)
    if chars:
        found = [i for i in (_written_at(source, c) for c in chars) if i >= 0]
        where = _offset(start, source, min(found)) if found else start
        fonts = " or ".join(sorted(set().union(*(lacking[c] for c in chars))))
        report.error(where, f"{_listed(chars)} in the body cannot be drawn by {fonts} as set; add a fallback font",
                     "name a family that has it under fonts: fallback in the layout, or replace the character "
                     "(it may be written as an entity such as &name; or &#x…;)")
