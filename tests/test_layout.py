"""layout: a very long paragraph is laid out in linear time and keeps every word in order."""

from __future__ import annotations

import json
import re

import pytest

from anthology.build import build_book
from anthology.layout.setting import SetParagraph

from .conftest import entry, page_texts


@pytest.mark.parametrize("markdown", ["{}\n", "- {}\n", "> {}\n", "Text.[^1]\n\n[^1]: {}\n"],
                         ids=["paragraph", "list item", "quote", "footnote"])
def test_a_very_long_paragraph_is_line_broken_a_bounded_number_of_times(make_project, tmp_path, monkeypatch,
                                                                        markdown):
    """A list item or a footnote too: their remainder was broken again at every page (a 100 000-character
    item took 23 s, 3.5 times as long as before total-fit breaking)."""
    broken: list[int] = []
    original = SetParagraph.breakLines

    def counting(self, widths):  # type: ignore[no-untyped-def]
        result = original(self, widths)
        broken.append(len(result.lines))
        return result

    monkeypatch.setattr(SetParagraph, "breakLines", counting)
    body = [f"w{i}" for i in range(20_000)]
    root = make_project(entry("Ann Long", "One paragraph", markdown.format(" ".join(body))))
    result = build_book(root, tmp_path / "long.pdf")
    lines = max(broken)  # the one pass over the whole paragraph
    assert lines > 1000
    # once to cut it, once as the pieces are placed, once more at page breaks; ReportLab
    # alone re-breaks the whole remainder at every page, about 20 times the lines here
    assert sum(broken) < 4 * lines
    found = [w for page in page_texts(result.output) for w in re.findall(r"\bw\d+\b", page)]
    assert found == body


def test_words_overrides_are_printed_as_text_never_as_reportlab_markup(make_project, tmp_path):
    """`words: {contents: '<img src="/etc/passwd"/>'}` passed check, then opened /etc/passwd and crashed the build."""
    overrides = {"contents": '<img src="/etc/passwd"/> & <font color=red>Inhalt</font>',
                 "index": "<b>Verzeichnis</b> &amp; mehr", "introduction": "Vorwort <br/> & Dank",
                 "about_editor": "<a href='file:///etc/passwd'>Über</a>"}
    config = 'title: "Kleines Buch"\nlanguage: de\nintro: "Ein Satz."\nabout_editor: "Noch einer."\nwords:\n' + \
        "".join(f"  {key}: {json.dumps(value)}\n" for key, value in overrides.items())
    root = make_project({"anthology.yaml": config, **entry("Ann Able", "Titel", "Worte.\n")})
    result = build_book(root, tmp_path / "book.pdf")
    text = " ".join(page_texts(result.output))
    for value in overrides.values():
        assert " ".join(value.split()) in " ".join(text.split()), value
