"""Fonts that embed once per book, however many entries are rendered apart.

Entries are laid out as separate PDFs and merged. ReportLab normally numbers
a font's glyphs in the order a document first uses them, so every entry gets a
different subset and the merged book would carry one font program per entry.
:class:`StableTTFont` gives every character a fixed code from one book-wide
table instead, so the subset with a given number is byte-identical in every
entry; ``assemble`` then keeps one copy of each. A used subset embeds all of
its (at most 256) glyphs, which costs a little size once and saves it per entry.

The families come from PyPI packages (``font-source-serif-pro``,
``font-source-sans-pro``, ``font-roboto``, ``fontpkg-ibm-plex-mono`` for code)
so a fresh virtualenv has them. A
layout names a family per role and, optionally, fallback families; a character
the role's family lacks is drawn from the first fallback that has it.
"""

from __future__ import annotations

import functools
import io
import operator
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import font_roboto
import font_source_sans_pro
import font_source_serif_pro
import fontpkg_ibm_plex_mono
from reportlab import rl_config
from reportlab.lib.fonts import addMapping
from reportlab.lib.rl_accel import fp_str
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import SUBSETN, ShapedStr, TTFont, makeToUnicodeCMap
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import PDFTextObject

from .model import FontSet

# Characters placed in subset 0 after ASCII, most used first, so that text in
# Western, Central European and Turkish languages needs only one subset.
_PRIORITY = (
    "‘’“”–—…•·€‚„‹›′″"
    + "".join(chr(c) for c in range(0xA1, 0x100))
    + "ąćęłńśźżĄĆĘŁŃŚŹŻčďěňřšťůžČĎĚŇŘŠŤŮŽğışİĞŞőűŐŰœŒ"
)


def _face_path(package: object, file_name: str) -> Path:
    return Path(package.__file__).parent / "files" / file_name  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Family:
    regular: Path
    italic: Path
    bold: Path
    bold_italic: Path


FAMILIES: dict[str, Family] = {
    "source-serif": Family(
        *(_face_path(font_source_serif_pro, f"SourceSerifPro-{style}.ttf")
          for style in ("Regular", "It", "Bold", "BoldIt"))
    ),
    "source-sans": Family(
        *(_face_path(font_source_sans_pro, f"SourceSansPro-{style}.ttf")
          for style in ("Regular", "It", "Bold", "BoldIt"))
    ),
    "roboto": Family(
        *(_face_path(font_roboto, f"Roboto-{style}.ttf") for style in ("Regular", "Italic", "Bold", "BoldItalic"))
    ),
    "ibm-plex-mono": Family(
        *(_face_path(fontpkg_ibm_plex_mono, f"IBMPlexMono-{style}.ttf")
          for style in ("Regular", "Italic", "Bold", "BoldItalic"))
    ),
}

FAMILY_LABELS = {"source-serif": "Source Serif Pro", "source-sans": "Source Sans Pro", "roboto": "Roboto",
                 "ibm-plex-mono": "IBM Plex Mono"}


rl_config.useA85 = 0  # binary streams: ASCII85 would make every page a quarter larger


class StubFontCanvas(Canvas):
    """A canvas whose PDF names its fonts without embedding them.

    Every piece of the book is rendered on one of these: its font resources are
    three-key stubs (Type, Subtype, BaseFont), cheap to write and to read back.
    Assembly swaps each stub for one full copy taken from :func:`font_carrier`.
    """

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._doc.font_stubs = True
        self._doc.base_fonts = set()

    @property
    def base_fonts(self) -> tuple[str, ...]:
        """The subsets the saved PDF refers to (``AAAAAB+SourceSerifPro-Regular``…)."""
        return tuple(sorted(self._doc.base_fonts))

    def beginText(self, x=0, y=0, direction=None):  # type: ignore[no-untyped-def]
        return KernedTextObject(self, x, y, direction=direction)


_Y_OFFSET = operator.attrgetter("y_offset")


class KernedTextObject(PDFTextObject):
    """ReportLab's text object, writing kerned (shaped) text in one pass instead of glyph by glyph.

    ReportLab positions a shaped string one glyph at a time in Python, which
    was a quarter of a cold build. Without vertical offsets its output reduces
    to runs of glyph codes separated by summed horizontal adjustments; this
    writes exactly those operators (the same bytes: a test compares the two),
    and leaves anything else (plain text, raised glyphs) to ReportLab.
    """

    def _formatText(self, text):  # type: ignore[no-untyped-def]
        font = pdfmetrics.getFont(self._fontname)
        if (not isinstance(text, ShapedStr) or not font._dynamicFont or not font.shapable
                or any(map(_Y_OFFSET, text.__shapeData__))):
            return super()._formatText(text)
        canvas = self._canvas
        code: list[str] = []
        select = None
        data = text.__shapeData__
        start = 0
        for subset, chunk in font.splitString(text, canvas._doc):
            if subset != self._curSubset:
                select = select or f"{fp_str(self._fontsize)} Tf {fp_str(self._leading)} TL"
                code.append(f"{font.getSubsetInternalName(subset, canvas._doc)} {select}")
                self._curSubset = subset
            stop = start + len(chunk)
            code.append(_kerned_run(chunk, data[start:stop], canvas._escape))
            start = stop
        return " ".join(code)


def _kerned_run(codes: bytes, glyphs: list, escape) -> str:  # type: ignore[no-untyped-def,type-arg]
    """``(codes) Tj``, or a ``TJ`` array of code runs and the non-zero adjustments between them.

    ReportLab's sequence per glyph is (-x offset, code, width - advance + x offset),
    zeros dropped, neighbouring adjustments summed; a glyph with neither adjustment
    (most of them) only extends the current run of codes.
    """
    parts: list[str] = []
    pending: list[float] = []
    first = 0  # the first code of the run not written yet
    for index, glyph in enumerate(glyphs):
        before = -glyph.x_offset
        after = glyph.width - glyph.x_advance + glyph.x_offset
        if not (before or after or pending):
            continue
        if before:
            if not pending and first < index:
                parts.append(f"({escape(codes[first:index])})")
            pending.append(before)
        if pending:
            value = fp_str(sum(pending))
            if value != "0":
                parts.append(value)
            pending = []
            first = index
        if after:
            parts.append(f"({escape(codes[first:index + 1])})")
            pending.append(after)
            first = index + 1
    if pending:
        value = fp_str(sum(pending))
        if value != "0":
            parts.append(value)
    elif first < len(glyphs):
        parts.append(f"({escape(codes[first:len(glyphs)])})")
    if len(parts) == 1 and parts[0].startswith("("):
        return f"{parts[0]} Tj"
    return f"[{' '.join(parts)}] TJ"


class StableTTFont(TTFont):
    """A TrueType font whose character codes do not depend on the document."""

    def __init__(self, name: str, path: Path) -> None:
        super().__init__(name, str(path), asciiReadable=True)
        self._codes, self._subsets = _code_table(self.face.charToGlyph)
        self._subset_zero = _subset_zero_table(self._codes, self.face.charToGlyph)
        self.face.makeSubset = _memoised(self.face.makeSubset)  # type: ignore[method-assign]
        _BY_POSTSCRIPT_NAME[self.face.name.decode("latin-1")] = self

    def splitString(self, text, doc, encoding="utf-8"):  # type: ignore[no-untyped-def]
        state = self.state.get(doc)
        if state is None:
            state = self.state[doc] = TTFont.State(True, self)
            state.assignments = self._codes
            state.subsets = self._subsets
            state.frozen = 1
            state.used = set()
        try:  # most text lies in subset 0: one translate instead of ReportLab's loop over characters
            pieces = [(0, text.translate(self._subset_zero).encode("latin-1"))] if text else []
        except (UnicodeEncodeError, AttributeError, TypeError):  # other subsets, or bytes
            pieces = super().splitString(text, doc, encoding)
        state.used.update(subset for subset, _ in pieces)
        return pieces

    def addObjects(self, doc):  # type: ignore[no-untyped-def]
        """Embed only the subsets this document used, as indirect, identical objects."""
        state = self.state[doc]
        for number in sorted(state.used):
            subset = state.subsets[number]
            internal_name = self.getSubsetInternalName(number, doc)[1:]
            base_name = (SUBSETN(number) + b"+" + self.face.name).decode("pdfdoc")
            if getattr(doc, "font_stubs", False):
                stub = pdfdoc.PDFDictionary({"Type": pdfdoc.PDFName("Font"), "Subtype": pdfdoc.PDFName("TrueType"),
                                             "BaseFont": pdfdoc.PDFName(base_name)})
                doc.idToObject["BasicFonts"].dict[internal_name] = doc.Reference(stub, internal_name)
                doc.base_fonts.add(base_name)
                continue
            font = pdfdoc.PDFTrueTypeFont()
            font.BaseFont = base_name
            font.FirstChar = 0
            font.LastChar = len(subset) - 1
            font.Widths = pdfdoc.PDFArray([self.face.getCharWidth(code) for code in subset])
            cmap = pdfdoc.PDFStream()
            cmap.content = _to_unicode_cmap(base_name, subset)
            cmap.filters = [pdfdoc.PDFZCompress]
            font.ToUnicode = doc.Reference(cmap, "toUnicodeCMap:" + base_name)
            font.FontDescriptor = self.face.addSubsetObjects(doc, base_name, subset)
            doc.idToObject["BasicFonts"].dict[internal_name] = doc.Reference(font, internal_name)
        del self.state[doc]


def _to_unicode_cmap(base_name: str, subset: list[int]) -> str:
    """ReportLab's ToUnicode map, with each code mapped to the text a reader should get back.

    ReportLab writes characters beyond U+FFFF as five hex digits (``<1F12F>``), which
    readers decode as the wrong character or drop, so they become UTF-16 surrogate
    pairs. A ligature (ﬁ, ﬄ: drawn when text is shaped) maps to its letters, so
    copying, searching and extraction give back the words as written.
    """
    return re.sub(r"^(<[0-9A-F]{2}> )<([0-9A-F]{4,6})>$",
                  lambda m: f"{m[1]}<{_readable(chr(int(m[2], 16))).encode('utf-16-be').hex().upper()}>",
                  makeToUnicodeCMap(base_name, subset), flags=re.MULTILINE)


def _readable(char: str) -> str:
    """The letters of a Latin ligature (U+FB00–U+FB06), any other character itself."""
    return unicodedata.normalize("NFKC", char) if "\ufb00" <= char <= "\ufb06" else char


_BY_POSTSCRIPT_NAME: dict[str, StableTTFont] = {}
_SUBSET_DIGITS = str.maketrans("ABCDEFGIJK", "0123456789")  # ReportLab's SUBSETN, backwards


def font_carrier(base_fonts: Iterable[str]) -> bytes:
    """A one-page PDF embedding, in full, each font subset named (``AAAAAB+SourceSerifPro-Regular``).

    It is never shown: assembly copies its font objects, once each, for the stubs
    that every piece refers to.
    """
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1, pageCompression=1)
    for base in sorted(base_fonts):
        code, _, postscript_name = base.partition("+")
        font = _BY_POSTSCRIPT_NAME[postscript_name]
        subset = font._subsets[int(code.translate(_SUBSET_DIGITS))]
        canvas.setFont(font.fontName, 1)
        canvas.drawString(0, 0, chr(next(c for c in subset if c > 32)))  # one character puts it in use
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _code_table(char_to_glyph: dict[int, int]) -> tuple[dict[int, int], list[list[int]]]:
    """Assign every character of the font a fixed code: subset = code // 256.

    Code 0 of each subset is .notdef and code 32 is the space (PDF word spacing
    only stretches byte 32); ASCII keeps its own codes in subset 0.
    """
    codes = {c: c for c in range(32, 127) if c in char_to_glyph}
    priority = [ord(c) for c in _PRIORITY if ord(c) in char_to_glyph]
    rest = sorted(set(char_to_glyph) - set(codes) - set(priority) - {0xA0})
    chars = priority + [c for c in rest if c > 126]
    free = [code for code in range(1, 256) if not 32 <= code < 127]
    subsets = [[0] * 32 + list(range(32, 127)) + [0] * 129]
    while len(free) < len(chars):
        base = 256 * len(subsets)
        subsets.append([0] * 32 + [32] + [0] * 223)
        free += [base + offset for offset in range(1, 256) if offset != 32]
    for char, code in zip(chars, free, strict=False):
        codes[char] = code
        subsets[code // 256][code % 256] = char
    last = max(codes.values())
    subsets[-1] = subsets[-1][: last % 256 + 1]
    return codes, subsets


_ELSEWHERE = "\u0100"  # not Latin-1: a character outside subset 0 sends the text to ReportLab's loop


def _subset_zero_table(codes: dict[int, int], char_to_glyph: dict[int, int]) -> dict[int, str]:
    """A ``str.translate`` table giving each character's code in subset 0, as ReportLab's loop assigns it.

    A no-break space is drawn as the space (as ReportLab does) and a character the
    face lacks as code 0; a Latin-1 character not in subset 0 (or not encodable)
    maps outside Latin-1, so the one-pass encoding fails and the loop decides.
    """
    table = {char: chr(code) for char, code in codes.items() if code < 256}
    for char in range(256):
        drawn = 32 if char == 0xA0 else char
        if drawn in codes:
            table[char] = chr(codes[drawn]) if codes[drawn] < 256 else _ELSEWHERE
        else:
            table[char] = "\0" if drawn not in char_to_glyph else _ELSEWHERE
    return table


def _memoised(make_subset):  # type: ignore[no-untyped-def]
    """Subsetting is the slow part of embedding; each subset is identical, so do it once."""

    @functools.cache
    def cached(subset: tuple[int, ...]) -> bytes:
        return make_subset(list(subset))

    return lambda subset: cached(tuple(subset))


@functools.cache
def register_family(family: str) -> FontSet:
    """Register a family's four faces with ReportLab (once per process)."""
    paths = FAMILIES[family]
    names = FontSet(*(f"{family}-{style}" for style in ("regular", "italic", "bold", "bold-italic")))
    for name, path in zip(
        (names.regular, names.italic, names.bold, names.bold_italic),
        (paths.regular, paths.italic, paths.bold, paths.bold_italic), strict=False,
    ):
        pdfmetrics.registerFont(StableTTFont(name, path))
    for bold, italic, name in ((0, 0, names.regular), (0, 1, names.italic),
                               (1, 0, names.bold), (1, 1, names.bold_italic)):
        addMapping(names.regular, bold, italic, name)
    return names


def missing_glyphs(text: str, family: str | None = None, fallbacks: tuple[str, ...] = ()) -> list[str]:
    """Characters of ``text`` that ``family`` and its ``fallbacks`` cannot draw (they would print as boxes).

    With no family, every family of the catalogue is tried (what any layout could draw).
    """
    if family is None:
        family, fallbacks = next(iter(FAMILIES)), tuple(FAMILIES)
    face = f"{family}-regular"
    return sorted(c for c in set(text) if not c.isspace()
                  and ord(c) not in pdfmetrics.getFont(face_for(c, face, fallbacks)).face.charToGlyph)


def undrawable(text: str, face: str, fallbacks: tuple[str, ...]) -> list[str]:
    """Characters of ``text`` that neither ``face`` (a registered face, e.g. 'ibm-plex-mono-italic')
    nor its fallback chain can draw: the check for text as it is actually set."""
    register_family(_split_face(face)[0])
    covered = _covered(face)
    return sorted(c for c in set(text) if not c.isspace() and ord(c) not in covered
                  and ord(c) not in _covered(face_for(c, face, fallbacks)))


def family_label(family: str) -> str:
    """The family's printed name, e.g. 'Source Serif Pro'."""
    return FAMILY_LABELS.get(family, family)


_STYLE_UPRIGHT = {"regular": "regular", "italic": "regular", "bold": "bold", "bold-italic": "bold"}


def _split_face(face: str) -> tuple[str, str]:
    """'source-serif-bold-italic' → ('source-serif', 'bold-italic')."""
    family = next(f for f in FAMILIES if face.startswith(f + "-"))
    return family, face[len(family) + 1:]


def _fallback_chain(face: str, fallbacks: tuple[str, ...]) -> list[str]:
    """Faces to try, in order, for a character that ``face`` cannot draw.

    The same style in the face's own family, then upright (an italic lacking a
    letter borrows the upright one), then each declared fallback family likewise.
    """
    family, style = _split_face(face)
    chain = [face, f"{family}-{_STYLE_UPRIGHT[style]}"]
    for other in fallbacks:
        chain += [f"{other}-{style}", f"{other}-{_STYLE_UPRIGHT[style]}"]
    return list(dict.fromkeys(chain))


@functools.cache
def _covered(face: str) -> frozenset[int]:
    """Code points ``face`` draws, plus the whitespace that every face sets as space."""
    return frozenset(pdfmetrics.getFont(face).face.charToGlyph) | {9, 10, 13, 32, 0xA0}


@functools.lru_cache(maxsize=16384)
def face_for(char: str, face: str, fallbacks: tuple[str, ...] = ()) -> str:
    """The face that draws ``char``: ``face`` itself, or the first fallback that has it."""
    for candidate in _fallback_chain(face, fallbacks):
        register_family(_split_face(candidate)[0])
        if ord(char) in pdfmetrics.getFont(candidate).face.charToGlyph:
            return candidate
    return face


def font_runs(text: str, face: str, fallbacks: tuple[str, ...]) -> list[tuple[str, str]]:
    """Split text into (face, text) runs so every character is drawn by a face that has it."""
    if _covered(face).issuperset(map(ord, text)):
        return [(face, text)] if text else []
    runs: list[tuple[str, str]] = []
    start = 0
    current = face
    for index, char in enumerate(text):
        chosen = face if char.isspace() else face_for(char, face, fallbacks)
        if chosen != current:
            if index > start:
                runs.append((current, text[start:index]))
            start, current = index, chosen
    if len(text) > start:
        runs.append((current, text[start:]))
    return runs
