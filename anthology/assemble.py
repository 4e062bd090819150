"""Stage 5: put the rendered pieces in order and merge them into one book with pikepdf (qpdf).

The book is a sequence of pieces (see :class:`~anthology.model.Piece`):
cover, title page, introduction and contents (the front matter, numbered
i, ii… after the cover), then the body, numbered from 1: part dividers and
entries, then the index of contributors and "About the editor". In a layout
with ``recto_starts`` every piece begins on a right-hand page (an even page
index, the cover being index 0): a blank page is inserted before a piece that
would begin on the left, and the front matter is padded so that page 1 is a
right-hand page. Blank pages carry no folio.

Page index, page label and printed folio agree: the folio printed on a page
is its label, so "page 14" in the contents, in the viewer's page box and at
the foot of the page are the same thing. Body numbers never depend on the
front matter's length, so the contents are rendered last, with final numbers.

Each piece was rendered alone with the same fixed font encoding (see
:mod:`anthology.fonts`), so its font objects are swapped for the first
identical copy before its pages are copied: the book embeds each font subset
once.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import os
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pikepdf
from pikepdf import Name, OutlineItem

from .cache import RecordCache, layout_assets
from .fonts import font_carrier
from .layout.entry import layout_divider
from .layout.frontmatter import (
    ContentsLine,
    render_cover,
    render_listing,
    render_text_page,
    render_title_page,
)
from .layout.furniture import PageFurniture, print_marks_page, render_furniture
from .model import Block, Book, BookConfig, Entry, Layout, PageRange, Piece, TocLine
from .tagged import PlacedPiece, graft_structure

ROMAN = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
         (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))

def roman(number: int) -> str:
    out = ""
    for value, letters in ROMAN:
        while number >= value:
            out += letters
            number -= value
    return out


@dataclass(frozen=True, slots=True)
class BookTexts:
    """The book's own parsed texts, beside the entries."""

    intro: tuple[Block, ...] = ()
    about_editor: tuple[Block, ...] = ()
    part_intros: tuple[tuple[Block, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class _Placed:
    piece: Piece | None
    """None for an inserted blank page."""
    index: int
    """Index of its first page, counted from the first page of its run (front or body)."""


def _place(pieces: Sequence[Piece], recto_starts: bool, first_index: int = 0) -> tuple[list[_Placed], int]:
    """Lay pieces end to end, with a blank before any that would start on a left-hand page."""
    placed, index = [], first_index
    for piece in pieces:
        if recto_starts and index % 2:
            placed.append(_Placed(None, index))
            index += 1
        placed.append(_Placed(piece, index))
        index += piece.page_count
    return placed, index


@dataclass(frozen=True, slots=True)
class Plan:
    """The book with every page placed and everything but the pieces rendered: what :func:`merge` needs.

    Planning draws with ReportLab (contents, index, folios); merging holds the
    whole book in qpdf. They are apart so that each can run in its own process
    (see :class:`anthology.build._Assembler`) and one process never holds both.
    """

    book: BookConfig
    layout: Layout
    entries: tuple[Entry, ...]
    """What the outline reads of the entries (names and titles)."""
    body: tuple[Piece, ...]
    placements: tuple[tuple[_Placed, int], ...]
    """Each placed piece (its PDF left out, see ``pdfs``) with the index of the first page of its run."""
    pdfs: list[bytes]
    """The placed pieces' PDFs, in order; :func:`merge` empties the list as it copies them, so each
    piece's bytes are freed once qpdf holds the pages."""
    start_of: dict[str, int]
    label_of: dict[str, str]
    front_count: int
    total: int
    kinds: tuple[str, ...]
    stamped: tuple[bool, ...]
    """Whether each page has a folio, running head or proof mark to stamp."""
    overlay: bytes
    """The folios and running heads, one page per book page (see :func:`render_furniture`)."""
    carrier: bytes
    for_print: bool


def plan(book: BookConfig, layout: Layout, texts: BookTexts, entries: Sequence[Entry], laid_out: Sequence[Piece],
         *, for_print: bool = False, cache: RecordCache | None = None) -> Plan:
    """Place every piece and render the front and back matter, the folios and the font carrier;
    ``for_print`` pads the book for the print shop (and :func:`merge` adds bleed and crop marks).

    With ``cache``, the contents, the index and the folio overlay are taken from
    the last build when their lines (or the pages' folios and heads) are the same.
    """
    cache = cache or RecordCache(None)
    by_slug = {e.contribution.slug: e for e in entries}
    body = _body_pieces(book, layout, texts, entries, laid_out, cache)
    placed_body, body_end = _place(body, layout.recto_starts, first_index=0)
    label_of = {p.piece.key: str(p.index + 1) for p in placed_body if p.piece}
    back: list[Piece] = [_index_piece(book, layout, entries, label_of, cache)]
    if texts.about_editor:
        back.append(_render(cache, book, layout, render_text_page, "about", book.words("about_editor"),
                            texts.about_editor))
    placed_back, body_end = _place(back, layout.recto_starts, first_index=body_end)
    label_of |= {p.piece.key: str(p.index + 1) for p in placed_back if p.piece}
    placed_body += placed_back

    lines = _contents_lines(book, entries, body, label_of)
    front_pieces = [_render(cache, book, layout, render_cover), _render(cache, book, layout, render_title_page)]
    if texts.intro:
        front_pieces.append(_render(cache, book, layout, render_text_page, "intro", book.words("introduction"),
                                    texts.intro, signature=book.editor))
    front_pieces.append(_listing(book, layout, "contents", book.words("contents"), lines, cache))
    placed_front, front_count = _place(front_pieces, layout.recto_starts)
    if layout.recto_starts and front_count % 2:
        placed_front.append(_Placed(None, front_count))  # page 1 of the body is a right-hand page
        front_count += 1
    start_of = {p.piece.key: p.index for p in placed_front if p.piece}
    start_of |= {p.piece.key: front_count + p.index for p in placed_body if p.piece}
    total = front_count + body_end
    if for_print:  # blank pages at the back, so the print shop's signatures come out even
        padding = -total % layout.page_multiple
        placed_body += [_Placed(None, body_end + i) for i in range(padding)]
        total += padding

    placements = [(p, 0) for p in placed_front] + [(p, front_count) for p in placed_body]
    furniture, kinds = _furniture_plan(book, layout, placements, by_slug)
    proof = book.words("proof")
    overlay_pdf, overlay_fonts = cache.remember("furniture", (layout, furniture, proof),
                                                functools.partial(render_furniture, layout, furniture, proof))
    fonts = sorted({*overlay_fonts, *(f for p, _ in placements if p.piece for f in p.piece.fonts)})
    carrier = cache.remember("carrier", fonts, functools.partial(font_carrier, fonts))
    bare = {id(piece): dataclasses.replace(piece, pdf=b"") for piece in [*body, *back, *front_pieces]}
    return Plan(book, layout, tuple(entries), tuple(bare[id(piece)] for piece in body),
                tuple((dataclasses.replace(p, piece=bare[id(p.piece)]) if p.piece else p, offset)
                      for p, offset in placements),
                [p.piece.pdf for p, _ in placements if p.piece], start_of, label_of, front_count, total, kinds,
                tuple(bool(f.folio or f.running_head or f.proof) for f in furniture), overlay_pdf, carrier, for_print)


def merge(plan: Plan) -> Book:
    """Copy the placed pieces into one PDF with qpdf, then add links, structure, folios, outline and labels."""
    book, layout = plan.book, plan.layout
    writer = _Writer(plan.carrier)
    links: list[tuple[int, tuple[float, float, float, float], str]] = []
    shifts: list[float] = []
    plan.pdfs.reverse()  # popped from the end, in book order
    for placed, offset in plan.placements:
        start = offset + placed.index
        if placed.piece is None:
            writer.blank(layout.page_width, layout.page_height)
            shifts.append(0.0)
            continue
        writer.append(plan.pdfs.pop())
        shift = layout.margin_outer - layout.margin_inner if layout.mirrored and start % 2 else 0.0
        shifts += [shift if number % 2 == 0 else -shift for number in range(placed.piece.page_count)]
        links += [(start + area.page_index, area.rect, area.slug) for area in placed.piece.links]
    pages = writer.pages
    for page_index, rect, key in links:  # once every page exists, so each link points at a page object
        if key in plan.start_of:
            _add_link(writer.pdf, pages[page_index], rect, pages[plan.start_of[key]])
    languages = {e.contribution.slug: e.contribution.language for e in plan.entries}
    graft_structure(writer.pdf, [PlacedPiece(p.piece, offset + p.index,
                                             languages.get(p.piece.key, "") if p.piece.kind == "entry" else "")
                                 for p, offset in plan.placements if p.piece], plan.label_of, set(plan.start_of))
    for page, shift in zip(writer.pdf.pages, shifts, strict=True):
        if shift:  # rendered as a recto first, placed on a verso
            _shift(page, shift, 0)
    writer.stamp(pikepdf.open(io.BytesIO(plan.overlay)), plan.stamped)

    toc = _outline(writer.pdf, pages, book, plan.body, plan.entries, plan.start_of, plan.label_of)
    labels = (PageRange(0, 0, "", book.words("cover")), PageRange(1, plan.front_count - 1, "/r"),
              PageRange(plan.front_count, plan.total - 1, "/D"))
    page_labels(writer.pdf, labels)
    if plan.for_print:
        _add_print_marks(writer, layout)
    _metadata(writer.pdf, book)
    return Book(writer.save(), plan.total, toc, labels, book.title, len(plan.entries), plan.kinds)


def _body_pieces(book: BookConfig, layout: Layout, texts: BookTexts, entries: Sequence[Entry],
                 laid_out: Sequence[Piece], cache: RecordCache) -> list[Piece]:
    """Entries in book order, each part's divider before its first entry."""
    piece_of = {p.key: p for p in laid_out}
    part_of = _part_numbers(book, entries)
    body: list[Piece] = []
    for entry in entries:
        slug = entry.contribution.slug
        number = part_of.get(slug)
        if number and not any(p.key == f"part-{number}" for p in body):
            intro = texts.part_intros[number - 1] if number - 1 < len(texts.part_intros) else ()
            part, heading = book.parts[number - 1], book.words("part", number=number)
            body.append(cache.remember("piece", ("divider", part, number, intro, layout, layout_assets(layout),
                                                 book.language, heading),
                                       functools.partial(layout_divider, part, number, intro, layout,
                                                         book.language, heading)))
        body.append(piece_of[slug])
    return body


def _part_numbers(book: BookConfig, entries: Sequence[Entry]) -> dict[str, int]:
    """slug → 1-based part number; entries no part lists join the last part."""
    if not book.parts:
        return {}
    listed = {slug: number for number, part in enumerate(book.parts, 1) for slug in part.slugs}
    return {e.contribution.slug: listed.get(e.contribution.slug, len(book.parts)) for e in entries}


def _contents_lines(book: BookConfig, entries: Sequence[Entry], body: list[Piece],
                    label_of: dict[str, str]) -> list[ContentsLine]:
    by_slug = {e.contribution.slug: e.contribution for e in entries}
    lines = []
    for piece in body:
        if piece.kind == "divider":
            number = int(piece.key.split("-")[1])
            title = book.words("part_title", number=number, title=book.parts[number - 1].title)
            lines.append(ContentsLine(piece.key, title, "", label_of[piece.key], level=0))
        else:
            c = by_slug[piece.key]
            lines.append(ContentsLine(c.slug, c.title, c.name, label_of[c.slug]))
    lines.append(ContentsLine("index", book.words("index"), "", label_of["index"], level=0))
    if "about" in label_of:
        lines.append(ContentsLine("about", book.words("about_editor"), "", label_of["about"], level=0))
    return lines


def _listing(book: BookConfig, layout: Layout, kind: str, title: str, items: list[ContentsLine | str],
             cache: RecordCache) -> Piece:
    """The contents or the index, rendered again only when one of its lines changed."""
    return _render(cache, book, layout, render_listing, kind, title, items)


def _render(cache: RecordCache, book: BookConfig, layout: Layout, render: Callable[..., Piece], *args: Any,
            **options: Any) -> Piece:
    """``render(book, layout, *args)``, or the piece it made last time from the same values."""
    parts = (render.__name__, book, layout, layout_assets(layout), args, sorted(options.items()))
    return cache.remember("piece", parts, functools.partial(render, book, layout, *args, **options))


def _index_piece(book: BookConfig, layout: Layout, entries: Sequence[Entry], label_of: dict[str, str],
                 cache: RecordCache) -> Piece:
    """Contributors by family name, grouped by initial letter, each with the entry's linked page."""
    contributors = sorted((e.contribution for e in entries),
                          key=lambda c: (collation_key(index_name(c.name, c.sort_as)), c.slug))
    items: list[ContentsLine | str] = []
    letters: set[str] = set()
    for c in contributors:
        letter = collation_key(index_name(c.name, c.sort_as))[0][:1].upper() or "#"
        if letter not in letters:
            letters.add(letter)
            items.append(letter)
        shown = c.sort_as or index_name(c.name, "", inverted=True)
        items.append(ContentsLine(c.slug, shown, c.title, label_of[c.slug]))
    return _listing(book, layout, "index", book.words("index"), items, cache)


def index_name(name: str, sort_as: str, *, inverted: bool = False) -> str:
    """The name as the index sorts it: ``sort_as``, or the family name (last word) first."""
    if sort_as:
        return sort_as
    *given, family = name.split()
    if not given:
        return family
    return f"{family}, {' '.join(given)}" if inverted else " ".join([family, *given])


# Letters that Unicode does not decompose into a base letter and an accent.
LATIN_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss", "æ": "ae",
                       "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i", "þ": "th", "Þ": "Th"})


def collation_key(text: str) -> tuple[str, str]:
    """Sort key that files 'Ł' with 'L' and 'Ö' with 'O', then breaks ties by the accents."""
    base = "".join(c for c in unicodedata.normalize("NFKD", text.translate(LATIN_FOLD)) if not unicodedata.combining(c))
    return base.casefold(), text.casefold()


def _furniture_plan(book: BookConfig, layout: Layout, placements: list[tuple[_Placed, int]],
                    by_slug: dict[str, Entry]) -> tuple[list[PageFurniture], tuple[str, ...]]:
    """Folio and running head for every page of the book, and what each page is."""
    furniture: list[PageFurniture] = []
    kinds: list[str] = []
    for placed, offset in placements:
        start = offset + placed.index
        if placed.piece is None:
            furniture.append(PageFurniture(recto=start % 2 == 0))
            kinds.append("blank")
        else:
            furniture += _piece_furniture(book, layout, placed.piece, start, offset, by_slug)
            kinds += [placed.piece.kind] * placed.piece.page_count
    return furniture, tuple(kinds)


def _piece_furniture(book: BookConfig, layout: Layout, piece: Piece, start: int, offset: int,
                     by_slug: dict[str, Entry]) -> list[PageFurniture]:
    """Folio and running head for each page of a placed piece."""
    pages = []
    for number in range(piece.page_count):
        index = start + number
        recto = index % 2 == 0
        folio = roman(index) if offset == 0 else str(index - offset + 1)
        if piece.kind in ("cover", "title", "divider"):
            pages.append(PageFurniture(recto=recto))
            continue
        head = ""
        if piece.kind == "entry" and number > 0:
            c = by_slug[piece.key].contribution
            if layout.running_head == "entry":
                head = f"{c.name} · {c.title}"
            elif layout.running_head == "book-and-name":
                head = c.name if recto else book.title
        proof = piece.kind == "entry" and by_slug[piece.key].contribution.status != "approved"
        pages.append(PageFurniture(folio, head, recto=recto, proof=proof))
    return pages


def _outline(pdf: pikepdf.Pdf, pages: list[pikepdf.Object], book: BookConfig, body: Sequence[Piece],
             entries: Sequence[Entry], start_of: dict[str, int], label_of: dict[str, str]) -> tuple[TocLine, ...]:
    """Bookmarks (parts as parents of their entries), one named destination per entry."""
    by_slug = {e.contribution.slug: e.contribution for e in entries}
    destinations = pikepdf.NameTree.new(pdf)
    pdf.Root.Names = pikepdf.Dictionary(Dests=destinations.obj)
    toc: list[TocLine] = []
    with pdf.open_outline() as outline:
        items = outline.root
        if "intro" in start_of:
            items.append(OutlineItem(book.words("introduction"), _fit(pages[start_of["intro"]])))
        items.append(OutlineItem(book.words("contents"), _fit(pages[start_of["contents"]])))
        parent, part_title = items, ""
        for piece in body:
            if piece.kind == "divider":
                number = int(piece.key.split("-")[1])
                part_title = book.parts[number - 1].title
                target = _fit(pages[start_of[piece.key]])
                item = OutlineItem(book.words("part_title", number=number, title=part_title), target)
                items.append(item)
                parent = item.children
                destinations[piece.key] = target
                continue
            c = by_slug[piece.key]
            target = _fit(pages[start_of[c.slug]])
            parent.append(OutlineItem(f"{c.name}: {c.title}", target))
            destinations[c.slug] = target
            toc.append(TocLine(c.slug, c.title, c.name, label_of[c.slug], start_of[c.slug], part_title))
        items.append(OutlineItem(book.words("index"), _fit(pages[start_of["index"]])))
        if "about" in start_of:
            items.append(OutlineItem(book.words("about_editor"), _fit(pages[start_of["about"]])))
    return tuple(toc)


def _fit(page: pikepdf.Object) -> pikepdf.Array:
    """A destination showing the whole page."""
    return pikepdf.Array([page, Name.Fit])


def _add_link(pdf: pikepdf.Pdf, page: pikepdf.Object, rect: tuple[float, float, float, float],
              target: pikepdf.Object) -> None:
    link = pdf.make_indirect(pikepdf.Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=pikepdf.Array(rect),
                                                Border=pikepdf.Array([0, 0, 0]), Dest=_fit(target)))
    if Name.Annots not in page:
        page.Annots = pikepdf.Array()
    page.Annots.append(link)


def _shift(page: pikepdf.Page, dx: float, dy: float) -> None:
    """Move a page's content and its link rectangles by (dx, dy).

    The move is a ``cm`` put before the page's own content, which :meth:`_Writer.stamp`
    and print marks then wrap in ``q … Q``; the content itself is never parsed.
    """
    page.contents_add(f"1 0 0 1 {dx:.4f} {dy:.4f} cm\n".encode(), prepend=True)
    for annotation in page.obj.get(Name.Annots) or []:
        x1, y1, x2, y2 = (float(v) for v in annotation.Rect)
        annotation.Rect = pikepdf.Array([x1 + dx, y1 + dy, x2 + dx, y2 + dy])


def _add_print_marks(writer: _Writer, layout: Layout) -> None:
    """Grow every page by the bleed and a margin for crop marks; TrimBox and BleedBox say where to cut."""
    source = pikepdf.open(io.BytesIO(print_marks_page(layout)))
    marks = writer.form(source, source.pages[0])
    slug = layout.bleed + 24
    width, height = layout.page_width, layout.page_height
    for page in writer.pdf.pages:
        _shift(page, slug, slug)
        box = pikepdf.Array([0, 0, width + 2 * slug, height + 2 * slug])
        page.obj.MediaBox = box
        page.obj.CropBox = box
        page.obj.TrimBox = pikepdf.Array([slug, slug, slug + width, slug + height])
        page.obj.BleedBox = pikepdf.Array([slug - layout.bleed, slug - layout.bleed,
                                           slug + width + layout.bleed, slug + height + layout.bleed])
        writer.draw_over(page, marks, "/PrintMarks")


def standalone(piece: Piece) -> bytes:
    """A piece's pages as a PDF of its own, fonts embedded: a contributor's proof."""
    writer = _Writer(font_carrier(piece.fonts))
    writer.append(piece.pdf)
    return writer.save()


class _Writer:
    """The book being written with pikepdf (qpdf): pieces are copied in, never re-parsed in Python.

    Every piece names its font subsets as stubs; the first time a subset is met
    its full copy is taken from the font carrier (:func:`~anthology.fonts.font_carrier`),
    and every page that uses it points there, so the book embeds each subset once.
    The sources stay open until :meth:`save`, since qpdf copies their streams then.
    :attr:`pages` lists the book's page objects as they are added: ``pdf.pages[i]``
    walks the whole page list on every call, which a book of a thousand pages feels.
    """

    def __init__(self, carrier: bytes) -> None:
        self.pdf = pikepdf.new()
        self._carrier = pikepdf.open(io.BytesIO(carrier))
        self._sources: dict[int, pikepdf.Pdf] = {}
        self._keep(self._carrier)
        self._carried = {str(font.BaseFont): font for page in self._carrier.pages
                         for font in (page.Resources.get(Name.Font) or {}).values()}
        self._fonts: dict[str, pikepdf.Object] = {}
        self._font_dicts: dict[tuple[tuple[str, str], ...], pikepdf.Object] = {}
        self.pages: list[pikepdf.Object] = []
        self._save = self.pdf.make_stream(b"q\n")
        self._restore = self.pdf.make_stream(b"Q\n")

    def append(self, data: bytes) -> None:
        """Copy a piece's pages to the end of the book, its font stubs left behind.

        The pages' streams are copied at once and the piece closed: an open piece
        costs qpdf far more memory than its bytes (about 25 MB per 1 000 entries).
        """
        with pikepdf.open(io.BytesIO(data)) as source:
            first = len(self.pages)
            self.pdf.pages.extend(source.pages)
            kids = self.pdf.Root.Pages.Kids  # qpdf keeps the page tree flat: its kids are the pages, in order
            self.pages += (kids[index] for index in range(first, len(kids)))
            copied: set[tuple[int, int]] = set()
            for page in self.pages[first:]:
                self._share_fonts(page.get(Name.Resources))
                _own_streams(page, copied)

    def blank(self, width: float, height: float) -> None:
        """A blank page at the end of the book."""
        self.pages.append(self.pdf.add_blank_page(page_size=(width, height)).obj)

    def form(self, source: pikepdf.Pdf, page: pikepdf.Page) -> pikepdf.Object:
        """A page of another PDF as a form XObject of the book, its encoded content copied as it is."""
        self._keep(source)
        content = page.obj.Contents
        form = pikepdf.Stream(source, b"")
        form.write(content.read_raw_bytes(), filter=content.get(Name.Filter),
                   decode_parms=content.get(Name.DecodeParms))
        form.Type, form.Subtype, form.BBox = Name.XObject, Name.Form, page.obj.MediaBox
        form.Resources = page.obj.Resources
        copied = self.pdf.copy_foreign(form)
        self._share_fonts(copied.Resources)
        return copied

    def stamp(self, overlay: pikepdf.Pdf, wanted: Sequence[bool]) -> None:
        """Draw overlay page *i* on book page *i* as a form XObject, without parsing either page's content."""
        for page, source, stamp in zip(self.pdf.pages, overlay.pages, wanted, strict=True):
            if stamp:
                self.draw_over(page, self.form(overlay, source), "/Furniture")

    def draw_over(self, page: pikepdf.Page, form: pikepdf.Object, name: str) -> None:
        """Wrap the page's own content in ``q … Q`` so nothing it leaves in the graphics state moves ``form``.

        What is drawn over a page (folios, running heads, crop marks) is an artifact of the tagged PDF.
        """
        resources = page.obj.get(Name.Resources)
        if resources is None:
            page.obj.Resources = resources = pikepdf.Dictionary()
        if Name.XObject not in resources:
            resources.XObject = pikepdf.Dictionary()
        resources.XObject[name] = form
        contents = page.obj.get(Name.Contents)
        existing = list(contents) if isinstance(contents, pikepdf.Array) else [contents] if contents else []
        draw = self.pdf.make_stream(f"Q\n/Artifact BMC q {name} Do Q EMC\n".encode())
        page.obj.Contents = pikepdf.Array([self._save, *existing, draw])

    def save(self) -> bytes:
        """The finished PDF; the same pieces always give the same bytes (the file ID is a content hash)."""
        buffer = io.BytesIO()
        self.pdf.save(buffer, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
        for source in self._sources.values():
            source.close()
        self.pdf.close()
        return buffer.getvalue()

    def _keep(self, source: pikepdf.Pdf) -> pikepdf.Pdf:
        self._sources.setdefault(id(source), source)
        return source

    def _share_fonts(self, resources: pikepdf.Object | None) -> None:
        """Point a copied page's (or form's) fonts at the book's one full copy of each subset."""
        fonts = resources.get(Name.Font) if resources is not None else None
        if fonts is not None:
            resources.Font = self._font_dict(tuple(sorted((str(key), str(font.BaseFont))
                                                          for key, font in fonts.items())))

    def _font_dict(self, named: tuple[tuple[str, str], ...]) -> pikepdf.Object:
        """One shared /Font dictionary for every page that names the same subsets the same way."""
        if named not in self._font_dicts:
            fonts = pikepdf.Dictionary()
            for key, base in named:
                if base not in self._fonts:
                    self._fonts[base] = self.pdf.copy_foreign(self._carried[base])
                fonts[key] = self._fonts[base]
            self._font_dicts[named] = self.pdf.make_indirect(fonts)
        return self._font_dicts[named]


def _own_streams(page: pikepdf.Object, copied: set[tuple[int, int]]) -> None:
    """Give every stream a copied page reaches its own encoded data, so the source can be closed.

    qpdf copies a foreign stream's data only when the book is written; this copies
    it now, as it is (never decoded), with the same filter entry.
    """
    stack = [page]
    while stack:
        item = stack.pop()
        if isinstance(item, pikepdf.Array):
            stack.extend(item)
            continue
        if not isinstance(item, (pikepdf.Dictionary, pikepdf.Stream)):
            continue
        if item.is_indirect:
            if item.objgen in copied:
                continue
            copied.add(item.objgen)
        if isinstance(item, pikepdf.Stream):
            kind = item.get(Name.Filter)
            item.write(item.read_raw_bytes(), filter=kind, decode_parms=item.get(Name.DecodeParms))
            if kind is not None:
                item.Filter = kind  # write() shortens a one-filter array to the name
        stack.extend(value for key, value in item.items() if key not in _NOT_WALKED)


_NOT_WALKED = frozenset({"/Parent", "/P", "/Filter", "/DecodeParms", "/Font"})
"""Keys :func:`_own_streams` does not follow: back to the page tree or structure, and fonts (already the
book's own copies, taken from the font carrier)."""


def page_labels(pdf: pikepdf.Pdf, labels: Sequence[PageRange]) -> None:
    tree = pikepdf.NumberTree.new(pdf)
    for label in labels:
        entry = pikepdf.Dictionary()
        if label.style:
            entry.S = Name(label.style)
        if label.prefix:
            entry.P = pikepdf.String(label.prefix)
        if label.start != 1:
            entry.St = label.start
        tree[label.first_index] = entry
    pdf.Root.PageLabels = tree.obj


def _metadata(pdf: pikepdf.Pdf, book: BookConfig) -> None:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = time.gmtime(int(epoch)) if epoch and epoch.isdigit() else time.gmtime()
    stamp = time.strftime("D:%Y%m%d%H%M%S+00'00'", moment)
    info = {"/Title": book.title, "/Creator": "anthology", "/Producer": "anthology (ReportLab, pikepdf)",
            "/CreationDate": stamp, "/ModDate": stamp}
    if book.editor:
        info["/Author"] = book.editor
    if book.subtitle:
        info["/Subject"] = book.subtitle
    pdf.docinfo = pdf.make_indirect(pikepdf.Dictionary({key: pikepdf.String(value) for key, value in info.items()}))
    pdf.Root.Lang = pikepdf.String(book.language)
    pdf.Root.PageMode = Name.UseOutlines
    pdf.Root.ViewerPreferences = pikepdf.Dictionary(DisplayDocTitle=True)
    xmp_metadata(pdf, book.title, [book.editor] if book.editor else [], book.language,
                 time.strftime("%Y-%m-%dT%H:%M:%S+00:00", moment))


def xmp_metadata(pdf: pikepdf.Pdf, title: str, creators: list[str], language: str, moment: str = "") -> None:
    """The XMP packet PDF/UA asks for (a dc:title, which viewers show), as the Info dictionary says it.

    It has no ``pdfuaid`` part: the book is tagged for PDF/UA but not validated against
    all of it, so it does not claim conformance. No editing tool or time is added, so
    the same inputs give the same bytes.
    """
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        meta["dc:title"] = title
        meta["dc:language"] = [language]
        if creators:
            meta["dc:creator"] = creators
        if moment:
            meta["xmp:CreateDate"] = meta["xmp:ModifyDate"] = moment
        meta["xmp:CreatorTool"] = "anthology"
        meta["pdf:Producer"] = "anthology (ReportLab, pikepdf)"
