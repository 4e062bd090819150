"""publish: the previous PDF survives any failed write, and killed writers leave nothing behind."""

from __future__ import annotations

import subprocess
import sys

from anthology.publish import write_atomically

from .conftest import REPO


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
