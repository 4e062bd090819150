"""Folios and running heads, drawn on an overlay once the book's order is final.

Assembly stamps overlay page *i* onto book page *i*, so entry PDFs never carry
a page number and do not change when an entry before them grows.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.lib.colors import HexColor
from reportlab.pdfgen.canvas import Canvas

from ..fonts import font_runs
from ..model import Layout
from .styles import build_styles


@dataclass(frozen=True, slots=True)
class PageFurniture:
    folio: str = ""
    """The printed page number, or empty for none (the cover)."""
    running_head: str = ""
    recto: bool = True


def render_furniture(layout: Layout, pages: list[PageFurniture]) -> bytes:
    """One overlay page per book page: folio at the foot, running head at the top."""
    styles = build_styles(layout)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(layout.page_width, layout.page_height), invariant=1,
                    initialFontName=styles.caption.regular, pageCompression=1)
    font, italic = styles.caption.regular, styles.caption.italic
    size = layout.caption_size
    muted = HexColor(layout.muted_color)
    centre = layout.page_width / 2
    measure = layout.page_width - layout.margin_inner - layout.margin_outer
    for page in pages:
        canvas.setFillColor(muted)
        if page.folio:
            _draw_centred(canvas, page.folio, font, size, centre, layout.margin_bottom * 0.5)
        if page.running_head:
            head = _fit(canvas, page.running_head, italic, size - 0.5, measure)
            _draw_centred(canvas, head, italic, size - 0.5, centre, layout.page_height - layout.margin_top * 0.55)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_centred(canvas: Canvas, text: str, face: str, size: float, centre: float, y: float) -> None:
    """Draw text centred on ``centre``, switching to a fallback face for characters ``face`` lacks."""
    runs = font_runs(text, face)
    x = centre - sum(canvas.stringWidth(run, f, size) for f, run in runs) / 2
    for run_face, run in runs:
        canvas.setFont(run_face, size)
        canvas.drawString(x, y, run)
        x += canvas.stringWidth(run, run_face, size)


def _fit(canvas: Canvas, text: str, font: str, size: float, width: float) -> str:
    """Shorten with an ellipsis until the text fits the measure."""
    if canvas.stringWidth(text, font, size) <= width:
        return text
    words = text.split()
    while words and canvas.stringWidth(" ".join(words) + " …", font, size) > width:
        words.pop()
    return " ".join(words) + " …"
