"""Every example of the CommonMark 0.31.2 spec and of the GFM extension spec, built as the entries of one book.

Text nobody on this project wrote: per example the book must not crash, must print every
word of the reference rendering (markdown-it-py with the same options, read as HTML text)
in order, must draw no box for a printable character and nothing outside the text block,
and must warn, naming the construct, about anything it does not print as the author meant.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pypdfium2
import pytest

from anthology.build import build_book
from anthology.diagnostics import Report
from anthology.text import new_parser
from anthology.validate import read_layout

from .conftest import REPO

DATA = Path(__file__).parent / "data"
FENCE = "`" * 32

pytestmark = pytest.mark.timeout(600)


def examples(name: str) -> list[str]:
    """The Markdown of each ``example`` block (``→`` stands for a tab in the spec)."""
    text = (DATA / name).read_text(encoding="utf-8")
    pattern = re.compile(rf"^{FENCE} example[^\n]*\n(.*?)^\.\n.*?^{FENCE}$", re.S | re.M)
    return [m[1].replace("→", "\t") for m in pattern.finditer(text)]


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def reference_words(markdown: str) -> list[str]:
    parser = _Text()
    parser.feed(new_parser().render(markdown))
    parser.close()
    return re.findall(r"\w+", " ".join(parser.parts))


def expected_warnings(markdown: str) -> set[str]:
    """What the book cannot print as the author meant, from the parser's own tokens."""
    kinds = set()
    for token in new_parser().parse(markdown):
        if token.type == "html_block":
            kinds.add("raw HTML")
        if token.type == "heading_open" and token.tag not in ("h2", "h3"):
            kinds.add("heading level")
        for child in token.children or ():
            if child.type == "html_inline" and not child.content.startswith('<input class="task-list-item-checkbox"'):
                kinds.add("raw HTML")
            if child.type == "image":
                kinds.add("image")
    return kinds


WARNING_KINDS = {"raw HTML": "raw HTML", "heading level": "heading level", "image": "figure|image",
                 "link": "link to"}


@pytest.fixture(scope="module")
def suite_book(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("spec")
    (root / "contributions").mkdir()
    (root / "anthology.yaml").write_text('title: "Spec suites"\n', encoding="utf-8")
    markdown = {}
    for suite, name in (("cm", "commonmark-spec-0.31.2.txt"), ("gfm", "cmark-gfm-extensions.txt")):
        for number, body in enumerate(examples(name), 1):
            slug = f"{suite}-{number:04d}"
            markdown[slug] = body
            meta = {"name": f"Example {suite} {number}", "title": f"{suite} {number}", "order": len(markdown)}
            yaml_text = "".join(f"{key}: {json.dumps(value)}\n" for key, value in meta.items())
            (root / "contributions" / f"{slug}.yaml").write_text(yaml_text, encoding="utf-8")
            (root / "contributions" / f"{slug}.md").write_text(body, encoding="utf-8")
    result = build_book(root, root / "suite.pdf", skip_invalid=True, cache=False)
    return root, result, markdown


def test_the_suites_are_all_there():
    assert len(examples("commonmark-spec-0.31.2.txt")) == 655
    assert len(examples("cmark-gfm-extensions.txt")) == 28


def entry_pages(result) -> dict[str, list[int]]:
    """Page indexes of each entry in the book, from the contents and the page kinds."""
    kinds = result.book.page_kinds
    pages: dict[str, list[int]] = {}
    for line in result.book.toc:
        index = line.page_index
        pages[line.slug] = [index]
        index += 1
        while index < len(kinds) and kinds[index] == "entry" and index not in {t.page_index for t in result.book.toc}:
            pages[line.slug].append(index)
            index += 1
    return pages


def test_every_example_builds_prints_its_words_in_order_inside_the_text_block(suite_book):
    _, result, markdown = suite_book
    skipped = {r.slug: r for r in result.skipped}
    refused = {}
    for slug, rejected in skipped.items():  # only empty bodies, and text no font of the layout can draw
        for diagnostic in rejected.diagnostics:
            if "body is empty" in diagnostic.message:
                assert not reference_words(markdown[slug]), slug
            else:
                assert "cannot be drawn" in diagnostic.message, (slug, diagnostic.message)
                refused[slug] = diagnostic.message
    layout = read_layout(REPO, "perspectives", Report())
    left, right_margin = layout.margin_inner - 3.0, layout.margin_outer - 3.0  # ink of an italic or bold f may overhang
    document = pypdfium2.PdfDocument(str(result.output))
    missing, outside, boxes, words_found, words_total = [], [], [], 0, 0
    try:
        for slug, indexes in entry_pages(result).items():
            text, chars_out = "", 0
            for index in indexes:
                page = document[index]
                textpage = page.get_textpage()
                width, height = page.get_size()
                text += textpage.get_text_range() + "\n"
                for i in range(textpage.count_chars()):
                    x0, bottom, x1, top = textpage.get_charbox(i)
                    char = textpage.get_text_range(i, 1)
                    if char.strip() and (x0 < left or x1 > width - right_margin or bottom < 0 or top > height):
                        chars_out += 1
                textpage.close()
                page.close()
            if chars_out:
                outside.append((slug, chars_out))
            if "\ufffe" in text or ("\ufffd" in text and "\ufffd" not in new_parser().render(markdown[slug])):
                boxes.append(slug)
            flat = "".join(re.findall(r"\w+", text))
            position = 0
            for word in reference_words(markdown[slug]):
                words_total += 1
                found = flat.find(word, position)
                if found < 0:
                    missing.append((slug, word))
                    continue
                words_found += 1
                position = found + len(word)
    finally:
        document.close()
    print(f"\nspec suites: {len(markdown)} examples, {len(skipped) - len(refused)} empty, "
          f"{len(refused)} refused by the glyph check ({sorted(refused)}), "
          f"{words_found}/{words_total} reference words found in order, built in {result.seconds:.1f} s")
    assert not missing, missing[:20]
    assert not outside, outside[:20]
    assert not boxes, boxes[:20]


def test_what_is_not_printed_as_meant_is_warned_about_by_construct(suite_book):
    _, result, markdown = suite_book
    by_file: dict[str, list[str]] = {}
    for diagnostic in result.report.warnings:
        by_file.setdefault(diagnostic.position.path.stem, []).append(diagnostic.message)
    counts: Counter[str] = Counter()
    unwarned = []
    refused = {r.slug for r in result.skipped}  # not parsed: their characters cannot be drawn
    for slug, body in markdown.items():
        if slug in refused:
            continue
        messages = " | ".join(by_file.get(slug, []))
        for kind in expected_warnings(body):
            counts[kind] += 1
            if not re.search(WARNING_KINDS[kind], messages):
                unwarned.append((slug, kind))
    print(f"\nwarnings by construct (examples): {dict(sorted(counts.items()))}; "
          f"all warnings: {len(result.report.warnings)}")
    assert not unwarned, unwarned[:20]
