"""Headshots: decoded once with Pillow, cleaned, cropped square, sized for print.

Whatever the contributor sent, what reaches the PDF is fresh RGB pixels: EXIF
orientation is applied, then every metadata chunk (EXIF, GPS, comments, ICC)
is left behind because only the pixels are copied. The square crop is drawn
inside a circle by the layout.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from ..model import Photo

PRINT_DPI = 300


def prepare_headshot(photo: Photo, diameter_pt: float) -> bytes:
    """JPEG bytes of a square RGB crop of the photo's centre, at most 300 dpi for ``diameter_pt``.

    JPEG rather than raw pixels: ReportLab embeds JPEG data as it is, which keeps
    a headshot to a few kilobytes in the book.
    """
    with Image.open(photo.path) as source:
        source.load()
        image = ImageOps.exif_transpose(source)
    if image.mode in ("RGBA", "LA", "P", "PA"):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    side = min(image.size)
    target = max(1, min(side, round(diameter_pt / 72 * PRINT_DPI)))
    square = ImageOps.fit(image, (side, side), method=Image.Resampling.LANCZOS, centering=(0.5, 0.4))
    clean = Image.new("RGB", (target, target))
    clean.paste(square.resize((target, target), Image.Resampling.LANCZOS))
    encoded = io.BytesIO()
    clean.save(encoded, "JPEG", quality=88, optimize=True)  # no exif= argument: no metadata
    return encoded.getvalue()
