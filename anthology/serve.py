"""Serve a release folder over HTTP the way PDF readers and browsers expect.

A small WSGI application (Werkzeug) run by Waitress, a production server from
PyPI. It serves files only from the release folder: paths are joined safely
(``..`` and its encodings never leave it), hidden and non-regular files are
not served, and a folder gives its ``index.html`` or a 404, never a listing.

PDF viewers fetch by ranges, so responses carry ``Accept-Ranges: bytes`` and a
single range gets a 206 (or a 416 past the end). A Range header that is not a
well-formed single byte range is ignored and the whole file sent, as RFC 9110
allows. ETags are the SHA-256 of the content, so ``If-None-Match`` gives a 304
only for the same bytes and a stale ``If-Range`` gets the whole new file:
together with files being replaced by rename, a download that spans a rebuild
never mixes two editions (an open file keeps its bytes after the rename).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import mimetypes
import os
import resource
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.http import parse_range_header
from werkzeug.security import safe_join
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import wrap_file

from .load import open_regular

mimetypes.add_type("text/csv", ".csv")
mimetypes.add_type("application/epub+zip", ".epub")


RELOAD_SCRIPT = b"""<script>/* serve --watch: reload when this page's ETag changes after a rebuild */
(function () {
  var seen = null;
  function poll() {
    fetch(location.href, {method: "HEAD", cache: "no-store"}).then(function (r) {
      var tag = r.headers.get("ETag");
      if (seen && tag && tag !== seen) { location.reload(); return; }
      seen = tag || seen;
    }).catch(function () {}).then(function () { setTimeout(poll, 1000); });
  }
  poll();
})();</script>
"""


class SiteApp:
    """The WSGI application for one release folder; ``reload`` adds :data:`RELOAD_SCRIPT` to its pages."""

    def __init__(self, folder: Path, reload: bool = False) -> None:
        self.folder = folder
        self.reload = reload
        self._etags: dict[tuple[int, int, int], str] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        ranges = environ.get("HTTP_RANGE")
        if ranges is not None:
            parsed = parse_range_header(ranges)
            if parsed is None or parsed.units != "bytes" or len(parsed.ranges) != 1:
                environ = {key: value for key, value in environ.items() if key != "HTTP_RANGE"}
        request = Request(environ)
        return self._respond(request)(environ, start_response)

    def _respond(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return _plain(405, "Only GET and HEAD are served here.", Allow="GET, HEAD")
        relative = request.path.lstrip("/")
        if any(part.startswith(".") for part in relative.split("/") if part):
            return _plain(404, "Not found.")
        joined = safe_join(str(self.folder), relative) if relative else str(self.folder)
        if joined is None:
            return _plain(404, "Not found.")
        try:
            opened = self._open(Path(joined), relative)
        except (OSError, ValueError):  # missing, a name too long, a NUL in the path
            return _plain(404, "Not found.")
        if isinstance(opened, Response):
            return opened
        path, descriptor, info = opened
        handle = os.fdopen(descriptor, "rb")
        mimetype = mimetypes.guess_type(path.name)[0] or "text/plain"
        if self.reload and mimetype == "text/html":
            return self._with_reload(request, handle, info)
        response = Response(wrap_file(request.environ, handle), direct_passthrough=True, mimetype=mimetype)
        response.content_length = info.st_size
        response.set_etag(self._etag(handle, info))
        response.last_modified = info.st_mtime
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-cache"
        if path.suffix != ".pdf":  # browsers' own PDF viewers run inside the page they open
            response.headers["Content-Security-Policy"] = STATIC_POLICY
        if path.suffix == ".pdf":
            disposition = "attachment" if "download" in request.args else "inline"
            response.headers["Content-Disposition"] = f'{disposition}; filename="{path.name}"'
        try:
            return response.make_conditional(request, accept_ranges=True, complete_length=info.st_size)
        except RequestedRangeNotSatisfiable as unsatisfiable:  # a range past the end: 416, bytes */size
            handle.close()
            return _plain(416, "That range is past the end of the file.", **{
                "Content-Range": unsatisfiable.get_response().headers["Content-Range"]})

    def _with_reload(self, request: Request, handle, info: os.stat_result) -> Response:  # type: ignore[no-untyped-def]
        """A page with the reload script before ``</body>``; its ETag stays the file's, so it changes on rebuild."""
        with handle:
            tag = self._etag(handle, info)
            page = handle.read()
        end = page.rfind(b"</body>")
        page = page[:end] + RELOAD_SCRIPT + page[end:] if end >= 0 else page + RELOAD_SCRIPT
        response = Response(page, mimetype="text/html")
        response.set_etag(tag)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-cache"
        response.headers["Content-Security-Policy"] = RELOAD_POLICY
        return response.make_conditional(request)

    def _open(self, path: Path, relative: str) -> tuple[Path, int, os.stat_result] | Response:
        """The regular file a path names (its path, an open descriptor, its status), or the answer for a folder.

        Every link is refused, the folder's own excepted: a path whose real
        location is not exactly where it points (a linked folder or file on the
        way) is a 404, as is a file named with a trailing slash.
        """
        real = os.path.realpath(self.folder)
        if os.path.realpath(path) != os.path.normpath(os.path.join(real, relative)):
            raise FileNotFoundError(relative)
        if path.is_dir():
            if relative and not relative.endswith("/"):
                return Response(status=301, headers={"Location": f"/{relative}/"})
            path = path / "index.html"
        elif relative.endswith("/"):
            raise NotADirectoryError(relative)
        return (path, *open_regular(path))  # no final symlink, never a FIFO or device, on any OS

    def _etag(self, handle, info: os.stat_result) -> str:  # type: ignore[no-untyped-def]
        """SHA-256 of the file's bytes, computed once per version of the file."""
        key = (info.st_ino, info.st_size, info.st_mtime_ns)
        with self._lock:
            if key in self._etags:
                return self._etags[key]
        digest = hashlib.sha256()
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
        handle.seek(0)
        with self._lock:
            if len(self._etags) > 10_000:  # old versions of rebuilt files: forget them all at once
                self._etags.clear()
            self._etags[key] = digest.hexdigest()
            return self._etags[key]


STATIC_POLICY = ("default-src 'none'; img-src 'self'; style-src 'self' 'unsafe-inline'; base-uri 'none'; "
                 "form-action 'self'; frame-ancestors 'none'")
"""The release pages have no script and load nothing from elsewhere; no one may frame them."""


_RELOAD_CODE = RELOAD_SCRIPT.split(b">", 1)[1].rsplit(b"</", 1)[0]
RELOAD_POLICY = (f"{STATIC_POLICY}; connect-src 'self'; "
                 f"script-src 'sha256-{base64.b64encode(hashlib.sha256(_RELOAD_CODE).digest()).decode()}'")
"""In watch mode the reload script, and only it, may run (by its hash), and poll this server."""


def _plain(status: int, text: str, **headers: str) -> Response:
    response = Response(text + "\n", status=status, mimetype="text/plain", headers=headers)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = STATIC_POLICY
    return response


def watch(root: Path, rebuild: Callable[[], None], digest: Callable[[], str], interval: float = 1.0,
          stop: threading.Event | None = None) -> threading.Thread:
    """Rebuild whenever the project's inputs change (by content), in a background thread."""
    stop = stop or threading.Event()

    def loop() -> None:
        last = digest()
        while not stop.wait(interval):
            current = digest()
            if current != last:
                try:
                    rebuild()
                except Exception as error:  # a broken edit must not stop the server; say so and go on
                    print(f"rebuild failed: {error}", flush=True)
                last = current

    thread = threading.Thread(target=loop, name="anthology-watch", daemon=True)
    thread.start()
    return thread


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """How much the server gives strangers at once (see README, "Running it in public").

    Waitress reads each request whole before a thread sees it, so slow clients
    cost a connection slot, not a thread: the slots are many and idle ones are
    closed. Each request body is refused past ``largest_request`` before it is
    buffered, and all bodies held at once share ``body_budget``.
    """

    threads: int = 8
    connection_limit: int = 1000
    channel_timeout: int = 20
    """Seconds a connection may send nothing before it is closed."""
    cleanup_interval: int = 5
    body_budget: int = 256 * 1024 * 1024
    """Bytes of request bodies held at once, by all connections together (memory and temporary
    files); a body that would pass it gets a 503 before it is read."""
    body_share: int = 48 * 1024 * 1024
    """Bytes of that budget one client (an IPv4 address, an IPv6 /64) may hold, so a few slow
    uploads from one machine cannot spend it for everyone; the trusted proxy on 127.0.0.1 is not
    bound by it (nginx passes a body on only once it has it whole)."""


def serve_forever(app: Callable, folder: Path, host: str, port: int, largest_request: int,
                  limits: ServerLimits = ServerLimits()) -> None:
    """Serve the WSGI ``app`` (the release ``folder`` and the form) with Waitress until interrupted."""
    server = make_server(app, host, port, largest_request, limits)
    print(f"Serving {folder} at http://{host}:{server.effective_port}/ (Ctrl-C to stop)", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        time.sleep(0)
    finally:
        server.close()


def make_server(app: Callable, host: str, port: int, largest_request: int, limits: ServerLimits = ServerLimits()):  # type: ignore[no-untyped-def]
    """The Waitress server ``serve`` runs, with file descriptors enough for its connection limit.

    A reverse proxy on the same machine may name the client in X-Forwarded-For
    (only one on 127.0.0.1 is believed), so per-address limits see real clients.
    """
    from waitress import create_server

    wanted = limits.connection_limit + limits.threads + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard),
                                                    hard))
    server = create_server(app, host=host, port=port, ident="anthology", threads=limits.threads,
                           connection_limit=limits.connection_limit, channel_timeout=limits.channel_timeout,
                           cleanup_interval=limits.cleanup_interval, max_request_body_size=largest_request,
                           asyncore_use_poll=True, trusted_proxy=TRUSTED_PROXY, trusted_proxy_count=1,
                           trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"},
                           clear_untrusted_proxy_headers=True)
    server.body_budget = _BodyBudget(limits.body_budget, limits.body_share)  # readable: what bodies hold now
    server.channel_class = _budgeted_channel(server.body_budget)
    return server


TRUSTED_PROXY = "127.0.0.1"


def client_key(address: str) -> str:
    """Who a per-client limit counts: the IPv4 address, or the /64 an IPv6 address is in (one machine
    is commonly given a whole /64, so counting single IPv6 addresses would count nothing)."""
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address or "-"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


class _BodyBudget:
    """Bytes of request bodies the server holds at once, shared by every connection, and at most
    ``share`` of them for one client."""

    def __init__(self, most: int, share: int) -> None:
        self.most, self.share, self.held = most, share, 0
        self.by_client: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, amount: int, client: str) -> bool:
        with self._lock:
            mine = self.by_client.get(client, 0)
            if self.held + amount > self.most or (client != TRUSTED_PROXY and mine + amount > self.share):
                return False
            self.held += amount
            self.by_client[client] = mine + amount
            return True

    def give_back(self, amount: int, client: str) -> None:
        with self._lock:
            self.held -= amount
            left = self.by_client.pop(client, 0) - amount
            if left > 0:
                self.by_client[client] = left


def _budgeted_channel(budget: _BodyBudget) -> type:
    """Waitress's channel with request parsers that reserve their body's size from ``budget`` as soon as
    it is declared (or, chunked, as it grows), answer 503 when it is spent, and give it back when done or
    when the client goes away."""
    from waitress.channel import HTTPChannel
    from waitress.parser import HTTPRequestParser
    from waitress.utilities import Error

    class Busy(Error):
        code = 503
        reason = "Service Unavailable"

    class Parser(HTTPRequestParser):
        reserved = 0
        client = "-"

        def received(self, data: bytes) -> int:
            consumed = super().received(data)
            wanted = max(self.content_length, self.body_bytes_received)
            if self.headers_finished and not self.error and wanted > self.reserved:
                if budget.take(wanted - self.reserved, self.client):
                    self.reserved = wanted
                else:
                    self.error = Busy("The server is receiving too many uploads; try again in a minute.")
                    self.completed = True
            return consumed

        def close(self) -> None:
            super().close()
            budget.give_back(self.reserved, self.client)
            self.reserved = 0

    class Channel(HTTPChannel):
        def parser_class(self, adjustments) -> Parser:  # type: ignore[no-untyped-def,override]
            """Waitress makes each request's parser with this; ours knows whose body it holds."""
            parser = Parser(adjustments)
            address = self.addr[0] if isinstance(self.addr, tuple) and self.addr else ""
            parser.client = client_key(address)
            return parser

        def handle_close(self) -> None:
            if self.request is not None:  # an upload the client abandoned
                self.request.close()
            super().handle_close()

    return Channel
