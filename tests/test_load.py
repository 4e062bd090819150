"""The strict YAML loader: strings stay strings, dangerous constructs are errors with positions."""

import os
from pathlib import Path

import pytest

from anthology.build import check_project
from anthology.diagnostics import Report
from anthology.load import parse_yaml, read_bytes, read_text, split_front_matter

from .conftest import entry

PATH = Path("contributions/x.yaml")


def load(text: str):
    report = Report()
    return parse_yaml(text, PATH, report), report


def test_yaml_11_surprises_stay_text():
    """`no`, `on`, octal-looking numbers, times and dates are not converted."""
    node, report = load("country: no\nswitch: on\nzip: 012345\ntime: 12:30\nday: 2026-11-28\n")
    assert not report.diagnostics
    assert {k: v.value for k, v in node.value.items()} == {
        "country": "no", "switch": "on", "zip": "012345", "time": "12:30", "day": "2026-11-28"}


def test_aliases_and_anchors_are_refused_with_position():
    _, report = load('a: &x "lol"\nb: *x\n')
    (error,) = report.errors
    assert error.position.line == 1 and "anchor" in error.message


def test_alias_alone_is_refused():
    _, report = load("a: 1\nb: *undefined\n")
    assert report.errors and report.errors[0].position.line == 2


def test_duplicate_key_is_an_error_naming_both_lines():
    node, report = load("name: A\ntitle: T\nname: B\n")
    (error,) = report.errors
    assert (error.position.line, error.position.col) == (3, 1)
    assert "duplicate key 'name'" in error.message and "line 1" in error.message
    assert node.value["name"].value == "A"


def test_python_tags_are_refused():
    _, report = load("x: !!python/object:os.system echo\n")
    assert "tag" in report.errors[0].message


def test_syntax_error_has_line_and_column():
    _, report = load("name: A\ntitle: [unclosed\nrole: x\n")
    (error,) = report.errors
    assert error.message.startswith("YAML syntax error")
    assert error.position.line >= 2


def test_deep_nesting_is_bounded():
    _, report = load("a: " + "[" * 200 + "]" * 200 + "\n")
    assert report.errors and "nested" in report.errors[0].message


def test_quoted_and_plain_scalars_are_told_apart():
    node, _ = load('a: 3\nb: "3"\nc:\n')
    assert node.value["a"].plain and not node.value["b"].plain
    assert node.value["c"].value is None


def test_front_matter_positions_count_from_the_file():
    text = "---\nname: A\nname: B\n---\nBody line\n"
    yaml_text, body, body_line = split_front_matter(text)
    assert body == "Body line\n" and body_line == 5
    report = Report()
    parse_yaml(yaml_text, PATH, report, first_line=2)
    assert report.errors[0].position.line == 3


def test_non_utf8_is_reported_with_position(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"name: ok\ntitle: caf\xe9\n")
    report = Report()
    assert read_text(path, report, 1000).text is None
    (error,) = report.errors
    assert (error.position.line, error.position.col) == (2, 11)
    assert "UTF-8" in error.message


def test_size_is_capped_before_reading(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 5000)
    report = Report()
    assert read_text(path, report, 1000).text is None
    assert "limit" in report.errors[0].message


@pytest.fixture
def without_posix_flags(monkeypatch):
    """An ``os`` like Windows': no O_NOFOLLOW and no O_NONBLOCK."""
    monkeypatch.delattr(os, "O_NOFOLLOW")
    monkeypatch.delattr(os, "O_NONBLOCK")


def test_the_loader_works_without_the_posix_open_flags(make_project, without_posix_flags):
    project = make_project(entry("Ann Able", "Plain", "Words."))
    checked, report = check_project(project)
    assert checked is not None and not report.diagnostics


def test_without_the_flags_links_and_special_files_are_still_refused(tmp_path, without_posix_flags):
    real = tmp_path / "real.yaml"
    real.write_text("name: x\n")
    (tmp_path / "link.yaml").symlink_to(real)
    os.mkfifo(tmp_path / "pipe.yaml")  # opened without O_NONBLOCK this would hang; it must be refused first
    report = Report()
    assert read_bytes(tmp_path / "link.yaml", report, 100) is None
    assert read_bytes(tmp_path / "pipe.yaml", report, 100) is None
    assert read_bytes(tmp_path, report, 100) is None
    assert [d.message for d in report.diagnostics] == [
        "file is a symbolic link", "file is not a regular file", "file is not a regular file"]
    assert read_bytes(real, report, 100) == b"name: x\n"


def test_without_the_flags_a_file_swapped_after_lstat_is_refused(tmp_path, without_posix_flags, monkeypatch):
    checked, opened = tmp_path / "checked.yaml", tmp_path / "other.yaml"
    checked.write_text("a: 1\n")
    opened.write_text("secret\n")
    real_lstat = os.lstat
    monkeypatch.setattr(os, "lstat", lambda path: real_lstat(checked) if str(path) == str(opened) else real_lstat(path))
    report = Report()
    assert read_bytes(opened, report, 100) is None  # lstat saw one file, the open found another
    assert report.diagnostics[0].message == "file was replaced while being opened"
