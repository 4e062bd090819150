"""A :class:`~anthology.model.Layout` turned into ReportLab paragraph styles.

Every style names its font explicitly: ReportLab's default is Helvetica,
which is not embedded, and one forgotten style would leave the book with an
unembedded font.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pyphen
from reportlab.lib.colors import HexColor
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.styles import ParagraphStyle

from ..fonts import register_family
from ..model import FontSet, Layout
from . import breaks
from .setting import Setting

breaks.install()  # long URLs and tokens break at URL-safe points, never past the margin


@dataclass(frozen=True)
class Styles:
    body: FontSet
    heading: FontSet
    caption: FontSet
    mono: FontSet
    """Code, in the layout's monospaced family."""
    fallbacks: tuple[str, ...]
    """The layout's fallback families, for every run of contributor text."""
    text: ParagraphStyle
    first: ParagraphStyle
    """The first paragraph of an entry or after a heading (no indent)."""
    subheading: ParagraphStyle
    minor_heading: ParagraphStyle
    headline: ParagraphStyle
    name: ParagraphStyle
    affiliation: ParagraphStyle
    quote: ParagraphStyle
    list_item: ParagraphStyle
    code: ParagraphStyle
    bio_name: ParagraphStyle
    bio: ParagraphStyle
    page_title: ParagraphStyle
    """'Introduction', 'Contents'."""
    signature: ParagraphStyle
    pullquote: ParagraphStyle
    divider_title: ParagraphStyle
    index_letter: ParagraphStyle
    table_cell: ParagraphStyle
    table_head: ParagraphStyle
    note: ParagraphStyle
    figure_caption: ParagraphStyle


def build_styles(layout: Layout, language: str = "en") -> Styles:
    """Styles for a layout; ``language`` picks the hyphenation patterns (pyphen)."""
    body = register_family(layout.body_font)
    heading = register_family(layout.heading_font)
    caption = register_family(layout.caption_font)
    mono = register_family(layout.code_font)
    for family in layout.fallback_fonts:
        register_family(family)
    hyphenation = pyphen.language_fallback(language.replace("-", "_")) if layout.hyphenate else None
    glue = layout.justify
    justified = Setting(justify=glue.justified, stretch=glue.stretch, shrink=glue.shrink,
                        space_factors=glue.space_factors, language=hyphenation or "",
                        tolerance=tolerance_for(layout))
    ragged = dataclasses.replace(justified, justify=False)
    ink, muted, accent = (HexColor(c) for c in (layout.text_color, layout.muted_color, layout.accent_color))
    size, leading = layout.body_size, layout.body_leading
    text = ParagraphStyle(
        "text", fontName=body.regular, fontSize=size, leading=leading, textColor=ink,
        alignment=TA_JUSTIFY if glue.justified else TA_LEFT, firstLineIndent=size * 1.4,
        allowWidows=0, allowOrphans=0, splitLongWords=1, embeddedHyphenation=0, hyphenationLang="",
        # the lines come from the total-fit breaker (``setting``); ReportLab only follows its breaks,
        # and must accept a line whose spaces shrink as far as the glue allows
        spaceShrinkage=glue.shrink + 0.05, setting=justified if glue.justified else ragged,
    )
    cell = ParagraphStyle("table_cell", parent=text, fontSize=size * 0.9, leading=leading * 0.9,
                          firstLineIndent=0, alignment=TA_LEFT, setting=ragged)
    small = layout.caption_size
    return Styles(
        body=body, heading=heading, caption=caption, mono=mono, fallbacks=layout.fallback_fonts, text=text,
        first=ParagraphStyle("first", parent=text, firstLineIndent=0),
        subheading=ParagraphStyle(
            "subheading", parent=text, fontName=heading.bold, fontSize=layout.subheading_size,
            leading=layout.subheading_size * 1.25, spaceBefore=leading * 0.9, spaceAfter=leading * 0.35,
            firstLineIndent=0, alignment=TA_LEFT, keepWithNext=1, textColor=ink, setting=None,
        ),
        minor_heading=ParagraphStyle(
            "minor_heading", parent=text, fontName=heading.bold_italic, fontSize=size,
            leading=leading, spaceBefore=leading * 0.6, spaceAfter=leading * 0.2,
            firstLineIndent=0, alignment=TA_LEFT, keepWithNext=1, setting=None,
        ),
        headline=ParagraphStyle(
            "headline", fontName=heading.bold, fontSize=layout.headline_size,
            leading=layout.headline_size * 1.18, textColor=ink, spaceAfter=layout.headline_size * 0.5,
        ),
        name=ParagraphStyle("name", fontName=caption.bold, fontSize=small + 2.5,
                            leading=(small + 2.5) * 1.3, textColor=ink),
        affiliation=ParagraphStyle("affiliation", fontName=caption.regular, fontSize=small + 0.5,
                                   leading=(small + 0.5) * 1.35, textColor=muted),
        quote=ParagraphStyle("quote", parent=text, fontName=body.italic, leftIndent=size * 1.6,
                             rightIndent=size * 1.6, firstLineIndent=0, alignment=TA_LEFT,
                             spaceBefore=leading * 0.3, spaceAfter=leading * 0.3, setting=ragged),
        list_item=ParagraphStyle("list_item", parent=text, firstLineIndent=0, alignment=TA_LEFT,
                                 spaceAfter=leading * 0.15, setting=ragged),
        code=ParagraphStyle("code", parent=text, fontName=mono.regular, fontSize=size * 0.8,
                            leading=leading * 0.9, firstLineIndent=0, alignment=TA_LEFT, leftIndent=size * 1.6,
                            hyphenationLang="", spaceBefore=leading * 0.3, spaceAfter=leading * 0.5,
                            setting=None, spaceShrinkage=0.05),
        bio_name=ParagraphStyle("bio_name", fontName=caption.bold, fontSize=small,
                                leading=small * 1.4, textColor=ink),
        bio=ParagraphStyle("bio", fontName=caption.regular, fontSize=small, leading=small * 1.4,
                           textColor=muted, setting=ragged),
        page_title=ParagraphStyle("page_title", fontName=heading.bold, fontSize=layout.headline_size,
                                  leading=layout.headline_size * 1.2, textColor=ink,
                                  spaceAfter=layout.headline_size),
        signature=ParagraphStyle("signature", parent=text, fontName=body.italic, alignment=TA_CENTER,
                                 firstLineIndent=0, spaceBefore=leading, setting=None),
        pullquote=ParagraphStyle("pullquote", fontName=heading.italic, fontSize=size * 1.45,
                                 leading=size * 1.45 * 1.3, textColor=accent, alignment=TA_LEFT,
                                 spaceBefore=leading * 0.3, spaceAfter=leading * 0.3, leftIndent=0,
                                 rightIndent=size * 1.2, hyphenationLang=""),
        divider_title=ParagraphStyle("divider_title", fontName=heading.bold, fontSize=layout.headline_size * 1.5,
                                     leading=layout.headline_size * 1.8, textColor=ink, alignment=TA_LEFT,
                                     spaceAfter=layout.headline_size * 0.6),
        index_letter=ParagraphStyle("index_letter", fontName=heading.bold, fontSize=layout.subheading_size,
                                    leading=layout.subheading_size * 1.4, textColor=accent,
                                    spaceBefore=leading * 0.4, spaceAfter=0, keepWithNext=1),
        table_cell=cell,
        table_head=ParagraphStyle("table_head", parent=cell, fontName=body.bold),
        note=ParagraphStyle("note", parent=cell, fontSize=size * 0.85, leading=leading * 0.85,
                            leftIndent=size * 1.4, firstLineIndent=-size * 1.4, spaceAfter=leading * 0.2),
        figure_caption=ParagraphStyle("figure_caption", fontName=caption.italic, fontSize=small, leading=small * 1.35,
                                      textColor=muted, alignment=TA_CENTER, spaceAfter=leading * 0.6),
    )



def tolerance_for(layout: Layout) -> float:
    """TeX's tolerance (200) for a text column of 30 ems or more; narrower columns have fewer
    spaces per line to share the slack, so they may be looser before the emergency pass."""
    width = (layout.page_width - layout.margin_inner - layout.margin_outer
             - layout.column_gap * (layout.columns - 1)) / layout.columns
    return 200 if width >= 30 * layout.body_size else 400
