"""The entry cache and the parallel layout never change what is built, only how fast."""

from __future__ import annotations

import os
import shutil

import pytest

from anthology import build_book
from anthology.cache import CACHE_FOLDER

from .conftest import entry, page_texts

TEXTS = ["Ledgers and lanterns make a quiet evening.", "Rosters are letters to the people on them."]


@pytest.fixture
def project(make_project, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    files = {}
    for number in range(14):
        files |= entry(f"Writer {chr(65 + number)}", f"Headline {number}", f"{TEXTS[number % 2]} Entry {number}.\n")
    return make_project(files)


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
