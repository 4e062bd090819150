"""layout.setting: body paragraphs broken by the total-fit breaker, kerned, and read back exactly."""

from __future__ import annotations

import io
import itertools
import re
import statistics
import unicodedata

import pypdfium2
import pytest
from pypdf import PdfReader
from reportlab.lib.enums import TA_JUSTIFY
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Frame, SimpleDocTemplate

from anthology.fonts import register_family
from anthology.layout.flowables import LongParagraph, body_paragraph
from anthology.layout.setting import SOFT_HYPHEN, SetParagraph, Setting, _shaped, _space_factor, _widened

from .conftest import words

TEXT = ("Leadership is practised in small rooms: the office at the end of the corridor, the "
        "flower shop's back room, the affluent firm's kitchen. Managers coordinate, negotiate "
        "and document; leaders listen, question and decide. Responsibility, accountability and "
        "communication are long words that a narrow column must hyphenate gracefully. ") * 4
WIDTH = 300.0
MEASURE = WIDTH - 12  # SimpleDocTemplate's frame pads 6 pt each side


def _style(**overrides) -> ParagraphStyle:
    face = register_family("source-serif").regular
    values = dict(fontName=face, fontSize=11, leading=15.5, alignment=TA_JUSTIFY, firstLineIndent=15.4,
                  allowWidows=0, allowOrphans=0, spaceShrinkage=0.4,
                  setting=Setting(language="en_US"))
    return ParagraphStyle("body", **{**values, **overrides})


def _pdf(flowables: list, width: float = WIDTH) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=(width + 100, 400), leftMargin=50, rightMargin=50,
                            topMargin=40, bottomMargin=40)
    doc.build(flowables)
    return buffer.getvalue()


def _lines(pdf: bytes) -> list[tuple[int, float, float, str]]:
    """(page, left, right, text) of every text line, from PDFium's character boxes."""
    document = pypdfium2.PdfDocument(pdf)
    found = []
    for number, page in enumerate(document):
        textpage = page.get_textpage()
        rows: dict[float, list[tuple[float, float, str]]] = {}
        for index in range(textpage.count_chars()):
            char = textpage.get_text_range(index, 1)
            if char in "\r\n":
                continue
            left, bottom, right, _ = textpage.get_charbox(index, loose=True)
            rows.setdefault(round(bottom), []).append((left, right, char))
        for _, chars in sorted(rows.items(), reverse=True):
            ink = [c for c in chars if c[2].strip()]
            if not ink:
                continue
            found.append((number, min(c[0] for c in ink), max(c[1] for c in ink),
                          "".join(c[2] for c in chars)))
    return found


def test_kerning_makes_To_and_AV_narrower_than_their_letters():
    face = register_family("source-serif").regular
    for pair in ("To", "AV"):
        kerned, _ = _shaped(pair, face, 11.0)
        assert kerned < stringWidth(pair[0], face, 11) + stringWidth(pair[1], face, 11) - 0.1


def test_kerning_reaches_the_page():
    """In the PDF, the 'o' after 'T' starts closer than the width of a 'T' allows."""
    face = register_family("source-serif").regular
    pdf = _pdf([SetParagraph("To", _style(alignment=0, firstLineIndent=0))])
    page = pypdfium2.PdfDocument(pdf)[0]
    textpage = page.get_textpage()
    t_left = textpage.get_charbox(0)[0]
    o_left = textpage.get_charbox(1)[0]
    assert o_left - t_left < stringWidth("T", face, 11) - 0.1


def test_ligatures_are_drawn_and_read_back_as_their_letters():
    face = register_family("source-serif").regular
    assert "\ufb03" in _shaped("office", face, 11.0)[1]  # the ffi ligature glyph is used
    pdf = _pdf([SetParagraph("The office of an affluent flower firm.", _style())])
    assert "The office of an affluent flower firm." in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert words(pypdfium2.PdfDocument(pdf)[0].get_textpage().get_text_range()) == words(
        "The office of an affluent flower firm.")


def test_curly_apostrophes_stay_apostrophes_after_shaping():
    pdf = _pdf([SetParagraph("It doesn’t need a vision; it’s a forklift.", _style())])
    text = pypdfium2.PdfDocument(pdf)[0].get_textpage().get_text_range()
    assert "doesn’t" in text and "it’s" in text


def test_justified_lines_fill_the_measure_and_never_overflow():
    pdf = _pdf([SetParagraph(TEXT, _style())])
    lines = [line for line in _lines(pdf) if line[3].strip()]
    assert len(lines) > 10
    left = min(line[1] for line in lines)
    for number, (_, _, right, text) in enumerate(lines):
        assert right <= left + MEASURE + 0.5, text
        last_of_paragraph = number == len(lines) - 1
        if not last_of_paragraph:
            assert right >= left + MEASURE - 0.5, f"line not justified: {text!r}"



def _gaps(pdf: bytes) -> list[list[tuple[str, float]]]:
    """For each text line: (word before, gap after it in pt) for every interword gap, from PDFium's boxes
    (a word ends where the next letter starts more than a point after it, as the shared typography
    measure splits them)."""
    textpage = pypdfium2.PdfDocument(pdf)[0].get_textpage()
    rows: dict[int, list[tuple[float, float, str]]] = {}
    for index in range(textpage.count_chars()):
        char = textpage.get_text_range(index, 1)
        if char.isspace():
            continue
        left, bottom, right, _ = textpage.get_charbox(index, loose=True)
        rows.setdefault(round(bottom), []).append((left, right, char))
    found = []
    for _, chars in sorted(rows.items(), reverse=True):
        gaps, word = [], chars[0][2]
        for (_, right, _), (left, _, char) in itertools.pairwise(chars):
            if left - right > 1:
                gaps.append((word, left - right))
                word = ""
            word += char
        found.append(gaps)
    return found


def test_a_sentence_gap_takes_more_of_the_stretch_than_the_gaps_between_words():
    """TeX's space factors: after a full stop the space stretches three times as much as between words
    (and shrinks a third as much), so a loose line keeps its word spaces closer to their width. Before,
    every gap of a line was widened alike."""
    face = register_family("source-serif").regular
    space = stringWidth(" ", face, 11)
    pdf = _pdf([SetParagraph(TEXT, _style())])
    checked = 0
    for gaps in _gaps(pdf)[:-1]:  # the last line is not justified
        ordinary = statistics.median(gap for word, gap in gaps if word[-1].isalpha())
        sentences = [gap for word, gap in gaps if word.endswith(".")]
        stretched = ordinary - space
        if sentences and abs(stretched) > 0.3:
            # stretch: space + 3·r·y against space + r·y; shrink: space + r·z/3 against space + r·z
            expected = ordinary + (2 * stretched if stretched > 0 else -stretched * 2 / 3)
            assert sentences[0] == pytest.approx(expected, abs=0.1)
            checked += 1
    assert checked >= 2


def test_without_space_factors_every_gap_of_a_line_is_alike():
    pdf = _pdf([SetParagraph(TEXT, _style(setting=Setting(language="en_US", space_factors=False)))])
    for gaps in _gaps(pdf)[:-1]:
        ordinary = statistics.median(gap for word, gap in gaps if word[-1].isalpha())
        for word, gap in gaps:
            if word.endswith("."):
                assert gap == pytest.approx(ordinary, abs=0.1)


@pytest.mark.parametrize("word", ["kitchen.", "often."])  # "often." is drawn unshaped (its ft ligature has no code)
def test_a_sentence_gap_widens_after_any_word(word):
    face = register_family("source-serif").regular
    widened = _widened(word, face, 11.0, 5.0)
    assert str(widened) == word
    advances = [glyph.x_advance for glyph in widened.__shapeData__]
    assert sum(advances) * 11 / 1000 == pytest.approx(_shaped(word, face, 11.0)[0] + 5.0)


def test_space_factors_follow_tex():
    assert _space_factor("end.") == _space_factor("end.\u201d") == _space_factor("(yes!)") == 3.0
    assert _space_factor("word,") == 1.25
    assert _space_factor("U.S.") == _space_factor("J.") == _space_factor("word") == 1.0
    assert _space_factor("Really...") == _space_factor("Truly\u2026") == _space_factor("asked?!") == 3.0


@pytest.mark.parametrize("word", ["e.g.", "i.e.", "p.", "pp.", "p.m.", "Dr.", "Mr.", "(cf.", "Fig."])
def test_an_abbreviations_full_stop_ends_no_sentence(word):
    assert _space_factor(word) == 1.0


def test_a_sentence_end_before_a_lowercase_word_is_none():
    assert _space_factor("end.\u201d", lower_next=True) == _space_factor("then\u2026", lower_next=True) == 1.0
    assert _space_factor("said:", lower_next=True) == 2.0


ABBREVIATED = ("Meet Dr. Smith at the office at nine, e.g. near the corridor, see p. 14 and pp. 20 of the "
               "ledger, then “Stop!” she said at 3 p.m. and left. ") * 6


def test_a_sentence_gap_after_a_footnote_mark_is_still_a_sentence_gap():
    """"ended.¹ Then": the mark (a raised run, then the note's anchor, after which ReportLab puts the
    space on a word of its own) used to make the gap an ordinary one."""
    text = ("The ledger was kept in the office until the work ended.<super>1</super><a name=\"n1\"/> Then "
            "the clerk came back and opened the window of the room. ") * 6
    marks = []  # PDFium reads the raised mark as a row of its own: the gap after "ended." holds its width
    for gaps in _gaps(_pdf([SetParagraph(text, _style())], width=260))[:-1]:
        if not gaps:
            continue
        stretched = statistics.median(gap for word, gap in gaps) - stringWidth(" ", _style().fontName, 11)
        marks += [gap - 3 * stretched for word, gap in gaps if word == "ended." and stretched > 0.3]
    # the gap is the mark plus a space stretched three times as much as the others: the same mark every time
    assert len(marks) >= 3 and max(marks) - min(marks) < 0.2, marks


def test_abbreviations_get_ordinary_gaps_on_the_page():
    """On a stretched line the gap after "Dr.", "e.g.", "p.", "p.m." or a “Stop!” inside a sentence is
    an ordinary gap: TeX's space factors widened them like sentence ends (a visible hole)."""
    checked = 0
    for gaps in _gaps(_pdf([SetParagraph(ABBREVIATED, _style())], width=240))[:-1]:
        ordinary = statistics.median(gap for word, gap in gaps if word[-1].isalpha())
        for word, gap in gaps:
            if word in ("Dr.", "e.g.", "p.", "pp.", "p.m.", "Stop!\u201d"):
                assert gap == pytest.approx(ordinary, abs=0.1), (word, gaps)
                checked += 1
            elif word == "left." and abs(ordinary - stringWidth(" ", _style().fontName, 11)) > 0.3:
                assert gap > ordinary + 0.2  # a true sentence end still opens first
    assert checked >= 10


@pytest.mark.parametrize("invisible", ["\u200b", "\u200d", "\u00ad"])
@pytest.mark.parametrize("justify", [True, False])
def test_a_word_with_invisible_characters_stays_inside_the_measure(invisible, justify):
    """Zero-width characters (drawn with no width, measured by the plain metrics as a missing glyph)
    must not make the pieces of a cut word look narrower than they are drawn."""
    text = "Start " + invisible * 60 + "m" * 120 + " end."
    style = _style(alignment=TA_JUSTIFY if justify else 0, setting=Setting(justify=justify, language="en_US"))
    page = pypdfium2.PdfDocument(_pdf([SetParagraph(text, style)]))[0]
    textpage = page.get_textpage()
    boxes = [(textpage.get_text_range(i, 1), textpage.get_charbox(i)) for i in range(textpage.count_chars())]
    left = min(box[0] for char, box in boxes if char == "S") - 15.4  # the first line's indent
    rights = [box[2] for char, box in boxes if char.isalnum()]
    assert sum(char == "m" for char, _ in boxes) == 120
    assert max(rights) <= left + MEASURE + 0.5


def test_a_zero_width_joiner_is_not_drawn_as_a_stretched_space():
    """HarfBuzz stands a space glyph in for a format character the face lacks; drawn, it widened with
    every justified space and read back as a space ("man woman")."""
    text = TEXT.replace("office", "off\u200dice").replace("kitchen", "kit\u200bchen")
    pdf = _pdf([SetParagraph(text, _style())])
    extracted = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "office" in extracted.replace("\u200d", "")
    assert "kitchen" in extracted.replace("\u200b", "")
    page = pypdfium2.PdfDocument(pdf)[0]
    textpage = page.get_textpage()
    chars = "".join(textpage.get_text_range(i, 1) for i in range(textpage.count_chars()))
    at = chars.index("chen") - 1
    while not chars[at].isalpha():
        at -= 1
    assert textpage.get_charbox(chars.index("chen"))[0] - textpage.get_charbox(at)[2] < 1


@pytest.mark.parametrize("word", ["Nguye\u0302\u0303n", "e\u0301x\u0303", "man\u200dwoman"])
def test_a_word_wider_than_the_line_is_never_cut_inside_a_letter(word):
    """Accents (decomposed, as some keyboards type Vietnamese) stay on their letter and a
    joiner with both its neighbours: no line starts with a mark standing on nothing."""
    paragraph = SetParagraph("Start " + word * 80 + " end.", _style())
    paragraph.wrap(MEASURE, 10_000)
    lines = ["".join(str(run.text) for run in line.words) for line in paragraph.blPara.lines]
    assert len(lines) > 3
    for before, line in itertools.pairwise(lines):
        assert not unicodedata.combining(line[0]), line[:8]
        assert "\u200d" not in (line[0], before.rstrip("-\u00ad")[-1:])


def test_a_word_wider_than_the_line_is_hyphenated_not_cut_anywhere():
    """A long word in a narrow column breaks at its hyphenation points; cutting it between any two
    letters without a hyphen ("supercalifragilisticexpialidoci | ous") is only for words that
    hyphenation cannot fit."""
    text = "Words before the long one: " + "supercalifragilisticexpialidocious and " * 8
    paragraph = SetParagraph(text, _style())
    paragraph.wrap(150, 10_000)
    lines = ["".join(str(run.text) for run in line.words).strip() for line in paragraph.blPara.lines]
    assert len(lines) > 8
    for line in lines:
        assert line.endswith(SOFT_HYPHEN) or any(word.endswith(line.split()[-1]) for word in text.split()), lines


def test_a_zero_width_space_is_where_a_long_word_breaks():
    """U+200B is the author saying "break here if you must": preferred to cutting anywhere."""
    parts = ["Leadershipresponsibility", "accountabilitycommunication", "managementcoordination"] * 6
    paragraph = SetParagraph("Start " + "\u200b".join(parts) + " end.", _style())
    paragraph.wrap(MEASURE, 10_000)
    lines = ["".join(str(run.text) for run in line.words).strip() for line in paragraph.blPara.lines]
    assert len(lines) > 3
    for line in lines[:-1]:
        assert line.replace("\u200b", "").endswith(("Start", SOFT_HYPHEN, *parts)), lines

def test_a_hyphen_the_breaker_adds_reads_as_a_soft_hyphen_and_draws_as_a_hyphen(monkeypatch):
    """Text readers (screen readers, the tagged PDF's structure, copy and paste) get "management" for
    "manage-|ment": the added hyphen is U+00AD, drawn with the face's hyphen glyph; a typed hyphen stays."""
    typed = "A well-organised team-lead knows it. "
    text = typed + TEXT
    pdf = _pdf([SetParagraph(text, _style())], width=160)
    extracted = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "\u00ad" in extracted, "a column this narrow must hyphenate"
    assert "well-organised" in extracted and "team-lead" in extracted
    assert not re.search(r"-\s*\n", extracted.replace("well-\n", "").replace("team-\n", ""))
    assert words(re.sub("\u00ad\\s*", "", extracted)) == words(text)  # a reader drops U+00AD and the line end
    monkeypatch.setattr("anthology.layout.setting.SOFT_HYPHEN", "-")
    plain = _pdf([SetParagraph(text, _style())], width=160)
    for soft, hard in zip(pypdfium2.PdfDocument(pdf), pypdfium2.PdfDocument(plain), strict=True):
        assert soft.render().to_pil().tobytes() == hard.render().to_pil().tobytes()


SOFT = "counter\u00adrevolution\u00adaries"
"""The contributor's own hyphenation points; pyphen's are coun-ter-rev-o-lu-tion-ar-ies."""


def _soft_breaks(pdf: bytes) -> list[str]:
    """The hyphenated line ends inside the word :data:`SOFT` (what precedes the hyphen)."""
    lines = [line[3].strip() for line in _lines(pdf)]
    ends = []
    for line, following in itertools.pairwise(lines):
        if line.endswith("\ufffe") or line.endswith("-"):
            head = line.rstrip("\ufffe-").split()[-1]
            if "counterrevolutionaries".startswith(head) and following.startswith(
                    "counterrevolutionaries"[len(head):]):
                ends.append(head)
    return ends


def test_a_contributors_soft_hyphens_are_where_the_word_breaks():
    """U+00AD in the text is where the word may break, and only there (TeX's discretionary hyphens);
    ReportLab's parser used to drop them, and pyphen's points were used instead."""
    text = ("Short words then " + SOFT + " again and ") * 8
    pdf = _pdf([SetParagraph(text, _style(firstLineIndent=0))], width=110)
    ends = _soft_breaks(pdf)
    assert ends, "a column this narrow must break the word"
    assert set(ends) <= {"counter", "counterrevolution"}, ends
    document = pypdfium2.PdfDocument(pdf)
    assert words(" ".join(page.get_textpage().get_text_range() for page in document)) == words(text)


def test_soft_hyphens_survive_breaking_again_at_another_width():
    """A paragraph broken once keeps its words' soft hyphens when it is broken again (another width,
    or a page that must not end on a hyphen)."""
    text = ("Short words then " + SOFT + " again and ") * 8
    paragraph = SetParagraph(text, _style(firstLineIndent=0))
    paragraph.wrap(300, 1000)
    pdf = _pdf([paragraph], width=110)
    ends = _soft_breaks(pdf)
    assert ends and set(ends) <= {"counter", "counterrevolution"}, ends


def test_a_soft_hyphenated_word_longer_than_a_page_breaks_only_at_its_soft_hyphens():
    """A word cut on many lines keeps its soft hyphens piece by piece: the page split used to hand the
    next page a piece with the whole word's positions (an IndexError, or breaks between other letters)."""
    word = "abc\u00ad" * 400
    pdf = _pdf([SetParagraph("Start " + word + " end.", _style(firstLineIndent=0))], width=110)
    lines = [line[3].strip().rstrip("\ufffe\u00ad-") for line in _lines(pdf)]
    inside = [line for line in lines if set(line) <= set("abc")]
    assert len({page for page, *_ in _lines(pdf)}) > 2 and len(inside) > 40
    assert all(line.startswith("a") and line.endswith("c") for line in inside), inside
    assert "".join(line.removeprefix("Start ").removesuffix(" end.") for line in lines) == "abc" * 400


@pytest.mark.parametrize("alone", ["\u00ad", "\u00ad\u00ad\u00ad"])
def test_a_word_of_soft_hyphens_alone_adds_no_second_space(alone):
    """"and \u00ad alone" is two words to a reader: the invisible word between used to draw a second space."""
    text = f"Short words and {alone} alone, then more words to end the line."
    gaps = _gaps(_pdf([SetParagraph(text, _style(setting=Setting(justify=False), alignment=0))]))[0]
    space = stringWidth(" ", _style().fontName, 11)
    assert [word for word, _ in gaps][:4] == ["Short", "words", "and", "alone,"]
    assert all(gap == pytest.approx(space, abs=0.1) for _, gap in gaps), gaps


def test_every_word_survives_hyphenation_in_order():
    pdf = _pdf([SetParagraph(TEXT, _style())], width=160)
    text = " ".join(pypdfium2.PdfDocument(pdf)[p].get_textpage().get_text_range()
                   for p in range(len(pypdfium2.PdfDocument(pdf))))
    assert "\ufffe" in text, "a column this narrow must hyphenate"
    assert words(text) == words(TEXT)


def test_spaces_shrink_as_far_as_the_setting_allows():
    """A line that fits only when its spaces shrink by a quarter is set on one line."""
    face = register_family("source-serif").regular
    text = "aaa bbb ccc ddd eee fff ggg hhh"
    natural = stringWidth(text, face, 11)
    space = stringWidth(" ", face, 11)
    width = natural - 7 * space * 0.25
    style = _style(firstLineIndent=0)
    paragraph = SetParagraph(text, style)
    _, height = paragraph.wrap(width, 1000)
    assert height == pytest.approx(style.leading)
    loose = SetParagraph(text, _style(firstLineIndent=0, setting=Setting(shrink=0.1)))
    assert loose.wrap(width, 1000)[1] > style.leading


def test_ragged_right_keeps_spaces_at_their_width():
    style = _style(alignment=0, setting=Setting(justify=False, language="en_US"))
    pdf = _pdf([SetParagraph(TEXT, style)])
    rights = [line[2] for line in _lines(pdf) if line[3].strip()]
    assert max(rights) - min(rights) > 5  # the right edge is ragged
    assert words(pypdfium2.PdfDocument(pdf)[0].get_textpage().get_text_range())[:20] == words(TEXT)[:20]


def _first_hyphenated_line(style: ParagraphStyle) -> int:
    paragraph = SetParagraph(TEXT, style)
    paragraph.wrap(WIDTH, 1e6)
    for index, line in enumerate(paragraph.blPara.lines):
        if 2 <= index < len(paragraph.blPara.lines) - 3 and getattr(line.words[-1], "kp_hyphen", False):
            return index
    raise AssertionError("the example must hyphenate a line")


def test_a_page_never_ends_on_a_hyphen():
    style = _style()
    last = _first_hyphenated_line(style)
    height = (last + 1) * style.leading + 1  # the page ends right after that line
    paragraph = SetParagraph(TEXT, style)
    paragraph.wrap(WIDTH, height)
    first, rest = paragraph.split(WIDTH, height)
    first.wrap(WIDTH, height)
    assert not getattr(first.blPara.lines[-1].words[-1], "kp_hyphen", False)
    assert len(first.blPara.lines) == last + 1  # the page is still full
    # and the words of both halves, drawn, are the paragraph's words in order
    frame_pdf = io.BytesIO()
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(frame_pdf, pagesize=(WIDTH + 100, 2000))
    Frame(50, 1000, WIDTH, 900, leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0).addFromList(
        [first, rest], canvas)
    canvas.save()
    text = pypdfium2.PdfDocument(frame_pdf.getvalue())[0].get_textpage().get_text_range()
    assert words(text) == words(TEXT)


def test_a_paragraph_split_across_pages_keeps_its_lines():
    style = _style()
    whole = SetParagraph(TEXT, style)
    whole.wrap(MEASURE, 1e6)
    expected = [unicodedata.normalize("NFKC", "".join(str(w.text) for w in line.words))
                for line in whole.blPara.lines]
    pdf = _pdf([SetParagraph(TEXT, style)])  # 320 pt pages: the paragraph runs over several
    assert len(pypdfium2.PdfDocument(pdf)) > 1
    drawn = [line[3] for line in _lines(pdf) if line[3].strip()]
    assert [re.sub(r"\W", "", t) for t in drawn] == [re.sub(r"\W", "", t) for t in expected]


LONG = TEXT * 6
"""Over 6 000 characters: set as a LongParagraph, in pieces of about 40 lines."""


def _long() -> LongParagraph:
    paragraph = body_paragraph(SetParagraph(LONG, _style()), len(LONG))
    assert isinstance(paragraph, LongParagraph)
    return paragraph


def _drawn_words(flowables: list) -> list[str]:
    """The words of ``flowables`` drawn one after another in one tall frame."""
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(WIDTH + 100, 6000))
    Frame(50, 50, WIDTH, 5900, leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0).addFromList(
        list(flowables), canvas)
    canvas.save()
    return words(pypdfium2.PdfDocument(buffer.getvalue())[0].get_textpage().get_text_range())


def test_a_page_inside_a_long_paragraph_never_ends_on_a_hyphen():
    """A piece of a paragraph over 6 000 characters obeys the page-end rule too (it was exempt)."""
    style = _style()
    first = _long()._cut(WIDTH)[0]
    first.wrap(WIDTH, 1e6)
    lines = first.blPara.lines
    last = next(index for index, line in enumerate(lines)
                if 2 <= index < len(lines) - 3 and getattr(line.words[-1], "kp_hyphen", False))
    height = (last + 1) * style.leading + 1  # the page ends right after that hyphenated line
    parts = _long().split(WIDTH, height)
    head = parts[0]
    head.wrap(WIDTH, height)
    assert not getattr(head.blPara.lines[-1].words[-1], "kp_hyphen", False)
    assert len(head.blPara.lines) == last + 1  # the page is still full
    assert _drawn_words(parts) == words(LONG)


def test_a_long_paragraphs_pieces_never_end_on_a_hyphen(monkeypatch):
    """The page may end where a piece ends, so a piece never ends on a hyphenated line (it could)."""
    monkeypatch.setattr(LongParagraph, "PIECE_LINES", 3)  # many joins, so some would fall on a hyphen
    long = _long()
    pieces = long._cut(WIDTH)
    assert len(pieces) > 20
    for piece in pieces:
        piece.wrap(WIDTH, 1e6)
        assert not getattr(piece.blPara.lines[-1].words[-1], "kp_hyphen", False)
    assert _drawn_words(pieces) == words(LONG)


def test_a_page_never_ends_on_a_contributors_soft_hyphen_either():
    """Soft hyphens break words even in a layout that does not hyphenate (``hyphenate: false``), and
    the page-end rule holds for them too (it was checked only where the layout hyphenates)."""
    style = _style(firstLineIndent=0, setting=Setting(language=""))
    text = ("Short words then " + SOFT + " again and ") * 8
    whole = SetParagraph(text, style)
    whole.wrap(110, 1e6)
    last = next(index for index, line in enumerate(whole.blPara.lines)
                if 2 <= index < len(whole.blPara.lines) - 3 and getattr(line.words[-1], "kp_hyphen", False))
    height = (last + 1) * style.leading + 1
    paragraph = SetParagraph(text, style)
    paragraph.wrap(110, height)
    first, rest = paragraph.split(110, height)
    first.wrap(110, height)
    assert not getattr(first.blPara.lines[-1].words[-1], "kp_hyphen", False)
    assert len(first.blPara.lines) == last + 1
    assert _drawn_words([first, rest]) == words(text)


def test_a_fragment_copy_is_reportlabs_clone():
    """The fast copy of a fragment has the clone's class and attributes, in the same order."""
    from reportlab.platypus.paraparser import ParaFrag

    from anthology.layout.setting import _copy

    frag = ParaFrag(fontName="F", fontSize=11, text="word", rise=0, link=None, us_lines=[])
    for changes in ({}, {"text": "other", "kp_mark": True}):
        ours, theirs = _copy(frag, **changes), frag.clone(**changes)
        assert type(ours) is type(theirs) and ours is not frag
        assert list(ours.__dict__.items()) == list(theirs.__dict__.items())
    assert frag.text == "word"
