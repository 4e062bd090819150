"""Plain, typed values that flow one way through the pipeline.

load → validate → text → layout → assemble → publish: each stage takes the
values defined here and returns new ones; nothing is mutated after creation,
so every stage can be tested alone with hand-made inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .words import Words


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
    photo_focus: tuple[float, float] = (0.5, 0.4)
    """Centre of the headshot's crop, as fractions across and down."""
    pullquote: str = ""
    sort_as: str = ""
    """The index's sort key when the family-name-first guess is wrong."""
    status: str = "approved"
    """``draft``, ``proofed`` or ``approved``; hand-made entries without one count as approved."""
    order: int | None = None
    language: str = ""
    """BCP 47 tag of the entry's language when it is not the book's; empty for the book's."""
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
class Part:
    """A group of entries with a divider page (``sections:`` in anthology.yaml)."""

    title: str
    slugs: tuple[str, ...]
    intro: str = ""
    position: Position | None = None


@dataclass(frozen=True, slots=True)
class Submissions:
    """The submission form's settings (``submissions:`` in anthology.yaml)."""

    open: bool = False
    per_hour: int = 10


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
    about_editor: str = ""
    """Markdown of an optional 'About the editor' page at the end."""
    site_url: str = ""
    """Where the release folder is published; empty when unknown (links stay relative)."""
    about_editor_position: Position | None = None
    parts: tuple[Part, ...] = ()
    """Parts (``sections:``) grouping the entries; empty when the book has none."""
    submissions: Submissions = Submissions()
    words: Words = field(default_factory=Words)
    """The fixed words ("Contents", the note to contributors) in the book's language."""


@dataclass(frozen=True, slots=True)
class FontSet:
    """The four faces of one family, by registered ReportLab font name."""

    regular: str
    italic: str
    bold: str
    bold_italic: str


@dataclass(frozen=True, slots=True)
class Justification:
    """How far the space between words may stretch and shrink, as fractions of the font's space.

    TeX's defaults for a text font (half a space more, a third less) keep the grey of
    a justified page even; ``justified=False`` sets ragged right.
    """

    justified: bool = True
    stretch: float = 0.5
    shrink: float = 0.33
    space_factors: bool = True
    """TeX's space factors: the space after a sentence or clause takes more of a line's stretch
    (false: every space alike, TeX's ``\\frenchspacing``)."""


@dataclass(frozen=True, slots=True)
class Layout:
    """Page design read from ``layout.yaml``; the ReportLab code never sees raw YAML.

    Lengths are in points (1/72 in). Each field is declared, with its YAML
    name and default, in :data:`anthology.schema.LAYOUT_SECTIONS`.
    """

    name: str
    description: str
    page_width: float
    page_height: float
    margin_top: float
    margin_bottom: float
    margin_inner: float
    """The binding side: left on right-hand (odd) pages, right on left-hand pages when mirrored."""
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
    """Width of the headshot as printed."""
    mirrored: bool = False
    """Inner and outer margins swap sides on left-hand pages (a printed, bound book)."""
    recto_starts: bool = False
    page_multiple: int = 2
    """``--print`` pads the book to a multiple of this many pages (print shops bind signatures)."""
    """Every entry starts on a right-hand page; a blank left-hand page is inserted when needed."""
    bleed: float = 0.0
    """Extra paper around the trim for ``--print``; crop marks are drawn in it."""
    columns: int = 1
    column_gap: float = 18.0
    code_font: str = "ibm-plex-mono"
    """Family for code (monospaced, so columns line up)."""
    fallback_fonts: tuple[str, ...] = ()
    """Families tried, in order, for characters the role's own family cannot draw."""
    justify: Justification = Justification()
    hyphenate: bool = True
    folio: str = "bottom-center"
    """``bottom-center``, ``bottom-outside``, ``top-outside`` or ``none``."""
    running_head: str = "entry"
    """``entry`` (name · headline on an entry's later pages), ``book-and-name`` or ``none``."""
    head_rule: bool = False
    photo_shape: str = "circle"
    """``circle`` or ``square``."""
    min_photo_dpi: int = 150
    """Headshots that would print below this resolution get a warning."""
    entry_pages: int = 0
    """The page budget of an entry (0: none); ``check`` reports entries that run over."""
    fit_min_body: float = 0.0
    """The smallest body size ``build --fit`` may use (0: the body size, no shrinking)."""
    fit_min_leading: float = 0.0
    fit_min_photo: float = 0.0
    cover_image: Path | None = None
    """A JPEG/PNG from the layout's folder, drawn full-bleed behind the cover's text."""
    logo: Path | None = None
    """A JPEG/PNG from the layout's folder, printed on the cover and the title page."""
    source: Path = Path()
    folders: tuple[Path, ...] = ()
    """The layout's folder and those of its bases, nearest first (where its site templates are looked up)."""


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
    strike: bool = False
    """``~~struck through~~``."""
    note: int = 0
    """A footnote mark: the note's number (``text`` is the number as printed), or 0."""


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
    checked: tuple[bool | None, ...] = ()
    """For a task list: per item True (☑), False (☐) or None (an ordinary item); empty otherwise."""


@dataclass(frozen=True, slots=True)
class Quote:
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    """A thematic break (``---``)."""


@dataclass(frozen=True, slots=True)
class CodeBlock:
    text: str
    language: str = ""
    """The info string's first word of a fenced block (```python), if any."""


@dataclass(frozen=True, slots=True)
class Table:
    """A GFM table: a header row and body rows of cells, each cell a run of spans."""

    header: tuple[tuple[Span, ...], ...]
    rows: tuple[tuple[tuple[Span, ...], ...], ...]
    aligns: tuple[str, ...]
    """Per column ``left``, ``center``, ``right`` or ``""`` (the layout's default), from the divider row."""


@dataclass(frozen=True, slots=True)
class Figure:
    """An image standing alone in a paragraph, set as a figure with its description as the caption."""

    source: str
    """The path as written in the Markdown (relative to the contribution)."""
    alt: tuple[Span, ...]
    """The description: the caption, and the figure's alternative text in the PDF."""
    image: Photo | None = None
    """The checked image (filled in by :func:`anthology.validate.load_figures`); None prints the caption alone."""
    position: Position | None = None


@dataclass(frozen=True, slots=True)
class Note:
    number: int
    """As printed: 1, 2, … in the order the marks first appear."""
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class Notes:
    """An entry's footnotes, set after its text; each mark and note link to each other."""

    notes: tuple[Note, ...]


Block = Paragraph | Heading | ListBlock | Quote | Rule | CodeBlock | Table | Figure | Notes


@dataclass(frozen=True, slots=True)
class Entry:
    """A contribution with its body parsed into blocks."""

    contribution: Contribution
    blocks: tuple[Block, ...]

    @property
    def words(self) -> tuple[str, ...]:
        """Every word of the body as written, for the "nothing is lost" checks.

        Worked out when asked rather than kept: a million words of a 2 000-entry book
        would hold some 60 MB through the whole build for checks that only tests make.
        """
        from .text import words_of  # text builds on this module

        return tuple(words_of(self.blocks))


# Layout and assembly ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinkArea:
    """A clickable rectangle on a page that jumps to an entry (or a part's divider)."""

    page_index: int
    """0-based index of the page within its piece (assembly makes it absolute)."""
    rect: tuple[float, float, float, float]
    slug: str


@dataclass(frozen=True, slots=True)
class Piece:
    """Part of the book rendered on its own pages, without folios (they are stamped later).

    Entries, part dividers, the cover, the contents, the index… are each a piece;
    assembly puts them in order, inserts blank pages where a piece must start
    on a right-hand page, and numbers the pages.
    """

    key: str
    """The entry's slug, ``part-1``…, or the piece's kind for the others."""
    kind: str
    """``cover``, ``title``, ``intro``, ``contents``, ``divider``, ``entry``, ``index`` or ``about``."""
    pdf: bytes
    page_count: int
    links: tuple[LinkArea, ...] = ()
    last_page_height: float = 0.0
    """Height of text on the last page, in points (for the page budget)."""
    fit: str = ""
    """What ``build --fit`` changed to make an entry fit its budget, in words."""
    fonts: tuple[str, ...] = ()
    """The font subsets its PDF names (as stubs; assembly embeds each once)."""
    structure: str = field(default="", repr=False)
    """What its marked content means, as JSON (see :mod:`anthology.layout.tagging`); assembly grafts it."""


@dataclass(frozen=True, slots=True)
class TocLine:
    slug: str
    headline: str
    name: str
    label: str
    """The printed page number of the entry's first page."""
    page_index: int
    """0-based index of that page in the assembled book."""
    part: str = ""
    """Title of the part the entry belongs to, if the book has parts."""


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
    page_kinds: tuple[str, ...] = ()
    """What each page is: ``cover``, ``blank``, ``entry``… (see :class:`Piece`)."""
