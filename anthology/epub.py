"""Stage 6 (beside assembly): the EPUB 3 reading edition, from the same checked entries as the PDF.

The EPUB is made from the parsed blocks, never from the PDF; the assembled
book is consulted only for what the reader of the EPUB needs to share with the
reader of the PDF: the printed page number where each entry, part and back
page starts (the ``page-list``, so "page 14" means the same in both) and the
cover, rasterised from the PDF's first page.

Blocks and spans become XHTML through :func:`render_block`, one function per
block type (a new block type registers its own), with every contributor string
escaped by MarkupSafe exactly as the release site escapes it. The package
files come from Jinja2 templates in the layout (``epub/`` in the layout's
folder, else the built-in ones), including a small stylesheet per layout; the
reader's own fonts are used (no font files are embedded, so none needs a
licence and the reader's size and face settings win).

The container is written with :mod:`zipfile` directly, so its bytes are under
control: ``mimetype`` first and stored, every member in a fixed order with the
time of ``SOURCE_DATE_EPOCH``. Same inputs, same bytes.
"""

from __future__ import annotations

import io
import os
import time
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import singledispatch
from itertools import groupby
from pathlib import Path

import pypdfium2
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from PIL import Image

from .assemble import BookTexts, collation_key, index_name, roman
from .fonts import FAMILY_LABELS
from .layout.images import prepare_headshot
from .model import (
    Block,
    Book,
    BookConfig,
    CodeBlock,
    Entry,
    Figure,
    Heading,
    Layout,
    ListBlock,
    Notes,
    Paragraph,
    Quote,
    Rule,
    Span,
    Table,
)
from .words import Words

BUILTIN_TEMPLATES = Path(__file__).parent / "layouts" / "perspectives" / "epub"
HEADSHOT_WIDTH_PT = 1.6 * 72
"""Headshots are stored at 300 dpi for this printed width (480 px): sharp on a phone, a few dozen KB."""
COVER_WIDTH_PX = 1200
GENERIC_FAMILY = {"source-serif": "serif", "source-sans": "sans-serif", "roboto": "sans-serif"}


@dataclass(frozen=True, slots=True)
class Edition:
    """The EPUB in memory; ``publish`` writes it."""

    data: bytes
    documents: tuple[str, ...]
    """The XHTML documents of the spine, in reading order (paths inside the container)."""
    page_list: tuple[tuple[str, str], ...]
    """(printed page label, document#anchor) for every page-list entry."""


@dataclass(frozen=True, slots=True)
class _Document:
    """One XHTML document of the spine."""

    name: str
    """File name inside ``EPUB/text/``."""
    title: str
    body: Markup
    kind: str
    """The epub:type of the body: ``cover``, ``frontmatter``, ``bodymatter``, ``backmatter``."""
    language: str = ""
    """Its language when it is not the book's (an entry's ``language:``)."""


# Blocks and spans -----------------------------------------------------------


@dataclass(slots=True)
class _Context:
    """What rendering a block needs beyond the block itself (one per document)."""

    heading_level: int
    """The HTML level of the document's own heading; a Markdown ``##`` is one below it."""
    images: dict[str, bytes] = field(default_factory=dict)
    """Figures met so far: their path in the container → JPEG bytes."""
    prefix: str = "_book"
    """Names the document's figure files: the entry's slug (or, for the book's own texts, a name no slug has)."""
    marks: set[int] = field(default_factory=set)
    """Footnote marks already given an id (a second mark of the same note links without one)."""


@singledispatch
def render_block(block: Block, context: _Context) -> Markup:
    """One parsed block as XHTML. Each block type registers its own rendering below."""
    raise TypeError(f"no EPUB rendering for {type(block).__name__}")


def render_blocks(blocks: Iterable[Block], context: _Context) -> Markup:
    return Markup("\n").join(render_block(block, context) for block in blocks)


@render_block.register
def _paragraph(block: Paragraph, context: _Context) -> Markup:
    return Markup("<p>{}</p>").format(render_spans(block.spans, context))


@render_block.register
def _heading(block: Heading, context: _Context) -> Markup:
    level = min(6, context.heading_level + block.level - 1)
    return Markup("<h{0}>{1}</h{0}>").format(level, render_spans(block.spans, context))


@render_block.register
def _list(block: ListBlock, context: _Context) -> Markup:
    checks = block.checked or (None,) * len(block.items)
    items = Markup("\n").join(Markup("<li>{}{}</li>").format(_task(check), _item(item, context))
                               for item, check in zip(block.items, checks, strict=True))
    if not block.ordered:
        return Markup("<ul>\n{}\n</ul>").format(items)
    start = Markup(' start="{}"').format(block.start) if block.start != 1 else ""
    return Markup("<ol{}>\n{}\n</ol>").format(start, items)


def _task(check: bool | None) -> Markup:
    """A task list's box, ticked or not, with its state in words for a screen reader."""
    if check is None:
        return Markup("")
    return Markup('<span class="task" role="img" aria-label="{}">{}</span> ').format(
        "done" if check else "not done", "\u2611" if check else "\u2610")


def _item(blocks: tuple[Block, ...], context: _Context) -> Markup:
    """A tight list item (one paragraph) without its <p>, as on the site."""
    if len(blocks) == 1 and isinstance(blocks[0], Paragraph):
        return render_spans(blocks[0].spans, context)
    return render_blocks(blocks, context)


@render_block.register
def _quote(block: Quote, context: _Context) -> Markup:
    return Markup("<blockquote>\n{}\n</blockquote>").format(render_blocks(block.blocks, context))


@render_block.register
def _rule(block: Rule, context: _Context) -> Markup:
    return Markup('<hr class="break"/>')


@render_block.register
def _code(block: CodeBlock, context: _Context) -> Markup:
    return Markup("<pre><code>{}</code></pre>").format(block.text)


@render_block.register
def _table(block: Table, context: _Context) -> Markup:
    """A real table: header cells are ``th scope="col"``; each column keeps its alignment."""
    def cells(row: tuple[tuple[Span, ...], ...], tag: str) -> Markup:
        return Markup("\n").join(
            Markup('<{0}{1}{2}>{3}</{0}>').format(
                tag, Markup(' scope="col"') if tag == "th" else "",
                Markup(' class="{}"').format(align) if align else "", render_spans(cell, context))
            for cell, align in zip(row, block.aligns or ("",) * len(row), strict=False))

    body = Markup("\n").join(Markup("<tr>{}</tr>").format(cells(row, "td")) for row in block.rows)
    return Markup('<table>\n<thead><tr>{}</tr></thead>\n<tbody>\n{}\n</tbody>\n</table>').format(
        cells(block.header, "th"), body)


@render_block.register
def _figure(block: Figure, context: _Context) -> Markup:
    """The image with its description as alt text and caption (as in the PDF); the caption alone without one."""
    caption = render_spans(block.alt, context)
    if block.image is None:
        return Markup('<p class="caption">{}</p>').format(caption)
    folder = f"images/figures/{context.prefix}-"
    name = f"{folder}{sum(n.startswith(folder) for n in context.images) + 1}.jpg"
    context.images[name] = _figure_jpeg(block.image.jpeg)
    alt = " ".join("".join(" " if s.line_break else s.text for s in block.alt).split())
    return Markup('<figure>\n<img src="../{}" alt="{}"/>\n<figcaption>{}</figcaption>\n</figure>').format(
        name, alt, caption)


@render_block.register
def _notes(block: Notes, context: _Context) -> Markup:
    """The footnotes after the text, each an ``epub:type="footnote"`` linking back to its first mark."""
    notes = Markup("\n").join(
        Markup('<aside epub:type="footnote" role="doc-footnote" id="note-{0}" class="footnote">'
               '<p class="note-number"><a href="#mark-{0}" role="doc-backlink" '
               'aria-label="Back to the text of note {0}">{0}.</a></p>\n{1}\n</aside>').format(
            note.number, render_blocks(note.blocks, context))
        for note in block.notes)
    return Markup('<section epub:type="footnotes" class="notes" aria-label="Notes">\n{}\n</section>').format(notes)


def render_spans(spans: Iterable[Span], context: _Context) -> Markup:
    """Spans as inline XHTML; neighbours sharing a link target share one <a>."""
    out: list[Markup] = []
    for (href, note), group in groupby(spans, key=lambda span: (span.href, span.note)):
        inner = Markup("").join(_span(span) for span in group)
        if note:
            mark = Markup(' id="mark-{}"').format(note) if note not in context.marks else ""
            context.marks.add(note)
            out.append(Markup('<a epub:type="noteref" role="doc-noteref" href="#note-{}"{}><sup>{}</sup></a>').format(
                note, mark, inner))
        elif href:
            out.append(Markup('<a href="{}">{}</a>').format(href, inner))
        else:
            out.append(inner)
    return Markup("").join(out)


def _span(span: Span) -> Markup:
    if span.line_break:
        return Markup("<br/>")
    text = Markup("{}").format(span.text)
    if span.code:
        text = Markup("<code>{}</code>").format(text)
    if span.italic:
        text = Markup("<em>{}</em>").format(text)
    if span.bold:
        text = Markup("<strong>{}</strong>").format(text)
    if span.strike:
        text = Markup("<s>{}</s>").format(text)
    return text


FIGURE_MAX_PX = 1600


def _figure_jpeg(jpeg: bytes) -> bytes:
    """A figure's checked pixels, at most 1600 px across (enough for any reader's screen)."""
    with Image.open(io.BytesIO(jpeg), formats=["JPEG"]) as image:
        if image.width <= FIGURE_MAX_PX:
            return jpeg
        image.thumbnail((FIGURE_MAX_PX, FIGURE_MAX_PX * 10), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=88, optimize=True)
        return buffer.getvalue()


# The publication -------------------------------------------------------------


def make_epub(config: BookConfig, layout: Layout, texts: BookTexts, entries: tuple[Entry, ...], book: Book) -> Edition:
    """The EPUB 3 edition of the entries of ``book``, with the page numbers printed in its PDF."""
    templates = epub_templates(layout)
    w = config.words
    by_slug = {e.contribution.slug: e for e in entries}
    labels = _first_labels(book)
    part_levels = 2 if config.parts else 1
    documents: list[_Document] = []
    images: dict[str, bytes] = {"images/cover.png": cover_png(book.pdf)}
    page_list: list[tuple[str, str]] = []
    pagebreak = _pagebreaks(page_list)

    documents.append(_Document("cover.xhtml", config.title, Markup(
        '<section epub:type="cover" class="cover"><img src="../images/cover.png" alt="{}"/></section>').format(
            w("cover_of", title=config.title)), "cover"))
    documents.append(_Document("title.xhtml", config.title, _title_page(config), "frontmatter"))
    if texts.intro:
        body = pagebreak("intro.xhtml", labels.get("intro"))
        body += _section("introduction", w("introduction"), render_blocks(texts.intro, _Context(1, images, "_intro")),
                         signature=config.editor)
        documents.append(_Document("intro.xhtml", w("introduction"), body, "frontmatter"))
    contents_break = pagebreak("nav.xhtml", labels.get("contents"))
    parts_seen: set[str] = set()
    toc: list[dict] = []
    for line in book.toc:
        entry = by_slug[line.slug]
        if line.part and line.part not in parts_seen:
            parts_seen.add(line.part)
            number = len(parts_seen)
            name = f"part-{number}.xhtml"
            intro = _part_intro(config, texts, line.part)
            body = pagebreak(name, labels.get(f"part-{number}"))
            body += Markup('<section epub:type="part" role="doc-part" class="divider" aria-labelledby="h">'
                           '<p class="part-number">{}</p><h1 id="h">{}</h1>\n{}</section>').format(
                w("part", number=number), line.part, render_blocks(intro, _Context(1, images, f"_part{number}")))
            documents.append(_Document(name, line.part, body, "bodymatter"))
            toc.append({"href": name, "text": w("part_title", number=number, title=line.part), "children": []})
        name = f"entry-{line.slug}.xhtml"
        body = pagebreak(name, line.label)
        body += _entry(entry, part_levels if line.part else 1, f"images/{line.slug}.jpg", w,
                       _Context(part_levels if line.part else 1, images, line.slug), config.language)
        documents.append(_Document(name, f"{entry.contribution.name}: {entry.contribution.title}", body,
                                   "bodymatter", entry.contribution.language))
        if entry.contribution.photo:
            c = entry.contribution
            images[f"images/{line.slug}.jpg"] = prepare_headshot(c.photo, HEADSHOT_WIDTH_PT, c.photo_focus)
        item = {"href": name, "text": f"{line.name}: {line.headline}", "children": []}
        (toc[-1]["children"] if line.part else toc).append(item)
    body = pagebreak("contributors.xhtml", labels.get("index"))
    body += _section("index", w("index"), _index(entries, {line.slug: line.label for line in book.toc}, w))
    documents.append(_Document("contributors.xhtml", w("index"), body, "backmatter"))
    toc.append({"href": "contributors.xhtml", "text": w("index"), "children": []})
    if texts.about_editor:
        body = pagebreak("about.xhtml", labels.get("about"))
        about = render_blocks(texts.about_editor, _Context(1, images, "_about"))
        body += _section("appendix", w("about_editor"), about)
        documents.append(_Document("about.xhtml", w("about_editor"), body, "backmatter"))
        toc.append({"href": "about.xhtml", "text": w("about_editor"), "children": []})
    if texts.intro:
        toc.insert(0, {"href": "intro.xhtml", "text": w("introduction"), "children": []})
    toc.insert(1 if texts.intro else 0, {"href": "nav.xhtml#toc", "text": w("contents"), "children": []})

    files: dict[str, bytes] = {}
    page = templates.get_template("page.xhtml")
    for document in documents:
        files[f"EPUB/text/{document.name}"] = page.render(document=document,
                                                          language=document.language or config.language).encode()
    spine = [d.name for d in documents]
    spine.insert(spine.index("intro.xhtml") + 1 if texts.intro else 2, "nav.xhtml")
    first_entry = next((d.name for d in documents if d.name.startswith(("part-", "entry-"))), spine[-1])
    files["EPUB/text/nav.xhtml"] = templates.get_template("nav.xhtml").render(
        toc=toc, page_list=page_list, language=config.language, title=config.title,
        contents_break=contents_break, first=first_entry, w=w).encode()
    files["EPUB/style.css"] = templates.get_template("style.css").render(style=_style(layout)).encode()
    for name, data in images.items():
        files[f"EPUB/{name}"] = data
    modified = time.strftime("%Y-%m-%dT%H:%M:%SZ", _moment())
    contributors = [e.contribution for e in entries]
    files["EPUB/package.opf"] = templates.get_template("package.opf").render(
        book=config, identifier=identifier(config), modified=modified,
        contributors=contributors, spine=spine, documents={d.name: d for d in documents},
        images=sorted(images), has_photos=any(c.photo for c in contributors),
        summary=_summary(config, entries)).encode()
    files["META-INF/container.xml"] = templates.get_template("container.xml").render().encode()
    return Edition(_zip(files), tuple(f"EPUB/text/{name}" for name in spine), tuple(page_list))


def identifier(config: BookConfig) -> str:
    """A UUID named by title, edition and editor: stable across builds, so readers keep their place."""
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"anthology:{config.title}\0{config.edition}"
                                                             f"\0{config.editor}"))


def _pagebreaks(page_list: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    """``pagebreak(document, label)``: the marker where a printed page starts, recorded in the page-list."""
    def pagebreak(document: str, label: str | None) -> Markup:
        if not label:
            return Markup("")
        page_list.append((label, f"{document}#page-{label}"))
        return Markup('<span epub:type="pagebreak" role="doc-pagebreak" id="page-{0}" aria-label="{0}"></span>\n'
                      ).format(label)
    return pagebreak


def _first_labels(book: Book) -> dict[str, str]:
    """The printed label of the first page of the intro, contents, each part's divider, index and About page."""
    found: dict[str, str] = {}
    dividers = 0
    for index, kind in enumerate(book.page_kinds):
        previous = book.page_kinds[index - 1] if index else ""
        if kind == "divider" and previous != "divider":
            dividers += 1
            found[f"part-{dividers}"] = page_label(book, index)
        elif kind in ("intro", "contents", "index", "about") and kind not in found:
            found[kind] = page_label(book, index)
    return found


def page_label(book: Book, index: int) -> str:
    """The label a PDF viewer shows for page ``index`` (0-based), from the book's label ranges."""
    for label in book.labels:
        if label.first_index <= index <= label.last_index:
            number = label.start + index - label.first_index
            if label.style == "/r":
                return label.prefix + roman(number)
            return label.prefix + (str(number) if label.style == "/D" else "")
    return str(index + 1)


def _part_intro(config: BookConfig, texts: BookTexts, title: str) -> tuple[Block, ...]:
    for number, part in enumerate(config.parts):
        if part.title == title and number < len(texts.part_intros):
            return texts.part_intros[number]
    return ()


def _title_page(config: BookConfig) -> Markup:
    lines = [config.title + (f": {config.subtitle}" if config.subtitle else ""),
             ", ".join(p for p in (config.edition, config.date) if p), config.license]
    return Markup(
        '<section epub:type="titlepage" class="titlepage" aria-labelledby="h">\n<h1 id="h">{}</h1>\n{}{}'
        '<div class="imprint" epub:type="copyright-page">{}</div>\n</section>').format(
        config.title,
        Markup('<p class="subtitle">{}</p>\n').format(config.subtitle) if config.subtitle else "",
        Markup('<p class="editor">{}</p>\n').format(config.words("edited_by", editor=config.editor))
        if config.editor else "",
        Markup("").join(Markup("<p>{}</p>").format(line) for line in lines if line))


def _section(kind: str, heading: str, content: Markup, signature: str = "") -> Markup:
    role = {"introduction": "doc-introduction", "index": "doc-index", "appendix": "doc-appendix"}[kind]
    sign = Markup('<p class="signature">— {}</p>\n').format(signature) if signature else ""
    return Markup('<section epub:type="{}" role="{}" aria-labelledby="h">\n<h1 id="h">{}</h1>\n{}\n{}</section>'
                  ).format(kind, role, heading, content, sign)


def _entry(entry: Entry, level: int, photo: str, w: Words, context: _Context, book_language: str) -> Markup:
    """An entry's document body; in an entry written in another language than the book (its document's
    ``lang``), the book's own words (the portrait's alt text, the proof line) say which language they are in."""
    c = entry.contribution
    affiliation = ", ".join(p for p in (c.role, c.organization) if p)
    own = Markup(' lang="{0}" xml:lang="{0}"').format(book_language) if c.language not in ("", book_language) \
        else Markup("")
    head = Markup("")
    if c.photo:
        head += Markup('<img class="headshot" src="../{}" alt="{}"{}/>\n').format(
            photo, w("portrait_of", name=c.name), own)
    head += Markup('<h{0} id="h">{1}</h{0}>\n<p class="byline">{2}</p>\n').format(level, c.title, c.name)
    if affiliation:
        head += Markup('<p class="affiliation">{}</p>\n').format(affiliation)
    if c.status != "approved":
        head += Markup('<p class="proof"{}>{}</p>\n').format(own, w(f"epub_proof_{c.status}"))
    about = Markup("")
    if c.bio or c.website:
        website = Markup('<p class="website"><a href="{0}">{0}</a></p>').format(c.website) if c.website else ""
        about = Markup('<footer class="about">\n<p>{}</p>{}\n</footer>\n').format(c.bio, website) if c.bio else \
            Markup('<footer class="about">{}</footer>\n').format(website)
    return Markup('<section epub:type="chapter" role="doc-chapter" class="entry" aria-labelledby="h">\n'
                  '<header>\n{}</header>\n{}\n{}</section>').format(
        head, render_blocks(entry.blocks, context), about)


def _index(entries: tuple[Entry, ...], label_of: dict[str, str], w: Words) -> Markup:
    """Contributors by family name, grouped by initial, as in the PDF's index, each linking to the entry."""
    contributors = sorted((e.contribution for e in entries),
                          key=lambda c: (collation_key(index_name(c.name, c.sort_as)), c.slug))
    groups: list[tuple[str, list[Markup]]] = []
    for c in contributors:
        letter = collation_key(index_name(c.name, c.sort_as))[0][:1].upper() or "#"
        if not groups or groups[-1][0] != letter:
            groups.append((letter, []))
        shown = c.sort_as or index_name(c.name, "", inverted=True)
        groups[-1][1].append(Markup('<li><a href="entry-{}.xhtml">{}</a>, <span class="page">{}</span>'
                                    '<br/><span class="headline">{}</span></li>').format(
            c.slug, shown, w("page_short", page=label_of.get(c.slug, "")), c.title))
    return Markup("\n").join(
        Markup('<section class="letter" aria-label="{0}">\n<h2>{0}</h2>\n<ul>\n{1}\n</ul>\n</section>').format(
            letter, Markup("\n").join(items)) for letter, items in groups)


def _summary(config: BookConfig, entries: tuple[Entry, ...]) -> str:
    """schema:accessibilitySummary, in the book's language."""
    photos = sum(1 for e in entries if e.contribution.photo)
    w = config.words
    return " ".join([w("epub_summary"), *([w.count("epub_portraits", photos)] if photos else []),
                     w("epub_no_hazards")])


def _style(layout: Layout) -> dict[str, str]:
    def stack(family: str) -> str:
        return f'"{FAMILY_LABELS.get(family, family)}", {GENERIC_FAMILY.get(family, "serif")}'

    return {"body": stack(layout.body_font), "heading": stack(layout.heading_font),
            "caption": stack(layout.caption_font), "text": layout.text_color, "accent": layout.accent_color,
            "muted": layout.muted_color, "photo_radius": "50%" if layout.photo_shape == "circle" else "0"}


def epub_templates(layout: Layout) -> Environment:
    """The layout's ``epub/`` templates, file by file before the built-in ones."""
    folders = [str(folder / "epub") for folder in layout.folders if (folder / "epub").is_dir()]
    loader = ChoiceLoader([FileSystemLoader(folders), FileSystemLoader(str(BUILTIN_TEMPLATES))])
    return Environment(loader=loader, autoescape=select_autoescape(["xhtml", "opf", "xml"]),
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def cover_png(pdf: bytes, width: int = COVER_WIDTH_PX) -> bytes:
    """The book's first page as a PNG ``width`` pixels wide."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        image = page.render(scale=width / page.get_width()).to_pil().convert("RGB")
    finally:
        document.close()
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _moment() -> time.struct_time:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return time.gmtime(int(epoch)) if epoch and epoch.isdigit() else time.gmtime()


def _zip(files: dict[str, bytes]) -> bytes:
    """The OCF container: ``mimetype`` first and stored, then every file in name order, one fixed time."""
    stamp = max(_moment()[:6], (1980, 1, 1, 0, 0, 0))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        entries = [("mimetype", b"application/epub+zip"), *sorted(files.items())]
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()
