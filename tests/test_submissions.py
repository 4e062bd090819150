"""Submissions: invitations, the form's defences, the inbox, review and the final build."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from pypdf import PdfReader
from werkzeug.test import Client

from anthology import build_book
from anthology.cli import main
from anthology.errors import AnthologyError, ProjectError
from anthology.intake import IntakeApp
from anthology.release import build_release
from anthology.submissions import INBOX, files_from_zip, find_invite, invite, submit, submit_files

from .conftest import english_fixed_words, entry, page_texts, visible_text
from .hostile import EPS, image_bytes

BOOK = 'title: "Open Book"\nsubmissions:\n  open: true\n  per_hour: 3\nlimits:\n  body_bytes: 4 KiB\n'


@pytest.fixture
def project(make_project):
    return make_project({"anthology.yaml": BOOK, **entry("Ann Able", "Already here", "Existing words.\n")})


def test_invitations_store_only_a_hash_of_the_token(project):
    record, token = invite(project, "Łukasz Wróbel", "l@example.org")
    stored = (project / "submissions/invites.json").read_text()
    assert token not in stored and record.token_sha256 in stored
    assert record.slug == "lukasz-wrobel"
    assert find_invite(project, token) == record
    assert find_invite(project, token[:-1] + "x") is None


def test_a_submission_becomes_a_revision_with_a_proof_and_never_overwrites(project):
    record, _ = invite(project, "Łukasz Wróbel")
    fields = {"name": "Łukasz Wróbel", "title": "Two Jobs, One Calendar", "bio": "Manages engineers."}
    first = submit(project, record, fields, "Sorting hours, not tasks.\n", image_bytes(size=(300, 300)))
    second = submit(project, record, fields, "A second revision of the words.\n", None)
    assert first.accepted and second.accepted
    assert [first.revision.name, second.revision.name] == ["001", "002"]
    assert "Sorting hours, not tasks." in PdfReader(io.BytesIO(first.proof)).pages[0].extract_text()
    assert (first.revision / "lukasz-wrobel.jpg").is_file() and first.budget == "fits its budget of 1 page"
    assert 'status: "proofed"' in (first.revision / "lukasz-wrobel.yaml").read_text()
    assert not list((project / INBOX).glob(".submission-*"))  # staging folders are gone


def test_errors_come_back_by_field_and_nothing_is_stored(project):
    record, _ = invite(project, "Bo Brand")
    outcome = submit(project, record, {"name": "Bo Brand", "title": "T", "website": "javascript:alert(1)"},
                     "word " * 2000, EPS)
    assert not outcome.accepted
    assert "photo" in outcome.errors and "website" in outcome.errors
    assert not (project / INBOX / "bo-brand").exists()
    too_long = submit(project, record, {"name": "Bo Brand", "title": "T"}, "word " * 2000, None)
    assert any("more than the limit" in m for m in too_long.errors["body"])


def test_review_accept_reject_and_the_final_build(project, tmp_path, capsys):
    record, _ = invite(project, "Cy Chen")
    submit(project, record, {"name": "Cy Chen", "title": "Proofed words"}, "Accepted text here.\n", None)
    record2, _ = invite(project, "Di Dee")
    submit(project, record2, {"name": "Di Dee", "title": "Not this time"}, "Rejected text.\n", None)
    assert main(["review", str(project)]) == 0
    listing = capsys.readouterr().out
    assert re.search(r"cy-chen\s+001\s+\S+ \S+\s+ok", listing) and "di-dee" in listing
    assert main(["reject", "di-dee", "--reason", "off topic", "--project", str(project)]) == 0
    assert main(["accept", "cy-chen", "--project", str(project)]) == 0
    assert 'status: "approved"' in (project / "contributions/cy-chen.yaml").read_text()
    assert list((project / INBOX / ".rejected").glob("di-dee-*/REJECTED.txt"))
    result = build_book(project, tmp_path / "book.pdf")
    assert "Accepted text here." in " ".join(page_texts(result.output))
    (project / "contributions/ann-able.yaml").write_text('name: "Ann Able"\ntitle: "Already here"\nstatus: draft\n')
    with pytest.raises(ProjectError) as refused:
        build_book(project, tmp_path / "final.pdf", final=True)
    assert [d.message for d in refused.value.report.errors] == ["'ann-able' is draft, not approved"]
    proof = build_book(project, tmp_path / "proof.pdf")
    pages = page_texts(proof.output)
    first = proof.book.toc[0].page_index
    assert "PROOF" in pages[first] and "PROOF" not in pages[proof.book.toc[1].page_index]


def test_accepting_again_keeps_the_previous_version(project):
    submit_files(project, {"ann-able.yaml": b'name: "Ann Able"\ntitle: "Revised"\n', "ann-able.md": b"New words.\n"})
    assert main(["accept", "ann-able", "--project", str(project)]) == 0
    assert "Revised" in (project / "contributions/ann-able.yaml").read_text()
    kept = list((project / "contributions/.previous").glob("ann-able-*/ann-able.yaml"))
    assert kept and "Already here" in kept[0].read_text()


def _zip(members: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16
            archive.writestr(info, "/etc/passwd")
    return out.getvalue()


def test_zips_are_refused_whole_when_any_member_is_unsafe(project):
    for bad in (_zip({"../evil.yaml": b"x"}), _zip({"/abs/x.md": b"x"}), _zip({"..\\..\\win.md": b"x"}),
                _zip({"a.md": b"x"}, links=("link.jpg",)), _zip({"a/x.md": b"1", "b/x.md": b"2"})):
        with pytest.raises(AnthologyError, match="refused"):
            files_from_zip(bad)
    good = _zip({"eve-example.yaml": b'name: "Eve Example"\ntitle: "Zipped"\n', "eve-example.md": b"From a zip.\n"})
    outcomes = submit_files(project, {"entries.zip": good})
    assert outcomes["eve-example"].accepted


def test_the_form_refuses_strangers_forgeries_floods_and_oversized_posts(project, tmp_path):
    build_release(project, project / "dist/site", book_output=tmp_path / "b.pdf")
    _, token = invite(project, "Fay Form")
    client = Client(IntakeApp(project, project / "dist/site"))
    assert client.get("/submit").status_code == 403
    assert client.get("/submit?token=guess").status_code == 403
    form = client.get(f"/submit?token={token}")
    assert form.status_code == 200 and form.headers["X-Content-Type-Options"] == "nosniff"
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.get_data(as_text=True)).group(1)
    data = {"token": token, "csrf": csrf, "name": "Fay Form", "title": "T", "body": "Words.", "consent": "yes"}
    assert client.post(f"/submit?token={token}", data={**data, "csrf": "forged"}).status_code == 403
    evil = {"Origin": "https://evil.example"}
    assert client.post(f"/submit?token={token}", data=data, headers=evil).status_code == 403
    big = {**data, "body": "x" * 200_000}
    assert client.post(f"/submit?token={token}", data=big).status_code == 413
    def multipart() -> dict:  # a file field makes the post multipart, as the form's is
        return {"photo": (io.BytesIO(b""), "")}

    assert client.post(f"/submit?token={token}", data={**big, **multipart()}).status_code == 413
    many = {**data, **multipart(), **{f"extra{i}": "1" for i in range(40)}}
    assert client.post(f"/submit?token={token}", data=many).status_code == 413
    assert client.post(f"/submit?token={token}", data={**data, "consent": ""}).status_code == 422  # consent is required
    assert client.post(f"/submit?token={token}", data=data).status_code == 200
    assert client.post(f"/submit?token={token}", data=data).status_code == 200
    # per_hour: 3, the refused consent included
    assert client.post(f"/submit?token={token}", data=data).status_code == 429
    assert client.get(f"/proof?token={token}&rev=001").status_code == 200
    assert client.get("/proof?token=guess&rev=001").status_code == 403
    assert client.get(f"/proof?token={token}&rev=../../x").status_code == 404
    assert json.loads((project / "submissions/invites.json").read_text())["invites"][0]["name"] == "Fay Form"


def _docx(paragraphs: str) -> bytes:
    """A minimal Word document, made here (no binary committed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document.main+xml"/></Types>'))
        archive.writestr("_rels/.rels", (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="word/document.xml"/></Relationships>'))
        archive.writestr("word/document.xml", (
            '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body>{paragraphs}</w:body></w:document>"))
    return out.getvalue()


def test_a_word_document_becomes_the_entrys_text(project):
    body = ('<w:p><w:r><w:t xml:space="preserve">Plain words, then </w:t></w:r>'
            "<w:r><w:rPr><w:b/></w:rPr><w:t>bold ones</w:t></w:r></w:p>"
            '<w:p><w:pPr><w:pStyle w:val="Fancy"/></w:pPr><w:r><w:t>A second paragraph.</w:t></w:r></w:p>')
    outcomes = submit_files(project, {"gil-word.yaml": b'name: "Gil Word"\ntitle: "From Word"\n',
                                      "gil-word.docx": _docx(body)})
    outcome = outcomes["gil-word"]
    assert outcome.accepted, outcome.errors
    from anthology.diagnostics import Report
    from anthology.model import Position
    from anthology.text import parse_markdown

    blocks = parse_markdown((outcome.revision / "gil-word.md").read_text(), Position(project), Report())
    assert [(s.text, s.bold) for s in blocks[0].spans] == [("Plain words, then ", False), ("bold ones", True)]
    assert blocks[1].spans[0].text == "A second paragraph."
    assert any("Fancy" in note for note in outcome.warnings)  # the style it could not keep is reported
    with pytest.raises(AnthologyError, match="not a Word document"):
        submit_files(project, {"x.yaml": b'name: "X"\ntitle: "T"\n', "x.docx": b"not a zip"})


def test_a_staging_folder_left_by_a_killed_server_is_cleared_later(project):
    import os
    import time

    leftover = project / INBOX / ".submission-crashed"
    leftover.mkdir(parents=True)
    (leftover / "half.yaml").write_text("name: \"Half")
    os.utime(leftover, (time.time() - 7200, time.time() - 7200))
    fresh = project / INBOX / ".submission-running"
    fresh.mkdir()
    record, _ = invite(project, "Hal Later")
    assert submit(project, record, {"name": "Hal Later", "title": "T"}, "Words.\n", None).accepted
    assert not leftover.exists() and fresh.exists()  # another request may still be writing that one
    assert main(["review", str(project)]) == 0


def test_a_post_without_consent_is_checked_but_never_stored(project):
    _, token = invite(project, "Gus Guard")
    client = Client(IntakeApp(project, project / "dist/site"))
    form = client.get(f"/submit?token={token}").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    answer = client.post(f"/submit?token={token}", data={"csrf": csrf, "name": "Gus Guard", "title": "T",
                                          "body": "Words."})
    assert answer.status_code == 422 and "Please agree to publication" in answer.get_data(as_text=True)
    assert not (project / INBOX / "gus-guard").exists()


def test_two_invitees_with_the_same_name_never_share_an_inbox_or_a_proof(project):
    first, first_token = invite(project, "Anna Müller")
    second, second_token = invite(project, "Anna Muller")
    assert (first.slug, second.slug) == ("anna-muller", "anna-muller-2")
    submit(project, first, {"name": "Anna Müller", "title": "Mine"}, "Private draft.\n", None)
    client = Client(IntakeApp(project, project / "dist/site"))
    assert client.get(f"/proof?token={first_token}&rev=001").status_code == 200
    assert client.get(f"/proof?token={second_token}&rev=001").status_code == 404


def test_accepting_writes_only_the_entrys_own_files(project):
    files = {"eve.yaml": b'name: "Eve Example"\ntitle: "E"\nphoto: "face.png"\n', "eve.md": b"Eve's words.\n",
             "face.png": image_bytes(size=(200, 200), fmt="PNG"), "ann-able.jpg": b"not eve's",
             "junk.yml": b"x: 1\n", "fm.md": b'---\nname: "Fi Front"\ntitle: "F"\n---\nFront matter words.\n'}
    outcomes = submit_files(project, files)
    assert outcomes["eve"].accepted and outcomes["fm"].accepted
    assert sorted(p.name for p in outcomes["eve"].revision.iterdir()) == ["eve.md", "eve.yaml", "face.png", "proof.pdf"]
    before = sorted(p.name for p in (project / "contributions").iterdir())
    assert main(["accept", "eve", "--project", str(project)]) == 0
    assert main(["accept", "fm", "--project", str(project)]) == 0
    after = sorted(p.name for p in (project / "contributions").iterdir())
    assert sorted(set(after) - set(before)) == ["eve.md", "eve.png", "eve.yaml", "fm.md"]
    assert 'photo: "eve.png"' in (project / "contributions/eve.yaml").read_text()
    front = (project / "contributions/fm.md").read_text()
    assert front.startswith("---\n") and 'status: "approved"' in front.split("---")[1]
    assert "Front matter words." in front
    assert main(["check", str(project)]) == 0
    assert main(["reject", "..", "--reason", "x", "--project", str(project)]) == 1


def test_a_zip_member_without_a_name_is_refused(project):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("."), b"x")
    with pytest.raises(AnthologyError, match="refused"):
        files_from_zip(out.getvalue())


def test_the_form_speaks_the_books_language(make_project):
    project = make_project({"anthology.yaml": 'title: "Livre ouvert"\nlanguage: fr\nsubmissions:\n  open: true\n',
                            **entry("Ann Able", "Déjà là", "Des mots.\n")})
    _, token = invite(project, "Léa Forme")
    client = Client(IntakeApp(project, project / "dist/site"))
    page = client.get(f"/submit?token={token}").get_data(as_text=True)
    shown = visible_text(page)
    english = english_fixed_words("fr")
    assert not sorted(p for p in english if p in shown), "English fixed words on the French form"
    assert "Votre nom, tel qu’il doit être imprimé" in shown and "Vérifier et envoyer" in shown
    assert re.search(r'data-words="\{words\} mots · \{kib\} sur \d+ Kio"', page)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    data = {"token": token, "csrf": csrf, "name": "Léa Forme", "title": "Le quai", "body": "Des mots."}
    refused = client.post(f"/submit?token={token}", data=data).get_data(as_text=True)
    assert "Merci d’accepter la publication" in refused
    done = visible_text(client.post(f"/submit?token={token}", data={**data, "consent": "yes"}).get_data(as_text=True))
    assert "Merci, Léa Forme." in done and "Elle occupe 1 page (tient dans la limite de 1 page)." in done
    assert "Télécharger votre épreuve" in done
    forged = client.post(f"/submit?token={token}", data={**data, "csrf": "x"})
    assert forged.get_data(as_text=True).startswith("Le formulaire a expiré")
    stranger = client.get("/submit?token=guess")
    assert stranger.status_code == 403 and stranger.get_data(as_text=True).startswith("Ce lien n’est pas valable")


def test_the_form_carries_the_validators_length_caps_and_refuses_a_longer_name_beside_its_field(project, tmp_path):
    """A 20 000-character unbroken name gave the submitter a 500; now the form caps it and the server says why."""
    build_release(project, project / "dist/site", book_output=tmp_path / "b.pdf")
    record, token = invite(project, "Gil Long")
    client = Client(IntakeApp(project, project / "dist/site"))
    page = client.get(f"/submit?token={token}").get_data(as_text=True)
    assert re.search(r'name="name" type="text" value="[^"]*" maxlength="120"', page)
    assert 'name="bio" rows="3" maxlength="1500"' in page and 'maxlength="250"' in page
    outcome = submit(project, record, {"name": "G" * 20_000, "title": "T"}, "Words.\n", None)
    assert not outcome.accepted and "at most 120" in " ".join(outcome.errors["name"])


def test_strangers_cost_nothing_before_the_token_is_checked(project, monkeypatch):
    import anthology.validate

    _, token = invite(project, "Ida Inbox")
    app = IntakeApp(project, project / "dist/site")
    client = Client(app)
    assert client.get(f"/submit?token={token}").status_code == 200  # the book's settings are read once

    def no_entries_please(*args, **kwargs):
        raise AssertionError("the entries were read for a stranger")

    monkeypatch.setattr(anthology.validate, "_read_contributions", no_entries_please)
    for method in ("POST", "HEAD", "PUT", "OPTIONS", "DELETE", "PATCH"):
        answer = client.open("/submit", method=method, data="junk" * 1000)
        assert answer.status_code == (403 if method in ("POST", "HEAD") else 405), method
    assert client.open("/submit", method="PROPFIND").headers["Allow"] == "GET, HEAD, POST"
    assert client.post("/submit?token=guess", data={"name": "x"}).status_code == 403
    assert client.get("/proof?token=guess&rev=001").status_code == 403
    (project / "anthology.yaml").write_text((project / "anthology.yaml").read_text().replace(
        "open: true", "open: false"))
    for method in ("GET", "POST", "HEAD"):
        assert client.open(f"/submit?token={token}", method=method).status_code == 404
    addresses = [client.get("/submit", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code
                 for _ in range(70)]
    assert addresses[:55].count(404) == 55 and addresses[-1] == 429
    assert client.get("/submit", environ_base={"REMOTE_ADDR": "203.0.113.10"}).status_code == 404


def test_an_invitation_never_takes_the_name_of_an_entry_or_a_submission(project):
    record, _ = invite(project, "Ann Able")  # contributions/ann-able.* is in the book
    assert record.slug == "ann-able-2"
    (project / INBOX / "cy-claim").mkdir(parents=True)
    assert invite(project, "Cy Claim")[0].slug == "cy-claim-2"


def test_concurrent_invitations_are_all_recorded_and_all_links_work(project):
    import subprocess
    import sys

    script = ("import sys; from pathlib import Path; from anthology.submissions import invite\n"
              f"record, token = invite(Path({str(project)!r}), sys.argv[1]); print(token)")
    runs = [subprocess.Popen([sys.executable, "-c", script, f"Guest {n}"], stdout=subprocess.PIPE, text=True)
            for n in range(10)]
    tokens = [run.communicate(timeout=120)[0].strip() for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert sorted(find_invite(project, token).name for token in tokens) == sorted(f"Guest {n}" for n in range(10))
    assert (project / "submissions/invites.json").stat().st_mode & 0o777 == 0o600


def test_the_same_invitation_twice_is_refused_and_links_can_be_renewed_listed_and_revoked(project, capsys):
    _, token = invite(project, "Eli Marsh", "eli@example.org")
    with pytest.raises(AnthologyError, match=r"invited already.*anthology invite --renew eli-marsh"):
        invite(project, "Eli Marsh", "ELI@example.org")
    assert main(["invite", "--renew", "eli-marsh", "--project", str(project)]) == 0
    renewed = re.search(r"submit\?token=(\S+)", capsys.readouterr().out).group(1)
    assert find_invite(project, token) is None and find_invite(project, renewed).slug == "eli-marsh"
    assert main(["invite", "--list", "--project", str(project)]) == 0
    listing = capsys.readouterr().out
    assert "eli-marsh" in listing and "Eli Marsh <eli@example.org>" in listing and renewed not in listing
    assert main(["invite", "--revoke", "eli-marsh", "--project", str(project)]) == 0
    assert find_invite(project, renewed) is None
    assert main(["invite", "--revoke", "eli-marsh", "--project", str(project)]) == 1
    assert "no invitation 'eli-marsh'" in capsys.readouterr().err


def test_invite_warns_when_closed_and_uses_the_books_address(make_project, capsys):
    root = make_project({"anthology.yaml": 'title: "Shut"\nsite_url: "https://book.example.org/acts"\n',
                         **entry("Ann Able", "One", "Words.\n")})
    assert main(["invite", "Fay Form", "--project", str(root)]) == 0
    captured = capsys.readouterr()
    assert re.search(r"https://book\.example\.org/acts/submit\?token=\S+", captured.out)
    assert "submissions are closed" in captured.err
    assert main(["invite", "Gil Guest", "--project", str(root), "--base-url", "https://form.example.org"]) == 0
    assert "https://form.example.org/submit?token=" in capsys.readouterr().out


def test_the_forms_key_is_readable_by_its_owner_only(project):
    from anthology.cache import CACHE_FOLDER

    IntakeApp(project, project / "dist/site")
    key = project / CACHE_FOLDER / "csrf.key"
    assert key.stat().st_mode & 0o777 == 0o600
    key.chmod(0o644)
    IntakeApp(project, project / "dist/site")
    assert key.stat().st_mode & 0o777 == 0o600


def test_a_word_document_bomb_is_refused_before_mammoth_reads_it(project, monkeypatch):
    import time

    import mammoth

    def never(*args, **kwargs):
        raise AssertionError("mammoth was given a bomb")

    monkeypatch.setattr(mammoth, "convert_to_markdown", never)
    run = '<w:p><w:r><w:t>Some words in a run here.</w:t></w:r></w:p>'
    heavy = _docx(run * 190_000)  # 11.4 MB of XML in a few dozen KB
    assert len(heavy) < 100_000
    started = time.perf_counter()
    with pytest.raises(AnthologyError, match="unpacks to too much"):
        submit_files(project, {"x.yaml": b'name: "X"\ntitle: "T"\n', "x.docx": heavy})
    assert time.perf_counter() - started < 3
    with pytest.raises(AnthologyError, match="too long or too heavily formatted"):
        submit_files(project, {"x.yaml": b'name: "X"\ntitle: "T"\n', "x.docx": _docx(run * 8000)})


def test_an_archive_inside_the_archive_is_refused_with_a_message(project):
    inner = _zip({"deep.yaml": b'name: "Dee Deep"\ntitle: "T"\n', "deep.md": b"Words.\n"})
    for name, content in (("inner.zip", inner), ("inner.bin", inner), ("inner.tar.gz", b"\x1f\x8b")):
        outer = _zip({name: content, "eve.yaml": b'name: "Eve"\ntitle: "T"\n', "eve.md": b"Words.\n"})
        with pytest.raises(AnthologyError, match="archive inside the archive"):
            submit_files(project, {"entries.zip": outer})
    with pytest.raises(AnthologyError, match=r"only \.zip archives"):
        submit_files(project, {"entries.tar.gz": b"\x1f\x8b"})
    assert not (project / INBOX / "eve").exists()


def test_the_form_speaks_plain_words_under_the_right_field_and_a_revision_starts_from_the_last(project):
    _, token = invite(project, "Jo Plain")
    client = Client(IntakeApp(project, project / "dist/site"))
    form = client.get(f"/submit?token={token}").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    data = {"csrf": csrf, "name": "Jo Plain", "title": "", "body": "Words.", "consent": "yes"}
    page = client.post(f"/submit?token={token}", data=data).get_data(as_text=True)
    assert '<p class="error" id="e-title">Please give your entry a headline. </p>' in page
    assert 'id="e-name"' not in page and "title:" not in page and "YAML" not in page
    done = client.post(f"/submit?token={token}", data={
        **data, "title": "Keys & Locks", "bio": "Keeps <keys>.", "body": "First *draft*.\n\nSecond paragraph.",
        "photo": (io.BytesIO(image_bytes(size=(300, 300))), "face.jpg")})
    assert done.status_code == 200, done.get_data(as_text=True)
    again = client.get(f"/submit?token={token}").get_data(as_text=True)
    assert 'name="title" type="text" value="Keys &amp; Locks"' in again
    assert ">Keeps &lt;keys&gt;.</textarea>" in again
    assert ">First *draft*.\n\nSecond paragraph.</textarea>" in again
    assert "starts from your revision 001" in again and "headshot from revision 001 stays" in again
    second = client.post(f"/submit?token={token}", data={**data, "title": "Keys", "body": "Shorter."})
    assert second.status_code == 200
    assert (project / INBOX / "jo-plain" / "002" / "jo-plain.jpg").is_file()  # the headshot was kept


def _patched_zip(members: dict[str, bytes], local: dict[int, int] | None = None, central: dict[int, int] | None = None,
                 damage: bytes = b"") -> bytes:
    """A zip whose headers are changed afterwards (offset -> byte), as a hostile sender's tool might write it."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    data = bytearray(out.getvalue())
    for signature, changes in ((b"PK\x03\x04", local or {}), (b"PK\x01\x02", central or {})):
        at = data.find(signature)
        while at >= 0:
            for offset, value in changes.items():
                data[at + offset] = value
            at = data.find(signature, at + 4)
    if damage:
        data[data.find(damage)] ^= 1
    return bytes(data)


@pytest.mark.parametrize(("archive", "said"), [
    (_patched_zip({"ann.yaml": b"name: Ann\n"}, {6: 1}, {8: 1}), "encrypted"),
    (_patched_zip({"ann.yaml": b"name: Ann\n"}, {8: 9}, {10: 9}), "cannot be unpacked here"),  # Deflate64
    (_patched_zip({"ann.md": b"Words that matter.\n"}, damage=b"Words"), "damaged"),  # a wrong CRC
    (b"PK\x05\x06 not really a zip", "not a zip archive"),
])
def test_a_zip_or_docx_that_zipfile_cannot_unpack_is_a_message_not_a_traceback(archive, said):
    from anthology.submissions import docx_to_markdown

    with pytest.raises(AnthologyError, match=said.replace("zip archive", "")):
        files_from_zip(archive)
    with pytest.raises(AnthologyError, match=said.replace("zip archive", "")):
        docx_to_markdown(archive)


def test_the_stranger_limit_counts_an_ipv6_machine_once_and_forgets_the_past_in_order(project, monkeypatch):
    """Through the proxy, one IPv6 machine has a /64 of addresses: counted per address, it had a fresh
    limit for every request, and a hundred thousand of them closed the form to everyone."""
    from anthology import intake

    app = Client(IntakeApp(project, project / "dist/site"))
    answers = [app.get("/submit", environ_base={"REMOTE_ADDR": f"2001:db8::{n:x}"}).status_code
               for n in range(intake.STRANGER_REQUESTS_PER_MINUTE + 1)]
    assert answers[-1] == 429 and answers[0] == 403
    assert app.get("/submit", environ_base={"REMOTE_ADDR": "2001:db8:0:7::1"}).status_code == 403
    clock = [1000.0]
    monkeypatch.setattr(intake.time, "monotonic", lambda: clock[0])
    window = intake.SlidingWindow(60, most_keys=3)
    assert all(window.allow(key, 1) for key in "abc")
    assert not window.allow("d", 1)  # all three still counting: a newcomer waits
    clock[0] += 61
    assert window.allow("d", 1) and window.allow("e", 1) and not window.allow("d", 1)


@pytest.mark.parametrize("damage", ['{"invites": [', "[]", "null", '{"invites": [1]}', '{"invites": {"a": 1}}'])
def test_a_damaged_invitation_list_is_never_overwritten_as_empty(project, damage):
    """The list was read as empty when damaged, so the next invite wrote it back with one record:
    every link already sent answered 403 from then on, without a word."""
    from anthology.submissions import INVITES, load_invites

    invite(project, "Ann Early")
    path = project / INVITES
    path.write_text(damage)
    with pytest.raises(AnthologyError, match=r"invites\.json"):
        invite(project, "Bo Later")
    assert path.read_text() == damage
    assert main(["invite", "--list", str(project)]) == 1
    assert load_invites(project) == []  # the server, not strict, believes nothing in it


def test_an_invitation_record_with_a_path_for_a_slug_is_not_believed(project):
    import hashlib

    from anthology.submissions import INVITES

    _, token = invite(project, "Ann Early")
    data = json.loads((project / INVITES).read_text())
    data["invites"][0]["slug"] = "../../outside"
    (project / INVITES).write_text(json.dumps(data))
    assert find_invite(project, token) is None
    data["invites"][0] |= {"slug": "ann-early", "name": 5, "token_sha256": hashlib.sha256(token.encode()).hexdigest()}
    (project / INVITES).write_text(json.dumps(data))
    assert find_invite(project, token) is None
    with pytest.raises(AnthologyError, match="not a list of invitations"):
        invite(project, "Bo Later")
