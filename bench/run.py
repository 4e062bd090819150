"""Benchmark: cold, warm and no-change builds of generated corpora against the ReportLab floor.

    python bench/run.py [--sizes 20,100,500,2000] [--kit ../shared/bench] [--work /tmp/anthology-bench]

For each size the shared kit's ``gen_corpus.py`` writes a corpus in our input
format; then, in this run and on this machine:

- ``floor``: the kit's ``peers/floor_reportlab.py`` (ReportLab drawString, no layout);
- ``cold``: a full build with an empty cache;
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
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
    "print(json.dumps({'seconds': seconds, 'peak_mb': peak, 'code': done.returncode,"
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
    head = ("| entries | pages | floor s | cold s | cold / floor | per page | edit s | edit / cold "
            "| grow s | grow / cold | same s | peak MB (cold) | PDF MB |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        cold = r["cold"]["seconds"]
        lines.append(
            f"| {r['entries']} | {r['pages']} | {r['floor']['seconds']:.2f} | {cold:.2f} "
            f"| {cold / r['floor']['seconds']:.2f}× | {cold / r['pages'] * 1000:.1f} ms | {r['edit']['seconds']:.2f} "
            f"| {r['edit']['seconds'] / cold:.2f} | {r['grow']['seconds']:.2f} | {r['grow']['seconds'] / cold:.2f} "
            f"| {r['same']['seconds']:.2f} | {r['cold']['peak_mb']:.0f} | {r['pdf_mb']:.2f} |")
    return "\n".join(lines)


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
    rows = [bench_size(int(size), options.kit, options.work) for size in options.sizes.split(",")]
    print(f"Measured {started} on {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} "
          f"cores, Python {sys.version.split()[0]}.\n")
    print(table(rows))


if __name__ == "__main__":
    main()
