"""The three built-in layouts, checked on the PDFs they produce: sizes, margins, recto starts, index, budget."""

from __future__ import annotations

import itertools
import re

import pypdfium2
import pytest

from anthology import build_book
from anthology.build import BuildResult
from anthology.cli import main
from anthology.diagnostics import Report
from anthology.fonts import missing_glyphs
from anthology.layout.pages import left_margin, text_width
from anthology.validate import read_layout

from .conftest import REPO, entry, page_texts, reader

LAYOUTS = ["perspectives", "pocket", "a4-report"]
SIZES = {"perspectives": (612, 792), "pocket": (432, 648), "a4-report": (595.28, 841.89)}


@pytest.fixture(scope="module", params=LAYOUTS)
def built(request, tmp_path_factory) -> tuple[str, BuildResult]:
    target = tmp_path_factory.mktemp(request.param) / "book.pdf"
    return request.param, build_book(REPO, target, layout=request.param)


def _chars(page):
    """(char, left, bottom, right, top) for every non-space character PDFium finds on a page."""
    text = page.get_textpage()
    for index in range(text.count_chars()):
        char = text.get_text_range(index, 1)
        if char.strip():
            yield (char, *text.get_charbox(index))


def test_pages_have_the_layouts_trim_size(built):
    name, result = built
    width, height = SIZES[name]
    for page in reader(result.output).pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx((width, height), abs=0.1)


def test_no_text_outside_the_text_block_and_no_missing_glyphs(built):
    """Every character of an entry page lies inside its page's text block (mirrored on left-hand pages)."""
    name, result = built
    layout = read_layout(REPO, name, Report())
    document = pypdfium2.PdfDocument(str(result.output))
    kinds = result.book.page_kinds
    checked = 0
    for index, kind in enumerate(kinds):
        page = document[index]
        for char, left, bottom, right, top in _chars(page):
            assert char not in "\ufffd\x00", (index, "a glyph is missing")  # U+FFFE: a hyphen at a break
            assert char == "\ufffe" or not missing_glyphs(char), (index, char)
            if kind != "entry":
                continue
            x0 = left_margin(layout, recto=index % 2 == 0)
            assert x0 - 1 <= left and right <= x0 + text_width(layout) + 1, (name, index, char, left, right)
            assert bottom > 0 and top < layout.page_height, (name, index, char)
            checked += 1
    assert checked > 5000


@pytest.fixture(scope="module")
def pocket(tmp_path_factory) -> BuildResult:
    return build_book(REPO, tmp_path_factory.mktemp("pocket") / "book.pdf", layout="pocket")


def test_pocket_mirrors_its_margins_and_opens_every_entry_on_a_right_hand_page(pocket):
    name, result = "pocket", pocket
    layout = read_layout(REPO, name, Report())
    document = pypdfium2.PdfDocument(str(result.output))
    labels = list(reader(result.output).page_labels)
    for line in result.book.toc:
        assert line.page_index % 2 == 0 and int(labels[line.page_index]) % 2 == 1, line
    lefts = {True: set(), False: set()}
    for index, kind in enumerate(result.book.page_kinds):
        if kind == "entry":
            lefts[index % 2 == 0].add(round(min(left for _, left, *_ in _chars(document[index]))))
        if kind == "blank":
            assert list(_chars(document[index])) == []  # no folio on a blank page
    assert min(lefts[True]) == pytest.approx(layout.margin_inner, abs=1.5)
    assert min(lefts[False]) == pytest.approx(layout.margin_outer, abs=1.5)
    assert "blank" in result.book.page_kinds


def test_index_numbers_are_the_entries_first_page_labels(built):
    _, result = built
    document = pypdfium2.PdfDocument(str(result.output))
    text = "\n".join(document[i].get_textpage().get_text_range()
                     for i, kind in enumerate(result.book.page_kinds) if kind == "index")
    lines = [line.strip() for line in text.replace("\r", "").split("\n") if line.strip()]
    numbers = {}
    for line, following in itertools.pairwise(lines):
        match = re.fullmatch(r"(.+?)[ .]*\s(\d+)", line)
        if match:
            numbers[following] = match.group(2)
    assert numbers == {line.headline: line.label for line in result.book.toc}
    family_order = [line.split(",")[0].split()[0] for line in lines if re.search(r"\.\s*\d+$", line)]
    assert family_order[:3] == ["Àlàdé", "Balasubramanian", "Conceição"]  # À files under A


def test_print_adds_bleed_and_crop_marks_around_the_trim(tmp_path):
    result = build_book(REPO, tmp_path / "print.pdf", layout="pocket", for_print=True)
    page = reader(result.output).pages[3]
    bleed = 9  # 0.125 in
    trim = [float(v) for v in page.trimbox]
    assert trim[2] - trim[0] == pytest.approx(432) and trim[3] - trim[1] == pytest.approx(648)
    assert [float(v) for v in page.bleedbox] == pytest.approx(
        [trim[0] - bleed, trim[1] - bleed, trim[2] + bleed, trim[3] + bleed])
    assert float(page.mediabox.width) > trim[2] - trim[0] + 2 * bleed
    assert result.book.page_count % 4 == 0  # pocket's page.multiple_of
    document = pypdfium2.PdfDocument(str(result.output))
    labels = list(reader(result.output).page_labels)
    for index, kind in enumerate(result.book.page_kinds):  # the folios survive the shift onto the bigger sheet
        if kind in ("entry", "contents", "index", "about", "intro"):
            page = document[index]
            width, _ = page.get_size()
            foot = page.get_textpage().get_text_bounded(left=0, bottom=0, right=width, top=trim[1] + 40).strip()
            assert foot == labels[index], (index, kind, foot)


@pytest.mark.parametrize(("layout", "multiple"), [("perspectives", 2), ("pocket", 4)])
def test_print_pads_to_the_layouts_page_multiple_with_blank_pages(make_project, tmp_path, layout, multiple):
    for count in (1, 2, 3):
        root = make_project({f"contributions/p{i}.md": f"---\nname: Pat {i}\ntitle: T{i}\n---\nWords.\n"
                             for i in range(count)})
        plain = build_book(root, tmp_path / f"{layout}{count}.pdf", layout=layout)
        printed = build_book(root, tmp_path / f"{layout}{count}-print.pdf", layout=layout, for_print=True)
        assert printed.book.page_count % multiple == 0
        assert 0 <= printed.book.page_count - plain.book.page_count < multiple
        texts = page_texts(printed.output)
        assert all(not text.strip() for text in texts[plain.book.page_count:])  # blank, without folios


PULL_QUOTE_BODY = "\n\n".join(
    " ".join([f"Paragraph {n} says a little about tides and the people who read them."] * 5) for n in range(1, 5))


def test_a4_report_keeps_a_pull_quote_whole_and_the_bio_with_its_entry(make_project, tmp_path):
    root = make_project(entry("Ina Quote", "Tides", PULL_QUOTE_BODY, pullquote="The tide keeps its own timetable.",
                              bio="Ina Quote reads tides for a living."))
    result = build_book(root, tmp_path / "a4.pdf", layout="a4-report")
    start = result.book.toc[0].page_index
    pages = page_texts(result.output)
    entry_pages = [text for kind, text in zip(result.book.page_kinds, pages, strict=True) if kind == "entry"]
    assert len(entry_pages) == 1, "the entry fits one page: no stranded bio, no page two thirds empty"
    assert "The tide keeps its own timetable." in " ".join(pages[start].split())
    assert "Ina Quote reads tides for a living." in pages[start]


LONG = "\n\n".join(" ".join(["Every entry runs a little long when its writer cares."] * 9) for _ in range(6))


def test_overflow_is_reported_and_fit_tightens_within_the_limits(make_project, tmp_path, capsys):
    root = make_project({**entry("Al Long", "Over budget", LONG), **entry("Bo Short", "Fits", "Short.\n")})
    assert main(["check", "--layout", str(root)]) == 0
    err = capsys.readouterr().err
    assert re.search(r"al-long\.md:1:1: warning: runs \d+ lines? over its 1-page budget", err)
    assert "bo-short" not in err
    result = build_book(root, tmp_path / "fit.pdf", fit=True)
    fitted = [d.message for d in result.report.warnings]
    assert any(m.startswith("fitted with body") for m in fitted), fitted
    first, second = result.book.toc
    assert first.name == "Al Long" and second.page_index == first.page_index + 1  # one page now


def test_photos_below_the_layouts_resolution_are_warned(make_project):
    from .hostile import image_bytes

    root = make_project({"anthology.yaml": 'title: "B"\nlayout: pocket\n',
                         **entry("Pia Pixel", "Small", "Words.\n", photo="p.jpg"),
                         "contributions/p.jpg": image_bytes(size=(120, 120))})
    from anthology.build import check_project

    _, report = check_project(root)
    assert [d.message for d in report.warnings] == [
        "photo 'p.jpg' is 120×120 pixels: 150 dpi at 0.80 in, under the layout's 300 dpi"]


def test_layout_files_are_checked_like_contributions(make_project):
    from anthology.build import check_project

    bad = ("base: perspectives\ndescription: x\nfurniture:\n  folio: bottom-middle\n"
           "fonts:\n  body: source-serif\n  heading: source-serif\n  caption: source-sans\n  fallback: [robot]\n"
           "entry:\n  pagez: 1\n")
    root = make_project({"anthology.yaml": 'title: "B"\nlayout: mine\n', "layouts/mine/layout.yaml": bad,
                         **entry("A", "T", "Words.\n")})
    _, report = check_project(root)
    lines = [d.format(root) for d in report.errors]
    assert any("layouts/mine/layout.yaml:4:10: error: 'folio' must be one of bottom-center" in x for x in lines)
    assert any("layouts/mine/layout.yaml:11:3: error: unknown key 'pagez' (did you mean 'pages'?)" in x
               for x in lines)
    assert any("unknown font family 'robot' (did you mean 'roboto'?)" in x for x in lines)


def test_sections_name_real_entries(make_project):
    from anthology.build import check_project

    book = 'title: "B"\nsections:\n  - title: "One"\n    entries: [a, ghost]\n'
    root = make_project({"anthology.yaml": book, **entry("A", "T", "W.\n"), **entry("B", "T", "W.\n")})
    _, report = check_project(root)
    assert [d.message for d in report.errors] == ["sections names 'ghost', which is not a contribution"]
    assert [d.message for d in report.warnings] == ["'b' is not in anthology.yaml's sections list"]


def test_layout_assets_come_from_the_layouts_own_folder(make_project, tmp_path):
    from .hostile import image_bytes

    mine = "base: perspectives\ndescription: x\nassets:\n  cover_image: bg.png\n  logo: logo.png\n"
    root = make_project({"anthology.yaml": 'title: "B"\nlayout: mine\n', "layouts/mine/layout.yaml": mine,
                         "layouts/mine/bg.png": image_bytes(size=(60, 90), color=(20, 140, 60), fmt="PNG"),
                         "layouts/mine/logo.png": image_bytes(size=(40, 20), color=(200, 30, 30), fmt="PNG"),
                         **entry("A", "T", "Words.\n")})
    result = build_book(root, tmp_path / "assets.pdf")
    pages = reader(result.output).pages
    assert len(pages[0].images) == 2 and len(pages[1].images) == 1  # background and logo; logo on the title page
    cover = pypdfium2.PdfDocument(str(result.output))[0].render(scale=0.2).to_pil()
    assert cover.getpixel((cover.size[0] // 2, cover.size[1] - 5)) == pytest.approx((20, 140, 60), abs=12)
    escape = mine.replace("bg.png", "../../anthology.yaml")
    (root / "layouts/mine/layout.yaml").write_text(escape)
    from anthology.build import check_project

    _, report = check_project(root)
    assert [d.message for d in report.errors] == ["cover image '../../anthology.yaml' points outside mine/"]


def test_justify_takes_the_glue_of_a_space_or_false_for_ragged_right(make_project, tmp_path):
    from anthology.build import check_project
    from anthology.model import Justification

    def layout_with(justify: str) -> dict[str, str]:
        return {"anthology.yaml": 'title: "B"\nlayout: mine\n',
                "layouts/mine/layout.yaml": f"base: perspectives\ndescription: x\njustify: {justify}\n",
                **entry("Ann Example", "T", "Leadership is a practice of small decisions. " * 60 + "\n")}

    checked, report = check_project(make_project(layout_with("{stretch: 0.4}")))
    assert not report.errors
    assert checked.project.layout.justify == Justification(True, 0.4, 0.33, space_factors=True)
    checked, report = check_project(make_project(layout_with("{space_factors: false}")))
    assert checked.project.layout.justify == Justification(True, 0.5, 0.33, space_factors=False)
    for bad, message in (("{stretch: 3}", "stretch must be between 0 and 2"),
                         ("{space_factors: 2}", "must be true or false"),
                         ("{shrink: 0.2, squeeze: 1}", "unknown key 'squeeze'"),
                         ("maybe", "must be true or false")):
        _, report = check_project(make_project(layout_with(bad)))
        assert any(message in d.message for d in report.errors), (bad, [d.message for d in report.errors])
    root = make_project(layout_with("false"))
    result = build_book(root, tmp_path / "ragged.pdf")
    page = pypdfium2.PdfDocument(str(result.output))[result.book.toc[0].page_index]
    rights: dict[int, float] = {}
    for _, _, bottom, right, _ in _chars(page):
        rights[round(bottom)] = max(rights.get(round(bottom), 0), right)
    body = sorted(rights.values())[2:-2]
    assert body[-1] - body[0] > 10  # a ragged right edge
