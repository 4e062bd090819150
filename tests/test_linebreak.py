"""layout.linebreak: total-fit breaking is optimal, feasible and never overfull.

The oracle is an independent brute force: it tries every subset of the legal
breakpoints of a small paragraph, scores each breaking with Knuth and Plass's
demerits (written out again here from the paper), and keeps the cheapest.
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from anthology.layout.linebreak import INFINITY, Box, Glue, Penalty, Tuning, break_lines, finish

SPACE = Glue(3.0, 1.5, 1.0)


def paragraph(words: list[float], hyphens: dict[int, float] | None = None) -> list:
    """Boxes of the given widths separated by spaces; ``hyphens`` cuts word i in two halves."""
    items: list = []
    for index, width in enumerate(words):
        if hyphens and index in hyphens:
            items += [Box(width / 2), Penalty(hyphens[index], 50, flagged=True), Box(width / 2)]
        else:
            items.append(Box(width))
        items.append(SPACE)
    return finish(items)


def _legal(items: list) -> list[int]:
    return [i for i, item in enumerate(items)
            if (isinstance(item, Penalty) and item.cost < INFINITY)
            or (isinstance(item, Glue) and i and isinstance(items[i - 1], Box))]


def _fitness(ratio: float) -> int:
    return 3 if ratio < -0.5 else 2 if ratio <= 0.5 else 1 if ratio <= 1 else 0


def _score(items: list, breaks: tuple[int, ...], widths: list[float], tuning: Tuning) -> float | None:
    """Total demerits of breaking at ``breaks``, or None if a line is infeasible."""
    total, start, previous_fitness, previous_flagged, run = 0.0, 0, 2, False, 0
    for line, end in enumerate(breaks):
        target = widths[min(line, len(widths) - 1)]
        width = stretch = shrink = 0.0
        for item in items[start:end]:
            if isinstance(item, (Box, Glue)):
                width += item.width
            if isinstance(item, Glue):
                stretch += item.stretch
                shrink += item.shrink
        penalty = items[end]
        if isinstance(penalty, Penalty):
            width += penalty.width
        if width < target:
            ratio = (target - width) / stretch if stretch else float("inf")
        elif width > target:
            ratio = (target - width) / shrink if shrink else float("-inf")
        else:
            ratio = 0.0
        if ratio < -1 or ratio > (tuning.tolerance / 100) ** (1 / 3):
            return None
        flagged = isinstance(penalty, Penalty) and penalty.flagged
        run = run + 1 if flagged else 0
        if run > tuning.max_hyphen_run:
            return None
        cost = penalty.cost if isinstance(penalty, Penalty) else 0
        demerits = (tuning.line_penalty + 100 * abs(ratio) ** 3) ** 2
        if cost > 0:
            demerits += cost ** 2
        elif cost > -INFINITY:
            demerits -= cost ** 2
        if flagged and previous_flagged:
            demerits += tuning.double_hyphen
        if end == len(items) - 1 and previous_flagged:
            demerits += tuning.final_hyphen
        if abs(_fitness(ratio) - previous_fitness) > 1:
            demerits += tuning.adjacent
        total += demerits
        previous_fitness, previous_flagged = _fitness(ratio), flagged
        start = end + 1
        while start < len(items) and not isinstance(items[start], Box) and not (
                isinstance(items[start], Penalty) and items[start].cost <= -INFINITY):
            start += 1
    return total


def brute_force(items: list, widths: list[float], tuning: Tuning) -> float | None:
    legal = _legal(items)[:-1]
    best = None
    for size in range(len(legal) + 1):
        for chosen in itertools.combinations(legal, size):
            score = _score(items, (*chosen, len(items) - 1), widths, tuning)
            if score is not None and (best is None or score < best):
                best = score
    return best


WITHIN_TOLERANCE = Tuning(pretolerance=-1, emergency_stretch=0)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(4, 40), min_size=2, max_size=11),
       st.dictionaries(st.integers(0, 10), st.floats(1, 4), max_size=3),
       st.floats(40, 90))
def test_the_breaking_is_the_cheapest_of_all_possible_ones(words, hyphens, width):
    items = paragraph(words, hyphens)
    best = brute_force(items, [width], WITHIN_TOLERANCE)
    lines = break_lines(items, [width], WITHIN_TOLERANCE)
    if best is None:
        return  # nothing within the tolerance: the fallback passes are tested below
    ends = tuple(line.end for line in lines)
    assert _score(items, ends, [width], WITHIN_TOLERANCE) is not None
    assert abs(_score(items, ends, [width], WITHIN_TOLERANCE) - best) <= 1e-6 * max(1, best)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(1, 60), min_size=1, max_size=40), st.floats(61, 120))
def test_no_line_is_ever_longer_than_its_width_when_every_word_fits(words, width):
    items = paragraph(words)
    lines = break_lines(items, [width], Tuning())
    assert lines[-1].end == len(items) - 1
    for line in lines:
        natural = sum(i.width for i in items[line.start:line.end] if isinstance(i, (Box, Glue)))
        shrink = sum(i.shrink for i in items[line.start:line.end] if isinstance(i, Glue))
        assert natural - shrink <= width + 1e-6
        assert line.ratio >= -1 - 1e-9
    # every box is in exactly one line, in order
    boxes = [i for line in lines for i in range(line.start, line.end) if isinstance(items[i], Box)]
    assert boxes == [i for i, item in enumerate(items) if isinstance(item, Box)]


def test_total_fit_avoids_the_loose_line_first_fit_makes():
    # first fit puts "aaaa bbbb" on line one and leaves line two very loose;
    # total fit moves a word down so both lines are set alike
    words = [20, 20, 20, 20, 20, 5, 20, 20]
    items = paragraph(words)
    width = 115.0
    lines = break_lines(items, [width], Tuning(pretolerance=-1))
    assert max(line.ratio for line in lines[:-1]) <= 1


def test_a_word_wider_than_the_line_still_yields_lines():
    items = finish([Box(10), SPACE, Box(500), SPACE, Box(10)])
    lines = break_lines(items, [100.0], Tuning())
    assert lines[-1].end == len(items) - 1
    assert len(lines) >= 2


def test_consecutive_hyphens_are_limited_and_a_page_may_not_end_on_one():
    words = [18.0] * 30
    hyphens = {i: 2.0 for i in range(30)}
    items = paragraph(words, hyphens)
    tuning = Tuning(pretolerance=-1, tolerance=10_000)
    lines = break_lines(items, [72.0], tuning)
    flagged = [isinstance(items[line.end], Penalty) and items[line.end].flagged for line in lines]
    assert not any(all(flagged[i:i + 3]) for i in range(len(flagged) - 2))
    hyphen_lines = [i for i, f in enumerate(flagged) if f]
    assert hyphen_lines, "the example must hyphenate somewhere"
    page_end = hyphen_lines[0]
    again = break_lines(items, [72.0], tuning, no_hyphen_after_line=page_end)
    end = again[page_end].end
    assert not (isinstance(items[end], Penalty) and items[end].flagged)


def test_the_first_line_may_have_its_own_width():
    items = paragraph([20.0] * 12)
    lines = break_lines(items, [50.0, 100.0], Tuning())
    first = sum(i.width for i in items[lines[0].start:lines[0].end] if isinstance(i, (Box, Glue)))
    assert first < 70

