"""A build with nothing to do is told from file statuses, and never fooled by them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from anthology import lastbuild
from anthology.cli import main
from anthology.lastbuild import CACHE_FOLDER, RECORD, build_options, unchanged_outputs

from .conftest import page_texts, writers

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(make_project, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    return make_project(writers(f"Ledgers and lanterns, entry {number}.\n" for number in range(3)))


def built(project: Path, target: Path, capsys) -> bool:  # type: ignore[no-untyped-def]
    """Run ``anthology build``; True if it built, False if it found nothing to do."""
    assert main(["build", str(project), "-o", str(target), "-q"]) == 0
    return "Nothing changed" not in capsys.readouterr().out


def options(target: Path) -> dict[str, object]:
    return build_options(target, skip_invalid=False, fit=False, for_print=False, layout=None, final=False,
                         formats=("pdf",))


@pytest.fixture
def hashed(monkeypatch):
    """Statuses taken long enough ago to be trusted; the files read to hash them, by name."""
    monkeypatch.setattr(lastbuild, "RACY_NS", -60_000_000_000)
    names: list[str] = []
    hash_file = lastbuild._hash_file

    def counting(path):  # type: ignore[no-untyped-def]
        names.append(Path(path).name)
        return hash_file(path)

    monkeypatch.setattr(lastbuild, "_hash_file", counting)
    return names


def test_nothing_changed_reads_only_the_output_and_every_kind_of_change_is_seen(project, tmp_path, capsys, hashed):
    target = tmp_path / "book.pdf"
    body = project / "contributions/writer-b.md"
    assert built(project, target, capsys)
    hashed.clear()
    assert not built(project, target, capsys)
    assert hashed == ["book.pdf"]  # statuses alone for the inputs; the output is always checked

    os.utime(body, (1, 1))  # a new modification time alone: read again, found equal
    hashed.clear()
    assert not built(project, target, capsys)
    assert hashed == ["writer-b.md", "book.pdf"]

    shutil.copy2(body, tmp_path / "copy.md")
    os.replace(tmp_path / "copy.md", body)  # replaced by a file with the same bytes: another inode
    assert not built(project, target, capsys)

    before = body.stat()
    body.write_text(body.read_text().replace("Ledgers", "Lodgers"))  # same size, modification time put back
    os.utime(body, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert body.stat().st_size == before.st_size and body.stat().st_mtime_ns == before.st_mtime_ns
    assert built(project, target, capsys)
    assert "Lodgers and lanterns, entry 1." in " ".join(page_texts(target))

    (project / "notes.txt").write_text("an editor's note\n")  # a file added
    assert built(project, target, capsys)
    (project / "notes.txt").unlink()  # and removed
    assert built(project, target, capsys)
    assert not built(project, target, capsys)

    config = project / "anthology.yaml"
    config.write_text(config.read_text().replace("title:", "title: New", 1))
    assert built(project, target, capsys)

    pdf, before = target.read_bytes(), target.stat()
    middle = len(pdf) // 2
    target.write_bytes(pdf[:middle] + bytes([pdf[middle] ^ 1]) + pdf[middle + 1:])  # damaged, status put back
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert built(project, target, capsys)
    target.unlink()
    assert built(project, target, capsys) and target.is_file()
    assert not built(project, target, capsys)
    assert main(["build", str(project), "-o", str(target), "-q", "--fit"]) == 0  # other options
    assert "Nothing changed" not in capsys.readouterr().out


def test_a_file_changed_too_recently_to_trust_its_status_is_hashed_every_time(project, tmp_path, capsys):
    target = tmp_path / "book.pdf"
    assert built(project, target, capsys)
    record_path = project / CACHE_FOLDER / RECORD
    record = json.loads(record_path.read_text())
    name = "contributions/writer-a.md"
    assert record["files"][name][2] is False  # written moments before the build: not trusted
    record["files"][name][1] = "0" * 64  # as if its bytes had changed within the same clock tick
    record_path.write_text(json.dumps(record))
    assert unchanged_outputs(project, options(target)) == []
    record["files"][name][2] = True  # had its status been trusted, it would not be read
    record_path.write_text(json.dumps(record))
    assert unchanged_outputs(project, options(target)) == [target]


def test_a_program_change_is_never_taken_for_no_change(project, tmp_path, capsys, monkeypatch):
    target = tmp_path / "book.pdf"
    assert built(project, target, capsys)
    monkeypatch.setattr(lastbuild, "RACY_NS", -60_000_000_000)
    assert unchanged_outputs(project, options(target)) == [target]
    assert unchanged_outputs(project, options(tmp_path / "other.pdf")) == []

    monkeypatch.setattr(lastbuild, "__version__", "99.0")  # upgraded
    assert unchanged_outputs(project, options(target)) == []
    monkeypatch.undo()
    monkeypatch.setattr(lastbuild, "RACY_NS", -60_000_000_000)

    added = tmp_path / "new_module.py"
    added.write_text("")
    sources = lastbuild.program_sources()
    monkeypatch.setattr(lastbuild, "program_sources", lambda: [*sources, added])  # a module added
    assert unchanged_outputs(project, options(target)) == []
    monkeypatch.setattr(lastbuild, "program_sources", lambda: sources)

    record_path = project / CACHE_FOLDER / RECORD
    record = json.loads(record_path.read_text())
    font = next(item for item in record["program"] if item[0].endswith((".ttf", ".otf")))
    font[1][1] -= 1  # a font (or module) whose status moved: replaced by an upgrade
    record_path.write_text(json.dumps(record))
    assert unchanged_outputs(project, options(target)) == []


def test_a_build_with_nothing_to_do_loads_none_of_the_machinery(project, tmp_path):
    target = tmp_path / "book.pdf"
    script = ("import sys\nfrom anthology.cli import main\n"
              f"code = main(['build', {str(project)!r}, '-o', {str(target)!r}, '-q'])\n"
              "print(code, sorted(m for m in ('anthology.build', 'reportlab', 'pikepdf', 'markdown_it') "
              "if m in sys.modules))\n")
    first = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True)
    assert first.stdout.splitlines()[-1] != "0 []"  # built: everything loaded
    again = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True)
    assert "Nothing changed" in again.stdout and again.stdout.splitlines()[-1] == "0 []"


def test_a_record_naming_another_file_as_the_book_is_not_believed(project, tmp_path, capsys, monkeypatch):
    """A last-build record that came with someone else's project cannot point a build at any other file."""
    import hashlib

    from anthology import build_book

    target = tmp_path / "out" / "book.pdf"
    target.parent.mkdir()
    assert built(project, target, capsys)
    elsewhere = tmp_path / "secret.txt"
    elsewhere.write_text("not the book")
    record_path = project / CACHE_FOLDER / RECORD
    record = json.loads(record_path.read_text())
    record["outputs"] = [[str(elsewhere), hashlib.sha256(elsewhere.read_bytes()).hexdigest()]]
    record_path.write_text(json.dumps(record))
    monkeypatch.setattr(lastbuild, "RACY_NS", -60_000_000_000)
    assert unchanged_outputs(project, options(target)) == []
    assert not build_book(project, target).unchanged


def test_the_dates_the_environment_stamps_are_an_option(project, tmp_path, capsys, monkeypatch):
    """``SOURCE_DATE_EPOCH`` changes the bytes written: another value is never 'nothing changed'."""
    from .conftest import reader

    target = tmp_path / "book.pdf"
    assert built(project, target, capsys)
    assert not built(project, target, capsys)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767312000")  # a day later
    assert built(project, target, capsys)
    assert reader(target).metadata["/CreationDate"].startswith("D:20260102")
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert built(project, target, capsys)


def test_a_folder_reached_through_a_link_is_never_taken_for_no_change(project, tmp_path, capsys, hashed):
    """What a linked folder holds is not listed, so an edit made through it must not leave the old book."""
    house = tmp_path / "house" / "mine"
    house.mkdir(parents=True)
    style = house / "layout.yaml"
    style.write_text('base: perspectives\ndescription: "ours"\ncolors:\n  accent: "#2f6b4f"\n')
    (project / "layouts").symlink_to(house.parent, target_is_directory=True)
    target = tmp_path / "book.pdf"

    def build() -> bool:
        assert main(["build", str(project), "-o", str(target), "-q", "--layout", "mine"]) == 0
        return "Nothing changed" not in capsys.readouterr().out

    assert build()
    first = target.read_bytes()
    style.write_text(style.read_text().replace("#2f6b4f", "#b00020"))  # edited through the link
    assert build()
    assert target.read_bytes() != first
    assert not build()  # the linked folder's contents are hashed: unchanged, nothing to do
    # and `serve --watch`, which polls this digest, must not see a change where there is none
    assert lastbuild.inputs_digest(project, {}) == lastbuild.inputs_digest(project, {})


def test_only_the_top_level_output_folder_is_left_out(make_project):
    """``contributions/dist/`` may hold an entry's photo; only the project's own ``dist/`` holds outputs."""
    root = make_project({"contributions/dist/portrait.jpg": b"\xff\xd8", "dist/book.pdf": b"%PDF",
                         "node_modules/x.js": "", "contributions/node_modules/figure.png": b"\x89PNG"})
    names = [name for name, _ in lastbuild.project_files(root)]
    assert "contributions/dist/portrait.jpg" in names and "contributions/node_modules/figure.png" in names
    assert not any(name.startswith(("dist/", "node_modules/")) for name in names)


def test_hidden_files_an_entry_or_a_layout_can_name_are_watched(make_project):
    """An entry may name ``.portrait.jpg`` and ``--layout .draft`` is a layout: both are read by a build.
    The top level's hidden folders (git, the cache, a virtual environment) are not."""
    root = make_project({"contributions/.portrait.jpg": b"\xff\xd8", "contributions/.figures/one.png": b"\x89PNG",
                         "layouts/.draft/layout.yaml": "base: perspectives\n", ".intro.md": "Hello\n",
                         ".git/HEAD": "ref\n", ".anthology-cache/entry": b"", ".venv/bin/python": "",
                         "contributions/.writer-a.md.swp": b"", "contributions/writer-a.md~": ""})
    names = [name for name, _ in lastbuild.project_files(root)]
    assert {"contributions/.portrait.jpg", "contributions/.figures/one.png", "layouts/.draft/layout.yaml",
            ".intro.md"} <= set(names)
    assert not any(name.startswith((".git/", ".anthology-cache/", ".venv/")) for name in names)
    assert not any(name.endswith(("swp", "~")) for name in names)  # an editor's scratch files: no rebuild per keystroke


def test_a_linked_file_is_watched_by_its_target(project, tmp_path, capsys, hashed):
    """A link's own status does not move when its target is edited: the target's is compared."""
    outside = tmp_path / "intro-draft.md"
    outside.write_text("An opening word.\n")
    (project / "notes.md").symlink_to(outside)
    target = tmp_path / "book.pdf"
    assert built(project, target, capsys)
    record = json.loads((project / CACHE_FOLDER / RECORD).read_text())
    assert record["files"]["notes.md"][1] is not None  # hashed through the link
    outside.write_text("An opening ward.\n")
    assert unchanged_outputs(project, options(target)) == []


def test_a_damaged_or_unwritable_record_costs_a_build_never_a_traceback(project, tmp_path, capsys, monkeypatch):
    target = tmp_path / "book.pdf"
    assert built(project, target, capsys)
    record_path = project / CACHE_FOLDER / RECORD
    record_path.write_text("[" * 100_000 + "]" * 100_000)  # deeper than the JSON parser recurses
    assert built(project, target, capsys)
    assert not built(project, target, capsys)

    replace = os.replace

    def full(source, destination):  # type: ignore[no-untyped-def]
        if Path(destination).name == RECORD:  # the book is written; the disk fills before the record is
            raise OSError(28, "No space left on device")
        replace(source, destination)

    record_path.unlink()
    monkeypatch.setattr(lastbuild.os, "replace", full)
    assert built(project, target, capsys)
    assert sorted(p.name for p in (project / CACHE_FOLDER).iterdir() if "last-build" in p.name) == []


def test_the_built_in_layouts_templates_are_part_of_the_program():
    """An upgrade that changes only the EPUB or site templates is a program change."""
    names = {path.name for path in lastbuild.program_sources()}
    assert {"package.opf", "page.xhtml", "style.css", "index.html"} <= names


def test_a_book_written_inside_the_project_is_not_its_own_input(project, tmp_path, capsys, hashed):
    """``-o book.pdf`` in the project folder: the book it wrote must not count as an edit next time."""
    for formats in (["--format", "pdf"], ["--format", "all"]):
        assert main(["build", str(project), "-o", str(project / "book.pdf"), "-q", *formats]) == 0
        assert "Nothing changed" not in capsys.readouterr().out
        assert main(["build", str(project), "-o", str(project / "book.pdf"), "-q", *formats]) == 0
        assert "Nothing changed" in capsys.readouterr().out


def test_an_output_replaced_by_a_link_is_written_again(project, tmp_path, capsys):
    def built_in_dist() -> bool:
        assert main(["build", str(project), "-q"]) == 0
        return "Nothing changed" not in capsys.readouterr().out

    assert built_in_dist()
    (target,) = (project / "dist").iterdir()
    elsewhere = tmp_path / "elsewhere.pdf"
    os.replace(target, elsewhere)
    target.symlink_to(elsewhere)  # the same bytes, but not the book's own file
    assert built_in_dist()
    assert not target.is_symlink() and target.read_bytes() == elsewhere.read_bytes()


@pytest.mark.parametrize("name", ["contributions/writer-a.md", "anthology.yaml", "contributions/book.pdf"])
def test_an_output_naming_one_of_the_inputs_is_refused(project, capsys, name):
    """``-o contributions/writer-a.md`` wrote the PDF over a contributor's words."""
    before = {path: path.read_bytes() for path in project.rglob("*") if path.is_file()}
    assert main(["build", str(project), "-o", str(project / name), "-q"]) == 1
    error = capsys.readouterr().err
    assert "not written" in error and "Traceback" not in error and len(error.strip().splitlines()) == 1
    assert {path: path.read_bytes() for path in project.rglob("*") if path.is_file()} == before


def test_a_library_upgrade_is_never_taken_for_no_change(project, tmp_path, capsys, monkeypatch):
    """An upgraded PDF or text library can write other bytes: its files are part of the program's record."""
    site = tmp_path / "site"
    (site / "typesetter").mkdir(parents=True)
    (site / "typesetter" / "__init__.py").write_text("VERSION = 1\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(lastbuild, "LIBRARIES", (*lastbuild.LIBRARIES, "typesetter"))
    target = tmp_path / "book.pdf"
    assert built(project, target, capsys)
    monkeypatch.setattr(lastbuild, "RACY_NS", -60_000_000_000)
    assert unchanged_outputs(project, options(target)) == [target]
    upgraded = site / "typesetter" / "new.py"
    upgraded.write_text("VERSION = 2\n")
    os.replace(upgraded, site / "typesetter" / "__init__.py")  # what an installer does
    assert unchanged_outputs(project, options(target)) == []


def test_a_build_with_nothing_to_do_still_says_what_was_left_out(project, tmp_path, capsys):
    """With --skip-invalid, 'nothing changed' must not read as 'every entry is in the book'."""
    (project / "contributions" / "broken.md").write_text("---\nname: [unclosed\n---\nWords.\n")
    target = tmp_path / "book.pdf"
    for _ in range(2):
        assert main(["build", str(project), "-o", str(target), "-q", "--skip-invalid"]) == 0
        assert "broken" in capsys.readouterr().err
    assert main(["build", str(project), "-o", str(target), "-q", "--skip-invalid"]) == 0
    out, err = capsys.readouterr()
    assert "Nothing changed" in out and "left out" in err and "contributions/broken.md" in err
