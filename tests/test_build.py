"""The built sample book, read back from the PDF itself with pypdf and PDFium."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys

import pypdfium2
import pytest
from pypdf.generic import Destination

from anthology import build_book, check_project
from anthology.assemble import roman

from .conftest import REPO, page_texts, reader, words
from .conftest import entry as entry_files


def labels(pdf):
    return list(pdf.page_labels)


def test_pages_are_labelled_cover_roman_then_arabic(sample_book):
    pdf = reader(sample_book.output)
    page_labels = labels(pdf)
    body = page_labels.index("1")
    assert page_labels[0] == "Cover"
    assert page_labels[1:body] == [roman(n) for n in range(1, body)]
    assert page_labels[body:] == [str(n) for n in range(1, len(page_labels) - body + 1)]
    assert sample_book.book.page_kinds[body] == "divider"  # the sample book has parts


UNNUMBERED = {"cover", "title", "blank", "divider"}


def test_printed_folio_equals_page_label(sample_book):
    """The text in each page's bottom margin is exactly its page label; display and blank pages have none."""
    page_labels = labels(reader(sample_book.output))
    kinds = sample_book.book.page_kinds
    assert len(kinds) == len(page_labels) and {"entry", "contents", "index", "about", "intro"} <= set(kinds)
    document = pypdfium2.PdfDocument(str(sample_book.output))
    for index, label in enumerate(page_labels):
        page = document[index]
        width, _ = page.get_size()
        foot = page.get_textpage().get_text_bounded(left=0, bottom=0, right=width, top=60).strip()
        assert foot == ("" if kinds[index] in UNNUMBERED else label), (index, kinds[index], foot, label)


def contents_lines(texts, page_labels):
    """(headline, number, name) parsed from the contents pages' own text."""
    found = []
    for text, label in zip(texts, page_labels, strict=False):
        if not re.fullmatch(r"[ivx]+", label) or ("Contents" not in text and not found):
            continue
        lines = [line.strip() for line in text.split("\n") if line.strip()]
        for current, following in itertools.pairwise(lines):
            match = re.fullmatch(r"(.+?)[ .]*\s(\d+)", current)
            if match:
                found.append((match.group(1).strip(" ."), match.group(2), following))
    return found


def test_each_contents_number_is_where_that_contributor_first_appears(sample_book):
    checked, _ = check_project(REPO)
    texts = page_texts(sample_book.output)
    page_labels = labels(reader(sample_book.output))
    contributions = checked.project.contributions
    names = {c.name for c in contributions}
    lines = [line for line in contents_lines(texts, page_labels) if line[2] in names]
    assert [name for _, _, name in lines] == [c.name for c in contributions]
    first_entry_index = page_labels.index("1")
    for (headline, number, name), contribution in zip(lines, contributions, strict=False):
        assert contribution.title.startswith(headline.split("…")[0][:20])
        first = next(i for i in range(first_entry_index, len(texts)) if name in texts[i])
        assert page_labels[first] == number, name
        assert contribution.title.split()[0] in texts[first]


def test_contents_lines_link_to_entry_first_pages(sample_book):
    pdf = reader(sample_book.output)
    targets = []
    for page in pdf.pages[: sample_book.book.toc[0].page_index]:
        for annotation in page.get("/Annots", []):
            annotation = annotation.get_object()
            if annotation["/Subtype"] == "/Link" and "/Dest" in annotation:
                targets.append(pdf.get_page_number(annotation["/Dest"][0].get_object()))
    kinds = sample_book.book.page_kinds
    assert [t for t in targets if kinds[t] == "entry"] == [line.page_index for line in sample_book.book.toc]
    assert [kinds[t] for t in targets if kinds[t] != "entry"] == ["divider"] * 3 + ["index", "about"]


def test_outline_and_named_destinations(sample_book):
    pdf = reader(sample_book.output)
    top = [item for item in pdf.outline if not isinstance(item, list)]
    children = [item for item in pdf.outline if isinstance(item, list)]
    checked, _ = check_project(REPO)
    parts = checked.project.book.parts
    assert [item.title for item in top] == ["Introduction", "Contents", *(
        f"Part {n}: {p.title}" for n, p in enumerate(parts, 1)), "Index of contributors", "About the editor"]
    by_slug = {c.slug: c for c in checked.project.contributions}
    assert [[item.title for item in group] for group in children] == [
        [f"{by_slug[s].name}: {by_slug[s].title}" for s in part.slugs] for part in parts]
    outline = [(item.title, pdf.get_destination_page_number(item)) for group in children for item in group]
    destinations = {name: pdf.get_destination_page_number(dest) for name, dest in pdf.named_destinations.items()
                    if isinstance(dest, Destination)}
    for line in sample_book.book.toc:
        assert destinations[line.slug] == line.page_index
        assert (f"{line.name}: {line.headline}", line.page_index) in outline


def test_every_font_is_embedded_once(sample_book):
    pdf = reader(sample_book.output)
    programs: dict[str, set[int]] = {}
    for page in pdf.pages:
        for font in page["/Resources"]["/Font"].values():
            descriptor = font.get_object()["/FontDescriptor"]
            assert "/FontFile2" in descriptor, font["/BaseFont"]
            programs.setdefault(str(font["/BaseFont"]), set()).add(descriptor.raw_get("/FontFile2").idnum)
    assert programs and all(len(ids) == 1 for ids in programs.values()), programs
    assert {re.sub("^/[A-Z]{6}\\+", "", name) for name in programs} >= {
        "SourceSerifPro-Regular", "SourceSansPro-Regular"}


def test_every_word_of_every_body_reaches_the_pdf(sample_book):
    checked, _ = check_project(REPO)
    texts = page_texts(sample_book.output)
    toc = sample_book.book.toc
    for number, (entry, line) in enumerate(zip(checked.entries, toc, strict=False)):
        end = toc[number + 1].page_index if number + 1 < len(toc) else len(texts)
        found = words(" ".join(texts[line.page_index:end]))
        position = 0
        for word in entry.words:
            position = found.index(word, position) + 1  # raises if a word is missing or out of order


def test_document_metadata(sample_book):
    pdf = reader(sample_book.output)
    meta = pdf.metadata
    checked, _ = check_project(REPO)
    book = checked.project.book
    assert (meta.title, meta.author, meta.subject) == (book.title, book.editor, book.subtitle)
    assert pdf.trailer["/Root"]["/Lang"] == book.language


def test_same_inputs_give_identical_bytes(tmp_path):
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}
    outputs = []
    for run in range(2):
        target = tmp_path / f"book{run}.pdf"
        subprocess.run([sys.executable, str(REPO / "compile.py"), "build", str(REPO), "-o", str(target)],
                       check=True, env=env, capture_output=True)
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]


def test_markup_in_contributions_is_printed_literally(make_project, tmp_path):
    from .conftest import entry

    # In Markdown, CommonMark itself decodes entities such as &amp; (so the body's one prints "&");
    # in metadata nothing is decoded.
    hostile = 'x<y and y>z, a & b, <img src="/etc/passwd"/> <font color="red">red</font> <para>'
    root = make_project({
        **entry("Eve <b>Bold</b>", "Tags <i>stay</i> & text", hostile,
                bio='<a href="javascript:alert(1)">click</a>', organization="R&D <Lab> &amp; Co"),
    })
    result = build_book(root, tmp_path / "out.pdf")
    text = " ".join(page_texts(result.output))
    for literal in ("x<y and y>z", "a & b", '<img src="/etc/passwd"/>', '<font color="red">red</font>',
                    "R&D <Lab> &amp; Co", "<para>", "Eve <b>Bold</b>", "Tags <i>stay</i> & text", "R&D <Lab>",
                    '<a href="javascript:alert(1)">click</a>'):
        assert literal in text.replace("“", '"').replace("”", '"'), literal


def test_failed_build_keeps_the_last_good_pdf(make_project, tmp_path):
    from .conftest import entry

    root = make_project(entry("A", "T", "Words."))
    target = tmp_path / "book.pdf"
    build_book(root, target)
    good = target.read_bytes()
    script = (
        "import resource, signal; from pathlib import Path; from anthology import build_book\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a full disk: writes fail with EFBIG\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))\n"
        f"build_book(Path({str(root)!r}), Path({str(target)!r}))\n"
    )
    (root / "contributions/a.md").write_text("Other words, longer now. " * 50)
    failed = subprocess.run([sys.executable, "-c", script], capture_output=True, cwd=REPO)
    assert failed.returncode != 0
    assert target.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".book")) == []


def test_headshot_reaches_the_pdf_without_its_metadata(make_project, tmp_path):
    from io import BytesIO

    from PIL import Image

    from .conftest import entry

    photo = Image.new("RGB", (400, 500), (180, 120, 90))
    exif = Image.Exif()
    exif[0x010E] = "SECRET-DESCRIPTION"  # ImageDescription
    exif[0x0112] = 6  # rotated: must be applied, then dropped
    encoded = BytesIO()
    photo.save(encoded, "JPEG", exif=exif.tobytes(), comment=b"SECRET-COMMENT")
    root = make_project({**entry("A", "T", "Words.", photo="a.jpg"), "contributions/a.jpg": encoded.getvalue()})
    result = build_book(root, tmp_path / "out.pdf")
    raw = result.output.read_bytes()
    images = [image for page in reader(result.output).pages for image in page.images]
    assert len(images) == 1
    assert b"SECRET" not in raw and b"SECRET" not in images[0].data and b"Exif" not in images[0].data
    assert images[0].image.size[0] == images[0].image.size[1]  # cropped square for the round frame


# Real text: whatever check accepts, build builds (issue 11) ---------------------------------------------


def _entry_text(result, slug):
    index = next(line.page_index for line in result.book.toc if line.slug == slug)
    return page_texts(result.output)[index]


def _entry_first_page(result, slug):
    """The PDFium page and text page an entry starts on, for checks on where its glyphs lie."""
    document = pypdfium2.PdfDocument(str(result.output))
    page = document[next(line.page_index for line in result.book.toc if line.slug == slug)]
    return page, page.get_textpage()


def test_an_empty_list_item_builds(make_project, tmp_path):
    """'*' alone, or '-' + blank line + '  foo', passed check and then crashed ReportLab's list code."""
    root = make_project({**entry_files("Ann Lee", "Stray", "*\n"), **entry_files("Bo Chen", "Gap", "-\n\n  foo\n")})
    _, report = check_project(root)
    assert not report.errors
    result = build_book(root, tmp_path / "out.pdf")
    assert "foo" in words(_entry_text(result, "bo-chen"))


def test_a_layout_failure_is_an_error_against_its_entry_and_skip_invalid_leaves_it_out(make_project, tmp_path,
                                                                                      monkeypatch):
    from anthology.errors import ProjectError
    from anthology.layout import entry as stage  # build imports it when it lays out

    real = stage.layout_entry

    def failing(entry, layout, language="en"):
        if entry.contribution.slug == "bo-chen":
            raise IndexError("list index out of range")
        return real(entry, layout, language)

    monkeypatch.setattr(stage, "layout_entry", failing)
    root = make_project({**entry_files("Ann Lee", "Fine", "Words.\n"),
                         **entry_files("Bo Chen", "Broken", "Other words.\n")})
    (tmp_path / "out.pdf").write_bytes(b"%PDF last good")
    with pytest.raises(ProjectError) as raised:
        build_book(root, tmp_path / "out.pdf", cache=False)
    [error] = raised.value.report.errors
    assert error.position.path.name == "bo-chen.md" and "could not be laid out" in error.message
    assert "IndexError" in error.message
    assert (tmp_path / "out.pdf").read_bytes() == b"%PDF last good"
    result = build_book(root, tmp_path / "out.pdf", skip_invalid=True, cache=False)
    assert [r.slug for r in result.skipped] == ["bo-chen"]
    assert [line.slug for line in result.book.toc] == ["ann-lee"]


def test_contributions_in_any_letter_case_are_all_in_the_book(make_project, tmp_path):
    root = make_project({
        "contributions/bob.YAML": 'name: "Bob Ames"\ntitle: "Upper"\n', "contributions/bob.MD": "Bob words.\n",
        "contributions/carol.Md": '---\nname: "Carol Ode"\ntitle: "Mixed"\n---\nCarol words.\n',
        "contributions/dan.markdown": '---\nname: "Dan Ruiz"\ntitle: "Long suffix"\n---\nDan words.\n',
        "contributions/eve.yml": 'name: "Eve Sato"\ntitle: "Short suffix"\n', "contributions/eve.md": "Eve.\n",
        "contributions/notes.txt": "editor's scribbles",
    })
    _, report = check_project(root)
    assert not report.errors
    assert [w.message for w in report.warnings] == ["the file 'notes.txt' in contributions/ is not used by any entry"]
    result = build_book(root, tmp_path / "out.pdf")
    assert sorted(line.slug for line in result.book.toc) == ["bob", "carol", "dan", "eve"]


def test_a_long_url_breaks_inside_the_text_block(make_project, tmp_path):
    url = "https://example.org/report?id=quarterly_planning_review_for_the_northern_distribution_centre_2026"
    body = f"See {url} for the figures, and {url}&page=2 for the rest of the quarterly review.\n"
    root = make_project({**entry_files("Ann Lee", "Links", body), "anthology.yaml": 'title: "B"\nlayout: pocket\n'})
    result = build_book(root, tmp_path / "out.pdf")
    document = pypdfium2.PdfDocument(str(result.output))
    page = document[result.book.toc[0].page_index]
    textpage = page.get_textpage()
    right = max(textpage.get_charbox(i)[2] for i in range(textpage.count_chars())
                if textpage.get_text_range(i, 1).strip())
    flat = "".join(words(textpage.get_text_range()))
    assert right <= page.get_width() - 0.625 * 72 + 1  # pocket's outer margin
    assert "".join(words(url)) in flat
    lines = textpage.get_text_range().splitlines()
    assert any(line.endswith("_") for line in lines)  # broken at a URL-safe point, no hyphen added
    assert not any(line.endswith("-") for line in lines)


def test_code_is_set_in_a_monospaced_face_with_a_continuation_mark(make_project, tmp_path):
    line = "result = compute_something(alpha, beta) if deep_enough else fall_back_to_the_default(" + "x" * 40 + ")"
    root = make_project(entry_files("Ann Lee", "Code", f"Some `₿ ↗` inline.\n\n```\n{line}\n```\n"))
    result = build_book(root, tmp_path / "out.pdf")
    text = _entry_text(result, "ann-lee")
    assert "₿ ↗" in text and "↪" in text
    assert "".join(words(line)) in "".join(words(text))
    fonts = {str(font["/BaseFont"]) for page in reader(result.output).pages
             for font in page["/Resources"]["/Font"].values()}
    assert any("IBMPlexMono" in font for font in fonts)


def test_the_sample_footnote_table_figure_and_code_are_set_and_linked(sample_book):
    """Min-jun Seo's entry carries a footnote, a table and code, Dimitra Vlachou's a figure: read them back."""
    pdf = reader(sample_book.output)
    texts = page_texts(sample_book.output)
    first = {line.slug: line.page_index for line in sample_book.book.toc}
    mark_page = note_page = first["min-jun-seo"]
    entry_text = texts[mark_page]
    assert "She does care" in entry_text
    assert "| --" not in entry_text and "Volunteers Job" in entry_text  # a real table, no pipes or dashes
    assert "9:00–12:30 14 Pack bags, run the front desk" in entry_text
    assert '=IF(B2-TODAY()<3, "use first"' in entry_text  # the code, straight quotes kept
    pages = {page.indirect_reference.idnum: index for index, page in enumerate(pdf.pages)}
    links = [annotation.get_object()["/Dest"] for annotation in pdf.pages[mark_page].get("/Annots") or []
             if "/Dest" in annotation.get_object()]
    assert len(links) == 2 and {pages[dest[0].idnum] for dest in links} == {note_page}  # mark → note, note → mark
    mark_y, note_y = sorted(float(dest[3]) for dest in links)
    assert mark_y < note_y  # the note (lower on the page) links up to the mark, the mark down to the note
    figure_page = first["dimitra-vlachou"]
    assert "Sailings that left within ten minutes of the timetable" in texts[figure_page]
    assert pdf.pages[figure_page]["/Resources"].get("/XObject"), "the figure's image is on the page"


def test_tables_too_wide_or_too_tall_for_a_page_still_build_with_every_word(make_project, tmp_path):
    wide = ("|" + "|".join(f" h{i} " for i in range(40)) + "|\n|" + "---|" * 40 + "\n|"
            + "|".join(f" v{i} " for i in range(40)) + "|\n")
    tall = "| a | b |\n|--|--|\n| " + " ".join(f"w{i}" for i in range(2500)) + " | end |\n"
    root = make_project(entry_files("Ann Lee", "Tables", wide + "\n" + tall))
    _, report = check_project(root)
    assert [w.message.split(";")[0] for w in report.warnings] == ["a table of 40 columns may be too wide for the page"]
    result = build_book(root, tmp_path / "out.pdf")
    printed = words(" ".join(page_texts(result.output)))
    assert {f"v{i}" for i in range(40)} | {f"w{i}" for i in range(2500)} <= set(printed)


def test_fields_at_their_caps_build_in_every_layout(make_project, tmp_path):
    """The caps are small enough: the longest title and an unbroken name of the longest length still set."""
    title = ("Extraordinarily " * 16)[:250]
    name = "N" * 120
    files = {**entry_files("Ann Lee", title, "Words.\n", role="R" * 200, organization="O " * 100),
             "contributions/x.yaml": f'name: "{name}"\ntitle: "{title}"\n', "contributions/x.md": "More.\n"}
    for layout in ("perspectives", "pocket", "a4-report"):
        root = make_project({**files, "anthology.yaml": f'title: "{"T" * 200}"\nlayout: {layout}\n'})
        result = build_book(root, tmp_path / f"{layout}.pdf", cache=False)
        assert result.book.entry_count == 2


def _png(width: int, height: int) -> bytes:
    from io import BytesIO

    from PIL import Image

    data = BytesIO()
    Image.new("RGB", (width, height), "teal").save(data, "PNG")
    return data.getvalue()


def test_a_figure_in_a_footnote_is_printed_as_a_figure(make_project, tmp_path):
    """Only top-level, list and quote figures were read: in a note the image vanished without a warning."""
    root = make_project({**entry_files("Ann Lee", "Noted", "Text[^1] here.\n\n[^1]: ![A chart](chart.png)\n"),
                         "contributions/chart.png": _png(200, 100)})
    _, report = check_project(root)
    assert not report.diagnostics
    result = build_book(root, tmp_path / "out.pdf")
    page = next(line.page_index for line in result.book.toc if line.slug == "ann-lee")
    assert "A chart" in page_texts(result.output)[page]
    assert len(reader(result.output).pages[page].images) == 1


def test_a_figure_whose_caption_is_longer_than_a_page_builds_with_every_word(make_project, tmp_path):
    """Image and caption were one unsplittable piece: a 1500-word alt text was a LayoutError at build."""
    caption = " ".join(f"w{i}" for i in range(1500))
    for layout in ("perspectives", "a4-report"):  # a page, and two balanced columns
        root = make_project({**entry_files("Ann Lee", "Figure", f"Before.\n\n![{caption}](chart.png)\n\nAfter.\n"),
                             "contributions/chart.png": _png(200, 100),
                             "anthology.yaml": f'title: "B"\nlayout: {layout}\n'})
        _, report = check_project(root)
        assert not report.errors
        result = build_book(root, tmp_path / f"{layout}.pdf", cache=False)
        printed = words(" ".join(page_texts(result.output)))
        assert [w for w in printed if re.fullmatch(r"w\d+", w)] == caption.split(), layout
        assert sum(len(page.images) for page in reader(result.output).pages) == 1


def test_a_footnote_that_starts_with_a_long_url_stays_on_the_page(make_project, tmp_path):
    """The note's zero-width destination began its first word, so ReportLab never broke the URL:
    in the pocket layout the line was drawn from x = -4 pt."""
    url = "https://example.org/report?id=quarterly_planning_review_for_the_northern_distribution_centre_2026"
    root = make_project({**entry_files("Ann Lee", "Links", f"Foot[^1].\n\n[^1]: {url} tail\n\n{url}[^1]\n"),
                         "anthology.yaml": 'title: "B"\nlayout: pocket\n'})
    page, textpage = _entry_first_page(build_book(root, tmp_path / "out.pdf"), "ann-lee")
    boxes = [textpage.get_charbox(i) for i in range(textpage.count_chars()) if textpage.get_text_range(i, 1).strip()]
    assert min(box[0] for box in boxes) >= 0.625 * 72 - 1 and max(box[2] for box in boxes) <= page.get_width()
    assert "".join(words(url)) in "".join(words(textpage.get_text_range()))


def test_a_too_wide_table_with_only_a_header_prints_each_name_once(make_project, tmp_path):
    """Set row by row, a header without rows was paired with itself: 'h0: h0 · h1: h1 …'."""
    header = "|" + "|".join(f" h{i} " for i in range(40)) + "|\n|" + "---|" * 40 + "\n"
    root = make_project(entry_files("Ann Lee", "Header", header))
    result = build_book(root, tmp_path / "out.pdf")
    printed = [w for w in words(_entry_text(result, "ann-lee")) if re.fullmatch(r"h\d+", w)]
    assert printed == [f"h{i}" for i in range(40)]


def test_a_task_box_or_note_number_before_a_long_word_stays_inside_the_page(make_project, tmp_path):
    """The box and the note number were glued to the first word by a no-break space; ReportLab then never
    broke a long first word, and in the pocket layout it ran 130 pt past the page's right edge."""
    long_word = "k" * 300
    root = make_project({**entry_files("Ann Lee", "Long", f"- [ ] {long_word}\n\nN[^1].\n\n[^1]: {long_word}\n"),
                         "anthology.yaml": 'title: "B"\nlayout: pocket\n'})
    page, textpage = _entry_first_page(build_book(root, tmp_path / "out.pdf"), "ann-lee")
    text = textpage.get_text_range()
    right = max(textpage.get_charbox(i)[2] for i in range(textpage.count_chars())
                if textpage.get_text_range(i, 1).strip())
    assert right <= page.get_width() - 0.625 * 72 + 1  # pocket's outer margin
    assert "".join(words(text)).count(long_word) == 2 and "☐" in text


def test_the_book_is_merged_in_a_process_that_holds_no_entry_text_and_the_bytes_are_the_same(
        make_project, tmp_path, monkeypatch):
    """Issue 14 (memory flat with size): the merging process is forked before the project is checked and
    gets a plan whose entries have no text or headshots; the book is the one merging here makes."""
    import anthology.assemble as assembling
    from anthology.build import _for_assembly, lay_out_entries
    from anthology.diagnostics import Report

    from .conftest import writers

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    real, seen = assembling.merge, tmp_path / "seen"

    def noting(plan):
        entries = plan.entries
        seen.write_text(f"{os.getpid()} {sum(len(e.blocks) for e in entries)} "
                        f"{sum(bool(e.contribution.body or e.contribution.photo) for e in entries)}")
        return real(plan)

    monkeypatch.setattr(assembling, "merge", noting)
    root = make_project(writers(["One **bold** word.", "Two words.", "Three words here."]))
    result = build_book(root, tmp_path / "book.pdf", cache=False)
    pid, blocks, texts = seen.read_text().split()
    assert int(pid) != os.getpid() and (blocks, texts) == ("0", "0")
    checked = result.checked
    laid_out = lay_out_entries(checked, Report())
    for entries in (checked.entries, tuple(map(_for_assembly, checked.entries))):
        here = real(assembling.plan(checked.project.book, checked.project.layout, checked.texts, entries,
                                    laid_out.pieces))
        assert here.pdf == result.book.pdf == (tmp_path / "book.pdf").read_bytes()
    assert "One bold word." in " ".join(page_texts(result.output))


def test_a_merging_process_that_dies_is_a_one_line_error_and_the_last_good_pdf_stays(
        make_project, tmp_path, monkeypatch, capsys):
    import signal

    import anthology.assemble as assembling
    from anthology.cli import main

    root = make_project(entry_files("A", "T", "Words."))
    target = tmp_path / "book.pdf"
    build_book(root, target)
    good = target.read_bytes()
    (root / "contributions/a.md").write_text("Other words.")
    monkeypatch.setattr(assembling, "merge", lambda _: os.kill(os.getpid(), signal.SIGKILL))
    assert main(["build", str(root), "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert "the process assembling it ended unexpectedly" in err and "Traceback" not in err
    assert target.read_bytes() == good


def test_an_error_raised_while_merging_is_raised_by_the_build(make_project, tmp_path, monkeypatch):
    import multiprocessing

    import anthology.assemble as assembling

    class Local(Exception):  # a class pickle cannot name: its words still come back
        pass

    root = make_project(entry_files("A", "T", "Words."))
    for raised, expected, message in ((ValueError("a bad piece"), ValueError, "a bad piece"),
                                      (Local("made here"), RuntimeError, "Local: made here")):
        monkeypatch.setattr(assembling, "merge", lambda _, error=raised: (_ for _ in ()).throw(error))
        with pytest.raises(expected, match=message):
            build_book(root, tmp_path / "book.pdf", cache=False)
    assert multiprocessing.active_children() == []


def test_a_build_that_stops_before_assembly_leaves_no_process_behind(make_project, tmp_path):
    import multiprocessing

    from anthology.errors import ProjectError

    root = make_project({"contributions/a.yaml": "name: A\n", "contributions/a.md": "Words."})  # no title
    with pytest.raises(ProjectError):
        build_book(root, tmp_path / "book.pdf")
    assert multiprocessing.active_children() == []


def test_the_merging_process_of_a_build_stopped_by_an_error_ends_by_itself(make_project, tmp_path, monkeypatch):
    """It used to hold the build's end of its pipe open itself, so it never saw the build stop and was
    killed after waiting 5 s: every build with an error took 5 s longer than the checking did."""
    from anthology.build import _Assembler
    from anthology.errors import ProjectError

    processes = []
    real = _Assembler.__exit__

    def noting(self, *exc):  # type: ignore[no-untyped-def]
        real(self, *exc)
        processes.append(self._process)

    monkeypatch.setattr(_Assembler, "__exit__", noting)
    root = make_project({"contributions/a.yaml": "name: A\n", "contributions/a.md": "Words."})  # no title
    with pytest.raises(ProjectError):
        build_book(root, tmp_path / "book.pdf")
    assert [p.exitcode for p in processes] == [0]  # ended on its own, not killed (-9)


def test_a_merging_process_whose_build_stopped_listening_ends_quietly(monkeypatch, capfd):
    """Ctrl-C while the book is merged: the build closes its end and goes; the merging process must end
    at once, without blocking on (or printing a traceback about) a book nobody reads."""
    import anthology.assemble as assembling
    from anthology.build import _Assembler

    monkeypatch.setattr(assembling, "merge", lambda plan: b"x" * (8 << 20))  # more than a pipe holds
    with _Assembler() as assembler:
        assembler._connection.send("a plan")
        process = assembler._process
    assert process.exitcode == 0
    assert "Traceback" not in capfd.readouterr().err


def _build_in_a_pool_worker(task):
    root, target = task
    build_book(root, target, cache=False, jobs=2)
    return os.getpid(), target.read_bytes()


def test_the_library_builds_in_a_daemonic_process_as_in_any_other(make_project, tmp_path, monkeypatch):
    """A multiprocessing.Pool worker (a daemonic process, which may start no children) calling the library
    got an AssertionError from the merging process: it merges in its own process, and lays out 12 entries
    (enough for workers elsewhere) one by one; the bytes are those of a build here."""
    import multiprocessing

    from .conftest import writers

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    root = make_project(writers([f"Entry number {n} has a few words." for n in range(12)]))
    here = build_book(root, tmp_path / "here.pdf", cache=False, jobs=2).book.pdf
    with multiprocessing.get_context("fork").Pool(1) as pool:
        pid, there = pool.map(_build_in_a_pool_worker, [(root, tmp_path / "there.pdf")])[0]
    assert pid != os.getpid() and there == here
    assert "Entry number 11 has a few words." in " ".join(page_texts(tmp_path / "there.pdf"))


class _NeedsAKeyword(Exception):
    """Pickles (by its args) but cannot be loaded again: its __init__ wants a keyword."""

    def __init__(self, words: str, *, where: str) -> None:
        super().__init__(words)
        self.where = where


def test_a_merging_process_out_of_memory_or_raising_what_cannot_be_loaded_is_one_line(
        make_project, tmp_path, monkeypatch, capsys):
    """A MemoryError in the merging process reached the user as a traceback, and an exception that pickles
    but cannot be unpickled stopped the build with a TypeError traceback from the pipe."""
    import multiprocessing

    import anthology.assemble as assembling
    from anthology.cli import main

    root = make_project(entry_files("A", "T", "Words."))
    target = tmp_path / "book.pdf"
    build_book(root, target)
    good = target.read_bytes()
    (root / "contributions/a.md").write_text("Other words.")
    monkeypatch.setattr(assembling, "merge", lambda _: (_ for _ in ()).throw(MemoryError()))
    assert main(["build", str(root), "-o", str(target)]) == 1
    err = capsys.readouterr().err.strip()
    assert "ran out of memory" in err and "nothing was written" in err and len(err.splitlines()) == 1
    assert target.read_bytes() == good
    monkeypatch.setattr(assembling, "merge", lambda _: (_ for _ in ()).throw(_NeedsAKeyword("bad", where="here")))
    with pytest.raises(RuntimeError, match="_NeedsAKeyword: bad"):
        build_book(root, target)
    assert target.read_bytes() == good and multiprocessing.active_children() == []



_IN_THE_BUILD: list = []
"""(the build's pid, the real _lay_out), set by the test below; forked workers inherit it."""


def _die_in_a_worker(task):
    """Laying out, except in a worker process, which is killed (as the kernel's OOM killer would)."""
    import signal

    pid, real = _IN_THE_BUILD[0]
    if os.getpid() != pid:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(task)


def test_a_worker_process_that_dies_is_a_one_line_error_and_the_last_good_pdf_stays(
        make_project, tmp_path, monkeypatch, capsys):
    """A killed worker ended `anthology build` with a BrokenProcessPool traceback (37 lines)."""
    import multiprocessing

    import anthology.build as building
    from anthology.cli import main

    from .conftest import writers

    root = make_project(writers([f"Entry number {n} has a few words." for n in range(13)]))
    target = tmp_path / "book.pdf"
    build_book(root, target)
    good = target.read_bytes()
    _IN_THE_BUILD[:] = [(os.getpid(), building._lay_out)]
    monkeypatch.setattr(building, "_lay_out", _die_in_a_worker)
    assert main(["build", str(root), "-o", str(target), "--no-cache", "-j", "2"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("anthology: error: a worker process of the build ended unexpectedly")
    assert len(err.splitlines()) == 1 and target.read_bytes() == good
    assert multiprocessing.active_children() == []
