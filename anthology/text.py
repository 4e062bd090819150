"""Stage 3: Markdown bodies become blocks of plain, typed spans.

The supported subset is CommonMark as parsed by markdown-it-py with raw HTML
off: paragraphs, ``##``/``###`` headings, emphasis, strong, inline code,
links, bullet and numbered lists, block quotes, thematic breaks, hard line
breaks and code blocks. The typographer turns straight quotes into curly ones
and ``--``/``---`` into dashes. Nothing here knows about ReportLab: spans hold
plain text, and the layout stage escapes it, so contributor text can never
become markup. Links keep only http, https and mailto targets; anything else
keeps its words and loses the link, with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.tree import SyntaxTreeNode
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from .diagnostics import Report
from .model import (
    Block,
    CodeBlock,
    Contribution,
    Entry,
    Figure,
    Heading,
    ListBlock,
    Note,
    Notes,
    Paragraph,
    Position,
    Quote,
    Rule,
    Span,
    Table,
)

LINK_SCHEMES = ("http", "https", "mailto")
_FOOTNOTE_MARK = re.compile(r"\[\^[^\]\s]+\]")
"""A footnote mark the parser left as text: no note with that label exists."""
WORD = re.compile(r"\w+", re.UNICODE)
_TASK_BOX = '<input class="task-list-item-checkbox"'
"""How mdit-py-plugins writes a task's box into the item's text."""


class _NestingGuard:
    """Notes where markdown-it silently drops text nested deeper than ``maxNesting``.

    At that depth markdown-it's block parser skips the rest of the container
    without a word (``> > > … deep`` loses ``deep``). Nested lists and quotes
    reach the block parser through ``md.block.tokenize``, so this stands in for
    it, records the first line that would be lost, then lets markdown-it go on.
    """

    def __init__(self, md: MarkdownIt) -> None:
        self._tokenize = md.block.tokenize
        self.dropped_line: int | None = None
        md.block.tokenize = self  # type: ignore[method-assign]

    def __call__(self, state: StateBlock, start_line: int, end_line: int) -> None:
        if state.level >= state.md.options.maxNesting and self.dropped_line is None:
            line = state.skipEmptyLines(start_line)
            if line < end_line and state.sCount[line] >= state.blkIndent:
                self.dropped_line = line
        self._tokenize(state, start_line, end_line)


def _parser() -> tuple[MarkdownIt, _NestingGuard]:
    md = new_parser()
    # markdown-it quietly turns a javascript:/file:/data: link back into bracket
    # text; accept every link here so _spans can keep its words and warn.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    _record_note_definitions(md)
    return md, _NestingGuard(md)


_NOTE_LABEL = re.compile(r"\[\^([^\]]+)\]:")


def _record_note_definitions(md: MarkdownIt) -> None:
    """Remember where each footnote is defined (``env['note_lines']``: label → lines).

    mdit-py-plugins keeps only the last of two notes with one label and drops a note
    no mark refers to, without a word; these lines let :func:`parse_markdown` warn.
    """
    rule = next(r for r in md.block.ruler.__rules__ if r.name == "footnote_def")
    define = rule.fn

    def recording(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
        found = define(state, start_line, end_line, silent)
        if found and not silent:
            label = _NOTE_LABEL.match(state.src, state.bMarks[start_line] + state.tShift[start_line])
            if label:
                state.env.setdefault("note_lines", {}).setdefault(label.group(1), []).append(start_line)
        return found

    md.block.ruler.at("footnote_def", recording, {"alt": list(rule.alt)})


def new_parser() -> MarkdownIt:
    """The Markdown dialect of contributions: CommonMark with GFM's tables, strikethrough, autolinks,
    task lists and footnotes. Raw HTML is recognised only to be printed as text, with a warning."""
    md = MarkdownIt("commonmark", {"html": True, "typographer": True, "linkify": True})
    md.enable(["replacements", "smartquotes", "table", "strikethrough", "linkify"])
    md.linkify = _GfmLinkify(md.linkify)
    return md.use(footnote_plugin).use(tasklists_plugin)


class _GfmLinkify:
    """linkify-it with GFM's rule that a bare URL never ends in '~'.

    linkify-it keeps trailing tildes, so in ``~~https://example.org~~`` the closing
    ``~~`` became part of the address and both markers printed literally instead of a
    strikethrough (markdown-it already drops a trailing '*' the same way for emphasis).
    """

    def __init__(self, linkify: Any) -> None:
        self._linkify = linkify

    def match_at_start(self, text: str) -> Any:
        found = self._linkify.match_at_start(text)
        if found is not None and found.url.endswith("~"):
            found.url = found.url.rstrip("~")
        return found

    def pretest(self, text: str) -> bool:
        """linkify-it's own quick test, asked only when the text has a character every link needs.

        Its one large case-insensitive pattern was a tenth of checking a contribution; every
        alternative in it (a scheme's ':' or '//', '@', 'localhost', 'www.', a '.' before a
        digit or a top-level domain) contains one of :data:`_LINK_SIGNS`, so the answer is the same.
        """
        return _LINK_SIGNS.search(text) is not None and self._linkify.pretest(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._linkify, name)


_LINK_SIGNS = re.compile(r":|//|@|localhost|www\.|\.\w", re.IGNORECASE)
"""What any text linkify-it's ``pretest`` accepts contains (see :meth:`_GfmLinkify.pretest`)."""


_MARKDOWN, _GUARD = _parser()


def parse_entry(contribution: Contribution, report: Report, language: str = "en") -> Entry:
    """Parse a contribution's body, in its own language or else the book's; problems are reported against
    its file and line."""
    language = contribution.language or language
    blocks = parse_markdown(contribution.body, contribution.body_position, report, language)
    return Entry(contribution, blocks)


def parse_markdown(source: str, position: Position, report: Report, language: str = "en") -> tuple[Block, ...]:
    """Markdown text → blocks. ``position`` is where the text starts in its file.

    Text nested too deeply for the parser is an error, never silently lost.
    """
    _GUARD.dropped_line = None
    env: dict = {}
    tree = SyntaxTreeNode(_MARKDOWN.parse(source, env))
    if _GUARD.dropped_line is not None:
        report.error(Position(position.path, position.line + _GUARD.dropped_line, 1),
                     f"text nested more than {_MARKDOWN.options.maxNesting} levels deep "
                     "(lists and quotes inside each other) would be lost",
                     "flatten the nesting: a few levels of lists or quotes are the most a page can show")
    _check_notes(env, position, report)
    return tuple(_blocks(tree.children, position, report, _spacing_for(language)))


def _check_notes(env: dict, position: Position, report: Report) -> None:
    """Warn about a footnote that will not print: defined twice (the parser keeps the last), or never marked."""
    refs = env.get("footnotes", {}).get("refs", {})
    for label, lines in env.get("note_lines", {}).items():
        for line in lines[:-1]:
            report.warning(Position(position.path, position.line + line, 1),
                           f"footnote '[^{label}]' is defined again on line {position.line + lines[-1]}; "
                           "only the last definition is printed",
                           f"give each note its own label, or delete one of the '[^{label}]:' lines")
        if refs.get(f":{label}", -1) < 0:
            report.warning(Position(position.path, position.line + lines[-1], 1),
                           f"footnote '[^{label}]' has no mark in the text; its note is not printed",
                           f"put [^{label}] where the note belongs, or delete the note")


def _blocks(nodes: list[SyntaxTreeNode], start: Position, report: Report,
            spacing: Callable[[str], str]) -> list[Block]:
    blocks: list[Block] = []
    for node in nodes:
        where = Position(start.path, start.line + (node.map[0] if node.map else 0), 1)
        kind = node.type
        if kind == "paragraph":
            blocks += _paragraph(node, where, report, spacing)
        elif kind == "heading":
            level = int(node.tag[1])
            if level not in (2, 3):
                report.warning(where, f"heading level {level} is set as level {min(max(level, 2), 3)}",
                               "use ## for sections and ### below them; the headline comes from 'title'")
            blocks.append(Heading(min(max(level, 2), 3), _inline(node, where, report, spacing)))
        elif kind in ("bullet_list", "ordered_list"):
            items = tuple(tuple(_blocks(item.children, start, report, spacing)) for item in node.children)
            first = int(str(node.attrs.get("start", 1)))
            checked = tuple(_task_state(item) for item in node.children)
            blocks.append(ListBlock(kind == "ordered_list", items, first,
                                    checked if any(c is not None for c in checked) else ()))
        elif kind == "blockquote":
            blocks.append(Quote(tuple(_blocks(node.children, start, report, spacing))))
        elif kind == "hr":
            blocks.append(Rule())
        elif kind in ("code_block", "fence"):
            blocks.append(CodeBlock(node.content.rstrip("\n"), (node.info or "").split(" ")[0][:40]))
        elif kind == "table":
            blocks.append(_table(node, where, report, spacing))
        elif kind == "footnote_block":
            notes = (Note(int(note.meta.get("id", 0)) + 1, tuple(_blocks(note.children, start, report, spacing)))
                     for note in node.children)
            blocks.append(Notes(tuple(notes)))
        elif kind == "footnote_anchor":  # the back-reference a note ends with: the layout draws its own
            continue
        elif kind == "html_block":
            report.warning(where, "raw HTML is printed as text, not interpreted",
                           "write it in Markdown, or put it in a code block if the code itself is the point")
            blocks.append(CodeBlock(node.content.rstrip("\n")))
        else:  # pragma: no cover - the parser is configured to produce nothing else
            report.warning(where, f"unsupported Markdown element '{kind}' set as text")
            blocks.append(Paragraph((Span(node.content),)))
    return blocks


def _task_state(item: SyntaxTreeNode) -> bool | None:
    """☑/☐ for a task-list item (the plugin marks it with a class and a checkbox token), None otherwise."""
    if "task-list-item" not in str(item.attrs.get("class", "")):
        return None
    box = item.children[0].children[0].children[0] if item.children and item.children[0].children else None
    return box is not None and box.type == "html_inline" and 'checked="checked"' in box.content


def _paragraph(node: SyntaxTreeNode, where: Position, report: Report,
               spacing: Callable[[str], str]) -> list[Block]:
    """A paragraph, or the figures it consists of when it holds nothing but images."""
    children = node.children[0].children if node.children else []
    images = [c for c in children if c.type == "image"]
    if images and all(c.type in ("image", "softbreak") or (c.type == "text" and not c.content.strip())
                      for c in children):
        return [Figure(str(image.attrs.get("src", "")), _image_alt(image, where, report, spacing),
                       position=where) for image in images]
    return [Paragraph(_inline(node, where, report, spacing))]


def _image_alt(image: SyntaxTreeNode, where: Position, report: Report,
               spacing: Callable[[str], str]) -> tuple[Span, ...]:
    spans: list[Span] = []
    _spans(image.children, spans, where, report, italic=False, bold=False, href="")
    return tuple(s if s.code else replace(s, text=spacing(s.text)) for s in _merge(spans))


WIDEST_TABLE = 12
"""Columns a table may have before it is set row by row (no page has room for more)."""


def _table(node: SyntaxTreeNode, where: Position, report: Report, spacing: Callable[[str], str]) -> Table:
    rows = [row for section in node.children for row in section.children]
    if len(rows[0].children) > WIDEST_TABLE:
        report.warning(where, f"a table of {len(rows[0].children)} columns may be too wide for the page; "
                              "if so it is set as one line per row",
                       f"split it into tables of at most {WIDEST_TABLE} columns")
    cells = [tuple(_inline(cell, where, report, spacing) for cell in row.children) for row in rows]
    aligns = tuple(re.sub(r"text-align:\s*", "", str(cell.attrs.get("style", ""))) for cell in rows[0].children)
    return Table(cells[0], tuple(cells[1:]), aligns)


def _inline(node: SyntaxTreeNode, where: Position, report: Report,
            spacing: Callable[[str], str]) -> tuple[Span, ...]:
    spans: list[Span] = []
    for child in node.children:  # the single 'inline' node
        _spans(child.children, spans, where, report, italic=False, bold=False, href="")
    spans = _merge(spans)
    first = node.children[0].children[:1] if node.children else []
    if spans and first and first[0].type == "html_inline" and first[0].content.startswith(_TASK_BOX):
        spans[0] = replace(spans[0], text=spans[0].text.lstrip())  # the space after a task's box
    return tuple(s if s.code else replace(s, text=spacing(s.text)) for s in spans)


_BEFORE_UNIT = re.compile(
    r"(?<=\d) (?=(?:%|‰|°[CF]?|[kMG]?(?:m|g|l|L|W|Wh|B|Hz)|cm|mm|km|ml|h|min|s|ms|€|£|\$|¥)(?![\w\d]))")
_FRENCH_BEFORE = re.compile(r" (?=[;:!?»])")
_FRENCH_AFTER = re.compile(r"(?<=«) ")


def _spacing_for(language: str) -> Callable[[str], str]:
    """Non-breaking spaces where the language expects them: '10 km', and in French before ';:!?»'."""
    french = language.lower().split("-")[0] == "fr"

    def space(text: str) -> str:
        text = _BEFORE_UNIT.sub("\u00a0", text)
        if french:
            text = _FRENCH_AFTER.sub("\u00a0", _FRENCH_BEFORE.sub("\u00a0", text))
        return text

    return space


def _spans(nodes: list[SyntaxTreeNode], out: list[Span], where: Position, report: Report,
           *, italic: bool, bold: bool, href: str, strike: bool = False) -> None:
    for node in nodes:
        kind = node.type
        if kind == "text":
            if node.content:
                out.append(Span(node.content, italic, bold, href=href, strike=strike))
            for label in _FOOTNOTE_MARK.findall(node.content):
                report.warning(where, f"footnote mark '{label}' has no note; it is printed as written",
                               f"add a line '{label}: the note' after the paragraph, or remove the mark")
        elif kind == "softbreak":
            out.append(Span(" ", italic, bold, href=href, strike=strike))
        elif kind == "hardbreak":
            out.append(Span("", line_break=True))
        elif kind == "code_inline":
            out.append(Span(node.content, italic, bold, code=True, href=href, strike=strike))
        elif kind == "em":
            _spans(node.children, out, where, report, italic=True, bold=bold, href=href, strike=strike)
        elif kind == "strong":
            _spans(node.children, out, where, report, italic=italic, bold=True, href=href, strike=strike)
        elif kind == "s":
            _spans(node.children, out, where, report, italic=italic, bold=bold, href=href, strike=True)
        elif kind == "footnote_ref":
            number = int(node.meta.get("id", 0)) + 1
            out.append(Span(str(number), note=number))
        elif kind == "html_inline":
            if node.content.startswith(_TASK_BOX):
                continue  # a task's box: ListBlock.checked holds it, and each output draws its own
            report.warning(where, f"raw HTML '{node.content[:40]}' is printed as text, not interpreted",
                           "write it in Markdown (*emphasis*, [links](https://…)) instead of HTML tags")
            out.append(Span(node.content, italic, bold, href=href, strike=strike))
        elif kind == "link":
            target = str(node.attrs.get("href", ""))
            if urlsplit(target).scheme.lower() not in LINK_SCHEMES:
                report.warning(where, f"link to '{target}' is not http, https or mailto; kept as text",
                               "link to a web address (https://…) or an e-mail address (mailto:…)")
                target = href
            _spans(node.children, out, where, report, italic=italic, bold=bold, href=target, strike=strike)
        elif kind == "image":
            report.warning(where, "an image inside a sentence is printed as its description only",
                           "put the image in a paragraph of its own to print it as a figure")
            _spans(node.children, out, where, report, italic=italic, bold=bold, href=href, strike=strike)
        else:  # pragma: no cover
            out.append(Span(node.content, italic, bold, href=href, strike=strike))


def _merge(spans: list[Span]) -> list[Span]:
    """Join neighbouring spans of the same style (fewer, longer runs lay out faster)."""
    merged: list[Span] = []
    for span in spans:
        last = merged[-1] if merged else None
        if (last and not span.line_break and not last.line_break and not span.note and not last.note
                and (last.italic, last.bold, last.code, last.href, last.strike)
                == (span.italic, span.bold, span.code, span.href, span.strike)):
            merged[-1] = replace(last, text=last.text + span.text)
        else:
            merged.append(span)
    return merged


def words_of(blocks: tuple[Block, ...] | list[Block]) -> list[str]:
    """Every word of the blocks, in reading order (what a reader must find in the PDF)."""
    words: list[str] = []
    for block in blocks:
        if isinstance(block, (Paragraph, Heading)):
            words += _span_words(block.spans)
        elif isinstance(block, Table):
            for row in (block.header, *block.rows):
                for cell in row:
                    words += _span_words(cell)
        elif isinstance(block, Figure):
            words += _span_words(block.alt)
        elif isinstance(block, Notes):
            for note in block.notes:
                words += words_of(note.blocks)
        elif isinstance(block, ListBlock):
            for item in block.items:
                words += words_of(item)
        elif isinstance(block, Quote):
            words += words_of(block.blocks)
        elif isinstance(block, CodeBlock):
            words += WORD.findall(block.text)
    return words


def _span_words(spans: tuple[Span, ...]) -> list[str]:
    """Footnote marks are numbers the book adds, not the author's words."""
    return WORD.findall("".join(" " if s.line_break else s.text for s in spans if not s.note))
