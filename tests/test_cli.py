"""One command line: the project chosen the same way everywhere, every argument explained, the README in step;
errors from the operating system are one line naming the file, never a traceback."""

import argparse
import re
import socket
import subprocess
import sys

import pytest

from anthology.cli import COMMANDS, _parser, main

from .conftest import REPO, entry

README = (REPO / "README.md").read_text(encoding="utf-8")


def subcommands() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def readme_rows() -> dict[str, str]:
    """Command name → the first cell of its row in the README's command table."""
    section = README.split("## Command line", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for cell in re.findall(r"^\| `(anthology [^`]+)` \|", section, re.M):
        words = cell.split()
        rows["build" if words[1].startswith("[") else words[1]] = cell
    return rows


def test_the_readme_table_lists_every_command_with_every_argument():
    rows = readme_rows()
    assert set(rows) == set(subcommands()) == set(COMMANDS)
    for name, parser in subcommands().items():
        for action in parser._actions:
            if action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
                continue
            shown = action.option_strings[0] if action.option_strings else action.metavar
            assert shown in rows[name], f"README's row for {name} does not mention {shown}"
            if action.option_strings and action.nargs != 0:
                assert f"{shown} {action.metavar or action.dest.upper()}" in rows[name], (name, shown)
        if name not in ("submit",):
            assert "[PROJECT]" in rows[name], name


def test_every_argument_has_help():
    for name, parser in subcommands().items():
        for action in parser._actions:
            assert action.help, f"{name}: {action.option_strings or action.dest} has no help text"


def test_init_is_a_command_not_a_folder_named_init(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["init", "--title", "Field Notes"]) == 0
    assert 'title: "Field Notes"' in (tmp_path / "anthology.yaml").read_text()
    assert not (tmp_path / "init").exists()


@pytest.mark.parametrize("spelling", ["positional", "option"])
def test_accept_takes_the_project_as_a_positional_and_the_old_option(make_project, spelling, capsys):
    project = make_project(entry("Ann Able", "First", "Words."))
    assert main(["invite", "Cy Chen", str(project)]) == 0
    inbox = project / "contributions" / "inbox" / "cy-chen" / "001"
    inbox.mkdir(parents=True)
    (inbox / "cy-chen.yaml").write_text('name: "Cy Chen"\ntitle: "Second"\n')
    (inbox / "cy-chen.md").write_text("More words.\n")
    assert main(["review", str(project)]) == 0
    assert "Cy Chen" in capsys.readouterr().out  # who submitted, not only the slug
    where = [str(project)] if spelling == "positional" else ["--project", str(project)]
    assert main(["accept", "cy-chen", *where]) == 0
    assert (project / "contributions" / "cy-chen.yaml").is_file()


def test_a_project_given_twice_differently_is_a_usage_error(make_project, tmp_path, capsys):
    project = make_project({})
    assert main(["reject", "x", str(project), "--project", str(tmp_path), "--reason", "no"]) == 2
    assert "given twice" in capsys.readouterr().err


def test_submit_takes_the_project_as_its_last_argument(make_project, tmp_path, capsys):
    project = make_project({})
    (tmp_path / "eve.yaml").write_text('name: "Eve Example"\ntitle: "By Mail"\n')
    (tmp_path / "eve.md").write_text("Sent by e-mail.\n")
    assert main(["submit", str(tmp_path / "eve.yaml"), str(tmp_path / "eve.md"), str(project)]) == 0
    assert (project / "contributions" / "inbox" / "eve").is_dir()


def test_a_missing_project_folder_suggests_init(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nowhere")]) == 2
    assert "anthology init" in capsys.readouterr().err



def test_project_after_an_option_is_still_the_project(make_project, tmp_path, capsys):
    """`reject SLUG --reason R PROJECT`, as the README's table reads, was "unrecognized arguments: PROJECT"."""
    project = make_project(entry("Ann Able", "First", "Words."))
    assert main(["invite", "Cy Chen", "--email", "cy@example.org", str(project)]) == 0
    inbox = project / "contributions" / "inbox" / "cy-chen" / "001"
    inbox.mkdir(parents=True)
    (inbox / "cy-chen.yaml").write_text('name: "Cy Chen"\ntitle: "Second"\n')
    (inbox / "cy-chen.md").write_text("More words.\n")
    assert main(["reject", "cy-chen", "--reason", "off topic", str(project)]) == 0
    assert not (project / "contributions" / "inbox" / "cy-chen").exists()
    with pytest.raises(SystemExit, match="2"):  # two folders are still a usage error
        main(["reject", "cy-chen", "--reason", "x", str(project), str(tmp_path)])


def test_a_project_that_is_a_file_is_named_as_a_file(tmp_path, capsys):
    """It said "does not exist; create one with: anthology init book.yaml", which then failed too."""
    (tmp_path / "book.yaml").write_text("title: x\n")
    assert main(["check", str(tmp_path / "book.yaml")]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a project folder" in err and "does not exist" not in err


def _anthology(*args: str, file_size_limit: int | None = None) -> subprocess.CompletedProcess:
    setup = (f"import resource; resource.setrlimit(resource.RLIMIT_FSIZE, ({file_size_limit}, {file_size_limit}))\n"
             if file_size_limit else "")
    script = setup + f"import sys; from anthology.cli import main; sys.exit(main({list(args)!r}))"
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=300)


def test_ctrl_c_mid_build_is_one_line_and_keeps_the_last_pdf(make_project, tmp_path):
    """Ctrl-C while the contributions are checked: exit 130 with one line, no traceback, the last PDF kept."""
    root = make_project({**entry("Ann Able", "One", "Words.\n"), **entry("Bo Brand", "Two", "More.\n")})
    output = tmp_path / "book.pdf"
    assert _anthology("build", str(root), "-o", str(output)).returncode == 0
    before = output.read_bytes()
    (root / "contributions/ann-able.md").write_text("Other words.\n")
    script = ("import os, signal, sys\nimport anthology.build as build\nfrom anthology import cli\n"
              "real = build.check_contribution\n"
              "def interrupted(*args):\n    os.kill(os.getpid(), signal.SIGINT)\n    return real(*args)\n"
              "build.check_contribution = interrupted\n"
              f"sys.argv = ['anthology', 'build', {str(root)!r}, '-o', {str(output)!r}, '-q', '-j', '1']\n"
              "cli.run()\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode == 130 and "Traceback" not in done.stderr
    assert done.stderr.strip() == "anthology: interrupted; nothing half-written was kept, run the command again"
    assert output.read_bytes() == before


def test_a_full_disk_keeps_the_old_pdf_and_says_so_in_one_line(make_project, tmp_path):
    root = make_project(entry("Ann Able", "One", "Words.\n"))
    output = tmp_path / "out" / "book.pdf"
    assert _anthology("build", str(root), "-o", str(output), "--no-cache").returncode == 0
    before = output.read_bytes()
    (root / "contributions/ann-able.md").write_text("Other words.\n")
    failed = _anthology("build", str(root), "-o", str(output), "--no-cache", file_size_limit=2000)
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines()[-1] == (
        f"anthology: error: {output}: the file is larger than this system allows; "
        "free some space or raise the file size limit")
    assert "Traceback" not in failed.stderr
    assert output.read_bytes() == before
    assert sorted(p.name for p in output.parent.iterdir()) == ["book.pdf"]


def test_a_release_that_cannot_be_written_leaves_the_old_one_and_one_line(make_project, tmp_path):
    root = make_project(entry("Ann Able", "One", "Words.\n"))
    site = tmp_path / "site"
    assert _anthology("dist", str(root), "-o", str(site)).returncode == 0
    before = sorted(p.name for p in site.rglob("*"))
    (root / "contributions/ann-able.md").write_text("Other words.\n")
    failed = _anthology("dist", str(root), "-o", str(site), file_size_limit=30_000)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert failed.stderr.strip().splitlines()[-1].startswith("anthology: error: ")
    assert sorted(p.name for p in site.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_port_in_use_is_one_line(make_project):
    root = make_project(entry("Ann Able", "One", "Words.\n"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        failed = _anthology("serve", str(root), "--port", str(port))
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert failed.stderr.strip().splitlines()[-1] == (
        "anthology: error: the address is in use by another program; choose another --port")


def test_a_build_reports_who_moved_since_the_release_without_loading_the_release_machinery(make_project):
    """The build lists entries whose first page moved since ``dist``; only the manifest is read for that,
    never Jinja2, PDFium or the release module (a tenth of an edit's time)."""
    root = make_project({**entry("Ann Able", "One", "Short.\n", order=1),
                         **entry("Bo Brand", "Two", "Short.\n", order=2)})
    assert main(["dist", str(root)]) == 0
    (root / "contributions/ann-able.md").write_text("\n\n".join(["A paragraph long enough to need more room."] * 40))
    script = ("import sys\nfrom anthology.cli import main\n"
              f"code = main(['build', {str(root)!r}, '-q'])\n"
              "print(code, sorted(m for m in ('anthology.release', 'jinja2', 'pypdfium2') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.splitlines()[-1] == "0 []"
    assert "moved since the last release: Bo Brand: page 2 → 3" in done.stderr
