from __future__ import annotations

from pathlib import Path

import pytest

from devtools import config
from devtools.errors import UnusableInput
from tests.fixtures.cli import omc


def test_reads_tool_table_from_the_nearest_project(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.omc-dev]\nproject = "shop"\n[tool.omc-dev.run]\nservice = "api"\n'
    )
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    cfg = config.load(sub)
    assert cfg.root == tmp_path.resolve()
    assert cfg.get("project") == "shop"
    assert cfg.section("run")["service"] == "api"
    assert cfg.section("missing") == {}


def test_non_table_section_is_unusable_input(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.omc-dev]\nrun = "x"\n')
    with pytest.raises(UnusableInput, match=r"\[tool.omc-dev.run\] must be a table"):
        config.load(tmp_path).section("run")


def test_invalid_toml_is_one_line_with_position(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.omc-dev\nproject = 1\n")
    proc = omc("doctor", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "pyproject.toml: invalid TOML" in proc.stderr and "line 1" in proc.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"tool = 3\n", "pyproject.toml: [tool] must be a table"),
        (b"[tool]\nomc-dev = 3\n", "pyproject.toml: [tool.omc-dev] must be a table"),
        (b"\xff\xfe[tool.omc-dev]\n", "pyproject.toml: invalid TOML: the file is not UTF-8 text"),
    ],
)
def test_malformed_pyproject_is_one_line_exit_2(
    tmp_path: Path, content: bytes, message: str
) -> None:
    (tmp_path / "pyproject.toml").write_bytes(content)
    proc = omc("doctor", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
