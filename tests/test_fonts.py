"""Fixed font encoding: the same subset is byte-identical whichever document uses it."""

import io

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from anthology.fonts import font_runs, register_family


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


def test_fallback_face_for_missing_glyphs():
    runs = font_runs("Thảo", "source-serif-italic")
    assert "".join(text for _, text in runs) == "Thảo"
    assert runs[0][0] == "source-serif-italic" and any(face != "source-serif-italic" for face, _ in runs)
