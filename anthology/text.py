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
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.tree import SyntaxTreeNode

from .diagnostics import Report
from .model import (
    Block,
    CodeBlock,
    Contribution,
    Entry,
    Heading,
    ListBlock,
    Paragraph,
    Position,
    Quote,
    Rule,
    Span,
)

LINK_SCHEMES = ("http", "https", "mailto")
WORD = re.compile(r"\w+", re.UNICODE)


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
    md = MarkdownIt("commonmark", {"html": False, "typographer": True})
    md.enable(["replacements", "smartquotes"])
    # markdown-it quietly turns a javascript:/file:/data: link back into bracket
    # text; accept every link here so _spans can keep its words and warn.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md, _NestingGuard(md)


_MARKDOWN, _GUARD = _parser()


def parse_entry(contribution: Contribution, report: Report, language: str = "en") -> Entry:
    """Parse a contribution's body; problems are reported against its file and line."""
    blocks = parse_markdown(contribution.body, contribution.body_position, report, language)
    return Entry(contribution, blocks, tuple(words_of(blocks)))


def parse_markdown(source: str, position: Position, report: Report, language: str = "en") -> tuple[Block, ...]:
    """Markdown text → blocks. ``position`` is where the text starts in its file.

    Text nested too deeply for the parser is an error, never silently lost.
    """
    _GUARD.dropped_line = None
    tree = SyntaxTreeNode(_MARKDOWN.parse(source))
    if _GUARD.dropped_line is not None:
        report.error(Position(position.path, position.line + _GUARD.dropped_line, 1),
                     f"text nested more than {_MARKDOWN.options.maxNesting} levels deep "
                     "(lists and quotes inside each other) would be lost",
                     "flatten the nesting: a few levels of lists or quotes are the most a page can show")
    return tuple(_blocks(tree.children, position, report, _spacing_for(language)))


def _blocks(nodes: list[SyntaxTreeNode], start: Position, report: Report,
            spacing: Callable[[str], str]) -> list[Block]:
    blocks: list[Block] = []
    for node in nodes:
        where = Position(start.path, start.line + (node.map[0] if node.map else 0), 1)
        kind = node.type
        if kind == "paragraph":
            blocks.append(Paragraph(_inline(node, where, report, spacing)))
        elif kind == "heading":
            level = int(node.tag[1])
            if level not in (2, 3):
                report.warning(where, f"heading level {level} is set as level {min(max(level, 2), 3)}",
                               "use ## for sections and ### below them; the headline comes from 'title'")
            blocks.append(Heading(min(max(level, 2), 3), _inline(node, where, report, spacing)))
        elif kind in ("bullet_list", "ordered_list"):
            items = tuple(tuple(_blocks(item.children, start, report, spacing)) for item in node.children)
            first = int(str(node.attrs.get("start", 1)))
            blocks.append(ListBlock(kind == "ordered_list", items, first))
        elif kind == "blockquote":
            blocks.append(Quote(tuple(_blocks(node.children, start, report, spacing))))
        elif kind == "hr":
            blocks.append(Rule())
        elif kind in ("code_block", "fence"):
            blocks.append(CodeBlock(node.content.rstrip("\n")))
        else:  # pragma: no cover - the commonmark preset produces nothing else
            report.warning(where, f"unsupported Markdown element '{kind}' set as text")
            blocks.append(Paragraph((Span(node.content),)))
    return blocks


def _inline(node: SyntaxTreeNode, where: Position, report: Report,
            spacing: Callable[[str], str]) -> tuple[Span, ...]:
    spans: list[Span] = []
    for child in node.children:  # the single 'inline' node
        _spans(child.children, spans, where, report, italic=False, bold=False, href="")
    return tuple(s if s.code else replace(s, text=spacing(s.text)) for s in _merge(spans))


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
           *, italic: bool, bold: bool, href: str) -> None:
    for node in nodes:
        kind = node.type
        if kind == "text":
            if node.content:
                out.append(Span(node.content, italic, bold, href=href))
        elif kind == "softbreak":
            out.append(Span(" ", italic, bold, href=href))
        elif kind == "hardbreak":
            out.append(Span("", line_break=True))
        elif kind == "code_inline":
            out.append(Span(node.content, italic, bold, code=True, href=href))
        elif kind == "em":
            _spans(node.children, out, where, report, italic=True, bold=bold, href=href)
        elif kind == "strong":
            _spans(node.children, out, where, report, italic=italic, bold=True, href=href)
        elif kind == "link":
            target = str(node.attrs.get("href", ""))
            if urlsplit(target).scheme.lower() not in LINK_SCHEMES:
                report.warning(where, f"link to '{target}' is not http, https or mailto; kept as text",
                               "link to a web address (https://…) or an e-mail address (mailto:…)")
                target = href
            _spans(node.children, out, where, report, italic=italic, bold=bold, href=target)
        elif kind == "image":
            report.warning(where, "images inside the text are not supported; their description is kept",
                           "give one headshot with the 'photo' field instead")
            _spans(node.children, out, where, report, italic=italic, bold=bold, href=href)
        else:  # pragma: no cover
            out.append(Span(node.content, italic, bold, href=href))


def _merge(spans: list[Span]) -> list[Span]:
    """Join neighbouring spans of the same style (fewer, longer runs lay out faster)."""
    merged: list[Span] = []
    for span in spans:
        last = merged[-1] if merged else None
        if (last and not span.line_break and not last.line_break
                and (last.italic, last.bold, last.code, last.href)
                == (span.italic, span.bold, span.code, span.href)):
            merged[-1] = Span(last.text + span.text, span.italic, span.bold, span.code, span.href)
        else:
            merged.append(span)
    return merged


def words_of(blocks: tuple[Block, ...] | list[Block]) -> list[str]:
    """Every word of the blocks, in reading order (what a reader must find in the PDF)."""
    words: list[str] = []
    for block in blocks:
        if isinstance(block, (Paragraph, Heading)):
            words += WORD.findall("".join(" " if s.line_break else s.text for s in block.spans))
        elif isinstance(block, ListBlock):
            for item in block.items:
                words += words_of(item)
        elif isinstance(block, Quote):
            words += words_of(block.blocks)
        elif isinstance(block, CodeBlock):
            words += WORD.findall(block.text)
    return words
