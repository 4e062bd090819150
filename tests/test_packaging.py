"""A quiet first run: `make book` installs only what building needs, the wheel builds without warnings."""

import subprocess
import sys
import zipfile

import pytest

from .conftest import REPO


def make_dry_run(target: str, tmp_path) -> str:
    """The commands `make` would run for ``target`` on a machine with no .venv yet."""
    done = subprocess.run(["make", "-n", "-B", f"VENV={tmp_path / 'venv'}", target], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_book_installs_no_test_tools_and_make_test_does(tmp_path):
    book = make_dry_run("book", tmp_path)
    assert "pip install" in book and "-e ." in book and "[test]" not in book
    assert "compile.py build" in book
    assert "-e '.[test]'" in make_dry_run("test", tmp_path)


@pytest.mark.timeout(300)
def test_the_wheel_builds_without_setuptools_warnings_and_carries_its_data(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
                          capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr
    assert "would be ignored" not in done.stderr + done.stdout
    (wheel,) = tmp_path.glob("anthology-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"anthology/languages/{code}.yaml" for code in ("en", "fr", "de", "es", "it", "pt", "nl", "pl")} <= names
    assert {"anthology/layouts/pocket/layout.yaml", "anthology/layouts/perspectives/site/index.html"} <= names
    assert not (REPO / "build").exists() or "build/" in (REPO / ".gitignore").read_text().split()


def test_the_sample_builds_without_a_warning(sample_book):
    assert not sample_book.report.diagnostics, [d.message for d in sample_book.report.diagnostics]
