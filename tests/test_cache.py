"""The entry cache and the parallel layout never change what is built, only how fast."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from anthology import build_book
from anthology.cache import CACHE_FOLDER
from anthology.errors import ProjectError

from .conftest import entry, page_texts, writers

TEXTS = ["Ledgers and lanterns make a quiet evening.", "Rosters are letters to the people on them."]


@pytest.fixture
def project(make_project, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    return make_project(writers(f"{TEXTS[number % 2]} Entry {number}.\n" for number in range(14)))


def test_parallel_and_serial_layout_give_identical_bytes(project, tmp_path):
    serial = build_book(project, tmp_path / "serial.pdf", cache=False, jobs=1)
    parallel = build_book(project, tmp_path / "parallel.pdf", cache=False, jobs=2)
    assert serial.book.entry_count == 14
    assert serial.output.read_bytes() == parallel.output.read_bytes()


def test_an_edited_entry_is_never_served_from_the_cache(project, tmp_path):
    first = build_book(project, tmp_path / "a.pdf")
    assert first.cached_entries == 0
    body = project / "contributions/writer-c.md"
    body.write_text(body.read_text().replace("Ledgers", "Harbours"))
    second = build_book(project, tmp_path / "a.pdf")
    assert second.cached_entries == 13
    text = " ".join(page_texts(second.output))
    assert "Harbours and lanterns make a quiet evening. Entry 2." in text
    assert "Ledgers and lanterns make a quiet evening. Entry 2." not in text


def test_deleting_the_cache_changes_nothing_in_the_output(project, tmp_path):
    build_book(project, tmp_path / "warm.pdf")
    warm = build_book(project, tmp_path / "warm2.pdf")
    assert warm.cached_entries == 14
    shutil.rmtree(project / CACHE_FOLDER)
    cold = build_book(project, tmp_path / "cold.pdf")
    assert cold.cached_entries == 0
    assert warm.output.read_bytes() == cold.output.read_bytes()


def test_a_damaged_cache_file_is_rendered_again(project, tmp_path):
    good = build_book(project, tmp_path / "good.pdf").output.read_bytes()
    for stored in (project / CACHE_FOLDER / "entries").rglob("*.pdf"):
        stored.write_bytes(stored.read_bytes()[:100])  # as if a crash had cut every file short
    again = build_book(project, tmp_path / "again.pdf")
    assert again.cached_entries == 0 and again.output.read_bytes() == good


def test_nothing_changed_is_told_by_content_not_by_modification_time(project, tmp_path):
    target = tmp_path / "book.pdf"
    assert not build_book(project, target).unchanged
    body = project / "contributions/writer-a.md"
    os.utime(body, (1, 1))  # a new mtime alone is no change
    assert build_book(project, target).unchanged
    stat = body.stat()
    body.write_text(body.read_text().replace("Ledgers", "Lodgers"))  # same size and mtime, new content
    os.utime(body, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    rebuilt = build_book(project, target)
    assert not rebuilt.unchanged and "Lodgers" in " ".join(page_texts(target))
    target.write_bytes(b"%PDF-broken")  # the output was damaged since: build again
    assert not build_book(project, target).unchanged
    assert not build_book(project, target, fit=True).unchanged  # other options, other book


@pytest.mark.parametrize("meta", ["[]", "null", '{"key": "x"}', '"text"', "{}"])
def test_cache_metadata_that_is_json_but_not_a_record_is_rebuilt(project, tmp_path, meta):
    good = build_book(project, tmp_path / "good.pdf").output.read_bytes()
    for stored in (project / CACHE_FOLDER / "entries").rglob("*.json"):
        stored.write_text(meta)
    again = build_book(project, tmp_path / "again.pdf")
    assert again.cached_entries == 0 and again.output.read_bytes() == good


@pytest.mark.parametrize("structure", [
    "", "not json", "{}", '{"elements": [], "pages": [], "links": [], "areas": []}',
    '{"elements": [["P", -1, "", ""]], "pages": [[0, 1]], "links": [[]], "areas": []}',  # an MCID of no element
    '{"elements": [["P", 0, "", ""]], "pages": [[0]], "links": [[]], "areas": []}',  # its own parent
    '{"elements": [["P /x", -1, "", ""]], "pages": [[0]], "links": [[]], "areas": []}',  # not a role
    '{"elements": [["P", -1, "", ""]], "pages": [[0]], "links": [[]], "areas": [0]}',  # a link area
    '{"elements": [["P", -1, "", ""]], "pages": [[0], [0]], "links": [[], []], "areas": []}',  # a page too many
], ids=["empty", "not-json", "no-fields", "no-pages", "mcid-of-nothing", "cycle", "role", "area", "pages"])
def test_a_cached_structure_assembly_could_not_graft_is_laid_out_again(project, tmp_path, structure):
    """The structure beside a cached entry (a project folder received from elsewhere, a damaged disk) is
    grafted into the book as it is: one that is not what layout writes is never trusted (no traceback,
    no untagged entry)."""
    good = build_book(project, tmp_path / "good.pdf").output.read_bytes()
    for stored in (project / CACHE_FOLDER / "entries").rglob("*.json"):
        meta = json.loads(stored.read_text())
        stored.write_text(json.dumps({**meta, "structure": structure}))
    again = build_book(project, tmp_path / "again.pdf")
    assert again.cached_entries == 0 and again.output.read_bytes() == good


def test_another_entrys_record_under_this_key_is_not_trusted(project, tmp_path):
    good = build_book(project, tmp_path / "good.pdf")
    records = sorted((project / CACHE_FOLDER / "entries").rglob("*.json"))
    donor, victim = records[0], records[1]
    shutil.copy(donor, victim)
    shutil.copy(donor.with_suffix(".pdf"), victim.with_suffix(".pdf"))
    again = build_book(project, tmp_path / "again.pdf")
    assert again.cached_entries == len(records) - 1
    assert again.output.read_bytes() == good.output.read_bytes()


def test_the_cache_stays_bounded_and_drops_temporaries_of_killed_writers(project, tmp_path):
    build_book(project, tmp_path / "a.pdf")
    entries = project / CACHE_FOLDER / "entries"
    one = sorted(entries.rglob("*.json"))[0].parent
    (one / ".999999999.abc.tmp").write_bytes(b"half")  # no such process
    (one / f".{os.getpid()}.abc.tmp").write_bytes(b"being written")  # a live writer's
    records = lambda: len(list(entries.rglob("*.json")))  # noqa: E731
    assert records() == 14
    for round_ in range(3):  # edit every entry, three times over
        for path in (project / "contributions").glob("*.md"):
            path.write_text(path.read_text() + f" Edit {round_}.\n")
        build_book(project, tmp_path / "a.pdf")
    assert records() == 28  # this build's and the previous build's, no more
    assert not (one / ".999999999.abc.tmp").exists() and (one / f".{os.getpid()}.abc.tmp").exists()


def test_clean_removes_the_cache(project, tmp_path, capsys):
    from anthology.cli import main

    build_book(project, tmp_path / "a.pdf")
    assert (project / CACHE_FOLDER).is_dir()
    assert main(["clean", str(project)]) == 0
    assert not (project / CACHE_FOLDER).exists()
    assert "Removed" in capsys.readouterr().out
    assert main(["clean", str(project)]) == 0


def test_layout_workers_die_with_a_killed_build(project):
    import signal
    import subprocess
    import sys
    import time

    # the first entry is laid out in the build's own process before the workers fork: only the workers sleep
    script = ("import os, time, sys; from pathlib import Path; import anthology.build as b\n"
              "real, parent = b._lay_out, os.getpid()\n"
              "def slow(task):\n"
              "    if os.getpid() != parent:\n"
              "        time.sleep(60)\n"
              "    return real(task)\n"
              "b._lay_out = slow\n"
              f"b.build_book(Path({str(project)!r}), cache=False, jobs=2)\n")
    build = subprocess.Popen([sys.executable, "-c", script])
    try:
        workers: list[int] = []
        for _ in range(200):
            time.sleep(0.1)
            children = Path(f"/proc/{build.pid}/task/{build.pid}/children")
            workers = [int(p) for p in children.read_text().split()] if children.exists() else []
            if len(workers) >= 2:
                break
        assert len(workers) >= 2, "the build started no workers"
        time.sleep(0.5)
        build.send_signal(signal.SIGKILL)
        build.wait()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(os.path.exists(f"/proc/{w}") and _alive(w) for w in workers):
            time.sleep(0.05)
        assert not any(os.path.exists(f"/proc/{w}") and _alive(w) for w in workers)
    finally:
        build.kill()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (300, 375), colour).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def book_with_parts(make_project, monkeypatch):
    """A mirrored layout with parts, headshots, recto starts and warnings: every cached path is taken."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    slugs = [f"writer-{chr(97 + n)}" for n in range(13)]
    files = {"anthology.yaml": "title: Parts\neditor: Ada Example\nlayout: pocket\nintro: A short introduction.\n"
             "sections:\n"
             f"  - title: First\n    intro: Why these come first.\n    entries: [{', '.join(slugs[:6])}]\n"
             f"  - title: Second\n    entries: [{', '.join(slugs[6:])}]\n",
             "contributions/face.jpg": _jpeg((150, 110, 90))}
    for number in range(len(slugs)):
        extra = {"photo": "face.jpg"} if number % 3 == 0 else {}
        body = f"{TEXTS[number % 2]} Entry {number}.\n" * (1 + number % 4 * 30)
        if number == 4:
            body += "A hidden \u200f mark.\n"  # a warning, which a warm build must report again
        files |= entry(f"Writer {chr(65 + number)}", f"Headline {number}", body, **extra)
    return make_project(files)


def test_cold_warm_and_uncached_builds_give_the_same_bytes(book_with_parts, tmp_path):
    project = book_with_parts
    cold = build_book(project, tmp_path / "cold.pdf")
    warm = build_book(project, tmp_path / "warm.pdf", reuse=False)
    assert warm.cached_entries == 13
    assert [d.format() for d in warm.report.warnings] == [d.format() for d in cold.report.warnings]
    assert any("direction-control" in d.message for d in warm.report.warnings)
    uncached = build_book(project, tmp_path / "uncached.pdf", cache=False)
    assert cold.output.read_bytes() == warm.output.read_bytes() == uncached.output.read_bytes()
    for change in (" Item 7.", " Entry 7 grew.\n\n" + "More words for the entry. " * 400):
        body = project / "contributions/writer-h.md"
        body.write_text(body.read_text().replace(" Entry 7.", change, 1))
        edited = build_book(project, tmp_path / "edited.pdf")
        assert edited.cached_entries == 12
        fresh = build_book(project, tmp_path / "fresh.pdf", cache=False)
        assert edited.output.read_bytes() == fresh.output.read_bytes()
    assert fresh.book.page_count > cold.book.page_count
    assert "More words for the entry." in " ".join(page_texts(fresh.output))


def test_an_edit_checks_only_the_edited_entry_again(project, tmp_path, monkeypatch):
    import anthology.build

    checked = []
    real = anthology.build.check_contribution
    monkeypatch.setattr(anthology.build, "check_contribution",
                        lambda folder, path, *rest: checked.append(path.name) or real(folder, path, *rest))
    build_book(project, tmp_path / "a.pdf", jobs=1)
    assert len(checked) == 14
    checked.clear()
    body = project / "contributions/writer-c.md"
    body.write_text(body.read_text().replace("Ledgers", "Harbours"))
    build_book(project, tmp_path / "a.pdf", jobs=1)
    assert checked == ["writer-c.yaml"]


def test_a_record_not_signed_with_this_users_key_is_never_loaded(project, tmp_path):
    import pickle

    build_book(project, tmp_path / "a.pdf")
    canary = tmp_path / "CANARY"
    forged = pickle.dumps(_Canary(str(canary)))
    records = list((project / CACHE_FOLDER / "checked").rglob("*"))
    records = [r for r in records if r.is_file()]
    assert len(records) == 14
    for record in records:
        record.write_bytes(b"\0" * 32 + forged)  # what a stranger's project folder could carry
    again = build_book(project, tmp_path / "b.pdf", reuse=False)
    assert not canary.exists()
    assert again.output.read_bytes() == (tmp_path / "a.pdf").read_bytes()



@pytest.mark.parametrize("kind", ["checked", "piece"])
def test_a_signed_record_copied_under_another_key_is_not_trusted(project, tmp_path, kind):
    """This user's own records swapped between keys (another entry's checked form, the index's
    piece under the contents' key) are refused and made again: the same bytes, no traceback."""
    good = build_book(project, tmp_path / "good.pdf")
    records = sorted(r for r in (project / CACHE_FOLDER / kind).rglob("*") if r.is_file())
    assert len(records) >= 2
    first, second = records[0].read_bytes(), records[1].read_bytes()
    records[0].write_bytes(second)
    records[1].write_bytes(first)
    again = build_book(project, tmp_path / "again.pdf", reuse=False)
    assert again.output.read_bytes() == good.output.read_bytes()


def test_a_checked_record_loads_as_what_was_checked_by_calling_its_classes(project):
    """Records keep dataclasses as calls of their classes (no BUILD of a state dataclasses' slow
    ``__setstate__`` would restore), and what loads equals what was checked."""
    import pickletools

    from anthology.build import check_project

    fresh, _ = check_project(project)
    again, _ = check_project(project)
    assert fresh is not None and again is not None
    assert again.entries == fresh.entries and again.sources == fresh.sources
    records = [r for r in (project / CACHE_FOLDER / "checked").rglob("*") if r.is_file()]
    assert len(records) == 14
    for record in records:
        opcodes = {opcode.name for opcode, _, _ in pickletools.genops(record.read_bytes()[32:])}
        assert "REDUCE" in opcodes and "BUILD" not in opcodes

class _Canary:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (self.path, "w"))


def test_a_headshot_changed_or_swapped_for_a_link_is_checked_again(make_project, tmp_path):
    project = make_project({**entry("Writer A", "One", "Words of one.\n", photo="face.jpg"),
                            "contributions/face.jpg": _jpeg((200, 40, 40))})
    first = build_book(project, tmp_path / "a.pdf")
    face = project / "contributions/face.jpg"
    face.write_bytes(_jpeg((40, 40, 200)))
    second = build_book(project, tmp_path / "b.pdf")
    assert second.cached_entries == 0  # a new photo: a new entry, not the cached one
    assert second.checked.entries[0].contribution.photo.jpeg != first.checked.entries[0].contribution.photo.jpeg
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(face.read_bytes())
    face.unlink()
    face.symlink_to(outside)
    with pytest.raises(ProjectError) as refused:
        build_book(project, tmp_path / "c.pdf")
    assert "photo" in refused.value.report.errors[0].message


def test_a_figure_whose_pixels_change_is_laid_out_again(make_project, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    project = make_project({**entry("Writer A", "One", "Words before.\n\n![A square](fig.jpg)\n"),
                            "contributions/fig.jpg": _jpeg((200, 40, 40))})
    first = build_book(project, tmp_path / "a.pdf")
    (project / "contributions/fig.jpg").write_bytes(_jpeg((40, 40, 200)))
    second = build_book(project, tmp_path / "b.pdf")
    assert second.cached_entries == 0
    uncached = build_book(project, tmp_path / "c.pdf", cache=False)
    assert second.output.read_bytes() == uncached.output.read_bytes() != first.output.read_bytes()


def test_without_a_checked_record_the_key_still_sees_every_images_pixels(make_project, tmp_path):
    import dataclasses

    from anthology import check_project
    from anthology.cache import entry_key
    from anthology.model import Figure

    project = make_project({**entry("Writer A", "One", "Words before.\n\n![A square](fig.jpg)\n"),
                            "contributions/fig.jpg": _jpeg((200, 40, 40))})
    checked, _ = check_project(project, cache=False)
    [entry_] = checked.entries
    [figure] = [b for b in entry_.blocks if isinstance(b, Figure)]
    other = dataclasses.replace(figure, image=dataclasses.replace(figure.image, jpeg=_jpeg((40, 40, 200))))
    changed = dataclasses.replace(entry_, blocks=tuple(other if b is figure else b for b in entry_.blocks))
    layout = checked.project.layout
    assert repr(changed) == repr(entry_)  # the pixels are not in the repr…
    assert entry_key(changed, layout, "en", False) != entry_key(entry_, layout, "en", False)  # …but in the key


def test_old_checked_records_are_pruned(project, tmp_path):
    body = project / "contributions/writer-c.md"
    for number in range(16):  # without pruning: 14 + 16 records
        body.write_text(body.read_text() + f"\nEdit number {number}.\n")
        build_book(project, tmp_path / "a.pdf", jobs=1)
    records = [p for p in (project / CACHE_FOLDER / "checked").rglob("*") if p.is_file()]
    assert 14 <= len(records) <= 28  # this build's 14, and at most as many older ones
    again = build_book(project, tmp_path / "b.pdf", reuse=False)
    assert again.cached_entries == 14
