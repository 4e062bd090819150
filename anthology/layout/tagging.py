"""Tagged PDF, part one: what each piece's drawing means, recorded while ReportLab draws it.

ReportLab writes no structure, so each piece is drawn on a canvas that adds it:
everything drawn on a page is an artifact (``/Artifact BMC … EMC``: rules,
photo rings, dot leaders, anything decorative) unless a flowable that carries
a structure :class:`Node` draws it; then it is marked content
``/P <</MCID n>> BDC … EMC`` and the canvas notes which element MCID *n* of
that page belongs to. The piece carries the record (:attr:`Piece.structure`,
JSON, so the entry cache keeps it with the PDF) and assembly
(:mod:`anthology.tagged`) grafts every piece's record into the book's
structure tree. Furniture stamped later is wrapped as an artifact there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager

from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import PDFTextObject

from ..fonts import KernedTextObject, StubFontCanvas
from .setting import InsideWord


class Node:
    """A structure element of a piece, with its parent; only identity matters while drawing.

    ``lang`` is its language where it differs from its surroundings' (a portrait's alt text, in the
    book's language, in an entry written in another).
    """

    __slots__ = ("alt", "lang", "parent", "role")

    def __init__(self, role: str, parent: Node | None = None, alt: str = "", lang: str = "") -> None:
        self.role, self.parent, self.alt, self.lang = role, parent, alt, lang


class ArtifactPages:
    """A canvas mixin: each page's content is an artifact except what :meth:`marked` wraps."""

    def _init_tagging(self) -> None:
        self._ids: dict[int, int] = {}
        self._elements: list[list[object]] = []
        self._pages: list[list[int]] = [[]]
        self._links: list[list[list]] = [[]]
        self._areas: list[int] = []
        self._depth = 0
        self._current: int | None = None
        self._tag = ""
        self._keep: list[Node] = []

    def showPage(self) -> None:
        self._code.insert(0, "/Artifact BMC")  # type: ignore[attr-defined]
        self._code.append("EMC")  # type: ignore[attr-defined]
        super().showPage()  # type: ignore[misc]
        self._pages.append([])
        self._links.append([])

    def _element(self, node: Node) -> int:
        """The element's number, registering it (and its ancestors first) on first sight."""
        number = self._ids.get(id(node))
        if number is None:
            parent = self._element(node.parent) if node.parent is not None else -1
            number = self._ids[id(node)] = len(self._elements)
            self._elements.append([node.role, parent, node.alt, node.lang])
            self._keep.append(node)  # ids must stay unique while drawing: keep the nodes alive
        return number

    @contextmanager
    def marked(self, node: Node | None) -> Iterator[None]:
        """Draw the body of the ``with`` as marked content of ``node`` (nested calls join the outer one)."""
        repeated = node is not None and node.role == "TH" and id(node) in self._ids \
            and self._ids[id(node)] not in self._pages[-1]  # a table's header row again, on a later page
        if node is None or self._depth or repeated:
            nested = node is not None and not repeated
            self._depth += nested
            try:
                yield
            finally:
                self._depth -= nested
            return
        element = self._element(node)
        mcid = len(self._pages[-1])
        self._pages[-1].append(element)
        tag = node.role if node.role in _MARKED_ROLES else "Span"
        self._code.append(f"EMC /{tag} <</MCID {mcid}>> BDC")  # type: ignore[attr-defined]
        self._depth, self._current, self._tag = 1, element, tag
        try:
            yield
        finally:
            self._code.append("EMC /Artifact BMC")  # type: ignore[attr-defined]
            self._depth, self._current = 0, None

    def linkURL(self, url, rect, relative=0, thickness=0, color=None, dashArray=None, kind="URI",
                **kw):  # type: ignore[no-untyped-def]
        """ReportLab's link annotation, noted against the element whose text carries it."""
        self._links[-1].append([-1 if self._current is None else self._current, ""])
        return super().linkURL(url, rect, relative, thickness, color, dashArray, kind, **kw)  # type: ignore[misc]

    def linkRect(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        """An internal link (a footnote mark and its note), noted like :meth:`linkURL`, with what it does."""
        found = re.search(r"-(note|mark)-(\d+)$", str(args[1] if len(args) > 1 else kwargs.get("destinationname")))
        does = "" if not found else f"Go to note {found[2]}" if found[1] == "note" else \
            f"Back to the text of note {found[2]}"
        self._links[-1].append([-1 if self._current is None else self._current, does])
        return super().linkRect(*args, **kwargs)  # type: ignore[misc]

    def beginText(self, x: float = 0, y: float = 0, direction: str | None = None) -> PDFTextObject:
        return _SpacedText(self, x, y, direction=direction)

    def drawn_only(self) -> tuple[str, str]:
        """What a text object writes around a mark drawn for the eye only (inside the current element):
        the element's marked content ends, the mark is an artifact, and the element goes on under a new MCID."""
        assert self._current is not None
        self._pages[-1].append(self._current)
        return "EMC /Artifact BMC", f"EMC /{self._tag} <</MCID {len(self._pages[-1]) - 1}>> BDC"

    def note_area(self, node: Node) -> None:
        """A link assembly will add (a contents or index line), in the order of the piece's LinkAreas."""
        self._areas.append(self._element(node))

    def structure(self) -> str:
        """The record, as JSON: elements ``[role, parent, alt, lang]``, per page the element of each MCID,
        per page ``[element, description]`` of each link annotation, and the element of each LinkArea."""
        pages = self._pages[:-1] if not self._pages[-1] and len(self._pages) > 1 else self._pages
        links = self._links[: len(pages)]
        return json.dumps({"elements": self._elements, "pages": pages, "links": links, "areas": self._areas},
                          ensure_ascii=False, separators=(",", ":"))


class _SpacedText(KernedTextObject):
    """Text that ends each line with a real space, so a reader joining the lines of an element keeps words apart.

    Screen readers and ``pdfinfo -struct-text`` read an element's text in
    drawing order; ReportLab ends a line without a space, which would glue the
    last word of a line to the first of the next. A trailing space draws
    nothing. Lines ending in a hyphen (a word broken there), a slash (an address broken there) or inside a
    word (:class:`~.setting.InsideWord`: after a dash, in an address or an over-long token) get none.
    A code line's continuation mark is drawn as an artifact, so the code reads back as written.
    """

    _last = " "

    def _textOut(self, text: str, TStar: int = 0) -> None:  # ReportLab's names
        if text == CONTINUATION and isinstance(self._canvas, ArtifactPages) and self._canvas._current is not None:
            before, after = self._canvas.drawn_only()
            self._code.append(before)
            super()._textOut(text, 0)
            self._code.append(after)
            self._last = text
            if not TStar:
                return
            text = ""
        if text:
            self._last = str.__getitem__(text, -1)  # a shaped string's own indexing copies its glyph data
        if TStar and not isinstance(text, InsideWord) and not self._last.endswith(_NO_SPACE_AFTER):
            if text:  # the text may be a shaped (kerned) string: it is drawn as it is, the space after it
                super()._textOut(text, 0)
            text, self._last = " ", " "
        super()._textOut(text, TStar)


CONTINUATION = "↪"
"""Ends a code line that had to be broken to fit the frame (IBM Plex Mono draws it); not part of the code."""

_NO_SPACE_AFTER = (" ", "-", "\u00ad", "\u2010", "\u2011", "/", CONTINUATION)

_MARKED_ROLES = {"P", "H1", "H2", "H3", "H4", "Lbl", "LBody", "Figure", "Span", "Reference", "Code"}
"""Roles used as the tag of marked content itself; others are marked as Span and named by the element."""


class TaggingCanvas(ArtifactPages, StubFontCanvas):
    """The canvas every piece is drawn on (fonts as stubs, see :mod:`anthology.fonts`)."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._init_tagging()


def marked(canvas: Canvas, node: Node | None):  # type: ignore[no-untyped-def]
    """``canvas.marked(node)`` on a tagging canvas; nothing on any other (a proof drawn elsewhere)."""
    if isinstance(canvas, ArtifactPages):
        return canvas.marked(node)
    return _nothing()


@contextmanager
def _nothing() -> Iterator[None]:
    yield
