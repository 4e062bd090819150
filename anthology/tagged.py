"""Tagged PDF, part two: every piece's recorded structure grafted into the book's structure tree.

Each piece was drawn with its meaning recorded (:mod:`anthology.layout.tagging`):
its elements, and for each of its pages which element each marked-content id
(MCID) belongs to. Pages keep their MCIDs when assembly copies them, so here
the book's tree is built around them: Document → the front matter's sections,
the contents (TOC), a Part per divider holding its entries (Sect), the index;
each page gets ``/StructParents`` and ``/Tabs /S``, the ParentTree maps page
and MCID back to the element, and every link annotation gets a Link element,
a ``/StructParent`` and a ``/Contents`` description. An entry placed inside a
part has its headings moved one level down (H1 → H2), so the book's headings
never skip a level.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pikepdf
from pikepdf import Name

from .model import Piece

ROOT_ROLE = {"title": "Sect", "intro": "Sect", "contents": "TOC", "divider": "Part", "entry": "Sect",
             "index": "Index", "about": "Sect"}
"""The element a piece of each kind becomes; the cover is decoration only (its words are on the title page)."""


@dataclass(frozen=True, slots=True)
class PlacedPiece:
    piece: Piece
    start: int
    """Index of its first page in the book."""
    language: str = ""
    """Its language when it is not the book's (an entry's ``language:``), for the element's /Lang."""


class _Tree:
    """The book's structure tree while it is built, as qpdf JSON that :meth:`finish` hands to qpdf in one call.

    A book has tens of thousands of elements, and each pikepdf call costs
    microseconds (making an object indirect, about 20), so the elements are
    written as the JSON objects qpdf reads (``"12 0 R"`` for a reference,
    ``"/Name"``, ``"u:text"``) under new object numbers, and qpdf adds them all
    at once. The book's pages are looked up once (``pdf.pages[i]`` walks the
    whole page list on every call).
    """

    def __init__(self, pdf: pikepdf.Pdf) -> None:
        self.pdf = pdf
        self.pages = [page.obj for page in pdf.pages]
        self.page_refs = [_ref(page) for page in self.pages]
        self.parent_tree: list[object] = []
        self.ids: dict[str, str] = {}
        """The Notes' elements by their IDs, for the IDTree."""
        self.objects: dict[str, dict[str, object]] = {}
        for page in self.pages:  # a link's element names its annotation: made indirect before numbering starts
            annotations = page.get(Name.Annots)
            for at, annotation in enumerate(annotations or ()):
                if not annotation.is_indirect and annotation.get(Name.Subtype) == Name.Link:
                    annotations[at] = pdf.make_indirect(annotation)
        self.next = int(pdf.make_indirect(pikepdf.Dictionary()).objgen[0]) + 1  # above every object of the book
        self.root = self.new({"/Type": "/StructTreeRoot"})
        self.document, self.document_kids = self.element("Document", self.root)
        self.objects[self.root]["/K"] = [self.document]

    def new(self, value: dict[str, object]) -> str:
        """A new object of the book (as a reference)."""
        ref = f"{self.next} 0 R"
        self.next += 1
        self.objects[ref] = value
        return ref

    def element(self, role: str, parent: str, alt: str = "", page: int | None = None,
                **more: object) -> tuple[str, list[object]]:
        """A new element and the list its kids go in."""
        kids: list[object] = []
        value: dict[str, object] = {"/Type": "/StructElem", "/S": "/" + role, "/P": parent, "/K": kids}
        if alt:
            value["/Alt"] = "u:" + alt
        if page is not None:
            value["/Pg"] = self.page_refs[page]
        for key, field in more.items():
            value["/" + key] = field
        return self.new(value), kids

    def finish(self) -> pikepdf.Object:
        """Add the tree's objects to the book; returns its root."""
        self.objects[self.root] |= {"/ParentTree": self.new({"/Nums": [item for key, value in enumerate(
            self.parent_tree) for item in (key, value)]}), "/ParentTreeNextKey": len(self.parent_tree)}
        document = {"qpdf": [{"jsonversion": 2, "maxobjectid": self.next - 1},
                             {f"obj:{ref}": {"value": value} for ref, value in self.objects.items()}]}
        self.pdf.update_from_qpdf_json(io.BytesIO(json.dumps(document, ensure_ascii=False).encode()))
        return self.pdf.get_object(_objgen(self.root))


def _ref(obj: pikepdf.Object) -> str:
    number, generation = obj.objgen
    return f"{number} {generation} R"


def _objgen(ref: str) -> tuple[int, int]:
    number, generation, _ = ref.split()
    return int(number), int(generation)


def graft_structure(pdf: pikepdf.Pdf, placed: Sequence[PlacedPiece], link_labels: dict[str, str],
                    linked: set[str]) -> None:
    """Build the structure tree of the book in ``pdf`` from its pieces' records.

    ``link_labels`` gives the printed page of every link target (for the links'
    descriptions); ``linked`` the targets that got a link (assembly skips the others).
    """
    tree = _Tree(pdf)
    part: tuple[str, list[object]] | None = None
    for item in placed:
        piece = item.piece
        if not piece.structure or piece.kind not in ROOT_ROLE:
            continue
        if piece.kind in ("index", "about"):
            part = None
        holder, holder_kids = part if part is not None and piece.kind == "entry" else (tree.document,
                                                                                        tree.document_kids)
        inside = holder != tree.document
        top = tree.element(ROOT_ROLE[piece.kind], holder, **({"Lang": "u:" + item.language} if item.language else {}))
        holder_kids.append(top[0])
        if piece.kind == "divider":
            part = top
        _graft_piece(tree, piece, item.start, top, 1 if inside else 0, link_labels, linked)
    root = tree.finish()
    if tree.ids:
        ids = pikepdf.NameTree.new(pdf)
        for name, element in tree.ids.items():
            ids[name] = pdf.get_object(_objgen(element))
        root.IDTree = ids.obj
    pdf.Root.StructTreeRoot = root
    pdf.Root.MarkInfo = pikepdf.Dictionary(Marked=True)
    for page in tree.pages:
        page.Tabs = Name.S


def _graft_piece(tree: _Tree, piece: Piece, start: int, top: tuple[str, list[object]], shift: int,
                 link_labels: dict[str, str], linked: set[str]) -> None:
    record = json.loads(piece.structure)
    made: dict[int, tuple[str, list[object]]] = {}
    first_page: dict[int, int] = {}

    def element(number: int, page: int | None = None) -> tuple[str, list[object]]:
        if number not in made:
            role, parent, alt, lang = record["elements"][number]
            holder, holder_kids = top if parent < 0 else element(parent)
            if shift and role in ("H1", "H2", "H3", "H4", "H5"):
                role = f"H{int(role[1]) + shift}"
            more: dict[str, object] = {}
            if lang:
                more["Lang"] = "u:" + lang
            note = f"note-{len(tree.ids) + 1}" if role == "Note" else ""
            if note:  # PDF/UA: every Note has an ID, found through the IDTree
                more["ID"] = "u:" + note
            elif role == "TH":  # the header of the cells below it
                more["A"] = {"/O": "/Table", "/Scope": "/Column"}
            made[number] = tree.element(role, holder, alt, page, **more)
            holder_kids.append(made[number][0])
            if note:
                tree.ids[note] = made[number][0]
            if page is not None:
                first_page[number] = page
        return made[number]

    areas = [(number, area) for number, area in zip(record["areas"], piece.links, strict=True)
             if area.slug in linked]
    for offset, mcids in enumerate(record["pages"]):
        index = start + offset
        page, page_ref = tree.pages[index], tree.page_refs[index]
        if mcids:
            owners = []
            for mcid, number in enumerate(mcids):
                owner, kids = element(number, index)
                # On the page its element names once (/Pg) an MCID is a bare number; elsewhere an MCR.
                kids.append(mcid if first_page.get(number) == index else {"/Type": "/MCR", "/Pg": page_ref,
                                                                           "/MCID": mcid})
                owners.append(owner)
            page.StructParents = len(tree.parent_tree)
            tree.parent_tree.append(owners)
        owners_of_links = [(number, "", does) for number, does in record["links"][offset]]
        owners_of_links += [(number, area.slug, "") for number, area in areas if area.page_index == offset]
        if not owners_of_links:
            continue
        annotations = page.get(Name.Annots)
        links = [index for index, a in enumerate(annotations or ()) if a.get(Name.Subtype) == Name.Link]
        for at, (number, target, does) in zip(links, owners_of_links, strict=False):
            annotation = annotations[at]
            holder, holder_kids = top if number < 0 else element(number, index)
            link, link_kids = tree.element("Link", holder)
            holder_kids.append(link)
            link_kids.append({"/Type": "/OBJR", "/Obj": _ref(annotation), "/Pg": page_ref})
            annotation.StructParent = len(tree.parent_tree)
            tree.parent_tree.append(link)
            annotation.Contents = pikepdf.String(does or _describe(annotation, link_labels.get(target, "")))


def _describe(annotation: pikepdf.Object, label: str) -> str:
    """What a link does, for a screen reader: its web address, or the page it goes to."""
    action = annotation.get(Name.A)
    uri = str(action.get(Name.URI, "")) if action is not None else ""
    if uri.startswith("mailto:"):
        return f"E-mail {uri.removeprefix('mailto:')}"
    if uri:
        return f"Link to {uri}"
    if label:
        return f"Go to page {label}"
    return "Go to the page"


def keep_only(pdf: pikepdf.Pdf, first: int, end: int) -> None:
    """Prune the tree to the section that starts on page ``first``, for an extract of pages ``first``–``end``.

    The entry's Sect (with its headings, text, figures and links) becomes the
    only kid of a new Document; the ParentTree keeps the keys of those pages
    and their links. Saving then drops every other element with its pages.
    """
    root = pdf.Root.StructTreeRoot
    before = dict(zip(root.ParentTree.Nums[::2], root.ParentTree.Nums[1::2], strict=True))
    section = before[int(pdf.pages[first].obj.StructParents)][0]
    while section.P.get(Name.S) not in (Name.Document, Name.Part):  # up to the entry's Sect
        section = section.P
    keys = []
    for page in pdf.pages[first:end]:
        if Name.StructParents in page.obj:
            keys.append(int(page.obj.StructParents))
        keys += [int(a.StructParent) for a in page.obj.get(Name.Annots) or () if Name.StructParent in a]
    _raise_headings(section)
    document = pdf.make_indirect(pikepdf.Dictionary(Type=Name.StructElem, S=Name.Document, P=root,
                                                    K=pikepdf.Array([section])))
    section.P = document
    root.K = pikepdf.Array([document])
    nums: list[object] = []
    for key in sorted(keys):
        nums += [key, before[key]]
    root.ParentTree = pdf.make_indirect(pikepdf.Dictionary(Nums=pikepdf.Array(nums)))
    if Name.IDTree in root:  # only the entry's notes
        ids = pikepdf.NameTree.new(pdf)
        for element in _elements(section):
            if Name.ID in element:
                ids[str(element.ID)] = element
        root.IDTree = ids.obj


def _raise_headings(section: pikepdf.Object) -> None:
    """An entry inside a part starts at H2, under the part's H1; alone in an extract its headline
    is the first heading and must be H1 (Matterhorn 14-002, 14-003), the others following it up."""
    levels = {f"/H{level}": level for level in range(1, 7)}
    headings = [(element, levels[str(element.S)]) for element in _elements(section)
                if str(element.get(Name.S, "")) in levels]
    shift = min((level for _, level in headings), default=1) - 1
    for element, level in headings:
        element.S = Name(f"/H{level - shift}")


def _elements(element: pikepdf.Object) -> Iterator[pikepdf.Object]:
    """``element`` and every structure element below it."""
    yield element
    kids = element.get(Name.K)
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []:
        if isinstance(kid, pikepdf.Dictionary) and kid.get(Name.Type) == Name.StructElem:
            yield from _elements(kid)

