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
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .model import Position


@dataclass(frozen=True, slots=True)
class Diagnostic:
    position: Position
    severity: str
    """``error`` or ``warning``."""
    message: str
    hint: str = ""
    """How to fix it, in one sentence (empty when the message says it all)."""

    def format(self, root: Path | None = None) -> str:
        path = self.position.path
        if root is not None:
            with contextlib.suppress(ValueError):
                path = path.relative_to(root)
        text = f"{path}:{self.position.line}:{self.position.col}: {self.severity}: {self.message}"
        return f"{text}\n    hint: {self.hint}" if self.hint else text


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
        e, w = len(self.errors), len(self.warnings)
        return f"{e} error{'s' * (e != 1)}, {w} warning{'s' * (w != 1)}"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ``(did you mean 'x'?)`` suffix for the closest known name, or ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
