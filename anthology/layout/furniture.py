"""Folios, running heads and crop marks, drawn on overlays once the book's order is final.

Assembly stamps overlay page *i* onto book page *i*, so entry PDFs never carry
a page number and do not change when an entry before them grows. Where the
folio and the running head go is the layout's choice (``furniture:``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.lib.colors import HexColor
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from ..fonts import StubFontCanvas, font_runs
from ..model import Layout
from .pages import left_margin, text_width
from .styles import build_styles


@dataclass(frozen=True, slots=True)
class PageFurniture:
    folio: str = ""
    """The printed page number, or empty for none (cover, blank and display pages)."""
    running_head: str = ""
    recto: bool = True
    proof: bool = False
    """Stamp a light PROOF across the page (an entry not yet approved)."""


def render_furniture(layout: Layout, pages: list[PageFurniture], proof_word: str = "PROOF"
                     ) -> tuple[bytes, tuple[str, ...]]:
    """One overlay page per book page with its folio and running head; also the font subsets it names."""
    styles = build_styles(layout)
    buffer = io.BytesIO()
    canvas = StubFontCanvas(buffer, pagesize=(layout.page_width, layout.page_height), invariant=1,
                            initialFontName=styles.caption.regular, pageCompression=1)
    font, italic = styles.caption.regular, styles.caption.italic
    size = layout.caption_size
    muted = HexColor(layout.muted_color)
    measure = text_width(layout)
    head_y = layout.page_height - layout.margin_top * 0.55
    for page in pages:
        canvas.setFillColor(muted)
        left = left_margin(layout, page.recto)
        centre, outside = left + measure / 2, (left + measure if page.recto else left)
        align = "right" if page.recto else "left"
        if page.folio and layout.folio == "bottom-center":
            _draw(canvas, page.folio, font, size, centre, layout.margin_bottom * 0.5, styles.fallbacks, "center")
        elif page.folio and layout.folio == "bottom-outside":
            _draw(canvas, page.folio, font, size, outside, layout.margin_bottom * 0.5, styles.fallbacks, align)
        elif page.folio and layout.folio == "top-outside":
            _draw(canvas, page.folio, font, size, outside, head_y, styles.fallbacks, align)
        if page.proof:
            canvas.saveState()
            canvas.setFillColorRGB(0.78, 0.16, 0.16, alpha=0.13)
            canvas.translate(layout.page_width / 2, layout.page_height / 2)
            canvas.rotate(35)
            # as large as fits across the page's diagonal, whatever the word's length in the book's language
            stamp = min(layout.page_width * 0.2, layout.page_width * 1.05 / max(
                0.1, pdfmetrics.stringWidth(proof_word, styles.caption.bold, 1)))
            canvas.setFont(styles.caption.bold, stamp)
            canvas.drawCentredString(0, -stamp * 0.35, proof_word)
            canvas.restoreState()
            canvas.setFillColor(muted)
        if page.running_head:
            room = measure - (4 * size if layout.folio == "top-outside" else 0)
            head = _fit(canvas, page.running_head, italic, size - 0.5, room)
            _draw(canvas, head, italic, size - 0.5, centre, head_y, styles.fallbacks, "center")
            if layout.head_rule:
                canvas.setStrokeColor(muted)
                canvas.setLineWidth(0.4)
                canvas.line(left, head_y - size * 0.6, left + measure, head_y - size * 0.6)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue(), canvas.base_fonts


def print_marks_page(layout: Layout) -> bytes:
    """Crop marks at the four trim corners, outside the bleed, on a page grown for print."""
    slug = layout.bleed + 24
    width, height = layout.page_width + 2 * slug, layout.page_height + 2 * slug
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), invariant=1, pageCompression=1)
    outside = slug - layout.bleed  # paper beyond the bleed stays white, so the marks show on dark covers
    canvas.setFillColorRGB(1, 1, 1)
    for x, y, w, h in ((0, 0, width, outside), (0, height - outside, width, outside),
                       (0, 0, outside, height), (width - outside, 0, outside, height)):
        canvas.rect(x, y, w, h, stroke=0, fill=1)
    canvas.setLineWidth(0.25)
    canvas.setStrokeColorCMYK(1, 1, 1, 1)  # registration black: shows on every plate
    gap, length = layout.bleed + 3, 12
    for x in (slug, slug + layout.page_width):
        for y in (slug, slug + layout.page_height):
            outward_x = -1 if x == slug else 1
            outward_y = -1 if y == slug else 1
            canvas.line(x, y + outward_y * gap, x, y + outward_y * (gap + length))
            canvas.line(x + outward_x * gap, y, x + outward_x * (gap + length), y)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw(canvas: Canvas, text: str, face: str, size: float, x: float, y: float,
          fallbacks: tuple[str, ...], align: str) -> None:
    """Draw text aligned on ``x``, switching to a fallback face for characters ``face`` lacks."""
    runs = font_runs(text, face, fallbacks)
    width = sum(canvas.stringWidth(run, f, size) for f, run in runs)
    x -= {"left": 0, "center": width / 2, "right": width}[align]
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
