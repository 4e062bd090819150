"""publish: the previous PDF survives any failed write, and killed writers leave nothing behind."""

from __future__ import annotations

import subprocess
import sys

import pytest

from anthology.cli import main
from anthology.errors import AnthologyError
from anthology.publish import MARKER_BYTES, publish_folder, write_atomically

from .conftest import REPO, entry


def _write_in_subprocess(target, data: bytes, setup: str) -> subprocess.CompletedProcess:
    script = (
        "import os, resource, signal, sys; from pathlib import Path; from anthology.publish import write_atomically\n"
        + setup + f"\nwrite_atomically(Path({str(target)!r}), sys.stdin.buffer.read())\n"
    )
    return subprocess.run([sys.executable, "-c", script], input=data, capture_output=True, cwd=REPO)


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "book.pdf"
    write_atomically(target, b"%PDF-old" * 10)
    # Python ignores SIGXFSZ, so past the limit the write fails with EFBIG, as on a full disk
    failed = _write_in_subprocess(target, b"%PDF-new" * 1000, "resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))")
    assert failed.returncode != 0 and b"File too large" in failed.stderr
    assert target.read_bytes() == b"%PDF-old" * 10
    assert [p.name for p in tmp_path.iterdir()] == ["book.pdf"]


def test_a_writer_killed_by_a_signal_leaves_a_temporary_that_the_next_write_removes(tmp_path):
    target = tmp_path / "book.pdf"
    write_atomically(target, b"%PDF-old")
    # kill -9 after the data is written and before the rename: no Python code can clean up
    killed = _write_in_subprocess(target, b"%PDF-new" * 1000,
                                  "os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)")
    assert killed.returncode == -9
    assert target.read_bytes() == b"%PDF-old"
    assert len([p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]) == 1
    write_atomically(target, b"%PDF-next")
    assert [p.name for p in tmp_path.iterdir()] == ["book.pdf"]
    assert target.read_bytes() == b"%PDF-next"


def test_a_running_writers_temporary_is_left_alone(tmp_path):
    target = tmp_path / "book.pdf"
    busy = tmp_path / f".book.pdf.{subprocess.os.getpid()}.abc123.tmp"
    busy.write_bytes(b"in progress")
    write_atomically(target, b"%PDF")
    assert busy.exists()


def test_a_release_folder_given_as_a_link_is_published_where_it_points(tmp_path):
    """``-o`` naming a link (a common deployment) keeps the link and fills its target; before, the link
    was swapped for a folder and the target it served was left empty."""
    real = tmp_path / "srv-book"
    publish_folder(real, {"index.html": b"one", "c/a.txt": b"first"})
    (real / "CNAME").write_text("books.example.org")
    link = tmp_path / "book"
    link.symlink_to(real)
    assert publish_folder(link, {"index.html": b"two", "c/a.txt": b"second"}) == ("CNAME",)
    assert link.is_symlink() and link.resolve() == real
    assert (real / "index.html").read_bytes() == b"two" and (real / "c/a.txt").read_bytes() == b"second"
    assert (real / "CNAME").read_text() == "books.example.org"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book", "srv-book"]  # nothing left beside them


def test_a_link_named_like_a_leftover_staging_folder_is_never_emptied(tmp_path):
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "index.html").write_bytes(b"same")
    (backup / ".anthology-release").write_text('{"files": ["index.html"]}')
    (tmp_path / ".site.release-old").symlink_to(backup)
    publish_folder(tmp_path / "site", {"index.html": b"same"})
    assert (backup / "index.html").read_bytes() == b"same" and (backup / ".anthology-release").is_file()


@pytest.mark.parametrize("kind", ["fifo", "link", "huge"])
def test_a_marker_that_is_not_a_plain_small_file_is_not_trusted(tmp_path, kind):
    """A FIFO used to hang ``dist`` for ever; a link to another release's marker made its list count here."""
    import os

    other = tmp_path / "other"
    publish_folder(other, {"mine.iso": b"theirs"})
    site = tmp_path / "site"
    site.mkdir()
    (site / "mine.iso").write_bytes(b"precious")
    marker = site / ".anthology-release"
    if kind == "fifo":
        os.mkfifo(marker)
    elif kind == "link":
        marker.symlink_to(other / ".anthology-release")
    else:
        marker.write_text('{"files": ["mine.iso"], "pad": "' + " " * MARKER_BYTES + '"}')
    with pytest.raises(AnthologyError, match="did not write"):
        publish_folder(site, {"index.html": b"new"})
    assert (site / "mine.iso").read_bytes() == b"precious" and not (site / "index.html").exists()


def test_a_mount_point_is_refused_with_a_way_out_and_left_unchanged(tmp_path):
    """A Docker volume or bind mount cannot be renamed: every dist failed with "Device or resource busy"."""
    import shutil

    with pytest.raises(AnthologyError, match="is a mount point"):
        publish_folder(type(tmp_path)("/"), {"index.html": b"x"})
    source, site = tmp_path / "volume", tmp_path / "www" / "site"
    publish_folder(source, {"index.html": b"old"})  # a release made before it was mounted
    site.mkdir(parents=True)
    if not shutil.which("mount") or subprocess.run(["mount", "--bind", str(source), str(site)],
                                                    capture_output=True).returncode != 0:
        pytest.skip("bind mounts need root and a mount namespace that allows them")
    try:
        with pytest.raises(AnthologyError, match=r"is a mount point.*-o .*site/site"):
            publish_folder(site, {"index.html": b"x"})
        assert sorted(p.name for p in site.iterdir()) == [".anthology-release", "index.html"]
        assert (site / "index.html").read_bytes() == b"old"
        assert sorted(p.name for p in site.parent.iterdir()) == ["site"]  # no staging left beside it
    finally:
        subprocess.run(["umount", str(site)], check=True)


def test_a_file_given_as_the_release_folder_is_named_as_a_file(tmp_path):
    """It used to be told it "holds files that dist did not write", which a file cannot."""
    book = tmp_path / "book.pdf"
    book.write_bytes(b"%PDF-1.7 the last good one")
    with pytest.raises(AnthologyError, match="is a file, not a folder"):
        publish_folder(book, {"index.html": b"x"})
    assert book.read_bytes() == b"%PDF-1.7 the last good one"


@pytest.mark.parametrize("manifest", ['[1]', '{"entries": [1]}', '{"entries": {"ann-able": 1}}',
                                      '{"entries": [{"slug": "ann-able"}]}', '"entries"',
                                      '{"entries": [{"slug": ["ann-able"], "first_page": "1"}]}'])
def test_a_damaged_release_manifest_never_stops_a_build(make_project, capsys, manifest):
    """Every build reads the last release's manifest to list who moved: one edited by hand or cut
    short is no release to compare with (nothing listed), never a traceback."""
    root = make_project(entry("Ann Able", "One", "Short.\n"))
    (root / "dist/site").mkdir(parents=True)
    (root / "dist/site/manifest.json").write_text(manifest, encoding="utf-8")
    assert main(["build", str(root), "-q"]) == 0
    assert "moved since" not in capsys.readouterr().err
