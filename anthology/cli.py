"""The command line: a thin shell over :mod:`anthology.build`.

``main(argv)`` returns an exit code so tests can call it directly: 0 success,
1 the project has errors (or the build failed), 2 the command line is wrong.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from . import __version__
from .errors import AnthologyError, describe_os_error
from .lastbuild import FORMATS

if TYPE_CHECKING:
    from .diagnostics import Report


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


PROJECT_HELP = "the anthology's folder (default: the current folder)"


def _project(parser: argparse.ArgumentParser, old_option: bool = False) -> None:
    """The one way to name the project: an optional positional PROJECT (``--project`` kept hidden where it was)."""
    parser.add_argument("project", nargs="?", type=Path, metavar="PROJECT", help=PROJECT_HELP)
    if old_option:
        parser.add_argument("--project", dest="project_option", type=Path, help=argparse.SUPPRESS)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="anthology", description="Build an anthology PDF from contributors' entries.",
                     epilog="Without a command, anthology builds the book: `anthology [PROJECT]` is `anthology build`.")
    parser.add_argument("--version", action="version", version=f"anthology {__version__}")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    init = commands.add_parser("init", help="start a new anthology: anthology.yaml, an example entry, intro.md")
    init.add_argument("project", nargs="?", type=Path, metavar="PROJECT",
                      help="folder for the new anthology, created if missing (default: the current folder)")
    init.add_argument("--title", help='the book\'s title (default: "My Anthology")')
    init.add_argument("--layout", help="a built-in layout: perspectives (default), pocket or a4-report")
    init.add_argument("--language", help="the book's language, e.g. fr (default: en)")
    build = commands.add_parser("build", help="check the project and build the book PDF (the default)")
    _project(build)
    build.add_argument("-o", "--output", type=Path, help="PDF to write (default: dist/<title>.pdf)")
    build.add_argument("--format", choices=("pdf", "epub", "all"), default="pdf",
                       help="what to write: the PDF (default), the EPUB reading edition, or both "
                            "(the EPUB beside the PDF, as <title>.epub)")
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
    _project(check)
    check.add_argument("--layout", dest="lay_out", action="store_true",
                       help="also lay out every entry and report those over the layout's page budget")
    layouts = commands.add_parser("layouts", help="list the layouts a project can use")
    _project(layouts)
    dist = commands.add_parser("dist", help="build the book and write the release folder (download page, kits)")
    _project(dist)
    dist.add_argument("-o", "--output", type=Path, help="release folder (default: dist/site/)")
    serve = commands.add_parser("serve", help="serve the release folder over HTTP, building it when stale")
    _project(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument("--watch", action="store_true",
                       help="rebuild when the project's files change; open pages reload themselves")
    clean = commands.add_parser("clean", help="delete the project's cache of laid-out entries (.anthology-cache/)")
    _project(clean)
    new = commands.add_parser("new", help="write a filled-in template entry for a contributor")
    new.add_argument("name", metavar="NAME", help='the contributor\'s name, e.g. "Zoë Lindqvist"')
    _project(new)
    invite = commands.add_parser("invite", help="invite a contributor to the submission form; prints their link")
    invite.add_argument("name", metavar="NAME", nargs="?",
                        help='the contributor\'s name, e.g. "Zoë Lindqvist" (not with --list, --revoke, --renew)')
    _project(invite, old_option=True)
    invite.add_argument("--email", default="", help="their address, kept with the invitation (optional)")
    invite.add_argument("--base-url", help="where serve is reachable, for the link (default: the book's site_url, "
                                           "else http://127.0.0.1:8000/)")
    actions = invite.add_mutually_exclusive_group()
    actions.add_argument("--list", action="store_true", help="list the invitations and what each has sent")
    actions.add_argument("--revoke", metavar="SLUG", help="withdraw an invitation: its link stops working")
    actions.add_argument("--renew", metavar="SLUG", help="a new link for an invitation; the old one stops working")
    submit = commands.add_parser("submit", help="put entries received as files (.yaml+.md, .md, .zip) in the inbox",
                                 usage="anthology submit [-h] FILE [FILE ...] [PROJECT]")
    submit.add_argument("files", nargs="+", type=Path, metavar="FILE",
                        help="a .yaml with its .md or .docx, a front-matter .md, or a .zip of them; "
                             "a last argument that is a folder is the PROJECT (default: the current folder)")
    submit.add_argument("--project", dest="project_option", type=Path, help=argparse.SUPPRESS)
    review = commands.add_parser("review", help="list the submissions waiting in the inbox, with who sent them")
    _project(review)
    accept = commands.add_parser("accept", help="move a submission from the inbox into the book, approved")
    accept.add_argument("slug", metavar="SLUG", help="the submission's name in the inbox, as `review` lists it")
    _project(accept, old_option=True)
    reject = commands.add_parser("reject", help="take a submission out of the inbox, with a reason")
    reject.add_argument("slug", metavar="SLUG", help="the submission's name in the inbox, as `review` lists it")
    _project(reject, old_option=True)
    reject.add_argument("--reason", required=True, help="why, kept beside the rejected files")
    return parser


COMMANDS = ("init", "build", "check", "layouts", "dist", "serve", "clean", "new", "invite", "submit", "review",
            "accept", "reject")


def _chosen_project(options: argparse.Namespace) -> Path | str:
    """The project folder, however it was given; a message when it was given twice, differently."""
    positional = getattr(options, "project", None)
    if options.command == "invite" and (options.list or options.revoke or options.renew) and options.name:
        positional, options.name = positional or Path(options.name), None  # no NAME here: it is the PROJECT
    if options.command == "submit":
        files = options.files
        positional = files.pop() if len(files) > 1 and files[-1].is_dir() else None
    old = getattr(options, "project_option", None)
    if old is not None and positional is not None and old != positional:
        return f"the project is given twice ('{positional}' and --project '{old}'); give it once"
    return old or positional or Path(".")


def run() -> NoReturn:
    """The console entry point: :func:`main`, then leave at once.

    The cyclic garbage collector runs every 50 000 new objects instead of every 700:
    a build makes millions of objects that live until the book is written, and
    scanning them over and over took 0.3-0.5 s of an edit or a 100-entry build
    (the peak grows by about 3 MB). Every output file is written and closed by the
    end, so the interpreter's teardown (freeing every object one by one) is skipped:
    after a build of 500 entries it cost about 0.1 s of CPU. Tests call :func:`main`,
    which returns normally. Ctrl-C ends a command with one line, not a traceback (outputs are
    replaced only whole, so the last good ones are kept).
    """
    gc.set_threshold(50_000, 20, 10)
    try:
        code = main()
    except KeyboardInterrupt:
        print("\nanthology: interrupted; nothing half-written was kept, run the command again", file=sys.stderr)
        code = 130  # 128 + SIGINT, as a shell reports it
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in (*COMMANDS, "-h", "--help", "--version"):
        args.insert(0, "build")
    parser = _parser()
    options, extra = parser.parse_known_args(args)
    if len(extra) == 1 and not extra[0].startswith("-") and getattr(options, "project", ...) is None:
        options.project = Path(extra[0])  # PROJECT after an option: `reject SLUG --reason R PROJECT`
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    root = _chosen_project(options)
    if isinstance(root, str):
        print(f"anthology: error: {root}", file=sys.stderr)
        return 2
    options.project = root
    try:
        return _run(options, root)
    except OSError as error:
        print(f"anthology: error: {describe_os_error(error)}", file=sys.stderr)
        return 1
    except AnthologyError as error:  # `check` too can lose a worker process
        print(f"anthology: error: {error}", file=sys.stderr)
        return 1


def _run(options: argparse.Namespace, root: Path) -> int:
    if options.command == "init":
        from .desk import run

        return run(options)
    if root.exists() and not root.is_dir():
        print(f"anthology: error: '{root}' is a file, not a project folder; name the folder that holds "
              "anthology.yaml", file=sys.stderr)
        return 2
    if not root.is_dir():
        print(f"anthology: error: project folder '{root}' does not exist; create one with: anthology init {root}",
              file=sys.stderr)
        return 2
    if options.command == "check":
        return _check(root, options.lay_out)
    if options.command == "layouts":
        return _layouts(root)
    if options.command == "dist":
        return _dist(root, options.output)
    if options.command == "serve":
        return _serve(root, options.host, options.port, options.watch)
    if options.command == "clean":
        return _clean(root)
    if options.command in ("new", "invite", "submit", "review", "accept", "reject"):
        from .desk import run

        return run(options)
    return _build(root, options.output, skip_invalid=options.skip_invalid, fit=options.fit,
                  for_print=options.for_print, layout=options.layout, cache=options.cache, jobs=options.jobs,
                  progress=not options.quiet, final=options.final,
                  formats=FORMATS if options.format == "all" else (options.format,))


def _up_to_date(root: Path, outputs: list[Path], seconds: float) -> int:
    from .lastbuild import last_notes

    for note in last_notes(root.resolve()):
        print(note, file=sys.stderr)
    print(f"Nothing changed since the last build ({seconds:.2f} s); the book is up to date")
    print(*outputs, sep="\n")
    return 0


def _print_report(report: Report) -> None:
    from .diagnostics import use_color

    color, here = use_color(sys.stderr), Path.cwd()
    lines = [diagnostic.format(here, color) for diagnostic in report.sorted()]
    if lines:  # one write: a book with hundreds of warnings otherwise pays a system call per line
        print("\n".join(lines), file=sys.stderr)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _check(root: Path, lay_out: bool) -> int:
    from .build import check_project, lay_out_entries

    checked, report = check_project(root)
    if lay_out and checked is not None and not report.errors:
        laid_out = lay_out_entries(checked, report)
        report.diagnostics += [d for r in laid_out.failed for d in r.diagnostics]
    _print_report(report)
    print(f"checked {root}: {report.summary()}", file=sys.stderr)
    return 1 if report.errors else 0


def _layouts(root: Path) -> int:
    from .diagnostics import Report
    from .validate import available_layouts, read_layout

    for name in sorted(available_layouts(root.resolve())):
        layout = read_layout(root.resolve(), name, Report())
        print(f"{name:16} {layout.description if layout else '(has errors: run check)'}")
    return 0


def _dist(root: Path, folder: Path | None) -> int:
    from .errors import ProjectError
    from .release import build_release

    try:
        release = build_release(root, folder)
    except ProjectError as error:
        _print_report(error.report)
        print(f"not built: {error.report.summary()}; fix the errors above", file=sys.stderr)
        return 1
    except AnthologyError as error:
        print(f"anthology: error: {error}", file=sys.stderr)
        return 1
    _print_report(release.build.report)
    for move in release.moves:
        print(f"moved since the last release: {move}", file=sys.stderr)
    if release.kept:
        shown = ", ".join(release.kept[:5]) + (f" and {len(release.kept) - 5} more" if len(release.kept) > 5 else "")
        print(f"kept {len(release.kept)} file(s) dist did not write, unchanged: {shown}", file=sys.stderr)
    print(f"Release written: {release.folder} ({release.pdf.name})")
    return 0


def _clean(root: Path) -> int:
    from .cache import CACHE_FOLDER, clean

    freed = clean(root)
    print(f"Removed {CACHE_FOLDER}/ ({freed / 1e6:.1f} MB); the next build lays out every entry again"
          if freed else f"No {CACHE_FOLDER}/ to remove")
    return 0


def _serve(root: Path, host: str, port: int, watch_files: bool) -> int:
    from .lastbuild import inputs_digest
    from .publish import default_site
    from .release import release_is_current
    from .serve import serve_forever, watch

    folder = default_site(root.resolve())
    if not release_is_current(root.resolve(), folder) and _dist(root, folder) != 0:
        return 1
    if watch_files:
        watch(root, lambda: _dist(root, folder), lambda: inputs_digest(root.resolve(), {}))
    from .intake import IntakeApp, largest_post

    serve_forever(IntakeApp(root, folder, reload=watch_files), folder, host, port, largest_post(root.resolve()))
    return 0


def _build(root: Path, output: Path | None, **options: Any) -> int:
    started = time.perf_counter()
    if options["cache"]:  # nothing to do is decided before the build's machinery is even imported
        from .lastbuild import build_options, unchanged_outputs

        wanted = {key: options[key] for key in ("skip_invalid", "fit", "for_print", "layout", "final", "formats")}
        outputs = unchanged_outputs(root.resolve(), build_options(output, **wanted))
        if outputs:
            return _up_to_date(root, outputs, time.perf_counter() - started)
    from .build import build_book
    from .diagnostics import plural, use_color
    from .errors import ProjectError

    try:
        result = build_book(root, output, **options)
    except ProjectError as error:
        _print_report(error.report)
        print(f"not built: {error.report.summary()}; fix the errors above", file=sys.stderr)
        return 1
    except AnthologyError as error:
        print(f"anthology: error: {error}", file=sys.stderr)
        return 1
    outputs = list(dict.fromkeys(p for p in (result.output, result.edition_output) if p))
    if result.book is None:
        return _up_to_date(root, outputs, result.seconds)
    _print_report(result.report)
    for rejected in result.skipped:
        for diagnostic in rejected.diagnostics:
            print(diagnostic.format(Path.cwd(), use_color(sys.stderr)), file=sys.stderr)
        print(f"skipped {_shown(rejected.source)} ({plural(len(rejected.diagnostics), 'error', 'errors')})",
              file=sys.stderr)
    book = result.book
    from .publish import moves_since_release

    for move in moves_since_release(root.resolve(), book):
        print(f"moved since the last release: {move}", file=sys.stderr)
    skipped = f", skipped {len(result.skipped)}" if result.skipped else ""
    edition = f" and an EPUB of {len(result.edition.data) / 1e6:.1f} MB" if result.edition else ""
    print(f"Built {plural(book.entry_count, 'entry', 'entries')}{skipped}, {plural(book.page_count, 'page', 'pages')}"
          f"{edition} in {result.seconds:.1f} s")
    print(*outputs, sep="\n")
    return 0
