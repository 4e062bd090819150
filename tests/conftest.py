"""Shared fixtures: tiny projects built from dicts, the sample book built once, PDF readers."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable
from pathlib import Path

import pypdfium2
import pytest
from pypdf import PdfReader

from anthology import build_book
from anthology.build import BuildResult

REPO = Path(__file__).resolve().parent.parent

MINIMAL_BOOK = 'title: "A Small Book"\neditor: "Ada Example"\n'


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[[dict[str, str | bytes]], Path]:
    """Write ``{relative path: content}`` into a fresh project folder and return it."""

    def make(files: dict[str, str | bytes]) -> Path:
        root = tmp_path / "project"
        files = {"anthology.yaml": MINIMAL_BOOK, **files}
        for name, content in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content), encoding="utf-8")
        return root

    return make


def entry(name: str, title: str, body: str, **fields: str | int) -> dict[str, str]:
    """Files of a YAML + Markdown contribution named after the contributor."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    values = {"name": name, "title": title, **fields}
    yaml_text = "".join(f"{key}: {json.dumps(value, ensure_ascii=False)}\n" for key, value in values.items())
    return {f"contributions/{slug}.yaml": yaml_text, f"contributions/{slug}.md": body}


@pytest.fixture(scope="session")
def sample_book(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The repository's own sample anthology, built once for the whole session."""
    output = tmp_path_factory.mktemp("sample") / "book.pdf"
    return build_book(REPO, output)


def page_texts(path: Path) -> list[str]:
    """Text of every page, read by PDFium (an independent reader from pypdf)."""
    document = pypdfium2.PdfDocument(str(path))
    try:
        texts = []
        for page in document:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n"))
            textpage.close()
            page.close()
        return texts
    finally:
        document.close()


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.replace("\u00ad", "").replace("\ufffe", ""))


def reader(path: Path) -> PdfReader:
    return PdfReader(str(path))
