"""The editor's desk on the command line: init, new, invite, submit, review, accept, reject.

Thin handlers over :mod:`anthology.submissions`; each prints what it did and
returns an exit code (0 done, 1 refused or failed).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

from . import schema
from .build import slugify
from .diagnostics import plural
from .errors import AnthologyError
from .publish import write_atomically
from .starter import SCHEMA_FILE, StarterOptions, init_project, write_schema
from .submissions import (
    accept,
    inbox,
    invite,
    load_invites,
    reject,
    renew_invite,
    revisions,
    revoke_invite,
    submit_files,
)
from .validate import CONTROL, read_book


def run(options: argparse.Namespace) -> int:
    root: Path = options.project.resolve()
    try:
        return {"init": _init, "new": _new, "invite": _invite, "submit": _submit, "review": _review, "accept": _accept,
                "reject": _reject}[options.command](root, options)
    except AnthologyError as error:
        print(f"anthology: error: {error}", file=sys.stderr)
        return 1


def _init(root: Path, options: argparse.Namespace) -> int:
    defaults = StarterOptions()
    written = init_project(root, StarterOptions(title=options.title or defaults.title,
                                                layout=options.layout or defaults.layout,
                                                language=options.language or defaults.language))
    print(f"Started a new anthology in {root} ({len(written)} files). Next:")
    if root != Path.cwd().resolve():
        print(f"  cd {_quoted(root)}")
    print('  anthology new "A Contributor"    # one template entry per contributor')
    print("  anthology check                   # every problem, in one pass")
    print("  anthology build                   # the PDF, in dist/")
    return 0


def _quoted(path: Path) -> str:
    """The folder as the user's shell reads it back (``$`` and quotes inside double quotes would not be)."""
    text = str(path)
    if os.name == "posix":
        return shlex.quote(text)
    return f'"{text}"' if any(c in text for c in " '&;^%") else text


def _new(root: Path, options: argparse.Namespace) -> int:
    longest = next(f.max_chars for f in schema.CONTRIBUTION_FIELDS if f.name == "name")
    if not options.name.strip() or CONTROL.search(options.name) or any(c in options.name for c in "\t\n") \
            or len(options.name) > longest:
        raise AnthologyError(f"the name must be one line of at most {longest} characters, without control "
                             "characters; nothing was written")
    slug = slugify(options.name) or "contributor"
    folder = root / "contributions"
    targets = [folder / f"{slug}.yaml", folder / f"{slug}.md"]
    if any(t.exists() or t.is_symlink() for t in targets):
        raise AnthologyError(f"contributions/{slug}.yaml or .md exists already; nothing was overwritten")
    write_schema(root)
    lines = [f"# yaml-language-server: $schema=../{SCHEMA_FILE.as_posix()}",
             f"# {options.name}'s entry. The text goes in {slug}.md; check it with: anthology check", ""]
    for field in schema.CONTRIBUTION_FIELDS:
        value = {"name": json.dumps(options.name, ensure_ascii=False), "title": '"Your headline"',
                 "status": '"draft"'}.get(field.name)
        prefix = "" if value else "# "
        lines += [f"# {field.doc}{' (required)' if field.required else ''}",
                  f"{prefix}{field.name}: {value or ''}".rstrip()]
    folder.mkdir(parents=True, exist_ok=True)
    write_atomically(targets[0], ("\n".join(lines) + "\n").encode())
    write_atomically(targets[1], b"Write your text here, in Markdown: a blank line between paragraphs,\n"
                                 b"*italic*, **bold**, and ## for a subheading.\n")
    print(f"Wrote {targets[0].relative_to(root)} and {targets[1].relative_to(root)}")
    if not (root / "anthology.yaml").exists():
        print(f"{root} has no anthology.yaml yet: `anthology init` adds one (it leaves these files alone)",
              file=sys.stderr)
    return 0


def _invite(root: Path, options: argparse.Namespace) -> int:
    if options.list:
        return _list_invites(root)
    if options.revoke:
        revoked = revoke_invite(root, options.revoke)
        print(f"Revoked the invitation of {revoked.name} ('{revoked.slug}'); their link no longer works.")
        return 0
    if not options.name and not options.renew:
        raise AnthologyError("name whom to invite, e.g. anthology invite \"Zoë Lindqvist\" --email zoe@example.org")
    book, _ = read_book(root)
    if options.renew:
        record, token = renew_invite(root, options.renew)
        print(f"New link for {record.name} ('{record.slug}'); the old one no longer works.")
    else:
        record, token = invite(root, options.name, options.email)
        print(f"Invited {record.name}{f' <{record.email}>' if record.email else ''} (entry '{record.slug}').")
    base = options.base_url or (book.site_url if book and book.site_url else "")
    if not base:
        print("note: the link points at this machine (127.0.0.1:8000); give --base-url, or site_url in "
              "anthology.yaml, with the address where 'anthology serve' is reachable", file=sys.stderr)
    base = base or "http://127.0.0.1:8000/"
    base = base if base.endswith("/") else base + "/"
    print(f"Their personal link (shown once; only its hash is stored): {base}submit?token={token}")
    if book is None or not book.submissions.open:
        print("warning: submissions are closed, so the link answers 404 until anthology.yaml says "
              "'submissions: open: true'", file=sys.stderr)
    return 0


def _list_invites(root: Path) -> int:
    invites = load_invites(root, strict=True)
    if not invites:
        print("No invitations.")
        return 0
    print(f"{'slug':28} {'invited':20}  {'sent':>4}  name")
    for record in invites:
        sent = len(revisions(root, record.slug))
        email = f" <{record.email}>" if record.email else ""
        print(f"{record.slug:28} {record.created:20}  {sent:>4}  {record.name}{email}")
    return 0


def _submit(root: Path, options: argparse.Namespace) -> int:
    files = {}
    for path in options.files:
        if not path.is_file():
            raise AnthologyError(f"{path} is not a file")
        files[path.name] = path.read_bytes()
    failed = 0
    for stem, outcome in submit_files(root, files).items():
        if outcome.accepted:
            assert outcome.revision is not None
            budget = f"; {outcome.budget}" if outcome.budget else ""
            print(f"{stem}: in the inbox as {outcome.revision.relative_to(root)} ({outcome.pages} pages{budget})")
        else:
            failed += 1
            for where, messages in outcome.errors.items():
                for message in messages:
                    print(f"{stem}: {where}: {message}", file=sys.stderr)
    return 1 if failed else 0


def _review(root: Path, options: argparse.Namespace) -> int:
    items = inbox(root)
    if not items:
        print("The inbox is empty.")
        return 0
    print(f"{'who':26} {'slug':24} {'rev':>4}  {'submitted':16}  {'check':10}  budget")
    for item in items:
        check = "ok" if not item.problems else plural(item.problems, "error", "errors")
        print(f"{item.name or '?':26} {item.slug:24} {item.revision:>4}  {item.submitted:16}  {check:10}  "
              f"{item.budget or '-'}")
    return 0


def _accept(root: Path, options: argparse.Namespace) -> int:
    path = accept(root, options.slug)
    print(f"Accepted: {path.relative_to(root)} is in the book, approved")
    return 0


def _reject(root: Path, options: argparse.Namespace) -> int:
    path = reject(root, options.slug, options.reason)
    print(f"Rejected: moved to {path.relative_to(root)}")
    return 0
