"""``anthology init``: a complete, buildable new anthology to start from.

Everything an editor needs to see the whole loop work before they change a
word: a commented ``anthology.yaml``, one example entry with a placeholder
headshot, an introduction, a ``.gitignore`` and the contribution schema for
editors that complete fields. Nothing that exists is ever overwritten: the
targets are checked first, and the command refuses before writing any of them.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from . import schema
from .diagnostics import Report
from .errors import AnthologyError
from .publish import write_atomically
from .validate import BUILTIN_LAYOUTS, validate_project
from .words import LANGUAGES

SCHEMA_FILE = Path("schema") / "contribution.schema.json"
EXAMPLE_SLUG = "sam-example"


@dataclass(frozen=True, slots=True)
class StarterOptions:
    """What ``init`` was asked for; every value has a sensible default."""

    title: str = "My Anthology"
    layout: str = "perspectives"
    language: str = "en"


def schema_text() -> bytes:
    """The contribution JSON Schema, generated from the validator's own field list."""
    return (json.dumps(schema.contribution_json_schema(), ensure_ascii=False, indent=2) + "\n").encode()


def write_schema(root: Path) -> Path:
    """``schema/contribution.schema.json``, regenerated (it is derived, so it may be replaced)."""
    path = root / SCHEMA_FILE
    if path.parent.is_symlink() or (path.parent.exists() and not path.parent.is_dir()):
        raise AnthologyError(f"{path.parent} is a link or a file, not a folder; nothing was written "
                             "(move it away, and the schema is written there)")
    write_atomically(path, schema_text())
    return path


def init_project(root: Path, options: StarterOptions) -> list[Path]:
    """Write a new anthology into ``root`` (created if missing); returns the files written.

    Raises :class:`AnthologyError`, having written nothing, when any target exists, an
    option is unknown or the result would not pass ``check`` (a title with a control
    character, too long, or in a script the layout's fonts cannot draw).
    """
    _check_options(options)
    files = {
        Path("anthology.yaml"): _book_yaml(options).encode(),
        Path("intro.md"): INTRO.encode(),
        Path(".gitignore"): b"# Built files: make them again with `anthology build` or `anthology dist`.\n"
                            b"dist/\n.anthology-cache/\n",
        Path("contributions") / f"{EXAMPLE_SLUG}.yaml": EXAMPLE_YAML.encode(),
        Path("contributions") / f"{EXAMPLE_SLUG}.md": EXAMPLE_BODY.encode(),
        Path("contributions") / f"{EXAMPLE_SLUG}.jpg": placeholder_headshot(),
        SCHEMA_FILE: schema_text(),
    }
    if root.exists() and not root.is_dir():
        raise AnthologyError(f"{root} is a file, not a folder; name a new folder for the anthology")
    folders = sorted({p.parent for p in files if p.parent != Path(".")})
    existing = [f"{p} (a link or a file where a folder goes)" for p in folders
                if (root / p).is_symlink() or ((root / p).exists() and not (root / p).is_dir())]
    existing += [str(p) for p, data in files.items()
                 if ((root / p).exists() or (root / p).is_symlink()) and not _same_schema(root / p, p, data)]
    if existing:
        raise AnthologyError(f"{root} already has {', '.join(existing)}; nothing was written "
                             "(init never overwrites: choose an empty folder)")
    _check_buildable(files)
    created = [folder for folder in (Path("."), *folders) if not (root / folder).exists()]
    written: list[Path] = []
    try:
        for relative, data in files.items():
            write_atomically(root / relative, data)
            written.append(root / relative)
    except BaseException:  # all or nothing: a full disk halfway leaves no half-made book behind
        for path in written:
            path.unlink(missing_ok=True)
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                (root / folder).rmdir()
        raise
    return written


def _check_options(options: StarterOptions) -> None:
    builtin = sorted(p.name for p in BUILTIN_LAYOUTS.iterdir() if (p / "layout.yaml").is_file())
    if options.layout not in builtin:
        raise AnthologyError(f"there is no built-in layout '{options.layout}'; choose one of {', '.join(builtin)}")
    if not re.fullmatch(schema.LANGUAGE_TAG, options.language) or \
            options.language.split("-")[0].lower() not in LANGUAGES:
        raise AnthologyError(f"no word table for the language '{options.language}'; choose one of "
                             f"{', '.join(sorted(LANGUAGES))}, or a regional tag such as fr-CA "
                             "(or add a words: section later)")
    if "\n" in options.title or not options.title.strip():
        raise AnthologyError("the title must be one non-empty line")


def _check_buildable(files: dict[Path, bytes]) -> None:
    """Whatever init writes, check accepts: the new book is checked in a scratch folder first."""

    report = Report()
    with tempfile.TemporaryDirectory(prefix="anthology-init-") as scratch:
        for relative, data in files.items():
            (Path(scratch) / relative).parent.mkdir(parents=True, exist_ok=True)
            (Path(scratch) / relative).write_bytes(data)
        validate_project(Path(scratch), report)
    if report.errors:
        problems = "; ".join(d.message + (f" ({d.hint})" if d.hint else "") for d in report.errors)
        raise AnthologyError(f"the new anthology would not pass check: {problems}; nothing was written")


def _same_schema(path: Path, relative: Path, data: bytes) -> bool:
    """The schema `new` wrote already, byte for byte: rewriting it loses nothing."""
    return relative == SCHEMA_FILE and path.is_file() and not path.is_symlink() and path.read_bytes() == data


def placeholder_headshot(size: int = 480) -> bytes:
    """A grey head-and-shoulders silhouette, so the example shows where a photo goes."""
    image = Image.new("RGB", (size, size), (222, 226, 230))
    draw = ImageDraw.Draw(image)
    shade = (150, 158, 166)
    draw.ellipse((size * 0.32, size * 0.16, size * 0.68, size * 0.52), fill=shade)
    draw.ellipse((size * 0.14, size * 0.58, size * 0.86, size * 1.3), fill=shade)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _book_yaml(options: StarterOptions) -> str:
    title = json.dumps(options.title.strip(), ensure_ascii=False)
    languages = ", ".join(sorted(LANGUAGES))
    return f"""\
# Your anthology. Every key is described in the README ("Input formats").
# Check it with `anthology check`, build the PDF with `anthology build`,
# and the download site with `anthology dist`.

title: {title}
# subtitle: "A line under the title"
# editor: "Your Name"
# edition: "First edition"
# date: "2027"
language: {options.language}            # the book's language: {languages}
# license: "© the contributors. Text licensed under CC BY 4.0."
layout: {options.layout}      # perspectives (US Letter), pocket (6 × 9 in) or a4-report (A4, two columns)
intro: intro.md
# about_editor: about-the-editor.md
# site_url: "https://example.org/my-anthology/"   # where `dist`'s folder will be published

# Fixed words of the book, replaced one by one (the language's own table gives the rest):
# words:
#   entry: "essay"

# Entries are ordered by each one's `order:`, then by name. Or list them here:
# order: [sam-example]
# ...or group them into parts, each with a divider page:
# sections:
#   - title: "Part title"
#     entries: [sam-example]
"""


INTRO = """\
Write the introduction here, in Markdown. It is printed before the contents,
and its first paragraph is the blurb on the book's download page.

A blank line starts a new paragraph; *italic*, **bold** and [links](https://example.org/) work as you expect.
"""

EXAMPLE_YAML = """\
# yaml-language-server: $schema=../schema/contribution.schema.json
# An example entry: replace it, or delete sam-example.yaml, .md and .jpg.
# Add a contributor with: anthology new "Their Name"
name: "Sam Example"
title: "How an Entry Is Made"
role: "Contributor"
organization: "Somewhere Useful"
bio: "Sam Example shows where the parts of an entry go. Replace this with one to three sentences about the contributor."
photo: "sam-example.jpg"
pullquote: "Each entry is two files: a YAML file that says who, and a Markdown file with the words."
status: approved
"""

EXAMPLE_BODY = """\
Each entry is two files: a YAML file that says who, and a Markdown file with the words.
This file is the words. Write in plain paragraphs, with a blank line between them.

The name, role and headshot come from the YAML file beside this one, and so does the short
biography printed after the text. Keep the biography to a sentence or three.

## A subheading

Use *emphasis* sparingly, **strong** even more so, and lists when a list is what you mean:

- a first point;
- a second one.

When the entry is ready, `anthology check` says whether anything is wrong, and `anthology build`
makes the book.
"""
