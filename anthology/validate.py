"""Stage 2: turn the project's files into typed values, reporting every problem.

``validate_project`` reads ``anthology.yaml``, every contribution and the
chosen layout, checks each field against :mod:`anthology.schema`, and checks
what crosses files: duplicate ``order`` values, an ``order`` list naming
unknown slugs, photos that are missing, not JPEG/PNG, or outside
``contributions/``. It never stops at the first problem, and it never opens a
file outside the project because an input named it: paths are checked
lexically and after resolving symlinks before anything is opened.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from . import schema
from .diagnostics import Report, did_you_mean
from .fonts import FAMILIES, missing_glyphs
from .load import MAX_BODY_BYTES, MAX_YAML_BYTES, Node, parse_yaml, read_text, split_front_matter
from .model import BookConfig, Contribution, Layout, Photo, Position

BUILTIN_LAYOUTS = Path(__file__).parent / "layouts"
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png"}
MAX_PHOTO_PIXELS = 40_000_000
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")


@dataclass(frozen=True, slots=True)
class Project:
    """Everything the later stages need, validated."""

    book: BookConfig
    layout: Layout
    contributions: tuple[Contribution, ...]
    """In book order."""


def validate_project(root: Path, report: Report) -> Project | None:
    """Check a whole project; returns None when any error was reported."""
    root = root.resolve()
    book = _read_book(root, report)
    layout = read_layout(root, book.layout if book else "perspectives", report)
    contributions = _read_contributions(root, report)
    if book is None or layout is None or report.errors:
        return None
    ordered = _order(book, contributions, report)
    if report.errors:
        return None
    return Project(book, layout, ordered)


# anthology.yaml ------------------------------------------------------------


def _read_book(root: Path, report: Report) -> BookConfig | None:
    path = root / "anthology.yaml"
    if not path.is_file():
        report.error(Position(path), "no anthology.yaml in the project folder",
                     "create it with at least a title: line, or run the command in the project folder")
        return None
    source = read_text(path, report, MAX_YAML_BYTES, "anthology.yaml")
    if source.text is None:
        return None
    values = _check_mapping(parse_yaml(source.text, path, report), schema.BOOK_FIELDS, path, report)
    if values is None or "title" not in values:
        return None
    _check_glyphs(values, report)
    intro, intro_position = values.pop("intro", ("", None))
    if intro and "\n" not in intro.strip() and intro.strip().endswith(".md"):
        intro, intro_position = _read_intro_file(root, intro.strip(), intro_position, report)
    plain = {key: value for key, (value, _) in values.items()}
    return BookConfig(root=root, intro=intro, intro_position=intro_position, **plain)


def _read_intro_file(root: Path, name: str, position: Position, report: Report) -> tuple[str, Position]:
    path = _inside(root, name, position, report, "intro")
    if path is None:
        return "", position
    source = read_text(path, report, MAX_BODY_BYTES, "introduction")
    return source.text or "", Position(path)


# contributions -------------------------------------------------------------


def _read_contributions(root: Path, report: Report) -> list[Contribution]:
    folder = root / "contributions"
    if not folder.is_dir():
        report.error(Position(root / "anthology.yaml"), "no contributions/ folder in the project",
                     "create contributions/ and put one <slug>.yaml + <slug>.md per entry in it")
        return []
    files = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    stems = {p.stem for p in files if p.suffix == ".yaml"}
    found: list[Contribution] = []
    for path in files:
        if path.is_symlink() and path.suffix in (".yaml", ".md"):
            report.error(Position(path), "contribution files may not be symbolic links",
                         "copy the file into contributions/ instead")
            continue
        if path.suffix == ".yml":
            report.error(Position(path), "contribution metadata must end in .yaml",
                         f"rename it to {path.stem}.yaml")
        elif path.suffix == ".yaml":
            entry = _read_pair(folder, path, report)
            found += [entry] if entry else []
        elif path.suffix == ".md" and path.stem not in stems:
            entry = _read_front_matter(folder, path, report)
            found += [entry] if entry else []
    if not found and not report.errors:
        report.error(Position(folder), "contributions/ holds no entries",
                     "add <slug>.yaml with <slug>.md, or <slug>.md with front matter")
    return found


def _read_pair(folder: Path, path: Path, report: Report) -> Contribution | None:
    source = read_text(path, report, MAX_YAML_BYTES, "contribution metadata")
    body_path = path.with_suffix(".md")
    if not body_path.is_file():
        report.error(Position(path), f"no body file {body_path.name} next to {path.name}",
                     f"write the entry's text in contributions/{body_path.name}")
        body = None
    else:
        body = read_text(body_path, report, MAX_BODY_BYTES, "contribution body").text
    if source.text is None:
        return None
    node = parse_yaml(source.text, path, report)
    return _contribution(folder, path, node, body, Position(body_path), report)


def _read_front_matter(folder: Path, path: Path, report: Report) -> Contribution | None:
    source = read_text(path, report, MAX_BODY_BYTES, "contribution")
    if source.text is None:
        return None
    parts = split_front_matter(source.text)
    if parts is None:
        report.error(Position(path), "no metadata for this entry",
                     f"start the file with a '---' fenced YAML block, or add {path.stem}.yaml")
        return None
    yaml_text, body, body_line = parts
    node = parse_yaml(yaml_text, path, report, first_line=2)
    return _contribution(folder, path, node, body, Position(path, body_line), report)


def _contribution(folder: Path, path: Path, node: Node | None, body: str | None,
                  body_position: Position, report: Report) -> Contribution | None:
    slug = path.stem
    if not SLUG.fullmatch(slug):
        suggestion = re.sub(r"[^a-z0-9]+", "-", slug.lower()).strip("-") or "entry"
        report.error(Position(path), f"'{slug}' is not a valid slug (lower-case letters, digits, '-')",
                     f"rename the file to {suggestion}{path.suffix}")
    values = _check_mapping(node, schema.CONTRIBUTION_FIELDS, path, report)
    if body is not None and not body.strip():
        report.error(body_position, "the entry's body is empty", "write the text of the entry")
    if values is None or body is None or not {"name", "title"} <= values.keys():
        return None
    _check_glyphs({**values, "body": (body, body_position)}, report)
    positions = {key: position for key, (_, position) in values.items()}
    photo = None
    if "photo" in values:
        name, position = values.pop("photo")
        photo = _check_photo(folder, name, position, report)
    plain = {key: value for key, (value, _) in values.items()}
    return Contribution(slug=slug, body=body, body_position=body_position, photo=photo,
                        source=path, positions=positions, **plain)


def _check_photo(folder: Path, name: str, position: Position, report: Report) -> Photo | None:
    path = _inside(folder, name, position, report, "photo", "contributions/")
    if path is None:
        return None
    if path.suffix.lower() not in PHOTO_SUFFIXES:
        report.error(position, f"photo '{name}' is not a .jpg, .jpeg or .png file",
                     "convert the headshot to JPEG or PNG")
        return None
    try:
        with Image.open(path) as image:
            kind, size = image.format, image.size
    except (OSError, Image.DecompressionBombError, ValueError) as exc:
        report.error(position, f"photo '{name}' cannot be read as an image ({exc})",
                     "re-export it as JPEG or PNG")
        return None
    if kind not in ("JPEG", "PNG"):
        report.error(position, f"photo '{name}' is a {kind} image, not JPEG or PNG",
                     "convert it to JPEG or PNG")
        return None
    if size[0] * size[1] > MAX_PHOTO_PIXELS:
        report.error(position, f"photo '{name}' is {size[0]}×{size[1]} pixels, too large",
                     "a headshot of 1000×1000 pixels is plenty")
        return None
    return Photo(path, position)


def _check_glyphs(values: dict[str, tuple[Any, Position]], report: Report) -> None:
    """Every character must have a glyph in some face of the fonts: never print a silent box."""
    for key, (value, position) in values.items():
        for char in missing_glyphs(value) if isinstance(value, str) else ():
            report.error(position, f"'{char}' (U+{ord(char):04X}) in {key} cannot be drawn by the book's fonts",
                         "replace the character, or ask the editor for a layout with a font that has it")


def _inside(base: Path, name: str, position: Position, report: Report, what: str,
            shown: str = "the project") -> Path | None:
    """Resolve ``name`` under ``base`` without ever leaving it; report and return None if it would."""
    outside = (f"{what} '{name}' points outside {shown}",
               f"put the file inside {shown} and give its path relative to it")
    if "\x00" in name or name.startswith(("/", "~", "\\")) or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", name):
        report.error(position, *outside)
        return None
    candidate = os.path.normpath(os.path.join(base, name))
    if os.path.commonpath([candidate, str(base)]) != str(base):
        report.error(position, *outside)
        return None
    resolved = Path(os.path.realpath(candidate))
    if os.path.commonpath([str(resolved), str(base)]) != str(base):
        report.error(position, *outside)
        return None
    try:
        mode = resolved.stat().st_mode
    except OSError:
        report.error(position, f"{what} '{name}' not found", f"check the file name in {shown}")
        return None
    if not stat.S_ISREG(mode):
        report.error(position, f"{what} '{name}' is not a regular file", "name an image file")
        return None
    return resolved


# layout.yaml ---------------------------------------------------------------


def available_layouts(root: Path) -> dict[str, Path]:
    """Layout name → its layout.yaml; the project's own override built-in ones."""
    found: dict[str, Path] = {}
    for folder in (BUILTIN_LAYOUTS, root / "layouts"):
        if folder.is_dir():
            for candidate in sorted(folder.glob("*/layout.yaml")):
                found[candidate.parent.name] = candidate
    return found


def read_layout(root: Path, name: str, report: Report) -> Layout | None:
    """Read, merge (``base:``) and check a layout by name."""
    node = _layout_node(root, name, report, Position(root / "anthology.yaml"), ())
    if node is None:
        return None
    path = available_layouts(root)[name]
    assert isinstance(node.value, dict)
    top = {k: v for k, v in node.value.items() if k not in {s.name for s in schema.LAYOUT_SECTIONS}}
    values = _check_mapping(Node(top, node.position), schema.LAYOUT_FIELDS, path, report,
                            extra=[s.name for s in schema.LAYOUT_SECTIONS])
    sections: dict[str, dict[str, Any]] = {}
    for section in schema.LAYOUT_SECTIONS:
        child = node.value.get(section.name)
        if child is None:
            report.error(Position(path), f"layout has no '{section.name}' section", section.doc)
            continue
        checked = _check_mapping(child, section.fields, child.position.path, report)
        if checked is not None:
            sections[section.name] = {k: v for k, (v, _) in checked.items()}
    if values is None or len(sections) != len(schema.LAYOUT_SECTIONS):
        return None
    for role, family in sections["fonts"].items():
        if family not in FAMILIES:
            report.error(node.value["fonts"].value[role].position,  # type: ignore[index,union-attr]
                         f"unknown font family '{family}'{did_you_mean(family, FAMILIES)}",
                         f"available: {', '.join(sorted(FAMILIES))}")
    if report.errors:
        return None
    page, margins, fonts, sizes, colors = (sections[s.name] for s in schema.LAYOUT_SECTIONS)
    return Layout(
        name=name, description=values["description"][0], source=path,
        page_width=page["width"], page_height=page["height"],
        margin_top=margins["top"], margin_bottom=margins["bottom"],
        margin_inner=margins["inner"], margin_outer=margins["outer"],
        body_font=fonts["body"], heading_font=fonts["heading"], caption_font=fonts["caption"],
        body_size=sizes["body"], body_leading=sizes["leading"], headline_size=sizes["headline"],
        subheading_size=sizes["subheading"], caption_size=sizes["caption"], photo_size=sizes["photo"],
        text_color=colors["text"], accent_color=colors["accent"], muted_color=colors["muted"],
        cover_color=colors["cover"], cover_text_color=colors["cover_text"],
        justify=values.get("justify", (True, None))[0],
    )


def _layout_node(root: Path, name: str, report: Report, position: Position,
                 seen: tuple[str, ...]) -> Node | None:
    layouts = available_layouts(root)
    if name not in layouts:
        report.error(position, f"unknown layout '{name}'{did_you_mean(name, layouts)}",
                     f"available: {', '.join(sorted(layouts))}")
        return None
    if name in seen:
        report.error(position, f"layout '{name}' is its own base ({' → '.join((*seen, name))})")
        return None
    path = layouts[name]
    source = read_text(path, report, MAX_YAML_BYTES, "layout.yaml")
    node = parse_yaml(source.text, path, report) if source.text is not None else None
    if node is None or not isinstance(node.value, dict):
        if node is not None:
            report.error(node.position, "layout.yaml must be a mapping of keys to values")
        return None
    base = node.value.get("base")
    if base is None:
        return node
    parent = _layout_node(root, str(base.value), report, base.position, (*seen, name))
    return _merge(parent, node) if parent else None


def _merge(base: Node, override: Node) -> Node:
    """Values of ``override`` win; nested mappings merge key by key."""
    if not (isinstance(base.value, dict) and isinstance(override.value, dict)):
        return override
    merged = dict(base.value)
    for key, value in override.value.items():
        merged[key] = _merge(merged[key], value) if key in merged else value
    merged.pop("base", None)
    return Node(merged, override.position)


# shared ----------------------------------------------------------------


def _check_mapping(node: Node | None, fields: tuple[schema.Field, ...], path: Path, report: Report,
                   extra: list[str] | None = None) -> dict[str, tuple[Any, Position]] | None:
    """Check a mapping against declared fields; returns name → (value, position)."""
    if node is None:
        return None
    if not isinstance(node.value, dict):
        report.error(node.position, "expected a mapping of 'key: value' lines",
                     "start each line with a field name such as 'name:'")
        return None
    known = {f.name: f for f in fields}
    values: dict[str, tuple[Any, Position]] = {}
    for key, child in node.value.items():
        if key in (extra or []):
            continue
        where = child.key_position or child.position
        if key not in known:
            report.error(where, f"unknown key '{key}'{did_you_mean(key, list(known) + (extra or []))}",
                         f"known keys: {', '.join(list(known) + (extra or []))}")
            continue
        if child.value is None:
            continue
        try:
            values[key] = (known[key].kind(child), child.position)
        except schema.FieldProblem as problem:
            report.error(child.position, f"'{key}' {problem}", problem.hint)
    for field in fields:
        if field.required and field.name not in values and not _reported_at(node, field.name):
            report.error(node.position, f"missing required field '{field.name}'",
                         f"add a line '{field.name}: …' ({field.doc})")
    return values


def _reported_at(node: Node, key: str) -> bool:
    """True when the key is present but its value was wrong (already reported)."""
    assert isinstance(node.value, dict)
    child = node.value.get(key)
    return child is not None and child.value is not None


def _order(book: BookConfig, contributions: list[Contribution], report: Report) -> tuple[Contribution, ...]:
    by_slug = {c.slug: c for c in contributions}
    seen_orders: dict[int, Contribution] = {}
    for c in sorted(contributions, key=lambda c: str(c.source)):
        if c.order is None:
            continue
        if c.order in seen_orders:
            other = seen_orders[c.order]
            report.error(c.positions.get("order", Position(c.source)),
                         f"duplicate order {c.order} (also used by {other.slug})",
                         "give every entry its own order number")
        seen_orders[c.order] = c
    if book.order:
        position = Position(book.root / "anthology.yaml")
        unknown = [s for s in book.order if s not in by_slug]
        for slug in unknown:
            report.error(position, f"order names '{slug}', which is not a contribution"
                         f"{did_you_mean(slug, by_slug)}", "use the file name without .yaml/.md")
        listed = [by_slug[s] for s in dict.fromkeys(book.order) if s in by_slug]
        rest = [c for c in contributions if c.slug not in book.order]
        for c in rest:
            report.warning(Position(c.source), f"'{c.slug}' is not in anthology.yaml's order list",
                           "it is placed after the listed entries")
        return tuple(listed + sorted(rest, key=_natural_key))
    return tuple(sorted(contributions, key=_natural_key))


def _natural_key(c: Contribution) -> tuple[int, int, str, str]:
    return (c.order is None, c.order or 0, c.name.casefold(), c.slug)
