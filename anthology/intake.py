"""The submission form behind ``serve``: ``/submit`` for invited contributors, everything else static.

Only someone holding an invitation token can see or post the form (a stranger
gets a 403). A post must also carry the form's CSRF value, an HMAC of the
token under a key kept in the project's cache folder, and may not come from
another origin. Its size is refused before it is read (413), as are forms with
too many parts; each invitation may post ``submissions: per_hour`` times an
hour (429). The headshot's type is judged from its bytes and it is re-encoded;
file names are made by the server. The entry is checked by the same code as
``check`` and, when it passes, stored in the inbox with a proof (see
:mod:`anthology.submissions`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from . import schema
from .cache import CACHE_FOLDER
from .model import BookConfig, Layout, Limits
from .release import site_colors, site_templates
from .serve import SiteApp, client_key
from .submissions import INBOX, REVISION, Invite, find_invite, last_revision, submit
from .validate import read_book
from .words import Words

FORM_FIELDS = (("name", "text"), ("title", "text"), ("role", "text"), ("organization", "text"), ("website", "url"),
               ("bio", "textarea"), ("body", "textarea"))
"""The form's fields and input types; labels and hints are the book's words ``field_<key>`` and ``hint_<key>``."""

FIELD_CAPS = {field.name: field.max_chars for field in schema.CONTRIBUTION_FIELDS if field.max_chars}
"""The validator's own length caps, given to the form's fields so the browser and ``check`` agree."""


class IntakeApp:
    """The release folder, plus the submission form for a project whose ``submissions: open`` is true."""

    def __init__(self, root: Path, site: Path, reload: bool = False) -> None:
        self.root = root.resolve()
        self.static = SiteApp(site, reload)
        self._posts = SlidingWindow(3600)
        self._strangers = SlidingWindow(60)
        self._book: tuple[tuple, BookConfig | None, Layout | None] = ((), None, None)
        self._key = _secret(self.root / CACHE_FOLDER / "csrf.key")

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path not in ("/submit", "/proof"):
            return self.static(environ, start_response)
        nonce = secrets.token_urlsafe(16)  # the form's one inline script runs; no other script can
        try:
            response = self._handle(environ, path, nonce)
        except HTTPException as error:
            response = error.get_response(environ)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        # the token is in the address: never sent elsewhere ("no-referrer" would make a post's Origin null)
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            f"script-src 'nonce-{nonce}'; form-action 'self'; frame-ancestors 'none'")
        return response(environ, start_response)

    def _handle(self, environ: dict, path: str, nonce: str) -> Response:
        """Cheap refusals first: an unknown method, a flood from one address, closed submissions, a wrong
        token; only then is a body read or the project checked. The token travels in the address for
        every method, so a post is judged before its body is parsed."""
        request = Request(environ)
        if request.method not in ("GET", "HEAD", "POST"):
            return Response("Only GET and POST.\n", status=405, mimetype="text/plain",
                            headers={"Allow": "GET, HEAD, POST"})
        if not self._strangers.allow(client_key(request.remote_addr or ""), STRANGER_REQUESTS_PER_MINUTE):
            return Response("Too many requests; try again in a minute.\n", status=429, mimetype="text/plain",
                            headers={"Retry-After": "60"})
        book, layout = self._project()
        if book is None or layout is None or not book.submissions.open:
            closed = (book.words if book is not None else Words())("form_closed")
            return Response(closed + "\n", status=404, mimetype="text/plain")
        token = request.args.get("token", "")
        invitation = find_invite(self.root, token) if token else None
        if invitation is None:
            return _stranger(book.words)
        limits = book.limits
        request.max_content_length = limits.body_bytes + limits.photo_bytes + limits.metadata_bytes + 64 * 1024
        request.max_form_memory_size = limits.body_bytes + limits.metadata_bytes
        request.max_form_parts = 30
        if request.mimetype != "multipart/form-data":  # no photo can come this way: text-sized only
            request.max_content_length = limits.body_bytes + limits.metadata_bytes + 64 * 1024
        try:
            return self._form(request, path, invitation, token, book, layout, nonce)
        finally:
            request.close()  # the upload's temporary file

    def _form(self, request: Request, path: str, invitation: Invite, token: str, book: BookConfig, layout: Layout,
              nonce: str) -> Response:
        limits = book.limits
        if request.method == "POST":
            try:
                request.form  # noqa: B018 (parsed here, so an oversized post is refused before anything else)
            except RequestEntityTooLarge:
                return Response(book.words("form_too_large") + "\n", status=413, mimetype="text/plain")
        if path == "/proof":
            return self._proof(invitation, request.args.get("rev", ""))
        templates = site_templates(layout)
        context = {"book": {"title": book.title, "language": book.language, "pdf": {"name": "", "sha256": ""},
                            "cover": "cover.png", "blurb": ""},
                   "colors": site_colors(layout), "root": "", "absolute": lambda path: path, "invite": invitation,
                   "token": token, "csrf": self._csrf(invitation), "fields": FORM_FIELDS,
                   "caps": FIELD_CAPS,
                   "limit_kib": limits.body_bytes // 1024, "errors": {}, "values": {"name": invitation.name},
                   "nonce": nonce, "w": book.words, "previous": last_revision(self.root, invitation.slug)}
        if context["previous"] is not None:  # a new revision starts from the last one
            context["values"] = {"name": invitation.name, **context["previous"].values}
        if request.method != "POST":
            return _page(templates, context)
        if not hmac.compare_digest(request.form.get("csrf", ""), self._csrf(invitation)) or not _same_origin(request):
            return Response(book.words("form_expired") + "\n", status=403, mimetype="text/plain")
        if not self._posts.allow(invitation.token_sha256, book.submissions.per_hour):
            return Response(book.words("form_too_many") + "\n", status=429, mimetype="text/plain")
        values = {key: request.form.get(key, "") for key, _ in FORM_FIELDS} | {
            "consent": request.form.get("consent", "")}
        upload = request.files.get("photo")
        photo = upload.read(limits.photo_bytes + 1) if upload and upload.filename else None
        context["values"] = values
        if photo is not None and len(photo) > limits.photo_bytes:
            context["errors"] = {"photo": [book.words("form_photo_too_large", limit=limits.photo_bytes // 2**20)]}
            return _page(templates, context, 422)
        fields = {key: value for key, value in values.items() if key not in ("body", "consent")}
        consented = bool(values["consent"])  # without consent the entry is checked, never stored
        outcome = submit(self.root, invitation, fields, values["body"], photo, store=consented)
        errors = dict(outcome.errors)
        if not consented:
            errors.setdefault("consent", []).append(book.words("form_consent_needed"))
        if errors or not outcome.accepted:
            context["errors"] = errors
            return _page(templates, context, 422)
        assert outcome.revision is not None
        context["done"] = {"revision": outcome.revision.name, "pages": outcome.pages, "budget": outcome.budget}
        return _page(templates, context)

    def _proof(self, invitation: Invite, revision: str) -> Response:
        if not REVISION.fullmatch(revision):
            return Response("Not found.\n", status=404, mimetype="text/plain")
        proof = self.root / INBOX / invitation.slug / revision / "proof.pdf"
        if not proof.is_file():
            return Response("Not found.\n", status=404, mimetype="text/plain")
        return Response(proof.read_bytes(), mimetype="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{invitation.slug}-proof-{revision}.pdf"'})

    def _project(self) -> tuple[BookConfig | None, Layout | None]:
        """anthology.yaml and its layout (not the entries), read again only when one of their files changed."""
        key = _stat_key([self.root / "anthology.yaml", *sorted((self.root / "layouts").rglob("*"))])
        if key != self._book[0]:
            self._book = (key, *read_book(self.root))
        return self._book[1], self._book[2]

    def _csrf(self, invitation: Invite) -> str:
        return hmac.new(self._key, invitation.token_sha256.encode(), hashlib.sha256).hexdigest()


STRANGER_REQUESTS_PER_MINUTE = 60
"""Requests to the form per client address and minute, counted before the token is checked."""


class SlidingWindow:
    """At most so many events per key in the last ``seconds``; memory and time stay bounded under a flood.

    Keys are kept in the order of their last event, so the ones whose window has
    passed are forgotten from the front, each once: a request costs the same
    with one key or a hundred thousand. With ``most_keys`` all still counting,
    a new key is refused until the oldest expires.
    """

    def __init__(self, seconds: float, most_keys: int = 100_000) -> None:
        self.seconds, self.most_keys = seconds, most_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str, limit: int) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._events:
                oldest = next(iter(self._events.values()))
                if oldest and now - oldest[-1] <= self.seconds:
                    break
                self._events.popitem(last=False)
            recent = self._events.get(key)
            if recent is None:
                if len(self._events) >= self.most_keys:
                    return False
                recent = self._events[key] = deque()
            while recent and now - recent[0] > self.seconds:
                recent.popleft()
            if len(recent) >= limit:
                return False
            recent.append(now)
            self._events.move_to_end(key)
            return True


def _stat_key(paths: list[Path]) -> tuple:
    key = []
    for path in paths:
        try:
            info = path.stat()
            key.append((str(path), info.st_mtime_ns, info.st_size, info.st_ino))
        except OSError:
            key.append((str(path),))
    return tuple(key)


def _page(templates: Environment, context: dict, status: int = 200) -> Response:
    return Response(templates.get_template("submit.html").render(**context), status=status, mimetype="text/html")


def _same_origin(request: Request) -> bool:
    """A browser's post names its page's origin; it must be this host (behind a TLS proxy the scheme differs)."""
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


def _stranger(words: Words) -> Response:
    return Response(words("form_invalid_link") + "\n", status=403, mimetype="text/plain")


def largest_post(root: Path) -> int:
    """The biggest request the form can take, for the server to refuse anything larger unread."""
    book, _ = read_book(root)
    limits = book.limits if book else Limits()
    return limits.body_bytes + limits.photo_bytes + limits.metadata_bytes + 64 * 1024


def _secret(path: Path) -> bytes:
    """The key for CSRF values: made once, readable by its owner only, kept in the cache folder
    (deleting it only expires open forms)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return path.read_bytes()
    key = secrets.token_bytes(32)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(key)
    return key
