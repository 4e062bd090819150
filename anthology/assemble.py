"""Stage 5: put the rendered pieces in order and merge them into one book with pypdf.

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

import io
import os
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.annotations import Link
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    RectangleObject,
    StreamObject,
    TextStringObject,
)

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


def assemble(book: BookConfig, layout: Layout, texts: BookTexts, entries: Sequence[Entry],
             laid_out: Sequence[Piece], *, for_print: bool = False) -> Book:
    """Build the whole book in memory from laid-out entries; ``for_print`` adds bleed and crop marks."""
    by_slug = {e.contribution.slug: e for e in entries}
    body = _body_pieces(book, layout, texts, entries, laid_out)
    placed_body, body_end = _place(body, layout.recto_starts, first_index=0)
    label_of = {p.piece.key: str(p.index + 1) for p in placed_body if p.piece}
    back: list[Piece] = [_index_piece(book, layout, entries, label_of)]
    if texts.about_editor:
        back.append(render_text_page(book, layout, "about", book.words("about_editor"), texts.about_editor))
    placed_back, body_end = _place(back, layout.recto_starts, first_index=body_end)
    label_of |= {p.piece.key: str(p.index + 1) for p in placed_back if p.piece}
    placed_body += placed_back

    lines = _contents_lines(book, entries, body, label_of)
    front_pieces = [render_cover(book, layout), render_title_page(book, layout)]
    if texts.intro:
        front_pieces.append(render_text_page(book, layout, "intro", book.words("introduction"), texts.intro,
                                             signature=book.editor))
    front_pieces.append(render_listing(book, layout, "contents", book.words("contents"), lines))
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
    overlay_pdf, overlay_fonts = render_furniture(layout, furniture, book.words("proof"))
    overlay = PdfReader(io.BytesIO(overlay_pdf))
    writer = PdfWriter()
    shared_fonts: dict[str, IndirectObject] = {}
    carrier = font_carrier({*overlay_fonts, *(f for p, _ in placements if p.piece for f in p.piece.fonts)})
    _share_fonts(PdfReader(io.BytesIO(carrier)), writer, shared_fonts)
    links: list[tuple[int, tuple[float, float, float, float], str]] = []
    for placed, offset in placements:
        start = offset + placed.index
        if placed.piece is None:
            writer.add_blank_page(layout.page_width, layout.page_height)
            continue
        reader = PdfReader(io.BytesIO(placed.piece.pdf))  # one at a time: a big book's readers need not all live
        _share_fonts(reader, writer, shared_fonts)
        for number, page in enumerate(reader.pages):
            writer.add_page(page)
            if layout.mirrored and start % 2:  # rendered as a recto first, placed on a verso
                shift = layout.margin_outer - layout.margin_inner
                _shift(writer.pages[-1], shift if number % 2 == 0 else -shift, 0)
        links += [(start + area.page_index, area.rect, area.slug) for area in placed.piece.links]
    for page_index, rect, key in links:  # once every page exists, so each link points at a page object
        if key in start_of:
            writer.add_annotation(page_index, Link(rect=rect, target_page_index=start_of[key]))
    _share_fonts(overlay, writer, shared_fonts)
    _stamp(writer, overlay, [bool(f.folio or f.running_head or f.proof) for f in furniture])

    toc = _outline(writer, book, body, entries, start_of, label_of)
    labels = (PageRange(0, 0, "", book.words("cover")), PageRange(1, front_count - 1, "/r"),
              PageRange(front_count, total - 1, "/D"))
    for label in labels:
        writer.set_page_label(label.first_index, label.last_index, style=label.style or None,
                              prefix=label.prefix or None, start=label.start)
    if for_print:
        _add_print_marks(writer, layout)
    _metadata(writer, book)
    buffer = io.BytesIO()
    writer.write(buffer)
    return Book(buffer.getvalue(), len(writer.pages), toc, labels, book.title, len(entries), kinds)


def _body_pieces(book: BookConfig, layout: Layout, texts: BookTexts, entries: Sequence[Entry],
                 laid_out: Sequence[Piece]) -> list[Piece]:
    """Entries in book order, each part's divider before its first entry."""
    piece_of = {p.key: p for p in laid_out}
    part_of = _part_numbers(book, entries)
    body: list[Piece] = []
    for entry in entries:
        slug = entry.contribution.slug
        number = part_of.get(slug)
        if number and not any(p.key == f"part-{number}" for p in body):
            intro = texts.part_intros[number - 1] if number - 1 < len(texts.part_intros) else ()
            body.append(layout_divider(book.parts[number - 1], number, intro, layout, book.language,
                                       book.words("part", number=number)))
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


def _index_piece(book: BookConfig, layout: Layout, entries: Sequence[Entry], label_of: dict[str, str]) -> Piece:
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
    return render_listing(book, layout, "index", book.words("index"), items)


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


def _outline(writer: PdfWriter, book: BookConfig, body: list[Piece], entries: Sequence[Entry],
             start_of: dict[str, int], label_of: dict[str, str]) -> tuple[TocLine, ...]:
    """Bookmarks (parts as parents of their entries), one named destination per entry."""
    by_slug = {e.contribution.slug: e.contribution for e in entries}
    if "intro" in start_of:
        writer.add_outline_item(title=book.words("introduction"), page_number=start_of["intro"])
    writer.add_outline_item(title=book.words("contents"), page_number=start_of["contents"])
    toc, parent, part_title = [], None, ""
    for piece in body:
        if piece.kind == "divider":
            number = int(piece.key.split("-")[1])
            part_title = book.parts[number - 1].title
            parent = writer.add_outline_item(title=book.words("part_title", number=number, title=part_title),
                                             page_number=start_of[piece.key])
            writer.add_named_destination(title=piece.key, page_number=start_of[piece.key])
            continue
        c = by_slug[piece.key]
        writer.add_outline_item(title=f"{c.name}: {c.title}", page_number=start_of[c.slug], parent=parent)
        writer.add_named_destination(title=c.slug, page_number=start_of[c.slug])
        toc.append(TocLine(c.slug, c.title, c.name, label_of[c.slug], start_of[c.slug], part_title))
    writer.add_outline_item(title=book.words("index"), page_number=start_of["index"])
    if "about" in start_of:
        writer.add_outline_item(title=book.words("about_editor"), page_number=start_of["about"])
    return tuple(toc)


def _shift(page, dx: float, dy: float) -> None:  # type: ignore[no-untyped-def]
    """Move a page's content and its link rectangles by (dx, dy)."""
    page.add_transformation(Transformation().translate(dx, dy))
    for annotation in page.get("/Annots") or []:
        annotation = annotation.get_object()
        x1, y1, x2, y2 = (float(v) for v in annotation["/Rect"])
        annotation[NameObject("/Rect")] = ArrayObject(
            [FloatObject(x1 + dx), FloatObject(y1 + dy), FloatObject(x2 + dx), FloatObject(y2 + dy)])


def _add_print_marks(writer: PdfWriter, layout: Layout) -> None:
    """Grow every page by the bleed and a margin for crop marks; TrimBox and BleedBox say where to cut."""
    marks = PdfReader(io.BytesIO(print_marks_page(layout))).pages[0]
    slug = layout.bleed + 24
    width, height = layout.page_width, layout.page_height
    for page in writer.pages:
        _shift(page, slug, slug)
        page.mediabox = RectangleObject([0, 0, width + 2 * slug, height + 2 * slug])
        page.cropbox = RectangleObject([0, 0, width + 2 * slug, height + 2 * slug])
        page.trimbox = RectangleObject([slug, slug, slug + width, slug + height])
        page.bleedbox = RectangleObject([slug - layout.bleed, slug - layout.bleed,
                                         slug + width + layout.bleed, slug + height + layout.bleed])
        page.merge_page(marks)


def standalone(piece: Piece) -> bytes:
    """A piece's pages as a PDF of its own, fonts embedded: a contributor's proof."""
    writer = PdfWriter()
    shared: dict[str, IndirectObject] = {}
    _share_fonts(PdfReader(io.BytesIO(font_carrier(piece.fonts))), writer, shared)
    reader = PdfReader(io.BytesIO(piece.pdf))
    _share_fonts(reader, writer, shared)
    for page in reader.pages:
        writer.add_page(page)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _stamp(writer: PdfWriter, overlay: PdfReader, wanted: list[bool]) -> None:
    """Draw overlay page *i* on book page *i* as a form XObject, without parsing either page's content.

    The page's own content is wrapped in ``q … Q`` so nothing it leaves in the
    graphics state can move the furniture; the wrappers are shared by every page.
    """
    save = writer._add_object(_stream(b"q\n"))  # pypdf adds objects this way
    restore = writer._add_object(_stream(b"Q\nq /Furniture Do Q\n"))
    for page, source, stamp in zip(writer.pages, overlay.pages, wanted, strict=True):
        if not stamp:
            continue
        content = source["/Contents"].get_object()
        form = StreamObject()
        form.update({key: value for key, value in content.items() if key in ("/Filter", "/DecodeParms")})
        form.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                     NameObject("/BBox"): source.mediabox,
                     NameObject("/Resources"): source["/Resources"].get_object().clone(writer)})
        form._data = content._data  # the encoded bytes, copied as they are
        resources = page["/Resources"].get_object()
        xobjects = resources.get("/XObject")
        xobjects = xobjects.get_object() if xobjects is not None else DictionaryObject()
        xobjects[NameObject("/Furniture")] = writer._add_object(form)
        resources[NameObject("/XObject")] = xobjects
        existing = page.raw_get("/Contents")  # the reference: a stream must stay an indirect object
        existing = list(existing.get_object()) if isinstance(existing.get_object(), ArrayObject) else [existing]
        page[NameObject("/Contents")] = ArrayObject([save, *existing, restore])


def _stream(data: bytes) -> StreamObject:
    stream = StreamObject()
    stream._data = data
    return stream


def _share_fonts(reader: PdfReader, writer: PdfWriter, shared: dict[str, IndirectObject]) -> None:
    """Point the reader's font resources at the writer's first copy of each identical font."""
    seen: set[int] = set()
    for page in reader.pages:
        resources = page.get("/Resources")
        fonts = resources.get_object().get("/Font") if resources else None
        fonts = fonts.get_object() if fonts is not None else None
        if fonts is None or id(fonts) in seen:
            continue
        seen.add(id(fonts))
        for name in list(fonts.keys()):
            reference = fonts.raw_get(name)
            if not isinstance(reference, IndirectObject):
                continue
            key = str(reference.get_object()["/BaseFont"])
            if key not in shared:
                shared[key] = reference.clone(writer)
            fonts[NameObject(name)] = shared[key]


def _metadata(writer: PdfWriter, book: BookConfig) -> None:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = time.gmtime(int(epoch)) if epoch and epoch.isdigit() else time.gmtime()
    stamp = time.strftime("D:%Y%m%d%H%M%S+00'00'", moment)
    info = {"/Title": book.title, "/Creator": "anthology", "/Producer": "anthology (ReportLab, pypdf)",
            "/CreationDate": stamp, "/ModDate": stamp}
    if book.editor:
        info["/Author"] = book.editor
    if book.subtitle:
        info["/Subject"] = book.subtitle
    writer.add_metadata(info)
    writer.root_object[NameObject("/Lang")] = TextStringObject(book.language)
    writer.page_mode = "/UseOutlines"
    preferences = writer.create_viewer_preferences()
    preferences.display_doctitle = True
