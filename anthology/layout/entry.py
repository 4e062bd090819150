"""Lay out one entry on its own pages, independent of where it lands in the book.

Nothing on an entry's pages depends on its position: folios and running heads
are stamped at assembly. That makes an entry's PDF a function of its content
and the layout alone, which is what lets entries be laid out in parallel and
cached, and an extract be cut from the book without re-rendering.
"""

from __future__ import annotations

import io

from reportlab.platypus import Flowable, Spacer
from reportlab.platypus.flowables import HRFlowable

from ..model import Entry, LaidOutEntry, Layout
from .flowables import BlockRenderer, NameBlock, bio_box, text_paragraph
from .images import prepare_headshot
from .pages import BookDocTemplate, render
from .styles import build_styles


def layout_entry(entry: Entry, layout: Layout, language: str = "en") -> LaidOutEntry:
    """Render an entry to a standalone PDF (no folios); returns its bytes and page count."""
    c = entry.contribution
    styles = build_styles(layout)
    renderer = BlockRenderer(styles, layout.accent_color, layout.accent_color)
    affiliation = ", ".join(part for part in (c.role, c.organization) if part)
    photo = prepare_headshot(c.photo, layout.photo_size) if c.photo else None
    story: list[Flowable] = [
        text_paragraph(c.title, styles.headline),
        HRFlowable(width=styles.headline.fontSize * 1.6, thickness=2.2, color=layout.accent_color,
                   hAlign="LEFT", spaceBefore=2, spaceAfter=styles.text.leading),
        NameBlock(text_paragraph(c.name, styles.name),
                  text_paragraph(affiliation, styles.affiliation) if affiliation else None,
                  photo, layout.photo_size, layout.accent_color),
        Spacer(1, styles.text.leading * 1.4),
        *renderer.render(entry.blocks),
    ]
    if c.bio or c.website:
        story.append(bio_box(c.name, c.bio, c.website, styles, layout.accent_color, layout.muted_color))
    buffer = io.BytesIO()
    doc = BookDocTemplate(buffer, layout, title=f"{c.name}: {c.title}", language=language,
                          initial_font=styles.body.regular)
    pdf, pages = render(doc, story, buffer)
    return LaidOutEntry(c.slug, pdf, pages)
