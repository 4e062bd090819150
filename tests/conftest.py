"""Shared fixtures: tiny projects built from dicts, the sample book built once, PDF readers."""

from __future__ import annotations

import json
import re
import textwrap
import threading
from collections.abc import Callable, Iterable
from html.parser import HTMLParser
from pathlib import Path

import pypdfium2
import pytest
from pypdf import PdfReader

from anthology import build_book
from anthology.build import BuildResult
from anthology.words import table, word_keys

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


def writers(bodies: Iterable[str]) -> dict[str, str]:
    """A small book's files: one entry per body, by Writer A, B, … under Headline 0, 1, …"""
    files: dict[str, str] = {}
    for number, body in enumerate(bodies):
        files |= entry(f"Writer {chr(65 + number)}", f"Headline {number}", body)
    return files


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


class _Visible(HTMLParser):
    """The words a reader sees or hears: text, alt, aria-label, title and meta descriptions."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self._skip += tag in ("style", "script")
        values = dict(attrs)
        self.parts += [values[k] or "" for k in ("alt", "aria-label", "title") if k in values]
        if tag == "meta" and values.get("content"):
            self.parts.append(values["content"] or "")

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        self._skip -= tag in ("style", "script")

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if not self._skip:
            self.parts.append(data)


def english_fixed_words(language: str) -> set[str]:
    """Each English fixed phrase (between its {fields}) that the other language writes differently."""
    phrases = set()
    for key in word_keys():
        english, other = table("en")[key], table(language)[key]
        english_texts = english.values() if isinstance(english, dict) else [english]
        other_text = " ".join(other.values()) if isinstance(other, dict) else other
        for text in english_texts:
            for piece in re.split(r"\{[a-z]+\}", text):
                piece = piece.strip(" .,:;·“”")
                if len(piece) > 3 and piece not in other_text:
                    phrases.add(piece)
    return phrases


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return " ".join(parser.parts)


@pytest.fixture(autouse=True, scope="session")
def _own_user_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The record cache's signing key goes to a folder of the test run, not the user's home."""
    import os

    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("user-cache"))


def run_in_thread(server) -> threading.Thread:  # type: ignore[no-untyped-def]
    """Run a Waitress server's loop on a daemon thread, for tests that talk to a real server."""
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return thread


def stop_server(server, thread: threading.Thread) -> None:  # type: ignore[no-untyped-def]
    """Close a server from its own loop thread and wait for the loop to end.

    Closing its sockets from the test's thread races the loop's select(), which then fails with
    EBADF on the server thread; pytest reports that against whichever test happens to run next."""
    from waitress import wasyncore

    server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
    thread.join(timeout=10)
    server.task_dispatcher.shutdown()
