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
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Flowable, KeepTogether, ListFlowable, ListItem, Spacer, TableStyle
from reportlab.platypus import Paragraph as RLParagraph
from reportlab.platypus import Table as RLTable
from reportlab.platypus.flowables import BulletDrawer, HRFlowable

from ..fonts import font_runs
from ..model import (
    Block,
    CodeBlock,
    Figure,
    FontSet,
    Heading,
    ListBlock,
    Notes,
    Paragraph,
    Quote,
    Rule,
    Span,
    Table,
)
from .setting import SetParagraph
from .styles import Styles
from .tagging import CONTINUATION, Node, marked


def markup(spans: tuple[Span, ...], fonts: FontSet, code_face: str, link_color: str,
           fallbacks: tuple[str, ...], *, bold: bool = False, italic: bool = False, anchors: str = "",
           face: str = "") -> str:
    """ReportLab paragraph markup for plain spans; every character of text is escaped.

    ``bold`` and ``italic`` are the surrounding style's own weight and slant (a heading
    is bold throughout); a span's emphasis adds to them. ``anchors`` prefixes the names
    of footnote marks and notes, so they are unique in the book (the entry's slug).
    ``face`` is the paragraph style's own font: text in it needs no ``<font>`` tag, and
    ReportLab's markup parser reads a body paragraph about a third faster.
    """
    parts: list[str] = []
    for span in spans:
        if span.line_break:
            parts.append("<br/>")
            continue
        span_face = code_face if span.code else _face(fonts, span.bold or bold, span.italic or italic)
        text = "".join(escape(run) if run_face == face else f"<font face={quoteattr(run_face)}>{escape(run)}</font>"
                       for run_face, run in font_runs(span.text, span_face, fallbacks))
        if span.strike:
            text = f"<strike>{text}</strike>"
        if span.note:
            # The destination follows the visible mark: a zero-width anchor that begins a word stops
            # ReportLab from breaking that word (a note starting with a URL ran off the page).
            text = (f"<a href={quoteattr('#' + note_anchor(anchors, 'note', span.note))} "
                    f"color={quoteattr(link_color)}><super>{text}</super></a>"
                    f"<a name={quoteattr(note_anchor(anchors, 'mark', span.note))}/>")
        elif span.href:
            text = f"<a href={quoteattr(span.href)} color={quoteattr(link_color)}>{text}</a>"
        parts.append(text)
    return "".join(parts)


def note_anchor(prefix: str, kind: str, number: int) -> str:
    """The destination of a footnote's mark (``kind`` 'mark') or of the note itself ('note')."""
    return f"{prefix}-{kind}-{number}"


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


class TaggedParagraph(SetParagraph):
    """ReportLab's paragraph, drawn as marked content of its structure element (an artifact without one).

    The parts of a paragraph split over pages stay one element, with one MCID on each page.
    """

    node: Node | None = None

    def __init__(self, text: str | None, style: ParagraphStyle, node: Node | None = None, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(text, style, **kwargs)
        self.node = node

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        parts = super().split(available_width, available_height)
        for part in parts:
            part.node = self.node
        return parts

    def drawOn(self, canvas, x, y, _sW=0) -> None:  # type: ignore[no-untyped-def]
        with marked(canvas, self.node):
            super().drawOn(canvas, x, y, _sW)


def text_paragraph(text: str, style: ParagraphStyle, fallbacks: tuple[str, ...],
                   node: Node | None = None) -> TaggedParagraph:
    """A paragraph of plain contributor text (never interpreted as markup), as marked content of ``node``."""
    return TaggedParagraph(plain(text, style, fallbacks), style, node)


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

    def __init__(self, paragraph: SetParagraph) -> None:
        super().__init__()
        self.paragraph = paragraph
        self._pieces: list[SetParagraph] = []
        self._for_width = -1.0

    def _cut(self, width: float) -> list[SetParagraph]:
        if width == self._for_width:
            return self._pieces
        whole = self.paragraph
        self._whole_height = whole.wrap(width, 1e9)[1]
        lines = whole.blPara.lines
        count = max(1, round(len(lines) / self.PIECE_LINES))
        bounds = sorted({_after_unhyphenated(lines, len(lines) * i // count) for i in range(count + 1)})
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
            piece.node = getattr(whole, "node", None)  # every piece is part of the paragraph's element
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


def _after_unhyphenated(lines: list, bound: int) -> int:  # type: ignore[type-arg]
    """``bound``, moved on past lines ending in a hyphen: a piece never ends on one, since the page
    may end with the piece (the total-fit breaker never sets three hyphenated lines in a row)."""
    while 0 < bound < len(lines) and getattr((getattr(lines[bound - 1], "words", None) or [None])[-1],
                                             "kp_hyphen", False):
        bound += 1
    return bound


LONG_PARAGRAPH_CHARS = 6000
"""Paragraphs longer than this (about two pages) are set as a :class:`LongParagraph`."""


def body_paragraph(paragraph: SetParagraph, length: int) -> Flowable:
    """``paragraph`` as it should be laid out: in pieces when its ``length`` in characters is large."""
    return LongParagraph(paragraph) if length > LONG_PARAGRAPH_CHARS else paragraph


class TaggedList(ListFlowable):
    """ReportLab's list, each item's bullet or number drawn as marked content of its Lbl element."""

    def __init__(self, items: list[ListItem], labels: list[Node | None], **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(items, **kwargs)
        self._labels = iter(labels)

    def _makeBullet(self, value, params=None):  # type: ignore[no-untyped-def]  # ReportLab's name
        """Called once per item, in order, when ReportLab first lays the list out."""
        drawer = super()._makeBullet(value, params)
        drawer.__class__, drawer.label = _LabelledBullet, next(self._labels, None)
        return drawer


class _LabelledBullet(BulletDrawer):
    label: Node | None = None

    def drawOn(self, indenter, canv, x, y, _sW=0) -> None:  # type: ignore[no-untyped-def]
        with marked(canv, self.label):
            super().drawOn(indenter, canv, x, y, _sW)


class RuledParagraph(TaggedParagraph):
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

    def __init__(self, styles: Styles, link_color: str, rule_color: str, anchors: str = "text") -> None:
        self.styles = styles
        self.link_color = link_color
        self.rule_color = HexColor(rule_color)
        self.anchors = anchors
        """Prefix of footnote destinations: the entry's slug, unique in the book."""
        self._note_more = ParagraphStyle("note_more", parent=styles.note, firstLineIndent=0)

    def _markup(self, spans: tuple[Span, ...], fonts: FontSet | None = None, *,
                bold: bool = False, italic: bool = False, face: str = "") -> str:
        return markup(spans, fonts or self.styles.body, self.styles.mono.regular, self.link_color,
                      self.styles.fallbacks, bold=bold, italic=italic, anchors=self.anchors, face=face)

    def render(self, blocks: tuple[Block, ...], *, first_indent: bool = False,
               parent: Node | None = None) -> list[Flowable]:
        """Flowables for ``blocks``, each drawn as (part of) a structure element under ``parent``.

        Headings are H2 and H3 as in the Markdown, below the piece's own H1 (assembly
        moves them down a level inside a part).
        """
        flowables: list[Flowable] = []
        after_break = not first_indent
        for block in blocks:
            if isinstance(block, Paragraph):
                style = self.styles.first if after_break else self.styles.text
                flowables.append(body_paragraph(TaggedParagraph(self._markup(block.spans, face=style.fontName), style,
                                                                Node("P", parent)),
                                                _length(block.spans)))
                after_break = False
                continue
            after_break = True
            if isinstance(block, Heading):
                style = self.styles.subheading if block.level == 2 else self.styles.minor_heading
                text = self._markup(block.spans, self.styles.heading, bold=True, italic=block.level == 3)
                flowables.append(TaggedParagraph(text, style, Node(f"H{block.level}", parent)))
            elif isinstance(block, ListBlock):
                flowables.append(self._list(block, parent))
            elif isinstance(block, Quote):
                flowables += self._quote(block, parent)
            elif isinstance(block, Rule):
                flowables.append(HRFlowable(width="30%", thickness=0.8, color=self.rule_color,
                                            spaceBefore=self.styles.text.leading * 0.8,
                                            spaceAfter=self.styles.text.leading * 0.8, hAlign="CENTER"))
            elif isinstance(block, CodeBlock):
                flowables.append(CodeFlowable(block.text, self.styles.code, self.styles.fallbacks,
                                              self.styles.affiliation.textColor, Node("P", parent)))
            elif isinstance(block, Table):
                flowables.append(self._table(block, parent))
            elif isinstance(block, Figure):
                flowables.append(self._figure(block, parent))
            elif isinstance(block, Notes):
                flowables += self._notes(block, parent)
        return flowables

    def _table(self, block: Table, parent: Node | None = None) -> Flowable:
        """A real table: the header row repeats after a page break, cells wrap, columns share the width
        in proportion to their longest cell (within limits), alignment from the divider row.
        Tagged Table › TR › TH/TD; a header row repeated on a later page is an artifact."""
        columns = max(len(block.header), *(len(row) for row in block.rows)) if block.rows else len(block.header)
        table = Node("Table", parent)

        def cell(spans: tuple[Span, ...], column: int, row: Node) -> RLParagraph:
            head = row is header
            base = self.styles.table_head if head else self.styles.table_cell
            align = {"center": TA_CENTER, "right": TA_RIGHT}.get(
                block.aligns[column] if column < len(block.aligns) else "", TA_LEFT)
            style = ParagraphStyle(f"{base.name}-{align}", parent=base, alignment=align)
            return TaggedParagraph(self._markup(spans, bold=head), style, Node("TH" if head else "TD", row))

        header = Node("TR", table)
        rows = []
        for index, row in enumerate((block.header, *block.rows)):
            line = header if index == 0 else Node("TR", table)
            rows.append([cell(row[i] if i < len(row) else (), i, line) for i in range(columns)])
        lengths = [max(4, min(40, max(_length(row[i]) if i < len(row) else 0
                                      for row in (block.header, *block.rows)))) for i in range(columns)]
        rule = self.rule_color
        style = TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            # ReportLab sets each cell's font even for paragraphs; its default, Helvetica, is never embedded.
            ("FONT", (0, 0), (-1, -1), self.styles.table_cell.fontName, self.styles.table_cell.fontSize),
            ("LINEABOVE", (0, 0), (-1, 0), 0.8, rule), ("LINEBELOW", (0, 0), (-1, 0), 0.5, rule),
            ("LINEBELOW", (0, -1), (-1, -1), 0.8, rule),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
            ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ])
        leading = self.styles.text.leading
        return TableFlowable(rows, [n / sum(lengths) for n in lengths], style, leading * 0.5, leading * 0.7, table)

    def _figure(self, block: Figure, parent: Node | None = None) -> Flowable:
        """The image as a Figure whose /Alt is the description, the caption its Caption."""
        if block.image is None:
            return TaggedParagraph(self._markup(block.alt), self.styles.figure_caption, Node("P", parent))
        alt = " ".join("".join(" " if s.line_break else s.text for s in block.alt).split())
        figure = Node("Figure", parent, alt=alt)
        caption = TaggedParagraph(self._markup(block.alt), self.styles.figure_caption, Node("Caption", parent))
        return FigureFlowable(block.image.jpeg, block.image.size, caption, self.styles.text.leading, figure=figure)

    def _notes(self, block: Notes, parent: Node | None = None) -> list[Flowable]:
        """The entry's footnotes after its text; each number links back to its mark in the text. Each is a Note."""
        flowables: list[Flowable] = [HRFlowable(width="25%", thickness=0.6, color=self.rule_color, hAlign="LEFT",
                                                spaceBefore=self.styles.text.leading, spaceAfter=4)]
        for note in block.notes:
            number = (f"<a href={quoteattr('#' + note_anchor(self.anchors, 'mark', note.number))} "
                      f"color={quoteattr(self.link_color)}>{note.number}.</a>"
                      f"<a name={quoteattr(note_anchor(self.anchors, 'note', note.number))}/> ")
            first, *rest = note.blocks or (Paragraph(()),)
            holder = Node("Note", parent)
            if isinstance(first, Paragraph):
                flowables.append(body_paragraph(TaggedParagraph(number + self._markup(first.spans), self.styles.note,
                                                                Node("P", holder)), _length(first.spans)))
            else:
                flowables += [TaggedParagraph(number, self.styles.note, Node("P", holder)),
                              *self.render((first,), parent=holder)]
            for sub in rest:
                if isinstance(sub, Paragraph):  # a note's later paragraphs line up with its text
                    flowables.append(body_paragraph(TaggedParagraph(self._markup(sub.spans), self._note_more,
                                                                    Node("P", holder)), _length(sub.spans)))
                else:
                    flowables += self.render((sub,), parent=holder)
        return flowables

    def _list(self, block: ListBlock, parent: Node | None) -> ListFlowable:
        """A list, as L › LI › (Lbl, LBody): the bullet or number is the item's label (a task's box is in its text)."""
        items = []
        labels: list[Node | None] = []
        group = Node("L", parent)
        for index, item in enumerate(block.items):
            content: list[Flowable] = []
            box = block.checked[index] if block.checked else None
            entry = Node("LI", group)
            labels.append(None if block.checked else Node("Lbl", entry))
            body = Node("LBody", entry)
            for position, sub in enumerate(item):
                if isinstance(sub, Paragraph):
                    spans = sub.spans
                    if position == 0 and box is not None:  # a task's box, then its words (a plain space:
                        spans = (Span("☑ " if box else "☐ "), *spans)  # glued, a long first word never broke)
                    content.append(body_paragraph(TaggedParagraph(self._markup(spans), self.styles.list_item,
                                                                  Node("P", body)), _length(spans)))
                else:
                    content += self.render((sub,), parent=body)
            # An empty item ('*' alone) still shows its bullet; ReportLab fails on an item with no content.
            items.append(ListItem(content or [Spacer(1, self.styles.list_item.leading)]))
        style = self.styles.text
        common = dict(leftIndent=style.fontSize * 1.8, bulletFontName=self.styles.body.regular,
                      bulletFontSize=style.fontSize, spaceBefore=style.leading * 0.2,
                      spaceAfter=style.leading * 0.4, bulletColor=style.textColor)
        if block.ordered:
            return TaggedList(items, labels, bulletType="1", start=str(block.start), bulletFormat="%s.", **common)
        bullet = "\u00a0" if block.checked else "•"  # a task list's boxes stand in for bullets
        return TaggedList(items, labels, bulletType="bullet", start=bullet, **common)

    def _quote(self, block: Quote, parent: Node | None) -> list[Flowable]:
        flowables: list[Flowable] = []
        quote = Node("BlockQuote", parent)
        for sub in block.blocks:
            if isinstance(sub, Paragraph):
                paragraph = RuledParagraph(self._markup(sub.spans, italic=True), self.styles.quote, Node("P", quote))
                paragraph.rule_color = self.rule_color
                flowables.append(body_paragraph(paragraph, _length(sub.spans)))
            else:
                flowables += self.render((sub,), parent=quote)
        return flowables


def _length(spans: tuple[Span, ...]) -> int:
    return sum(len(span.text) for span in spans)


class PerWidth(Flowable):
    """A flowable made anew for each width it is offered (a column, a page, an indented list item).

    ReportLab sizes some things once and keeps the result (a table's percentage widths), and
    some must be measured against the frame (where a code line has to break); subclasses say
    how to :meth:`make` the real flowable for a width, and this delegates to it.
    """

    def __init__(self, space_before: float, space_after: float) -> None:
        super().__init__()
        self._space = (space_before, space_after)
        self._made: Flowable | None = None
        self._for_width = -1.0

    def make(self, width: float) -> Flowable:
        raise NotImplementedError

    def _at(self, width: float) -> Flowable:
        if self._made is None or width != self._for_width:
            self._made, self._for_width = self.make(width), width
        return self._made

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width, self.height = self._at(available_width).wrap(available_width, available_height)
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        return self._at(available_width).split(available_width, available_height)

    def draw(self) -> None:
        self._at(self._for_width).drawOn(self.canv, 0, 0)

    def getSpaceBefore(self) -> float:
        return self._space[0]

    def getSpaceAfter(self) -> float:
        return self._space[1]


class TableFlowable(PerWidth):
    """A table whose columns share whatever width it is given, in fixed proportions."""

    def __init__(self, rows: list[list[Flowable]], shares: list[float], style: TableStyle,
                 space_before: float, space_after: float, node: Node | None = None) -> None:
        super().__init__(space_before, space_after)
        self.rows, self.shares, self.style, self.node = rows, shares, style, node

    NARROWEST = 30.0
    """Points a column needs at least; a table with more columns than fit is set row by row instead."""

    def make(self, width: float) -> Flowable:
        if width / len(self.shares) < self.NARROWEST:
            return self._stacked()
        table = RLTable(self.rows, colWidths=[width * share for share in self.shares], repeatRows=1,
                        hAlign="LEFT", splitByRow=1, splitInRow=1)  # a cell taller than a page splits too
        table.setStyle(self.style)
        return table

    def _stacked(self) -> Flowable:
        """Each row as a line of 'header: cell' pairs, for a table too wide for any page."""
        header, *body = self.rows
        lines = (" · ".join(f"<b>{h.text}</b>: {cell.text}" if h.text else cell.text
                            for h, cell in zip(header, row, strict=True)) for row in body)
        if not body:  # a header row alone is its own line, each name once
            lines = iter([" · ".join(f"<b>{h.text}</b>" for h in header)])
        return TaggedParagraph("<br/>".join(lines), self.rows[-1][0].style, Node("P", self.node))


_CODE_BREAKS = " /?&=_.-,;:)]}"


def wrap_code(line: str, columns: int) -> list[str]:
    """A code line in pieces of at most ``columns`` characters, each but the last ending in the mark.

    A piece ends after a space or a URL-safe character in its last third when it can,
    and anywhere otherwise; no character is lost or added except the marks.
    """
    room = max(2, columns - 1)
    pieces = []
    start = 0
    while len(line) - start > columns:
        cut = max((i + 1 for i in range(start + room * 2 // 3, start + room) if line[i] in _CODE_BREAKS),
                  default=start + room)
        pieces.append(line[start:cut] + CONTINUATION)
        start = cut
    return [*pieces, line[start:]]


class CodeFlowable(PerWidth):
    """A code block in the monospaced face, its long lines broken with a visible mark, never past the frame.

    How many characters fit depends on the frame, so the lines are broken when the
    width is known; the result is an ordinary paragraph that ReportLab splits across pages.
    """

    def __init__(self, text: str, style: ParagraphStyle, fallbacks: tuple[str, ...], mark_color: object,
                 node: Node | None = None) -> None:
        super().__init__(style.spaceBefore, style.spaceAfter)
        self.text, self.style, self.fallbacks, self.mark_color = text.expandtabs(4), style, fallbacks, mark_color
        self.node = node

    def make(self, width: float) -> Flowable:
        advance = pdfmetrics.stringWidth("0", self.style.fontName, self.style.fontSize)
        columns = max(8, int((width - self.style.leftIndent - self.style.rightIndent) / advance))
        mark = f"<font color={quoteattr(self.mark_color.hexval()[2:].join(('#', '')))}>{CONTINUATION}</font>"
        lines = []
        for line in self.text.split("\n"):
            pieces = wrap_code(line, columns)
            lines += [self._line(piece[:-1]) + mark for piece in pieces[:-1]]
            lines.append(self._line(pieces[-1]))
        return body_paragraph(TaggedParagraph("<br/>".join(lines), self.style, self.node), len(self.text))

    def _line(self, text: str) -> str:
        """One printed line: spaces kept (no-break, so none collapses) and every character drawable."""
        return plain(text.replace(" ", "\u00a0"), self.style, self.fallbacks)


class FigureFlowable(Flowable):
    """A figure: the image scaled to the frame's width (never past 1.5× its pixels, never taller than
    half the frame) with its caption beneath, as one piece that is never split from its caption."""

    def __init__(self, jpeg: bytes, size: tuple[int, int], caption: RLParagraph, gap: float,
                 image: ImageReader | None = None, figure: Node | None = None) -> None:
        super().__init__()
        self.figure = figure
        self.image = image or ImageReader(io.BytesIO(jpeg))
        self.pixels = self.image.getSize() if size == (0, 0) else size
        self.caption, self.gap = caption, gap

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        w, h = self.pixels
        tallest = available_height * 0.5 if available_height < 1e6 else 400.0
        scale = min(available_width / w, 1.5, tallest / h)
        self._image_size = (w * scale, h * scale)
        self._caption_height = self.caption.wrap(available_width, available_height)[1]
        self.width, self.height = available_width, h * scale + self.gap * 0.4 + self._caption_height
        return self.width, self.height

    LONG_CAPTION = 6
    """Lines from which a caption is text to be split like a paragraph, not a label kept with its image."""

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        """Whole on the next page or column; a long caption (or one that does not fit even there, which
        ReportLab marks ``_postponed``) is split, its first lines kept under the image."""
        self.wrap(available_width, available_height)
        lines = self._caption_height / self.caption.style.leading
        if not getattr(self, "_postponed", False) and lines <= self.LONG_CAPTION:
            return []
        room = available_height - self._image_size[1] - self.gap * 0.4
        parts = self.caption.split(available_width, room) if room > 0 else []
        if len(parts) < 2:
            return []
        head = FigureFlowable(b"", self.pixels, parts[0], self.gap, image=self.image, figure=self.figure)
        return [head, *parts[1:]]

    def draw(self) -> None:
        w, h = self._image_size
        with marked(self.canv, self.figure):
            self.canv.drawImage(self.image, (self.width - w) / 2, self.height - h, w, h)
        self.caption.drawOn(self.canv, 0, 0)

    def getSpaceBefore(self) -> float:
        return self.gap * 0.4

    def getSpaceAfter(self) -> float:
        return self.caption.style.spaceAfter


class NameBlock(Flowable):
    """The contributor's name and affiliation, with a round headshot at the left when given."""

    def __init__(self, name: RLParagraph, affiliation: RLParagraph | None,
                 photo: bytes | None, diameter: float, ring_color: str, *, round_crop: bool = True,
                 figure: Node | None = None) -> None:
        super().__init__()
        self.figure = figure
        """The headshot's structure element (a Figure with its alt text); its ring is an artifact."""
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
            with marked(canvas, self.figure):
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
    note = Node("Div")
    parts: list[Flowable] = [
        Spacer(1, styles.text.leading * 0.6),
        HRFlowable(width="100%", thickness=0.5, color=HexColor(rule_color), spaceAfter=6),
        text_paragraph(name, styles.bio_name, styles.fallbacks, Node("P", note)),
    ]
    if bio:
        parts.append(text_paragraph(bio, styles.bio, styles.fallbacks, Node("P", note)))
    if website:
        shown = plain(website, styles.bio, styles.fallbacks)
        link = f"<a href={quoteattr(website)} color={quoteattr(link_color)}>{shown}</a>"
        parts.append(TaggedParagraph(link, styles.bio, Node("P", note)))
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
