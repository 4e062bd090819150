"""Cover, title page, introduction and table of contents, each rendered as its own piece.

Entries are numbered from 1 in arabic figures and the front matter in roman
ones, so the entries' page numbers never depend on how long the contents
run: the contents are rendered last, with final numbers, and may take as many
pages as they need. Each piece starts on a right-hand page when the layout
asks for it; assembly inserts the blank pages.
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass

from reportlab.lib.colors import HexColor
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Frame, FrameBreak, PageTemplate, Spacer
from reportlab.platypus.flowables import TopPadder

from ..fonts import family_label
from ..model import Block, BookConfig, Layout, LinkArea, Piece
from .flowables import BlockRenderer, TaggedParagraph, plain, text_paragraph
from .pages import BookDocTemplate, left_margin, render, text_width
from .styles import Styles, build_styles
from .tagging import Node, marked

COVER_OVERDRAW = 36.0
"""The cover's background reaches this far past the trim, so a print bleed shows colour, not paper."""


@dataclass(frozen=True, slots=True)
class ContentsLine:
    key: str
    """The slug (or ``part-N``, ``index``, ``about``) the line links to."""
    headline: str
    name: str
    label: str
    level: int = 1
    """0 for a part or the back matter, 1 for an entry."""


class ContentsEntry(Flowable):
    """One line of the contents: headline, dot leaders, page number; the name below.

    When drawn it records its rectangle so that assembly can make it a link.
    """

    def __init__(self, line: ContentsLine, styles: Styles, number_style: ParagraphStyle,
                 links: list[LinkArea], indent: float, node: Node | None = None) -> None:
        super().__init__()
        self.line, self.links, self.indent = line, links, indent
        self.node = node
        """Its structure element: the headline, name and page number are its text; the dot leaders are not."""
        if line.level == 0:
            headline_style = styles.list_item.clone("toc_part", fontName=styles.heading.bold, alignment=0,
                                                    spaceAfter=0)
        else:
            headline_style = styles.list_item.clone("toc_headline", fontName=styles.body.regular,
                                                    alignment=0, spaceAfter=0)
        self.headline = text_paragraph(line.headline, headline_style, styles.fallbacks, node)
        self.name = text_paragraph(line.name, styles.affiliation, styles.fallbacks, node) if line.name else None
        self.number_style = number_style
        self.gap = styles.text.fontSize * 2.8
        self.space = styles.text.leading * (0.9 if line.level == 0 else 0.55)

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        measure = available_width - self.gap - self.indent
        self._head_h = self.headline.wrap(measure, available_height)[1]
        self._name_h = self.name.wrap(measure, available_height)[1] if self.name else 0
        self.height = self._head_h + self._name_h + self.space
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        top = self.height - (self.space * 0.5 if self.line.level == 0 else 0)
        self.headline.drawOn(canvas, self.indent, top - self._head_h)
        style = self.headline.style
        baseline = top - self._head_h + (style.leading - style.fontSize) + style.fontSize * 0.05
        last = self.headline.blPara.lines[-1]
        free = getattr(last, "extraSpace", last[0] if isinstance(last, tuple) else 0)
        used = self.indent + self.width - self.indent - self.gap - free
        font, size = self.number_style.fontName, self.number_style.fontSize
        with marked(canvas, self.node):
            canvas.saveState()
            canvas.setFont(font, size)
            canvas.setFillColor(self.number_style.textColor)
            canvas.drawRightString(self.width, baseline, self.line.label)
            canvas.restoreState()
        canvas.saveState()
        canvas.setFont(font, size)
        canvas.setFillColor(self.number_style.textColor)
        dot_w = canvas.stringWidth(". ", font, size)
        slot = max(canvas.stringWidth(self.line.label, font, size), canvas.stringWidth("000", font, size))
        start, end = used + dot_w, self.width - slot - dot_w * 0.6  # one end for all: dots line up
        count = int((end - start) // dot_w)
        if count > 1:
            canvas.drawRightString(end, baseline, ". " * count)
        canvas.restoreState()
        if self.name:
            self.name.drawOn(canvas, self.indent, top - self._head_h - self._name_h)
        x, y = canvas.absolutePosition(0, 0)
        if self.node is not None and hasattr(canvas, "note_area"):
            canvas.note_area(self.node)
        self.links.append(LinkArea(canvas.getPageNumber() - 1,
                                   (x, y, x + self.width, y + self.height), self.line.key))


def render_cover(book: BookConfig, layout: Layout) -> Piece:
    """The cover: a full-bleed colour field (or the layout's cover image), title and editor."""
    styles = build_styles(layout, book.language)
    template = PageTemplate("cover", [Frame(0, 0, layout.page_width, layout.page_height, id="cover")],
                            onPage=lambda canvas, doc: _draw_cover(canvas, book, layout, styles))
    return _single(book, layout, styles, "cover", [Spacer(1, 1)], template)


def render_title_page(book: BookConfig, layout: Layout) -> Piece:
    """Title, subtitle and editor in the upper half; the imprint at the foot."""
    styles = build_styles(layout, book.language)
    fallbacks = styles.fallbacks
    width, height = layout.page_width, layout.page_height
    left = left_margin(layout, recto=True)
    frames = [
        Frame(left, height * 0.45, text_width(layout), height * 0.55 - layout.margin_top * 1.6,
              id="title", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0),
        Frame(left, layout.margin_bottom, text_width(layout), height * 0.25,
              id="imprint", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0),
    ]
    template = PageTemplate("title", frames, onPage=lambda canvas, doc: _draw_logo(canvas, layout, left, width))
    centered = ParagraphStyle("centered", parent=styles.page_title, alignment=TA_CENTER)
    story: list[Flowable] = [text_paragraph(book.title, centered.clone(
        "bt", fontSize=layout.headline_size * 1.3, leading=layout.headline_size * 1.55), fallbacks, Node("H1"))]
    if book.subtitle:
        story.append(text_paragraph(book.subtitle, styles.affiliation.clone(
            "bs", alignment=TA_CENTER, fontSize=layout.body_size + 2, leading=(layout.body_size + 2) * 1.4),
            fallbacks, Node("P")))
    if book.editor:
        story += [Spacer(1, layout.body_leading * 2), text_paragraph(
            book.words("edited_by", editor=book.editor), styles.name.clone("be", alignment=TA_CENTER), fallbacks,
            Node("P"))]
    imprint = styles.bio.clone("imprint", fontSize=layout.caption_size - 0.5,
                               leading=(layout.caption_size - 0.5) * 1.5, setting=None)  # short lines, as typed
    families = dict.fromkeys((layout.body_font, layout.heading_font, layout.caption_font))
    imprint_lines = [book.title + (f": {book.subtitle}" if book.subtitle else ""),
                     ", ".join(p for p in (book.edition, book.date) if p), book.license,
                     book.words("set_in", fonts=book.words.list([family_label(f) for f in families]))]
    imprint_markup = "<br/>".join(plain(text, imprint, fallbacks) for text in imprint_lines if text)
    story += [FrameBreak(), TopPadder(TaggedParagraph(imprint_markup, imprint, Node("P")))]  # at the page's foot
    return _single(book, layout, styles, "title", story, template)


def render_text_page(book: BookConfig, layout: Layout, kind: str, heading: str, blocks: tuple[Block, ...],
                     signature: str = "") -> Piece:
    """A page of running text under a page title: the introduction, About the editor."""
    styles = build_styles(layout, book.language)
    renderer = BlockRenderer(styles, layout.accent_color, layout.accent_color)
    story: list[Flowable] = [text_paragraph(heading, styles.page_title, styles.fallbacks, Node("H1")),
                             *renderer.render(blocks)]
    if signature:
        story.append(text_paragraph(f"— {signature}", styles.signature, styles.fallbacks, Node("P")))
    return _single(book, layout, styles, kind, story)


def render_listing(book: BookConfig, layout: Layout, kind: str, title: str,
                   items: list[ContentsLine | str]) -> Piece:
    """A titled list of linked lines with page numbers: the contents, the index of contributors.

    A plain string among ``items`` is a group heading (the index's initial letters).
    """
    styles = build_styles(layout, book.language)
    number_style = styles.text.clone("toc_number", fontName=styles.caption.regular,
                                     textColor=HexColor(layout.muted_color))
    links: list[LinkArea] = []
    indent = styles.text.fontSize * 1.4 if any(isinstance(i, ContentsLine) and i.level == 0 for i in items) else 0
    story: list[Flowable] = [text_paragraph(title, styles.page_title, styles.fallbacks, Node("H1"))]
    for item in items:
        if isinstance(item, str):
            story.append(text_paragraph(item, styles.index_letter, styles.fallbacks, Node("H2")))
        else:
            node = Node("Reference", Node("TOCI")) if kind == "contents" else Node("P")
            story.append(ContentsEntry(item, styles, number_style, links, indent if item.level else 0, node))
    piece = _single(book, layout, styles, kind, story)
    return dataclasses.replace(piece, links=tuple(links))


def _single(book: BookConfig, layout: Layout, styles: Styles, kind: str, story: list[Flowable],
            first_template: PageTemplate | None = None) -> Piece:
    buffer = io.BytesIO()
    doc = BookDocTemplate(buffer, layout, title=book.title, language=book.language,
                          initial_font=styles.body.regular,
                          extra_templates=(first_template,) if first_template else ())
    pdf, pages, fonts, structure = render(doc, story, buffer)
    return Piece(kind, kind, pdf, pages, fonts=fonts, structure=structure)


def _draw_logo(canvas: Canvas, layout: Layout, left: float, width: float) -> None:
    if layout.logo is None:
        return
    logo = ImageReader(str(layout.logo))
    w, h = logo.getSize()
    height = layout.margin_top * 0.5
    canvas.drawImage(logo, left + text_width(layout) / 2 - height * w / h / 2,
                     layout.page_height - layout.margin_top * 0.9, height * w / h, height, mask="auto")


def _draw_cover(canvas: Canvas, book: BookConfig, layout: Layout, styles: Styles) -> None:
    width, height = layout.page_width, layout.page_height
    over = COVER_OVERDRAW
    canvas.saveState()
    canvas.setFillColor(HexColor(layout.cover_color))
    canvas.rect(-over, -over, width + 2 * over, height + 2 * over, stroke=0, fill=1)
    if layout.cover_image is not None:
        canvas.drawImage(ImageReader(str(layout.cover_image)), -over, -over, width + 2 * over,
                         height + 2 * over, preserveAspectRatio=False)
    canvas.setFillColor(HexColor(layout.accent_color))
    canvas.rect(-over, height * 0.56, width + 2 * over, 5, stroke=0, fill=1)
    margin = max(layout.margin_inner, layout.margin_outer)
    measure = width - 2 * margin
    ink = HexColor(layout.cover_text_color)
    title = ParagraphStyle("cover_title", fontName=styles.heading.bold, fontSize=layout.headline_size * 2.1,
                           leading=layout.headline_size * 2.35, textColor=ink)
    subtitle = ParagraphStyle("cover_subtitle", fontName=styles.body.italic,
                              fontSize=layout.body_size + 4, leading=(layout.body_size + 4) * 1.35,
                              textColor=ink)
    caption = ParagraphStyle("cover_caption", fontName=styles.caption.regular,
                             fontSize=layout.caption_size + 2, leading=(layout.caption_size + 2) * 1.4,
                             textColor=ink)
    y = height * 0.56 + 28
    for text, style in ((book.subtitle, subtitle), (book.title, title)):
        if text:
            paragraph = text_paragraph(text, style, styles.fallbacks)
            _, h = paragraph.wrap(measure, height)
            paragraph.drawOn(canvas, margin, y)
            y += h + 14
    lines = [book.words("edited_by", editor=book.editor) if book.editor else "", ", ".join(
        p for p in (book.edition, book.date) if p)]
    y = height * 0.56 - 40
    for text in filter(None, lines):
        paragraph = text_paragraph(text, caption, styles.fallbacks)
        _, h = paragraph.wrap(measure, height)
        y -= h
        paragraph.drawOn(canvas, margin, y)
    if layout.logo is not None:
        logo = ImageReader(str(layout.logo))
        w, h = logo.getSize()
        size = layout.margin_bottom * 0.6
        canvas.drawImage(logo, margin, layout.margin_bottom * 0.7, size * w / h, size, mask="auto")
    canvas.restoreState()
