"""`anthology init` and what a new editor does next, run with the installed console script."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from anthology.errors import AnthologyError
from anthology.starter import StarterOptions, init_project

from .conftest import english_fixed_words, page_texts, visible_text

SCRIPT = shutil.which("anthology", path=str(Path(sys.executable).parent))


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    assert SCRIPT, "the anthology console script is not installed beside this Python"
    done = subprocess.run([SCRIPT, *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "NO_COLOR": "1"})
    assert done.returncode == 0, done.stderr
    assert "warning:" not in done.stderr + done.stdout, done.stderr  # the diagnostics' `path: warning: …`
    assert "Warning" not in done.stderr  # nor a Python warning
    return done


def test_init_writes_a_complete_book_and_never_overwrites(tmp_path):
    written = init_project(tmp_path / "book", StarterOptions(title="Tide Tables", layout="pocket"))
    names = {p.relative_to(tmp_path / "book").as_posix() for p in written}
    assert names == {"anthology.yaml", "intro.md", ".gitignore", "contributions/sam-example.yaml",
                     "contributions/sam-example.md", "contributions/sam-example.jpg",
                     "schema/contribution.schema.json"}
    assert "layout: pocket" in (tmp_path / "book" / "anthology.yaml").read_text()
    (tmp_path / "book" / "intro.md").write_text("Mine.\n")
    (tmp_path / "book" / "anthology.yaml").unlink()
    with pytest.raises(AnthologyError, match=r"intro\.md"):
        init_project(tmp_path / "book", StarterOptions())
    assert not (tmp_path / "book" / "anthology.yaml").exists()  # refused before writing anything
    assert (tmp_path / "book" / "intro.md").read_text() == "Mine.\n"


def test_init_refuses_an_unknown_layout_or_language(tmp_path):
    with pytest.raises(AnthologyError, match="perspectives"):
        init_project(tmp_path, StarterOptions(layout="pockt"))
    with pytest.raises(AnthologyError, match="no word table"):
        init_project(tmp_path, StarterOptions(language="xx"))
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(("title", "language", "problem"), [
    ("Tabs\there", "en", "control character U+0009"),
    ("x" * 10_000, "en", "at most 200"),
    ("漢字の本", "en", "cannot be drawn"),
    ("Fine", "de-", "no word table"),
    ("Fine", "de-CH\nsubtitle: injected", "no word table"),  # a raw line into anthology.yaml
])
def test_init_writes_only_what_check_accepts(tmp_path, title, language, problem):
    """init wrote these, and the very next `check` refused the book it had just made."""
    with pytest.raises(AnthologyError, match=re.escape(problem)):
        init_project(tmp_path / "book", StarterOptions(title=title, language=language))
    assert not (tmp_path / "book").exists()


def test_init_never_writes_through_a_link_or_into_a_file(tmp_path):
    """A `schema` link to another folder got contribution.schema.json written into it."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "schema").symlink_to(elsewhere)
    with pytest.raises(AnthologyError, match="schema"):
        init_project(tmp_path / "linked", StarterOptions())
    assert not any(elsewhere.iterdir())
    assert [p.name for p in (tmp_path / "linked").iterdir()] == ["schema"]
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "contributions").write_text("a file, not a folder\n")
    with pytest.raises(AnthologyError, match="contributions"):  # was: anthology.yaml written, then "File exists"
        init_project(tmp_path / "plain", StarterOptions())
    assert [p.name for p in (tmp_path / "plain").iterdir()] == ["contributions"]
    (tmp_path / "a-file").write_text("x\n")
    with pytest.raises(AnthologyError, match="is a file, not a folder"):
        init_project(tmp_path / "a-file", StarterOptions())


def test_init_that_fails_halfway_leaves_nothing_behind(tmp_path, monkeypatch):
    """A full disk on the fourth file left three files of a book that could not be init'ed again."""
    from anthology import starter

    calls = []

    def failing(path, data, mode=None):
        calls.append(path)
        if len(calls) == 4:
            raise OSError(28, "No space left on device", str(path))
        real(path, data, mode)

    real = starter.write_atomically
    monkeypatch.setattr(starter, "write_atomically", failing)
    with pytest.raises(OSError, match="No space"):
        init_project(tmp_path / "book", StarterOptions())
    assert not (tmp_path / "book").exists()


def test_walkthrough_init_new_check_build_dist_without_a_warning(tmp_path):
    run("init", "harbour", "--title", "Harbour Stories", cwd=tmp_path)
    book = tmp_path / "harbour"
    for name in ("Ana Souza", "Bo Lind", "Cai Wen"):
        run("new", name, cwd=book)
    with (book / "anthology.yaml").open("a") as config:  # the editor says where the site will live
        config.write('site_url: "https://example.org/harbour/"\n')
    assert run("check", cwd=book).stderr.endswith("0 errors, 0 warnings\n")
    built = run("build", "-q", cwd=book)
    assert "Built 4 entries" in built.stdout
    pdf = book / "dist" / "harbour-stories.pdf"
    reader = PdfReader(pdf)
    text = "\n".join(page_texts(pdf))
    for expected in ("Harbour Stories", "Contents", "Sam Example", "Ana Souza", "Bo Lind", "Cai Wen",
                     "Index of contributors"):
        assert expected in text
    assert [o.title for o in reader.outline][:2] == ["Introduction", "Contents"]
    run("dist", cwd=book)
    site = book / "dist" / "site"
    assert "Download the PDF" in (site / "index.html").read_text()
    assert "Your entry “Your headline” appears on page" in (site / "c" / "bo-lind.txt").read_text()


FRENCH_ENTRY = """\
Le port se réveille avant nous. Les grues tournent déjà quand le premier café coule,
et personne ne se souvient d’avoir vu le quai vide.

Diriger, ici, c’est surtout écouter les marées et les gens.
"""


def test_walkthrough_in_french_prints_no_english_fixed_word(tmp_path):
    run("init", "port", "--title", "Histoires du port", "--language", "fr", cwd=tmp_path)
    book = tmp_path / "port"
    for path in (book / "contributions").glob("sam-example.*"):
        path.unlink()
    people = {"Anaïs Morel": "anais-morel", "Bruno Lefèvre": "bruno-lefevre", "Chloé Garnier": "chloe-garnier"}
    for name, slug in people.items():
        run("new", name, cwd=book)
        (book / "contributions" / f"{slug}.yaml").write_text(
            f'name: "{name}"\ntitle: "Le quai à l’aube"\nbio: "{name} travaille au port depuis vingt ans."\n'
            'status: approved\n', encoding="utf-8")
        (book / "contributions" / f"{slug}.md").write_text(FRENCH_ENTRY, encoding="utf-8")
    (book / "intro.md").write_text("Trois voix du port, au petit matin.\n", encoding="utf-8")
    config = (book / "anthology.yaml").read_text(encoding="utf-8")
    (book / "anthology.yaml").write_text(
        config + 'editor: "Jeanne Roux"\nabout_editor: "Jeanne Roux écrit sur les ports."\n'
        'sections:\n  - title: "Le matin"\n    entries: [anais-morel, bruno-lefevre, chloe-garnier]\n'
        'site_url: "https://example.org/port/"\n', encoding="utf-8")
    run("check", cwd=book)
    run("build", "-q", cwd=book)
    run("build", "-q", "--print", "-o", "dist/proof.pdf", cwd=book)  # entries not approved would say ÉPREUVE
    run("dist", cwd=book)
    site = book / "dist" / "site"
    pdf = site / "histoires-du-port.pdf"
    reader = PdfReader(pdf)
    outline = [o.title for o in reader.outline if not isinstance(o, list)]
    pdf_text = "\n".join([*page_texts(pdf), *outline, *reader.page_labels])
    html = []
    for page in [site / "index.html", *sorted((site / "c").glob("*.html"))]:
        html.append(visible_text(page.read_text(encoding="utf-8")))
    notes = "\n".join(p.read_text(encoding="utf-8") for p in sorted((site / "c").glob("*.txt")))
    english = english_fixed_words("fr") | {"Contents", "Index of contributors", "About the editor",
                                           "Download the PDF", "Your perspective", "Edited by", "Part 1"}
    for where, text in (("PDF", pdf_text), ("site", "\n".join(html)), ("notes", notes)):
        found = sorted(phrase for phrase in english if phrase in text)
        assert not found, f"English fixed words in the {where}: {found}"
    assert "Sommaire" in pdf_text and "Index des contributeurs" in pdf_text and "Partie 1" in pdf_text
    assert "Couverture" in reader.page_labels
    assert "Télécharger le PDF" in html[0] and "3 contributeurs" in html[0]
    assert "Votre contribution « Le quai à l’aube » figure à la page" in notes


def test_new_before_init_points_at_init_and_init_still_works(tmp_path, capsys):
    from anthology.cli import main

    assert main(["new", "Ann Able", str(tmp_path)]) == 0
    assert "anthology init" in capsys.readouterr().err
    assert main(["init", str(tmp_path)]) == 0  # the schema `new` wrote is the same file: nothing is lost
    assert (tmp_path / "contributions" / "ann-able.yaml").is_file() and (tmp_path / "anthology.yaml").is_file()
    assert main(["check", str(tmp_path)]) == 0


@pytest.mark.parametrize("name", ["Eve\nstatus: approved", "Tab\tbed", "Esc\x1b[2J", "X" * 121, "  "])
def test_new_refuses_a_name_check_would_refuse(tmp_path, name, capsys):
    """`new $'Eve\\nstatus: approved'` wrote a raw `status: approved` line into the entry's YAML."""
    from anthology.cli import main

    init_project(tmp_path, StarterOptions())
    assert main(["new", name, str(tmp_path)]) == 1
    assert "the name must be one line" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "contributions").iterdir()) == [
        "sam-example.jpg", "sam-example.md", "sam-example.yaml"]


def test_new_never_writes_through_a_link(tmp_path, capsys):
    """A dangling contributions/bob.yaml link, or a schema/ link, got `new` writing outside the project."""
    from anthology.cli import main

    outside = tmp_path / "outside"
    outside.mkdir()
    book = tmp_path / "book"
    init_project(book, StarterOptions())
    (book / "contributions" / "bob.yaml").symlink_to(outside / "bob.yaml")
    assert main(["new", "Bob", str(book)]) == 1
    (book / "contributions" / "bob.yaml").unlink()
    (book / "schema" / "contribution.schema.json").unlink()
    (book / "schema").rmdir()
    (book / "schema").symlink_to(outside)
    assert main(["new", "Bob", str(book)]) == 1
    assert not any(outside.iterdir())


def test_the_printed_cd_line_leads_back_to_the_folder(tmp_path, capsys):
    """`init 'my $book'` printed cd "…/my $book", which the shell expands to "…/my "."""
    from anthology.cli import main

    folder = tmp_path / "my $book's \"notes\""
    assert main(["init", str(folder)]) == 0
    cd_line = next(line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("cd "))
    done = subprocess.run(["sh", "-c", cd_line.strip() + " && pwd"], capture_output=True, text=True)
    assert done.stdout.strip() == str(folder)
