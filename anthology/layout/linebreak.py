"""Total-fit line breaking: Knuth and Plass, "Breaking Paragraphs into Lines" (1981).

A paragraph is a list of boxes (things of fixed width), glue (space that may
stretch and shrink) and penalties (places to break, with a cost, and the width
of what a break there adds, such as a hyphen). The breaker picks the breaks
that minimise the sum of the demerits of all lines at once, so a loose line
early on can be avoided by a choice several lines later: what greedy first-fit
breaking cannot do. Nothing here knows about fonts or ReportLab; widths are
plain numbers, which keeps the algorithm testable against brute force.

The scan keeps one "active node" per feasible break that could still start a
line; each new breakpoint is compared with those nodes only, and a node is
dropped as soon as the text after it no longer fits on one line, so the cost
is linear in the paragraph's length times the (small) number of breaks that
fit on a line.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

INFINITY = 10_000
"""A penalty of at least this forbids a break; of at most minus this forces one."""

FILL = 1e9
"""Stretch of the glue that ends a paragraph (TeX's ``\\parfillskip``): the last line may be short."""


@dataclass(frozen=True, slots=True)
class Box:
    width: float


@dataclass(frozen=True, slots=True)
class Glue:
    width: float
    stretch: float
    shrink: float


@dataclass(frozen=True, slots=True)
class Penalty:
    width: float
    cost: float
    flagged: bool = False
    """A hyphen: two flagged breaks in a row cost ``double_hyphen`` demerits."""


Item = Box | Glue | Penalty


@dataclass(frozen=True, slots=True)
class Tuning:
    """How hard the breaker tries, with TeX's plain defaults where TeX has one.

    ``tolerance`` is the worst badness (100·ratio³) a line may have; ``emergency_stretch``
    is extra stretch per line granted only when no breaking within the tolerance exists;
    ``background_stretch`` is stretch every line has anyway (ragged right sets it).
    """

    pretolerance: float = 100
    """The first pass, without hyphenating, accepts lines up to this badness (negative: no such pass)."""
    tolerance: float = 200
    line_penalty: float = 10
    double_hyphen: float = 10_000
    final_hyphen: float = 5_000
    adjacent: float = 10_000
    emergency_stretch: float = 0
    background_stretch: float = 0
    max_hyphen_run: int = 2
    """Lines ending in a hyphen in a row at most; more only if nothing else fits."""
    justify_last: bool = False
    """The paragraph continues elsewhere, so its last line is set full width like the others."""


class _Node:
    __slots__ = ("demerits", "fitness", "flagged", "line", "position", "previous", "ratio", "run",
                 "shrink", "stretch", "width")

    def __init__(self, position: int, line: int, fitness: int, width: float, stretch: float, shrink: float,
                 demerits: float, previous: _Node | None, flagged: bool, run: int, ratio: float) -> None:
        self.position, self.line, self.fitness = position, line, fitness
        self.width, self.stretch, self.shrink = width, stretch, shrink
        self.demerits, self.previous, self.flagged, self.run, self.ratio = demerits, previous, flagged, run, ratio


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the result: items ``[start, end)`` and how its glue is set (−1 … +∞)."""

    start: int
    end: int
    ratio: float


def break_lines(items: Sequence[Item], widths: Sequence[float], tuning: Tuning = Tuning(),
                *, no_hyphen_after_line: int | None = None) -> list[Line]:
    """The best breaks of ``items`` into lines ``widths[0]``, ``widths[1]``, … (the last width repeats).

    ``items`` must end with a forced break (see :func:`finish`). Tries, like TeX, the
    pretolerance without hyphenating first, then the tolerance, then with
    ``emergency_stretch``, then with any stretch at all, so
    it always returns lines and never makes one longer than its width while any
    breaking without that exists. ``no_hyphen_after_line`` (0-based) forbids a hyphen
    at the end of that line: the last line of a page.
    """
    passes = [(tuning.pretolerance, 0.0, False), (tuning.tolerance, 0.0, True)]
    if tuning.emergency_stretch:
        passes.append((tuning.tolerance, tuning.emergency_stretch, True))
    breakpoints, sums, after = _prepare(items)
    for tolerance, emergency, hyphenate in passes:
        if tolerance >= 0:
            found = _scan(items, breakpoints, sums, after, widths, tuning, tolerance, emergency, no_hyphen_after_line,
                          hyphenate=hyphenate, final=False)
            if found is not None:
                return found
    found = _scan(items, breakpoints, sums, after, widths, tuning, float("inf"), tuning.emergency_stretch,
                  no_hyphen_after_line, hyphenate=True, final=True)
    if found is not None:
        return found
    raise AssertionError("the final pass always finds a breaking")  # pragma: no cover


def finish(items: list[Item]) -> list[Item]:
    """``items`` closed as a paragraph: trailing glue dropped, then fill glue and a forced break."""
    while items and isinstance(items[-1], Glue):
        items.pop()
    items.append(Penalty(0, INFINITY))
    items.append(Glue(0, FILL, 0))
    items.append(Penalty(0, -INFINITY))
    return items


def _fitness(ratio: float) -> int:
    """TeX's classes: 0 very loose, 1 loose, 2 decent, 3 tight."""
    if ratio < -0.5:
        return 3
    if ratio <= 0.5:
        return 2
    if ratio <= 1:
        return 1
    return 0


def _scan(items: Sequence[Item], breakpoints: Sequence[tuple[int, float, float, bool]],
          sums: tuple[list[float], list[float], list[float]], after: Sequence[int],
          widths: Sequence[float], tuning: Tuning, tolerance: float,
          emergency: float, no_hyphen_after_line: int | None, *, hyphenate: bool, final: bool
          ) -> list[Line] | None:
    """One pass; None when no breaking keeps every line within ``tolerance``."""
    count = len(items)
    sum_w, sum_y, sum_z = sums
    # lines from this index on have the same width and rules, so nodes there are interchangeable
    same_from = max(len(widths) - 1, 0 if no_hyphen_after_line is None else no_hyphen_after_line + 1)
    background = tuning.background_stretch + emergency
    worst = (tolerance / 100) ** (1 / 3)
    # the active nodes are kept in order of position, so a line from a later node is shorter and has less
    # stretch; once one is too loose, all later ones are (when the lines after the first have one width)
    ordered = len(set(widths[1:])) <= 1
    last_width = len(widths) - 1
    active: dict[tuple[int, int, int, int], _Node] = {(0, 2, 0, 0): _Node(0, 0, 2, 0, 0, 0, 0, None, False, 0, 0)}
    for b, penalty_width, cost, flagged in breakpoints:
        if flagged and penalty_width and not hyphenate:
            continue
        forced = cost <= -INFINITY
        is_last = b == count - 1
        if ordered and not forced:  # most breakpoints come before any line could end: one node tells
            first = next(iter(active.values()))
            if first.line >= last_width:
                short = widths[-1] - (sum_w[b] - first.width + penalty_width)
                stretch = sum_y[b] - first.stretch + background
                if is_last and tuning.justify_last:
                    stretch -= FILL
                if short > 0 and (short / stretch if stretch > 0 else float("inf")) > worst:
                    continue
        best: dict[tuple[int, int, int], tuple[float, _Node, float]] = {}
        dropped: _Node | None = None
        for key, node in list(active.items()):
            line = node.line
            target = widths[min(line, len(widths) - 1)]
            natural = sum_w[b] - node.width + penalty_width
            stretch = sum_y[b] - node.stretch + background
            if is_last and tuning.justify_last:
                stretch -= FILL
            if natural < target:
                ratio = (target - natural) / stretch if stretch > 0 else float("inf")
            elif natural > target:
                shrink = sum_z[b] - node.shrink
                ratio = (target - natural) / shrink if shrink > 0 else -2.0
            else:
                ratio = 0.0
            if ratio < -1 or forced:
                del active[key]  # a line from here only gets longer
                if ratio < -1:
                    if dropped is None or node.demerits < dropped.demerits:
                        dropped = node
                    continue
            if ratio > worst:
                if ordered and line >= last_width and not forced:
                    break
                continue
            if flagged and ((node.run >= tuning.max_hyphen_run and not final)
                            or line == no_hyphen_after_line):
                continue
            badness = min(100 * ratio ** 3 if ratio > 0 else -100 * ratio ** 3, 1e8)
            demerits = (tuning.line_penalty + badness) ** 2
            if cost > 0:
                demerits += cost * cost
            elif not forced:
                demerits -= cost * cost
            if flagged and node.flagged:
                demerits += tuning.double_hyphen + (1e12 if node.run >= tuning.max_hyphen_run else 0)
            if is_last and node.flagged:
                demerits += tuning.final_hyphen
            fitness = _fitness(ratio)
            if abs(fitness - node.fitness) > 1:
                demerits += tuning.adjacent
            demerits += node.demerits
            run = node.run + 1 if flagged else 0
            new_key = (fitness, min(line + 1, same_from), min(run, tuning.max_hyphen_run))
            held = best.get(new_key)
            if held is None or demerits < held[0]:
                best[new_key] = (demerits, node, ratio)
        start = after[b]
        for (fitness, line_class, run_class), (demerits, node, ratio) in best.items():
            key = (b, fitness, line_class, run_class)
            old = active.get(key)
            if old is None or demerits < old.demerits:
                active[key] = _Node(b, node.line + 1, fitness, sum_w[start], sum_y[start], sum_z[start],
                                    demerits, node, flagged, node.run + 1 if flagged else 0, ratio)
        if not active:
            if not final or dropped is None:
                return None
            # nothing fits at all (a box wider than the line): the overfull line ends here
            active[(b, 2, min(dropped.line + 1, same_from), 0)] = _Node(
                b, dropped.line + 1, 2, sum_w[start], sum_y[start], sum_z[start], dropped.demerits + 1e12,
                dropped, flagged, 0, -1.0)
    ends = [node for node in active.values() if node.position == count - 1]
    if not ends:
        return None
    return _lines(min(ends, key=lambda node: node.demerits), after)


def _prepare(items: Sequence[Item]) -> tuple[list[tuple[int, float, float, bool]],
                                             tuple[list[float], list[float], list[float]], list[int]]:
    """One pass over the items: where a line may end, the running sums, and where lines start.

    A line may end at a glue after a box, or at a penalty: (index, width added there, cost, flagged).
    The sums are the width, stretch and shrink of everything before each index. The line after a
    break at i starts past the glue and penalties that vanish at a break.
    """
    found = []
    sum_w, sum_y, sum_z = [0.0], [0.0], [0.0]
    boxes = []
    w = y = z = 0.0
    previous_is_box = False
    for b, item in enumerate(items):
        kind = type(item)
        if kind is Box:
            w += item.width
            boxes.append(b)
            previous_is_box = True
        else:
            if kind is Glue:
                if previous_is_box:
                    found.append((b, 0.0, 0.0, False))
                w += item.width
                y += item.stretch
                z += item.shrink
            elif item.cost < INFINITY:
                found.append((b, item.width, item.cost, item.flagged))
                if item.cost <= -INFINITY:
                    boxes.append(b)
            previous_is_box = False
        sum_w.append(w)
        sum_y.append(y)
        sum_z.append(z)
    count = len(items)
    after = [count] * (count + 1)
    start = 0
    for b in boxes:
        after[start:b] = itertools.repeat(b, b - start)
        start = b
    after[start:count] = itertools.repeat(count, count - start)
    return found, (sum_w, sum_y, sum_z), after


def _lines(node: _Node, after: Sequence[int]) -> list[Line]:
    chain: list[_Node] = []
    current: _Node | None = node
    while current is not None and current.previous is not None:
        chain.append(current)
        current = current.previous
    chain.reverse()
    lines = []
    start = 0
    for node in chain:
        lines.append(Line(start, node.position, node.ratio))
        start = after[node.position]
    return lines
