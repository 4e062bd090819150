"""Submissions: invitations, an inbox of checked entries with proofs, and the editor's review.

Everything is files in the project, so it can be versioned and diffed:

- ``submissions/invites.json``: one invitation per contributor, with only the
  SHA-256 of its secret token (the token itself is printed once, in the link);
- ``contributions/inbox/<slug>/<revision>/``: a submitted entry (``<slug>.yaml``,
  ``<slug>.md``, the re-encoded headshot) and ``proof.pdf``; a revision folder is
  written under a temporary name and renamed into place when complete, so a
  crash never leaves half an entry, and nothing is ever overwritten;
- ``accept`` copies a revision into ``contributions/`` with ``status: approved``,
  after moving any earlier version to ``contributions/.previous/``; ``reject``
  moves the submission to ``contributions/inbox/.rejected/`` with the reason.

A submission is checked by the same code as ``check`` (limits, schema,
characters the fonts can draw, photo by content) and laid out by the same code
as the book, so the proof is the entry as it will print.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import shutil
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .assemble import standalone
from .build import slugify
from .diagnostics import Diagnostic, Report
from .errors import AnthologyError
from .layout.entry import budget_verdict, layout_entry
from .model import Contribution
from .publish import write_atomically
from .text import parse_entry
from .validate import PHOTO_SUFFIXES, SLUG, check_contribution_file, read_book
from .words import Words, word_keys

INVITES = Path("submissions") / "invites.json"
INBOX = Path("contributions") / "inbox"
REVISION = re.compile(r"[0-9]{3,6}")
FIELDS = ("name", "title", "role", "organization", "bio", "website")


@dataclass(frozen=True, slots=True)
class Invite:
    name: str
    slug: str
    email: str
    token_sha256: str
    created: str


@dataclass(slots=True)
class Outcome:
    """What checking a submission gave: errors by form field, and the proof when it passed."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    revision: Path | None = None
    proof: bytes = b""
    pages: int = 0
    budget: str = ""
    """"fits its 1-page budget" or how far it runs over."""

    @property
    def accepted(self) -> bool:
        return self.revision is not None


def invite(root: Path, name: str, email: str = "") -> tuple[Invite, str]:
    """Record an invitation; returns it and the secret token (shown once, stored only hashed).

    Its slug is free among the book's entries, the inbox and other invitations,
    so an invitee can never replace someone else's entry. The same name and
    e-mail twice is refused (use :func:`renew_invite` for a new link).
    """
    token = secrets.token_urlsafe(24)
    with _invites_locked(root) as existing:
        twin = next((i for i in existing if i.name == name and i.email.lower() == email.lower()), None)
        if twin is not None:
            raise AnthologyError(f"{name}{f' <{email}>' if email else ''} was invited already ({twin.created}, "
                                 f"entry '{twin.slug}'); for a new link run: anthology invite --renew {twin.slug}")
        base = slugify(name) or "contributor"
        taken = {i.slug for i in existing} | _slugs_in_use(root)
        slug = next(candidate for candidate in (base, *(f"{base}-{n}" for n in range(2, 10_000)))
                    if candidate not in taken)
        record = Invite(name, slug, email, _hash(token), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        existing.append(record)
    return record, token


def renew_invite(root: Path, slug: str) -> tuple[Invite, str]:
    """A new secret for an invitation; the old link stops working."""
    token = secrets.token_urlsafe(24)
    with _invites_locked(root) as existing:
        index = next((n for n, i in enumerate(existing) if i.slug == slug), None)
        if index is None:
            raise AnthologyError(f"no invitation '{slug}'; see them with: anthology invite --list")
        existing[index] = record = dataclasses.replace(existing[index], token_sha256=_hash(token))
    return record, token


def revoke_invite(root: Path, slug: str) -> Invite:
    """Remove an invitation: its link answers 403 from now on (its submissions stay in the inbox)."""
    with _invites_locked(root) as existing:
        found = next((i for i in existing if i.slug == slug), None)
        if found is None:
            raise AnthologyError(f"no invitation '{slug}'; see them with: anthology invite --list")
        existing.remove(found)
    return found


def _slugs_in_use(root: Path) -> set[str]:
    """Entries in the book and submissions in the inbox: names an invitation must not take."""
    folder = root / "contributions"
    entries = {p.stem for p in folder.iterdir() if p.suffix in (".yaml", ".yml", ".md")} if folder.is_dir() else set()
    inbox_folder = root / INBOX
    waiting = {p.name for p in inbox_folder.iterdir() if p.is_dir()} if inbox_folder.is_dir() else set()
    return entries | waiting


@contextlib.contextmanager
def _invites_locked(root: Path) -> Iterator[list[Invite]]:
    """The invitations, to change in place; written back atomically (0600) under an exclusive lock,
    so concurrent ``invite`` commands each see the others' records."""
    path = root / INVITES
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path.parent / ".invites.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        invites = load_invites(root, strict=True)
        before = list(invites)
        yield invites
        if invites != before:
            _write_json(path, {"invites": [vars_of(i) for i in invites]})
    finally:
        os.close(descriptor)


def load_invites(root: Path, strict: bool = False) -> list[Invite]:
    """The recorded invitations; a missing file has none.

    A damaged file or record is never taken for "no invitations" where the list
    is changed or shown (``strict``): the next ``invite`` would write the list
    back without them, and every link sent would stop working without a word.
    The server, not strict, believes only the well-formed records.
    """
    path = root / INVITES
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as error:
        if strict:
            raise AnthologyError(f"{path}: cannot be read ({getattr(error, 'strerror', None) or error}); no "
                                 "invitation was changed. Restore it from a backup, or move it aside "
                                 "(every link sent stops working) and invite again") from None
        return []
    items = data.get("invites") if isinstance(data, dict) else None
    good = [Invite(**item) for item in items if _well_formed(item)] if isinstance(items, list) else []
    if strict and (not isinstance(items, list) or len(good) != len(items)):
        raise AnthologyError(f"{path}: is not a list of invitations as 'anthology invite' writes it (a record "
                             "lacks a field, has a wrong value or the slug is not a plain name); no invitation "
                             "was changed. Restore it from a backup, or fix the record by hand")
    return good


def _well_formed(item: object) -> bool:
    fields = [field.name for field in dataclasses.fields(Invite)]
    return (isinstance(item, dict) and sorted(item) == sorted(fields) and all(isinstance(item[f], str) for f in fields)
            and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", item["slug"]) is not None
            and re.fullmatch(r"[0-9a-f]{64}", item["token_sha256"]) is not None)


def find_invite(root: Path, token: str) -> Invite | None:
    """The invitation a token belongs to, compared in constant time; None for a stranger."""
    digest = _hash(token)
    found = None
    for candidate in load_invites(root):
        if hmac.compare_digest(candidate.token_sha256, digest):
            found = candidate
    return found


def submit(root: Path, invitation: Invite, fields: dict[str, str], body: str, photo: bytes | None,
           *, store: bool = True) -> Outcome:
    """Check a submission as ``check`` would; if it passes (and ``store``), keep it as a new revision with a proof.

    The photo is judged by the same checks as any contribution's (by content,
    within the book's limits) and stored re-encoded, under a name the server makes.
    """
    outcome = Outcome()
    slug = invitation.slug
    last = last_revision(root, slug)
    if photo is None and last is not None and (last.folder / f"{slug}.jpg").is_file():
        photo = (last.folder / f"{slug}.jpg").read_bytes()  # a new revision keeps the headshot it does not replace
    staging = Path(tempfile.mkdtemp(prefix=".submission-", dir=_inbox(root)))
    try:
        values = {key: fields.get(key, "").strip() for key in FIELDS if fields.get(key, "").strip()}
        values["status"] = "proofed"
        if photo:
            (staging / f"{slug}.jpg").write_bytes(photo)
            values["photo"] = f"{slug}.jpg"
        yaml_text = "".join(f"{key}: {json.dumps(value, ensure_ascii=False)}\n" for key, value in values.items())
        (staging / f"{slug}.yaml").write_text(yaml_text, encoding="utf-8")
        (staging / f"{slug}.md").write_text(body.replace("\r\n", "\n"), encoding="utf-8")
        return _check_and_store(root, slug, staging, f"{slug}.yaml", outcome, store=store)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def submit_files(root: Path, files: dict[str, bytes]) -> dict[str, Outcome]:
    """Entries an editor received as files (a YAML + Markdown pair, a front-matter .md, a .zip of them,
    or a YAML file with a Word document of the same name as its text).

    Each entry is checked and stored in the inbox like a form submission; photos
    travel with the entry that names them.
    """
    for name in [n for n in files if Path(n.lower()).suffix in ARCHIVE_SUFFIXES - {".zip"}]:
        raise AnthologyError(f"{name}: only .zip archives are accepted; unpack it and send its files")
    for name in [n for n in files if n.lower().endswith(".zip")]:
        files = {**{k: v for k, v in files.items() if k != name}, **files_from_zip(files[name])}
    notes: dict[str, list[str]] = {}
    for name in [n for n in files if n.lower().endswith(".docx")]:
        markdown, notes[Path(name).stem] = docx_to_markdown(files.pop(name))
        files[Path(name).stem + ".md"] = markdown.encode()
    pairs = {Path(n).stem for n in files if n.endswith(".yaml")}
    stems = sorted(pairs | {Path(n).stem for n in files if n.endswith(".md")})
    results = {}
    for stem in stems:
        slug = slugify(stem) or "entry"
        staging = Path(tempfile.mkdtemp(prefix=".submission-", dir=_inbox(root)))
        try:
            own = {name: content for name, content in files.items() if Path(name).stem == stem}
            text = b"".join(own.values())
            for name, content in own.items():
                (staging / (slug + Path(name).suffix)).write_bytes(content)
            for name, content in files.items():  # only the images this entry names travel with it
                if name not in own and name.lower().endswith(tuple(PHOTO_SUFFIXES)) and name.encode() in text:
                    (staging / name).write_bytes(content)
            metadata = f"{slug}.yaml" if (staging / f"{slug}.yaml").exists() else f"{slug}.md"
            results[stem] = _check_and_store(root, slug, staging, metadata, Outcome(warnings=notes.get(stem, [])))
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    return results


def _check_and_store(root: Path, slug: str, staging: Path, metadata: str, outcome: Outcome,
                     *, store: bool = True) -> Outcome:
    report = Report()
    contribution, layout = check_contribution_file(root, staging / metadata, report)
    entry = parse_entry(contribution, report) if contribution else None
    book, _ = read_book(root)
    words = book.words if book else Words()
    for diagnostic in report.diagnostics:
        where = _field_of(diagnostic, staging, slug)
        message = _for_contributor(diagnostic, where, words)
        if diagnostic.severity == "error":
            outcome.errors.setdefault(where, []).append(message)
        else:
            outcome.warnings.append(message)
    if outcome.errors or entry is None or layout is None or contribution is None or not store:
        return outcome
    if contribution.photo is not None:  # keep the cleaned pixels, never the upload's own bytes
        contribution.photo.path.write_bytes(contribution.photo.jpeg)
    piece = layout_entry(entry, layout)
    outcome.pages = piece.page_count
    outcome.budget = budget_verdict(piece, layout, words)
    outcome.proof = standalone(piece)
    (staging / "proof.pdf").write_bytes(outcome.proof)
    outcome.revision = _commit(root, slug, staging)
    return outcome


_EDITOR_ADVICE = ("add a line", "anthology.yaml", "layout", "fallback font")


def _for_contributor(diagnostic: Diagnostic, field: str, words: Words) -> str:
    """A diagnostic as a sentence for the person at the form, in the book's words: about the field, never
    about YAML (``form_missing_*``, ``form_unprintable``; other checks keep their own sentence)."""
    message = diagnostic.message
    if message.startswith("missing required field") or message == "the entry's body is empty":
        key = f"form_missing_{field}"
        return words(key) if key in word_keys() else words("form_missing_other", field=_label(field, words))
    if " cannot be drawn by " in message:
        return words("form_unprintable", chars=message.split(" in ", 1)[0])
    for key in (*FIELDS, "photo"):
        message = message.replace(f"'{key}'", f"“{_label(key, words)}”")
    message = message.replace("contribution body", "your text").replace("contribution metadata", "the form")
    hint = "" if any(advice in diagnostic.hint.lower() for advice in _EDITOR_ADVICE) else diagnostic.hint
    sentences = [part[:1].upper() + part[1:] for part in (message, hint) if part]
    return " ".join(s.rstrip(".") + "." for s in sentences)


def _label(field: str, words: Words) -> str:
    return words(f"field_{field}") if f"field_{field}" in word_keys() else field


def _field_of(diagnostic: Diagnostic, staging: Path, slug: str) -> str:
    """Which form field a diagnostic is about: the field it names, the YAML key on its line, or the text."""
    named = re.match(r"(?:missing required field )?'([a-z_]+)'", diagnostic.message)
    if named and named.group(1) in (*FIELDS, "photo"):
        return named.group(1)
    if diagnostic.position.path.name == f"{slug}.md":
        return "body"
    try:
        line = (staging / f"{slug}.yaml").read_text(encoding="utf-8").split("\n")[diagnostic.position.line - 1]
    except (OSError, IndexError):
        return "form"
    key = line.split(":", 1)[0]
    return key if key in (*FIELDS, "photo") else "form"


def _commit(root: Path, slug: str, staging: Path) -> Path:
    """Rename the finished staging folder to the next free revision: never a half-written entry."""
    for _ in range(1000):
        folder = _inbox(root) / slug
        folder.mkdir(parents=True, exist_ok=True)
        number = 1 + max((int(p.name) for p in folder.iterdir() if REVISION.fullmatch(p.name)), default=0)
        target = folder / f"{number:03d}"
        try:
            staging.rename(target)
            return target
        except OSError as error:  # another request took the number, or the folder was just accepted away
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOENT):
                raise
    raise AnthologyError(f"could not store a revision of '{slug}'")


STALE_STAGING_SECONDS = 3600


def _inbox(root: Path) -> Path:
    """The inbox folder; staging folders left by a killed server (over an hour old) are cleared."""
    inbox = root / INBOX
    inbox.mkdir(parents=True, exist_ok=True)
    for leftover in inbox.glob(".submission-*"):
        try:
            if time.time() - leftover.stat().st_mtime > STALE_STAGING_SECONDS:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            pass
    return inbox


@dataclass(frozen=True, slots=True)
class InboxItem:
    slug: str
    name: str
    """Who submitted it, as their entry gives the name (empty when the entry cannot be read)."""
    revision: str
    folder: Path
    submitted: str
    problems: int
    budget: str


def inbox(root: Path) -> list[InboxItem]:
    """Every submission's latest revision, checked again now (the layout may have changed)."""
    items = []
    base = root / INBOX
    for folder in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")) if base.is_dir() \
            else []:
        revisions = sorted(p for p in folder.iterdir() if REVISION.fullmatch(p.name))
        if not revisions:
            continue
        latest = revisions[-1]
        report = Report()
        contribution, layout = check_contribution_file(root, _metadata_file(latest, folder.name), report)
        budget = ""
        if contribution and layout and not report.errors:
            piece = layout_entry(parse_entry(contribution, report), layout)
            budget = budget_verdict(piece, layout)
        stamp = time.strftime("%Y-%m-%d %H:%M", time.gmtime(latest.stat().st_mtime))
        items.append(InboxItem(folder.name, _who(root, folder.name, contribution),
                               latest.name, latest, stamp, len(report.errors), budget))
    return items


def _who(root: Path, slug: str, contribution: Contribution | None) -> str:
    """The name on the entry, or on its invitation when the entry cannot be read."""
    if contribution is not None:
        return contribution.name
    return next((i.name for i in load_invites(root) if i.slug == slug), "")


def revisions(root: Path, slug: str) -> list[Path]:
    """The revisions waiting in the inbox for one entry, oldest first."""
    folder = root / INBOX / slug
    return sorted(p for p in folder.iterdir() if REVISION.fullmatch(p.name)) if folder.is_dir() else []


@dataclass(frozen=True, slots=True)
class Revision:
    """A form submission in the inbox, as the form shows it again."""

    folder: Path
    values: dict[str, str]
    has_photo: bool


def last_revision(root: Path, slug: str) -> Revision | None:
    """The latest revision an invitee sent, to fill the form with (None before the first)."""
    sent = revisions(root, slug)
    if not sent:
        return None
    values = {}
    with contextlib.suppress(OSError, UnicodeDecodeError):
        for line in (sent[-1] / f"{slug}.yaml").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition(": ")
            with contextlib.suppress(ValueError):
                if key in FIELDS and isinstance(text := json.loads(value), str):
                    values[key] = text  # the form writes one JSON string per line
        values["body"] = (sent[-1] / f"{slug}.md").read_text(encoding="utf-8")
    return Revision(sent[-1], values, (sent[-1] / f"{slug}.jpg").is_file())


def _metadata_file(revision: Path, slug: str) -> Path:
    yaml_file = revision / f"{slug}.yaml"
    return yaml_file if yaml_file.exists() else revision / f"{slug}.md"


def accept(root: Path, slug: str) -> Path:
    """Move the latest revision into the book as approved; an earlier version goes to ``.previous/``.

    Only the entry's own files are written (``<slug>.yaml``/``.md`` and its photo,
    renamed ``<slug>.<ext>`` if needed), so no other entry's file can be replaced.
    """
    _check_slug(slug)
    item = next((i for i in inbox(root) if i.slug == slug), None)
    if item is None:
        raise AnthologyError(f"no submission '{slug}' in {INBOX}")
    if item.problems:
        raise AnthologyError(f"'{slug}' has {item.problems} error(s); run 'anthology review' to see them")
    contribution, _ = check_contribution_file(root, _metadata_file(item.folder, slug), Report())
    assert contribution is not None
    contributions = root / "contributions"
    existing = [p for p in contributions.iterdir() if p.is_file() and p.stem == slug]
    if existing:
        keep = contributions / ".previous" / f"{slug}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}"
        keep.mkdir(parents=True)
        for path in existing:
            path.rename(keep / path.name)
    photo_name = ""
    if contribution.photo is not None:
        photo_name = f"{slug}{contribution.photo.path.suffix.lower()}"
        write_atomically(contributions / photo_name, contribution.photo.jpeg)
    for name in (f"{slug}.yaml", f"{slug}.md"):
        source = item.folder / name
        if not source.exists():
            continue
        text = source.read_text(encoding="utf-8")
        text = _set_field(text, "status", "approved", front_matter=name.endswith(".md") and not (
            item.folder / f"{slug}.yaml").exists())
        if photo_name:
            text = _set_field(text, "photo", photo_name, front_matter=name.endswith(".md") and not (
                item.folder / f"{slug}.yaml").exists())
        write_atomically(contributions / name, text.encode())
    for revision in item.folder.parent.iterdir():  # this revision and older ones; a newer one stays
        if REVISION.fullmatch(revision.name) and int(revision.name) <= int(item.revision):
            shutil.rmtree(revision)
    with contextlib.suppress(OSError):
        item.folder.parent.rmdir()
    return contributions / f"{slug}.yaml"


def _set_field(text: str, key: str, value: str, *, front_matter: bool) -> str:
    """Set ``key: value`` in YAML text (only inside the front matter of a Markdown file)."""
    if front_matter and not text.startswith("---\n"):
        return text
    head, _, rest = text.partition("\n---") if front_matter else (text, "", "")
    line = f"{key}: {json.dumps(value, ensure_ascii=False)}"
    if front_matter:
        head = head[4:]
    if re.search(rf"^{key}:", head, flags=re.MULTILINE):
        head = re.sub(rf"^{key}:.*$", line, head, count=1, flags=re.MULTILINE)
    else:
        head = head.rstrip("\n") + "\n" + line + "\n"
    return f"---\n{head.rstrip(chr(10))}\n---{rest}" if front_matter else head


def reject(root: Path, slug: str, reason: str) -> Path:
    _check_slug(slug)
    folder = root / INBOX / slug
    if not folder.is_dir():
        raise AnthologyError(f"no submission '{slug}' in {INBOX}")
    target = root / INBOX / ".rejected" / f"{slug}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}"
    target.parent.mkdir(parents=True, exist_ok=True)
    folder.rename(target)
    (target / "REJECTED.txt").write_text(reason + "\n", encoding="utf-8")
    return target


def _check_slug(slug: str) -> None:
    if not SLUG.fullmatch(slug):
        raise AnthologyError(f"'{slug}' is not an entry's name (lower-case letters, digits, '-')")


MAX_ZIP_ENTRIES = 50
ARCHIVE_SUFFIXES = {".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".zst"}
MAX_ZIP_BYTES = 30 * 1024 * 1024


def files_from_zip(data: bytes) -> dict[str, bytes]:
    """The files of a .zip of entries, refused whole if any member is unsafe.

    Refused: paths that are absolute or climb out (``..``, backslashes, drive
    letters), symbolic links, archives inside it, the same name twice, too many members, and more
    than :data:`MAX_ZIP_BYTES` uncompressed, counted while reading as well as
    from the headers (which can lie).
    """
    problems, files = [], {}
    with _open_zip(data, "the zip is not a zip archive (or is damaged); make it again and send it") as archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_ENTRIES:
            raise AnthologyError(f"the zip has {len(members)} files; at most {MAX_ZIP_ENTRIES} are accepted")
        total = 0
        for member in members:
            name = member.filename
            pure = PurePosixPath(name)
            if member.is_dir():
                continue
            if ("\\" in name or pure.is_absolute() or ".." in pure.parts or re.match(r"^[A-Za-z]:", name)
                    or (member.external_attr >> 16) & 0o170000 == 0o120000):
                problems.append(f"{name!r} is a link or points outside the archive")
                continue
            if not pure.name or pure.name in (".", ".."):
                problems.append(f"{name!r} has no file name")
                continue
            if pure.name in files:
                problems.append(f"{pure.name!r} appears twice")
                continue
            total += member.file_size
            if total > MAX_ZIP_BYTES:
                raise AnthologyError("the zip unpacks to more than 30 MB")
            content = _read_member(archive, member, MAX_ZIP_BYTES, f"{name!r} unpacks to more than its header says")
            if pure.suffix.lower() in ARCHIVE_SUFFIXES or (content.startswith(b"PK\x03\x04")
                                                           and pure.suffix.lower() != ".docx"):
                problems.append(f"{name!r} is an archive inside the archive; unpack it and send its files")
                continue
            files[pure.name] = content
    if problems:
        raise AnthologyError("the zip is refused: " + "; ".join(problems))
    return files


MAX_DOCX_BYTES = 20 * 1024 * 1024
"""A Word document unpacked, images included."""
MAX_DOCX_XML = 4 * 1024 * 1024
"""Its XML parts unpacked: mammoth's time grows with them (about 60 KB a second)."""
MAX_DOCX_ELEMENTS = 30_000
"""Elements in the document's text part (a five-page entry has a few thousand): at most about ten seconds."""
MAX_RATIO = 100
"""Unpacked ÷ packed for a member over 1 MB: text compresses 5–20 times, a bomb thousands."""


def _checked_docx(data: bytes) -> bytes:
    """The Word document re-packed from members read under limits, for mammoth to parse.

    The zip directory is judged first (member count, names, declared sizes and
    ratios), then every member is unpacked while counting, since headers can
    lie; mammoth only ever sees bytes that passed.
    """
    archive = _open_zip(data, "the .docx is not a Word document (it is not a zip archive)")
    too_much = "the .docx unpacks to too much; save it again without embedded media, or paste its text"
    with archive:
        members = archive.infolist()
        if len(members) > 2000 or sum(m.file_size for m in members) > MAX_DOCX_BYTES:
            raise AnthologyError(too_much)
        for member in members:
            pure = PurePosixPath(member.filename)
            if pure.is_absolute() or ".." in pure.parts or "\\" in member.filename:
                raise AnthologyError("the .docx has files that point outside it")
            if member.file_size > 1 << 20 and member.file_size > MAX_RATIO * max(member.compress_size, 1):
                raise AnthologyError(too_much)
        repacked, xml = io.BytesIO(), 0
        with zipfile.ZipFile(repacked, "w", zipfile.ZIP_STORED) as clean:
            for member in members:
                if member.is_dir():
                    continue
                content = _read_member(archive, member, MAX_DOCX_BYTES, too_much)
                if member.filename.endswith((".xml", ".rels")):
                    xml += len(content)
                    if xml > MAX_DOCX_XML:
                        raise AnthologyError(too_much)
                if member.filename == "word/document.xml" and content.count(b"<") > MAX_DOCX_ELEMENTS:
                    raise AnthologyError("the .docx is too long or too heavily formatted to convert; "
                                         "paste its text into a .md file instead")
                clean.writestr(member.filename, content)
    return repacked.getvalue()


def _open_zip(data: bytes, message: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise AnthologyError(message) from None


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, most: int, message: str) -> bytes:
    """A member's bytes, never more than it declares nor than ``most``, counted as they are unpacked.

    A member zipfile cannot unpack (encrypted, Deflate64 or another method it
    lacks, a wrong checksum, cut short) is a message, not a traceback."""
    chunks, total = [], 0
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(1 << 16):
                total += len(chunk)
                if total > member.file_size or total > most:
                    raise AnthologyError(message)
                chunks.append(chunk)
    except (RuntimeError, NotImplementedError, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
        reason = ("it is encrypted" if member.flag_bits & 1 else
                  "it is packed in a way that cannot be unpacked here" if isinstance(error, NotImplementedError)
                  else "it is damaged")
        raise AnthologyError(f"{member.filename!r} in the archive cannot be read: {reason}; save the file again "
                             "without a password, as a plain zip or .docx, and send it again") from None
    return b"".join(chunks)


def docx_to_markdown(data: bytes) -> tuple[str, list[str]]:
    """A Word document's text as Markdown (mammoth), and what the conversion could not keep.

    Paragraphs, emphasis, lists and headings survive; images are dropped and
    counted, and every style mammoth did not recognise is reported. The archive
    is checked for bombs and unsafe names before mammoth reads it.
    """
    import mammoth

    checked = _checked_docx(data)
    dropped = []

    def drop_image(image: object) -> dict[str, str]:
        dropped.append(image)
        return {"src": ""}

    result = mammoth.convert_to_markdown(io.BytesIO(checked), convert_image=mammoth.images.img_element(drop_image))
    notes = [message.message for message in result.messages]
    if dropped:
        notes.append(f"{len(dropped)} image{'s' * (len(dropped) != 1)} in the document were left out")
    markdown = re.sub(r"!\[[^\]]*\]\(\)", "", result.value)
    return markdown.replace("\r\n", "\n"), notes


def vars_of(invitation: Invite) -> dict[str, str]:
    return {"name": invitation.name, "slug": invitation.slug, "email": invitation.email,
            "token_sha256": invitation.token_sha256, "created": invitation.created}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _write_json(path: Path, data: dict) -> None:
    """Only the owner may read it: the hashes are secrets' digests and the e-mail addresses are personal."""
    write_atomically(path, (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode(), mode=0o600)

