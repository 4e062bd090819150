"""A short, bounded load check of ``serve`` on loopback: requests per second with concurrent clients.

    python bench/load.py [PROJECT] [--clients 50] [--seconds 5]

Builds the project's release, starts the same server ``serve`` runs (Waitress,
8 threads) on a free loopback port, and has ``--clients`` threads fetch the
landing page, then the book PDF, as fast as they can for ``--seconds`` each.
Prints requests/s, megabytes/s and the slowest response. Loopback only.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import threading
import time
from pathlib import Path

from waitress import create_server

from anthology.release import build_release
from anthology.serve import SiteApp


def hammer(port: int, path: str, clients: int, seconds: float) -> dict[str, float]:
    stop = time.perf_counter() + seconds
    counts, volumes, slowest, errors = [0] * clients, [0] * clients, [0.0] * clients, [0] * clients

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() < stop:
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                volumes[number] += len(response.read())
                if response.status != 200:
                    errors[number] += 1
            except (OSError, http.client.HTTPException):
                errors[number] += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            counts[number] += 1
            slowest[number] = max(slowest[number], time.perf_counter() - started)
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return {"requests_per_s": sum(counts) / elapsed, "mb_per_s": sum(volumes) / elapsed / 1e6,
            "slowest_s": max(slowest), "errors": sum(errors), "requests": sum(counts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("project", nargs="?", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5)
    options = parser.parse_args()
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # a deep queue is the point here
    release = build_release(options.project)
    server = create_server(SiteApp(release.folder), host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    try:
        for label, path in (("landing page", "/"), ("book PDF", f"/{release.pdf.name}")):
            figures = hammer(server.effective_port, path, options.clients, options.seconds)
            print(f"{label:12} {options.clients} clients: {figures['requests_per_s']:7.0f} requests/s, "
                  f"{figures['mb_per_s']:6.1f} MB/s, slowest {figures['slowest_s'] * 1000:.0f} ms, "
                  f"{figures['errors']} errors in {figures['requests']} requests")
    finally:
        server.close()


if __name__ == "__main__":
    main()
