"""The README's exit-code table is the code's: one module defines them, the table lists them."""

from __future__ import annotations

import re

from devtools.report import exitcodes
from tests.fixtures.cli import REPO_ROOT


def table(doc: str, heading: str) -> dict[int, str]:
    text = (REPO_ROOT / doc).read_text()
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    return {
        int(code): meaning.strip()
        for code, meaning in re.findall(r"^\| (\d+) \| (.+?) \|$", section, re.MULTILINE)
    }


def test_the_readme_table_is_the_modules_codes() -> None:
    assert table("README.md", "## Exit codes") == exitcodes.MEANINGS


def test_the_command_reference_table_is_the_modules_codes() -> None:
    assert table("docs/commands.md", "## Output formats") == exitcodes.MEANINGS


def test_every_exit_constant_is_in_the_table() -> None:
    constants = {
        value
        for name, value in vars(exitcodes).items()
        if name.startswith("EXIT_") and isinstance(value, int)
    }
    assert constants == set(exitcodes.MEANINGS)
