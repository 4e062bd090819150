"""The EPUB reading edition, read by its content and checked by W3C's epubcheck (Debian's package).

epubcheck runs as ``java -jar /usr/share/java/epubcheck.jar`` (``make test`` installs the
``epubcheck`` package as root). Without it these checks are skipped with a reason, unless
``ANTHOLOGY_REQUIRE_TOOLS`` is set (CI sets it): then they fail.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from pypdf import PdfReader

from anthology import build_book
from anthology.cli import main
from anthology.lastbuild import FORMATS
from anthology.release import build_release
from anthology.text import WORD
from anthology.words import LANGUAGES, Words

from .conftest import REPO, entry
from .hostile import write_corpus
from .test_tagged import GERMAN, multilingual_project

EPUBCHECK_JAR = Path("/usr/share/java/epubcheck.jar")
XHTML = "{http://www.w3.org/1999/xhtml}"
EPUB_NS = "{http://www.idpf.org/2007/ops}"
OPF = "{http://www.idpf.org/2007/opf}"
DC = "{http://purl.org/dc/elements/1.1/}"
EPOCH = "1764547200"  # 2025-12-01T00:00:00Z


def epubcheck(path: Path) -> str:
    """epubcheck's report on ``path``; the test fails unless it has no error and no warning."""
    java = shutil.which("java")
    if not (java and EPUBCHECK_JAR.is_file()):
        if os.environ.get("ANTHOLOGY_REQUIRE_TOOLS"):
            pytest.fail(f"epubcheck is required but {EPUBCHECK_JAR} or java is missing (apt-get install epubcheck)")
        pytest.skip("no epubcheck (install the Debian package epubcheck)")
    done = subprocess.run([java, "-jar", str(EPUBCHECK_JAR), str(path)], capture_output=True, text=True,
                          timeout=600)
    report = done.stdout + done.stderr
    assert done.returncode == 0 and "0 fatals / 0 errors / 0 warnings" in report, report
    return report


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample book built as PDF and EPUB at a fixed SOURCE_DATE_EPOCH."""
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    try:
        result = build_book(REPO, tmp_path_factory.mktemp("epub") / "book.pdf", formats=FORMATS, reuse=False)
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before
    return result


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def xml(data: bytes) -> ElementTree.Element:
    return ElementTree.fromstring(data)  # XHTML must be well-formed XML: this raises otherwise


def text_of(element: ElementTree.Element) -> str:
    return " ".join("".join(element.itertext()).split())


def words_text(element: ElementTree.Element) -> str:
    """The text a reader reads as the entry's words: footnote marks and note numbers are not words of it."""
    if element.get(f"{EPUB_NS}type") == "noteref" or element.get("class") == "note-number":
        return " " + (element.tail or "")
    inner = (element.text or "") + "".join(words_text(child) for child in element)
    return inner + (element.tail or "")


def test_the_sample_epub_passes_epubcheck_with_no_error_and_no_warning(sample):
    assert sample.edition_output == sample.output.with_suffix(".epub")
    report = epubcheck(sample.edition_output)
    assert "EPUB version 3" in report


def test_the_generated_corpus_epub_passes_epubcheck(tmp_path):
    """Thirty generated entries without parts or photos: another shape of book than the sample."""
    files: dict[str, str] = {}
    for number in range(30):
        files |= entry(f"Writer Number{number:02d}", f"Headline {number} & <more>",
                       f"## A section\n\nText *one* of {number}.\n\n1. first\n2. second\n\n> quoted\n\n"
                       f"    code <b>\n\n---\n\nLast [link](https://example.org/{number}?a=1&b=2).\n",
                       role="Role", bio=f"Bio {number}.", website=f"https://example.org/w{number}")
    root = tmp_path / "corpus"
    for name, content in {"anthology.yaml": 'title: "Thirty"\nlanguage: en-GB\n', **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content, encoding="utf-8")
    result = build_book(root, root / "thirty.epub", formats=("epub",), cache=False)
    assert result.edition_output == root / "thirty.epub" and not (root / "thirty.pdf").exists()
    epubcheck(root / "thirty.epub")
    files_in = members(root / "thirty.epub")
    page = xml(files_in["EPUB/text/entry-writer-number07.xhtml"])
    assert page.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-GB"
    assert [text_of(h) for h in page.iter(f"{XHTML}h1")] == ["Headline 7 & <more>"]
    assert [text_of(h) for h in page.iter(f"{XHTML}h2")] == ["A section"]  # ## is one below the headline
    assert [text_of(p) for p in page.iter(f"{XHTML}pre")] == ["code <b>"]
    assert [a.get("href") for a in page.iter(f"{XHTML}a")] == ["https://example.org/7?a=1&b=2",
                                                               "https://example.org/w7"]


def test_the_container_is_mimetype_first_stored_then_the_package(sample):
    data = sample.edition_output.read_bytes()
    assert data[30:38] == b"mimetype" and data[38:58] == b"application/epub+zip"  # uncompressed, no extra field
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        container = xml(archive.read("META-INF/container.xml"))
    rootfile = container.find(".//{urn:oasis:names:tc:opendocument:xmlns:container}rootfile")
    assert rootfile is not None and rootfile.get("full-path") == "EPUB/package.opf"


def test_every_word_of_every_entry_is_in_its_document_in_order(sample):
    files = members(sample.edition_output)
    for entry_ in sample.checked.entries:
        c = entry_.contribution
        page = xml(files[f"EPUB/text/entry-{c.slug}.xhtml"])
        section = page.find(f".//{XHTML}section")
        body = [child for child in section if child.tag not in (f"{XHTML}header", f"{XHTML}footer")]
        assert WORD.findall(" ".join(words_text(child) for child in body)) == list(entry_.words), c.slug
        assert text_of(section.find(f"{XHTML}header")).startswith(c.title)
        if c.bio:
            assert c.bio in text_of(section.find(f"{XHTML}footer"))


def test_headshots_have_alt_text_naming_the_person(sample):
    files = members(sample.edition_output)
    with_photo = [e.contribution for e in sample.checked.entries if e.contribution.photo]
    assert len(with_photo) >= 5
    for c in with_photo:
        images = list(xml(files[f"EPUB/text/entry-{c.slug}.xhtml"]).iter(f"{XHTML}img"))
        assert [i.get("alt") for i in images] == [f"Portrait of {c.name}"]
        assert files["EPUB/" + images[0].get("src").removeprefix("../")][:3] == b"\xff\xd8\xff"  # a JPEG
    cover = next(xml(files["EPUB/text/cover.xhtml"]).iter(f"{XHTML}img"))
    assert cover.get("alt") == "Cover of Lead or Manage?"


def _outline(items, reader: PdfReader) -> list:
    tree: list = []
    for item in items:
        if isinstance(item, list):
            tree[-1][1].extend(_outline(item, reader))
        else:
            tree.append((item.title, []))
    return tree


def _nav(ol: ElementTree.Element) -> list:
    tree = []
    for li in ol.findall(f"{XHTML}li"):
        inner = li.find(f"{XHTML}ol")
        tree.append((text_of(li.find(f"{XHTML}a")), _nav(inner) if inner is not None else []))
    return tree


def test_the_navigation_mirrors_the_pdf_outline(sample):
    nav = xml(members(sample.edition_output)["EPUB/text/nav.xhtml"])
    toc = next(n for n in nav.iter(f"{XHTML}nav") if n.get(f"{EPUB_NS}type") == "toc")
    reader = PdfReader(sample.output)
    assert _nav(toc.find(f"{XHTML}ol")) == _outline(reader.outline, reader)
    assert len(_nav(toc.find(f"{XHTML}ol"))) == 2 + 3 + 2  # intro, contents, three parts, index, about


def test_the_page_list_gives_the_page_numbers_printed_in_the_pdf(sample):
    """Every entry's page-list target is where the PDF's named destination lands, by its page label."""
    files = members(sample.edition_output)
    nav = xml(files["EPUB/text/nav.xhtml"])
    page_list = next(n for n in nav.iter(f"{XHTML}nav") if n.get(f"{EPUB_NS}type") == "page-list")
    targets = {text_of(a): a.get("href") for a in page_list.iter(f"{XHTML}a")}
    reader = PdfReader(sample.output)
    for entry_ in sample.checked.entries:
        slug = entry_.contribution.slug
        label = reader.page_labels[reader.get_destination_page_number(reader.named_destinations[slug])]
        assert targets[label] == f"entry-{slug}.xhtml#page-{label}"
        marker = xml(files[f"EPUB/text/entry-{slug}.xhtml"]).find(f".//{XHTML}span[@id='page-{label}']")
        assert marker is not None and marker.get(f"{EPUB_NS}type") == "pagebreak" and marker.get("aria-label") == label
    def flat(items):
        for item in items:
            yield from flat(item) if isinstance(item, list) else [item]

    starts = [reader.page_labels[reader.get_destination_page_number(item)] for item in flat(reader.outline)]
    assert list(targets) == starts  # every outline entry's first page, in order, and nothing else
    assert starts[:3] == ["ii", "iii", "1"]


def test_metadata_names_everyone_and_declares_accessibility(sample):
    files = members(sample.edition_output)
    package = xml(files["EPUB/package.opf"])
    metadata = package.find(f"{OPF}metadata")
    assert package.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert next(e.text for e in metadata.iter(f"{DC}title")) == "Lead or Manage?"
    assert [e.text for e in metadata.iter(f"{DC}creator")] == ["Marguerite Okonkwo-Hale"]
    assert sorted(e.text for e in metadata.iter(f"{DC}contributor")) == sorted(
        e.contribution.name for e in sample.checked.entries)
    assert [e.text for e in metadata.iter(f"{DC}language")] == ["en"]
    assert next(metadata.iter(f"{DC}identifier")).text.startswith("urn:uuid:")
    assert "PDF edition" in next(metadata.iter(f"{DC}source")).text
    meta = {}
    for element in metadata.iter(f"{OPF}meta"):
        if element.get("property"):
            meta.setdefault(element.get("property"), []).append(element.text)
    assert meta["dcterms:modified"] == ["2025-12-01T00:00:00Z"]
    assert meta["schema:accessMode"] == ["textual", "visual"]
    assert meta["schema:accessModeSufficient"] == ["textual"]
    assert {"alternativeText", "tableOfContents", "pageNavigation", "printPageNumbers",
            "structuralNavigation", "readingOrder"} <= set(meta["schema:accessibilityFeature"])
    assert meta["schema:accessibilityHazard"] == ["none"]
    assert "page list" in meta["schema:accessibilitySummary"][0]
    assert meta["dcterms:conformsTo"] == ["EPUB Accessibility 1.1 - WCAG 2.1 Level AA"]
    manifest = {i.get("href"): i for i in package.iter(f"{OPF}item")}
    assert manifest["images/cover.png"].get("properties") == "cover-image"
    assert manifest["text/nav.xhtml"].get("properties") == "nav"


def test_same_inputs_give_the_same_bytes(sample, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    again = build_book(REPO, tmp_path / "again.epub", formats=("epub",), cache=False)
    assert again.edition_output.read_bytes() == sample.edition_output.read_bytes()
    with zipfile.ZipFile(again.edition_output) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2025, 12, 1, 0, 0, 0)}


def test_contributor_text_is_escaped_exactly_and_passes_epubcheck(make_project, tmp_path):
    hostile = "<script>alert(1)</script> & <img src=x onerror=y> ]]> &amp;"
    root = make_project({
        "anthology.yaml": 'title: "T & <b>"\neditor: "E <i>"\nlanguage: de\n',
        **entry("Ada <b>Bold</b>", hostile, f"{hostile}\n\n[a link](https://example.org/?q=<x>&y=\"z\")\n",
                bio=hostile, role="R&D <lead>"),
    })
    result = build_book(root, tmp_path / "book.epub", formats=("epub",), cache=False)
    epubcheck(result.edition_output)
    files = members(result.edition_output)
    page = xml(files["EPUB/text/entry-ada-b-bold-b.xhtml"])
    assert not list(page.iter(f"{XHTML}script")) and len(list(page.iter(f"{XHTML}img"))) == 0
    text = text_of(page.find(f"{XHTML}body"))
    assert text.count("<script>alert(1)</script> & <img src=x onerror=y> ]]> &amp;") == 3  # headline, body, bio
    assert "Ada <b>Bold</b>" in text and "R&D <lead>" in text
    assert xml(files["EPUB/package.opf"]).find(f".//{DC}title").text == "T & <b>"


def test_the_hostile_corpus_builds_an_epub_that_passes_epubcheck(tmp_path):
    catalogue = write_corpus(tmp_path)
    result = build_book(tmp_path, tmp_path / "hostile.pdf", formats=FORMATS, skip_invalid=True, cache=False)
    epubcheck(result.edition_output)
    files = members(result.edition_output)
    text = " ".join(text_of(xml(data)) for name, data in files.items() if name.endswith(".xhtml"))
    for case in catalogue:
        for literal in case.literal:
            assert " ".join(literal.split()) in text, (case.slug, literal)


def test_build_format_option_writes_what_was_asked(make_project, capsys):
    root = make_project(entry("Ada Example", "Headline", "Words here.\n"))
    assert main(["build", str(root), "--format", "epub", "-q"]) == 0
    assert (root / "dist" / "a-small-book.epub").is_file() and not (root / "dist" / "a-small-book.pdf").exists()
    assert capsys.readouterr().out.strip().endswith("a-small-book.epub")
    assert main(["build", str(root), "--format", "all", "-q"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-2:] == [str(root / "dist" / "a-small-book.pdf"), str(root / "dist" / "a-small-book.epub")]
    assert main(["build", str(root), "--format", "all", "-q"]) == 0
    assert "Nothing changed" in capsys.readouterr().out
    (root / "dist" / "a-small-book.epub").unlink()  # a missing output is rebuilt, not reported as up to date
    assert main(["build", str(root), "--format", "all", "-q"]) == 0
    assert "Nothing changed" not in capsys.readouterr().out and (root / "dist" / "a-small-book.epub").is_file()
    with pytest.raises(SystemExit) as refused:
        main(["build", str(root), "--format", "mobi"])
    assert refused.value.code == 2 and "invalid choice: 'mobi'" in capsys.readouterr().err


def test_the_release_offers_the_epub_with_its_checksum(make_project, tmp_path):
    root = make_project({**entry("Ada Example", "Headline", "Words here.\n"), "anthology.yaml":
                         'title: "A Small Book"\nedition: "Second"\n'})
    release = build_release(root, tmp_path / "site")
    epub = release.folder / "a-small-book-second.epub"
    data = epub.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    index = (release.folder / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<a class="button" href="a-small-book-second.epub" download="a-small-book-second.epub">'
                     r"Download the EPUB</a>", index)
    assert sha in index
    assert f"{sha}  a-small-book-second.epub" in (release.folder / "SHA256SUMS").read_text()
    assert data[30:38] == b"mimetype"


def test_footnotes_tables_and_figures_are_real_epub_structures(sample):
    """A footnote is an epub:type footnote linked both ways; a table has th/td; a figure has its alt text."""
    files = members(sample.edition_output)
    page = xml(files["EPUB/text/entry-min-jun-seo.xhtml"])
    marks = [a for a in page.iter(f"{XHTML}a") if a.get(f"{EPUB_NS}type") == "noteref"]
    notes = [a for a in page.iter(f"{XHTML}aside") if a.get(f"{EPUB_NS}type") == "footnote"]
    assert len(marks) == len(notes) >= 1
    for mark, note in zip(marks, notes, strict=True):
        assert mark.get("href") == "#" + note.get("id")
        back = next(a for a in note.iter(f"{XHTML}a") if a.get("role") == "doc-backlink")
        assert back.get("href") == "#" + mark.get("id")
    assert "hands" in text_of(notes[0])
    table = next(page.iter(f"{XHTML}table"))
    assert [text_of(th) for th in table.iter(f"{XHTML}th")] == ["Shift", "Volunteers", "Job"]
    assert all(th.get("scope") == "col" for th in table.iter(f"{XHTML}th"))
    assert len(list(table.iter(f"{XHTML}tr"))) >= 3
    figure_page = xml(files["EPUB/text/entry-dimitra-vlachou.xhtml"])
    figure = next(figure_page.iter(f"{XHTML}figure"))
    image = next(figure.iter(f"{XHTML}img"))
    assert image.get("alt").startswith("Sailings that left within ten minutes")
    assert text_of(next(figure.iter(f"{XHTML}figcaption"))) == image.get("alt")
    assert files["EPUB/" + image.get("src").removeprefix("../")][:3] == b"\xff\xd8\xff"


def test_a_task_lists_box_is_printed_once(make_project, tmp_path):
    """The EPUB drew the list's own box and then the box the words carried: '☐ ☐ open'."""
    root = make_project(entry("Ann Lee", "Tasks", "- [ ] open\n- [x] done\n"))
    result = build_book(root, tmp_path / "book.epub", formats=("epub",), cache=False)
    items = [text_of(item) for item in xml(members(result.edition_output)["EPUB/text/entry-ann-lee.xhtml"])
             .iter(f"{XHTML}li")]
    assert [" ".join(item.split()) for item in items] == ["☐ open", "☑ done"]


def test_an_entry_in_another_language_is_a_document_in_that_language(make_project, tmp_path):
    """lang and xml:lang on the German entry's document; the book's own words in it (the portrait's alt
    text) say they are English; the other documents stay English; epubcheck still 0/0."""
    result = build_book(multilingual_project(make_project), tmp_path / "book.epub", formats=("epub",), cache=False)
    epubcheck(result.edition_output)
    files = members(result.edition_output)
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    german = xml(files["EPUB/text/entry-jonas-weber.xhtml"])
    assert german.get("lang") == german.get(lang) == "de"
    portrait = next(german.iter(f"{XHTML}img"))
    assert portrait.get("alt") == "Portrait of Jonas Weber" and portrait.get("lang") == portrait.get(lang) == "en"
    english = xml(files["EPUB/text/entry-ann-lee.xhtml"])
    assert english.get("lang") == english.get(lang) == "en"
    assert " ".join(WORD.findall(GERMAN)) in " ".join(WORD.findall(text_of(german)))


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_the_epubs_own_words_are_in_the_books_language(make_project, tmp_path, language):
    """The navigation's hidden headings, the proof line, the PDF edition's name and the accessibility
    summary come from the word table: no English left in a book in another language."""
    root = make_project({
        "anthology.yaml": f'title: "T"\neditor: "E"\nlanguage: {language}\n',
        **entry("Ann Lee", "One", "Words.\n", status="draft", photo="ann-lee.jpg"),
        **entry("Bo Chen", "Two", "Words.\n", status="proofed", photo="bo-chen.jpg"),
        "contributions/ann-lee.jpg": (REPO / "contributions" / "zoe-lindqvist.jpg").read_bytes(),
        "contributions/bo-chen.jpg": (REPO / "contributions" / "zoe-lindqvist.jpg").read_bytes(),
    })
    result = build_book(root, tmp_path / "book.epub", formats=("epub",), cache=False)
    if language == "de":
        epubcheck(result.edition_output)
    words = Words.of(language)
    files = members(result.edition_output)
    nav = text_of(xml(files["EPUB/text/nav.xhtml"]))
    assert words("epub_page_list") in nav and words("epub_landmarks") in nav
    assert words("epub_proof_draft") in text_of(xml(files["EPUB/text/entry-ann-lee.xhtml"]))
    assert words("epub_proof_proofed") in text_of(xml(files["EPUB/text/entry-bo-chen.xhtml"]))
    package = files["EPUB/package.opf"].decode()
    summary = " ".join([words("epub_summary"), words.count("epub_portraits", 2), words("epub_no_hazards")])
    assert f"<meta property=\"schema:accessibilitySummary\">{summary}</meta>" in package.replace("&#39;", "'")
    assert f", {words('epub_pdf_edition')}</dc:source>" in package
    if language != "en":
        english = Words.of("en")
        for key in ("epub_page_list", "epub_landmarks", "epub_proof_draft", "epub_summary", "epub_no_hazards"):
            assert english(key) not in nav + package + " ".join(d.decode() for d in files.values()
                                                                if isinstance(d, bytes) and b"<html" in d[:400])
