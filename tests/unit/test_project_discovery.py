"""A project read as Compose reads it, from any folder of the checkout (real files, real git)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from devtools import config
from devtools.compose.source import read_source
from devtools.configkeys import unknown_keys
from devtools.docker.compose import compose_files
from devtools.findings import Finding, Severity
from devtools.omcdir import omc_dir
from devtools.report.render import render
from devtools.report.report import Report
from tests.fixtures.cli import omc
from tests.fixtures.fullstack import make_fullstack
from tests.fixtures.git import GitRepo, make_repo

SERVICE = "services:\n  app:\n    image: debian:bookworm-slim\n"


@pytest.fixture(autouse=True)
def _no_compose_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("COMPOSE_FILE", "COMPOSE_PATH_SEPARATOR", "COMPOSE_PROFILES", "OMC_PROJECT_DIR"):
        monkeypatch.delenv(name, raising=False)


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def names(files: tuple[Path, ...], root: Path) -> list[str]:
    return [f.relative_to(root).as_posix() for f in files]


# -- which compose files ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        (["compose.yml", "compose.override.yml"], ["compose.yml", "compose.override.yml"]),
        (
            ["docker-compose.yml", "docker-compose.override.yml", "docker-compose.traefik.yml"],
            ["docker-compose.yml", "docker-compose.override.yml"],
        ),
        # Compose's order: compose.yaml first; the override is read whatever its prefix.
        (
            ["compose.yaml", "docker-compose.yml", "docker-compose.override.yml"],
            ["compose.yaml", "docker-compose.override.yml"],
        ),
        (
            ["docker-compose.yaml", "compose.override.yaml"],
            ["docker-compose.yaml", "compose.override.yaml"],
        ),
    ],
)
def test_default_files_are_composes_own_with_the_override(
    tmp_path: Path, present: list[str], expected: list[str]
) -> None:
    write(tmp_path, dict.fromkeys(present, SERVICE))
    assert names(compose_files(config.load(tmp_path)), tmp_path) == expected


def test_compose_file_variable_from_environment_and_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, dict.fromkeys(["compose.yml", "compose.override.yml", "ci.yml"], SERVICE))
    (tmp_path / ".env").write_text("COMPOSE_FILE=compose.yml;ci.yml\nCOMPOSE_PATH_SEPARATOR=;\n")
    assert names(compose_files(config.load(tmp_path)), tmp_path) == ["compose.yml", "ci.yml"]
    # The environment wins over .env, with the platform's separator by default.
    monkeypatch.setenv("COMPOSE_FILE", os.pathsep.join(["ci.yml", "compose.override.yml"]))
    assert names(compose_files(config.load(tmp_path)), tmp_path) == [
        "ci.yml",
        "compose.override.yml",
    ]
    # `compose-files` in [tool.omc-dev] wins over both.
    configured = config.ProjectConfig(tmp_path, {"compose-files": ["compose.yml"]})
    assert names(compose_files(configured), tmp_path) == ["compose.yml"]


# -- where the project is ------------------------------------------------------------------


def test_a_backends_own_pyproject_does_not_stop_the_search(tmp_path: Path) -> None:
    repo = make_fullstack(tmp_path)
    for sub in ("backend", "backend/app/alembic", "frontend/src/client"):
        assert config.load(repo.path / sub).root == repo.path.resolve(), sub
    assert names(compose_files(config.load(repo.path / "backend")), repo.path) == [
        "compose.yml",
        "compose.override.yml",
    ]


def test_tool_table_wins_over_a_nearer_compose_file(git_repo: GitRepo) -> None:
    write(
        git_repo.path,
        {
            "pyproject.toml": '[tool.omc-dev]\ncompose-files = ["deploy/compose.yaml"]\n',
            "deploy/compose.yaml": SERVICE,
            "services/api/pyproject.toml": '[project]\nname = "api"\n',
        },
    )
    for start in ("deploy", "services/api"):
        assert config.load(git_repo.path / start).root == git_repo.path.resolve()


def test_git_top_level_when_there_is_neither(git_repo: GitRepo, tmp_path: Path) -> None:
    write(git_repo.path, {"pkg/sub/pyproject.toml": '[project]\nname = "x"\n'})
    assert config.load(git_repo.path / "pkg" / "sub").root == git_repo.path.resolve()
    # Nothing above the repository counts, not even a project table there.
    (tmp_path / "pyproject.toml").write_text('[tool.omc-dev]\nproject = "outer"\n')
    assert config.load(git_repo.path / "pkg").root == git_repo.path.resolve()


def test_compose_folder_is_found_searching_upward_without_git(tmp_path: Path) -> None:
    write(tmp_path, {"compose.yml": SERVICE, "backend/pyproject.toml": "[project]\nname = 'b'\n"})
    (tmp_path / "backend" / "tests").mkdir()
    assert config.load(tmp_path / "backend" / "tests").root == tmp_path.resolve()


# -- include and extends in the line-numbered reader --------------------------------------------


def test_source_follows_override_include_and_extends(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "compose.yml": (
                "include:\n"
                "  - path: infra/compose.infra.yml\n"
                "services:\n"
                "  web:\n"
                "    extends:\n"
                "      file: common/base.yml\n"
                "      service: python\n"
                "    environment:\n"
                "      OWN: '1'\n"
                "  worker:\n"
                "    extends: web\n"
                "    profiles: [jobs]\n"
            ),
            "compose.override.yml": "services:\n  web:\n    environment:\n      - DEBUG=1\n",
            "infra/compose.infra.yml": (
                "services:\n  cache:\n    image: x\n    env_file: [cache.env]\n"
                "    environment:\n      - CACHE_HOST=${CACHE_HOST:-cache}\n"
            ),
            "common/base.yml": (
                "services:\n  python:\n    image: x\n    profiles: [never]\n"
                "    env_file: [./base.env]\n    environment:\n      BASE_URL: http://api:8000\n"
            ),
        },
    )
    files = compose_files(config.load(tmp_path))
    source = read_source(files)
    where = {
        (e.service, e.name): (e.file.relative_to(tmp_path).as_posix(), e.line)
        for e in source.environment
    }
    assert where == {
        ("cache", "CACHE_HOST"): ("infra/compose.infra.yml", 6),
        ("web", "BASE_URL"): ("common/base.yml", 7),
        ("web", "OWN"): ("compose.yml", 9),
        ("web", "DEBUG"): ("compose.override.yml", 4),
        ("worker", "BASE_URL"): ("common/base.yml", 7),
        ("worker", "OWN"): ("compose.yml", 9),
    }
    env_files = {(r.service, r.path.relative_to(tmp_path).as_posix()) for r in source.env_files}
    # Relative paths resolve against the file that names them (an included project's folder).
    assert env_files == {
        ("cache", "infra/cache.env"),
        ("web", "common/base.env"),
        ("worker", "common/base.env"),
    }
    assert {v.name: v.file.name for v in source.variables} == {"CACHE_HOST": "compose.infra.yml"}
    assert {f.relative_to(tmp_path).as_posix() for f in source.read_files} == {
        "compose.yml",
        "compose.override.yml",
        "infra/compose.infra.yml",
        "common/base.yml",
    }
    # Profiles are the service's own: never inherited through extends.
    assert source.profiles["web"] == () and source.profiles["worker"] == ("jobs",)


# -- settings, files omc-dev writes, paths in findings -------------------------------------------


def test_unknown_keys_name_the_nearest_valid_one(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.omc-dev]\nprojcet = "x"\n[tool.omc-dev.ports]\nrnage = "1-2"\n'
        '[tool.omc-dev.migrations]\npg-versoin = 16\npath = "m"\n'
    )
    found = unknown_keys(config.read_tool_table(tmp_path / "pyproject.toml"))
    assert found == [
        ("", "projcet", "project"),
        ("ports", "rnage", "range"),
        ("migrations", "pg-versoin", "pg-version"),
    ]
    proc = omc("migrations", "heads", cwd=tmp_path)  # any command that reads the settings
    warnings = [line for line in proc.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 3, proc.stderr
    assert "unknown key 'rnage' in [tool.omc-dev.ports] (did you mean 'range'?)" in warnings[1]


def test_the_omc_folder_ignores_itself(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)  # its .gitignore does not mention .omc
    (omc_dir(repo.path) / "tracks").mkdir()
    (repo.path / ".omc" / "tracks" / "main.ports.yaml").write_text("services: {}\n")
    assert (repo.path / ".omc" / ".gitignore").read_text() == "*\n"
    assert repo.git("status", "--porcelain", "--untracked-files=all") == ""


def test_absolute_paths_in_findings_become_relative_to_the_repository(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    (git_repo.path / "backend").mkdir()
    monkeypatch.chdir(git_repo.path / "backend")
    inside = str(git_repo.path / "backend" / "app.py")
    findings = [
        Finding("x", Severity.ERROR, "m", path=inside, line=3),
        Finding("y", Severity.WARNING, "m", path="/elsewhere/f.py"),
    ]
    for fmt, expected in (
        ("github", "file=backend/app.py,line=3"),
        ("json", '"backend/app.py"'),
        ("concise", "backend/app.py:3: x m"),
    ):
        out = io.StringIO()
        render(Report("t", findings), fmt, out)
        assert expected in out.getvalue() and "/elsewhere/f.py" in out.getvalue()


def test_migrations_are_found_and_shown_from_the_root_and_from_backend(tmp_path: Path) -> None:
    repo = make_fullstack(tmp_path)
    versions = repo.path / "backend" / "app" / "alembic" / "versions"
    # A second head: the history now has a finding whose path we can read.
    (versions / "bbbbbbbbbbbb_other.py").write_text(
        'revision = "bbbbbbbbbbbb"\ndown_revision = "e2412789c190"\n\n\n'
        "def upgrade() -> None:\n    pass\n\n\ndef downgrade() -> None:\n    pass\n"
    )
    for cwd in (repo.path, repo.path / "backend", repo.path / "frontend"):
        proc = omc("migrations", "lint", "--format", "github", cwd=cwd)
        assert proc.returncode == 1, proc.stderr
        assert "title=multiple-heads" in proc.stdout, proc.stdout
        assert "file=backend/app/alembic/versions/" in proc.stdout, (cwd, proc.stdout)


def test_an_omc_folder_from_an_older_version_is_not_uncommitted_work(tmp_path: Path) -> None:
    from devtools.ownership.git import changes

    repo = make_repo(tmp_path)
    # Written before .omc/ ignored itself: no .gitignore inside, none in the project.
    write(repo.path, {".omc/tracks/main.ports.yaml": "services: {}\n", "notes.md": "mine\n"})
    assert [c.path for c in changes(repo.path)] == ["notes.md"]


def test_verify_from_backend_reads_the_root_spec(git_repo: GitRepo) -> None:
    from tests.fixtures.verify import REAL_CLIENT, SPEC, verify_json

    git_repo.commit(
        {"pyproject.toml": SPEC, "backend/pyproject.toml": '[project]\nname = "app"\n'}, "spec"
    )
    git_repo.push()
    git_repo.branch("feature")
    git_repo.commit({"web/src/api/client.ts": REAL_CLIENT}, "client only")
    git_repo.git("push", "--quiet", "--set-upstream", "origin", "feature")
    code, doc = verify_json(git_repo.path / "backend")
    assert code == 1
    missing = [f for f in doc["findings"] if f["id"] == "missing-path"]
    assert [f["path"] for f in missing] == ["web/src/pages/Orders.tsx"]


def test_the_kernels_database_is_not_uncommitted_work(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    proc = omc("kernel", "migrate", cwd=repo.path, env={"OMC_DATABASE_URL": ""})
    assert proc.returncode == 0, proc.stderr
    assert (repo.path / ".omc" / "kernel.db").is_file()
    assert repo.git("status", "--porcelain", "--untracked-files=all") == ""


def test_every_key_the_code_reads_is_known() -> None:
    """A key read somewhere but missing from configkeys.KNOWN would warn on valid settings."""
    import re

    from devtools.configkeys import KNOWN

    source = Path(__file__).resolve().parents[2] / "devtools"
    read = set()
    for path in source.rglob("*.py"):
        text = path.read_text()
        read |= set(re.findall(r'section\("([a-z-]+)"\)\.get\("([a-z-]+)"', text))
        read |= {("", key) for key in re.findall(r'(?:config|cfg)\.get\("([a-z-]+)"', text)}
    assert ("ports", "range") in read and ("", "project") in read
    assert {(table, key) for table, key in read if key not in KNOWN[table]} == set()
