"""Benchmark: the total-fit line breaker against ReportLab's own first-fit breaking, same run.

    python bench/linebreak.py [--entries 60] [--seed 11] [--kit ../shared/bench] [--work /tmp/anthology-bench]

Lays out every entry of a generated corpus in this process, serially, twice:
``reportlab`` with the body styles as they were before total-fit breaking
(ReportLab breaks lines itself, hyphenating with pyphen, no shaping) and
``total-fit`` as the book is built now (HarfBuzz-shaped widths, Knuth–Plass
breaks). Prints the layout time of each and the time spent in
``Paragraph.breakLines`` (which for total-fit includes measuring, shaping,
hyphenating and breaking), with the ratio of the two. Timing is never
asserted by the tests.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

from reportlab.platypus import Paragraph

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from anthology.build import check_project  # noqa: E402
from anthology.layout import styles as styles_module  # noqa: E402
from anthology.layout.entry import layout_entry  # noqa: E402


def first_fit_styles(layout, language="en"):  # type: ignore[no-untyped-def]
    """The styles as they were: ReportLab breaks and hyphenates, spaces shrink 5 %."""
    built = original_build_styles(layout, language)
    language_patterns = built.text.setting.language
    for style in (built.text, built.first, built.quote, built.list_item, built.bio):
        style.setting = None
        style.hyphenationLang = language_patterns if style is not built.bio else ""
        style.embeddedHyphenation = 1
        style.uriWasteReduce = 0.3
        style.spaceShrinkage = 0.05
    return built


original_build_styles = styles_module.build_styles


def lay_out_all(entries, layout, language) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(seconds laying out, seconds inside breakLines) for every entry, serially."""
    spent = [0.0]
    original = Paragraph.breakLines

    def timed(self, width):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return original(self, width)
        finally:
            spent[0] += time.perf_counter() - start

    inner = [0]

    def outermost(self, width):  # type: ignore[no-untyped-def]
        # SetParagraph.breakLines calls ReportLab's: count only the outermost call
        inner[0] += 1
        try:
            return timed(self, width) if inner[0] == 1 else original(self, width)
        finally:
            inner[0] -= 1

    from anthology.layout.setting import SetParagraph

    own = SetParagraph.breakLines

    def own_timed(self, width):  # type: ignore[no-untyped-def]
        inner[0] += 1
        start = time.perf_counter()
        try:
            return own(self, width)
        finally:
            inner[0] -= 1
            if inner[0] == 0:
                spent[0] += time.perf_counter() - start

    with mock.patch.object(Paragraph, "breakLines", outermost), \
            mock.patch.object(SetParagraph, "breakLines", own_timed):
        start = time.perf_counter()
        for entry in entries:
            layout_entry(entry, layout, language)
        return time.perf_counter() - start, spent[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=60)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--kit", type=Path, default=REPO.parent / "shared" / "bench")
    parser.add_argument("--work", type=Path, default=Path("/tmp/anthology-bench"))
    args = parser.parse_args()
    corpus = args.work / f"linebreak-{args.entries}-{args.seed}"
    if not corpus.exists():
        subprocess.run([sys.executable, str(args.kit / "gen_corpus.py"), str(corpus), "-n", str(args.entries),
                        "--seed", str(args.seed), "--formats", "md"], check=True, stdout=subprocess.DEVNULL)
    checked, report = check_project(corpus)
    if report.errors or checked is None:
        raise SystemExit("the generated corpus does not check")
    entries, layout, language = checked.entries, checked.project.layout, checked.project.book.language
    lay_out_all(entries[:3], layout, language)  # fonts registered, patterns loaded
    rows = []
    for name, builder in (("reportlab", first_fit_styles), ("total-fit", original_build_styles)):
        with mock.patch("anthology.layout.entry.build_styles", builder):
            rows.append((name, *lay_out_all(entries, layout, language)))
    base_layout, base_break = rows[0][1], rows[0][2]
    print(f"{len(entries)} entries, seed {args.seed}, serial, one process\n")
    print("| breaking | layout s | breakLines s | breakLines / layout | layout vs ReportLab "
          "| breakLines vs ReportLab |")
    print("|---|---|---|---|---|---|")
    for name, layout_s, break_s in rows:
        print(f"| {name} | {layout_s:.2f} | {break_s:.2f} | {break_s / layout_s:.0%} | "
              f"{layout_s / base_layout:.2f}× | {break_s / base_break:.2f}× |")


if __name__ == "__main__":
    main()
