"""The book's fixed words (Contents, Download the PDF, the contributor's note) in its own language.

Every word the tool itself prints in a book, on its site, in the notes and on
the form comes from a table per language (``anthology/languages/<code>.yaml``),
chosen by ``language:`` and overridden key by key by ``words:`` in
``anthology.yaml``. A key a table lacks falls back to English, with one warning
naming the keys. Plurals, numbers, lists and dates come from CLDR through
Babel, so "1 page", "2 strony", "5 stron" are the language's own rules.
"""

from __future__ import annotations

import datetime
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_decimal
from babel.units import format_unit

TABLES = Path(__file__).parent / "languages"
LANGUAGES = frozenset(p.stem for p in TABLES.glob("*.yaml"))
"""Languages with a complete table of their own."""
PLURAL_FORMS = ("zero", "one", "two", "few", "many", "other")

Entry = str | Mapping[str, str]
"""A word: text with ``{fields}``, or for a counted word one text per CLDR plural category."""


@cache
def table(language: str) -> Mapping[str, Entry]:
    """The built-in table of a language code (``fr``), empty when there is none."""
    path = TABLES / f"{language}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if language in LANGUAGES else {}


def word_keys() -> tuple[str, ...]:
    """Every fixed word, as the English table names them (the reference)."""
    return tuple(table("en"))


def fields_of(text: str) -> set[str]:
    """The ``{fields}`` a text fills in, as written; a ``ValueError`` for a stray brace.

    A conversion or format spec stays part of the field (``page:>999``), so it never
    matches a plain field: ``{page:>999999999}`` would pad the page number to a gigabyte.
    """
    return {name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            for _, name, spec, conversion in string.Formatter().parse(text) if name is not None}


def fields(key: str) -> set[str]:
    """The fields the English word for ``key`` fills in: all an override may use."""
    entry = table("en")[key]
    return set().union(*(fields_of(t) for t in (entry.values() if isinstance(entry, Mapping) else [entry])))


def counted(key: str) -> bool:
    """True for a word that changes with a number (``pages``), written per plural category."""
    return isinstance(table("en")[key], Mapping)


@dataclass(frozen=True, slots=True)
class Words:
    """The fixed words of one book: its language's table, the editor's overrides, English for the rest."""

    language: str = "en"
    overrides: Mapping[str, Entry] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    """Keys neither the language's table nor the overrides give (printed in English)."""

    @classmethod
    def of(cls, language: str, overrides: Mapping[str, Entry] | None = None) -> Words:
        overrides = dict(overrides or {})
        own = table(_base(language))
        missing = tuple(k for k in word_keys() if k not in own and k not in overrides)
        return cls(language, overrides, missing)

    def __call__(self, key: str, **fields: object) -> str:
        """The word ``key`` with its ``{fields}`` filled in."""
        return str(self._entry(key)).format(**fields)

    def count(self, key: str, number: int, **fields: object) -> str:
        """A counted word for ``number``: ``count("pages", 1)`` is "1 page", in Polish "1 strona"."""
        entry = self._entry(key)
        if isinstance(entry, str):
            return entry.format(n=self.number(number), **fields)
        category = self.locale.plural_form(number)
        text = entry.get(category) or entry.get("other") or next(iter(entry.values()))
        return text.format(n=self.number(number), **fields)

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)

    def size(self, size_bytes: int) -> str:
        """A file size the way the language writes it: "1.2 MB", "1,2 Mo"."""
        if size_bytes >= 1_000_000:
            return format_unit(round(size_bytes / 1_000_000, 1), "digital-megabyte", "short", locale=self.locale)
        return format_unit(max(1, round(size_bytes / 1000)), "digital-kilobyte", "short", locale=self.locale)

    def list(self, items: list[str]) -> str:
        """``a, b and c`` in the language's own words and commas."""
        return format_list(items, locale=self.locale)

    def date(self, day: datetime.date) -> str:
        return format_date(day, "long", locale=self.locale)

    @property
    def locale(self) -> Locale:
        return _locale(self.language)

    def _entry(self, key: str) -> Entry:
        if key in self.overrides:
            return self.overrides[key]
        own = table(_base(self.language))
        return own[key] if key in own else table("en")[key]


def _base(language: str) -> str:
    return language.replace("_", "-").split("-")[0].lower()


@cache
def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        try:
            return Locale.parse(_base(language))
        except (UnknownLocaleError, ValueError):
            return Locale.parse("en")
