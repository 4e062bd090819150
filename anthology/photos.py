"""Headshots are hostile input: decode them once, by content, within caps.

A photo is read as bytes (never handed to ReportLab as a path), identified by
its content with Pillow limited to JPEG and PNG (so an EPS, TIFF, GIF or WebP
named ``.jpg`` never reaches another decoder), and its pixel count is checked
from the header before any pixel is decoded. The whole image is then decoded,
so a truncated file is an error rather than a half-blank picture, and turned
into upright 8-bit RGB: EXIF orientation applied, 16-bit grey scaled rather than
clipped, CMYK converted, transparency flattened onto white. What leaves this
module is a fresh JPEG with no metadata at all: EXIF, GPS, comments and ICC
profiles stay behind because only pixels are copied.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = ("JPEG", "PNG")
WORKING_SIDE = 1000
"""Longest side kept after checking: ample for a headshot printed at 300 dpi."""

_SIGNATURES = (
    (b"GIF8", "a GIF"), (b"II*\x00", "a TIFF"), (b"MM\x00*", "a TIFF"), (b"BM", "a BMP"),
    (b"%!PS", "an EPS (PostScript)"), (b"\xc5\xd0\xd3\xc6", "an EPS (PostScript)"), (b"%PDF", "a PDF"),
    (b"<svg", "an SVG"), (b"<?xml", "an XML/SVG"), (b"\x00\x00\x00\x0cjP", "a JPEG 2000"),
)


class PhotoProblem(Exception):
    """The photo cannot be used; the message says why, the hint how to fix it."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True, slots=True)
class CheckedPhoto:
    jpeg: bytes
    """Upright RGB pixels, longest side at most :data:`WORKING_SIDE`, no metadata."""
    original_size: tuple[int, int]
    """Width and height of the file as submitted (after orientation)."""


def check_photo(data: bytes, max_megapixels: float) -> CheckedPhoto:
    """Decode untrusted image bytes into a clean JPEG, or raise :class:`PhotoProblem`."""
    image = _open(data, max_megapixels)
    declared = image.size
    try:
        if image.format == "JPEG":
            image.draft("RGB", (WORKING_SIDE, WORKING_SIDE))  # decode at a reduced scale: fast, small
        image.load()
    except Exception as exc:  # any decoder failure on hostile bytes is the photo's fault
        raise PhotoProblem(f"cannot be decoded ({_reason(exc)})",
                           "the file is damaged or incomplete; export the headshot again") from None
    upright = ImageOps.exif_transpose(image)
    turned = upright.size != image.size
    rgb = _to_rgb(upright)
    rgb.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.LANCZOS)
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)  # a new image carries none of the source's info (EXIF, comments, ICC)
    encoded = io.BytesIO()
    clean.save(encoded, "JPEG", quality=95)
    return CheckedPhoto(encoded.getvalue(), declared[::-1] if turned else declared)


def _open(data: bytes, max_megapixels: float) -> Image.Image:
    if not data:
        raise PhotoProblem("is an empty file", "export the headshot again as JPEG or PNG")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            pixels = re.search(r"\((\d+) pixels\)", str(exc))
            raise _too_large(f"{int(pixels[1]) / 1e6:,.0f} megapixels" if pixels else "huge", max_megapixels) from None
        except UnidentifiedImageError:
            kind = next((name for magic, name in _SIGNATURES if data.startswith(magic)), None)
            if kind is None and data[8:12] == b"WEBP":
                kind = "a WebP"
            if kind is not None:
                raise PhotoProblem(f"is {kind} image, not JPEG or PNG", "convert it to JPEG or PNG") from None
            raise PhotoProblem("is not a JPEG or PNG image", "export the headshot as JPEG or PNG") from None
        except Exception as exc:  # a JPEG or PNG whose headers are hostile or broken
            raise PhotoProblem(f"cannot be read ({_reason(exc)})",
                               "the file is damaged or unusual; export the headshot again") from None
    width, height = image.size
    if width * height > max_megapixels * 1_000_000 or not width or not height:
        raise _too_large(f"{width}×{height} pixels", max_megapixels)
    return image


def _too_large(shown: str, max_megapixels: float) -> PhotoProblem:
    return PhotoProblem(f"is {shown}, more than the limit of {max_megapixels:g} megapixels",
                        "scale it down (1000×1000 pixels is plenty for a headshot), "
                        "or raise limits.photo_megapixels in anthology.yaml")


def _to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB whatever the mode: 16-bit scaled, CMYK converted, transparency on white."""
    if image.mode.startswith("I"):  # 16- or 32-bit grey: scale into 0..255 instead of clipping
        image = image.convert("I").point(lambda value: value * (1 / 257)).convert("L")
    if image.mode in ("P", "PA", "LA", "RGBA", "La", "RGBa") or "transparency" in image.info:
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        return flat
    return image.convert("RGB")


def _reason(exc: BaseException) -> str:
    return str(exc).split("\n")[0][:120] or type(exc).__name__
