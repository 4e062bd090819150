"""Paragraphs whose lines are chosen by the total-fit breaker and drawn by ReportLab.

ReportLab breaks lines first-fit and lets a space shrink only 5 %, which leaves
loose lines. :class:`SetParagraph` measures ReportLab's own words (shaped by
HarfBuzz, so kerning and ligatures are in the widths), turns them into boxes,
glue and hyphenation penalties for :mod:`.linebreak`, and hands ReportLab the
chosen lines as words separated by break marks: ReportLab's line loop then
only follows the marks, and draws, justifies, links and splits the lines as
it always does. The marks stay in the paragraph's fragments, so a paragraph
split across pages keeps its lines on both sides.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import pyphen

try:
    import uharfbuzz
except ImportError:  # pragma: no cover - a runtime dependency; without it text is set unkerned
    uharfbuzz = None
from reportlab.pdfbase.pdfmetrics import getAscentDescent, getFont, stringWidth
from reportlab.pdfbase.ttfonts import ShapeData, ShapedStr, _sdSimple
from reportlab.platypus import Paragraph as RLParagraph
from reportlab.platypus.paragraph import (
    _FK_BREAK,
    FragLine,
    ParaLines,
    _getFragWords,
    _HSFrag,
    _processed_frags,
    _SHYWord,
)

from .breaks import URL_SAFE, break_points
from .linebreak import FILL, INFINITY, Box, Glue, Item, Line, Penalty, Tuning, break_lines, finish

HYPHEN = "-"
SOFT_HYPHEN = "\u00ad"
JOINER = "\u200d"
ZERO_WIDTH_SPACE = "\u200b"
DASHES = "\u2013\u2014"
"""After these a word may break without adding anything (1990–|2000). Not after a hyphen:
a reader (PDFium) takes a hyphen that ends a line for a soft one and would join
"forty-|one" into "fortyone"."""


HYPHEN_PENALTY = 70
"""The cost of a hyphenation point, TeX's ``\\hyphenpenalty`` (50 in plain TeX): a little dearer, measured:
with space factors, 70 keeps the corpora under 15 % hyphenated lines at the same evenness."""

LAST_RESORT = 500
"""The cost of a break inside a web address or an over-long word after one of
:data:`~.breaks.URL_SAFE`; ten times it elsewhere."""
"""In a word wider than a line (a web address), a break after these costs a tenth of one elsewhere."""


@dataclass(frozen=True, slots=True)
class Setting:
    """How a style's paragraphs are broken: the glue of a space and the hyphenation language.

    ``stretch`` and ``shrink`` are fractions of the font's space; ragged right
    (``justify`` false) keeps spaces at their width and balances the line ends instead.
    """

    justify: bool = True
    stretch: float = 0.5
    shrink: float = 0.33
    space_factors: bool = True
    """A space after a sentence or clause stretches more (:data:`SPACE_FACTORS`)."""
    language: str = ""
    """pyphen's name of the hyphenation patterns, or empty for no hyphenation."""
    tolerance: float = 200
    emergency_em: float = 1.5
    """Extra stretch per line, in ems, granted only to paragraphs that cannot be set within the tolerance."""


def tuning_for(setting: Setting, font_size: float) -> Tuning:
    if setting.justify:
        return Tuning(tolerance=setting.tolerance, emergency_stretch=setting.emergency_em * font_size)
    # ragged right: the line ends vary by up to a few ems; hyphens only where a line would be very short
    return Tuning(pretolerance=-1, tolerance=setting.tolerance, background_stretch=3 * font_size,
                  emergency_stretch=setting.emergency_em * font_size, adjacent=0)


class _Piece(list):
    """A word cut at the end of a line; ``hyphen`` says whether a hyphen was added to it."""

    hyphen = False


class _Word(list):
    """A whole word not followed by a space, as drawn: a plain list cannot remember its soft hyphens."""


def _soft_hyphens(word: list) -> tuple[int, ...]:  # type: ignore[type-arg]
    """Where the contributor put soft hyphens (U+00AD) in ``word``, as character positions of its text.

    ReportLab's parser takes them out of the text and keeps their places on the strings
    (``_shyIndices``); once drawn, a word keeps them as ``kp_shy``, so breaking it again
    (another width, a page's last line) still uses them.
    """
    found = getattr(word, "kp_shy", None)
    if found is not None:
        return found
    if not isinstance(word, _SHYWord):
        return ()
    positions: list[int] = []
    seen = 0
    for frag, text in word[1:]:
        if hasattr(frag, "cbDefn"):
            continue
        positions += [seen + at for at in getattr(text, "_shyIndices", ())]
        seen += len(text)
    return tuple(at for at in positions if 0 < at < seen)


def _only_soft_hyphens(word: list) -> bool:  # type: ignore[type-arg]
    """Whether ``word`` was nothing but soft hyphens ("and \u00ad alone"): kept, it drew a second space."""
    return isinstance(word, _SHYWord) and not any(str(t) or hasattr(f, "cbDefn") for f, t in word[1:])


def _remember(word: list, shy: tuple[int, ...]) -> list:  # type: ignore[type-arg]
    if shy:
        word.kp_shy = shy  # type: ignore[attr-defined]
    return word


FEATURES = {"kern": True, "liga": True}
"""OpenType features applied: kerning and standard ligatures (ﬁ, ﬂ, ﬀ, ﬃ, ﬄ), as TeX sets them."""


@functools.lru_cache(maxsize=65536)
def _shaped(text: str, font_name: str, font_size: float) -> tuple[float, str]:
    """Width and drawable text of one run in one face, kerned and with ligatures where the face has them."""
    glyphs = _shaped_glyphs(text, font_name)
    if glyphs is None:
        return stringWidth(text, font_name, font_size), text
    return sum(g.x_advance for g in glyphs.__shapeData__) * font_size / 1000, glyphs


def _shaped_glyphs(text: str, font_name: str, *, force: bool = False) -> ShapedStr | None:
    """HarfBuzz's glyphs for ``text`` as ReportLab draws them, or None when shaping changes nothing
    (unless ``force``) or the face cannot be shaped."""
    found = _glyphs(text, font_name)
    return found[0] if found is not None and (found[1] or force) else None


@functools.lru_cache(maxsize=65536)
def _glyphs(text: str, font_name: str) -> tuple[ShapedStr, bool] | None:
    """HarfBuzz's glyphs for ``text`` as ReportLab draws them and whether shaping changed anything
    (kerning, a ligature, an invisible character dropped), or None when the face cannot be shaped.

    Memoised per word and face (positions do not depend on the size). Each glyph
    is named by the character the contributor typed when the font draws that
    character with it (ReportLab's own shaping names it by the first character
    mapped to the glyph, so ’ came back as the letter ʼ and "doesn’t" read as one
    word). A glyph the face cannot encode (a ligature without a character of its
    own) leaves the word unshaped, so nothing is ever drawn as a box.
    """
    font = getFont(font_name)
    if not text or uharfbuzz is None or not getattr(font, "shapable", False):
        return None
    face = font.face
    buffer = uharfbuzz.Buffer()
    buffer.cluster_level = uharfbuzz.BufferClusterLevel.MONOTONE_CHARACTERS
    # invisible characters (U+200B, U+200D, U+00AD) get no glyph: by default HarfBuzz draws a space glyph
    # for them, which reads back as a space and widens with every justified space (ReportLab's Tw)
    buffer.flags = uharfbuzz.BufferFlags.REMOVE_DEFAULT_IGNORABLES
    buffer.add_str(text)
    buffer.guess_segment_properties()
    uharfbuzz.shape(_harfbuzz_font(font_name), buffer, FEATURES)
    codes = getattr(font, "_codes", face.charToGlyph)
    scale = face._pdfScale
    chars, data, changed = [], [], False
    for info, position in zip(buffer.glyph_infos, buffer.glyph_positions, strict=True):
        typed = text[info.cluster]
        if face.charToGlyph.get(ord(typed)) == info.codepoint:
            char = typed
        else:
            named = face.glyphToChar.get(info.codepoint)
            if not named or named[0] not in codes:
                return None
            char, changed = chr(named[0]), True
        width = face.charWidths.get(ord(char), 0)
        advance = scale(position.x_advance)
        changed = changed or advance != width or position.x_offset != 0 or position.y_offset != 0
        chars.append(char)
        data.append(ShapeData(info.cluster, advance, scale(position.y_advance), scale(position.x_offset),
                              scale(position.y_offset), width))
    changed = changed or len(chars) != len(text)  # an invisible character removed
    return ShapedStr("".join(chars), shapeData=data), changed


@functools.cache
def _harfbuzz_font(font_name: str) -> uharfbuzz.Font:
    return uharfbuzz.Font(getFont(font_name).hbFace)


@functools.lru_cache(maxsize=8)
def _hyphenator(language: str) -> pyphen.Pyphen:
    return pyphen.Pyphen(lang=language, left=2, right=3)


@functools.lru_cache(maxsize=65536)
def _hyphen_points(language: str, word: str) -> tuple[int, ...]:
    """Where pyphen may hyphenate ``word``: only the letters between leading and trailing punctuation."""
    start = 0
    while start < len(word) and not word[start].isalpha():
        start += 1
    end = len(word)
    while end > start and not word[end - 1].isalpha():
        end -= 1
    core = word[start:end]
    if len(core) < 5 or not core.isalpha():
        return ()
    return tuple(start + p for p in _hyphenator(language).positions(core))


def _is_mark(word: list) -> bool:  # type: ignore[type-arg]
    return getattr(word[1][0], "kp_mark", False) if len(word) > 1 else False


def _is_break(word: list) -> bool:  # type: ignore[type-arg]
    return len(word) > 1 and getattr(word[1][0], "_fkind", None) == _FK_BREAK


def _cut(word: list, at: int) -> tuple[list, list]:  # type: ignore[type-arg]
    """The (frag, text) pairs of ``word`` before and after character ``at``."""
    head, tail, seen = [], [], 0
    for frag, text in word[1:]:
        text = str(text)
        if seen + len(text) <= at:
            head.append((frag, text))
        elif seen >= at:
            tail.append((frag, text))
        else:
            head.append((frag, text[:at - seen]))
            tail.append((frag, text[at - seen:]))
        seen += len(text)
    return head, tail


def _drawn(pairs: list, kind: type, trailing: float = 0.0) -> list:  # type: ignore[type-arg]
    """A ReportLab word from (frag, text) pairs: each run shaped in its own face, widths summed.

    ``trailing`` widens the advance of the word's last glyph: the extra a sentence gap
    after it gets over an ordinary gap of its line (see :data:`SPACE_FACTORS`).
    """
    width = 0.0
    runs = []
    for frag, text in pairs:
        advance, shown = _shaped(text, frag.fontName, frag.fontSize) if text else (0.0, text)
        width += advance
        runs.append((frag, shown))
    last = next((i for i in range(len(runs) - 1, -1, -1) if runs[i][1]), None) if trailing > 0 else None
    if last is not None:  # the last run with text: an anchor after a footnote mark has none
        frag, shown = runs[last]
        widened = _widened(str(shown), frag.fontName, frag.fontSize, trailing)
        if widened is not None:
            runs[last] = (frag, widened)
            width += trailing
    return kind([width, *runs])


def _widened(text: str, font_name: str, font_size: float, extra: float) -> ShapedStr | None:
    """``text`` as drawn, with ``extra`` points after its last glyph (None in a face that cannot be shaped)."""
    glyphs = _shaped_glyphs(text, font_name, force=True)
    if glyphs is None:
        font = getFont(font_name)
        if not getattr(font, "shapable", False):
            return None
        # drawn unshaped (a ligature the face cannot encode): the letters at their own widths
        widths = [font.face.charWidths.get(ord(char), font.face.defaultWidth) for char in text]
        glyphs = ShapedStr(text, shapeData=[ShapeData(i, w, 0, 0, 0, w) for i, w in enumerate(widths)])
    data = list(glyphs.__shapeData__)
    data[-1] = data[-1]._replace(x_advance=data[-1].x_advance + extra * 1000 / font_size)
    return ShapedStr(str(glyphs), shapeData=data)


SPACE_FACTORS = {".": 3.0, "?": 3.0, "!": 3.0, "\u2026": 3.0, ":": 2.0, ";": 1.5, ",": 1.25}
"""TeX's space factors (plain TeX's ``\\nonfrenchspacing`` sfcodes ÷ 1000): the space after a word
ending so stretches this many times more than an ordinary space and shrinks as many times less,
so a loose line opens at its sentence and clause ends first and its ordinary gaps stay closer to
their width. The space itself keeps its natural width (no wide sentence space)."""
SENTENCE_ENDS = ".?!\u2026"
CLOSERS = "\"')]}\u2019\u201d\u00bb"
"""Closing quotes and brackets are transparent, as their sfcode 0 makes them in TeX: "end.”" ends a sentence."""
OPENERS = "\"'([{\u2018\u201c\u00ab\u00bf\u00a1"
TITLES = frozenset({"Dr", "Mr", "Mrs", "Ms", "Mx", "Prof", "St", "Sr", "Sra", "Srta", "Jr", "Hr", "Fr", "Mme",
                    "Mlle", "Mt", "Rev", "Gen", "Capt", "Col", "Lt", "Sgt", "Fig", "Figs", "No", "Nos", "Nr",
                    "Vol", "Vols", "Ch", "Sec", "Eq", "pp", "ca", "vs", "cf"})
"""Abbreviations written before a name or a number ("Dr. Smith", "Fig. 3"), whose full stop ends no sentence.
TeX needs an author's ``Dr.\\ Smith`` for these; a contributor writing Markdown cannot say it."""
_ABBREVIATION = re.compile(r"(?:^|[^\w.])[^\W\d_](?:\.[^\W\d_]+)*\.$")
"""One letter and a full stop ("p.", "s."), or letters between full stops ("e.g.", "i.e.", "p.m.")."""


def _space_factor(text: str, lower_next: bool = False) -> float:
    """The space factor after a word: 1 unless it ends in punctuation; 1 after an uppercase letter's full
    stop (an initial, "J. Smith", or "U.S."), as TeX's sfcode 999 of capitals makes it.

    A full stop, question or exclamation mark, or ellipsis ends no sentence when the next word starts
    in lowercase (``lower_next``: "e.g. near", "“Stop!” he said", "and then… nothing"), nor after an
    abbreviation ("p. 14", "Dr. Smith", "3 p.m. Then"): TeX would widen those gaps, visibly,
    on a loose line.
    """
    core = text.rstrip(CLOSERS)
    if len(core) < 2:
        return 1.0
    factor = SPACE_FACTORS.get(core[-1], 1.0)
    if factor == 1.0 or core[-2].isupper():
        return 1.0
    abbreviation = core[-1] == "." and bool(_ABBREVIATION.search(core) or core[:-1].lstrip(OPENERS) in TITLES)
    if core[-1] in SENTENCE_ENDS and (lower_next or abbreviation):
        return 1.0
    return factor


def _starts_lowercase(word: list) -> bool:  # type: ignore[type-arg]
    """Whether ``word`` (a ReportLab word) starts with a lowercase letter, opening quotes and brackets aside."""
    text = "".join(str(t) for f, t in word[1:] if not hasattr(f, "cbDefn")).lstrip(OPENERS)
    return text[:1].islower()


def _soft_hyphen(word: list) -> list:  # type: ignore[type-arg]
    """The word with the hyphen the breaker added read back as U+00AD, where the face draws both alike.

    A reader of the text (a screen reader, the structure of the tagged PDF, copy
    and paste) then gets "management", not "manage-ment"; the hyphen the
    contributor typed stays a hyphen. The glyph, its width and its kerning are the ones
    drawn for "-".
    """
    frag, shown = word[-1]
    glyphs = getFont(frag.fontName).face.charToGlyph
    if glyphs.get(ord(SOFT_HYPHEN)) != glyphs.get(ord(HYPHEN)):
        return word
    text = str(shown)[:-1] + SOFT_HYPHEN
    return word.__class__([*word[:-1], (frag, ShapedStr(text, shapeData=shown.__shapeData__)
                                        if isinstance(shown, ShapedStr) else text)])


def _rejoined(words: list) -> list:  # type: ignore[type-arg]
    """Words as they were before an earlier breaking: marks removed, cut words whole again."""
    whole: list = []  # type: ignore[type-arg]
    head: list | None = None  # type: ignore[type-arg]
    for word in words:
        if _is_mark(word):
            continue
        if head is not None:
            pairs = [(f, str(t)) for f, t in head[1:]]
            if head.hyphen and pairs and pairs[-1][1].endswith((HYPHEN, SOFT_HYPHEN)):
                pairs[-1] = (pairs[-1][0], pairs[-1][1][:-1])
            seen = sum(len(t) for _, t in pairs)
            shy = tuple(sorted({*_soft_hyphens(head), *(seen + at for at in _soft_hyphens(word))}))
            joined = _remember(type(word)([0, *pairs, *((f, str(t)) for f, t in word[1:])]), shy)
            if isinstance(word, _Piece):
                joined.hyphen = word.hyphen
            word, head = joined, None
        if isinstance(word, _Piece):
            head = word
        else:
            whole.append(word)
    if head is not None:
        whole.append(_remember(_Word(head), _soft_hyphens(head)))
    return whole


class _Paragraph:
    """One paragraph's words as boxes, glue and penalties, and the way back from breaks to words."""

    def __init__(self, words: list, setting: Setting, shortest: float) -> None:  # type: ignore[type-arg]
        self.words = words
        self.items: list[Item] = []
        self.origin: list[tuple[int, int]] = []
        """For each item: (word index, character index of a cut or -1 for after the word)."""
        self.ragged: set[tuple[int, int]] = set()
        """Cuts inside an over-long word, whose line is set ragged."""
        self.shy: dict[int, tuple[int, ...]] = {}
        """The contributor's soft hyphens of the words that have any."""
        self.wider: dict[int, tuple[float, float]] = {}
        """Words followed by a gap with a space factor: how much more that gap stretches and shrinks less."""
        items, origin, repeat = self.items, self.origin, itertools.repeat
        measured = _measured(setting, shortest)
        glued: str | None = None
        """The text since the last space when the words before this one had none after them."""
        for index, word in enumerate(words):
            first = word[1][0] if len(word) > 1 else None
            if getattr(first, "_fkind", None) == _FK_BREAK:
                glued = None
                while items and isinstance(items[-1], Glue):
                    items.pop()
                    origin.pop()
                items += [Penalty(0, INFINITY), Glue(0, FILL, 0), Penalty(0, -INFINITY)]
                origin += [(index, -2)] * 3
                continue
            if len(word) == 2 and not hasattr(first, "cbDefn"):
                runs: tuple[tuple[str, float, str], ...] = ((first.fontName, first.fontSize, str(word[1][1])),)
            else:
                runs = tuple((f.fontName, f.fontSize, str(t)) for f, t in word[1:] if not hasattr(f, "cbDefn"))
            last = word[-1][0]
            spaced = (last.fontName, last.fontSize) if isinstance(word, _HSFrag) else None
            shy = _soft_hyphens(word)
            if shy:
                self.shy[index] = shy
            # what the space factor reads: the text since the last space, a footnote mark (a raised run) aside,
            # as TeX's \footnote keeps the space factor of "end.": None when that is just this word's runs
            reading = None
            if glued is not None or len(word) > 2 or getattr(first, "rise", 0):
                reading = (glued or "") + "".join(str(t) for f, t in word[1:]
                                                  if not hasattr(f, "cbDefn") and not getattr(f, "rise", 0))
            read = reading if reading is not None else runs[0][2] if runs else ""
            glued = None if spaced is not None else read
            # a sentence end before a lowercase word is none (see _space_factor): the next word is part of the key
            lower_next = (spaced is not None and read.rstrip(CLOSERS)[-1:] in SENTENCE_ENDS
                          and index + 1 < len(words) and _starts_lowercase(words[index + 1]))
            key = (runs, spaced, shy, lower_next, reading)
            found = measured.get(key)
            if found is None:
                if len(measured) >= 65536:
                    measured.clear()
                found = measured[key] = _word_chunk(runs, spaced, shy, lower_next, reading, setting, shortest)
            chunk, cuts, ragged, wider = found
            items += chunk
            origin += zip(repeat(index), cuts, strict=False)
            if ragged:
                self.ragged.update((index, at) for at in ragged)
            if wider is not None:
                self.wider[index] = wider
        finish(items)
        origin += repeat((len(words), -1), len(items) - len(origin))

    def realise(self, lines: Sequence[Line], widths: Sequence[float],  # type: ignore[type-arg]
                justify_last: bool = False) -> list:
        """ReportLab words with a break mark after each line's last word (cut and hyphenated as chosen).

        ReportLab justifies a line by widening every space alike (``Tw``); a gap with a space
        factor gets the rest of its glue as extra advance after the word before it.
        """
        trailing = self._trailing(lines, widths, justify_last)
        for index in [i for i in trailing if i and not any(str(t) for _, t in self.words[i][1:])]:
            trailing[index - 1] = trailing.pop(index)  # a space after an anchor: widen the word before it
        mark_width = widths[-1]
        cuts: dict[int, list[tuple[int, bool]]] = {}
        after: set[int] = set()
        for end in [line.end for line in lines[:-1]]:
            index, at = self.origin[end]
            if at >= 0:
                cuts.setdefault(index, []).append((at, isinstance(self.items[end], Penalty)
                                                   and self.items[end].width > 0))
            elif at == -1:
                after.add(index)
        out: list = []  # type: ignore[type-arg]
        special = after.union(cuts, trailing, self.shy)
        for index, word in enumerate(self.words):
            kind = _HSFrag if isinstance(word, _HSFrag) else _Word
            if len(word) == 2 and index not in special:
                frag, text = word[1]
                if getattr(frag, "_fkind", None) != _FK_BREAK:  # a word drawn whole: one run, shaped
                    text = str(text)
                    advance, shown = _shaped(text, frag.fontName, frag.fontSize) if text else (0.0, text)
                    out.append(kind([advance, (frag, shown)]))
                    continue
            shy = self.shy.get(index, ())
            pairs = [(f, str(t)) for f, t in word[1:]]
            if index in cuts:
                done = 0
                for at, hyphen in sorted(cuts[index]):
                    head, pairs = _cut([0, *pairs], at - done)
                    if hyphen:
                        head[-1] = (head[-1][0], head[-1][1] + HYPHEN)
                    drawn = _drawn(head, _Piece)
                    piece = _remember(_soft_hyphen(drawn) if hyphen else drawn,
                                      tuple(p - done for p in shy if done <= p <= at))
                    piece.hyphen = hyphen
                    out += [piece, _mark(head[-1][0], mark_width, hyphen, ragged=(index, at) in self.ragged,
                                          inside=not hyphen)]
                    done = at
                shy = tuple(p - done for p in shy if p >= done)
            if _is_break(word):
                out.append(word)
                continue
            out.append(_remember(_drawn(pairs, kind, trailing.get(index, 0.0)), shy))
            if index in after:
                out.append(_mark(pairs[-1][0] if pairs else word[1][0], mark_width, False))
        return out


    def _trailing(self, lines: Sequence[Line], widths: Sequence[float], justify_last: bool) -> dict[int, float]:
        """For each word before a gap with a space factor, how much wider that gap is set than an ordinary
        gap of its line.

        The line's glue is set as TeX sets it: every gap by the same ratio of its own stretch (or
        shrink), the ratio that makes the line exactly its width. Emergency stretch only helped choose
        the breaks, as in TeX. Nothing on a line ReportLab does not justify: the paragraph's last line,
        or one that ends inside an over-long word.
        """
        if not self.wider:
            return {}
        extra: dict[int, float] = {}
        items, origin = self.items, self.origin
        for number, line in enumerate(lines):
            if (number == len(lines) - 1 and not justify_last) or origin[line.end] in self.ragged:
                continue
            natural = stretch = shrink = 0.0
            for item in items[line.start:line.end]:
                if isinstance(item, Box):
                    natural += item.width
                elif isinstance(item, Glue) and item.stretch < FILL:
                    natural, stretch, shrink = natural + item.width, stretch + item.stretch, shrink + item.shrink
            end = items[line.end]
            natural += end.width if isinstance(end, Penalty) else 0.0
            excess = widths[min(number, len(widths) - 1)] - natural
            ratio = excess / stretch if excess > 0 and stretch > 0 else max(excess / shrink, -1.0) if shrink else 0.0
            if not ratio:
                continue
            for k in range(line.start, line.end):
                index, at = origin[k]
                if at == -1 and index in self.wider and isinstance(items[k], Glue):
                    more, less = self.wider[index]
                    extra[index] = ratio * more if ratio > 0 else -ratio * less
        return extra


@functools.lru_cache(maxsize=16)
def _measured(setting: Setting, shortest: float) -> dict:  # type: ignore[type-arg]
    """The words measured for one setting and narrowest line: :func:`_word_chunk` memoised by
    (runs, face of the space after), looked up once per word without hashing the setting again."""
    return {}


def _word_chunk(runs: tuple[tuple[str, float, str], ...], spaced: tuple[str, float] | None, shy: tuple[int, ...],
                lower_next: bool, reading: str | None, setting: Setting, shortest: float
                ) -> tuple[tuple[Item, ...], tuple[int, ...], tuple[int, ...], tuple[float, float] | None]:
    """A word's items with the glue after it (``spaced``: the face of the space that follows, if one does),
    where each item stands (see :func:`_word_items`), and what its space factor adds to that glue.

    Memoised (:func:`_measured`) per word, face and setting: a book repeats its words, and a
    paragraph is measured once per width it is wrapped at.
    """
    width = sum(_shaped(text, name, size)[0] for name, size, text in runs if text)
    items, cuts, ragged = _word_items(runs, width, setting.language, shortest if width > shortest else None, shy)
    if spaced is None:
        return items, cuts, ragged, None
    space = _shaped(" ", *spaced)[0]
    stretch, shrink = (space * setting.stretch, space * setting.shrink) if setting.justify else (0, 0)
    factor = (_space_factor("".join(run[2] for run in runs) if reading is None else reading, lower_next)
              if setting.space_factors and (stretch or shrink) else 1.0)
    wider = (stretch * (factor - 1), shrink * (1 - 1 / factor)) if factor != 1.0 else None
    return (*items, Glue(space, stretch * factor, shrink / factor)), (*cuts, -1), ragged, wider


@functools.lru_cache(maxsize=65536)
def _word_items(runs: tuple[tuple[str, float, str], ...], width: float, language: str, narrowest: float | None,
                shy: tuple[int, ...] = ()) -> tuple[tuple[Item, ...], tuple[int, ...], tuple[int, ...]]:
    """A word's items, the character each stands at (-1: after the word), and its ragged cuts.

    Items are immutable, so a word set many times shares them. Memoised per word and face.
    """
    widths, cuts = _pieces(runs, width, language, narrowest, shy)
    items: list[Item] = [Box(widths[0])]
    where = [-1]
    ragged = []
    stretch = 3 * runs[-1][1] if runs else 0
    for (at, added, cost), piece in zip(cuts, widths[1:], strict=True):
        if cost < LAST_RESORT:
            items += [Penalty(added, cost, flagged=True), Box(piece)]
            where += [at, -1]
        else:
            # a break inside an address or an over-long word leaves its line ragged, not stretched:
            # stretch that exists only if the line ends here (TeX's ragged-break idiom)
            items += [Penalty(0, INFINITY), Glue(0, stretch, 0), Penalty(0, cost), Glue(0, -stretch, 0), Box(piece)]
            where += [at] * 4 + [-1]
            ragged.append(at)
    return tuple(items), tuple(where), tuple(ragged)


def _pieces(runs: tuple[tuple[str, float, str], ...], width: float, language: str, narrowest: float | None,
            shy: tuple[int, ...] = ()) -> tuple[tuple[float, ...], tuple[tuple[int, float, int], ...]]:
    """A word's break points (character, added width, cost) and the widths of the pieces between them.

    Hyphenation points are the contributor's soft hyphens (``shy``) where the word has any, as
    TeX uses only a word's own discretionary hyphens, else pyphen's; breaks after a dash or a
    zero-width space add nothing, a web address or long token breaks where :func:`.breaks.break_points` allows (URL-safe
    points first), and a word wider than the narrowest line (``narrowest``, None for a word that fits)
    may also break between any two characters, but only if hyphenation leaves a piece wider than that
    line (a word cut unhyphenated mid-syllable reads as two words); those breaks add no hyphen and leave
    their line ragged. The pieces share the word's
    drawn (kerned) width in proportion to their own shaped widths, so they add up to
    exactly what is drawn when the word is not broken, and a piece is as wide as drawn even
    when the word holds characters drawn with no width (U+200B, U+200D, U+00AD), which
    the fonts' plain metrics give the width of a missing glyph.
    """
    text = "".join(run[2] for run in runs)
    if not runs or not width:
        return (width,), ()
    cuts: dict[int, tuple[float, int]] = {}
    name, size, _ = runs[-1]
    hyphen = stringWidth(HYPHEN, name, size)
    for i, char in enumerate(text[:-1]):
        if char in DASHES and i > 0 and text[i + 1].isalnum():
            cuts[i + 1] = (0.0, 50)
        elif char == ZERO_WIDTH_SPACE and i > 0:
            cuts[i + 1] = (0.0, 0)  # the author's own break opportunity: free, and nothing added
    for point in shy:
        if 0 < point < len(text):  # a piece of a cut word keeps its ends (at 0 or its length) as reminders
            cuts.setdefault(point, (hyphen, HYPHEN_PENALTY))
    if language and len(text) >= 5 and not shy:
        for point in _hyphen_points(language, text):
            if point not in cuts and text[point - 1].isalpha():
                cuts[point] = (hyphen, HYPHEN_PENALTY)
    # a web address or a long token: URL-safe points, then anywhere; not where the author placed breaks
    points = None if ZERO_WIDTH_SPACE in text else break_points(text)
    if points is None and narrowest is not None and _widest_piece(runs, sorted(cuts), hyphen) > narrowest:
        points = list(range(1, len(text)))  # a word hyphenation cannot fit: anywhere, as a last resort
    for i in points or ():
        cuts.setdefault(i, (0.0, LAST_RESORT if text[i - 1] in URL_SAFE else 10 * LAST_RESORT))
    for i in [i for i in cuts if _inside_cluster(text, i)]:
        del cuts[i]
    if not cuts:
        return (width,), ()
    edges = [0, *sorted(cuts), len(text)]
    advances = _advances(runs, edges)
    if advances is None:  # a ligature across a cut: shape the pieces on their own
        shaped = [_shaped_width(runs, a, b) for a, b in itertools.pairwise(edges)]
    else:
        shaped = [sum(advances[a:b]) for a, b in itertools.pairwise(edges)]
    scale = width / sum(shaped) if sum(shaped) else 0
    return (tuple(piece * scale for piece in shaped),
            tuple((at, *cuts[at]) for at in edges[1:-1]))


def _advances(runs: tuple[tuple[str, float, str], ...], edges: list[int]) -> list[float] | None:
    """The advance of each character of a word as drawn whole (a glyph's advance on its first character),
    from one shaping per run; None when a glyph spans one of ``edges`` (a ligature) or a face cannot
    be shaped. Cheaper than shaping every piece, and the same widths up to the kerning across a cut."""
    advances: list[float] = []
    cuts = set(edges)
    for name, size, text in runs:
        found = _glyphs(text, name) if text else None
        if found is None:
            if text:
                return None
            continue
        seen = len(advances)
        advances += [0.0] * len(text)
        starts = set()
        for glyph in found[0].__shapeData__:
            advances[seen + glyph.cluster] += glyph.x_advance * size / 1000
            starts.add(seen + glyph.cluster)
        if any(seen < cut < seen + len(text) and cut not in starts for cut in cuts):
            return None
    return advances


def _widest_piece(runs: tuple[tuple[str, float, str], ...], cuts: list[int], hyphen: float) -> float:
    """The widest piece of a word cut at ``cuts`` (with the hyphen it may end with)."""
    edges = [0, *cuts, sum(len(run[2]) for run in runs)]
    return max(_shaped_width(runs, a, b) for a, b in itertools.pairwise(edges)) + (hyphen if cuts else 0)


def _inside_cluster(text: str, at: int) -> bool:
    """Whether a cut before ``text[at]`` would part a letter from its accents (e + U+0301) or a joined pair
    (ZWJ): the marks would start the next line on nothing."""
    return unicodedata.category(text[at]) in ("Mn", "Mc", "Me") or JOINER in (text[at], text[at - 1])


def _shaped_width(runs: tuple[tuple[str, float, str], ...], start: int, stop: int) -> float:
    width, seen = 0.0, 0
    for name, size, text in runs:
        a, b = max(start - seen, 0), min(stop - seen, len(text))
        if a < b:
            width += _shaped(text[a:b], name, size)[0]
        seen += len(text)
    return width


class InsideWord(str):
    """The empty text of the mark that ends a line cut inside a word without a hyphen (after a dash, in a
    web address, in an over-long token): ReportLab hands it to the text object as the line's last text, so
    a reader of the text joins the two lines with no space (see :mod:`.tagging`)."""

    __slots__ = ()


def _mark(frag: object, width: float, hyphen: bool, *, ragged: bool = False,
          inside: bool = False) -> list:  # type: ignore[type-arg]
    """A zero-width word that ends a line in ReportLab's line loop, and is known as ours later;
    ``inside`` a word when the line ends inside one."""
    text = InsideWord() if inside else ""
    mark = _copy(frag, _fkind=_FK_BREAK, text=text, kp_mark=True, kp_width=width, kp_hyphen=hyphen,
                 kp_ragged=ragged)
    return [0, (mark, text)]


def _copy(frag: object, **changes: object) -> object:
    """``frag.clone(**changes)`` for ReportLab's fragments (attribute bags), without passing every
    attribute through keywords as ``clone`` does: four times faster, and a line clones each of its runs."""
    copy = object.__new__(type(frag))
    copy.__dict__.update(frag.__dict__, **changes)
    return copy


_ascent_descent = functools.lru_cache(maxsize=256)(getAscentDescent)


def _line(words: list, width: float, first: int, end: object, line_break: bool) -> FragLine:  # type: ignore[type-arg]
    """One line of ``words``; ``end`` is the fragment of the mark or hard break that ends it.

    Neighbouring runs of one fragment are merged with the space between them, as ReportLab's
    own line loop does; their texts are collected and joined once per run.
    """
    runs: list = []  # type: ignore[type-arg]
    texts: list[list[str]] = []
    source = spaced = None
    space_width = 0.0
    used = 0.0
    count = 0
    space = 0.0
    size, ascent, descent = 0.0, 0.0, 0.0
    for word in words:
        if count or used:
            used += space
        used += word[0]
        gap = " " if runs and space > 0 else ""
        for frag, text in word[1:]:
            if gap:
                texts[-1].append(gap)
                gap = ""
            if frag is source:
                texts[-1].append(text)
                continue
            runs.append(frag)
            texts.append([text])
            source = frag
            if frag.fontSize > size:
                size = frag.fontSize
            up, down = _ascent_descent(frag.fontName, frag.fontSize)
            ascent, descent = max(ascent, up), min(descent, down)
        if (word[1][1] if len(word) == 2 else any(text for _, text in word[1:])):
            count += 1
        if isinstance(word, _HSFrag):
            last = word[-1][0]
            if last is not spaced:
                spaced, space_width = last, _shaped(" ", last.fontName, last.fontSize)[0]
            space = space_width
        else:
            space = 0.0
    fragments = []
    for frag, parts in zip(runs, texts, strict=True):
        fragments.append(_copy(frag, text=_joined(parts)))
    if end is not None:
        fragments.append(end)
    if not fragments:
        return FragLine(extraSpace=width, wordCount=0, lineBreak=line_break, words=[], fontSize=0,
                        ascent=0, descent=0, maxWidth=width, sFW=first)
    return FragLine(extraSpace=width - used, wordCount=count, lineBreak=line_break, words=fragments, fontSize=size,
                    ascent=ascent, descent=descent, maxWidth=width, sFW=first)


def _joined(parts: list[str]) -> str:
    """``parts`` concatenated, shaped glyph data kept: what ``ShapedStr``'s ``+`` gives, in one step."""
    if len(parts) == 1:
        return parts[0]
    text = "".join(parts)
    if not any(isinstance(part, ShapedStr) for part in parts):
        return text
    data: list = []  # type: ignore[type-arg]
    for part in parts:
        data += part.__shapeData__ if isinstance(part, ShapedStr) else [_sdSimple] * len(part)
    return ShapedStr(text, shapeData=data)


class SetParagraph(RLParagraph):
    """A ReportLab paragraph broken into lines by :func:`.linebreak.break_lines`.

    The style carries the :class:`Setting` (``style.setting``); a style without one
    is broken by ReportLab as usual.
    """

    _no_hyphen_after_line: int | None = None
    _realised: list | None = None  # type: ignore[type-arg]
    _broken_for: tuple | None = None  # type: ignore[type-arg]
    _para: ParaLines | None = None

    def breakLines(self, width):  # type: ignore[no-untyped-def]
        setting: Setting | None = getattr(self.style, "setting", None)
        frags = self.frags
        if setting is None or not frags or self.bulletText:
            return super().breakLines(width)
        widths = list(width) if isinstance(width, (list, tuple)) else [width]
        key = (tuple(widths), self._no_hyphen_after_line)
        if frags is self._realised and key == self._broken_for and self._para is not None:
            return self._para  # wrapped again at the same width (keep-together, columns): nothing changed
        if _processed_frags(frags):
            words = _getFragWords(frags)
            while words and _is_mark(words[0]):
                words.pop(0)
            marks = [w for w in words if _is_mark(w)]
            if marks and self._no_hyphen_after_line is None and all(
                    abs(w[1][0].kp_width - widths[-1]) < 1e-6 for w in marks):
                self.frags = words  # broken before for this width: keep those lines
                return self._lines(widths)
            words = _rejoined(words)
        else:
            words = [w for w in _getFragWords(frags, widths[0]) if not _only_soft_hyphens(w)]
        if not words:
            return super().breakLines(width)
        paragraph = _Paragraph(words, setting, min(widths))
        tuning = tuning_for(setting, self.style.fontSize)
        if getattr(self, "_JustifyLast", False):  # a piece of a long paragraph: its last line is full
            tuning = dataclasses.replace(tuning, justify_last=True)
        lines = break_lines(paragraph.items, widths, tuning, no_hyphen_after_line=self._no_hyphen_after_line)
        self.frags = paragraph.realise(lines, widths, tuning.justify_last)
        self._para = self._lines(widths)
        self._realised, self._broken_for = self.frags, key
        return self._para

    def _lines(self, widths: list[float]) -> ParaLines:
        """ReportLab's line structure for words whose line ends are marked: no second breaking pass.

        Each line's fragments are the words' runs, neighbours of one fragment merged with
        the space between them, exactly as ReportLab's own line loop lays them out for drawing
        and splitting. A line that ends at our mark is justified (unless it ends inside an
        over-long word); one that ends at the contributor's hard break is not.
        """
        words = self.frags
        lines: list[FragLine] = []
        start = 0
        for index, word in enumerate(words):
            if _is_mark(word) or _is_break(word):
                end = word[1][0]
                ragged = getattr(end, "kp_ragged", False) if _is_mark(word) else True
                lines.append(_line(words[start:index], widths[min(len(lines), len(widths) - 1)], start,
                                   _copy(end), ragged))
                start = index + 1
        if start < len(words) or not lines:
            lines.append(_line(words[start:], widths[min(len(lines), len(widths) - 1)], start, None, False))
        self._width_max = max((line.maxWidth - line.extraSpace for line in lines), default=0)
        return ParaLines(kind=1, lines=lines)

    def split(self, availWidth, availHeight):  # type: ignore[no-untyped-def]
        """ReportLab's split, after re-breaking if the page would end on a hyphen.

        A piece of a :class:`~.flowables.LongParagraph` is re-broken the same way, its own last
        line kept full (it continues in the next piece).
        """
        setting: Setting | None = getattr(self.style, "setting", None)
        if setting is not None:  # soft hyphens break words even where the layout does not hyphenate
            for _ in range(3):
                if not hasattr(self, "blPara"):
                    self.wrap(availWidth, availHeight)
                last = self._last_line_on_page(availHeight)
                lines = self.blPara.lines
                if last is None or not getattr(lines[last].words[-1], "kp_hyphen", False):
                    break
                self._no_hyphen_after_line = last
                self.wrap(availWidth, availHeight)
                self._no_hyphen_after_line = None
        return super().split(availWidth, availHeight)

    def _last_line_on_page(self, height: float) -> int | None:
        """The index of the line that would end the page, as ReportLab's split decides it."""
        lines = getattr(self.blPara, "lines", [])
        fits = int(height / self.style.leading) if self.style.leading else 0
        count = len(lines)
        if fits <= 1 or fits >= count or not hasattr(lines[0], "words"):
            return None
        if count == fits + 1 and not self.style.allowWidows:
            if count <= 3:
                return None  # ReportLab moves the whole paragraph on
            fits -= 1
        return fits - 1

