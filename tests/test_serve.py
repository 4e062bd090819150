"""The server, spoken to over real sockets: ranges, ETags, HEAD, traversal, downloads."""

from __future__ import annotations

import hashlib
import http.client
import os
import threading
import time

import pytest
from waitress import create_server

from anthology.release import build_release
from anthology.serve import SiteApp

from .conftest import REPO, run_in_thread, stop_server

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    work = tmp_path_factory.mktemp("serve")
    release = build_release(REPO, work / "site", book_output=work / "book.pdf")
    server = create_server(SiteApp(release.folder), host="127.0.0.1", port=0, threads=4)
    thread = run_in_thread(server)
    yield release, server.effective_port
    stop_server(server, thread)


def get(port: int, path: str, method: str = "GET", **headers: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def test_pages_are_served_with_their_types_and_safety_headers(site):
    release, port = site
    status, headers, body = get(port, "/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert headers["x-content-type-options"] == "nosniff" and headers["accept-ranges"] == "bytes"
    assert body == (release.folder / "index.html").read_bytes()
    assert int(headers["content-length"]) == len(body)
    assert headers["etag"] == f'"{hashlib.sha256(body).hexdigest()}"'
    assert get(port, "/cover.png")[1]["content-type"] == "image/png"
    assert get(port, "/c/zoe-lindqvist.html")[0] == 200


@pytest.mark.parametrize("ranges, status, start, end", [
    ("bytes=0-99", 206, 0, 100), ("bytes=-100", 206, -100, None), ("bytes=100-", 206, 100, None),
    ("bytes=5-1", 200, 0, None), ("bytes=abc", 200, 0, None), ("items=0-1", 200, 0, None),
    (",".join(["bytes=0-0"] + [f"{i}-{i}" for i in range(2, 4000, 2)]), 200, 0, None),
])
def test_byte_ranges(site, ranges, status, start, end):
    release, port = site
    data = release.pdf.read_bytes()
    got, headers, body = get(port, f"/{release.pdf.name}", Range=ranges)
    assert got == status, headers
    assert body == data[start:end]
    if status == 206:
        first = start if start >= 0 else len(data) + start
        assert headers["content-range"] == f"bytes {first}-{first + len(body) - 1}/{len(data)}"


def test_a_range_past_the_end_is_unsatisfiable(site):
    release, port = site
    size = release.pdf.stat().st_size
    status, headers, _ = get(port, f"/{release.pdf.name}", Range=f"bytes={size + 10}-")
    assert status == 416 and headers["content-range"] == f"bytes */{size}"


def test_etags_give_304_and_if_range_guards_against_a_new_edition(site):
    release, port = site
    _, headers, data = get(port, f"/{release.pdf.name}")
    etag = headers["etag"]
    assert get(port, f"/{release.pdf.name}", **{"If-None-Match": etag})[0] == 304
    assert get(port, f"/{release.pdf.name}", **{"If-None-Match": "W/" + etag})[0] == 304
    assert get(port, f"/{release.pdf.name}", **{"If-None-Match": '"other"'})[0] == 200
    assert get(port, f"/{release.pdf.name}", Range="bytes=10-19", **{"If-Range": etag})[0] == 206
    stale, _, body = get(port, f"/{release.pdf.name}", Range="bytes=10-19", **{"If-Range": '"an-old-build"'})
    assert stale == 200 and body == data  # the whole new file, never a mix of two builds


def test_head_has_the_headers_of_get_and_no_body(site):
    release, port = site
    status, headers, body = get(port, f"/{release.pdf.name}", method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) == release.pdf.stat().st_size
    assert headers["content-disposition"] == f'inline; filename="{release.pdf.name}"'
    download = get(port, f"/{release.pdf.name}?download=1", method="HEAD")[1]
    assert download["content-disposition"] == f'attachment; filename="{release.pdf.name}"'


@pytest.mark.parametrize("path", [
    "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc/passwd", "/c/..%2f..%2f..%2fetc%2fpasswd",
    "/%252e%252e/etc/passwd", "/c/", "/.anthology-cache/", "/nowhere.pdf", "//etc/passwd", "/c/%00.html",
])
def test_nothing_outside_the_site_and_no_listings(site, path):
    _, port = site
    status, _, body = get(port, path)
    assert status in (301, 400, 404), (path, status)
    assert b"root:" not in body


def test_only_get_and_head(site):
    _, port = site
    status, headers, _ = get(port, "/", method="POST")
    assert status == 405 and headers["allow"] == "GET, HEAD"


def test_watch_rebuilds_when_the_inputs_change_and_survives_a_failed_rebuild(tmp_path):
    import time

    from anthology.serve import watch

    state = {"digest": "a", "rebuilds": 0}

    def rebuild() -> None:
        state["rebuilds"] += 1
        if state["rebuilds"] == 1:
            raise RuntimeError("a contribution with errors")

    stop = threading.Event()
    watch(tmp_path, rebuild, lambda: state["digest"], interval=0.02, stop=stop)
    time.sleep(0.1)
    assert state["rebuilds"] == 0  # nothing changed
    state["digest"] = "b"
    time.sleep(0.1)
    state["digest"] = "c"
    time.sleep(0.1)
    stop.set()
    assert state["rebuilds"] == 2  # the first rebuild failed, the watcher went on


def test_links_and_fifos_in_the_site_folder_are_not_served(site):
    import os

    release, port = site
    os.symlink("/etc/passwd", release.folder / "leak.txt")
    os.mkfifo(release.folder / "pipe.txt")
    try:
        for path in ("/leak.txt", "/pipe.txt"):
            status, _, body = get(port, path)
            assert status == 404 and b"root:" not in body
    finally:
        (release.folder / "leak.txt").unlink()
        (release.folder / "pipe.txt").unlink()


def test_serving_works_without_the_posix_open_flags(tmp_path, monkeypatch):
    """Windows has neither O_NOFOLLOW nor O_NONBLOCK: files are still served, links still are not."""
    monkeypatch.delattr(os, "O_NOFOLLOW")
    monkeypatch.delattr(os, "O_NONBLOCK")
    (tmp_path / "a.txt").write_text("hello\n")
    (tmp_path / "link.txt").symlink_to(tmp_path / "a.txt")
    from werkzeug.test import Client

    client = Client(SiteApp(tmp_path))
    served, linked = client.get("/a.txt"), client.get("/link.txt")
    try:
        assert served.data == b"hello\n"
        assert linked.status_code == 404
    finally:
        served.close()
        linked.close()


def test_watch_mode_adds_the_reload_script_to_pages_only(tmp_path):
    from werkzeug.test import Client

    (tmp_path / "index.html").write_text("<html><body><p>Hi</p></body></html>")
    (tmp_path / "a.css").write_text("p { color: red }")
    watching, plain = Client(SiteApp(tmp_path, reload=True)), Client(SiteApp(tmp_path))
    responses = [watching.get("/"), plain.get("/"), watching.get("/a.css"), watching.head("/")]
    try:
        page, unchanged, css, head = responses
        assert b"location.reload()" in page.data and page.data.endswith(b"</script>\n</body></html>")
        assert b"location.reload" not in unchanged.data and b"location.reload" not in css.data
        assert head.headers["ETag"] == page.headers["ETag"] == unchanged.headers["ETag"]
    finally:
        for response in responses:
            response.close()
    (tmp_path / "index.html").write_text("<html><body><p>Changed</p></body></html>")
    again = watching.head("/")
    assert again.headers["ETag"] != head.headers["ETag"]
    again.close()


def test_every_answer_carries_a_policy_that_forbids_framing_and_scripts(site):
    _, port = site
    for path in ("/", "/index.html", "/style.css", "/c/", "/nowhere"):
        _, headers, _ = get(port, path)
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy, path
        assert "script-src" not in policy
    status, headers, body = get(port, "/index.html", Range="bytes=99999999-")  # werkzeug's own HTML page before
    assert status == 416 and "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["content-type"].startswith("text/plain") and b"past the end" in body


def test_a_file_named_with_a_trailing_slash_or_through_a_linked_folder_is_not_found(site, tmp_path):
    import os

    release, port = site
    assert get(port, "/index.html")[0] == 200
    assert get(port, "/index.html/")[0] == 404
    assert get(port, "/style.css/")[0] == 404
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "index.html").write_text("elsewhere")
    os.symlink(release.folder / "c", release.folder / "people")  # a link to a folder inside the site
    os.symlink(outside, release.folder / "away")
    try:
        for path in ("/people", "/people/", "/away", "/away/", "/away/index.html"):
            assert get(port, path)[0] == 404, path  # the same answer as a folder that is not there
        assert get(port, "/nothing")[0] == get(port, "/people")[0]
    finally:
        (release.folder / "people").unlink()
        (release.folder / "away").unlink()


def test_a_path_too_long_for_the_file_system_is_a_404_not_a_server_error(site, capfd):
    _, port = site
    status, _, body = get(port, "/" + "a" * 5000)
    assert status == 404 and b"Traceback" not in body
    status, _, _ = get(port, "/c/" + "b" * 300 + ".html")
    assert status == 404
    assert "Traceback" not in capfd.readouterr().err


def test_slow_clients_do_not_starve_the_others(site):
    """200 connections trickling their headers; a probe still gets the page at once."""
    import socket
    import time

    from anthology.serve import ServerLimits, make_server

    release, _ = site
    server = make_server(SiteApp(release.folder), "127.0.0.1", 0, 1 << 20, ServerLimits())
    thread = run_in_thread(server)
    port = server.effective_port
    slow = []
    try:
        for _ in range(200):
            connection = socket.create_connection(("127.0.0.1", port), timeout=5)
            connection.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            slow.append(connection)
        for _ in range(5):
            for connection in slow:
                connection.sendall(b"X-a: b\r\n")
            started = time.perf_counter()
            status, _, body = get(port, "/")
            assert status == 200 and b"<html" in body
            assert time.perf_counter() - started < 2
    finally:
        for connection in slow:
            connection.close()
        stop_server(server, thread)


def test_the_documented_nginx_setup_passes_nginx_t_and_proxies_serve(site, tmp_path):
    """deploy/nginx.conf, checked by nginx itself and then run in front of serve's own server."""
    import os
    import shutil
    import socket
    import subprocess
    import time

    from anthology.intake import IntakeApp
    from anthology.serve import ServerLimits, make_server

    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx is None:
        if os.environ.get("ANTHOLOGY_REQUIRE_BROWSER"):
            pytest.fail("nginx is required (make proxy installs it)")
        pytest.skip("no nginx (make proxy installs it)")
    release, _ = site
    project = tmp_path / "project"
    project.mkdir()
    (project / "anthology.yaml").write_text('title: "Proxied"\nsubmissions:\n  open: true\n')
    backend = make_server(IntakeApp(project, release.folder), "127.0.0.1", 0, 1 << 20, ServerLimits())
    backend_thread = run_in_thread(backend)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        front_port = probe.getsockname()[1]
    site_config = (REPO / "deploy" / "nginx.conf").read_text()
    site_config = site_config.replace("listen 80;", f"listen 127.0.0.1:{front_port};").replace(
        "127.0.0.1:8000", f"127.0.0.1:{backend.effective_port}")
    (tmp_path / "site.conf").write_text(site_config)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log; daemon off;\n"
        f"events {{}}\nhttp {{ access_log off; client_body_temp_path {tmp_path}/body; "
        f"proxy_temp_path {tmp_path}/proxy; include {tmp_path}/site.conf; }}\n")
    checked = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    front = subprocess.Popen([nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                             stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            try:
                status, headers, body = get(front_port, "/")
                break
            except OSError:
                time.sleep(0.1)
        assert status == 200 and b"Lead or Manage?" in body
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert get(front_port, "/index.html/")[0] == 404
        status, _, body = get(front_port, f"/{release.pdf.name}", Range="bytes=0-7")
        assert status == 206 and body == release.pdf.read_bytes()[:8]
        answers = [get(front_port, "/submit?token=guess")[0] for _ in range(15)]
        assert answers[0] == 403 and answers[-1] == 429  # nginx's per-address limit on the form
        big = http.client.HTTPConnection("127.0.0.1", front_port, timeout=10)
        big.putrequest("POST", "/submit?token=guess")
        big.putheader("Content-Length", str(23 * 2**20))
        big.endheaders()  # refused on its declared size, before a byte of the body is sent
        assert big.getresponse().status == 413
        big.close()
    finally:
        front.terminate()
        front.wait(timeout=10)
        stop_server(backend, backend_thread)


def test_unfinished_uploads_share_one_bounded_budget(site):
    """Bodies held at once are bounded for all connections together; an abandoned one gives its share back."""
    import socket
    import time

    from anthology.serve import ServerLimits, make_server

    release, _ = site
    server = make_server(SiteApp(release.folder), "127.0.0.1", 0, 10 * 2**20, ServerLimits(body_budget=5 * 2**20))
    thread = run_in_thread(server)
    port = server.effective_port

    def start_upload() -> socket.socket:
        upload = socket.create_connection(("127.0.0.1", port), timeout=5)
        upload.sendall(b"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Length: 3145728\r\n\r\n" + b"x" * 100_000)
        return upload

    def answer(upload: socket.socket) -> bytes:
        return upload.recv(200)

    try:
        first = start_upload()  # holds 3 MiB of the 5
        second = start_upload()
        assert answer(second).startswith(b"HTTP/1.1 503")
        second.close()
        first.close()  # abandoned: its share comes back
        deadline = time.monotonic() + 5
        while True:
            third = start_upload()
            third.sendall(b"x" * (3145728 - 100_000))
            reply = answer(third)
            third.close()
            if not reply.startswith(b"HTTP/1.1 503") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert reply.startswith(b"HTTP/1.1 405")  # read whole, then answered by the site
    finally:
        stop_server(server, thread)


def test_one_client_cannot_spend_the_whole_upload_budget(site):
    """Slow uploads from one address used to hold every byte of the budget (a dozen trickling
    connections closed the form to everyone); now each client has a share, the proxy excepted."""
    import socket

    from anthology.serve import ServerLimits, make_server

    release, _ = site
    limits = ServerLimits(body_budget=8 * 2**20, body_share=7 * 2**19)
    server = make_server(SiteApp(release.folder), "127.0.0.1", 0, 10 * 2**20, limits)
    thread = run_in_thread(server)
    port, held = server.effective_port, []

    def upload(source: str, size: int, whole: bool = False, answer: bool = False) -> bytes:
        connection = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
        held.append(connection)
        connection.sendall(b"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size
                           + b"x" * (size if whole else 100_000))
        return connection.recv(200) if whole or answer else b""

    def settled(amount: int) -> None:
        """Wait for the server's loop to account for (or give back) what was sent: it runs in
        its own thread, so without this the next step raced it and failed under load."""
        deadline = time.monotonic() + 20
        while server.body_budget.held != amount and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.body_budget.held == amount

    try:
        upload("127.0.0.2", 3 * 2**20)  # a slow one: holds 3 MiB of its 3.5
        settled(3 * 2**20)
        assert upload("127.0.0.2", 3 * 2**20, answer=True).startswith(b"HTTP/1.1 503")  # its share is spent
        assert upload("127.0.0.3", 3 * 2**20, whole=True).startswith(b"HTTP/1.1 405")  # others still upload
        settled(3 * 2**20)  # the finished upload gave its share back
        upload("127.0.0.1", 2 * 2**20)  # the trusted proxy: bound by the budget only
        settled(5 * 2**20)
        assert upload("127.0.0.1", 2 * 2**20, whole=True).startswith(b"HTTP/1.1 405")
    finally:
        for connection in held:
            connection.close()
        stop_server(server, thread)


def test_client_keys_group_an_ipv6_machines_addresses():
    from anthology.serve import client_key

    assert client_key("2001:db8::1") == client_key("2001:db8::ffff:1:2") == "2001:db8::/64"
    assert client_key("2001:db8:0:1::1") != client_key("2001:db8::1")
    assert client_key("::ffff:203.0.113.9") == client_key("203.0.113.9") == "203.0.113.9"
    assert client_key("") == "-"
