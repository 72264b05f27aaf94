"""A missing `env_file` (a fresh clone before `cp .env.example .env`) is said with its fix."""

from __future__ import annotations

from pathlib import Path

from devtools.compose.missing_env import missing_env_file


def _stderr(path: Path) -> str:
    # compose-go's wording, as `docker compose config` 2.x prints it
    return (
        'time="..." level=warning msg="The \\"DB_PORT\\" variable is not set."\n'
        f"env file {path} not found: stat {path}: no such file or directory\n"
    )


def test_the_committed_example_is_named_in_a_copy_from_where_the_user_stands(
    tmp_path: Path,
) -> None:
    (tmp_path / ".env.example").write_text("DB_PORT=5432\n")
    (tmp_path / "app").mkdir()
    line = missing_env_file(_stderr(tmp_path / ".env"), cwd=tmp_path / "app")
    assert line == (
        "env file ../.env does not exist and a service reads it (env_file): "
        "create it from the example: cp ../.env.example ../.env"
    )


def test_other_example_names_are_found(tmp_path: Path) -> None:
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "app.env.sample").write_text("")
    line = missing_env_file(_stderr(tmp_path / "docker" / "app.env"), cwd=tmp_path)
    assert line is not None and line.endswith("cp docker/app.env.sample docker/app.env")


def test_without_an_example_it_says_to_create_it(tmp_path: Path) -> None:
    line = missing_env_file(_stderr(tmp_path / ".env"), cwd=tmp_path)
    assert line is not None and "does not exist" in line and "touch .env" in line
    assert "cp " not in line


def test_other_compose_errors_are_not_this_one() -> None:
    assert missing_env_file("services.web.ports must be a list") is None
