"""A reader's visit in a real browser: Debian's Chromium, headless, driven by Playwright.

The browser comes from the system (``/usr/bin/chromium``, installed by ``.ci/run``).
Without it these tests are skipped, unless ``ANTHOLOGY_REQUIRE_BROWSER`` is set
(CI sets it), in which case they fail. Screenshots at phone and desktop widths
are written to ``ANTHOLOGY_SCREENSHOTS`` (default: the test's temporary folder).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader
from waitress import create_server

from anthology.release import build_release
from anthology.serve import SiteApp

from .conftest import REPO, run_in_thread, stop_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(CHROMIUM is None and not os.environ.get("ANTHOLOGY_REQUIRE_BROWSER"),
                       reason="no system Chromium (install the chromium package)"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    work = tmp_path_factory.mktemp("browser")
    release = build_release(REPO, work / "site", book_output=work / "book.pdf")
    server = create_server(SiteApp(release.folder), host="127.0.0.1", port=0, threads=8)
    thread = run_in_thread(server)
    yield release, f"http://127.0.0.1:{server.effective_port}"
    stop_server(server, thread)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield instance
        instance.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("ANTHOLOGY_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_landing_page_shows_the_cover_and_every_contributor(site, browser, shots):
    _, base = site
    for name, viewport in (("phone", {"width": 390, "height": 844}), ("desktop", {"width": 1280, "height": 900})):
        page = browser.new_page(viewport=viewport)
        page.goto(base + "/")
        assert page.title() == "Lead or Manage?"
        cover = page.locator("header img")
        assert cover.get_attribute("alt") == "Cover of Lead or Manage?"
        assert page.evaluate("document.querySelector('header img').naturalWidth") > 100  # the image loaded
        assert page.locator("li.entry").count() == 14
        assert [h.inner_text() for h in page.locator("h1, h2").all()][:2] == ["Lead or Manage?", "14 contributors"]
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"the page scrolls sideways at {name} width"
        page.screenshot(path=str(shots / f"landing-{name}.png"), full_page=True)
        page.close()


def test_deep_links_name_a_destination_that_exists_in_the_book(site, browser):
    release, base = site
    page = browser.new_page()
    page.goto(base + "/")
    links = page.locator("a.page").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    destinations = PdfReader(str(release.pdf)).named_destinations
    assert len(links) == 14
    for link in links:
        name, _, slug = link.partition("#nameddest=")
        assert name == release.pdf.name and slug in destinations
    page.locator("a.who").first.click()
    page.wait_for_load_state()
    assert page.url.startswith(base + "/c/") and page.locator("h1").inner_text()
    assert page.locator('meta[property="og:image"]').get_attribute("content").endswith("-card.png")
    page.close()


@pytest.mark.parametrize("edition, suffix", [("PDF", ".pdf"), ("EPUB", ".epub")])
def test_download_buttons_deliver_the_published_bytes(site, browser, edition, suffix):
    release, base = site
    page = browser.new_page(accept_downloads=True)
    page.goto(base + "/")
    with page.expect_download() as pending:
        page.get_by_role("link", name=f"Download the {edition}").click()
    download = pending.value
    sums = dict(reversed(line.split("  ")) for line in (release.folder / "SHA256SUMS").read_text().splitlines())
    assert download.suggested_filename == release.pdf.with_suffix(suffix).name
    assert hashlib.sha256(Path(download.path()).read_bytes()).hexdigest() == sums[download.suggested_filename]
    page.close()


def test_the_epub_pages_read_on_a_phone(site, browser, shots, tmp_path):
    """The EPUB's own XHTML, unpacked, in Chromium at phone width: nothing scrolls sideways, images load."""
    release, _ = site
    with zipfile.ZipFile(release.pdf.with_suffix(".epub")) as archive:
        archive.extractall(tmp_path)
    text = tmp_path / "EPUB" / "text"
    page = browser.new_page(viewport={"width": 390, "height": 844})
    for name in sorted(p.name for p in text.glob("*.xhtml")):
        page.goto((text / name).as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, f"{name} scrolls sideways"
        assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)"), name
        assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith('"Source Serif Pro"'), name
    page.goto((text / "entry-nguyen-thi-thao.xhtml").as_uri())
    assert page.locator("h2").first.inner_text() == "Rosters Are a Moral Document"
    assert page.get_by_role("img", name="Portrait of Nguyễn Thị Thảo").count() == 1
    page.screenshot(path=str(shots / "epub-entry-phone.png"), full_page=True)
    page.goto((text / "nav.xhtml").as_uri())
    assert page.get_by_role("link", name="Part 2: Seeing Further").is_visible()
    page.screenshot(path=str(shots / "epub-contents-phone.png"), full_page=True)
    page.close()


def test_a_contributor_page_on_a_phone(site, browser, shots):
    _, base = site
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(base + "/c/nguyen-thi-thao.html")
    assert page.locator("h1").inner_text() == "Rosters Are a Moral Document"
    assert page.evaluate("document.querySelector('img.portrait').naturalWidth") > 50
    assert page.get_by_role("link", name="Read it on page").get_attribute("href").endswith("#nameddest=nguyen-thi-thao")
    page.screenshot(path=str(shots / "contributor-phone.png"), full_page=True)
    page.close()


def test_a_contributor_submits_from_a_phone_and_gets_a_proof(make_project, browser, shots, tmp_path):
    from anthology import build_book
    from anthology.cli import main
    from anthology.intake import IntakeApp
    from anthology.submissions import invite

    from .conftest import entry, page_texts
    from .hostile import image_bytes
    from .test_submissions import BOOK

    root = make_project({"anthology.yaml": BOOK, **entry("Ann Able", "Already here", "Existing words.\n")})
    build_release(root, root / "dist/site", book_output=tmp_path / "b.pdf")
    _, token = invite(root, "Tèmídayò Àlàdé")
    server = create_server(IntakeApp(root, root / "dist/site"), host="127.0.0.1", port=0, threads=4)
    thread = run_in_thread(server)
    photo = tmp_path / "me.jpg"
    photo.write_bytes(image_bytes(size=(400, 400), color=(150, 90, 60)))
    try:
        page = browser.new_page(viewport={"width": 390, "height": 844}, accept_downloads=True)
        page.goto(f"http://127.0.0.1:{server.effective_port}/submit?token={token}")
        assert page.locator("#f-name").input_value() == "Tèmídayò Àlàdé"
        too_long = "My grandmother ran a market stall for forty years. " * 90
        page.fill("#f-title", "What My Grandmother Knew")
        page.fill("#f-body", too_long)
        page.set_input_files("#f-photo", str(photo))
        page.check("input[name=consent]")
        assert "words" in page.locator("#count").inner_text()
        page.click("button[type=submit]")
        error = page.locator(".field.has-error .error")
        assert "more than the limit" in error.inner_text()
        assert page.locator("#f-body").input_value().strip() == too_long.strip()  # the text is kept
        page.screenshot(path=str(shots / "submit-error-phone.png"), full_page=True)
        page.fill("#f-body", "She said a stall is a promise you keep at six every morning.")
        page.set_input_files("#f-photo", str(photo))
        page.click("button[type=submit]")
        assert "Thank you, Tèmídayò Àlàdé" in page.locator(".ok").inner_text()
        page.screenshot(path=str(shots / "submit-done-phone.png"), full_page=True)
        with page.expect_download() as pending:
            page.get_by_role("link", name="Download your proof (PDF)").click()
        proof = PdfReader(pending.value.path())
        assert "a promise you keep at six" in proof.pages[0].extract_text()
        page.close()
    finally:
        stop_server(server, thread)
    assert main(["accept", "temidayo-alade", "--project", str(root)]) == 0
    book = build_book(root, tmp_path / "final.pdf", final=True)
    assert "a promise you keep at six every morning" in " ".join(page_texts(book.output))


def test_serve_watch_reloads_an_open_page_after_a_rebuild(browser, tmp_path):
    """With ``--watch`` the pages poll their own ETag; a rebuilt page replaces itself in the open tab."""
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index.html").write_text("<!doctype html><html><body><h1>First edition</h1></body></html>")
    server = create_server(SiteApp(folder, reload=True), host="127.0.0.1", port=0, threads=4)
    thread = run_in_thread(server)
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{server.effective_port}/")
        assert page.inner_text("h1") == "First edition"
        page.wait_for_timeout(1500)  # the script has seen the first ETag
        (folder / "index.html.new").write_text("<!doctype html><html><body><h1>Second edition</h1></body></html>")
        (folder / "index.html.new").replace(folder / "index.html")  # as a rebuild writes it: by rename
        for _ in range(100):  # polled from here: the page's policy allows no eval, only the reload script
            if page.inner_text("h1") == "Second edition":
                break
            page.wait_for_timeout(100)
        assert page.inner_text("h1") == "Second edition"
        page.close()
    finally:
        stop_server(server, thread)


def test_the_download_page_has_a_favicon(site, browser):
    _, base = site
    page = browser.new_page()
    answers = []
    refused = []
    page.on("response", lambda response: answers.append((response.url, response.status)))
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)
    page.goto(base + "/")
    page.wait_for_load_state("networkidle")
    icon = page.request.get(base + "/favicon.ico")
    assert icon.status == 200 and "icon" in icon.headers["content-type"]
    assert not [a for a in answers if a[1] >= 400]
    assert not refused, refused  # the page's own policy blocks nothing it needs
    page.close()
