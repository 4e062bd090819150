"""The command line: a thin shell over :mod:`anthology.build`.

``main(argv)`` returns an exit code so tests can call it directly: 0 success,
1 the project has errors (or the build failed), 2 the command line is wrong.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .build import build_book, check_project, lay_out_entries
from .diagnostics import Report
from .errors import AnthologyError, ProjectError
from .validate import available_layouts, read_layout


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="anthology", description="Build an anthology PDF from contributors' entries.")
    parser.add_argument("--version", action="version", version=f"anthology {__version__}")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    build = commands.add_parser("build", help="check the project and build the book PDF (the default)")
    build.add_argument("project", nargs="?", default=".", type=Path, help="project folder (default: .)")
    build.add_argument("-o", "--output", type=Path, help="PDF to write (default: dist/<title>.pdf)")
    build.add_argument("--skip-invalid", action="store_true",
                       help="leave out contributions with errors (listed) instead of refusing to build")
    build.add_argument("--fit", action="store_true",
                       help="tighten entries that run over the layout's page budget, within its fit limits")
    build.add_argument("--print", dest="for_print", action="store_true",
                       help="print-ready: add the layout's bleed and crop marks around every page")
    build.add_argument("--layout", help="build with this layout instead of the one anthology.yaml names")
    build.add_argument("--no-cache", dest="cache", action="store_false",
                       help="lay out every entry afresh and do not use or fill .anthology-cache/")
    build.add_argument("-j", "--jobs", type=int, help="worker processes for laying out entries (default: one per core)")
    build.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    build.add_argument("--final", action="store_true",
                       help="the release build: refuse while any entry is not approved (no PROOF marks)")
    check = commands.add_parser("check", help="report every problem in the project, build nothing")
    check.add_argument("project", nargs="?", default=".", type=Path, help="project folder (default: .)")
    check.add_argument("--layout", dest="lay_out", action="store_true",
                       help="also lay out every entry and report those over the layout's page budget")
    layouts = commands.add_parser("layouts", help="list the layouts a project can use")
    layouts.add_argument("project", nargs="?", default=".", type=Path, help="project folder (default: .)")
    dist = commands.add_parser("dist", help="build the book and write the release folder (download page, kits)")
    dist.add_argument("project", nargs="?", default=".", type=Path, help="project folder (default: .)")
    dist.add_argument("-o", "--output", type=Path, help="release folder (default: dist/site/)")
    serve = commands.add_parser("serve", help="serve the release folder over HTTP, building it when stale")
    serve.add_argument("project", nargs="?", default=".", type=Path, help="project folder (default: .)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument("--watch", action="store_true", help="rebuild when the project's files change")
    new = commands.add_parser("new", help="write a filled-in template entry for a contributor")
    new.add_argument("name", help='the contributor\'s name, e.g. "Zoë Lindqvist"')
    new.add_argument("project", nargs="?", default=".", type=Path, help="project folder (default: .)")
    invite = commands.add_parser("invite", help="invite a contributor to the submission form; prints their link")
    invite.add_argument("name")
    invite.add_argument("--email", default="")
    invite.add_argument("--project", dest="project", default=".", type=Path)
    invite.add_argument("--base-url", default="http://127.0.0.1:8000/", help="where serve is reachable")
    submit = commands.add_parser("submit", help="put entries received as files (.yaml+.md, .md, .zip) in the inbox")
    submit.add_argument("files", nargs="+", type=Path)
    submit.add_argument("--project", dest="project", default=".", type=Path)
    review = commands.add_parser("review", help="list the submissions waiting in the inbox")
    review.add_argument("project", nargs="?", default=".", type=Path, help="project folder (default: .)")
    accept = commands.add_parser("accept", help="move a submission from the inbox into the book, approved")
    accept.add_argument("slug")
    accept.add_argument("--project", dest="project", default=".", type=Path)
    reject = commands.add_parser("reject", help="take a submission out of the inbox, with a reason")
    reject.add_argument("slug")
    reject.add_argument("--reason", required=True)
    reject.add_argument("--project", dest="project", default=".", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in ("build", "check", "layouts", "dist", "serve", "new", "invite", "submit", "review",
                                   "accept", "reject", "-h", "--help", "--version"):
        args.insert(0, "build")
    options = _parser().parse_args(args)
    root: Path = options.project
    if not root.is_dir():
        print(f"anthology: error: project folder '{root}' does not exist", file=sys.stderr)
        return 2
    if options.command == "check":
        return _check(root, options.lay_out)
    if options.command == "layouts":
        return _layouts(root)
    if options.command == "dist":
        return _dist(root, options.output)
    if options.command == "serve":
        return _serve(root, options.host, options.port, options.watch)
    if options.command in ("new", "invite", "submit", "review", "accept", "reject"):
        from .desk import run

        return run(options)
    return _build(root, options.output, skip_invalid=options.skip_invalid, fit=options.fit,
                  for_print=options.for_print, layout=options.layout, cache=options.cache, jobs=options.jobs,
                  progress=not options.quiet, final=options.final)


def _print_report(report: Report) -> None:
    for diagnostic in report.sorted():
        print(diagnostic.format(Path.cwd()), file=sys.stderr)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _check(root: Path, lay_out: bool) -> int:
    checked, report = check_project(root)
    if lay_out and checked is not None and not report.errors:
        lay_out_entries(checked, report)
    _print_report(report)
    print(f"checked {root}: {report.summary()}", file=sys.stderr)
    return 1 if report.errors else 0


def _layouts(root: Path) -> int:
    for name in sorted(available_layouts(root.resolve())):
        layout = read_layout(root.resolve(), name, Report())
        print(f"{name:16} {layout.description if layout else '(has errors: run check)'}")
    return 0


def _dist(root: Path, folder: Path | None) -> int:
    from .release import build_release

    try:
        release = build_release(root, folder)
    except ProjectError as error:
        _print_report(error.report)
        print(f"not built: {error.report.summary()}; fix the errors above", file=sys.stderr)
        return 1
    _print_report(release.build.report)
    for move in release.moves:
        print(f"moved since the last release: {move}", file=sys.stderr)
    print(f"Release written: {release.folder} ({release.pdf.name})")
    return 0


def _serve(root: Path, host: str, port: int, watch_files: bool) -> int:
    from .build import inputs_digest
    from .release import default_site, release_is_current
    from .serve import serve_forever, watch

    folder = default_site(root.resolve())
    if not release_is_current(root.resolve(), folder) and _dist(root, folder) != 0:
        return 1
    if watch_files:
        watch(root, lambda: _dist(root, folder), lambda: inputs_digest(root.resolve(), {}))
    from .intake import IntakeApp, largest_post

    serve_forever(IntakeApp(root, folder), folder, host, port, largest_post(root.resolve()))
    return 0


def _build(root: Path, output: Path | None, **options: Any) -> int:
    try:
        result = build_book(root, output, **options)
    except ProjectError as error:
        _print_report(error.report)
        print(f"not built: {error.report.summary()}; fix the errors above", file=sys.stderr)
        return 1
    except AnthologyError as error:
        print(f"anthology: error: {error}", file=sys.stderr)
        return 1
    if result.book is None:
        print(f"Nothing changed since the last build ({result.seconds:.2f} s); the PDF is up to date")
        print(result.output)
        return 0
    _print_report(result.report)
    for rejected in result.skipped:
        for diagnostic in rejected.diagnostics:
            print(diagnostic.format(Path.cwd()), file=sys.stderr)
        count = len(rejected.diagnostics)
        print(f"skipped {_shown(rejected.source)} ({count} error{'s' * (count != 1)})", file=sys.stderr)
    book = result.book
    from .release import moves_since_release

    for move in moves_since_release(root.resolve(), book):
        print(f"moved since the last release: {move}", file=sys.stderr)
    skipped = f", skipped {len(result.skipped)}" if result.skipped else ""
    print(f"Built {book.entry_count} entries{skipped}, {book.page_count} pages in {result.seconds:.1f} s")
    print(result.output)
    return 0
