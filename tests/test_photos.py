"""photos: odd but legitimate images come out right; nothing of the file but its pixels survives."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from anthology.photos import PhotoProblem, check_photo

from .hostile import image_bytes, lying_jpeg


def decoded(data: bytes, max_megapixels: float = 50) -> Image.Image:
    checked = check_photo(data, max_megapixels)
    image = Image.open(io.BytesIO(checked.jpeg))
    image.load()
    return image


def test_sixteen_bit_grey_is_scaled_not_clipped_to_white():
    image = decoded(image_bytes("I;16", (32, 32), 40000, "PNG"))
    assert abs(image.getpixel((16, 16))[0] - round(40000 / 257)) <= 2  # 156, not 255


def test_cmyk_jpeg_keeps_its_colour():
    red = decoded(image_bytes("CMYK", (32, 32), (0, 255, 255, 0)))  # pure red in CMYK
    r, g, b = red.getpixel((16, 16))
    assert r > 200 and g < 60 and b < 60


@pytest.mark.parametrize("mode, color", [("RGBA", (0, 0, 255, 0)), ("LA", (0, 0))])
def test_transparency_is_flattened_onto_white(mode, color):
    assert decoded(image_bytes(mode, (16, 16), color, "PNG")).getpixel((8, 8)) == (255, 255, 255)


def test_palette_png_with_a_transparent_index():
    source = Image.new("P", (16, 16), 1)
    source.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    out = io.BytesIO()
    source.save(out, "PNG", transparency=0)
    r, g, b = decoded(out.getvalue()).getpixel((8, 8))
    assert max(abs(r - 10), abs(g - 200), abs(b - 30)) < 8


def test_exif_orientation_is_applied_and_every_metadata_chunk_dropped():
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways
    exif[0x010F] = "SecretCam"
    exif[0x8825] = {1: "N", 2: (52.0, 13.0, 0.0)}  # a GPS IFD
    source = io.BytesIO()
    Image.new("RGB", (80, 40), (90, 90, 90)).save(source, "JPEG", exif=exif, comment=b"SECRET-COMMENT")
    checked = check_photo(source.getvalue(), 50)
    assert checked.original_size == (40, 80)
    image = Image.open(io.BytesIO(checked.jpeg))
    assert image.size == (40, 80)
    assert b"SecretCam" not in checked.jpeg and b"SECRET" not in checked.jpeg and b"Exif" not in checked.jpeg
    assert "exif" not in image.info and "comment" not in image.info and "icc_profile" not in image.info


def test_big_photos_are_scaled_down_and_the_pixel_cap_is_the_editors():
    checked = check_photo(image_bytes(size=(3000, 2000)), 50)
    assert checked.original_size == (3000, 2000)
    assert max(Image.open(io.BytesIO(checked.jpeg)).size) == 1000
    with pytest.raises(PhotoProblem, match="3000×2000 pixels, more than the limit of 5 megapixels"):
        check_photo(image_bytes(size=(3000, 2000)), 5)


def test_a_lying_header_is_refused_before_decoding():
    with pytest.raises(PhotoProblem, match="4,225 megapixels"):
        check_photo(lying_jpeg(), 50)
