"""The README documents what the code accepts, and its quick start is what CI runs."""

import re

from anthology import schema
from anthology.load import Node
from anthology.model import Limits, Position

from .conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def table_keys(heading: str) -> set[str]:
    section = README.split(heading, 1)[1].split("\n#", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, re.M))


def test_every_field_is_documented():
    assert table_keys("### `anthology.yaml`") == {f.name for f in schema.BOOK_FIELDS} | {
        s.name for s in (*schema.BOOK_SECTIONS, schema.BOOK_PARTS)}
    assert table_keys("#### `limits:`") == {f.name for f in schema.LIMIT_FIELDS}
    assert "## Collecting contributions" in README
    assert table_keys("### Contributions") == {f.name for f in schema.CONTRIBUTION_FIELDS}



def test_every_layout_key_is_documented():
    """layouts/README.md has a row for every top-level key and every key of every section."""
    guide = (REPO / "layouts/README.md").read_text(encoding="utf-8")
    top = set(re.findall(r"^\| `([a-z_]+)` \| [^|]+ \|$", guide, re.M))  # the two-column table
    assert top >= {f.name for f in schema.LAYOUT_FIELDS}
    rows = re.findall(r"^\| `([a-z_]+)` \| ((?:`[a-z_]+`(?:, )?)+) \|", guide, re.M)
    documented = {(section, key) for section, keys in rows for key in re.findall(r"`([a-z_]+)`", keys)}
    assert documented == {(s.name, f.name) for s in schema.LAYOUT_SECTIONS for f in s.fields}


def test_documented_limit_defaults_are_the_real_ones():
    section = README.split("#### `limits:`", 1)[1].split("\n#", 1)[0]
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", section, re.M))
    defaults = Limits()
    for field in schema.LIMIT_FIELDS:
        written = Node(rows[field.name].strip(), Position(REPO), plain=True)
        assert field.kind(written) == getattr(defaults, field.name), field.name


def test_quick_start_has_two_commands_and_ci_runs_the_second():
    block = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split(" #")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make book", "make test"]
    assert "make test" in (REPO / ".ci/run").read_text()


def test_documented_length_caps_are_the_real_ones():
    section = README.split("#### Length caps", 1)[1].split("\n#", 1)[0]
    documented = {name: int(cap) for names, cap in re.findall(r"^\| (`[^|]+) \| (\d+) \|", section, re.M)
                  for name in re.findall(r"`([a-z_]+)`", names)}
    assert documented == {f.name: f.max_chars for f in schema.CONTRIBUTION_FIELDS if f.max_chars}


def test_the_readme_never_installs_a_stranger_from_pypi():
    """It said `pip install anthology`: that name on PyPI is an unrelated project, not this one."""
    readme = (REPO / "README.md").read_text()
    assert not re.search(r"pip install (-U )?anthology\b(?![\w./-])", readme)
