"""A catalogue of hostile contributions, generated at test time (no binary blobs committed).

Each :class:`Case` is one contribution written into ``contributions/``. A case
with ``error`` must be rejected with exactly one error containing that text; a
case without it is valid however nasty it looks, and ``literal`` is text that
must come out of the built PDF exactly as the contributor wrote it. The recipes
follow ``shared/notes/reliability.md`` (ids such as MK-2 or IM-3 refer to it).
"""

from __future__ import annotations

import io
import json
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image


@dataclass(frozen=True)
class Symlink:
    target: str


@dataclass(frozen=True)
class Fifo:
    pass


@dataclass(frozen=True)
class Case:
    slug: str
    what: str
    files: dict[str, str | bytes | Symlink | Fifo]
    error: str = ""
    """Text of the single error this contribution must get; empty for a valid one."""
    literal: tuple[str, ...] = ()
    """Text that must appear verbatim in the book (valid cases)."""
    warning: str = ""


HOSTILE_BOOK = """\
title: "Hostile Inputs"
editor: "Quinn Testwright"
limits:
  body_bytes: 256 KiB
  photo_bytes: 2 MiB
  photo_megapixels: 30
"""

CVE_2023_33733 = ("<font color=\"[ [ getattr(pow, Word('__globals__'))['os'].system('touch CANARY') "
                  "for Word in [ orgTypeFun( 'Word', (str,), { 'mutated': 1, 'startswith': lambda self, x: 1 == 0, "
                  "'__eq__': lambda self, x: self.mutate() and self.mutated < 0 and str(self) == x, "
                  "'mutate': lambda self: { setattr(self, 'mutated', self.mutated - 1) }, "
                  "'__hash__': lambda self: hash(str(self)), }, ) ] ] for orgTypeFun in [type(type(1))] "
                  "] and 'red'\">exploit</font>")


def meta(name: str, title: str = "A headline", **fields: str) -> str:
    """YAML for a contribution; values are JSON strings, which YAML reads as they are."""
    values = {"name": name, "title": title, **fields}
    return "".join(f"{key}: {json.dumps(value, ensure_ascii=False)}\n" for key, value in values.items())


def pair(slug: str, yaml_text: str | bytes, body: str | bytes = "Plain words of a valid entry.\n",
         **files: str | bytes | Symlink | Fifo) -> dict[str, str | bytes | Symlink | Fifo]:
    return {f"{slug}.yaml": yaml_text, f"{slug}.md": body, **files}


# images -------------------------------------------------------------------


def image_bytes(mode: str = "RGB", size: tuple[int, int] = (64, 64), color: object = (200, 120, 80),
                fmt: str = "JPEG", **options: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt, **options)  # type: ignore[arg-type]
    return out.getvalue()


def lying_jpeg(width: int = 65000, height: int = 65000) -> bytes:
    """IM-3: a small JPEG whose SOF0 header claims a huge size."""
    data = bytearray(image_bytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def truncated_jpeg() -> bytes:
    """IM-4: the first half of a valid JPEG."""
    whole = image_bytes(size=(400, 400), color=(10, 200, 30))
    return whole[: len(whole) // 2]


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_header_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """IM-1: a 1-bit PNG of 400 megapixels in well under a kilobyte."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    idat = zlib.compress(row * 4, 9)  # the header is what matters; the data need not be complete
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + _chunk(b"IDAT", idat) + _chunk(b"IEND", b""))


def png_text_bomb() -> bytes:
    """IM-8: an 8×8 PNG with a zTXt chunk that inflates to 50 MB."""
    plain = image_bytes("L", (8, 8), 128, "PNG")
    ztxt = _chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"A" * 50_000_000, 9))
    return plain[:33] + ztxt + plain[33:]


EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nnewpath 0 0 moveto 10 10 lineto stroke\nshowpage\n"


# the catalogue --------------------------------------------------------------


def _deep_list(levels: int) -> str:
    return "".join("  " * level + f"- level{level}\n" for level in range(levels))


def cases() -> list[Case]:
    """Every hostile contribution, one class of attack or accident each."""
    billion_laughs = "name: \"Lol\"\ntitle: \"T\"\na0: &a0 [\"lol\"]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10))
    jpeg = image_bytes()
    return [
        # YAML (YM-*)
        Case("y-billion-laughs", "YAML alias bomb", pair("y-billion-laughs", billion_laughs),
             "anchor '&a0' is not allowed"),
        Case("y-recursive-alias", "recursive alias", pair("y-recursive-alias", meta("R") + "bio: &a [*a]\n"),
             "anchor '&a' is not allowed"),
        Case("y-deep-nesting", "900 nested flow sequences",
             pair("y-deep-nesting", meta("D") + "bio: " + "[" * 900 + "]" * 900 + "\n"), "nested deeper than"),
        Case("y-duplicate-key", "duplicate key",
             pair("y-duplicate-key", "name: \"Alice\"\nname: \"Bob\"\ntitle: \"T\"\n"),
             "duplicate key 'name' (first set on line 1)"),
        Case("y-python-tag", "!!python/object tag",
             pair("y-python-tag", meta("P") + "photo: !!python/object/apply:os.system [\"touch CANARY\"]\n"),
             "tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"),
        Case("y-merge-key", "merge key", pair("y-merge-key", "<<: {name: \"M\"}\ntitle: \"T\"\n"),
             "merge keys ('<<') are not allowed"),
        Case("y-latin1", "Latin-1 bytes", pair("y-latin1", b"name: Zo\xeb\ntitle: T\n"), "is not valid UTF-8"),
        Case("y-empty", "empty metadata file", pair("y-empty", ""), "the metadata is empty"),
        Case("y-top-level-list", "a list at the top", pair("y-top-level-list", "- a\n- b\n"),
             "expected a mapping"),
        Case("y-lone-surrogate", "lone surrogate escape", pair("y-lone-surrogate", "name: \"\\ud800\"\ntitle: \"T\"\n"),
             "control character U+D800"),
        Case("y-nul", "NUL in a name", pair("y-nul", "name: \"nul\\0here\"\ntitle: \"T\"\n"),
             "control character U+0000"),
        Case("y-huge", "metadata over the size cap", pair("y-huge", meta("H") + "bio: \"" + "x" * 70_000 + "\"\n"),
             "more than the limit of 65,536"),
        Case("y-syntax", "broken YAML", pair("y-syntax", "name: [unclosed\ntitle: \"T\"\n"), "YAML syntax error"),
        Case("y-yaml11-values", "YAML 1.1 booleans, octals, times",
             pair("y-yaml11-values", "name: Norway No\ntitle: on\nrole: 012345\norganization: no\nbio: 12:30\n"),
             literal=("012345", "12:30")),
        # paths (FS-*)
        Case("f-dotdot", "../ in photo", pair("f-dotdot", meta("F1", photo="../../etc/passwd")), "points outside"),
        Case("f-absolute", "absolute photo path", pair("f-absolute", meta("F2", photo="/etc/passwd")),
             "points outside"),
        Case("f-home", "~ in photo", pair("f-home", meta("F3", photo="~/.ssh/id_rsa")), "points outside"),
        Case("f-file-url", "file:// URL as photo", pair("f-file-url", meta("F4", photo="file:///etc/passwd")),
             "points outside"),
        Case("f-windows", "Windows path", pair("f-windows", meta("F5", photo="C:\\x.jpg")), "points outside"),
        Case("f-nul-byte", "NUL byte in a path",
             pair("f-nul-byte", "name: \"F6\"\ntitle: \"T\"\nphoto: \"a.jpg\\0.png\"\n"),
             "control character U+0000"),
        Case("f-symlink-out", "photo symlink to /etc/passwd",
             pair("f-symlink-out", meta("F7", photo="f7.jpg"), **{"f7.jpg": Symlink("/etc/passwd")}),
             "points outside"),
        Case("f-symlink-device", "photo symlink to /dev/zero",
             pair("f-symlink-device", meta("F8", photo="f8.jpg"), **{"f8.jpg": Symlink("/dev/zero")}),
             "points outside"),
        Case("f-fifo", "photo is a FIFO", pair("f-fifo", meta("F9", photo="f9.jpg"), **{"f9.jpg": Fifo()}),
             "is not a regular file"),
        Case("f-directory", "photo is a directory", pair("f-directory", meta("F10", photo=".")),
             "is not a regular file"),
        Case("f-body-symlink", "body is a symlink out of the project",
             {"f-body-symlink.yaml": meta("F11"), "f-body-symlink.md": Symlink("/etc/hostname")},
             "may not be symbolic links"),
        # images (IM-*)
        Case("i-header-bomb", "400-megapixel PNG", pair("i-header-bomb", meta("I1", photo="i1.png"),
                                                        **{"i1.png": png_header_bomb()}), "megapixels"),
        Case("i-lying-jpeg", "JPEG header claiming 65000×65000",
             pair("i-lying-jpeg", meta("I2", photo="i2.jpg"), **{"i2.jpg": lying_jpeg()}), "megapixels"),
        Case("i-over-cap", "31 megapixels, over this book's cap",
             pair("i-over-cap", meta("I3", photo="i3.jpg"), **{"i3.jpg": lying_jpeg(6000, 5200)}),
             "6000×5200 pixels, more than the limit of 30 megapixels"),
        Case("i-truncated", "first half of a JPEG",
             pair("i-truncated", meta("I4", photo="i4.jpg"),
                  **{"i4.jpg": truncated_jpeg()}),
             "cannot be decoded"),
        Case("i-eps", "EPS named .jpg", pair("i-eps", meta("I5", photo="i5.jpg"), **{"i5.jpg": EPS}),
             "is an EPS (PostScript) image, not JPEG or PNG"),
        Case("i-gif", "GIF named .jpg", pair("i-gif", meta("I6", photo="i6.jpg"),
                                             **{"i6.jpg": image_bytes("P", fmt="GIF", color=3)}), "is a GIF image"),
        Case("i-tiff", "TIFF named .jpg", pair("i-tiff", meta("I7", photo="i7.jpg"),
                                               **{"i7.jpg": image_bytes(fmt="TIFF")}), "is a TIFF image"),
        Case("i-webp", "WebP named .png", pair("i-webp", meta("I8", photo="i8.png"),
                                               **{"i8.png": image_bytes(fmt="WEBP")}), "is a WebP image"),
        Case("i-empty", "0-byte photo", pair("i-empty", meta("I9", photo="i9.png"), **{"i9.png": b""}),
             "is an empty file"),
        Case("i-text", "'hello' as a PNG", pair("i-text", meta("I10", photo="i10.png"), **{"i10.png": b"hello"}),
             "is not a JPEG or PNG image"),
        Case("i-text-chunk-bomb", "zTXt chunk inflating to 50 MB",
             pair("i-text-chunk-bomb", meta("I11", photo="i11.png"), **{"i11.png": png_text_bomb()}),
             "photo 'i11.png'"),
        Case("i-file-too-big", "photo file over this book's 2 MiB cap",
             pair("i-file-too-big", meta("I12", photo="i12.jpg"), **{"i12.jpg": jpeg + b"\0" * (2 * 1024 * 1024)}),
             "more than the limit of 2,097,152"),
        # Markdown (MK-9, MK-10, UN-7)
        Case("m-deep-quote", "25 nested block quotes", pair("m-deep-quote", meta("M1"), "> " * 25 + "deep\n"),
             "nested more than 20 levels deep"),
        Case("m-deep-list", "30 nested list levels", pair("m-deep-list", meta("M2"), _deep_list(30)),
             "nested more than 20 levels deep"),
        Case("m-control", "BEL character in the body", pair("m-control", meta("M3"), "Line one.\nRing \x07 here.\n"),
             "control character U+0007"),
        Case("m-latin1", "Latin-1 body", pair("m-latin1", meta("M4"), b"Caf\xe9 au lait.\n"), "is not valid UTF-8"),
        Case("m-empty", "whitespace-only body", pair("m-empty", meta("M5"), "  \n\n"), "the entry's body is empty"),
        Case("m-too-long", "body over this book's 256 KiB cap",
             pair("m-too-long", meta("M6"), "word " * 60_000), "more than the limit of 262,144"),
        Case("m-brackets", "20 000 nested brackets", pair("m-brackets", meta("Brackets Bo"),
                                                           "[" * 20000 + "core" + "]" * 20000 + "\n"),
             literal=("[[[[core]]]]",)),
        Case("m-nine-levels", "nine nested list levels (allowed)",
             pair("m-nine-levels", meta("Nina Nested"), _deep_list(9)), literal=("level8",)),
        # markup injection (MK-*)
        Case("k-img-tag", "<img src> in a bio", pair("k-img-tag", meta(
            "Ima Tag", bio="<img src=\"/etc/passwd\" width=\"9\" height=\"9\"/> and <img src=\"../x/photo.jpg\"/>")),
             literal=('<img src="/etc/passwd" width="9" height="9"/>',)),
        Case("k-cve-2023-33733", "ReportLab color-eval exploit", pair("k-cve-2023-33733", meta(
            "Eve Val", bio=CVE_2023_33733)), literal=("'touch CANARY'",)),
        Case("k-text-loss", "text ReportLab would swallow", pair("k-text-loss", meta(
            "Lou Less", bio="x<y and y>z, a&b, I <3 <u>you, &#x110000;"),
            "see <script>alert(1)</script> and <para>p</para> & &amp; <b>unbalanced\n"),
             literal=("x<y and y>z, a&b, I <3 <u>you, &#x110000;", "<script>alert(1)</script>", "<b>unbalanced")),
        Case("k-raw-html", "raw HTML in Markdown", pair("k-raw-html", meta("Hal Tml"),
                                                         "<img src=/etc/hostname> and <font color=red>red</font>\n"),
             literal=("<img src=/etc/hostname> and <font color=red>red</font>",)),
        Case("k-js-link", "javascript: link",
             pair("k-js-link", meta("Jay Link"), "[click me](javascript:app.alert(1))\n"),
             literal=("click me",), warning="is not http, https or mailto"),
        Case("k-website-attr", "attribute-breaking website", pair("k-website-attr", meta(
            "W1", website="https://x.org/\">x</a><img src=\"secret.png\" width=\"9\" height=\"9\"/><a href=\"https://x.org/")),
             "contains characters that are not allowed in a web address"),
        Case("k-website-js", "javascript: website", pair("k-website-js", meta("W2", website="javascript:alert(1)")),
             "must be an http:// or https:// address"),
        # Unicode (UN-*)
        Case("u-bidi-override", "RLO in a name", pair("u-bidi-override", meta("Alice\u202egnp.exe")),
             literal=("Alicegnp.exe",)),
        Case("u-zero-width", "zero-width space in a name", pair("u-zero-width", meta("Anna\u200bKowalska")),
             literal=("AnnaKowalska",)),
        Case("u-nfd", "decomposed Vietnamese", pair("u-nfd", meta("Nguye\u0302\u0303n Va\u0306n"),
                                                    "Tie\u0302\u0301ng Vie\u0323\u0302t.\n"),
             literal=("Nguyễn Văn", "Tiếng Việt")),
        Case("u-astral", "a character beyond U+FFFF", pair("u-astral", meta("Cora Left"),
                                                           "Copyleft \U0001F12F sign.\n"),
             literal=("Copyleft \U0001F12F sign",)),
        Case("u-rtl-name", "Hebrew name", pair("u-rtl-name", meta("דוד כהן")), "right-to-left text"),
        Case("u-rtl-body", "Arabic body", pair("u-rtl-body", meta("U2"), "Text then مريم الحسن.\n"),
             "right-to-left text"),
        Case("u-tofu", "CJK the fonts lack", pair("u-tofu", meta("U3"), "Name: 山田太郎.\n"),
             "'山' (U+5C71), '田' (U+7530), '太' (U+592A), '郎' (U+90CE) in body cannot be drawn"),
        # file shapes
        Case("s-no-front-matter", "Markdown without metadata", {"s-no-front-matter.md": "Just text.\n"},
             "no metadata for this entry"),
        Case("S Bad Slug", "file name that is no slug", pair("S Bad Slug", meta("S2")), "is not a valid slug"),
        Case("s-two-bodies", "two bodies for one metadata file",
             {"s-two-bodies.yml": meta("S3"), "s-two-bodies.md": "Text.\n", "s-two-bodies.markdown": "Other.\n"},
             "more than one body for 's-two-bodies'"),
    ]


def write_corpus(root: Path, with_valid_sample: bool = True) -> list[Case]:
    """Write a project with every hostile case (and two ordinary entries) into ``root``."""
    folder = root / "contributions"
    folder.mkdir(parents=True, exist_ok=True)
    (root / "anthology.yaml").write_text(HOSTILE_BOOK, encoding="utf-8")
    catalogue = cases()
    if with_valid_sample:
        catalogue += [Case("ordinary-one", "ordinary", pair("ordinary-one", meta("Olive Ordinary"),
                                                            "An ordinary entry with ordinary words.\n"),
                           literal=("ordinary words",)),
                      Case("ordinary-two", "ordinary with photo", pair(
                          "ordinary-two", meta("Otto Photo", photo="otto.jpg"), "Another plain entry.\n",
                          **{"otto.jpg": image_bytes(size=(300, 300))}), literal=("Another plain entry",))]
    for case in catalogue:
        for name, content in case.files.items():
            path = folder / name
            if isinstance(content, Symlink):
                os.symlink(content.target, path)
            elif isinstance(content, Fifo):
                os.mkfifo(path)
            elif isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
    return catalogue
