"""Properties over generated inputs: nothing lost or invented, paths never escape, the loader never crashes."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from anthology.build import build_book, check_project
from anthology.diagnostics import Report
from anthology.fonts import missing_glyphs
from anthology.model import Position
from anthology.validate import resolve_inside

from .conftest import page_texts, words

pytestmark = pytest.mark.timeout(300)

PROPERTY = settings(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

BODY_FONTS = ("source-serif", ("roboto",))  # the default layout: Source Serif, falling back to Roboto
EXCLUDED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Mn", "Mc", "Me", "Zs", "Zl", "Zp"}


def _printable(code: int) -> bool:
    char = chr(code)
    return (unicodedata.category(char) not in EXCLUDED_CATEGORIES
            and unicodedata.normalize("NFC", char) == char and not missing_glyphs(char, *BODY_FONTS))


# Ligature characters (U+FB00…) are left out: PDFium's extraction expands them to letters by design.
COVERED = "".join(chr(c) for c in (*range(0x21, 0x3000), *range(0x1F100, 0x1F200)) if _printable(c))
ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def test_the_alphabet_reaches_beyond_latin_and_the_bmp():
    assert {"ą", "ğ", "ễ", "Ж", "Ω", "\U0001F12F"} <= set(COVERED)


@settings(PROPERTY, max_examples=40)
@given(st.lists(st.text(COVERED, min_size=1, max_size=12), min_size=1, max_size=40))
@example(["Copyleft", "\U0001F12F", "x<y", "a&b", "<img", "src=/etc/passwd>", "&#x110000;"])
def test_every_word_of_the_text_and_nothing_else_reaches_the_pdf(tokens):
    """Words are escaped for Markdown, so what the contributor typed is exactly what prints."""
    body = ASCII_PUNCTUATION.sub(r"\\\1", " ".join(tokens))
    root = Path(tempfile.mkdtemp())
    try:
        (root / "contributions").mkdir()
        (root / "anthology.yaml").write_text('title: "P"\n')
        (root / "contributions/a.yaml").write_text('name: "Ann Lee"\ntitle: "Headline"\n')
        (root / "contributions/a.md").write_text(body + "\n", encoding="utf-8")
        result = build_book(root, root / "p.pdf")
        pages = page_texts(result.output)
        printed = [w for kind, page in zip(result.book.page_kinds, pages, strict=True) if kind == "entry"
                   for w in words(page)]
    finally:
        shutil.rmtree(root)
    expected = words(" ".join(tokens))
    furniture = [*words("Headline Ann Lee"), result.book.toc[0].label]
    assert Counter(printed) == Counter(expected) + Counter(furniture)
    start = printed.index(expected[0]) if expected else 0
    assert printed[start:start + len(expected)] == expected


@pytest.fixture(scope="module")
def tree() -> Path:
    """contributions/ with files, folders, links in and out, a FIFO, and a look-alike sibling folder."""
    top = Path(tempfile.mkdtemp())
    base = top / "contributions"
    (base / "sub").mkdir(parents=True)
    (base / "dir").mkdir()
    (base / "a.jpg").write_bytes(b"x")
    (base / "sub/b.png").write_bytes(b"x")
    os.symlink("a.jpg", base / "link-in.jpg")
    os.symlink("/etc/passwd", base / "link-out.jpg")
    os.symlink("../outside.jpg", base / "link-up.jpg")
    os.mkfifo(base / "fifo.jpg")
    (top / "outside.jpg").write_bytes(b"x")
    (top / "contributions-evil").mkdir()
    (top / "contributions-evil/x.jpg").write_bytes(b"x")
    yield base
    shutil.rmtree(top)


PARTS = ["..", ".", "", "a.jpg", "sub", "b.png", "link-in.jpg", "link-out.jpg", "link-up.jpg", "dir", "fifo.jpg",
         "~", "/", "etc", "passwd", "outside.jpg", "contributions-evil", "x.jpg", "C:", "file:", "\x00", "\\"]


@settings(PROPERTY, max_examples=400)
@given(st.one_of(st.text(max_size=30), st.lists(st.sampled_from(PARTS), max_size=6).map("/".join)))
def test_the_path_resolver_returns_a_regular_file_inside_or_reports_an_error(tree, name):
    report = Report()
    resolved = resolve_inside(tree, name, Position(tree / "x.yaml"), report, "photo")
    if resolved is None:
        assert len(report.errors) == 1
    else:
        assert not report.diagnostics
        assert resolved.is_file() and not resolved.is_symlink()
        assert os.path.commonpath([os.path.realpath(resolved), os.path.realpath(tree)]) == os.path.realpath(tree)


YAMLISH = st.text(st.sampled_from(list("abn:-[]{}&*!|>'\"#%@`,? \n\t\\0\u00e9\u202e")) , max_size=200)


@settings(PROPERTY, max_examples=500)
@given(st.one_of(st.binary(max_size=600), YAMLISH.map(lambda text: text.encode("utf-8"))), st.booleans())
def test_check_never_raises_on_arbitrary_bytes(data, as_front_matter):
    root = Path(tempfile.mkdtemp())
    try:
        (root / "contributions").mkdir()
        (root / "anthology.yaml").write_text('title: "Fuzz"\n')
        if as_front_matter:
            (root / "contributions/f.md").write_bytes(b"---\n" + data + b"\n---\nBody.\n")
        else:
            (root / "contributions/f.yaml").write_bytes(data)
            (root / "contributions/f.md").write_bytes(data[::-1])
        checked, report = check_project(root)
    finally:
        shutil.rmtree(root)
    assert checked is not None or report.errors
    for diagnostic in report.diagnostics:
        assert diagnostic.position.line >= 1 and diagnostic.position.col >= 1 and diagnostic.message


WORD_TOKEN = st.text("abcdefghijklmnopqrstuvwxyzéøß", min_size=1, max_size=10)
INLINE = st.one_of(
    WORD_TOKEN, WORD_TOKEN.map("*{}*".format), WORD_TOKEN.map("**{}**".format), WORD_TOKEN.map("~~{}~~".format),
    WORD_TOKEN.map("`{}`".format), WORD_TOKEN.map("[{}](https://example.org/x)".format),
    WORD_TOKEN.map("https://example.org/{}".format), st.just("[^1]"), WORD_TOKEN.map("<b>{}</b>".format),
)
LINE = st.lists(INLINE, min_size=1, max_size=8).map(" ".join)
BLOCK = st.one_of(
    LINE, LINE.map("## {}".format), LINE.map("> {}".format), st.lists(LINE, min_size=1, max_size=4).map(
        lambda items: "\n".join(f"- {item}" for item in items)),
    st.lists(LINE, min_size=1, max_size=3).map(lambda items: "\n".join(f"1. [x] {item}" for item in items)),
    st.lists(WORD_TOKEN, min_size=1, max_size=6).map(lambda ws: "```\n" + " ".join(ws) * 3 + "\n```"),
    st.lists(st.tuples(WORD_TOKEN, WORD_TOKEN), min_size=1, max_size=4).map(
        lambda rows: "| a | b |\n|:--|--:|\n" + "\n".join(f"| {x} | {y} |" for x, y in rows)),
    st.just("*"), st.just("---"), LINE.map("[^1]: {}".format), WORD_TOKEN.map("![{}](missing.png)".format),
)


@settings(PROPERTY, max_examples=12)
@given(st.lists(BLOCK, min_size=1, max_size=8))
def test_any_mix_of_supported_markdown_builds_and_keeps_every_word(blocks):
    """A grammar of every construct the book supports: build never crashes and no word is lost."""
    body = "\n\n".join(blocks) + "\n"
    root = Path(tempfile.mkdtemp())
    try:
        (root / "contributions").mkdir()
        (root / "anthology.yaml").write_text('title: "P"\n')
        (root / "contributions/a.yaml").write_text('name: "Ann Lee"\ntitle: "Headline"\n')
        (root / "contributions/a.md").write_text(body, encoding="utf-8")
        checked, report = check_project(root)
        assert not report.errors, report.errors
        result = build_book(root, root / "p.pdf", cache=False)
        printed = "".join(words("".join(page for kind, page in zip(result.book.page_kinds, page_texts(result.output),
                                                                   strict=True) if kind == "entry")))
    finally:
        shutil.rmtree(root)
    position = 0
    for word in checked.entries[0].words:
        found = printed.find(word, position)
        assert found >= 0, (word, body)
        position = found + len(word)
