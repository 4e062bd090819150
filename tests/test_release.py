"""The release folder: the site, every contributor's kit, the manifest, checksums."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import re
import signal
import subprocess
import sys

import pikepdf
import pytest
from PIL import Image
from pypdf import PdfReader

from anthology.release import build_release
from anthology.text import WORD

from .conftest import REPO, entry
from .test_tagged import QPDF, need, reading_text, struct_tree, structure_elements


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    work = tmp_path_factory.mktemp("release")
    return build_release(REPO, work / "site", book_output=work / "book.pdf")


def test_the_book_is_the_only_pdf_at_the_root_and_named_for_its_edition(release):
    assert [p.name for p in release.folder.glob("*.pdf")] == ["lead-or-manage-first-edition.pdf"]
    sums = dict(reversed(line.split("  ")) for line in (release.folder / "SHA256SUMS").read_text().splitlines())
    for name, digest in sums.items():
        assert hashlib.sha256((release.folder / name).read_bytes()).hexdigest() == digest, name
    assert {"index.html", "style.css", "cover.png", "manifest.json", "contributors.csv"} <= set(sums)


def test_manifest_entries_match_the_books_own_labels_and_extracts(release):
    manifest = json.loads((release.folder / "manifest.json").read_text())
    book = PdfReader(str(release.pdf))
    labels = list(book.page_labels)
    assert manifest["book"]["sha256"] == hashlib.sha256(release.pdf.read_bytes()).hexdigest()
    assert manifest["book"]["pages"] == len(book.pages)
    assert len(manifest["entries"]) == 14
    destinations = {name: book.get_destination_page_number(dest) for name, dest in book.named_destinations.items()}
    for item in manifest["entries"]:
        first = destinations[item["slug"]]
        assert labels[first] == item["first_page"]
        assert item["link"] == f"{release.pdf.name}#nameddest={item['slug']}"
        extract = PdfReader(str(release.folder / item["extract"]))
        assert len(extract.pages) == 1 + item["pages"]
        assert list(extract.page_labels) == ["Cover"] + [str(int(item["first_page"]) + i) for i in range(item["pages"])]
        assert item["name"].split()[0] in extract.pages[1].extract_text()
    rows = list(csv.DictReader(io.StringIO((release.folder / "contributors.csv").read_text())))
    assert [(r["slug"], r["first_page"]) for r in rows] == [(e["slug"], e["first_page"]) for e in manifest["entries"]]


def test_each_extract_keeps_its_entrys_structure_and_nothing_else(release):
    """A contributor's extract is tagged like the book: its entry's Sect (every word, the portrait's
    alt text) under a Document, the other entries' elements and pages gone; qpdf finds no fault."""
    manifest = json.loads((release.folder / "manifest.json").read_text())
    entries = {e.contribution.slug: e for e in release.build.checked.entries}
    for item in manifest["entries"]:
        path = release.folder / item["extract"]
        subprocess.run([need(QPDF, "qpdf"), "--check", str(path)], check=True, capture_output=True)
        rows = struct_tree(path)
        assert [element for depth, element, _ in rows if depth <= 1] == ["Document", "Sect"], item["slug"]
        c = entries[item["slug"]].contribution
        headings = [(int(element[1]), text.strip()) for _, element, text in rows if re.fullmatch(r"H\d", element)]
        assert headings[0] == (1, c.title), item["slug"]  # alone, the headline is the first level (14-002)
        assert all(b <= a + 1 for (a, _), (b, _) in itertools.pairwise(headings)), headings  # 14-003
        text = " ".join(WORD.findall(reading_text(rows)))
        assert " ".join(WORD.findall(" ".join(entries[item["slug"]].words))) in text
        alts = [str(e["/Alt"]) for e in structure_elements(PdfReader(path)) if "/Alt" in e]
        assert (f"Portrait of {c.name}" in alts) == bool(c.photo)
        with pikepdf.open(path) as pdf:  # no page of another entry is kept through its structure
            assert sum(isinstance(o, pikepdf.Dictionary) and o.get("/Type") == "/Page" for o in pdf.objects) \
                == 1 + item["pages"]
            assert sum(isinstance(o, pikepdf.Dictionary) and o.get("/Type") == "/StructElem"
                       and o.get("/S") == "/Sect" for o in pdf.objects) == 1


def test_contributor_pages_cards_and_notes(release):
    manifest = json.loads((release.folder / "manifest.json").read_text())
    for item in manifest["entries"]:
        page = (release.folder / "c" / f"{item['slug']}.html").read_text()
        assert f"Read it on page {item['first_page']}" in page
        assert f'href="../{item["link"]}"' in page
        assert re.search(rf'<meta property="og:image" content="[^"]*c/{item["slug"]}-card.png">', page)
        with Image.open(release.folder / "c" / f"{item['slug']}-card.png") as card:
            assert card.size == (1200, 630)
        note = (release.folder / "c" / f"{item['slug']}.txt").read_text()
        assert f"appears on page {item['first_page']} of “Lead or Manage?”" in note
    index = (release.folder / "index.html").read_text()
    assert '<html lang="en">' in index and 'alt="Cover of Lead or Manage?"' in index
    assert index.count('class="entry"') == 14


def test_contributor_text_is_escaped_in_the_site(make_project, tmp_path):
    root = make_project(entry("Eve <script>alert(1)</script>", "Title \"><img src=x onerror=alert(1)>",
                              "Body <b>text</b>.\n", bio="=HYPERLINK(\"http://x\")"))
    release = build_release(root, tmp_path / "site", book_output=tmp_path / "b.pdf")
    pages = [(release.folder / "index.html").read_text(),
             *(p.read_text() for p in (release.folder / "c").glob("*.html"))]
    for page in pages:
        assert "<script>alert(1)" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Body <b>text</b>" in (release.folder / "c" / "eve-script-alert-1-script.html").read_text().replace(
        "&lt;", "<").replace("&gt;", ">")


def test_a_second_release_reports_who_moved(make_project, tmp_path):
    files = {**entry("Ann Able", "One", "Short.\n", order=1), **entry("Bo Brand", "Two", "Short.\n", order=2)}
    root = make_project(files)
    build_release(root, tmp_path / "site", book_output=tmp_path / "b.pdf")
    long = "\n\n".join(["A paragraph long enough to need more room on the page than before."] * 40)
    (root / "contributions/ann-able.md").write_text(long)
    second = build_release(root, tmp_path / "site", book_output=tmp_path / "b.pdf")
    assert [str(m) for m in second.moves] == ["Bo Brand: page 2 → 3"]


def test_the_note_reads_exactly_with_relative_links_without_site_url(make_project, tmp_path):
    root = make_project(entry("Ann Able", "One Small Act", "Words.\n"))
    release = build_release(root, tmp_path / "site", book_output=tmp_path / "b.pdf")
    assert (release.folder / "c" / "ann-able.txt").read_text() == (
        "Dear Ann Able,\n\n"
        "Your entry “One Small Act” appears on page 1 of “A Small Book”.\n\n"
        "Read it in the book: a-small-book.pdf#nameddest=ann-able\n"
        "Your page, to share: c/ann-able.html\n"
        "Just your entry, as a PDF: c/ann-able.pdf\n\n"
        "The links are relative to the address where the book is published.\n")
    for link in ("a-small-book.pdf", "c/ann-able.html", "c/ann-able.pdf"):
        assert (release.folder / link).is_file()
    assert any("no site_url" in d.message for d in release.build.report.warnings)


def test_the_note_gives_full_addresses_with_site_url(make_project, tmp_path):
    root = make_project({"anthology.yaml": 'title: "Small Acts"\nedition: "First edition"\n'
                                           'site_url: "https://books.example.org/acts"\n',
                         "contributions/zoe-lindqvist.yaml": 'name: "Zoë Lindqvist"\ntitle: "Keys"\n',
                         "contributions/zoe-lindqvist.md": "Words.\n"})
    release = build_release(root, tmp_path / "site", book_output=tmp_path / "b.pdf")
    assert (release.folder / "c" / "zoe-lindqvist.txt").read_text() == (
        "Dear Zoë Lindqvist,\n\n"
        "Your entry “Keys” appears on page 1 of “Small Acts” (First edition).\n\n"
        "Read it in the book: https://books.example.org/acts/small-acts-first-edition.pdf#nameddest=zoe-lindqvist\n"
        "Your page, to share: https://books.example.org/acts/c/zoe-lindqvist.html\n"
        "Just your entry, as a PDF: https://books.example.org/acts/c/zoe-lindqvist.pdf\n")
    assert not any("site_url" in d.message for d in release.build.report.warnings)


def test_a_release_never_deletes_what_it_did_not_write(make_project, tmp_path):
    from anthology.errors import AnthologyError

    root = make_project(entry("Ann Able", "One", "Words.\n"))
    downloads = tmp_path / "Downloads"
    (downloads / "isos").mkdir(parents=True)
    (downloads / "empty").mkdir()
    (downloads / "ubuntu.iso").write_bytes(b"u" * 100)
    (downloads / "isos" / "debian.iso").write_bytes(b"d" * 100)
    (downloads / "notes.txt").write_text("mine")
    (downloads / "SHA256SUMS").write_text(f"{hashlib.sha256(b'u' * 100).hexdigest()}  ubuntu.iso\n"
                                          f"{hashlib.sha256(b'd' * 100).hexdigest()}  isos/debian.iso\n")
    before = sorted(str(p.relative_to(downloads)) for p in downloads.rglob("*"))
    with pytest.raises(AnthologyError, match="did not write"):
        build_release(root, downloads, book_output=tmp_path / "b.pdf")
    assert sorted(str(p.relative_to(downloads)) for p in downloads.rglob("*")) == before
    assert (downloads / "isos" / "debian.iso").read_bytes() == b"d" * 100
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    site = tmp_path / "site"
    build_release(root, site, book_output=tmp_path / "b.pdf")
    (site / "notes.txt").write_text("the editor's own file")
    (site / "extra").mkdir()
    (site / "extra" / "CNAME").write_text("books.example.org")
    (root / "contributions/ann-able.yaml").write_text('name: "Ann Able"\ntitle: "One"\nbio: "New"\n')
    (root / "anthology.yaml").write_text('title: "A Small Book"\nedition: "Second"\n')
    second = build_release(root, site, book_output=tmp_path / "b.pdf")
    assert [p.name for p in site.glob("*.pdf")] == [second.pdf.name] == ["a-small-book-second.pdf"]
    assert (site / "notes.txt").read_text() == "the editor's own file"
    assert (site / "extra" / "CNAME").read_text() == "books.example.org"
    assert second.kept == ("extra/CNAME", "notes.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Downloads", "b.pdf", "project", "site"]  # no staging


def test_a_release_file_name_taken_by_a_foreign_file_is_refused(make_project, tmp_path):
    from anthology.errors import AnthologyError

    root = make_project(entry("Ann Able", "One", "Words.\n"))
    site = tmp_path / "site"
    build_release(root, site, book_output=tmp_path / "b.pdf")
    (root / "anthology.yaml").write_text('title: "A Small Book"\nedition: "Second"\n')
    (site / "a-small-book-second.pdf").write_bytes(b"someone else's")
    with pytest.raises(AnthologyError, match="has the name of a release file"):
        build_release(root, site, book_output=tmp_path / "b.pdf")
    assert (site / "a-small-book-second.pdf").read_bytes() == b"someone else's"
    assert (site / "a-small-book.pdf").is_file()


def test_spreadsheet_formulas_in_names_are_defused_in_the_csv(make_project, tmp_path):
    root = make_project(entry("=HYPERLINK(x)", "+Title", "Words.\n"))
    release = build_release(root, tmp_path / "site", book_output=tmp_path / "b.pdf")
    row = next(csv.DictReader(io.StringIO((release.folder / "contributors.csv").read_text())))
    assert row["name"] == "'=HYPERLINK(x)" and row["title"] == "'+Title"


def test_the_site_has_a_favicon_in_the_layouts_colours(release):
    with Image.open(release.folder / "favicon.ico") as opened:
        assert opened.format == "ICO"
        icon = opened.convert("RGB")
    cover = release.build.checked.project.layout.cover_color.lstrip("#")
    assert icon.getpixel((icon.width // 2, icon.height * 3 // 4)) == tuple(int(cover[i:i + 2], 16) for i in (0, 2, 4))
    assert '<link rel="icon" href="favicon.ico"' in (release.folder / "index.html").read_text()
    assert '<link rel="icon" href="../favicon.ico"' in (release.folder / "c" / "zoe-lindqvist.html").read_text()


def test_a_release_without_site_url_warns_that_previews_are_relative(make_project, tmp_path):
    root = make_project(entry("Ann Able", "T", "Words."))
    warned = build_release(root, tmp_path / "site").build.report.warnings
    assert [w.message.split(":")[0] for w in warned] == ["no site_url"]
    assert 'content="cover.png"' in (tmp_path / "site" / "index.html").read_text()
    with (root / "anthology.yaml").open("a") as config:
        config.write('site_url: "https://example.org/book/"\n')
    assert not build_release(root, tmp_path / "site2").build.report.warnings


def test_the_note_uses_the_books_word_for_an_entry_and_its_language(make_project, tmp_path):
    root = make_project({"anthology.yaml": 'title: "Księga"\nlanguage: pl\nwords:\n  entry: "esej"\n'
                                           'site_url: "https://example.org/k/"\n',
                         **entry("Ola Nowak", "Morze", "Słowa.")})
    release = build_release(root, tmp_path / "site")
    note = (release.folder / "c" / "ola-nowak.txt").read_text()
    assert note.startswith("Dzień dobry, Ola Nowak,\n\nTwój esej „Morze” jest na stronie 1 książki „Księga”.")
    assert "https://example.org/k/c/ola-nowak.pdf" in note
    index = (release.folder / "index.html").read_text()
    assert "Pobierz PDF" in index and "1 autor" in index
    pages = int(re.search(r"(\d+) stron", index).group(1))
    assert pages >= 5  # "5 stron": Polish's own plural for five and more
    extract = PdfReader(release.folder / "c" / "ola-nowak.pdf")  # its cover was labelled "Cover"
    assert list(extract.page_labels) == ["Okładka", "1"]
    assert extract.trailer["/Root"]["/Lang"] == "pl"

def _killed_release(root, site, book, fsyncs: int = 0) -> None:
    """Run a release in a child process that is killed (SIGKILL) at its ``fsyncs``-th fsync
    (or, with 0, right after the switch)."""
    script = ("import os, signal, sys; from pathlib import Path; from anthology.release import build_release\n"
              "import anthology.publish as publish\n"
              "exchange = publish._exchange\n"
              "def switch(*args):\n"
              "    exchange(*args)\n"
              "    os.kill(os.getpid(), signal.SIGKILL)\n"
              f"if not {fsyncs}: publish._exchange = switch\n"
              "real, count = os.fsync, [0]\n"
              "def fsync(fd):\n"
              "    count[0] += 1\n"
              f"    if {fsyncs} and count[0] >= {fsyncs}: os.kill(os.getpid(), signal.SIGKILL)\n"
              "    real(fd)\n"
              "os.fsync = fsync\n"
              f"build_release(Path({str(root)!r}), Path({str(site)!r}), book_output=Path({str(book)!r}))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, cwd=REPO)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()


def _sums_hold(site) -> None:
    """coreutils' own check of the release folder: every file listed, every checksum right."""
    checked = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=site, capture_output=True)
    assert checked.returncode == 0, checked.stdout


def test_a_killed_first_release_is_cleaned_up_by_the_next(make_project, tmp_path):
    root = make_project(entry("Ann Able", "One", "Words.\n"))
    site = tmp_path / "site"
    _killed_release(root, site, tmp_path / "b.pdf", fsyncs=6)
    assert not site.exists()  # nothing half-made where visitors look
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site.release-")]
    build_release(root, site, book_output=tmp_path / "b.pdf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.pdf", "project", "site"]
    _sums_hold(site)


def test_a_release_killed_over_an_old_one_leaves_the_old_one_whole(make_project, tmp_path):
    root = make_project(entry("Ann Able", "One", "Words.\n"))
    site = tmp_path / "site"
    first = build_release(root, site, book_output=tmp_path / "b.pdf")
    before = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    (root / "anthology.yaml").write_text('title: "A Small Book"\nedition: "Second"\n')
    (root / "contributions/ann-able.md").write_text("Other words.\n")
    for fsyncs in (3, 12, 20):
        _killed_release(root, site, tmp_path / "b.pdf", fsyncs)
        assert {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()} == before
    _sums_hold(site)
    _killed_release(root, site, tmp_path / "b.pdf")  # killed just after the switch: the new one is whole
    assert [p.name for p in site.glob("*.pdf")] == ["a-small-book-second.pdf"]
    _sums_hold(site)
    second = build_release(root, site, book_output=tmp_path / "b.pdf")
    assert [p.name for p in site.glob("*.pdf")] == [second.pdf.name] != [first.pdf.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.pdf", "project", "site"]
    _sums_hold(site)


def test_a_link_left_in_the_release_folder_is_kept_as_a_link_never_followed(make_project, tmp_path):
    import os

    root = make_project(entry("Ann Able", "One", "Words.\n"))
    site = tmp_path / "site"
    build_release(root, site, book_output=tmp_path / "b.pdf")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key").write_text("private")
    os.symlink(secret, site / "elsewhere")
    (root / "contributions/ann-able.md").write_text("New words.\n")
    second = build_release(root, site, book_output=tmp_path / "b.pdf")
    assert (site / "elsewhere").is_symlink() and second.kept == ("elsewhere",)
    assert (secret / "key").read_text() == "private"
    assert not any(p.name == "key" and not p.is_symlink() for p in site.rglob("*"))


def test_the_excerpt_on_an_entrys_page_has_no_footnote_numbers(make_project, tmp_path):
    """The excerpt joined the mark's number to the word before it: 'shown1 here'."""
    root = make_project(entry("Ann Lee", "Noted", "As shown[^a] here[^b].\n\n[^a]: One.\n[^b]: Two.\n"))
    result = build_release(root, tmp_path / "site", book_output=tmp_path / "book.pdf")
    page = (result.folder / "c" / "ann-lee.html").read_text()
    assert "<p>As shown here.</p>" in page and "shown1" not in page
