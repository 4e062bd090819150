"""check: every problem of a broken project in one pass, each with file:line:col and a hint."""

import pytest

from anthology.build import check_project
from anthology.cli import main

from .conftest import MINIMAL_BOOK, entry

BODY = "Some words of text.\n"


def messages(root):
    _, report = check_project(root)
    return [d.format(root) for d in report.sorted()], report


def test_clean_project_has_no_diagnostics(make_project):
    root = make_project(entry("Zoë Lindqvist", "A headline", BODY, order=1))
    lines, report = messages(root)
    assert lines == [] and not report.errors


def test_unknown_key_suggests_the_right_one(make_project):
    root = make_project({"contributions/a.yaml": 'name: "A"\ntitel: "T"\n', "contributions/a.md": BODY})
    lines, _ = messages(root)
    assert "contributions/a.yaml:2:1: error: unknown key 'titel' (did you mean 'title'?)" in lines[1]
    assert "contributions/a.yaml:1:1: error: missing required field 'title'" in lines[0]


def test_all_problems_reported_in_one_pass(make_project):
    root = make_project({
        "contributions/a.yaml": 'name: "A"\ntitle: "T"\norder: "one"\nwebsite: "javascript:alert(1)"\n',
        "contributions/a.md": "   \n",
        "contributions/b.yaml": 'name: "B"\ntitle: "T"\nphoto: "../../secret.jpg"\n',
        "contributions/b.md": BODY,
        "contributions/c.yaml": 'name: "C"\ntitle: "T"\nphoto: "missing.jpg"\n',
        "contributions/c.md": BODY,
    })
    lines, report = messages(root)
    text = "\n".join(lines)
    assert "a.yaml:3:8: error: 'order' must be a whole number" in text
    assert "a.yaml:4:10: error: 'website' must be an http:// or https:// address" in text
    assert "a.md:1:1: error: the entry's body is empty" in text
    assert "b.yaml:3:8: error: photo '../../secret.jpg' points outside contributions/" in text
    assert "c.yaml:3:8: error: photo 'missing.jpg' not found" in text
    assert len(report.errors) == 5


def test_photo_escape_gives_same_error_whether_or_not_target_exists(make_project, tmp_path):
    (tmp_path / "outside.jpg").write_bytes(b"\xff\xd8\xff")
    root = make_project({
        "contributions/a.yaml": 'name: "A"\ntitle: "T"\nphoto: "../../outside.jpg"\n',
        "contributions/a.md": BODY,
        "contributions/b.yaml": 'name: "B"\ntitle: "T"\nphoto: "../../nowhere.jpg"\n',
        "contributions/b.md": BODY,
        "contributions/c.yaml": 'name: "C"\ntitle: "T"\nphoto: "/etc/passwd"\n',
        "contributions/c.md": BODY,
    })
    lines, _ = messages(root)
    assert all("points outside contributions/" in line for line in lines), lines
    assert len(lines) == 3


def test_symlink_photo_pointing_outside_is_refused(make_project, tmp_path):
    (tmp_path / "real.jpg").write_bytes(b"\xff\xd8\xff")
    root = make_project(entry("A", "T", BODY, photo="face.jpg"))
    (root / "contributions/face.jpg").symlink_to(tmp_path / "real.jpg")
    lines, _ = messages(root)
    assert "points outside contributions/" in lines[0]


def test_photo_must_really_be_jpeg_or_png(make_project):
    root = make_project({**entry("A", "T", BODY, photo="face.jpg"),
                         "contributions/face.jpg": b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"})
    lines, _ = messages(root)
    assert "cannot be read as an image" in lines[0] or "not JPEG or PNG" in lines[0]


def test_duplicate_order_points_at_the_field(make_project):
    root = make_project({**entry("A", "T", BODY, order=1), **entry("B", "T", BODY, order=1)})
    lines, _ = messages(root)
    assert lines == ["contributions/b.yaml:3:8: error: duplicate order 1 (also used by a)\n"
                     "    hint: give every entry its own order number"]


def test_front_matter_errors_point_at_file_lines(make_project):
    root = make_project({"contributions/solo.md": '---\nname: "S"\ntitle: "T"\nrole: [a, b]\n---\nText.\n'})
    lines, _ = messages(root)
    assert lines[0].startswith("contributions/solo.md:4:7: error: 'role' must be text")


def test_unknown_layout_lists_the_available_ones(make_project):
    root = make_project({"anthology.yaml": 'title: "T"\nlayout: perspective\n', **entry("A", "T", BODY)})
    lines, _ = messages(root)
    assert "unknown layout 'perspective' (did you mean 'perspectives'?)" in lines[0]


def test_project_layout_overrides_and_reports_its_own_errors(make_project):
    root = make_project({
        "anthology.yaml": 'title: "T"\nlayout: mine\n',
        "layouts/mine/layout.yaml": 'base: perspectives\ndescription: "x"\ncolors:\n  acent: "#000000"\n',
        **entry("A", "T", BODY),
    })
    lines, _ = messages(root)
    assert lines[0].startswith("layouts/mine/layout.yaml:4:3: error: unknown key 'acent' (did you mean 'accent'?)")


def test_order_list_names_unknown_slug(make_project):
    root = make_project({"anthology.yaml": 'title: "T"\norder: [a, zed]\n', **entry("A", "T", BODY)})
    lines, _ = messages(root)
    assert "order names 'zed', which is not a contribution" in lines[0]


def test_control_characters_in_names_are_rejected_with_the_field(make_project):
    root = make_project({"contributions/a.yaml": 'name: "A\\u0007B"\ntitle: "T"\n', "contributions/a.md": BODY})
    lines, _ = messages(root)
    assert "a.yaml:1:7: error: 'name' contains the control character U+0007" in lines[0]


def test_cli_exit_codes(make_project, capsys):
    good = make_project(entry("A", "T", BODY))
    assert main(["check", str(good)]) == 0
    (good / "contributions/a.yaml").write_text('name: "A"\n')
    assert main(["check", str(good)]) == 1
    assert "missing required field 'title'" in capsys.readouterr().err
    assert main(["check", str(good / "nowhere")]) == 2
    assert main(["build", str(good)]) == 1


def test_characters_no_font_can_draw_are_errors_not_boxes(make_project):
    root = make_project(entry("A", "Sailing ⛵ home", "Text with a 𝄞 clef.\n"))
    text = "\n".join(messages(root)[0])
    assert ("contributions/a.yaml:2:8: error: '⛵' (U+26F5) in title cannot be drawn by Source Serif Pro or "
            "Source Sans Pro; add a fallback font") in text
    assert ("contributions/a.md:1:13: error: '𝄞' (U+1D11E) in body cannot be drawn by Source Serif Pro; "
            "add a fallback font") in text


def test_limits_come_from_anthology_yaml_and_are_checked_before_parsing(make_project):
    book = 'title: "B"\nlimits:\n  body_bytes: 40\n  photo_megapixls: 3\n  metadata_bytes: lots\n'
    root = make_project({"anthology.yaml": book, **entry("A", "T", "x" * 41 + "\n")})
    lines, _ = messages(root)
    text = "\n".join(lines)
    assert "anthology.yaml:4:3: error: unknown key 'photo_megapixls' (did you mean 'photo_megapixels'?)" in text
    assert "anthology.yaml:5:19: error: 'metadata_bytes' must be a size in bytes" in text
    root = make_project({"anthology.yaml": 'title: "B"\nlimits:\n  body_bytes: 40\n', **entry("A", "T", "x" * 41)})
    lines, _ = messages(root)
    assert lines == ["contributions/a.md:1:1: error: contribution body is 41 bytes, more than the limit of 40\n"
                     "    hint: make it smaller, or raise limits.body_bytes in anthology.yaml"]


def test_one_broken_contribution_does_not_hide_the_others_errors(make_project):
    root = make_project({
        **entry("A", "T", BODY, website="ftp://x"),
        "contributions/b.yaml": "name: [oops\n", "contributions/b.md": BODY,
        **entry("C", "T", "Fine.\n"),
    })
    _, report = messages(root)
    assert sorted(d.position.path.name for d in report.errors) == ["a.yaml", "b.yaml"]


def test_body_positions_point_at_the_bad_character(make_project):
    root = make_project(entry("A", "T", "First line.\nSecond \x1b line.\n"))
    lines, _ = messages(root)
    assert lines[0].startswith("contributions/a.md:2:8: error: the body contains the control character U+001B")


@pytest.mark.parametrize(("words", "problem"), [
    ('  contents: "Inhalt {book.__class__}"', "words: 'contents' uses book.__class__"),
    ('  read_on_page: "Page {page} {0}"', "words: 'read_on_page' uses 0"),
    ('  index: "Index {"', "words: 'index' uses a stray brace"),
    ('  read_on_page: "{page:>999999999}"', "words: 'read_on_page' uses page:>999999999"),
    ('  pages: {other: "{n!r} pages"}', "words: 'pages' uses n!r"),
    ('  contents: "' + "Inhalt " * 100 + '"', "'contents' is 699 characters long; at most 300"),  # 36 pages of it
    ('  pages: {other: "{n} ' + "Seiten " * 100 + '"}', "'pages' plural form 'other' is 703 characters long"),
    ('  contents: {one: "a", other: "b"}', "words: 'contents' is one line of text"),
    ('  pages: {one: "{n} leaf"}', "'pages' has no 'other' form"),
    ('  contnets: "In this book"', "unknown key 'contnets' (did you mean 'contents'?)"),
])
def test_a_words_override_is_checked_before_it_is_used(make_project, words, problem):
    project = make_project({"anthology.yaml": MINIMAL_BOOK + "words:\n" + words + "\n",
                            **entry("Ann Able", "T", "Words.")})
    _, report = check_project(project)
    assert [d.message for d in report.errors if problem in d.message], [d.message for d in report.diagnostics]


def test_a_language_without_a_table_falls_back_to_english_with_one_warning(make_project):
    project = make_project({"anthology.yaml": MINIMAL_BOOK + "language: vi\nwords:\n  contents: \"Mục lục\"\n",
                            **entry("Ann Able", "T", "Words.")})
    checked, report = check_project(project)
    assert len(report.warnings) == 1 and "no word table for the language 'vi'" in report.warnings[0].message
    assert "contents" not in report.warnings[0].message  # given under words:, so not missing
    assert checked.project.book.words("contents") == "Mục lục"
    assert checked.project.book.words("index") == "Index of contributors"


def test_every_printed_field_has_a_length_cap_with_a_clear_error(make_project):
    """A 350-word title crashed the contents page and a 30 000-character name the name block."""
    title = " ".join(["word"] * 350)
    long_name = {"contributions/x.yaml": f'name: "{"X" * 30000}"\ntitle: "Fine"\n', "contributions/x.md": "Body.\n"}
    root = make_project(entry("Ann Lee", title, "Body.\n", bio="b" * 1501) | long_name)
    _, report = check_project(root)
    messages = sorted(e.message for e in report.errors)
    assert messages == ["'bio' is 1,501 characters long; at most 1,500 are allowed",
                        "'name' is 30,000 characters long; at most 120 are allowed",
                        "'title' is 1,749 characters long; at most 250 are allowed"]
    from anthology import schema
    from anthology.intake import FIELD_CAPS
    assert {f.name: f.max_chars for f in schema.CONTRIBUTION_FIELDS if f.max_chars} == FIELD_CAPS
    assert schema.contribution_json_schema()["properties"]["name"]["maxLength"] == 120


def test_characters_are_checked_as_drawn_after_entities_and_in_the_code_face(make_project):
    """Entities decoded after the raw check printed boxes; code was checked against the body face."""
    root = make_project(entry("Ann Lee", "Tofu", "Sets &HilbertSpace; and &#XD06; here.\n\nCode `₿ ↗` is fine.\n"))
    _, report = check_project(root)
    [error] = report.errors
    assert "'ℋ' (U+210B)" in error.message and "'ആ' (U+0D06)" in error.message and "₿" not in error.message
    assert (error.position.line, error.position.col) == (1, 6)  # where &HilbertSpace; is written


def test_a_figure_outside_contributions_or_missing_keeps_its_caption_with_a_warning(make_project):
    root = make_project(entry("Ann Lee", "Figs", "![The chart](../anthology.yaml)\n\n![Gone](gone.png)\n"))
    _, report = check_project(root)
    assert not report.errors
    assert [w.message for w in report.warnings] == [
        "figure '../anthology.yaml' points outside contributions/; only its caption is printed",
        "figure 'gone.png' not found; only its caption is printed"]


def test_figures_are_decoded_once_each_and_a_flood_of_them_is_capped(make_project, monkeypatch):
    from io import BytesIO

    from PIL import Image

    from anthology import validate

    png = BytesIO()
    Image.new("RGB", (40, 30), "teal").save(png, "PNG")
    decoded = []
    real = validate.check_photo
    monkeypatch.setattr(validate, "check_photo", lambda data, mp: decoded.append(1) or real(data, mp))
    body = "![Same](f.png)\n\n" * 500 + "".join(f"![Other {i}](g{i}.png)\n\n" for i in range(50))
    files = {f"contributions/g{i}.png": png.getvalue() for i in range(50)}
    root = make_project(entry("Ann Lee", "Figures", body) | files | {"contributions/f.png": png.getvalue()})
    _, report = check_project(root)
    assert not report.errors and len(decoded) == validate.MAX_FIGURES
    capped = [w for w in report.warnings if "more than 40 different figures" in w.message]
    assert len(capped) == 50 + 1 - validate.MAX_FIGURES


def test_a_figure_in_the_books_own_texts_is_warned_about(make_project):
    """The introduction printed a figure's caption under nothing and called its image 'not used by any entry'."""
    root = make_project(entry("Ann Lee", "Body", "Words.\n") | {
        "anthology.yaml": 'title: "B"\nintro: intro.md\n', "intro.md": "Intro.\n\n> ![The chart](chart.png)\n"})
    _, report = check_project(root)
    assert [(w.position.path.name, w.position.line, w.message) for w in report.warnings] == [
        ("intro.md", 3, "figure 'chart.png' is printed only in an entry; here only its caption is printed")]


def test_an_entry_may_name_its_own_language_checked_like_the_books(make_project):
    root = make_project({**entry("Ann Able", "T", "Words.", language="de-AT"),
                         **entry("Bo Brand", "U", "Words.", language="German, mostly")})
    lines, report = messages(root)
    assert [line for line in lines if "BCP 47" in line] == [
        "contributions/bo-brand.yaml:3:11: error: 'language' must be a BCP 47 language tag\n"
        "    hint: for example en, en-GB, pl or vi"]
    assert not report.errors[1:]
