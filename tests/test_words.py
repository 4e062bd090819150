"""The word tables: complete, consistent with English, with every plural form CLDR asks for."""

import pytest
from babel import Locale

from anthology.words import LANGUAGES, Words, counted, fields, fields_of, table, word_keys


def test_the_eight_languages_are_there():
    assert {"en", "fr", "de", "es", "it", "pt", "nl", "pl"} <= LANGUAGES


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_table_has_every_key_with_the_same_fields_and_every_plural_form(language):
    own = table(language)
    assert set(own) == set(word_keys()), set(own) ^ set(word_keys())
    categories = set(Locale.parse(language).plural_form.tags) | {"other"}
    for key in word_keys():
        entry = own[key]
        if counted(key):
            assert isinstance(entry, dict) and categories <= set(entry), (language, key, categories)
        else:
            assert isinstance(entry, str), (language, key)
        texts = entry.values() if isinstance(entry, dict) else [entry]
        for text in texts:
            assert fields_of(text) <= fields(key), (language, key, text)
            text.format(**dict.fromkeys(fields(key), "x"))  # no stray braces


@pytest.mark.parametrize(("language", "numbers", "expected"), [
    ("en", (1, 2, 5), ["1 page", "2 pages", "5 pages"]),
    ("pl", (1, 2, 5, 22), ["1 strona", "2 strony", "5 stron", "22 strony"]),
    ("fr", (0, 1, 2), ["0 page", "1 page", "2 pages"]),
    ("de", (1, 1234), ["1 Seite", "1.234 Seiten"]),
])
def test_counted_words_follow_the_languages_plural_rules_and_numbers(language, numbers, expected):
    words = Words.of(language)
    assert [words.count("pages", n) for n in numbers] == expected


def test_overrides_replace_key_by_key_and_the_rest_is_the_language():
    words = Words.of("fr", {"entry": "essai"})
    assert words("note_appears", entry=words("entry"), title="T", page="3", book="B", edition="") == \
        "Votre essai « T » figure à la page 3 de « B »."
    assert words("contents") == "Sommaire"
    assert Words.of("en-GB")("contents") == "Contents" and Words.of("pt-BR")("contents") == "Sumário"


def test_lists_dates_and_sizes_in_the_language():
    import datetime

    assert Words.of("de").list(["A", "B", "C"]) == "A, B und C"
    assert Words.of("fr").date(datetime.date(2026, 12, 1)) == "1 décembre 2026"
    assert Words.of("fr").size(1_234_567) == "1,2\u202fMo"  # French sets a narrow space before the unit
    assert Words.of("en").size(260_000) == "260 kB"
