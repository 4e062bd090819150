"""The tagged PDF, read by poppler (``pdfinfo -struct-text``), qpdf and pypdf: structure, reading order,
artifacts, alt text, links. Each test names the Matterhorn Protocol failure condition it checks."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pikepdf
import pyphen
import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream, DictionaryObject

from anthology import build_book
from anthology.text import WORD

from .conftest import REPO, reader
from .conftest import entry as entry_files
from .hostile import write_corpus

PDFINFO = shutil.which("pdfinfo")
QPDF = shutil.which("qpdf")


def need(tool: str | None, package: str) -> str:
    """The tool's path; without it the test is skipped, or fails where ANTHOLOGY_REQUIRE_TOOLS is set (CI)."""
    if tool is None:
        if os.environ.get("ANTHOLOGY_REQUIRE_TOOLS"):
            pytest.fail(f"{package} is required (apt-get install {package})")
        pytest.skip(f"no {package}")
    return tool


def struct_tree(path) -> list[tuple[int, str, str]]:
    """``pdfinfo -struct-text`` as (depth, element, text) rows: one per element, texts joined."""
    need(PDFINFO, "poppler-utils")
    out = subprocess.run([PDFINFO, "-struct-text", str(path)], capture_output=True, text=True, check=True).stdout
    rows: list[list] = []
    for line in out.splitlines():
        depth = (len(line) - len(line.lstrip(" "))) // 2
        content = line.strip()
        if content.startswith('"'):
            rows[-1][2] += content[1:-1]
        elif content and not content.startswith("/"):  # an element ("TH:" when attributes follow)
            rows.append([depth, content.split(" ")[0].rstrip(":"), ""])
    return [tuple(row) for row in rows]


def entry_sections(rows):
    """Each entry's Sect: its rows, keyed by the text of its heading."""
    sections: dict[str, list] = {}
    for index, (depth, name, _) in enumerate(rows):
        if name == "Sect":
            body = []
            for row in rows[index + 1:]:
                if row[0] <= depth:
                    break
                body.append(row)
            headings = [text for _, element, text in body if re.fullmatch(r"H\d", element)]
            if headings:
                sections[headings[0].strip()] = body
    return sections


def reading_text(rows) -> str:
    """The text of the P, H, list, table and caption elements among ``rows``, footnote marks and numbers left out."""
    text = " ".join(t for _, element, t in rows
                    if element in ("P", "H1", "H2", "H3", "H4", "LBody", "LI", "TH", "TD", "Caption"))
    if any(e == "Note" for _, e, _ in rows):  # footnote marks and numbers are not words of the text
        text = re.sub(r"(?<=[^\W\d_]|[.,;!?’”])\d+(?=\s)", "", re.sub(r"(?<![\w.])\d+\. ", " ", text))
    return text


def test_every_body_word_is_in_the_structure_in_order_inside_p_h_or_list_items(sample_book):
    """Matterhorn 01-005 (content neither marked as artifact nor tagged) and 09-001 (tags in the wrong order)."""
    rows = struct_tree(sample_book.output)
    sections = entry_sections(rows)
    entries = sample_book.checked.entries
    assert len(entries) == 14
    for entry in entries:
        c = entry.contribution
        body = sections[c.title]
        text = reading_text(body)
        # word by word: a word the breaker hyphenated at a line's end reads whole ("management")
        assert " ".join(WORD.findall(" ".join(entry.words))) in " ".join(WORD.findall(text)), c.slug
        assert c.name in text
        assert c.title == next(t for _, e, t in body if e == "H2").strip()  # inside a part: H2
    intro = next(t for _, e, t in rows if e == "P" and t.startswith("Every few years"))
    assert "whiteboard. One is headed" in intro  # lines end with a real space: words stay apart


def test_list_items_carry_their_bullet_or_number_as_a_label(sample_book):
    """Matterhorn checkpoint 16 (lists): each LI is an Lbl reading its bullet or number, then its LBody."""
    rows = struct_tree(sample_book.output)
    labels = []
    for index, (depth, element, _) in enumerate(rows):
        if element != "LI":
            continue
        kids = []
        for row in rows[index + 1:]:
            if row[0] <= depth:
                break
            if row[0] == depth + 1:
                kids.append(row)
        assert [kid[1] for kid in kids] == ["Lbl", "LBody"], kids
        labels.append(kids[0][2].strip())
    assert "•" in labels and {"1.", "2.", "3."} <= set(labels)
    assert all(label == "•" or re.fullmatch(r"\d+\.", label) for label in labels), labels


def structure_elements(pdf: PdfReader):
    """Every structure element, depth first, in document order."""
    def walk(element):
        element = element.get_object()
        if not isinstance(element, DictionaryObject) or element.get("/Type") in ("/MCR", "/OBJR"):
            return
        yield element
        kids = element.get("/K")
        if kids is None:
            return
        kids = kids.get_object()
        for kid in kids if isinstance(kids, list) else [kids]:
            yield from walk(kid)

    yield from walk(pdf.trailer["/Root"]["/StructTreeRoot"]["/K"][0])


def test_every_headshot_is_a_figure_with_its_alt_text(sample_book):
    """Matterhorn 13-004: a Figure without alternate text."""
    pdf = reader(sample_book.output)
    figures = [e for e in structure_elements(pdf) if e["/S"] == "/Figure"]
    portraits = [f"Portrait of {e.contribution.name}" for e in sample_book.checked.entries if e.contribution.photo]
    assert [str(f["/Alt"]) for f in figures if str(f["/Alt"]).startswith("Portrait of")] == portraits
    assert len(portraits) == 7
    others = [str(f["/Alt"]) for f in figures if not str(f["/Alt"]).startswith("Portrait of")]
    assert others == ["Sailings that left within ten minutes of the timetable, October to March, in an ordinary "
                      "winter and in the storm season"]  # a figure's description from the Markdown


def test_the_document_is_marked_titled_with_its_language_and_tab_order(sample_book):
    """PDF/UA-1 7.1 (/MarkInfo /Marked), Matterhorn 07-001 (DisplayDocTitle), checkpoint 11 (/Lang) and
    28-008/28-009 (every page /Tabs /S)."""
    pdf = reader(sample_book.output)
    root = pdf.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] is True or root["/MarkInfo"]["/Marked"] == True  # noqa: E712
    assert root["/Lang"] == "en"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]
    assert pdf.metadata.title == "Lead or Manage?"
    assert all(page["/Tabs"] == "/S" for page in pdf.pages)


def test_table_header_cells_say_they_head_their_column(sample_book):
    """Matterhorn 15-003 (a TH without a Scope attribute, in a table without Headers and IDs)."""
    ths = [e for e in structure_elements(reader(sample_book.output)) if e["/S"] == "/TH"]
    assert ths and all(th["/A"]["/O"] == "/Table" and th["/A"]["/Scope"] == "/Column" for th in ths)


def test_xmp_metadata_has_the_title_and_no_conformance_claim(sample_book):
    """Matterhorn 06-001 (no XMP metadata stream) and 06-003 (no dc:title in it); no pdfuaid part,
    since the book is not validated against all of PDF/UA (06-002 is left failing on purpose)."""
    with pikepdf.open(sample_book.output) as pdf:
        meta = pdf.open_metadata()
        assert meta["dc:title"] == "Lead or Manage?"
        assert list(meta["dc:creator"]) == ["Marguerite Okonkwo-Hale"] and set(meta["dc:language"]) == {"en"}
        assert "pdfuaid" not in pdf.Root.Metadata.read_bytes().decode()


def test_an_independent_pdf_ua_checker_finds_only_the_claim_we_do_not_make(sample_book):
    """pdfua (PyPI, on qpdf; 16 of the 106 machine-checkable PDF/UA-1 rules): no error, and its one
    warning is UA-28-004, the pdfuaid claim the book does not make. (Its UA-14-001, empty headings,
    fails with its own error on any heading whose /K is an array, and is reported as skipped.)"""
    done = subprocess.run([sys.executable, "-m", "pdfua", "check", "--format", "json", str(sample_book.output)],
                          capture_output=True, text=True, timeout=300)
    report = json.loads(done.stdout)
    assert report["summary"]["errors"] == 0, report["findings"]
    assert [f["rule_id"] for f in report["findings"]] == ["UA-28-004"], report["findings"]
    assert report["summary"]["rules_run"] >= 11


def test_headings_never_skip_a_level(sample_book):
    """Matterhorn 14-003: numbered heading levels skipped."""
    elements = structure_elements(reader(sample_book.output))
    levels = [int(e["/S"][2:]) for e in elements if re.fullmatch(r"/H\d", e["/S"])]
    assert levels[0] == 1
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), levels


def test_every_drawn_glyph_is_tagged_or_an_artifact(sample_book):
    """Matterhorn 01-005: text neither tagged nor an artifact (running heads and folios are artifacts)."""
    assert_all_marked(reader(sample_book.output))


@pytest.mark.parametrize("options", [{"layout": "a4-report"}, {"for_print": True, "layout": "pocket"}],
                         ids=["two-columns", "print-marks"])
def test_other_layouts_and_print_marks_are_tagged_too(tmp_path, options):
    """Two balanced columns keep their reading order; crop marks and bleed are artifacts."""
    result = build_book(REPO, tmp_path / "book.pdf", cache=False, **options)
    assert_all_marked(reader(result.output))
    rows = struct_tree(result.output)
    body = entry_sections(rows)["Forty Thousand Parcels a Night"]
    text = " ".join(t for _, e, t in body if e == "P")
    entry = next(e for e in result.checked.entries if e.contribution.slug == "zoe-lindqvist")
    assert " ".join(WORD.findall(" ".join(entry.words))) in " ".join(WORD.findall(text))  # across the columns


def test_the_hostile_corpus_is_tagged_with_its_literal_text(tmp_path):
    """Markup-like and odd text stays inside the structure as written."""
    catalogue = write_corpus(tmp_path)
    result = build_book(tmp_path, tmp_path / "hostile.pdf", skip_invalid=True, cache=False)
    assert_all_marked(reader(result.output))
    # whitespace aside: a token wider than the line (20 000 brackets) is cut anywhere by design, and a
    # line break may fall inside its literal
    text = "".join("".join(t.split()) for _, _, t in struct_tree(result.output))
    for case in catalogue:
        for literal in case.literal:
            assert "".join(literal.split()) in text, (case.slug, literal)


def assert_all_marked(pdf: PdfReader) -> None:
    for number, page in enumerate(pdf.pages):
        stack: list[str] = []
        mcids: list[int] = []
        for operands, operator in ContentStream(page.get_contents(), pdf).operations:
            if operator in (b"BDC", b"BMC"):
                stack.append(str(operands[0]))
                if operator == b"BDC" and "/MCID" in operands[1]:
                    mcids.append(int(operands[1]["/MCID"]))
            elif operator == b"EMC":
                stack.pop()
            elif operator in (b"Tj", b"TJ", b"'", b'"', b"Do"):
                assert stack, f"page {number + 1}: {operator!r} outside any marked content"
        assert not stack, f"page {number + 1}: unbalanced marked content"
        assert mcids == list(range(len(mcids))), f"page {number + 1}: MCIDs not 0, 1, 2…"
        if mcids:  # the ParentTree maps each MCID of the page back to its element
            tree = pdf.trailer["/Root"]["/StructTreeRoot"]["/ParentTree"]["/Nums"]
            owners = dict(zip(tree[::2], tree[1::2], strict=True))[page["/StructParents"]].get_object()
            assert len(owners) == len(mcids)
            for mcid, owner in enumerate(owners):
                assert (page.indirect_reference.idnum, mcid) in marked_content_of(owner.get_object()), (number, mcid)


def marked_content_of(element: DictionaryObject) -> set[tuple[int, int]]:
    """(page object number, MCID) of each marked-content kid: an MCR, or a bare MCID on the element's /Pg."""
    found = set()
    for kid in element["/K"]:
        if isinstance(kid, int):
            found.add((element.raw_get("/Pg").idnum, kid))
        elif isinstance(kid, DictionaryObject) and "/MCID" in kid:
            found.add((kid.raw_get("/Pg").idnum, kid["/MCID"]))
    return found


def test_every_note_has_an_id_found_through_the_id_tree(sample_book):
    """Matterhorn 19-003 (a Note tag without an ID)."""
    with pikepdf.open(sample_book.output) as pdf:
        notes = [e for e in _descendants(pdf.Root.StructTreeRoot) if e.get("/S") == "/Note"]
        assert notes
        ids = [str(note.ID) for note in notes]
        assert len(set(ids)) == len(ids)
        tree = pikepdf.NameTree(pdf.Root.StructTreeRoot.IDTree)
        assert all(tree[name].objgen == note.objgen for name, note in zip(ids, notes, strict=True))


def test_every_link_is_in_the_structure_with_a_description(sample_book):
    """Matterhorn 28-011 (a link annotation not nested in a Link element) and 28-012 (no /Contents)."""
    pdf = reader(sample_book.output)
    tree = pdf.trailer["/Root"]["/StructTreeRoot"]["/ParentTree"]["/Nums"]
    by_key = dict(zip(tree[::2], tree[1::2], strict=True))
    count = 0
    for page in pdf.pages:
        for annotation in page.get("/Annots", []):
            annotation = annotation.get_object()
            if annotation["/Subtype"] != "/Link":
                continue
            count += 1
            link = by_key[annotation["/StructParent"]].get_object()
            assert link["/S"] == "/Link"
            assert any(k.get_object()["/Obj"].get_object() is annotation for k in link["/K"])
            contents = str(annotation["/Contents"])
            assert re.fullmatch(r"Go to page \d+|Link to https?://\S+|E-mail \S+|Go to note \d+"
                                r"|Back to the text of note \d+", contents), contents
    assert count >= 14 * 2  # every contents line and index line, and the websites


def test_qpdf_finds_the_tagged_book_well_formed(sample_book):
    done = subprocess.run([need(QPDF, "qpdf"), "--check", str(sample_book.output)], capture_output=True, text=True)
    assert done.returncode == 0 and "No syntax or stream encoding errors" in done.stdout, done.stdout + done.stderr


GERMAN = ("Die Donaudampfschifffahrtsgesellschaft beschäftigte Kapitäne, Maschinisten und "
          "Verwaltungsangestellte, deren Arbeitsbedingungen die Geschäftsführung regelmäßig überprüfte. "
          "Verantwortungsbewusstsein, Zuverlässigkeit und Entscheidungsfreudigkeit galten als "
          "Führungseigenschaften, Weltanschauung dagegen als Privatangelegenheit. ") * 6


def multilingual_project(make_project) -> Path:
    """An English book with one entry written in German (``language: de``), with a portrait."""
    return make_project({
        "anthology.yaml": 'title: "Two Tongues"\neditor: "Ada Example"\nlanguage: en\n',
        **entry_files("Ann Lee", "In English", "An English paragraph about management and leadership.\n"),
        **entry_files("Jonas Weber", "Auf Deutsch", GERMAN, language="de", photo="jonas-weber.jpg"),
        "contributions/jonas-weber.jpg": (REPO / "contributions" / "zoe-lindqvist.jpg").read_bytes(),
    })


def test_an_entry_in_another_language_is_marked_and_hyphenated_in_it(make_project, tmp_path):
    """Matterhorn checkpoint 11 (natural language of a passage): the German entry's Sect has
    /Lang de (the book's stays the catalog's en), its portrait's alt text, in English, /Lang en;
    its words are hyphenated by German rules and read back whole."""
    result = build_book(multilingual_project(make_project), tmp_path / "book.pdf", layout="pocket", cache=False)
    pdf = reader(result.output)
    assert pdf.trailer["/Root"]["/Lang"] == "en"
    langs = {e.get("/Lang") for e in structure_elements(pdf) if e["/S"] == "/Sect"}
    assert langs == {None, "de"}
    german = next(e for e in structure_elements(pdf) if e["/S"] == "/Sect" and e.get("/Lang") == "de")
    figure = next(e for e in _descendants(german) if e["/S"] == "/Figure")
    assert figure["/Alt"] == "Portrait of Jonas Weber" and figure["/Lang"] == "en"
    text = "".join(page.extract_text() for page in pdf.pages)
    cuts = re.findall(r"(\w+)\u00ad\s*(\w+)", text)
    assert len(cuts) >= 5, "the pocket page must hyphenate the German compounds"
    german_points = pyphen.Pyphen(lang="de_DE", left=2, right=3)
    english_points = pyphen.Pyphen(lang="en_US", left=2, right=3)
    for head, tail in cuts:
        assert len(head) in german_points.positions(head + tail), (head, tail)
    assert any(len(head) not in english_points.positions(head + tail) for head, tail in cuts)
    rows = struct_tree(result.output)
    assert " ".join(WORD.findall(GERMAN)) in " ".join(WORD.findall(reading_text(rows)))


def _descendants(element):
    """Every structure element below ``element`` (read with pypdf or pikepdf)."""
    kids = element.get("/K", [])
    for kid in kids if isinstance(kids, list | pikepdf.Array) else [kids]:
        kid = kid.get_object() if hasattr(kid, "get_object") else kid
        if isinstance(kid, DictionaryObject | pikepdf.Dictionary) and kid.get("/Type") == "/StructElem":
            yield kid
            yield from _descendants(kid)


def test_a_broken_code_line_reads_back_as_written_its_continuation_mark_an_artifact(make_project, tmp_path):
    """Matterhorn 01-005 the other way round: the ↪ that ends a code line broken to fit is drawn for the eye
    only, so it is an artifact, and the line reads back whole (no mark, no space where it was cut)."""
    line = "total = " + "+".join(f"parcel_weight_{n}" for n in range(12))
    project = make_project(entry_files("Cody Lines", "Long Code", f"Before.\n\n```\n{line}\ny = 1\n```\n\nAfter.\n"))
    result = build_book(project, tmp_path / "book.pdf", cache=False)
    pdf = reader(result.output)
    assert_all_marked(pdf)
    drawn = "".join(page.extract_text() for page in pdf.pages)
    assert "\u21aa" in drawn, "the line must be long enough to be broken"
    text = "".join(t for _, _, t in struct_tree(result.output))
    assert "\u21aa" not in text
    assert line.replace(" ", "\u00a0") in text.replace(" ", "\u00a0")


def test_a_line_cut_after_a_dash_or_inside_an_address_reads_back_without_a_space(make_project, tmp_path):
    """Reading order (Matterhorn checkpoint 09) down to the characters: where the breaker cuts "1990–2000" or a
    web address without a hyphen, the structure reads the token whole; a line ending at a space keeps it."""
    names = ["Oslo", "Bergen", "Tromsø", "Bodø", "Narvik", "Ålesund", "Molde", "Harstad", "Alta"]
    tokens = [f"{names[i % 9]}\u2013{names[(i * 4 + 1) % 9]}" for i in range(160)]
    address = "https://example.org/timetables/" + "&".join(f"leg{n}=ferry" for n in range(30))
    body = " ".join(tokens) + f" – spaced dash and an address {address} end.\n"
    project = make_project(entry_files("Dana Cutter", "Routes", body))
    result = build_book(project, tmp_path / "book.pdf", layout="pocket", cache=False)
    lines = [line for page in reader(result.output).pages for line in page.extract_text().splitlines()]
    assert any(line.endswith("\u2013") for line in lines), "no line was cut after a dash"
    text = reading_text(entry_sections(struct_tree(result.output))["Routes"])
    assert " ".join(text.split()).endswith(" ".join(body.split()))


def test_grafting_numbers_new_elements_above_a_link_annotation_it_must_make_indirect():
    """The tree's elements are added in one qpdf call under numbers chosen beforehand; a link annotation
    stored directly in a page's /Annots is made indirect first, so no element takes its number, and its
    element, ParentTree key and description all lead back to it."""
    from anthology.model import Piece
    from anthology.tagged import PlacedPiece, graft_structure

    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(200, 200)).obj
    page.Annots = pikepdf.Array([pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 10, 10],
        A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://example.org/ä")))])
    record = {"elements": [["P", -1, "", ""], ["Note", -1, "", "fr"], ["Figure", 0, "Ein Bild ☃", ""]],
              "pages": [[0, 1, 2, 0]], "links": [[[0, ""]]], "areas": []}
    piece = Piece("ann", "entry", b"", 1, structure=json.dumps(record))
    graft_structure(pdf, [PlacedPiece(piece, 0, language="de")], {}, set())
    annotation = page.Annots[0]
    assert annotation.is_indirect and str(annotation.Contents) == "Link to https://example.org/ä"
    root = pdf.Root.StructTreeRoot
    nums = root.ParentTree.Nums
    link = dict(zip(nums[::2], nums[1::2], strict=True))[int(annotation.StructParent)]
    assert link.S == "/Link" and link.K[0].Obj.objgen == annotation.objgen and link.K[0].Pg.objgen == page.objgen
    (section,) = root.K[0].K
    assert section.S == "/Sect" and str(section.Lang) == "de"
    paragraph, note = section.K
    assert [str(kid.S) if isinstance(kid, pikepdf.Dictionary) else kid for kid in paragraph.K] == [0, "/Figure", 3,
                                                                                                   "/Link"]
    assert str(paragraph.K[1].Alt) == "Ein Bild ☃" and str(note.Lang) == "fr"
    assert str(note.ID) == "note-1" and root.IDTree.Names[1].objgen == note.objgen
    owners = dict(zip(nums[::2], nums[1::2], strict=True))[int(page.StructParents)]
    assert [o.objgen for o in owners] == [paragraph.objgen, note.objgen, paragraph.K[1].objgen, paragraph.objgen]
