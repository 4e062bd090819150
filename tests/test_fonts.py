"""Fixed font encoding: the same subset is byte-identical whichever document uses it."""

import io

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from anthology.fonts import font_runs, missing_glyphs, register_family


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
