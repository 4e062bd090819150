"""Where a long URL or an unbreakable token may be broken across lines, without a hyphen.

Ordinary words are hyphenated by the line breaker; a web address, a file path or a
70-character identifier is not a word, and setting it whole pushes it past the margin.
:func:`break_points` says where such a token may break: after ``/ ? & = _ . -`` (and
``#``, ``@``, ``:``), never before its first character; failing those, after any
character. Nothing is inserted into the text, so extracted text stays exactly the
author's.

ReportLab's paragraph breaker asks a module function for the (head, tail) splits of a
word that looks like a URL, and only splits after ``/`` and never splits the remainder
again: :func:`install` gives it these break points instead, for any long token, and is
called once when the layout stage is imported.
"""

from __future__ import annotations

import re

from reportlab.platypus import paragraph as _paragraph

URL_SAFE = "/?&=_.-#@:"
"""A URL-safe break comes after one of these (the characters that separate a URL's parts)."""
LONG_TOKEN = 24
"""Tokens at least this long may break; shorter ones only when they are web addresses."""
_ADDRESS = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|www\.|mailto:)", re.I)


def break_points(token: str) -> list[int] | None:
    """Offsets where ``token`` may break, best first (URL-safe points, rightmost first, then every
    other offset, rightmost first); None when it is a word for the hyphenator (letters, or short)."""
    if token.replace("-", "").replace("\u00ad", "").isalpha() or (
            len(token) < LONG_TOKEN and not _ADDRESS.match(token)):
        return None
    safe = [i + 1 for i, char in enumerate(token[:-1]) if char in URL_SAFE and token[i + 1] not in URL_SAFE]
    anywhere = [i for i in range(1, len(token)) if i not in safe]
    return sorted(safe, reverse=True) + sorted(anywhere, reverse=True)


def _split_pairs(token: str) -> list[tuple[str, str]] | None:
    """ReportLab's hook: (head, tail) pairs; it keeps the first head that fits the line."""
    points = break_points(token)
    return None if points is None else [(token[:i], token[i:]) for i in points]


def install() -> None:
    """Replace ReportLab's URL splitter (``uri_pat``-matching words, after '/' only) with :func:`break_points`."""
    _paragraph._uri_split_pairs = _split_pairs
