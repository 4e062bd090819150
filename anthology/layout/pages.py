"""Page geometry shared by entries, front matter and furniture.

Pages alternate recto (odd, right-hand) and verso; with mirrored margins the
inner margin is on the left of a recto and the right of a verso. An entry is
laid out as if its first page were a recto: layouts that mirror margins start
every entry on a right-hand page.
"""

from __future__ import annotations

import io

from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from ..model import Layout
from .tagging import TaggingCanvas


def left_margin(layout: Layout, recto: bool) -> float:
    """The binding side is on the left of a recto; only mirrored layouts move it on versos."""
    return layout.margin_inner if recto or not layout.mirrored else layout.margin_outer


def frame_for(layout: Layout, recto: bool, name: str) -> Frame:
    height = layout.page_height - layout.margin_top - layout.margin_bottom
    return Frame(left_margin(layout, recto), layout.margin_bottom, text_width(layout), height, id=name,
                 leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)


def text_width(layout: Layout) -> float:
    return layout.page_width - layout.margin_inner - layout.margin_outer


def text_height(layout: Layout) -> float:
    return layout.page_height - layout.margin_top - layout.margin_bottom


class BookDocTemplate(BaseDocTemplate):
    """A document of alternating recto/verso pages, reproducible byte for byte."""

    def __init__(self, buffer: io.BytesIO, layout: Layout, *, title: str, language: str,
                 initial_font: str, extra_templates: tuple[PageTemplate, ...] = ()) -> None:
        super().__init__(
            buffer, pagesize=(layout.page_width, layout.page_height), invariant=1,
            title=title, lang=language, initialFontName=initial_font, creator="anthology",
            producer="anthology", pageCompression=1,
        )
        self.page_templates_list = [
            *extra_templates,
            PageTemplate("recto", [frame_for(layout, True, "recto")], autoNextPageTemplate="verso"),
            PageTemplate("verso", [frame_for(layout, False, "verso")], autoNextPageTemplate="recto"),
        ]
        self.addPageTemplates(self.page_templates_list)


def render(doc: BookDocTemplate, story: list[Flowable],
           buffer: io.BytesIO) -> tuple[bytes, int, tuple[str, ...], str]:
    """Build ``story``; returns the PDF bytes, the page count, the font subsets it names and its structure.

    Fonts are written as stubs (see :class:`~anthology.fonts.StubFontCanvas`); the
    structure is what :class:`~anthology.layout.tagging.TaggingCanvas` recorded.
    """
    doc.build(story, canvasmaker=TaggingCanvas)
    return buffer.getvalue(), doc.page, doc.canv.base_fonts, doc.canv.structure()


def used_height(doc: BookDocTemplate) -> float:
    """How far down the last page's frame the text reached, once ``doc`` is built."""
    frame = doc.frame
    return frame._y1 + frame._height - frame._y  # ReportLab keeps its cursor here

