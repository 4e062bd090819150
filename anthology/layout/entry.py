"""Lay out one entry (or a part's divider) on its own pages, independent of where it lands.

Nothing on an entry's pages depends on its position: folios and running heads
are stamped at assembly. That makes an entry's PDF a function of its content
and the layout alone, which is what lets entries be laid out in parallel and
cached, and an extract be cut from the book without re-rendering.

An entry is rendered as if its first page were a right-hand page; assembly
shifts the pages of a mirrored layout when an entry starts on the left.
"""

from __future__ import annotations

import dataclasses
import io
import math

from reportlab.platypus import Flowable, Spacer
from reportlab.platypus.flowables import BalancedColumns, HRFlowable

from ..model import Block, Entry, Layout, Paragraph, Part, Piece
from ..words import Words
from .flowables import BlockRenderer, NameBlock, PullQuote, bio_box, text_paragraph
from .images import prepare_headshot
from .pages import BookDocTemplate, render, text_height, used_height
from .styles import Styles, build_styles
from .tagging import Node

PULL_QUOTE_AFTER = 2
"""The pull quote follows this many paragraphs (or the last one, in a shorter entry)."""


def layout_entry(entry: Entry, layout: Layout, language: str = "en") -> Piece:
    """An entry on pages of its own, without folios, hyphenated in its language (else the book's, ``language``)."""
    c = entry.contribution
    book_language, language = language, c.language or language
    styles = build_styles(layout, language)
    fallbacks = styles.fallbacks
    renderer = BlockRenderer(styles, layout.accent_color, layout.accent_color, c.slug)
    affiliation = ", ".join(part for part in (c.role, c.organization) if part)
    photo = prepare_headshot(c.photo, layout.photo_size, c.photo_focus) if c.photo else None
    story: list[Flowable] = [
        text_paragraph(c.title, styles.headline, fallbacks, Node("H1")),
        HRFlowable(width=styles.headline.fontSize * 1.6, thickness=2.2, color=layout.accent_color,
                   hAlign="LEFT", spaceBefore=2, spaceAfter=styles.text.leading),
        NameBlock(text_paragraph(c.name, styles.name, fallbacks, Node("P")),
                  text_paragraph(affiliation, styles.affiliation, fallbacks, Node("P")) if affiliation else None,
                  photo, layout.photo_size, layout.accent_color, round_crop=layout.photo_shape == "circle",
                  figure=Node("Figure", alt=Words.of(book_language)("portrait_of", name=c.name),
                              lang=book_language if language != book_language else "")),
        Spacer(1, styles.text.leading * 1.4),
    ]
    body = renderer.render(entry.blocks)
    if c.pullquote:
        body.insert(_pull_quote_slot(entry), _pull_quote(c.pullquote, styles, layout))
    if layout.columns > 1:
        story.append(BalancedColumns(body, nCols=layout.columns, innerPadding=layout.column_gap / 2,
                                     topPadding=0, bottomPadding=0, leftPadding=0, rightPadding=0))
    else:
        story += body
    if c.bio or c.website:
        story.append(bio_box(c.name, c.bio, c.website, styles, layout.accent_color, layout.muted_color))
    buffer = io.BytesIO()
    doc = BookDocTemplate(buffer, layout, title=f"{c.name}: {c.title}", language=language,
                          initial_font=styles.body.regular)
    pdf, pages, fonts, structure = render(doc, story, buffer)
    return Piece(c.slug, "entry", pdf, pages, last_page_height=used_height(doc), fonts=fonts, structure=structure)


def _pull_quote_slot(entry: Entry) -> int:
    paragraphs = [i for i, block in enumerate(entry.blocks) if isinstance(block, Paragraph)]
    if not paragraphs:
        return len(entry.blocks)
    return paragraphs[min(PULL_QUOTE_AFTER, len(paragraphs)) - 1] + 1


def _pull_quote(text: str, styles: Styles, layout: Layout) -> Flowable:
    # A pull quote repeats the text: drawn without a structure element, it is an artifact.
    return PullQuote(text_paragraph("“" + text.strip("“”\"") + "”", styles.pullquote, styles.fallbacks),
                     layout.accent_color, space=styles.text.leading * 0.6)


def overflow(piece: Piece, layout: Layout) -> tuple[int, int] | None:
    """(whole pages, lines) by which an entry runs over the layout's page budget, or None."""
    budget = layout.entry_pages
    if not budget or piece.page_count <= budget:
        return None
    lines = math.ceil(piece.last_page_height / layout.body_leading - 0.01)
    return piece.page_count - budget - 1, max(1, lines)


def budget_verdict(piece: Piece, layout: Layout, words: Words | None = None) -> str:
    """"fits its 1-page budget", how far the entry runs over, or "" when the layout sets no budget.

    With ``words`` (for the contributor, on the form) it is said in the book's language.
    """
    if not layout.entry_pages:
        return ""
    over = overflow(piece, layout)
    if words is None:
        return describe_overflow(*over, layout.entry_pages) if over else f"fits its {layout.entry_pages}-page budget"
    budget = words.count("pages", layout.entry_pages)
    if not over:
        return words("budget_fits", pages=budget)
    amount = " + ".join(words.count(key, n) for key, n in (("pages", over[0]), ("lines", over[1])) if n)
    return words("budget_over", over=amount, pages=budget)


def describe_overflow(pages: int, lines: int, budget: int) -> str:
    over = " + ".join(part for part in (f"{pages} page{'s' * (pages != 1)}" if pages else "",
                                        f"{lines} line{'s' * (lines != 1)}") if part)
    return f"runs {over} over its {budget}-page budget"


def fit_entry(entry: Entry, layout: Layout, language: str = "en") -> Piece:
    """Lay out an entry, then try the layout's allowed steps until it fits its page budget.

    The steps shrink the body size (then the leading, then the headshot) a little
    at a time, never past the layout's ``fit`` minimums. The returned piece says
    in ``fit`` what was changed, or that nothing allowed was enough.
    """
    piece = layout_entry(entry, layout, language)
    if overflow(piece, layout) is None:
        return piece
    for variant in _fit_steps(layout):
        trial = layout_entry(entry, variant, language)
        if overflow(trial, variant) is None:
            return dataclasses.replace(trial, fit=f"fitted with {_settings(variant, layout)}")
    return dataclasses.replace(piece, fit="could not fit within the layout's fit limits")


def _fit_steps(layout: Layout) -> list[Layout]:
    """Ever tighter variants of ``layout`` within its ``fit`` minimums (none if it allows nothing)."""
    min_body = layout.fit_min_body or layout.body_size
    min_leading = layout.fit_min_leading or layout.body_leading
    min_photo = layout.fit_min_photo or layout.photo_size
    steps = []
    for step in range(1, 9):
        body = max(min_body, layout.body_size - 0.25 * step)
        leading = max(min_leading, layout.body_leading - 0.4 * step)
        photo = max(min_photo, layout.photo_size - 4 * step)
        variant = dataclasses.replace(layout, body_size=body, body_leading=leading, photo_size=photo)
        if variant != (steps[-1] if steps else layout):
            steps.append(variant)
    return steps


def _settings(variant: Layout, layout: Layout) -> str:
    changes = []
    if (variant.body_size, variant.body_leading) != (layout.body_size, layout.body_leading):
        changes.append(f"body {variant.body_size:g}/{variant.body_leading:g} pt "
                       f"(from {layout.body_size:g}/{layout.body_leading:g})")
    if variant.photo_size != layout.photo_size:
        changes.append(f"headshot {variant.photo_size / 72:.2f} in (from {layout.photo_size / 72:.2f})")
    return ", ".join(changes)


def layout_divider(part: Part, number: int, intro: tuple[Block, ...], layout: Layout,
                   language: str = "en", label_text: str = "") -> Piece:
    """A part's divider page: its label ("Part 2", in the book's language), title and introduction."""
    styles = build_styles(layout, language)
    renderer = BlockRenderer(styles, layout.accent_color, layout.accent_color)
    label = styles.affiliation.clone("part_label", fontSize=layout.caption_size + 2,
                                     leading=(layout.caption_size + 2) * 1.4, textColor=layout.accent_color)
    story: list[Flowable] = [
        Spacer(1, text_height(layout) * 0.28),
        text_paragraph(label_text or f"Part {number}", label, styles.fallbacks, Node("P")),
        Spacer(1, styles.text.leading * 0.5),
        text_paragraph(part.title, styles.divider_title, styles.fallbacks, Node("H1")),
        HRFlowable(width=styles.divider_title.fontSize * 1.6, thickness=2.2, color=layout.accent_color,
                   hAlign="LEFT", spaceBefore=4, spaceAfter=styles.text.leading * 1.5),
        *renderer.render(intro),
    ]
    buffer = io.BytesIO()
    doc = BookDocTemplate(buffer, layout, title=part.title, language=language, initial_font=styles.body.regular)
    pdf, pages, fonts, structure = render(doc, story, buffer)
    return Piece(f"part-{number}", "divider", pdf, pages, fonts=fonts, structure=structure)
