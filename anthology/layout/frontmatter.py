"""Cover, title page, introduction and table of contents, rendered once entries are laid out.

Entries are numbered from 1 in arabic figures and the front matter in roman
ones, so the entries' page numbers never depend on how long the contents
run: the front matter can be rendered once, with final numbers, and the
contents may take as many pages as they need.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.lib.colors import HexColor
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Frame, FrameBreak, NextPageTemplate, PageBreak, PageTemplate, Spacer
from reportlab.platypus import Paragraph as RLParagraph
from reportlab.platypus.flowables import TopPadder

from ..model import Block, BookConfig, Layout, LinkArea, RenderedFrontMatter
from .flowables import BlockRenderer, plain, text_paragraph
from .pages import BookDocTemplate, render, text_width
from .styles import Styles, build_styles


@dataclass(frozen=True, slots=True)
class ContentsLine:
    slug: str
    headline: str
    name: str
    label: str


class ContentsEntry(Flowable):
    """One line of the contents: headline, dot leaders, page number; the name below.

    When drawn it records its rectangle so that assembly can make it a link.
    """

    def __init__(self, line: ContentsLine, styles: Styles, number_style: ParagraphStyle,
                 links: list[LinkArea]) -> None:
        super().__init__()
        self.line, self.links = line, links
        headline_style = styles.list_item.clone("toc_headline", fontName=styles.body.regular,
                                                alignment=0, spaceAfter=0)
        self.headline = text_paragraph(line.headline, headline_style)
        self.name = text_paragraph(line.name, styles.affiliation)
        self.number_style = number_style
        self.gap = styles.text.fontSize * 2.8

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        self._head_h = self.headline.wrap(available_width - self.gap, available_height)[1]
        self._name_h = self.name.wrap(available_width - self.gap, available_height)[1]
        self.height = self._head_h + self._name_h + self.headline.style.leading * 0.55
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        top = self.height
        self.headline.drawOn(canvas, 0, top - self._head_h)
        style = self.headline.style
        baseline = top - self._head_h + (style.leading - style.fontSize) + style.fontSize * 0.05
        last = self.headline.blPara.lines[-1]
        used = self.width - self.gap - getattr(last, "extraSpace", last[0] if isinstance(last, tuple) else 0)
        canvas.saveState()
        canvas.setFont(self.number_style.fontName, self.number_style.fontSize)
        canvas.setFillColor(self.number_style.textColor)
        canvas.drawRightString(self.width, baseline, self.line.label)
        number_w = canvas.stringWidth(self.line.label, self.number_style.fontName, self.number_style.fontSize)
        dot_w = canvas.stringWidth(". ", self.number_style.fontName, self.number_style.fontSize)
        slot = max(number_w, canvas.stringWidth("000", self.number_style.fontName, self.number_style.fontSize))
        start, end = used + dot_w, self.width - slot - dot_w * 0.6  # one end for all: dots line up
        count = int((end - start) // dot_w)
        if count > 1:
            canvas.drawRightString(end, baseline, ". " * count)
        canvas.restoreState()
        self.name.drawOn(canvas, 0, top - self._head_h - self._name_h)
        x, y = canvas.absolutePosition(0, 0)
        self.links.append(LinkArea(canvas.getPageNumber() - 1,
                                   (x, y, x + self.width, y + self.height), self.line.slug))


def render_front_matter(book: BookConfig, layout: Layout, intro: tuple[Block, ...],
                        contents: list[ContentsLine]) -> RenderedFrontMatter:
    """Render cover, title page, introduction and contents; returns where each begins."""
    styles = build_styles(layout)
    links: list[LinkArea] = []
    marks: dict[str, int] = {}
    buffer = io.BytesIO()
    width, height = layout.page_width, layout.page_height
    title_frames = [
        Frame(layout.margin_inner, height * 0.45, text_width(layout), height * 0.55 - layout.margin_top * 1.6,
              id="title", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0),
        Frame(layout.margin_inner, layout.margin_bottom, text_width(layout), height * 0.25,
              id="imprint", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0),
    ]
    cover = PageTemplate("cover", [Frame(0, 0, width, height, id="cover")],
                         onPage=lambda canvas, doc: _draw_cover(canvas, book, layout, styles))
    title_page = PageTemplate("title", title_frames)
    doc = BookDocTemplate(buffer, layout, title=book.title, language=book.language,
                          initial_font=styles.body.regular, extra_templates=(cover, title_page))
    centered = ParagraphStyle("centered", parent=styles.page_title, alignment=TA_CENTER)
    imprint = styles.bio.clone("imprint", fontSize=layout.caption_size - 0.5,
                               leading=(layout.caption_size - 0.5) * 1.5)
    number_style = styles.text.clone("toc_number", fontName=styles.caption.regular,
                                     textColor=HexColor(layout.muted_color))
    story: list[Flowable] = [
        Spacer(1, 1), NextPageTemplate("title"), PageBreak(),
        text_paragraph(book.title, centered.clone("bt", fontSize=layout.headline_size * 1.3,
                                         leading=layout.headline_size * 1.55)),
    ]
    if book.subtitle:
        story.append(text_paragraph(book.subtitle, styles.affiliation.clone(
            "bs", alignment=TA_CENTER, fontSize=layout.body_size + 2, leading=(layout.body_size + 2) * 1.4)))
    if book.editor:
        story += [Spacer(1, layout.body_leading * 2),
                  text_paragraph(f"Edited by {book.editor}", styles.name.clone("be", alignment=TA_CENTER))]
    story.append(FrameBreak())
    imprint_lines = [book.title + (f": {book.subtitle}" if book.subtitle else ""),
                     ", ".join(p for p in (book.edition, book.date) if p), book.license,
                     f"Set in {_family_names(layout)}."]
    imprint_markup = "<br/>".join(plain(text, imprint) for text in imprint_lines if text)
    story.append(TopPadder(RLParagraph(imprint_markup, imprint)))  # sits at the foot of the page
    story += [NextPageTemplate("recto"), PageBreak(), _Mark("intro", marks),
              RLParagraph("Introduction", styles.page_title)]
    renderer = BlockRenderer(styles, layout.accent_color, layout.accent_color)
    story += renderer.render(intro)
    if book.editor:
        story.append(text_paragraph(f"— {book.editor}", styles.signature))
    story += [PageBreak(), _Mark("contents", marks), RLParagraph("Contents", styles.page_title)]
    story += [ContentsEntry(line, styles, number_style, links) for line in contents]
    pdf, pages = render(doc, story, buffer)
    return RenderedFrontMatter(pdf, pages, marks["intro"], marks["contents"], tuple(links))


class _Mark(Flowable):
    """Zero-size flowable that records the page it lands on."""

    def __init__(self, key: str, marks: dict[str, int]) -> None:
        super().__init__()
        self.key, self.marks = key, marks
        self.width = self.height = 0

    def draw(self) -> None:
        self.marks[self.key] = self.canv.getPageNumber() - 1


def _family_names(layout: Layout) -> str:
    names = {"source-serif": "Source Serif Pro", "source-sans": "Source Sans Pro"}
    families = dict.fromkeys((layout.body_font, layout.heading_font, layout.caption_font))
    return " and ".join(names.get(f, f) for f in families)


def _draw_cover(canvas: Canvas, book: BookConfig, layout: Layout, styles: Styles) -> None:
    width, height = layout.page_width, layout.page_height
    canvas.saveState()
    canvas.setFillColor(HexColor(layout.cover_color))
    canvas.rect(0, 0, width, height, stroke=0, fill=1)
    canvas.setFillColor(HexColor(layout.accent_color))
    canvas.rect(0, height * 0.56, width, 5, stroke=0, fill=1)
    margin = layout.margin_inner
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
            paragraph = text_paragraph(text, style)
            _, h = paragraph.wrap(measure, height)
            paragraph.drawOn(canvas, margin, y)
            y += h + 14
    lines = [f"Edited by {book.editor}" if book.editor else "", ", ".join(
        p for p in (book.edition, book.date) if p)]
    y = height * 0.56 - 40
    for text in filter(None, lines):
        paragraph = text_paragraph(text, caption)
        _, h = paragraph.wrap(measure, height)
        y -= h
        paragraph.drawOn(canvas, margin, y)
    canvas.restoreState()
