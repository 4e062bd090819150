"""Markdown → blocks: the supported subset, typography, and no markup or unsafe links."""

from pathlib import Path

from anthology.diagnostics import Report
from anthology.model import CodeBlock, Figure, Heading, ListBlock, Notes, Paragraph, Position, Quote, Rule, Table
from anthology.text import parse_markdown, words_of

WHERE = Position(Path("contributions/x.md"), 1)


def parse(source: str):
    report = Report()
    return parse_markdown(source, WHERE, report), report


def test_supported_blocks():
    source = "Para *em* **strong**\n\n## Sub\n\n### Minor\n\n- a\n- b\n\n3. c\n\n> q\n\n---\n\n    code\n"
    blocks, report = parse(source)
    assert [type(b) for b in blocks] == [Paragraph, Heading, Heading, ListBlock, ListBlock, Quote, Rule, CodeBlock]
    assert blocks[3].ordered is False and blocks[4].ordered is True and blocks[4].start == 3
    spans = blocks[0].spans
    assert [(s.text, s.italic, s.bold) for s in spans] == [("Para ", False, False), ("em", True, False),
                                                          (" ", False, False), ("strong", False, True)]
    assert not report.diagnostics


def test_straight_quotes_become_curly_and_dashes_typographic():
    blocks, _ = parse('He said "yes" -- it\'s done --- really...')
    assert blocks[0].spans[0].text == "He said “yes” – it’s done — really…"


def test_raw_html_stays_text_exactly_as_written_with_a_warning():
    blocks, report = parse('<img src="/etc/passwd"/> and <b>bold</b>')
    assert "".join(s.text for s in blocks[0].spans) == '<img src="/etc/passwd"/> and <b>bold</b>'
    assert report.warnings and all("raw HTML" in w.message for w in report.warnings)


def test_gfm_tables_footnotes_task_lists_strikethrough_and_figures_are_typed_blocks():
    source = ("Text[^a] with ~~old~~ www.example.org.\n\n| L | R |\n|:--|--:|\n| x | y |\n\n"
              "- [ ] open\n- [x] done\n\n![A *chart*](chart.png)\n\n[^a]: The note.\n")
    blocks, report = parse(source)
    assert [type(b) for b in blocks] == [Paragraph, Table, ListBlock, Figure, Notes]
    spans = blocks[0].spans
    assert [s.note for s in spans if s.note] == [1]
    assert [s.text for s in spans if s.strike] == ["old"]
    assert [s.href for s in spans if s.href] == ["http://www.example.org"]
    table = blocks[1]
    assert table.aligns == ("left", "right") and table.rows[0][1][0].text == "y"
    # the box is the list's, not the words' (the EPUB printed it twice: its own box, then the text's)
    assert blocks[2].checked == (False, True) and blocks[2].items[1][0].spans[0].text == "done"
    assert blocks[3].source == "chart.png" and [s.text for s in blocks[3].alt] == ["A ", "chart"]
    assert blocks[4].notes[0].number == 1 and blocks[4].notes[0].blocks[0].spans[0].text == "The note."
    assert words_of(blocks) == ["Text", "with", "old", "www", "example", "org", "L", "R", "x", "y",
                                "open", "done", "A", "chart", "The", "note"]
    assert not report.diagnostics


def test_only_safe_links_survive():
    blocks, report = parse("[a](https://example.org) [m](mailto:a@example.org) [f](ftp://example.org/x)")
    hrefs = [s.href for s in blocks[0].spans if s.href]
    assert hrefs == ["https://example.org", "mailto:a@example.org"]
    assert any("ftp://example.org/x" in d.message for d in report.warnings)
    assert "f" in words_of(blocks)


def test_hard_break_and_words():
    blocks, _ = parse("line one  \nline two")
    assert any(s.line_break for s in blocks[0].spans)
    assert words_of(blocks) == ["line", "one", "line", "two"]


def test_h1_is_demoted_with_a_warning_at_its_line():
    blocks, report = parse("Intro\n\n# Big\n")
    assert blocks[1].level == 2
    assert report.warnings[0].position.line == 3


def test_javascript_links_keep_their_words_with_a_warning():
    blocks, report = parse("Do [click me](javascript:app.alert(1)) now.")
    assert [s.href for s in blocks[0].spans if s.href] == []
    assert words_of(blocks) == ["Do", "click", "me", "now"]
    assert "javascript:app.alert(1)" in report.warnings[0].message


def test_text_nested_past_the_parser_limit_is_an_error_at_its_line():
    _, report = parse("Intro.\n\n" + "> " * 25 + "deep\n")
    assert [(d.severity, d.position.line) for d in report.diagnostics] == [("error", 3)]
    assert "nested more than 20 levels" in report.errors[0].message
    listed = "".join("  " * level + f"- item{level}\n" for level in range(30))
    _, report = parse(listed)
    assert len(report.errors) == 1 and report.errors[0].position.line > 1


def test_nesting_within_the_limit_loses_nothing():
    blocks, report = parse("> " * 9 + "kept\n\n" + "".join("  " * level + f"- item{level}\n" for level in range(9)))
    assert not report.diagnostics
    assert words_of(blocks) == ["kept"] + [f"item{level}" for level in range(9)]


def test_pathological_brackets_finish_and_keep_the_text():
    blocks, report = parse("[" * 20000 + "core" + "]" * 20000)
    assert words_of(blocks) == ["core"] and not report.errors


def test_numbers_and_units_are_tied_and_french_punctuation_is_spaced():
    blocks = parse_markdown("It is 10 km and 25 °C, 3 minutes away: 40 % done.", WHERE, Report())
    assert blocks[0].spans[0].text == "It is 10\u00a0km and 25\u00a0°C, 3 minutes away: 40\u00a0% done."
    french = parse_markdown("Vraiment ? « Oui » : 5 kg !", WHERE, Report(), "fr")
    assert french[0].spans[0].text == "Vraiment\u00a0? «\u00a0Oui\u00a0»\u00a0: 5\u00a0kg\u00a0!"
    code = parse_markdown("`10 km`", WHERE, Report())
    assert code[0].spans[0].text == "10 km"  # code is left as typed


def test_a_footnote_mark_without_its_note_is_printed_as_written_with_a_warning():
    blocks, report = parse("As shown[^7] before.\n")
    assert "".join(s.text for s in blocks[0].spans) == "As shown[^7] before."
    assert [w.message for w in report.warnings] == ["footnote mark '[^7]' has no note; it is printed as written"]


def test_a_footnote_defined_twice_or_never_marked_is_warned_about_not_silently_dropped():
    """mdit-py-plugins keeps only the last of two notes with one label and drops an unmarked note."""
    blocks, report = parse("X[^d] and Y.\n\n[^d]: first\n[^d]: second\n\n[^z]: orphan words\n")
    assert words_of(blocks) == ["X", "and", "Y", "second"]
    assert [(w.position.line, w.message) for w in report.warnings] == [
        (3, "footnote '[^d]' is defined again on line 4; only the last definition is printed"),
        (6, "footnote '[^z]' has no mark in the text; its note is not printed")]


def test_a_note_that_ends_in_a_table_or_is_empty_has_no_stray_element():
    """The plugin's back-reference token stood alone after a table and was 'unsupported Markdown element'."""
    blocks, report = parse("A[^t] B[^e].\n\n[^t]: | a | b |\n    |---|---|\n    | x | y |\n\n[^e]:\n\nafter\n")
    assert not report.diagnostics
    notes = blocks[-1]
    assert isinstance(notes, Notes) and [type(b) for b in notes.notes[0].blocks] == [Table]
    assert notes.notes[1].blocks == ()


def test_a_struck_out_bare_url_is_struck_out_not_printed_with_its_tildes():
    """linkify-it kept the closing '~~' in the address: GFM ends a bare URL before trailing '~'."""
    blocks, _ = parse("~~https://example.org/a~~ and https://example.org/~user/ ok\n")
    spans = blocks[0].spans
    assert "".join(s.text for s in spans) == "https://example.org/a and https://example.org/~user/ ok"
    assert (spans[0].strike, spans[0].href) == (True, "https://example.org/a")
    assert spans[2].href == "https://example.org/~user/"


def test_the_quick_link_pretest_turns_away_nothing_linkify_it_would_look_at():
    """The cheap filter before linkify-it's pretest gives its answer on every spec example, line and word."""
    import random

    from anthology.text import new_parser

    linkify = new_parser().linkify
    data = Path(__file__).parent / "data"
    texts = [text for name in ("commonmark-spec-0.31.2.txt", "cmark-gfm-extensions.txt")
             for text in (data / name).read_text(encoding="utf-8").split("\n\n")]
    texts += [line for text in texts for line in text.splitlines()]
    texts += ["WWW.EXAMPLE", "LOCALHOST", "a.RF", "see x.рф now", "10.1.2", "e.g", "mailto", "ftp", "a@",
              "http://x", "//x", "end. Next", "Kelvin\u212a.com", "xn--p1ai", "localhoſt"]
    rng = random.Random(5)
    alphabet = "aw.:/@ lochstxn-1рф\u212aſİ"
    texts += ["".join(rng.choices(alphabet, k=rng.randint(0, 12))) for _ in range(20000)]
    accepted = 0
    for text in texts:
        expected = linkify._linkify.pretest(text)
        assert linkify.pretest(text) == expected, text
        accepted += expected
    assert 1000 < accepted < len(texts) - 1000  # both answers are exercised
