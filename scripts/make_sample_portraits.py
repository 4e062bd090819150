"""Draw the placeholder headshots used by the sample book.

The sample contributors are fictional, so their "photos" must not be pictures
of real people. This script generates a simple abstract head-and-shoulders
silhouette for each slug instead: a soft two-tone background whose colours are
derived from the slug, with a darker figure on top and no text. The output is
deterministic (same slug, same bytes) and carries no EXIF data.

Usage::

    python scripts/make_sample_portraits.py            # the sample book's slugs
    python scripts/make_sample_portraits.py some-slug  # any slugs you name
"""

from __future__ import annotations

import colorsys
import hashlib
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 600, 750
SCALE = 2  # draw at twice the size, then downsample for smooth edges
OUT_DIR = Path(__file__).resolve().parent.parent / "contributions"

SAMPLE_SLUGS = (
    "zoe-lindqvist",
    "nguyen-thi-thao",
    "lukasz-wrobel",
    "baris-yilmazoglu",
    "temidayo-alade",
    "haruka-tsujimoto",
    "luana-conceicao-barbosa",
)

Color = tuple[int, int, int]


def _rgb(hue: float, lightness: float, saturation: float) -> Color:
    r, g, b = colorsys.hls_to_rgb(hue % 1.0, lightness, saturation)
    return round(r * 255), round(g * 255), round(b * 255)


def palette(slug: str) -> tuple[Color, Color, Color]:
    """Top and bottom background colours and the figure colour for ``slug``."""
    digest = hashlib.sha256(slug.encode("utf-8")).digest()
    hue = digest[0] / 256
    shift = (digest[1] / 256 - 0.5) * 0.16  # a neighbouring hue, never a clash
    saturation = 0.25 + digest[2] / 256 * 0.2
    top = _rgb(hue, 0.86, saturation)
    bottom = _rgb(hue + shift, 0.74, saturation)
    figure = _rgb(hue + shift / 2, 0.40, saturation)
    return top, bottom, figure


def portrait(slug: str) -> Image.Image:
    """A 600×750 RGB placeholder portrait for ``slug``."""
    top, bottom, figure = palette(slug)
    w, h = WIDTH * SCALE, HEIGHT * SCALE

    # Soft vertical blend between the two background tones.
    ramp = Image.linear_gradient("L").resize((w, h))
    image = Image.composite(Image.new("RGB", (w, h), bottom), Image.new("RGB", (w, h), top), ramp)

    draw = ImageDraw.Draw(image)
    cx = w // 2
    # Shoulders: a wide rounded shape running off the bottom edge.
    draw.rounded_rectangle((cx - 0.40 * w, 0.68 * h, cx + 0.40 * w, 1.15 * h), radius=int(0.22 * w), fill=figure)
    # Neck, then head.
    draw.rounded_rectangle((cx - 0.08 * w, 0.50 * h, cx + 0.08 * w, 0.72 * h), radius=int(0.04 * w), fill=figure)
    draw.ellipse((cx - 0.18 * w, 0.21 * h, cx + 0.18 * w, 0.56 * h), fill=figure)

    image = image.filter(ImageFilter.GaussianBlur(1.2 * SCALE))
    return image.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)


def main(slugs: list[str]) -> None:
    OUT_DIR.mkdir(exist_ok=True)
    for slug in slugs or SAMPLE_SLUGS:
        path = OUT_DIR / f"{slug}.jpg"
        portrait(slug).save(path, "JPEG", quality=85, optimize=True)
        print(path.relative_to(OUT_DIR.parent))


if __name__ == "__main__":
    main(sys.argv[1:])
