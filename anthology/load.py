"""Stage 1: read the project's files into position-carrying trees, strictly.

Contributor files are hostile until checked, so YAML is never *constructed*
by PyYAML: it is only composed into nodes, and this module turns the nodes
into :class:`Node` values whose scalars all stay strings. The schema decides
later what is a number. That removes YAML 1.1's surprises (``no`` becoming
``False``, ``012345`` an octal, ``12:30`` a sexagesimal, dates) and tags such
as ``!!python/object``. Aliases and anchors are refused (no "billion laughs"),
nesting is capped, duplicate keys are errors (PyYAML keeps the last one
silently) and files are size-checked before parsing.
"""

from __future__ import annotations

import errno
import os
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from .diagnostics import Report
from .model import Position

MAX_YAML_BYTES = 256 * 1024
"""anthology.yaml and layout files (the editor's own; contributions have :class:`Limits`)."""
MAX_DEPTH = 16

NULLS = {"", "~", "null", "Null", "NULL"}


@dataclass(frozen=True, slots=True)
class Node:
    """A YAML value with its position. Scalars are ``str`` (or ``None`` for null)."""

    value: str | list[Node] | dict[str, Node] | None
    position: Position
    plain: bool = False
    """True for an unquoted scalar: only such scalars may be read as integers."""
    key_position: Position | None = None
    """For a value in a mapping: where its key is written."""


@dataclass(frozen=True, slots=True)
class TextFile:
    """A decoded text file; ``None`` text means it could not be read (reported)."""

    path: Path
    text: str | None


class _YamlRefused(Exception):
    def __init__(self, message: str, mark: yaml.Mark | None, hint: str = "") -> None:
        super().__init__(message)
        self.mark = mark
        self.hint = hint


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's pure-Python composer with aliases, anchors, tags and depth refused."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            raise _YamlRefused(
                f"YAML alias '*{event.anchor}' is not allowed",
                event.start_mark,
                "write the value out in full; anchors and aliases are refused",
            )
        if isinstance(event, (ScalarEvent, CollectionStartEvent)):
            if event.anchor is not None:
                raise _YamlRefused(
                    f"YAML anchor '&{event.anchor}' is not allowed",
                    event.start_mark,
                    "remove the '&name' anchor; anchors and aliases are refused",
                )
            if event.tag not in (None, "!"):
                raise _YamlRefused(
                    f"YAML tag '{event.tag}' is not allowed",
                    event.start_mark,
                    "remove the tag; values are plain text, lists or mappings",
                )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _YamlRefused(
                    f"YAML nested deeper than {MAX_DEPTH} levels", event.start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class NotAFile(OSError):
    """The path is a FIFO, a device, a directory or a socket: not something to read."""


def open_regular(path: Path | str) -> tuple[int, os.stat_result]:
    """Open a regular file for reading: never through a final symlink, never blocking.

    Where the OS has ``O_NOFOLLOW`` and ``O_NONBLOCK`` (Linux, macOS) they do it
    and ``fstat`` confirms a regular file. Where it lacks them (Windows), the
    path is ``lstat``-ed first (a link or a special file is refused before it is
    opened) and the opened file's ``fstat`` must be the very file ``lstat`` saw,
    so swapping in a link between the two is caught too. Raises ``OSError``
    (``ELOOP`` for a link, :class:`NotAFile` for anything not a regular file).
    """
    nofollow, nonblock = getattr(os, "O_NOFOLLOW", 0), getattr(os, "O_NONBLOCK", 0)
    flags = os.O_RDONLY | nofollow | nonblock | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    seen = None
    if not (nofollow and nonblock):
        seen = os.lstat(path)
        if stat.S_ISLNK(seen.st_mode):
            raise OSError(errno.ELOOP, "is a symbolic link", str(path))
        if not stat.S_ISREG(seen.st_mode):
            raise NotAFile(errno.EINVAL, "not a regular file", str(path))
    handle = os.open(path, flags)
    info = os.fstat(handle)
    swapped = seen is not None and (seen.st_dev, seen.st_ino) != (info.st_dev, info.st_ino)
    if swapped or not stat.S_ISREG(info.st_mode):
        os.close(handle)
        if swapped:
            raise OSError(errno.ELOOP, "was replaced while being opened", str(path))
        raise NotAFile(errno.EINVAL, "not a regular file", str(path))
    return handle, info


def read_bytes(path: Path, report: Report, limit: int, what: str = "file",
               position: Position | None = None, limit_name: str = "") -> bytes | None:
    """Read a regular file of at most ``limit`` bytes, reporting problems instead of raising.

    The file is opened by :func:`open_regular`, so a FIFO, a device such as
    ``/dev/zero``, a directory or a symlink is refused instead of hanging or
    filling memory; no more than ``limit + 1`` bytes are ever read.
    """
    position = position or Position(path)
    raise_it = f"or raise limits.{limit_name} in anthology.yaml" if limit_name else "or split it"
    try:
        handle, info = open_regular(path)
    except NotAFile:
        report.error(position, f"{what} is not a regular file", "replace it with an ordinary file")
        return None
    except OSError as exc:
        problem = f"cannot be read ({exc.strerror})"
        if exc.errno == errno.ELOOP:
            problem = "was replaced while being opened" if "replaced" in str(exc.strerror) else "is a symbolic link"
        report.error(position, f"{what} {problem}", "replace it with an ordinary file")
        return None
    try:
        with os.fdopen(handle, "rb", closefd=False) as stream:
            data = stream.read(limit + 1)
    except OSError as exc:
        report.error(position, f"{what} cannot be read ({exc.strerror or exc})")
        return None
    finally:
        os.close(handle)
    if len(data) > limit:
        report.error(position, f"{what} is {max(info.st_size, len(data)):,} bytes, more than the limit of {limit:,}",
                     f"make it smaller, {raise_it}")
        return None
    return data


def read_text(path: Path, report: Report, limit: int, what: str = "file", limit_name: str = "") -> TextFile:
    """Read a UTF-8 text file of at most ``limit`` bytes, NFC-normalised, with plain newlines."""
    data = read_bytes(path, report, limit, what, limit_name=limit_name)
    if data is None:
        return TextFile(path, None)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        report.error(
            Position(path, line, col),
            f"{what} is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
            "save the file as UTF-8",
        )
        return TextFile(path, None)
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return TextFile(path, text)


def parse_yaml(
    text: str, path: Path, report: Report, first_line: int = 1, limit: int = MAX_YAML_BYTES
) -> Node | None:
    """Compose ``text`` into a :class:`Node` tree; on any problem report it and return None.

    ``first_line`` is the file line where ``text`` starts (front matter starts on 2).
    """
    if len(text.encode("utf-8")) > limit:
        report.error(
            Position(path, first_line),
            f"YAML is larger than {limit:,} bytes",
            "metadata should be short; move long text into the Markdown body",
        )
        return None
    loader: _StrictLoader | None = None
    try:
        loader = _StrictLoader(text)
        root = loader.get_single_node()
    except _YamlRefused as exc:
        report.error(_mark_position(path, exc.mark, first_line), str(exc), exc.hint)
        return None
    except yaml.reader.ReaderError as exc:  # a character YAML forbids, such as NUL
        before = text[: exc.position]
        where = Position(path, first_line + before.count("\n"), exc.position - (before.rfind("\n") + 1) + 1)
        report.error(where, f"YAML cannot contain the character U+{exc.character:04X}",
                     "delete it; it is invisible and cannot be printed")
        return None
    except yaml.MarkedYAMLError as exc:
        where, problem, hint = _syntax_problem(text, exc)
        report.error(_mark_position(path, where, first_line), f"YAML syntax error: {problem}", hint)
        return None
    except yaml.YAMLError as exc:
        report.error(Position(path, first_line), f"YAML error: {exc}")
        return None
    except RecursionError:
        report.error(Position(path, first_line), "YAML nested too deeply")
        return None
    finally:
        if loader is not None:
            loader.dispose()
    if root is None:
        return Node(None, Position(path, first_line))
    try:
        return _convert(root, path, report, first_line)
    except _YamlRefused as exc:
        report.error(_mark_position(path, exc.mark, first_line), str(exc), exc.hint)
        return None


def _syntax_problem(text: str, exc: yaml.MarkedYAMLError) -> tuple[yaml.Mark | None, str, str]:
    """Where a syntax error really is, and a message that names the usual causes (a tab, an open quote)."""
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    if "'\\t'" in problem:
        return mark, "a tab character, and tabs are not allowed in YAML", "indent with spaces instead of tabs"
    if exc.context and "quoted scalar" in exc.context and exc.context_mark is not None:
        return exc.context_mark, "this quote is never closed", "close the quote at the end of the value"
    opened = _unclosed_quote(text, mark.line if mark else 0)
    if opened is not None and mark is not None:
        mark = yaml.Mark(mark.name, 0, opened[0], opened[1], None, None)
        return mark, "the quote opened on this line is not closed on it", (
            "close the quote at the end of the value; a quote inside a value is written \\\"")
    return mark, problem, "check indentation, and quote values that contain ':' or '#'"


def _unclosed_quote(text: str, before: int) -> tuple[int, int] | None:
    """Line and column (0-based) of a value before line ``before`` that opens a double quote and never closes it."""
    for number, line in enumerate(text.split("\n")[:before]):
        key, colon, value = line.partition(": ")
        if colon and value.lstrip().startswith('"') and (value.count('"') - value.count('\\"')) % 2:
            return number, len(key) + 2 + len(value) - len(value.lstrip())
    return None


def _mark_position(path: Path, mark: yaml.Mark | None, first_line: int) -> Position:
    if mark is None:
        return Position(path, first_line)
    return Position(path, mark.line + first_line, mark.column + 1)


def _convert(node: yaml.Node, path: Path, report: Report, first_line: int) -> Node:
    position = _mark_position(path, node.start_mark, first_line)
    if isinstance(node, ScalarNode):
        plain = node.style is None
        value: str | None = node.value
        if plain and node.value in NULLS:
            value = None
        return Node(value, position, plain)
    if isinstance(node, SequenceNode):
        return Node([_convert(n, path, report, first_line) for n in node.value], position)
    assert isinstance(node, MappingNode)
    mapping: dict[str, Node] = {}
    for key_node, value_node in node.value:
        key_position = _mark_position(path, key_node.start_mark, first_line)
        if not isinstance(key_node, ScalarNode):
            report.error(key_position, "a key must be plain text")
            continue
        key = key_node.value
        if key == "<<" and key_node.style is None:
            raise _YamlRefused("YAML merge keys ('<<') are not allowed", key_node.start_mark,
                               "write the merged fields out in full")
        if key in mapping:
            first = mapping[key].key_position or mapping[key].position
            report.error(
                key_position,
                f"duplicate key '{key}' (first set on line {first.line})",
                "keep one of the two; YAML would silently use the last",
            )
            continue
        value = _convert(value_node, path, report, first_line)
        mapping[key] = Node(value.value, value.position, value.plain, key_position)
    return Node(mapping, position)


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """Split ``---``-fenced YAML front matter from a Markdown file.

    Returns (yaml text, body, body's first line number), or None when the file
    has no front matter.
    """
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            yaml_text = "\n".join(lines[1:index])
            body = "\n".join(lines[index + 1 :])
            return yaml_text, body, index + 2
    return None
