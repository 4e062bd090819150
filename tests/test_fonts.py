"""Fixed font encoding: the same subset is byte-identical whichever document uses it."""

import io

import pytest
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from anthology.fonts import StubFontCanvas, font_runs, missing_glyphs, register_family


def one_page(text: str) -> bytes:
    faces = register_family("source-serif")
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1, initialFontName=faces.regular)
    canvas.setFont(faces.regular, 12)
    canvas.drawString(72, 700, text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def font_streams(pdf: bytes) -> dict[str, bytes]:
    from pypdf import PdfReader

    page = PdfReader(io.BytesIO(pdf)).pages[0]
    fonts = page["/Resources"]["/Font"]
    return {str(f["/BaseFont"]): f["/FontDescriptor"]["/FontFile2"].get_data() for f in fonts.values()}


def test_subsets_do_not_depend_on_the_text():
    a = font_streams(one_page("Zebra quartz"))
    b = font_streams(one_page("ÿ and also a different sentence"))
    assert list(a) == ["/AAAAAA+SourceSerifPro-Regular"]
    assert a == b


class _Document:
    """Stands in for a ReportLab document: fonts keep per-document state keyed by it."""


def test_codes_are_the_same_in_every_document():
    font = pdfmetrics.getFont(register_family("source-serif").regular)
    assert font.splitString("Łódź", _Document()) == font.splitString("Łódź", _Document())


def test_an_italic_lacking_a_letter_borrows_the_upright_face():
    runs = font_runs("Thảo", "source-serif-italic", ())
    assert "".join(text for _, text in runs) == "Thảo"
    assert runs == [("source-serif-italic", "Th"), ("source-serif-regular", "ả"), ("source-serif-italic", "o")]


def test_declared_fallback_families_draw_what_the_family_lacks():
    assert missing_glyphs("ɐ Ѣ", "source-serif") == ["ɐ"]
    assert missing_glyphs("ɐ Ѣ", "source-serif", ("roboto",)) == []
    runs = font_runs("aɐb", "source-serif-regular", ("roboto",))
    assert runs == [("source-serif-regular", "a"), ("roboto-regular", "ɐ"), ("source-serif-regular", "b")]


def test_kerned_text_is_written_exactly_as_reportlab_writes_it():
    """The one-pass writer for shaped text gives ReportLab's own operators, byte for byte."""
    import random

    from reportlab.pdfbase.ttfonts import ShapedStr
    from reportlab.pdfgen.textobject import PDFTextObject

    from anthology.fonts import KernedTextObject
    from anthology.layout.setting import _shaped_glyphs

    faces = register_family("source-serif")
    words = ["Tavern", "AVA", "Yo,", "office", "ﬁ", "To.", "WAVY", "(f)", "Łódź", "“Vä”", "r.", "P.A.", "T\\",
             "plain", "gyp", "Ωmega", "ſt", "ﬄuffy", "q\u0301", "x\u0303y", "g\u0308"]  # marks: x offsets
    rng = random.Random(7)
    canvas = StubFontCanvas(io.BytesIO(), invariant=1, initialFontName=faces.regular)
    compared = 0
    for face in (faces.regular, faces.italic, faces.bold):
        for _ in range(300):
            line = None
            for word in rng.choices(words, k=rng.randint(1, 9)):
                glyphs = _shaped_glyphs(word, face) or word
                line = glyphs if line is None else line + rng.choice([" ", ""]) + glyphs
            if not isinstance(line, ShapedStr):
                continue
            ours, theirs = KernedTextObject(canvas), PDFTextObject(canvas)
            size = rng.choice([9, 10.5, 11])
            for text_object in (ours, theirs):
                text_object.setFont(face, size, 13.2)
            assert ours._formatText(line) == theirs._formatText(line)
            assert ours._curSubset == theirs._curSubset
            compared += 1
    assert compared > 500


def test_text_is_split_into_subsets_exactly_as_reportlab_splits_it():
    """The one-pass subset-0 encoding agrees with ReportLab's loop over characters, whatever the text."""
    import random

    from reportlab.pdfbase.ttfonts import TTFont

    faces = register_family("source-serif")
    font = pdfmetrics.getFont(faces.regular)
    canvas = StubFontCanvas(io.BytesIO(), invariant=1, initialFontName=faces.regular)
    doc = canvas._doc
    font.splitString("", doc)  # the document's fixed code table
    everything = [chr(c) for c in range(0, 0x250)] + list("‘’“”–—…€ΩЖ你\u00a0\u0301\U0001F600")
    common = [chr(c) for c in range(32, 256)] + list("‘’“”–—…€")  # mostly subset 0: the one-pass path
    rng = random.Random(3)
    for _ in range(4000):
        text = "".join(rng.choices(rng.choice([everything, common]), k=rng.randint(0, 12)))
        try:
            expected = TTFont.splitString(font, text, doc)
        except Exception as error:
            with pytest.raises(type(error)):
                font.splitString(text, doc)
            continue
        assert font.splitString(text, doc) == expected, repr(text)
