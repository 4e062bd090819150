"""Stage 5: merge front matter and entries into one book with pypdf.

Page index, page label and printed folio, by example: a book with a cover,
a title page, two pages of introduction, one of contents and entries of
1, 3 and 2 pages has page indexes 0-9. Index 0 is labelled ``Cover``, 1-4
``i``-``iv`` (front matter, lower-case roman), and 5-10 ``1``-``6``
(arabic, restarting at the first entry). The folio printed on a page is its
label, so "page 14" in the contents, in the viewer's page box and at the foot
of the page are the same thing. Entry *k* starts at label
``1 + pages of entries before k``, whatever the front matter's length.

Here navigation is computed as data (contents lines, outline, labels, named
destinations), then written with pypdf: pages appended, furniture stamped,
links, outline, page labels, destinations and metadata added. Each entry was
rendered alone with the same fixed font encoding (see :mod:`anthology.fonts`),
so its font objects are swapped for the first identical copy before its
pages are copied: the book embeds each font subset once.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Sequence

from pypdf import PdfReader, PdfWriter
from pypdf.annotations import Link
from pypdf.generic import IndirectObject, NameObject, TextStringObject

from .layout.frontmatter import ContentsLine, render_front_matter
from .layout.furniture import PageFurniture, render_furniture
from .model import Block, Book, BookConfig, Entry, LaidOutEntry, Layout, PageRange, TocLine

ROMAN = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
         (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))


def roman(number: int) -> str:
    out = ""
    for value, letters in ROMAN:
        while number >= value:
            out += letters
            number -= value
    return out


def assemble(book: BookConfig, layout: Layout, intro: tuple[Block, ...],
             entries: Sequence[Entry], laid_out: Sequence[LaidOutEntry]) -> Book:
    """Build the whole book in memory from laid-out entries."""
    starts, first_label = [], 1
    for part in laid_out:
        starts.append(first_label)
        first_label += part.page_count
    contents = [ContentsLine(e.contribution.slug, e.contribution.title, e.contribution.name, str(start))
                for e, start in zip(entries, starts, strict=False)]
    front = render_front_matter(book, layout, intro, contents)
    offset = front.page_count
    toc = tuple(TocLine(line.slug, line.headline, line.name, line.label, offset + int(line.label) - 1)
                for line in contents)
    labels = (PageRange(0, 0, "", "Cover"), PageRange(1, offset - 1, "/r"),
              PageRange(offset, offset + first_label - 2, "/D"))

    writer = PdfWriter()
    shared_fonts: dict[str, IndirectObject] = {}
    readers = [PdfReader(io.BytesIO(front.pdf))] + [PdfReader(io.BytesIO(p.pdf)) for p in laid_out]
    for reader in readers:
        _share_fonts(reader, writer, shared_fonts)
        for page in reader.pages:
            writer.add_page(page)

    furniture = _furniture(book, offset, entries, laid_out)
    overlay = PdfReader(io.BytesIO(render_furniture(layout, furniture)))
    _share_fonts(overlay, writer, shared_fonts)
    for index, (page, marks) in enumerate(zip(overlay.pages, furniture, strict=False)):
        if marks.folio or marks.running_head:
            writer.pages[index].merge_page(page)
            writer.pages[index].compress_content_streams()

    for area in front.links:
        target = next(line.page_index for line in toc if line.slug == area.slug)
        writer.add_annotation(area.page_index, Link(rect=area.rect, target_page_index=target))
    writer.add_outline_item(title="Introduction", page_number=front.intro_page)
    writer.add_outline_item(title="Contents", page_number=front.contents_page)
    for line in toc:
        writer.add_outline_item(title=f"{line.name}: {line.headline}", page_number=line.page_index)
        writer.add_named_destination(title=line.slug, page_number=line.page_index)
    for label in labels:
        writer.set_page_label(label.first_index, label.last_index, style=label.style or None,
                              prefix=label.prefix or None, start=label.start)
    _metadata(writer, book)
    buffer = io.BytesIO()
    writer.write(buffer)
    return Book(buffer.getvalue(), len(writer.pages), toc, labels, book.title, len(entries))


def _furniture(book: BookConfig, offset: int, entries: Sequence[Entry],
               laid_out: Sequence[LaidOutEntry]) -> list[PageFurniture]:
    pages = [PageFurniture()]  # the cover carries nothing
    pages += [PageFurniture(roman(i), recto=i % 2 == 1) for i in range(1, offset)]
    number = 1
    for entry, part in zip(entries, laid_out, strict=False):
        c = entry.contribution
        for page in range(part.page_count):
            head = f"{c.name} · {c.title}" if page else ""
            pages.append(PageFurniture(str(number), head, recto=(offset + number) % 2 == 1))
            number += 1
    return pages


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
