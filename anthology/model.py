"""Plain, typed values that flow one way through the pipeline.

load → validate → text → layout → assemble → publish: each stage takes the
values defined here and returns new ones; nothing is mutated after creation,
so every stage can be tested alone with hand-made inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Position:
    """Where a value came from, for diagnostics (1-based line and column)."""

    path: Path
    line: int = 1
    col: int = 1


@dataclass(frozen=True, slots=True)
class Photo:
    """A checked headshot: the file lay inside ``contributions/`` and decoded cleanly."""

    path: Path
    """Absolute, resolved path of the image file (for messages; it is not read again)."""
    position: Position
    """Where the ``photo`` field was written, for image problems found later."""
    jpeg: bytes = field(repr=False)
    """Upright RGB pixels re-encoded without any metadata (see :mod:`anthology.photos`)."""
    size: tuple[int, int] = (0, 0)
    """Width and height in pixels of the file as submitted."""


@dataclass(frozen=True, slots=True)
class Contribution:
    """One contributor's entry as validated from its YAML and Markdown."""

    slug: str
    """File stem; also the entry's named destination in the PDF."""
    name: str
    title: str
    """The entry's headline."""
    body: str
    """CommonMark source of the entry's text."""
    body_position: Position
    """First line of the body in its file, so text diagnostics point at it."""
    role: str = ""
    organization: str = ""
    bio: str = ""
    website: str = ""
    photo: Photo | None = None
    order: int | None = None
    source: Path = Path()
    """The file that holds the metadata (``.yaml`` or front-matter ``.md``)."""
    positions: dict[str, Position] = field(default_factory=dict, compare=False)
    """Where each metadata field is written, for diagnostics found in later stages."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-contribution size caps, checked before anything is parsed or decoded.

    Defaults suit one- to five-page entries with a phone-camera headshot; an
    editor raises them in ``anthology.yaml``'s ``limits:`` section.
    """

    metadata_bytes: int = 64 * 1024
    """A contribution's YAML (or front matter)."""
    body_bytes: int = 1024 * 1024
    """A contribution's Markdown file (about 150 000 words)."""
    photo_bytes: int = 20 * 1024 * 1024
    """A headshot file."""
    photo_megapixels: float = 50.0
    """A headshot's width × height, read from its header before decoding."""


@dataclass(frozen=True, slots=True)
class BookConfig:
    """The book as described by ``anthology.yaml``."""

    root: Path
    """The project folder; nothing outside it is ever read because of an input."""
    title: str
    subtitle: str = ""
    editor: str = ""
    edition: str = ""
    date: str = ""
    language: str = "en"
    license: str = ""
    layout: str = "perspectives"
    intro: str = ""
    """Markdown of the introduction (read from the file when a path was given)."""
    intro_position: Position | None = None
    order: tuple[str, ...] = ()
    limits: Limits = Limits()


@dataclass(frozen=True, slots=True)
class FontSet:
    """The four faces of one family, by registered ReportLab font name."""

    regular: str
    italic: str
    bold: str
    bold_italic: str


@dataclass(frozen=True, slots=True)
class Layout:
    """Page design read from ``layout.yaml``; the ReportLab code never sees raw YAML."""

    name: str
    description: str
    page_width: float
    """Points (1/72 in)."""
    page_height: float
    margin_top: float
    margin_bottom: float
    margin_inner: float
    margin_outer: float
    body_font: str
    """Family name of the body text (a key of the font catalogue)."""
    heading_font: str
    caption_font: str
    body_size: float
    body_leading: float
    headline_size: float
    subheading_size: float
    caption_size: float
    text_color: str
    accent_color: str
    muted_color: str
    cover_color: str
    cover_text_color: str
    photo_size: float
    """Diameter of the round headshot, in points."""
    justify: bool = True
    source: Path = Path()


# Text stage -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    """A run of inline text with uniform styling. ``text`` is plain, never markup."""

    text: str
    italic: bool = False
    bold: bool = False
    code: bool = False
    href: str = ""
    """Target of a link (already checked: http, https or mailto), or empty."""
    line_break: bool = False
    """A hard line break; ``text`` is empty."""


@dataclass(frozen=True, slots=True)
class Paragraph:
    spans: tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    """2 or 3 (level 1 is the entry's headline, which lives in the metadata)."""
    spans: tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class ListBlock:
    ordered: bool
    items: tuple[tuple[Block, ...], ...]
    start: int = 1


@dataclass(frozen=True, slots=True)
class Quote:
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    """A thematic break (``---``)."""


@dataclass(frozen=True, slots=True)
class CodeBlock:
    text: str


Block = Paragraph | Heading | ListBlock | Quote | Rule | CodeBlock


@dataclass(frozen=True, slots=True)
class Entry:
    """A contribution with its body parsed into blocks."""

    contribution: Contribution
    blocks: tuple[Block, ...]
    words: tuple[str, ...] = field(default=(), repr=False)
    """Every word of the body as written, for the "nothing is lost" checks."""


# Layout and assembly ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LaidOutEntry:
    """An entry rendered on its own pages, without folios (they are stamped later)."""

    slug: str
    pdf: bytes
    page_count: int


@dataclass(frozen=True, slots=True)
class TocLine:
    slug: str
    headline: str
    name: str
    label: str
    """The printed page number of the entry's first page."""
    page_index: int
    """0-based index of that page in the assembled book."""


@dataclass(frozen=True, slots=True)
class LinkArea:
    """A clickable rectangle on a front-matter page that jumps to an entry."""

    page_index: int
    rect: tuple[float, float, float, float]
    slug: str


@dataclass(frozen=True, slots=True)
class RenderedFrontMatter:
    pdf: bytes
    page_count: int
    intro_page: int
    """0-based index of the introduction's first page within the front matter."""
    contents_page: int
    links: tuple[LinkArea, ...]


@dataclass(frozen=True, slots=True)
class PageRange:
    """A run of book pages sharing one label style (see ``assemble``)."""

    first_index: int
    last_index: int
    style: str
    """``/r`` lower roman, ``/D`` arabic, or ``""`` for a prefix-only label."""
    prefix: str = ""
    start: int = 1


@dataclass(frozen=True, slots=True)
class Book:
    """The assembled book, in memory; ``publish`` writes it."""

    pdf: bytes
    page_count: int
    toc: tuple[TocLine, ...]
    labels: tuple[PageRange, ...]
    title: str
    entry_count: int
