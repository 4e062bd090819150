"""Stage 7: the release folder: the book, a download page, and a kit for every contributor.

``build_release`` writes a self-contained static site (no external assets) that
any static host can serve:

- ``<title>-<edition>.pdf``: the book, the only PDF at the root; its name carries
  the edition so an old link never silently serves new content;
- ``<title>-<edition>.epub``: the EPUB reading edition (:mod:`anthology.epub`), made here, never
  beside the plain build's PDF;
- ``index.html`` and ``style.css``: the download page, from the layout's Jinja2
  templates (``site/`` in the layout's folder or a base layout's);
- ``cover.png``: page 1 rendered by PDFium;
- ``c/<slug>.html``, ``.pdf``, ``.txt``, ``-card.png``, ``.jpg``: each
  contributor's page, extract (cover plus their pages, keeping the printed
  numbers), a ready-to-send note, a 1200×630 share card and their headshot;
- ``contributors.csv``, ``manifest.json`` and ``SHA256SUMS``.

The whole folder is written beside the live one and switched into place in one
step (:func:`anthology.publish.publish_folder`), so a server or a visitor
reading it during a rebuild sees one release or the other, never a mix.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pypdfium2
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from pikepdf import Name, OutlineItem
from PIL import Image, ImageDraw, ImageFont, ImageOps

from . import __version__
from .assemble import page_labels, xmp_metadata
from .build import BuildResult, CheckedProject, build_book, slugify
from .epub import make_epub
from .fonts import font_runs
from .layout.images import prepare_headshot
from .model import Book, BookConfig, Contribution, Layout, PageRange, Paragraph, Position, TocLine
from .publish import Move, default_site, moved_entries, publish_folder, read_manifest
from .tagged import keep_only
from .words import Words

BUILTIN_SITE = Path(__file__).parent / "layouts" / "perspectives" / "site"
CARD_SIZE = (1200, 630)


@dataclass(frozen=True, slots=True)
class Release:
    folder: Path
    pdf: Path
    build: BuildResult
    moves: tuple[Move, ...]
    kept: tuple[str, ...] = ()
    """Files in the folder that dist did not write, left as they were."""


def build_release(root: Path, folder: Path | None = None, book_output: Path | None = None,
                  **build_options: object) -> Release:
    """Build the book (reusing cached entries) and write the release folder.

    ``book_output`` is where the plain build writes its PDF (default ``dist/<title>.pdf``).
    """
    root = root.resolve()
    folder = (folder or default_site(root)).resolve()
    result = build_book(root, book_output, reuse=False, **build_options)  # type: ignore[arg-type]
    assert result.book is not None and result.checked is not None
    checked, book = result.checked, result.book
    config = checked.project.book
    edition = make_epub(config, checked.project.layout, checked.texts, checked.entries, book)
    previous = read_manifest(folder)
    pdf_name = f"{slugify(config.title) or 'anthology'}{'-' + slugify(config.edition) if config.edition else ''}.pdf"
    epub_name = pdf_name.removesuffix(".pdf") + ".epub"
    files: dict[str, bytes] = {pdf_name: book.pdf, epub_name: edition.data}
    cover_png, cover_size = _cover_image(book.pdf)
    files["cover.png"] = cover_png
    files["favicon.ico"] = favicon(checked.project.layout)
    if not config.site_url:
        result.report.warning(Position(root / "anthology.yaml"),
                              "no site_url: the contributors' notes, share links and preview images (og:image) "
                              "are relative to the release folder, so link previews show no picture",
                              'add site_url: "https://…/" (where the release folder will be published)')
    entries = _entry_rows(checked, book, pdf_name)
    absolute = _absolute(config.site_url)
    by_slug = {c.slug: c for c in checked.project.contributions}
    for row in entries:
        contribution = by_slug[row["slug"]]
        files[f"c/{row['slug']}.pdf"] = extract(book, row["line"], config)
        files[f"c/{row['slug']}.txt"] = _note(row, config, absolute("")("")).encode()
        files[f"c/{row['slug']}-card.png"] = share_card(contribution, row["label"], config.title,
                                                        checked.project.layout, config.words)
        if contribution.photo:
            files[f"c/{row['slug']}.jpg"] = prepare_headshot(contribution.photo, 96)
    sha = hashlib.sha256(book.pdf).hexdigest()
    context = {
        "book": {"title": config.title, "subtitle": config.subtitle, "editor": config.editor,
                 "edition": config.edition, "date": config.date, "license": config.license,
                 "language": config.language, "blurb": _first_paragraph(checked.texts.intro),
                 "cover": "cover.png", "cover_size": cover_size,
                 "pdf": {"name": pdf_name, "pages": book.page_count, "sha256": sha,
                         "size": config.words.size(len(book.pdf))},
                 "epub": {"name": epub_name, "sha256": hashlib.sha256(edition.data).hexdigest(),
                          "size": config.words.size(len(edition.data))},
                 "published": config.words.date(_build_time().date())},
        "colors": site_colors(checked.project.layout), "entries": entries, "w": config.words,
    }
    templates = site_templates(checked.project.layout)
    for row in entries:
        files[f"c/{row['slug']}.html"] = templates.get_template("contributor.html").render(
            **context, entry=row, root="../", absolute=absolute("../")).encode()
    files["style.css"] = templates.loader.get_source(templates, "style.css")[0].encode()  # type: ignore[union-attr]
    files["contributors.csv"] = _csv(entries)
    manifest = _manifest(config, book, pdf_name, sha, entries, root)
    manifest["book"]["epub"] = {"file": epub_name, "sha256": context["book"]["epub"]["sha256"]}
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
    files["index.html"] = templates.get_template("index.html").render(
        **context, root="", absolute=absolute("")).encode()
    files["SHA256SUMS"] = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n"
                                  for name, data in sorted(files.items())).encode()
    kept = publish_folder(folder, files)
    return Release(folder, folder / pdf_name, result, moved_entries(previous, manifest), kept)


def release_is_current(root: Path, folder: Path) -> bool:
    """True when ``folder`` holds a release made from the project's current files."""
    from .lastbuild import inputs_digest

    manifest = read_manifest(folder)
    return bool(manifest) and manifest["book"].get("input_hashes") == inputs_digest(root, {}) and (
        folder / manifest["book"]["file"]).is_file()


def extract(book: Book, line: TocLine, config: BookConfig) -> bytes:
    """The cover and one entry's pages, labelled with the numbers printed on them, in the book's language.

    The entry's part of the book's structure tree comes along, so the extract is tagged too.
    """
    end = line.page_index + 1
    while end < len(book.page_kinds) and book.page_kinds[end] == "entry" and not _starts_entry(book, end):
        end += 1
    with pikepdf.open(io.BytesIO(book.pdf)) as pdf:
        keep_only(pdf, line.page_index, end)
        for name in (Name.Outlines, Name.Names, Name.PageLabels):
            del pdf.Root[name]
        del pdf.pages[end:]
        del pdf.pages[1:line.page_index]
        page_labels(pdf, (PageRange(0, 0, "", config.words("cover")),
                          PageRange(1, end - line.page_index, "/D", start=int(line.label))))
        with pdf.open_outline() as outline:
            outline.root.append(OutlineItem(f"{line.name}: {line.headline}", 1))
        pdf.docinfo.Title = f"{line.name}: {line.headline} — {config.title}"
        pdf.docinfo.Author = line.name
        xmp_metadata(pdf, str(pdf.docinfo.Title), [line.name], config.language)
        if Name.Subject in pdf.docinfo:
            del pdf.docinfo.Subject
        buffer = io.BytesIO()
        pdf.save(buffer, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return buffer.getvalue()


def _starts_entry(book: Book, index: int) -> bool:
    return any(line.page_index == index for line in book.toc)


def share_card(contribution: Contribution, label: str, book_title: str, layout: Layout,
               words: Words | None = None) -> bytes:
    """A 1200×630 PNG for link previews: headshot, name, headline, book title and page."""
    width, height = CARD_SIZE
    card = Image.new("RGB", CARD_SIZE, layout.cover_color)
    draw = ImageDraw.Draw(card)
    accent, ink = layout.accent_color, layout.cover_text_color
    draw.rectangle((0, height - 14, width, height), fill=accent)
    left = 80
    if contribution.photo:
        size = 260
        with Image.open(io.BytesIO(prepare_headshot(contribution.photo, size * 72 / 300))) as photo:
            face = ImageOps.fit(photo.convert("RGB"), (size, size))
        mask = Image.new("L", (size, size), 0)
        ImageDraw.Draw(mask).ellipse((0, 0, size - 1, size - 1), fill=255)
        card.paste(face, (left, (height - size) // 2 - 20), mask)
        draw.ellipse((left - 3, (height - size) // 2 - 23, left + size + 2, (height + size) // 2 - 18),
                     outline=accent, width=6)
        left += size + 60
    room = width - left - 70
    y = 110
    y = _draw_lines(draw, contribution.name, (left, y), "bold", layout.caption_font, layout, 54, room, ink, 2)
    y = _draw_lines(draw, f"“{contribution.title}”", (left, y + 18), "italic", layout.heading_font, layout,
                    44, room, ink, 3)
    footer = (words or Words())("page_of", book=book_title, page=label)
    _draw_lines(draw, footer, (left, height - 110), "regular", layout.caption_font,
                layout, 30, room, ink, 1)
    buffer = io.BytesIO()
    card.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _draw_lines(draw: ImageDraw.ImageDraw, text: str, origin: tuple[int, int], style: str, family: str,
                layout: Layout, size: int, room: int, fill: str, most: int) -> int:
    """Wrap ``text`` into at most ``most`` lines of ``room`` pixels, each character in a face that has it."""
    words, lines, line = text.split(), [], ""
    measure = lambda s: sum(_font(f, size).getlength(run) for f, run in font_runs(s, f"{family}-{style}",  # noqa: E731
                                                                                    layout.fallback_fonts))
    for word in words:
        candidate = f"{line} {word}".strip()
        if measure(candidate) <= room or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    lines.append(line)
    if len(lines) > most:
        lines = [*lines[: most - 1], " ".join(lines[most - 1:])]
        while measure(lines[-1] + "…") > room and " " in lines[-1]:
            lines[-1] = lines[-1].rsplit(" ", 1)[0]
        lines[-1] += "…"
    x, y = origin
    for text_line in lines:
        cursor = x
        for face, run in font_runs(text_line, f"{family}-{style}", layout.fallback_fonts):
            draw.text((cursor, y), run, font=_font(face, size), fill=fill)
            cursor += _font(face, size).getlength(run)
        y += int(size * 1.22)
    return y


_FONTS: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}


def _font(face: str, size: int) -> ImageFont.FreeTypeFont:
    from reportlab.pdfbase import pdfmetrics

    if (face, size) not in _FONTS:
        _FONTS[face, size] = ImageFont.truetype(pdfmetrics.getFont(face).face.filename, size)
    return _FONTS[face, size]


def _entry_rows(checked: CheckedProject, book: Book, pdf_name: str) -> list[dict]:
    by_slug = {e.contribution.slug: e for e in checked.entries}
    rows = []
    for line in book.toc:
        entry = by_slug[line.slug]
        c = entry.contribution
        rows.append({
            "slug": c.slug, "name": c.name, "title": c.title, "label": line.label, "part": line.part,
            "affiliation": ", ".join(p for p in (c.role, c.organization) if p), "bio": c.bio, "website": c.website,
            "photo": c.photo is not None, "initials": "".join(w[0] for w in c.name.split()[:2]).upper(),
            "excerpt": _first_paragraph(entry.blocks), "line": line, "pages": 0,
            "link": f"{pdf_name}#nameddest={c.slug}", "page_link": f"{pdf_name}#page={line.page_index + 1}",
        })
    for row, following in zip(rows, [*rows[1:], None], strict=True):
        end = following["line"].page_index if following else len(book.page_kinds)
        row["pages"] = sum(1 for kind in book.page_kinds[row["line"].page_index:end] if kind == "entry")
    return rows


def _first_paragraph(blocks: tuple) -> str:
    """The excerpt on the entry's web page: its words, without the footnote numbers the book adds."""
    for block in blocks:
        if isinstance(block, Paragraph):
            return " ".join("".join(" " if s.line_break else s.text for s in block.spans if not s.note).split())
    return ""


def _note(row: dict, config: BookConfig, base: str) -> str:
    """The ready-to-send note to one contributor, in the book's language and with its word for an entry."""
    w = config.words
    edition = f" ({config.edition})" if config.edition else ""
    lines = [w("note_greeting", name=row["name"]), "",
             w("note_appears", entry=w("entry"), title=row["title"], page=row["label"], book=config.title,
               edition=edition), "",
             w("note_read", link=base + row["link"]),
             w("note_share", link=f"{base}c/{row['slug']}.html"),
             w("note_extract", entry=w("entry"), link=f"{base}c/{row['slug']}.pdf")]
    if not base:
        lines += ["", w("note_relative")]
    return "\n".join(lines) + "\n"


def _build_time() -> datetime.datetime:
    """Now, or ``SOURCE_DATE_EPOCH`` for a reproducible release."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    seconds = int(epoch) if epoch and epoch.isdigit() else time.time()
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)


def _csv(entries: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["slug", "name", "title", "first_page", "pages", "link", "extract"])
    for row in entries:
        writer.writerow([row["slug"], _safe_cell(row["name"]), _safe_cell(row["title"]), row["label"],
                         row["pages"], row["link"], f"c/{row['slug']}.pdf"])
    return buffer.getvalue().encode()


def _safe_cell(text: str) -> str:
    """Spreadsheets run a cell starting with = + - @ as a formula; a leading apostrophe stops that."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _manifest(config, book: Book, pdf_name: str, sha: str, entries: list[dict], root: Path) -> dict:  # type: ignore[no-untyped-def]
    built = _build_time().timetuple()
    from .lastbuild import inputs_digest

    return {
        "book": {"title": config.title, "file": pdf_name, "sha256": sha, "pages": book.page_count,
                 "edition": config.edition, "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", built),
                 "tool_version": __version__, "input_hashes": inputs_digest(root, {})},
        "entries": [{"slug": r["slug"], "name": r["name"], "title": r["title"], "first_page": r["label"],
                     "pages": r["pages"], "extract": f"c/{r['slug']}.pdf", "link": r["link"]} for r in entries],
    }


def _cover_image(pdf: bytes) -> tuple[bytes, tuple[int, int]]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        image = page.render(scale=600 / page.get_width()).to_pil().convert("RGB")
    finally:
        document.close()
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue(), image.size


def favicon(layout: Layout) -> bytes:
    """The site's icon in the layout's colours: the cover's field crossed by its accent rule, as on the cover."""
    size = 64
    icon = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(icon)
    draw.rounded_rectangle((2, 2, size - 3, size - 3), radius=10, fill=layout.cover_color,
                           outline=layout.accent_color, width=3)
    draw.rectangle((2, int(size * 0.56), size - 3, int(size * 0.56) + 7), fill=layout.accent_color)
    draw.rectangle((14, 14, size - 15, 19), fill=layout.cover_text_color)
    draw.rectangle((14, 24, size - 27, 28), fill=layout.cover_text_color)
    out = io.BytesIO()
    icon.save(out, "ICO", sizes=[(16, 16), (32, 32), (48, 48), (64, 64)])
    return out.getvalue()


def site_colors(layout: Layout) -> dict[str, str]:
    return {"accent": layout.accent_color, "cover": layout.cover_color, "cover_text": layout.cover_text_color,
            "text": layout.text_color, "muted": layout.muted_color}


def site_templates(layout: Layout) -> Environment:
    folders = [str(folder / "site") for folder in layout.folders if (folder / "site").is_dir()]
    loader = ChoiceLoader([FileSystemLoader(folders), FileSystemLoader(str(BUILTIN_SITE))])
    return Environment(loader=loader, autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def _absolute(site_url: str):  # type: ignore[no-untyped-def]
    """``absolute(prefix)(path)``: a full URL when the book's ``site_url`` is set, else relative to the page.

    Link previews need full URLs for their images; without ``site_url`` the
    pages still work, only the previews lack a picture on some services.
    """
    base = site_url if not site_url or site_url.endswith("/") else site_url + "/"
    return lambda prefix: (lambda path: base + path) if base else (lambda path: prefix + path)
