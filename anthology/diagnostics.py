"""One shape for every problem found in a project, and the policy for them.

- ``error``: the book cannot be built correctly (missing field, bad YAML, a
  photo outside the project). ``check`` exits 1 and ``build`` refuses to run.
- ``warning``: something was worked around or looks unintended (an unknown
  file in ``contributions/``); the build goes on.

Every check runs before anything stops, so a contributor sees all their
mistakes in one pass, each as ``path:line:col: severity: message``.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from .model import Position


@dataclass(frozen=True, slots=True)
class Diagnostic:
    position: Position
    severity: str
    """``error`` or ``warning``."""
    message: str
    hint: str = ""
    """How to fix it, in one sentence (empty when the message says it all)."""

    def format(self, root: Path | None = None, color: bool = False) -> str:
        """``path:line:col: severity: message`` and its hint; ``color`` adds ANSI colours for a terminal."""
        path = self.position.path
        if root is not None:
            with contextlib.suppress(ValueError):
                path = path.relative_to(root)
        severity = f"{_COLORS[self.severity]}{self.severity}\033[0m" if color else self.severity
        text = f"{visible(str(path))}:{self.position.line}:{self.position.col}: {severity}: {visible(self.message)}"
        hint = "\033[2mhint:\033[0m" if color else "hint:"
        return f"{text}\n    {hint} {visible(self.hint)}" if self.hint else text


_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """Control and bidi characters from an input spelled out (``\\x1b``): never sent to the terminal.

    A hostile file name or YAML key could otherwise retitle the editor's terminal, clear its
    screen or write its clipboard, or reorder the line it is printed on.
    """
    return _INVISIBLE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                          else f"\\u{ord(m.group()):04x}", text)


_COLORS = {"error": "\033[1;31m", "warning": "\033[1;33m"}


def use_color(stream: TextIO) -> bool:
    """Colour for a terminal, unless ``NO_COLOR`` is set (https://no-color.org) or ``TERM`` is dumb."""
    return (stream.isatty() and not os.environ.get("NO_COLOR")
            and os.environ.get("TERM") != "dumb")


def plural(count: int, one: str, many: str) -> str:
    """``1 entry``, ``2 entries``: the tool's own English messages (the book's words are in :mod:`words`)."""
    return f"{count} {one if count == 1 else many}"


@dataclass(slots=True)
class Report:
    """Collects diagnostics from every stage; the only mutable object passed around."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, position: Position, message: str, hint: str = "") -> None:
        self.diagnostics.append(Diagnostic(position, "error", message, hint))

    def warning(self, position: Position, message: str, hint: str = "") -> None:
        self.diagnostics.append(Diagnostic(position, "warning", message, hint))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def sorted(self) -> list[Diagnostic]:
        return sorted(
            self.diagnostics,
            key=lambda d: (str(d.position.path), d.position.line, d.position.col),
        )

    def summary(self) -> str:
        return f"{plural(len(self.errors), 'error', 'errors')}, {plural(len(self.warnings), 'warning', 'warnings')}"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ``(did you mean 'x'?)`` suffix for the closest known name, or ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
