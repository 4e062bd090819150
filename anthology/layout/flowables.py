"""Blocks from the text stage become ReportLab flowables, escaped on the way.

This is the only place where contributor text meets ReportLab's paragraph
markup, and it goes through :func:`markup`, which escapes ``&``, ``<`` and
``>`` in every run and quotes link targets. A test feeds it ReportLab and
HTML tags and checks that they come out of the PDF as literal text.
"""

from __future__ import annotations

import io
import itertools
from xml.sax.saxutils import escape, quoteattr

from reportlab.lib.colors import HexColor
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, KeepTogether, ListFlowable, ListItem, Spacer
from reportlab.platypus import Paragraph as RLParagraph
from reportlab.platypus.flowables import HRFlowable

from ..fonts import font_runs
from ..model import Block, CodeBlock, FontSet, Heading, ListBlock, Paragraph, Quote, Rule, Span
from .styles import Styles


def markup(spans: tuple[Span, ...], fonts: FontSet, code_face: str, link_color: str,
           fallbacks: tuple[str, ...], *, bold: bool = False, italic: bool = False) -> str:
    """ReportLab paragraph markup for plain spans; every character of text is escaped.

    ``bold`` and ``italic`` are the surrounding style's own weight and slant (a heading
    is bold throughout); a span's emphasis adds to them.
    """
    parts: list[str] = []
    for span in spans:
        if span.line_break:
            parts.append("<br/>")
            continue
        face = code_face if span.code else _face(fonts, span.bold or bold, span.italic or italic)
        text = "".join(f"<font face={quoteattr(run_face)}>{escape(run)}</font>"
                       for run_face, run in font_runs(span.text, face, fallbacks))
        if span.href:
            text = f"<a href={quoteattr(span.href)} color={quoteattr(link_color)}>{text}</a>"
        parts.append(text)
    return "".join(parts)


def _face(fonts: FontSet, bold: bool, italic: bool) -> str:
    return {(False, False): fonts.regular, (False, True): fonts.italic,
            (True, False): fonts.bold, (True, True): fonts.bold_italic}[(bold, italic)]


def plain(text: str, style: ParagraphStyle, fallbacks: tuple[str, ...]) -> str:
    """Markup for a metadata string (a name, a bio) in ``style``: escaped, nothing else.

    Characters the style's font lacks are set in a fallback face instead of a box.
    """
    return "".join(escape(run) if face == style.fontName
                   else f"<font face={quoteattr(face)}>{escape(run)}</font>"
                   for face, run in font_runs(text, style.fontName, fallbacks))


def text_paragraph(text: str, style: ParagraphStyle, fallbacks: tuple[str, ...]) -> RLParagraph:
    """A paragraph of plain contributor text (never interpreted as markup)."""
    return RLParagraph(plain(text, style, fallbacks), style)


class LongParagraph(Flowable):
    """A very long paragraph, line-broken once and handed to ReportLab in short pieces.

    When a paragraph runs over a page, ReportLab breaks the *whole remainder*
    into lines again on the next page, so a paragraph of n lines costs about
    n²/(lines per page): a 100 000-word paragraph took minutes. This breaks the
    lines once for the frame width and cuts the paragraph into pieces of
    :attr:`PIECE_LINES` lines using ReportLab's own split of a broken paragraph;
    every piece but the last justifies its last line, so the page looks exactly
    as if the paragraph had been set whole.
    """

    PIECE_LINES = 40

    def __init__(self, paragraph: RLParagraph) -> None:
        super().__init__()
        self.paragraph = paragraph
        self._pieces: list[RLParagraph] = []
        self._for_width = -1.0

    def _cut(self, width: float) -> list[RLParagraph]:
        if width == self._for_width:
            return self._pieces
        whole = self.paragraph
        self._whole_height = whole.wrap(width, 1e9)[1]
        lines = whole.blPara.lines
        count = max(1, round(len(lines) / self.PIECE_LINES))
        bounds = [len(lines) * i // count for i in range(count + 1)]
        cut = whole._get_split_blParaFunc()
        style = whole.style
        self._pieces = []
        for index, (start, stop) in enumerate(itertools.pairwise(bounds)):
            piece_style = ParagraphStyle(
                f"{style.name}-piece", parent=style,
                firstLineIndent=style.firstLineIndent if index == 0 else 0,
                spaceBefore=style.spaceBefore if index == 0 else 0,
                spaceAfter=style.spaceAfter if stop == len(lines) else 0)
            piece = whole.__class__(None, piece_style, frags=cut(whole.blPara, start, stop))
            if hasattr(whole, "rule_color"):  # a quote's rule colour travels with its pieces
                piece.rule_color = whole.rule_color
            piece._JustifyLast = stop < len(lines) and not getattr(lines[stop - 1], "lineBreak", False)
            self._pieces.append(piece)
        self._for_width = width
        return self._pieces

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self._cut(available_width)
        self.width, self.height = available_width, self._whole_height
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        """The pieces, with the first split again if it does not fit (ReportLab needs S[0] to fit)."""
        first, *rest = self._cut(available_width)
        if first.wrap(available_width, available_height)[1] <= available_height:
            return [first, *rest]
        head = first.split(available_width, available_height)
        if not head:
            return []
        head[-1]._JustifyLast = first._JustifyLast  # ReportLab's split forgets it on the remainder
        return [*head, *rest]

    def draw(self) -> None:
        """Only when the whole paragraph fits the frame (a wide page); normally it is split."""
        top = self.height
        for piece in self._pieces:
            top -= piece.wrap(self.width, self.height)[1]
            piece.drawOn(self.canv, 0, top)

    def getSpaceBefore(self) -> float:
        return self.paragraph.style.spaceBefore

    def getSpaceAfter(self) -> float:
        return self.paragraph.style.spaceAfter


LONG_PARAGRAPH_CHARS = 6000
"""Paragraphs longer than this (about two pages) are set as a :class:`LongParagraph`."""


def body_paragraph(paragraph: RLParagraph, length: int) -> Flowable:
    """``paragraph`` as it should be laid out: in pieces when its ``length`` in characters is large."""
    return LongParagraph(paragraph) if length > LONG_PARAGRAPH_CHARS else paragraph


class RuledParagraph(RLParagraph):
    """A paragraph with a rule in the left margin, for block quotes (survives splitting)."""

    rule_color = HexColor("#999999")

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        parts = super().split(available_width, available_height)
        for part in parts:  # ReportLab builds the halves anew; keep this quote's colour
            part.rule_color = self.rule_color
        return parts

    def draw(self) -> None:
        super().draw()
        canvas = self.canv
        canvas.saveState()
        canvas.setStrokeColor(self.rule_color)
        canvas.setLineWidth(1.5)
        x = self.style.leftIndent - self.style.fontSize * 0.9
        canvas.line(x, 0, x, self.height)
        canvas.restoreState()


class BlockRenderer:
    """Turns blocks into flowables for one layout."""

    def __init__(self, styles: Styles, link_color: str, rule_color: str) -> None:
        self.styles = styles
        self.link_color = link_color
        self.rule_color = HexColor(rule_color)

    def _markup(self, spans: tuple[Span, ...], fonts: FontSet | None = None, *,
                bold: bool = False, italic: bool = False) -> str:
        return markup(spans, fonts or self.styles.body, self.styles.caption.regular, self.link_color,
                      self.styles.fallbacks, bold=bold, italic=italic)

    def render(self, blocks: tuple[Block, ...], *, first_indent: bool = False) -> list[Flowable]:
        flowables: list[Flowable] = []
        after_break = not first_indent
        for block in blocks:
            if isinstance(block, Paragraph):
                style = self.styles.first if after_break else self.styles.text
                flowables.append(body_paragraph(RLParagraph(self._markup(block.spans), style), _length(block.spans)))
                after_break = False
                continue
            after_break = True
            if isinstance(block, Heading):
                style = self.styles.subheading if block.level == 2 else self.styles.minor_heading
                text = self._markup(block.spans, self.styles.heading, bold=True, italic=block.level == 3)
                flowables.append(RLParagraph(text, style))
            elif isinstance(block, ListBlock):
                flowables.append(self._list(block))
            elif isinstance(block, Quote):
                flowables += self._quote(block)
            elif isinstance(block, Rule):
                flowables.append(HRFlowable(width="30%", thickness=0.8, color=self.rule_color,
                                            spaceBefore=self.styles.text.leading * 0.8,
                                            spaceAfter=self.styles.text.leading * 0.8, hAlign="CENTER"))
            elif isinstance(block, CodeBlock):
                text = "<br/>".join(escape(line).replace(" ", "\u00a0") for line in block.text.split("\n"))
                flowables.append(body_paragraph(RLParagraph(text, self.styles.code), len(block.text)))
        return flowables

    def _list(self, block: ListBlock) -> ListFlowable:
        items = []
        for item in block.items:
            content: list[Flowable] = []
            for sub in item:
                if isinstance(sub, Paragraph):
                    content.append(RLParagraph(self._markup(sub.spans), self.styles.list_item))
                else:
                    content += self.render((sub,))
            items.append(ListItem(content))
        style = self.styles.text
        common = dict(leftIndent=style.fontSize * 1.8, bulletFontName=self.styles.body.regular,
                      bulletFontSize=style.fontSize, spaceBefore=style.leading * 0.2,
                      spaceAfter=style.leading * 0.4, bulletColor=style.textColor)
        if block.ordered:
            return ListFlowable(items, bulletType="1", start=str(block.start), bulletFormat="%s.",
                                **common)
        return ListFlowable(items, bulletType="bullet", start="•", **common)

    def _quote(self, block: Quote) -> list[Flowable]:
        flowables: list[Flowable] = []
        for sub in block.blocks:
            if isinstance(sub, Paragraph):
                paragraph = RuledParagraph(self._markup(sub.spans, italic=True), self.styles.quote)
                paragraph.rule_color = self.rule_color
                flowables.append(body_paragraph(paragraph, _length(sub.spans)))
            else:
                flowables += self.render((sub,))
        return flowables


def _length(spans: tuple[Span, ...]) -> int:
    return sum(len(span.text) for span in spans)


class NameBlock(Flowable):
    """The contributor's name and affiliation, with a round headshot at the left when given."""

    def __init__(self, name: RLParagraph, affiliation: RLParagraph | None,
                 photo: bytes | None, diameter: float, ring_color: str, *, round_crop: bool = True) -> None:
        super().__init__()
        self.round_crop = round_crop
        self.name, self.affiliation = name, affiliation
        self.photo = ImageReader(io.BytesIO(photo)) if photo is not None else None
        self.diameter = diameter if photo is not None else 0
        self.gap = diameter * 0.28 if photo is not None else 0
        self.ring_color = HexColor(ring_color)

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        text_width = available_width - self.diameter - self.gap
        self._name_h = self.name.wrap(text_width, available_height)[1]
        self._aff_h = self.affiliation.wrap(text_width, available_height)[1] if self.affiliation else 0
        self.width = available_width
        self.height = max(self.diameter, self._name_h + self._aff_h)
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        text_h = self._name_h + self._aff_h
        if self.photo is not None:
            d = self.diameter
            y = (self.height - d) / 2
            canvas.saveState()
            path = canvas.beginPath()
            if self.round_crop:
                path.circle(d / 2, y + d / 2, d / 2)
            else:
                path.rect(0, y, d, d)
            canvas.clipPath(path, stroke=0, fill=0)
            canvas.drawImage(self.photo, 0, y, d, d)
            canvas.restoreState()
            canvas.saveState()
            canvas.setStrokeColor(self.ring_color)
            canvas.setLineWidth(0.75)
            if self.round_crop:
                canvas.circle(d / 2, y + d / 2, d / 2, stroke=1, fill=0)
            else:
                canvas.rect(0, y, d, d, stroke=1, fill=0)
            canvas.restoreState()
        x = self.diameter + self.gap
        top = (self.height + text_h) / 2
        self.name.drawOn(canvas, x, top - self._name_h)
        if self.affiliation:
            self.affiliation.drawOn(canvas, x, top - text_h)


def bio_box(name: str, bio: str, website: str, styles: Styles, link_color: str,
            rule_color: str) -> Flowable:
    """The note about the contributor at the end of the entry, never split from its name."""
    parts: list[Flowable] = [
        Spacer(1, styles.text.leading * 0.6),
        HRFlowable(width="100%", thickness=0.5, color=HexColor(rule_color), spaceAfter=6),
        text_paragraph(name, styles.bio_name, styles.fallbacks),
    ]
    if bio:
        parts.append(text_paragraph(bio, styles.bio, styles.fallbacks))
    if website:
        shown = plain(website, styles.bio, styles.fallbacks)
        link = f"<a href={quoteattr(website)} color={quoteattr(link_color)}>{shown}</a>"
        parts.append(RLParagraph(link, styles.bio))
    return KeepTogether(parts)


class PullQuote(Flowable):
    """A pull quote between two short rules, as one piece that is never split.

    Inside balanced columns a split group (``KeepTogether``) can still break
    after its top rule; this flowable has no split at all, so the quote moves
    whole to the next column or page, rules and all.
    """

    RULE = 1.2

    def __init__(self, quote: Flowable, color: str, space: float) -> None:
        super().__init__()
        self.quote, self.color, self.space = quote, color, space
        self.spaceBefore = self.spaceAfter = space

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        _, quote_height = self.quote.wrap(available_width, available_height)
        self.width, self.height = available_width, quote_height + 2 * (self.RULE + 2)
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        return []

    def draw(self) -> None:
        canvas = self.canv
        canvas.saveState()
        canvas.setStrokeColor(HexColor(self.color))
        canvas.setLineWidth(self.RULE)
        rule = self.width * 0.35
        canvas.line(0, self.height - self.RULE / 2, rule, self.height - self.RULE / 2)
        canvas.line(0, self.RULE / 2, rule, self.RULE / 2)
        canvas.restoreState()
        self.quote.drawOn(canvas, 0, self.RULE + 2)
