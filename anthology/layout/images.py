"""Headshots cropped square and sized for print from the already-cleaned pixels.

:mod:`anthology.photos` has decoded and cleaned the contributor's file during
validation; this stage only crops the centre, scales it to at most 300 dpi at
the printed diameter and re-encodes it. The circle is drawn by the layout.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from ..model import Photo

PRINT_DPI = 300


def prepare_headshot(photo: Photo, diameter_pt: float, focus: tuple[float, float] = (0.5, 0.4)) -> bytes:
    """JPEG bytes of a square RGB crop around ``focus``, at most 300 dpi for ``diameter_pt``.

    JPEG rather than raw pixels: ReportLab embeds JPEG data as it is, which keeps
    a headshot to a few kilobytes in the book.
    """
    with Image.open(io.BytesIO(photo.jpeg), formats=["JPEG"]) as image:
        image.load()
        side = min(image.size)
        target = max(1, min(side, round(diameter_pt / 72 * PRINT_DPI)))
        square = ImageOps.fit(image, (target, target), method=Image.Resampling.LANCZOS, centering=focus)
    encoded = io.BytesIO()
    square.save(encoded, "JPEG", quality=88, optimize=True)  # no exif= argument: no metadata
    return encoded.getvalue()
