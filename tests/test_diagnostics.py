"""Messages that say where and how: the right line, tabs named, did-you-mean, colour only on a terminal."""

import io
from pathlib import Path

import pytest

from anthology.build import check_project
from anthology.cli import main
from anthology.diagnostics import Diagnostic, use_color
from anthology.model import Position
from anthology.starter import placeholder_headshot

from .conftest import MINIMAL_BOOK, entry


def messages(project) -> list[str]:
    _, report = check_project(project)
    return [f"{d.position.path.name}:{d.position.line}: {d.message} | {d.hint}" for d in report.sorted()]


def test_an_unknown_layout_is_reported_on_its_own_line(make_project):
    project = make_project({"anthology.yaml": MINIMAL_BOOK + "\n# the look\nlayout: pockett\n",
                            **entry("Ann Able", "T", "Words.")})
    assert messages(project) == ["anthology.yaml:5: unknown layout 'pockett' (did you mean 'pocket'?) | "
                                 "available: a4-report, perspectives, pocket"]


def test_a_tab_is_named_as_a_tab(make_project):
    project = make_project({"contributions/ann.yaml": 'name: "Ann"\n\ttitle: "T"\n', "contributions/ann.md": "W."})
    assert any("ann.yaml:2: YAML syntax error: a tab character" in m and "indent with spaces" in m
               for m in messages(project))


@pytest.mark.parametrize("yaml_text", ['name: "Ann\ntitle: "T"\nrole: x\n', 'title: "T"\nname: "Ann\n'])
def test_an_unclosed_quote_is_reported_where_it_opens(make_project, yaml_text):
    project = make_project({"contributions/ann.yaml": yaml_text, "contributions/ann.md": "W."})
    line = 1 + yaml_text.split("\n").index('name: "Ann')
    assert any(m.startswith(f"ann.yaml:{line}: YAML syntax error:") and "quote" in m for m in messages(project))


def test_a_misspelt_status_gets_a_did_you_mean(make_project):
    project = make_project(entry("Ann Able", "T", "Words.", status="aproved"))
    assert any("(did you mean 'approved'?)" in m for m in messages(project))


def test_a_wrong_photo_path_suggests_the_image_beside_it(make_project):
    project = make_project({**entry("Ann Able", "T", "Words.", photo="ann-abel.jpg"),
                            "contributions/ann-able.jpg": placeholder_headshot()})
    assert any("photo 'ann-abel.jpg' not found (did you mean 'ann-able.jpg'?)" in m for m in messages(project))


def test_one_entry_is_one_entry(make_project, capsys):
    project = make_project(entry("Ann Able", "T", "Words."))
    assert main(["build", str(project), "-q"]) == 0
    assert "Built 1 entry, " in capsys.readouterr().out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_on_a_terminal_unless_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert use_color(_Terminal()) and not use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(_Terminal())
    shown = Diagnostic(Position(Path("a.yaml"), 2, 3), "error", "bad", "fix").format(color=True)
    assert shown.startswith("a.yaml:2:3: \033[1;31merror\033[0m: bad")


@pytest.mark.parametrize(("intro", "message"), [
    ("intro.mdd", "intro 'intro.mdd' looks like a file name, but only .md files are read (did you mean 'intro.md'?)"),
    ("intro-txt.md", "intro 'intro-txt.md' not found (did you mean 'intro.md'?)"),
])
def test_a_wrong_introduction_file_is_an_error_with_the_nearest_file(make_project, intro, message):
    project = make_project({"anthology.yaml": MINIMAL_BOOK + f"intro: {intro}\n", "intro.md": "Hello.",
                            **entry("Ann Able", "T", "Words.")})
    assert any(m.startswith(f"anthology.yaml:3: {message}") for m in messages(project)), messages(project)


def test_terminal_escapes_from_an_input_are_spelled_out_never_sent(make_project, capsys):
    """A key `"\\e]0;PWNED\\a\\e[2J"` retitled the editor's terminal and cleared its screen during `check`."""
    files = entry("Ann Able", "T", "Words.")
    files["contributions/ann-able.yaml"] += '"\\e]0;PWNED\\a\\e[2Jbad": 1\n'
    files["contributions/x\x1b[31my\u202e.txt"] = "stray\n"
    assert main(["check", str(make_project(files))]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and "\u202e" not in err
    assert "unknown key '\\x1b]0;PWNED\\x07\\x1b[2Jbad'" in err
    assert "x\\x1b[31my\\u202e.txt" in err
