"""layout: a very long paragraph is laid out in linear time and keeps every word in order."""

from __future__ import annotations

import json
import re

import pytest

from anthology.build import build_book
from anthology.layout.setting import SetParagraph

from .conftest import entry, page_texts


@pytest.mark.parametrize("markdown", ["{}\n", "- {}\n", "> {}\n", "Text.[^1]\n\n[^1]: {}\n"],
                         ids=["paragraph", "list item", "quote", "footnote"])
def test_a_very_long_paragraph_is_line_broken_a_bounded_number_of_times(make_project, tmp_path, monkeypatch,
                                                                        markdown):
    """A list item or a footnote too: their remainder was broken again at every page (a 100 000-character
    item took 23 s, 3.5 times as long as before total-fit breaking)."""
    broken: list[int] = []
    original = SetParagraph.breakLines

    def counting(self, widths):  # type: ignore[no-untyped-def]
        result = original(self, widths)
        broken.append(len(result.lines))
        return result

    monkeypatch.setattr(SetParagraph, "breakLines", counting)
    body = [f"w{i}" for i in range(20_000)]
    root = make_project(entry("Ann Long", "One paragraph", markdown.format(" ".join(body))))
    result = build_book(root, tmp_path / "long.pdf")
    lines = max(broken)  # the one pass over the whole paragraph
    assert lines > 1000
    # once to cut it, once as the pieces are placed, once more at page breaks; ReportLab
    # alone re-breaks the whole remainder at every page, about 20 times the lines here
    assert sum(broken) < 4 * lines
    found = [w for page in page_texts(result.output) for w in re.findall(r"\bw\d+\b", page)]
    assert found == body


def test_words_overrides_are_printed_as_text_never_as_reportlab_markup(make_project, tmp_path):
    """`words: {contents: '<img src="/etc/passwd"/>'}` passed check, then opened /etc/passwd and crashed the build."""
    overrides = {"contents": '<img src="/etc/passwd"/> & <font color=red>Inhalt</font>',
                 "index": "<b>Verzeichnis</b> &amp; mehr", "introduction": "Vorwort <br/> & Dank",
                 "about_editor": "<a href='file:///etc/passwd'>Über</a>"}
    config = 'title: "Kleines Buch"\nlanguage: de\nintro: "Ein Satz."\nabout_editor: "Noch einer."\nwords:\n' + \
        "".join(f"  {key}: {json.dumps(value)}\n" for key, value in overrides.items())
    root = make_project({"anthology.yaml": config, **entry("Ann Able", "Titel", "Worte.\n")})
    result = build_book(root, tmp_path / "book.pdf")
    text = " ".join(page_texts(result.output))
    for value in overrides.values():
        assert " ".join(value.split()) in " ".join(text.split()), value


def test_a_paragraph_in_its_styles_own_face_draws_the_same_without_font_tags():
    """Markup leaves out the <font> tags that repeat the style's face; the page is the same, byte for byte."""
    import io

    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfgen.canvas import Canvas

    from anthology.fonts import register_family
    from anthology.layout.flowables import TaggedParagraph, markup
    from anthology.layout.setting import Setting
    from anthology.model import Span

    fonts = register_family("source-serif")
    code = register_family("ibm-plex-mono").regular
    spans = (Span("Plain words, then "), Span("bold", bold=True), Span(" and "), Span("italic", italic=True),
             Span(" text; "), Span("code()", code=True), Span(" a "), Span("link", href="https://example.org"),
             Span("1", note=1), Span(" "), Span("struck", strike=True), Span("", line_break=True),
             Span("Ωmega, Ж, 你好, \U0001F600 & <b>not markup</b> — fallbacks."))
    style = ParagraphStyle("body", fontName=fonts.regular, fontSize=11, leading=15, setting=Setting(language="en_US"))
    pages = []
    texts = []
    for face in ("", fonts.regular):
        text = markup(spans, fonts, code, "#336699", ("roboto",), anchors="x", face=face)
        texts.append(text)
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=(300, 300), invariant=1)
        paragraph = TaggedParagraph(text, style)
        paragraph.wrapOn(canvas, 200, 280)
        paragraph.drawOn(canvas, 20, 20)
        canvas.bookmarkPage("x-note-1")  # where the note's mark leads
        canvas.save()
        pages.append(buffer.getvalue())
    assert texts[1].count("<font") < texts[0].count("<font")
    assert pages[0] == pages[1]
