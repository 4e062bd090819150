"""Benchmark: cold, warm and no-change builds of generated corpora against the ReportLab floor.

    python bench/run.py [--sizes 20,100,500,2000] [--kit ../shared/bench] [--work /tmp/anthology-bench]

For each size the shared kit's ``gen_corpus.py`` writes a corpus in our input
format; then, in this run and on this machine:

- ``floor``: the kit's ``peers/floor_reportlab.py`` (ReportLab drawString, no layout);
- ``cold``: a full build with an empty cache (one worker per core);
- ``cold -j1``: the same in one process;
- ``edit``: a rebuild after changing one word of one entry (same page count);
- ``grow``: a rebuild after adding a paragraph to one entry (its page count changes);
- ``same``: a rebuild with nothing changed.

Times are wall-clock seconds of a fresh process each; memory is the peak
resident size of the largest process (the build or one of its workers).
Figures are printed as a Markdown table; ratios are to the floor (cold) and
to the cold build (the rebuilds). Timing is never asserted by the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from pypdf import PdfReader

REPO = Path(__file__).resolve().parent.parent
MEASURE = (
    "import json, resource, subprocess, sys, time\n"
    "started = time.perf_counter()\n"
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
    "seconds = time.perf_counter() - started\n"
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "peak, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime\n"
    "print(json.dumps({'seconds': seconds, 'cpu': cpu, 'peak_mb': peak, 'code': done.returncode,"
    " 'stderr': done.stderr.decode()[-2000:]}))\n"
)


def measure(command: list[str]) -> dict:
    """Run ``command`` in a fresh process; its time and the peak memory of it and its children."""
    out = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    if result["code"] != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result['stderr']}")
    return result


def edit_one_entry(corpus: Path, grow: bool) -> None:
    bodies = sorted((corpus / "contributions").glob("*.md"))
    body = bodies[len(bodies) // 2]
    text = body.read_text(encoding="utf-8")
    if grow:
        text += "\n\n" + " ".join(["A paragraph added to see what a longer entry costs."] * 40) + "\n"
    else:
        text = text.replace(" the ", " this ", 1)
    body.write_text(text, encoding="utf-8")


def bench_size(size: int, kit: Path, work: Path) -> dict:
    corpus = work / f"corpus-{size}"
    shutil.rmtree(corpus, ignore_errors=True)
    subprocess.run([sys.executable, str(kit / "gen_corpus.py"), str(corpus), "-n", str(size)],
                   check=True, capture_output=True)
    output = work / f"book-{size}.pdf"
    build = [sys.executable, str(REPO / "compile.py"), "build", str(corpus), "-o", str(output), "-q"]
    row = {"entries": size}
    row["floor"] = measure([sys.executable, str(kit / "peers" / "floor_reportlab.py"), str(corpus),
                            str(work / f"floor-{size}.pdf")])
    shutil.rmtree(corpus / ".anthology-cache", ignore_errors=True)
    row["cold_j1"] = measure([*build, "-j", "1"])
    shutil.rmtree(corpus / ".anthology-cache", ignore_errors=True)
    row["cold"] = measure(build)
    row["pages"] = len(PdfReader(str(output)).pages)
    row["pdf_mb"] = output.stat().st_size / 1e6
    edit_one_entry(corpus, grow=False)
    row["edit"] = measure(build)
    edit_one_entry(corpus, grow=True)
    row["grow"] = measure(build)
    row["same"] = measure(build)
    return row


def table(rows: list[dict]) -> str:
    head = ("| entries | pages | floor s | cold s | cold / floor | cold -j1 s | -j1 / floor | edit s | edit / cold "
            "| grow s | grow / cold | same s | peak MB cold | peak MB edit | PDF MB |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        cold, floor, j1 = r["cold"]["seconds"], r["floor"]["seconds"], r["cold_j1"]["seconds"]
        lines.append(
            f"| {r['entries']} | {r['pages']} | {floor:.2f} | {cold:.2f} | {cold / floor:.2f}× | {j1:.2f} "
            f"| {j1 / floor:.2f}× | {r['edit']['seconds']:.2f} | {r['edit']['seconds'] / cold:.2f} "
            f"| {r['grow']['seconds']:.2f} | {r['grow']['seconds'] / cold:.2f} | {r['same']['seconds']:.2f} "
            f"| {max(r['cold']['peak_mb'], r['cold_j1']['peak_mb']):.0f} | {r['edit']['peak_mb']:.0f} "
            f"| {r['pdf_mb']:.2f} |")
    return "\n".join(lines)


def cpu_table(rows: list[dict]) -> str:
    """The same runs in CPU seconds (every process, user + system): steadier than wall time on a shared machine."""
    head = ("| entries | floor | cold | cold / floor | cold -j1 | -j1 / floor | edit | edit / cold -j1 "
            "| grow | grow / cold -j1 | same |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        floor, cold, j1 = r["floor"]["cpu"], r["cold"]["cpu"], r["cold_j1"]["cpu"]
        lines.append(f"| {r['entries']} | {floor:.2f} | {cold:.2f} | {cold / floor:.2f}× | {j1:.2f} "
                     f"| {j1 / floor:.2f}× | {r['edit']['cpu']:.2f} | {r['edit']['cpu'] / j1:.2f} "
                     f"| {r['grow']['cpu']:.2f} | {r['grow']['cpu'] / j1:.2f} | {r['same']['cpu']:.2f} |")
    return "\n".join(lines)


def _load() -> str:
    """The 1, 5 and 15 minute load averages: how shared the machine was while measuring."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="20,100,500,2000")
    parser.add_argument("--kit", type=Path, default=REPO.parent / "shared" / "bench",
                        help="the shared benchmark kit (gen_corpus.py, peers/)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/anthology-bench"))
    options = parser.parse_args()
    if not (options.kit / "gen_corpus.py").exists():
        raise SystemExit(f"no benchmark kit at {options.kit}; pass --kit")
    options.work.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_before = _load()
    rows = [bench_size(int(size), options.kit, options.work) for size in options.sizes.split(",")]
    print(f"Measured {started} on {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} "
          f"cores, Python {sys.version.split()[0]}; load average before: {load_before}, after: {_load()}.\n")
    print(table(rows))
    print("\nCPU seconds:\n")
    print(cpu_table(rows))


if __name__ == "__main__":
    main()
