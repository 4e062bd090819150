"""A short, bounded load check of ``serve`` on loopback: what strangers can take from everyone else.

    python bench/load.py [PROJECT] [--clients 8] [--seconds 5] [--slow 200]

Copies the project to a temporary folder with submissions open, builds its
release, and starts the server ``serve`` runs (Waitress with the limits of
:class:`anthology.serve.ServerLimits`, the form and the site) on a free
loopback port. Then, each for ``--seconds``:

1. ``--clients`` threads fetch ``/index.html`` as fast as they can: requests/s;
2. the same while 16 more threads post junk to ``/submit`` (no token), from
   one address, then each request from another (X-Forwarded-For, as a proxy on
   this machine would send): the static requests/s again, and what the posters
   were answered;
3. ``--slow`` connections trickle header lines (one every second, never
   finishing) while a probe fetches ``/index.html`` once a second: its answers
   and slowest time. The same scenario runs against Waitress with its default
   limits (100 connections) as the baseline, in the same run.

Loopback only; every phase is bounded in time and in connections.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import logging
import multiprocessing
import random
import shutil
import socket
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from waitress import create_server

from anthology.intake import IntakeApp, largest_post
from anthology.release import build_release
from anthology.serve import ServerLimits, make_server


def hammer(port: int, path: str, clients: int, seconds: float, method: str = "GET",
           body: bytes | None = None, spread: bool = False) -> tuple[float, Counter, float]:
    """Requests/s, the statuses answered and the slowest answer, for ``clients`` threads over ``seconds``."""
    stop = time.perf_counter() + seconds
    statuses: Counter = Counter()
    slowest = [0.0]
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.perf_counter() < stop:
            started = time.perf_counter()
            try:
                headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
                if spread:  # as if through a proxy on this machine, each request from another address
                    headers["X-Forwarded-For"] = f"10.{random.randrange(256)}.{random.randrange(256)}.1"
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException):
                status = "error"
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            with lock:
                statuses[status] += 1
                slowest[0] = max(slowest[0], time.perf_counter() - started)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(statuses.values()) / (time.perf_counter() - began), statuses, slowest[0]


def with_junk_posters(port: int, clients: int, seconds: float, spread: bool) -> tuple[float, Counter, Counter]:
    """Static requests/s while 16 threads post junk to the form."""
    junk: dict[str, Counter] = {}

    def post() -> None:
        junk["answers"] = hammer(port, "/submit", 16, seconds, "POST", b"name=x&body=" + b"j" * 50_000, spread)[1]

    poster = threading.Thread(target=post)
    poster.start()
    rate, statuses, _ = hammer(port, "/index.html", clients, seconds)
    poster.join()
    return rate, statuses, junk["answers"]


def slow_probe(port: int, slow: int, seconds: float) -> tuple[int, Counter, float]:
    """Open ``slow`` connections that never finish their headers; probe once a second meanwhile."""
    sockets = []
    for _ in range(slow):
        try:
            connection = socket.create_connection(("127.0.0.1", port), timeout=2)
            connection.sendall(b"GET /index.html HTTP/1.1\r\nHost: load\r\n")
            sockets.append(connection)
        except OSError:
            break
    answers: Counter = Counter()
    slowest = 0.0
    stop = time.perf_counter() + seconds
    try:
        while time.perf_counter() < stop:
            for connection in sockets:
                with contextlib.suppress(OSError):
                    connection.sendall(b"X-Slow: 1\r\n")
            started = time.perf_counter()
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
                probe.request("GET", "/index.html")
                response = probe.getresponse()
                response.read()
                answers[response.status] += 1
                probe.close()
            except (OSError, http.client.HTTPException):
                answers["timeout"] += 1
            slowest = max(slowest, time.perf_counter() - started)
            time.sleep(max(0.0, 1 - (time.perf_counter() - started)))
    finally:
        for connection in sockets:
            connection.close()
    return len(sockets), answers, slowest


def _serve_in_child(root: Path, site: Path, defaults: bool) -> tuple[multiprocessing.Process, int]:
    """The server in its own process, so the load threads here never compete with it for the GIL."""
    context = multiprocessing.get_context("fork")
    ports = context.Queue()

    def run() -> None:
        logging.getLogger("waitress").setLevel(logging.CRITICAL)
        app = IntakeApp(root, site)
        server = (create_server(app, host="127.0.0.1", port=0, threads=8) if defaults  # Waitress's own limits
                  else make_server(app, "127.0.0.1", 0, largest_post(root), ServerLimits()))
        ports.put(server.effective_port)
        server.run()

    child = context.Process(target=run, daemon=True)
    child.start()
    return child, ports.get(timeout=30)


def _shown(counter: Counter) -> str:
    return ", ".join(f"{count} × {status}" for status, count in sorted(counter.items(), key=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("project", nargs="?", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--slow", type=int, default=200)
    options = parser.parse_args()
    logging.getLogger("waitress").setLevel(logging.CRITICAL)  # a deep queue and dropped sockets are the point
    work = Path(tempfile.mkdtemp(prefix="anthology-load-"))
    try:
        root = work / "project"
        shutil.copytree(options.project, root, ignore=shutil.ignore_patterns(".*", "dist", "__pycache__", "tests"))
        config = root / "anthology.yaml"
        config.write_text(config.read_text(encoding="utf-8") + "\nsubmissions:\n  open: true\n", encoding="utf-8")
        release = build_release(root, work / "site", book_output=work / "book.pdf")
        server, port = _serve_in_child(root, release.folder, defaults=False)
        rate, statuses, slowest = hammer(port, "/index.html", options.clients, options.seconds)
        print(f"static alone       {options.clients} clients: {rate:7.0f} requests/s, slowest {slowest * 1000:.0f} ms "
              f"({_shown(statuses)})")
        for spread, label in ((False, "one address"), (True, "many addresses")):
            busy, statuses, junk = with_junk_posters(port, options.clients, options.seconds, spread)
            print(f"with 16 junk posters from {label}: {busy:7.0f} requests/s = {busy / rate:.2f} × alone "
                  f"({_shown(statuses)}); the posters got {_shown(junk)}")
        time.sleep(1)
        opened, answers, slowest = slow_probe(port, options.slow, options.seconds)
        print(f"{opened} slow connections, serve's limits: probe answers {_shown(answers)}, "
              f"slowest {slowest * 1000:.0f} ms")
        server.terminate()
        baseline, port = _serve_in_child(root, release.folder, defaults=True)
        opened, answers, slowest = slow_probe(port, options.slow, options.seconds)
        print(f"{opened} slow connections, Waitress defaults (baseline): probe answers {_shown(answers)}, "
              f"slowest {slowest * 1000:.0f} ms")
        baseline.terminate()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
