"""The declared fields of ``anthology.yaml``, a contribution and ``layout.yaml``.

Each field names its kind; a kind is a function that checks one YAML node and
returns the converted value or raises :class:`FieldProblem`. Validation walks
these declarations, so unknown keys, missing fields and wrong types are found
the same way everywhere, and the README's format tables list the same fields
(a test keeps them in step).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from . import words
from .diagnostics import did_you_mean
from .load import Node
from .model import Justification


class FieldProblem(Exception):
    """A value is present but wrong; carries a hint on how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


# Characters that are never legitimate in a name or headline: they reorder or
# hide text (bidi overrides, zero-width joiners) or are control codes.
_INVISIBLE = {
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
    "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f",
}


def _string(node: Node, multiline: bool) -> str:
    if isinstance(node.value, (list, dict)):
        raise FieldProblem("must be text, not a list or mapping", "write a single value")
    text = unicodedata.normalize("NFC", node.value or "")
    for index, char in enumerate(text):
        category = unicodedata.category(char)
        if char in "\n\t" and multiline:
            continue
        if category in ("Cc", "Cs") or (category == "Co"):
            raise FieldProblem(
                f"contains the control character U+{ord(char):04X} at offset {index}",
                "delete it; it is invisible and cannot be printed",
            )
    return "".join(c for c in text if c not in _INVISIBLE).strip()


def line(node: Node) -> str:
    """Single-line text; surrounding spaces dropped, NFC-normalised."""
    text = _string(node, multiline=False)
    return " ".join(text.split())


def text(node: Node) -> str:
    """Text that may span lines (a bio); whitespace runs fold to one space."""
    return " ".join(_string(node, multiline=True).split())


def markdown(node: Node) -> str:
    """Markdown kept as written (line breaks matter)."""
    return _string(node, multiline=True)


def integer(node: Node) -> int:
    if not node.plain or not isinstance(node.value, str) or not re.fullmatch(r"-?\d{1,6}", node.value):
        raise FieldProblem("must be a whole number", "write it without quotes, e.g. 3")
    return int(node.value)


def number(node: Node) -> float:
    if not node.plain or not isinstance(node.value, str):
        raise FieldProblem("must be a number", "write it without quotes, e.g. 10.5")
    try:
        return float(node.value)
    except ValueError:
        raise FieldProblem("must be a number", "for example 10.5") from None


def boolean(node: Node) -> bool:
    if node.plain and node.value in ("true", "false"):
        return node.value == "true"
    raise FieldProblem("must be true or false")


JUSTIFY_LIMITS = {"stretch": (0.0, 2.0), "shrink": (0.0, 0.5)}
"""Fractions of a space: more than double or less than half a space reads as a hole or a collision."""


def justification(node: Node) -> Justification:
    """``true``, ``false`` (ragged right) or ``{stretch: 0.5, shrink: 0.33}`` (justified with that glue)."""
    if not isinstance(node.value, dict):
        return Justification(justified=boolean(node))
    values: dict[str, float | bool] = {}
    for key, child in node.value.items():
        if key == "space_factors":
            values[key] = boolean(child)
            continue
        if key not in JUSTIFY_LIMITS:
            raise FieldProblem(f"has an unknown key '{key}'",
                               "use stretch, shrink and space_factors, e.g. {stretch: 0.5, shrink: 0.33}")
        low, high = JUSTIFY_LIMITS[key]
        value = number(child)
        if not low <= value <= high:
            raise FieldProblem(f"{key} must be between {low:g} and {high:g} (a fraction of a space), not {value:g}",
                               "TeX's defaults are stretch 0.5 and shrink 0.33")
        values[key] = value
    return Justification(**values)


_UNITS = {"pt": 1.0, "in": 72.0, "mm": 72 / 25.4, "cm": 72 / 2.54}


def length(node: Node) -> float:
    """A length in points: a number, or a number with pt, in, mm or cm."""
    value = node.value if isinstance(node.value, str) else ""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(pt|in|mm|cm)?\s*", value)
    if not match:
        raise FieldProblem("must be a length", "for example 0.75in, 18mm or 54pt")
    return float(match.group(1)) * _UNITS[match.group(2) or "pt"]


def color(node: Node) -> str:
    value = node.value if isinstance(node.value, str) else ""
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        raise FieldProblem("must be a colour like '#1f2a44'", "quote it: \"#1f2a44\"")
    return value.lower()


def http_url(node: Node) -> str:
    """An absolute http(s) URL with a host, nothing that could break out of markup."""
    value = line(node)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FieldProblem(
            "must be an http:// or https:// address",
            "write the full address, e.g. https://example.org/me",
        )
    if re.search(r"[\s\"'<>\\`{}|^]", value):
        raise FieldProblem(
            "contains characters that are not allowed in a web address",
            "remove spaces, quotes and angle brackets (or percent-encode them)",
        )
    return value


_BYTE_UNITS = {"": 1, "b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2, "gb": 1000**3, "gib": 1024**3}


def size(node: Node) -> int:
    """A byte count: a whole number, or a number with KiB, MiB, kB or MB."""
    value = node.value if isinstance(node.value, str) else ""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", value)
    if not match or match.group(2).lower() not in _BYTE_UNITS or float(match.group(1)) <= 0:
        raise FieldProblem("must be a size in bytes", "for example 65536, 64 KiB or 20 MiB")
    return int(float(match.group(1)) * _BYTE_UNITS[match.group(2).lower()])


def positive_number(node: Node) -> float:
    value = number(node)
    if not 0 < value < 1e9:
        raise FieldProblem("must be a number above zero", "for example 50")
    return value


LANGUAGE_TAG = r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*"
"""A BCP 47 language tag, as far as the book needs one (``de``, ``pt-BR``)."""


def language(node: Node) -> str:
    value = line(node)
    if not re.fullmatch(LANGUAGE_TAG, value):
        raise FieldProblem("must be a BCP 47 language tag", "for example en, en-GB, pl or vi")
    return value


def slug_list(node: Node) -> tuple[str, ...]:
    if not isinstance(node.value, list):
        raise FieldProblem("must be a list of contribution slugs", "e.g. [zoe-lindqvist, lukasz-wrobel]")
    return tuple(line(item) for item in node.value)


def focus(node: Node) -> tuple[float, float]:
    """Two fractions, across and down: where the crop of a photo is centred."""
    parts = line(node).replace(",", " ").split()
    try:
        x, y = (float(part) for part in parts)
    except ValueError:
        x = y = -1.0
    if not (0 <= x <= 1 and 0 <= y <= 1):
        raise FieldProblem("must be two numbers from 0 to 1, across then down",
                           "e.g. '0.5 0.3' for a face in the upper middle")
    return x, y


def choice(*options: str) -> Callable[[Node], str]:
    """A kind accepting one of ``options``."""

    def check(node: Node) -> str:
        value = line(node)
        if value not in options:
            raise FieldProblem(f"must be one of {', '.join(options)}{did_you_mean(value, options)}",
                               "write one of them exactly")
        return value

    return check


def whole_number(low: int, high: int) -> Callable[[Node], int]:
    def check(node: Node) -> int:
        value = integer(node)
        if not low <= value <= high:
            raise FieldProblem(f"must be between {low} and {high}")
        return value

    return check


def names(node: Node) -> tuple[str, ...]:
    """A list of names, or one name."""
    items = node.value if isinstance(node.value, list) else [node]
    return tuple(line(item) for item in items)


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kind: Callable[[Node], Any]
    doc: str
    required: bool = False
    attr: str = ""
    """The attribute it fills (``Layout.page_width`` for ``page: width``); empty: same as name."""
    max_chars: int = 0
    """Longest text accepted (0: no cap). Printed fields are capped so that no value can outgrow
    the frame it is set in (a contents line, a name block); the submission form uses the same caps."""


@dataclass(frozen=True, slots=True)
class Section:
    """A nested mapping of fields (``limits:`` in anthology.yaml, the sections of ``layout.yaml``)."""

    name: str
    fields: tuple[Field, ...]
    doc: str
    required: bool = False


BOOK_FIELDS: tuple[Field, ...] = (
    Field("title", line, "The book's title.", required=True, max_chars=200),
    Field("subtitle", line, "Shown on the cover and title page; the PDF's subject.", max_chars=300),
    Field("editor", line, "Editor's name; the PDF's author.", max_chars=200),
    Field("edition", line, "Edition, e.g. \"First edition\" or \"2026.1\".", max_chars=100),
    Field("date", line, "Publication date as printed, e.g. \"November 2026\".", max_chars=100),
    Field("language", language, "BCP 47 language tag of the book (default en)."),
    Field("license", line, "Licence line printed on the copyright page.", max_chars=500),
    Field("layout", line, "Name of a layout in layouts/ or built in (default perspectives).", max_chars=100),
    Field("intro", markdown, "The introduction: Markdown text, or the path of a .md file in the project."),
    Field("site_url", http_url, "Where the release folder will be published (makes share links absolute)."),
    Field("about_editor", markdown, "Optional 'About the editor' page at the end: Markdown, or a .md path."),
    Field("order", slug_list, "Optional list of contribution slugs giving the order of entries."),
)

LIMIT_FIELDS: tuple[Field, ...] = (
    Field("metadata_bytes", size, "Largest contribution YAML or front matter (default 64 KiB)."),
    Field("body_bytes", size, "Largest contribution Markdown file (default 1 MiB)."),
    Field("photo_bytes", size, "Largest headshot file (default 20 MiB)."),
    Field("photo_megapixels", positive_number, "Largest headshot, width × height in millions (default 50)."),
)

SECTION_FIELDS: tuple[Field, ...] = (
    Field("title", line, "The part's title, printed on its divider page.", required=True, max_chars=200),
    Field("intro", markdown, "A few lines under the title on the divider page."),
    Field("entries", slug_list, "The slugs of the part's entries, in order.", required=True),
)

BOOK_PARTS = Section("sections", SECTION_FIELDS,
                     "Optional parts: a list of {title, intro, entries}; each part gets a divider page.")

SUBMISSION_FIELDS: tuple[Field, ...] = (
    Field("open", boolean, "Accept entries through serve's /submit form (invited contributors only)."),
    Field("per_hour", whole_number(1, 1000), "Submissions one invitation may make per hour (default 10)."),
)

WORD_CHARS = 300
"""Longest fixed word: a heading or a line of the form (the tables' longest is 127), never a page of text."""


def word(node: Node) -> str | dict[str, str]:
    """A fixed word: one line of text, or for a counted word one line per CLDR plural category."""
    if not isinstance(node.value, dict):
        return line(node)
    forms = {}
    for category, child in node.value.items():
        if category not in words.PLURAL_FORMS:
            raise FieldProblem(f"has the plural form '{category}'", f"use {', '.join(words.PLURAL_FORMS)}")
        forms[category] = line(child)
        if len(forms[category]) > WORD_CHARS:
            raise FieldProblem(f"plural form '{category}' is {len(forms[category]):,} characters long; at most "
                               f"{WORD_CHARS} are allowed", "shorten it")
    if "other" not in forms:
        raise FieldProblem("has no 'other' form", "give at least other: (used for every number without its form)")
    return forms


WORD_FIELDS: tuple[Field, ...] = tuple(
    Field(key, word, f"The fixed word '{key}' (English: {words.table('en')[key]}).", max_chars=WORD_CHARS)
    for key in words.word_keys())

BOOK_SECTIONS: tuple[Section, ...] = (
    Section("limits", LIMIT_FIELDS, "Per-contribution size caps, checked before parsing or decoding."),
    Section("submissions", SUBMISSION_FIELDS, "The submission form of `serve`."),
    Section("words", WORD_FIELDS, "The book's fixed words, replacing its language's table key by key."),
)

CONTRIBUTION_FIELDS: tuple[Field, ...] = (
    Field("name", line, "The contributor's name as printed.", required=True, max_chars=120),
    Field("title", line, "The entry's headline.", required=True, max_chars=250),
    Field("role", line, "Job title or role.", max_chars=200),
    Field("organization", line, "Organisation.", max_chars=200),
    Field("bio", text, "One to three sentences about the contributor.", max_chars=1500),
    Field("photo", line, "Headshot (JPEG or PNG), relative to the contribution; must stay inside contributions/.",
          max_chars=255),
    Field("photo_focus", focus, "Where the face is, as 'x y' fractions from the top left (default '0.5 0.4')."),
    Field("pullquote", line, "A sentence from the entry, set large beside the text where the layout has room.",
          max_chars=400),
    Field("website", http_url, "An http:// or https:// address.", max_chars=2000),
    Field("order", integer, "Position in the book (whole number); entries without one follow, by name."),
    Field("sort_as", line, "How the name sorts in the index, e.g. 'Nguyen Thi Thao' (default: family name first).",
          max_chars=120),
    Field("status", choice("draft", "proofed", "approved"),
          "draft, proofed (the contributor has seen the proof) or approved (default approved)."),
    Field("language", language, "The entry's language, when it is not the book's (BCP 47, e.g. de): its "
          "hyphenation and quotes, and what screen readers and e-readers are told."),
)


LAYOUT_SECTIONS: tuple[Section, ...] = (
    Section("page", (
        Field("width", length, "Page (trim) width.", required=True, attr="page_width"),
        Field("height", length, "Page (trim) height.", required=True, attr="page_height"),
        Field("mirrored", boolean, "Swap inner and outer margins on left-hand pages (default false).",
              attr="mirrored"),
        Field("recto_starts", boolean, "Start every entry and part on a right-hand page (default false).",
              attr="recto_starts"),
        Field("bleed", length, "Paper beyond the trim for `--print`, where crop marks go (default 0).",
              attr="bleed"),
        Field("multiple_of", whole_number(1, 64),
              "`--print` pads the book with blank pages to a multiple of this (default 2).", attr="page_multiple"),
    ), "Trim size and how pages pair up.", required=True),
    Section("margins", (
        Field("top", length, "Top margin.", required=True, attr="margin_top"),
        Field("bottom", length, "Bottom margin (the folio sits inside it).", required=True, attr="margin_bottom"),
        Field("inner", length, "Margin on the binding side.", required=True, attr="margin_inner"),
        Field("outer", length, "Margin on the outside edge.", required=True, attr="margin_outer"),
    ), "Distance from the page edge to the text.", required=True),
    Section("columns", (
        Field("count", whole_number(1, 3), "Columns of entry text (default 1).", attr="columns"),
        Field("gap", length, "Space between columns (default 18pt).", attr="column_gap"),
    ), "Columns of the entries' body text."),
    Section("fonts", (
        Field("body", line, "Family for body text.", required=True, attr="body_font"),
        Field("heading", line, "Family for headlines and headings.", required=True, attr="heading_font"),
        Field("caption", line, "Family for names, captions and folios.", required=True, attr="caption_font"),
        Field("code", line, "Monospaced family for code (default ibm-plex-mono).", attr="code_font"),
        Field("fallback", names, "Families tried in order for characters a role's family lacks.",
              attr="fallback_fonts"),
    ), "Font families by role: source-serif, source-sans, roboto or ibm-plex-mono.", required=True),
    Section("sizes", (
        Field("body", number, "Body text size in points.", required=True, attr="body_size"),
        Field("leading", number, "Distance between body lines in points.", required=True, attr="body_leading"),
        Field("headline", number, "Entry headline size.", required=True, attr="headline_size"),
        Field("subheading", number, "Size of ## headings in entries.", required=True, attr="subheading_size"),
        Field("caption", number, "Size of names, roles, bios and folios.", required=True, attr="caption_size"),
        Field("photo", length, "Width of the printed headshot.", required=True, attr="photo_size"),
    ), "Type sizes.", required=True),
    Section("colors", (
        Field("text", color, "Body text.", required=True, attr="text_color"),
        Field("accent", color, "Rules, links and the cover band.", required=True, attr="accent_color"),
        Field("muted", color, "Roles, captions and folios.", required=True, attr="muted_color"),
        Field("cover", color, "Cover background.", required=True, attr="cover_color"),
        Field("cover_text", color, "Text on the cover.", required=True, attr="cover_text_color"),
    ), "Colours as #rrggbb.", required=True),
    Section("furniture", (
        Field("folio", choice("bottom-center", "bottom-outside", "top-outside", "none"),
              "Where page numbers go (default bottom-center).", attr="folio"),
        Field("running_head", choice("entry", "book-and-name", "none"),
              "entry: name · headline on an entry's later pages; book-and-name: the book's title on "
              "left-hand pages, the contributor on right-hand pages (default entry).", attr="running_head"),
        Field("head_rule", boolean, "A hairline under the running head (default false).", attr="head_rule"),
    ), "Page numbers and running heads."),
    Section("entry", (
        Field("pages", whole_number(0, 50), "Page budget per entry; 0 for none (default 0).", attr="entry_pages"),
        Field("photo_shape", choice("circle", "square"), "Crop of the headshot (default circle).",
              attr="photo_shape"),
        Field("min_photo_dpi", whole_number(0, 1200), "Warn about headshots printing below this (default 150).",
              attr="min_photo_dpi"),
    ), "How an entry is set."),
    Section("fit", (
        Field("min_body", number, "Smallest body size `build --fit` may use.", attr="fit_min_body"),
        Field("min_leading", number, "Tightest leading `build --fit` may use.", attr="fit_min_leading"),
        Field("min_photo", length, "Smallest headshot `build --fit` may use.", attr="fit_min_photo"),
    ), "What `build --fit` may change to bring an entry within its page budget."),
    Section("assets", (
        Field("cover_image", line, "A JPEG or PNG in the layout's folder, behind the cover text.",
              attr="cover_image"),
        Field("logo", line, "A JPEG or PNG in the layout's folder, on the cover and title page.", attr="logo"),
    ), "Images that belong to the layout."),
)

LAYOUT_FIELDS: tuple[Field, ...] = (
    Field("description", line, "One line shown by `anthology layouts`.", required=True),
    Field("base", line, "Another layout whose values this one starts from."),
    Field("justify", justification, "Justify body text (true, or how far spaces may stretch and shrink: "
          "{stretch: 0.5, shrink: 0.33, space_factors: true}) or set it ragged right (false)."),
    Field("hyphenate", boolean, "Hyphenate in the book's language (default true)."),
)


def contribution_json_schema() -> dict[str, Any]:
    """A JSON Schema for contribution YAML, made from :data:`CONTRIBUTION_FIELDS` (never kept by hand).

    Editors such as VS Code (with the YAML extension) use it to complete field
    names and flag mistakes while a contributor types.
    """
    kinds: dict[Callable[[Node], Any], dict[str, Any]] = {
        integer: {"type": "integer"}, http_url: {"type": "string", "pattern": "^https?://[^\\s\"'<>]+$"},
        focus: {"type": "string", "pattern": "^\\s*[01](\\.\\d+)?[\\s,]+[01](\\.\\d+)?\\s*$"},
    }
    properties = {}
    for field in CONTRIBUTION_FIELDS:
        spec = dict(kinds.get(field.kind, {"type": "string"}))
        if field.name == "status":
            spec["enum"] = ["draft", "proofed", "approved"]
        if field.max_chars:
            spec["maxLength"] = field.max_chars
        properties[field.name] = {"description": field.doc, **spec}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Anthology contribution",
            "type": "object", "properties": properties, "additionalProperties": False,
            "required": [f.name for f in CONTRIBUTION_FIELDS if f.required]}
