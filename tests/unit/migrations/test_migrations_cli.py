"""`omc-dev migrations heads|lint` as a user runs them: real processes, real git."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.cli import REPO_ROOT, omc
from tests.fixtures.git import GitRepo
from tests.fixtures.migrations import revision_file as rf
from tests.fixtures.migrations import write_versions

BAD_INDEX = '    op.create_table("t", sa.Column("at", sa.DateTime(timezone=True)))\n    op.create_index("ix", "t", [sa.text("(at::date)")])'


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"OMC_CACHE_DIR": str(tmp_path / "cache")}


def history(folder: Path, *extra: tuple[str, str | None, str]) -> Path:
    files = {"a1.py": rf("a1", None), "b2.py": rf("b2", "a1")}
    files.update({f"{rid}.py": rf(rid, down, upgrade=up) for rid, down, up in extra})
    return write_versions(folder, files)


def one_line_error(proc: object) -> str:
    stderr: str = proc.stderr  # type: ignore[attr-defined]
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    return stderr


def test_heads_text_and_json(tmp_path: Path, env: dict[str, str]) -> None:
    folder = history(tmp_path / "m", ("c3", "a1", "    pass"))
    proc = omc("migrations", "heads", str(folder), cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert [line.split()[0] for line in proc.stdout.splitlines()] == ["b2", "c3"]
    proc = omc("migrations", "heads", str(folder), "--format", "json", cwd=tmp_path, env=env)
    doc = json.loads(proc.stdout)
    assert (doc["heads"], doc["findings"], doc["ok"]) == (["b2", "c3"], [], True)


def test_heads_on_a_broken_history_exits_1_with_the_reason(
    tmp_path: Path, env: dict[str, str]
) -> None:
    folder = history(tmp_path / "m", ("c3", "nope", "    pass"))
    proc = omc("migrations", "heads", str(folder), "--format", "json", cwd=tmp_path, env=env)
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert [f["id"] for f in report["findings"]] == ["missing-parent"]


def test_lint_clean_exits_0(tmp_path: Path, env: dict[str, str]) -> None:
    proc = omc("migrations", "lint", str(history(tmp_path / "m")), cwd=tmp_path, env=env)
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stdout + proc.stderr  # concise: silent
    proc = omc(
        "migrations",
        "lint",
        str(history(tmp_path / "m")),
        "--format",
        "text",
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 revisions, head b2" in proc.stdout


def test_lint_json_has_the_issue_shape(tmp_path: Path, env: dict[str, str]) -> None:
    folder = history(tmp_path / "m", ("c3", "a1", BAD_INDEX))
    proc = omc("migrations", "lint", str(folder), "--format", "json", cwd=tmp_path, env=env)
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert list(report) == ["schema_version", "command", "ok", "summary", "heads", "findings"]
    assert report["heads"] == ["b2", "c3"]
    assert {f["id"] for f in report["findings"]} == {"multiple-heads", "non-immutable-index"}
    for finding in report["findings"]:
        assert {"id", "severity", "path", "line", "message"} <= set(finding)
        assert finding["severity"] == "error" and finding["path"] == "m/versions/c3.py"
        assert isinstance(finding["line"], int)


def test_lint_github_annotations(tmp_path: Path, env: dict[str, str]) -> None:
    folder = history(tmp_path / "m", ("c3", "b2", BAD_INDEX))
    proc = omc("migrations", "lint", str(folder), "--format", "github", cwd=tmp_path, env=env)
    assert proc.returncode == 1
    (line,) = proc.stdout.splitlines()
    assert line.startswith("::error file=m/versions/c3.py,line=")
    assert "title=non-immutable-index::" in line


def test_select_runs_only_the_chosen_rules(tmp_path: Path, env: dict[str, str]) -> None:
    folder = history(tmp_path / "m", ("c3", "a1", BAD_INDEX))
    graph = omc(
        "migrations",
        "lint",
        str(folder),
        "--select",
        "graph",
        "--format",
        "json",
        cwd=tmp_path,
        env=env,
    )
    index = omc(
        "migrations",
        "lint",
        str(folder),
        "--select",
        "non-immutable-index",
        "--format",
        "json",
        cwd=tmp_path,
        env=env,
    )
    assert [f["id"] for f in json.loads(graph.stdout)["findings"]] == ["multiple-heads"]
    assert [f["id"] for f in json.loads(index.stdout)["findings"]] == ["non-immutable-index"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["migrations", "lint", "does/not/exist"], "does not exist"),
        (["migrations", "lint", "M", "--pg-version", "14"], "no PostgreSQL 14 catalog"),
        (["migrations", "lint", "M", "--select", "bogus"], "unknown rule 'bogus'"),
        (["migrations", "lint", "M", "--base", "main"], "not inside a git repository"),
        (["migrations", "heads"], "no Alembic migrations found"),
        (["migrations", "lint", "M", "--against-db", "mysql://x/y"], "needs a PostgreSQL URL"),
    ],
)
def test_unusable_input_is_one_line_and_exit_2(
    tmp_path: Path, env: dict[str, str], args: list[str], words: str
) -> None:
    folder = history(tmp_path / "m")
    proc = omc(*[str(folder) if a == "M" else a for a in args], cwd=tmp_path, env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert words in one_line_error(proc)


def test_a_malformed_alembic_ini_is_one_line_and_exit_2(
    tmp_path: Path, env: dict[str, str]
) -> None:
    ini = tmp_path / "alembic.ini"
    ini.write_text("garbage[[\n[alembic\nscript_location = m\n")
    proc = omc("migrations", "heads", str(ini), cwd=tmp_path, env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "cannot read the [alembic] section" in one_line_error(proc)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"tool = 3\n", "[tool] must be a table"),
        (b"[tool]\nalembic = 3\n", "[tool.alembic] must be a table"),
        (b"\xff\xfe[tool.alembic]\n", "not UTF-8"),
    ],
)
def test_a_pyproject_that_is_not_valid_toml_tables_is_one_line_and_exit_2(
    tmp_path: Path, env: dict[str, str], content: bytes, expected: str
) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_bytes(content)
    proc = omc("migrations", "heads", str(pyproject), cwd=tmp_path, env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert expected in one_line_error(proc)


def test_a_script_location_that_does_not_exist_is_unusable_input(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """Alembic refuses it ("Path doesn't exist"); reading it as an empty history would let a
    misconfigured hook pass every commit."""
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/nowhere\n")
    (tmp_path / "pyproject.toml").write_text('[tool.alembic]\nscript_location = "nowhere"\n')
    for path in ("alembic.ini", "pyproject.toml"):
        proc = omc("migrations", "lint", path, cwd=tmp_path, env=env)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "script_location" in one_line_error(proc) and "nowhere" in proc.stderr


def test_path_forms_and_configured_defaults(tmp_path: Path, env: dict[str, str]) -> None:
    history(tmp_path / "proj" / "db")
    (tmp_path / "proj" / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/db\n")
    for path in ("alembic.ini", "db", "db/versions"):
        proc = omc("migrations", "heads", path, cwd=tmp_path / "proj", env=env)
        assert proc.stdout.split()[0] == "b2", (path, proc.stderr)
    # No PATH: alembic.ini in the project root.
    assert omc("migrations", "heads", cwd=tmp_path / "proj", env=env).stdout.split()[0] == "b2"
    # [tool.alembic] in pyproject.toml (no alembic.ini).
    (tmp_path / "proj" / "alembic.ini").unlink()
    (tmp_path / "proj" / "pyproject.toml").write_text(
        '[tool.alembic]\nscript_location = "%(here)s/db"\n'
    )
    assert omc("migrations", "heads", cwd=tmp_path / "proj", env=env).stdout.split()[0] == "b2"
    # [tool.omc-dev.migrations] wins, and carries the allowed heads.
    other = write_versions(
        tmp_path / "proj" / "other",
        {"x.py": rf("x", None), "p.py": rf("p", None, labels="plugins")},
    )
    assert other.exists()
    (tmp_path / "proj" / "pyproject.toml").write_text(
        '[tool.omc-dev.migrations]\npath = "other"\nallowed-heads = { plugins = 1 }\n'
    )
    proc = omc("migrations", "lint", "--format", "text", cwd=tmp_path / "proj", env=env)
    assert proc.returncode == 0 and "2 revisions, head p, x" in proc.stdout, proc.stdout


def test_version_locations_from_alembic_ini(tmp_path: Path, env: dict[str, str]) -> None:
    write_versions(tmp_path / "a", {"a1.py": rf("a1", None)})
    write_versions(tmp_path / "b", {"b1.py": rf("b1", "a1")})
    ini = tmp_path / "alembic.ini"
    ini.write_text(
        "[alembic]\nscript_location = a\nversion_locations = %(here)s/a/versions %(here)s/b/versions\n"
    )
    proc = omc("migrations", "heads", str(ini), "--format", "json", cwd=tmp_path, env=env)
    assert json.loads(proc.stdout)["heads"] == ["b1"]


def test_green_prs_red_merge_with_base(git_repo: GitRepo, env: dict[str, str]) -> None:
    base = {"db/versions/a1.py": rf("a1", None)}
    git_repo.commit(base, "a1")
    git_repo.push()
    git_repo.branch("feature")
    git_repo.commit({"db/versions/c3.py": rf("c3", "a1")}, "feature adds c3 on a1")
    # Meanwhile main moved on: b2 on a1. Each branch alone has one head.
    git_repo.git("checkout", "--quiet", "main")
    git_repo.commit({"db/versions/b2.py": rf("b2", "a1")}, "main adds b2")
    git_repo.push()
    git_repo.git("checkout", "--quiet", "feature")
    alone = omc("migrations", "lint", "db", cwd=git_repo.path, env=env)
    assert alone.returncode == 0, alone.stdout
    proc = omc(
        "migrations",
        "lint",
        "db",
        "--base",
        "origin/main",
        "--format",
        "json",
        cwd=git_repo.path,
        env=env,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (finding,) = json.loads(proc.stdout)["findings"]
    assert finding["id"] == "multiple-heads" and finding["path"] == "db/versions/c3.py"
    assert "origin/main's head is b2" in finding["message"]
    assert finding["fix"] == "rebase the revision: set down_revision = 'b2' in db/versions/c3.py"
    # Rebased onto main's head: clean.
    git_repo.commit({"db/versions/c3.py": rf("c3", "b2")}, "rebase c3")
    git_repo.git("merge", "--quiet", "origin/main", "-m", "merge main")
    assert (
        omc(
            "migrations", "lint", "db", "--base", "origin/main", cwd=git_repo.path, env=env
        ).returncode
        == 0
    )


def test_base_that_does_not_exist_is_unusable_input(git_repo: GitRepo, env: dict[str, str]) -> None:
    git_repo.commit({"db/versions/a1.py": rf("a1", None)})
    proc = omc("migrations", "lint", "db", "--base", "no-such-branch", cwd=git_repo.path, env=env)
    assert proc.returncode == 2 and "no such commit" in one_line_error(proc)


def test_the_kernel_migrations_pass(env: dict[str, str]) -> None:
    proc = omc("migrations", "lint", "--format", "json", cwd=REPO_ROOT, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert (doc["heads"], doc["findings"]) == (["0002_audit_keys"], [])


def test_the_parse_cache_gives_the_same_answers(tmp_path: Path, env: dict[str, str]) -> None:
    folder = history(tmp_path / "m", ("c3", "a1", BAD_INDEX))
    cold = omc(
        "migrations",
        "lint",
        str(folder),
        "--format",
        "json",
        cwd=tmp_path,
        env={**env, "OMC_NO_CACHE": "1"},
    )
    first = omc("migrations", "lint", str(folder), "--format", "json", cwd=tmp_path, env=env)
    warm = omc("migrations", "lint", str(folder), "--format", "json", cwd=tmp_path, env=env)
    assert cold.stdout == first.stdout == warm.stdout
    assert list((tmp_path / "cache").glob("migrations-*.pickle"))
    # An edited file is read again, not served from the cache.
    (folder / "versions" / "c3.py").write_text(rf("c3", "b2"))
    edited = omc("migrations", "lint", str(folder), "--format", "json", cwd=tmp_path, env=env)
    doc = json.loads(edited.stdout)
    assert (doc["heads"], doc["findings"]) == (["c3"], [])


def test_a_cold_json_lint_imports_nothing_it_does_not_use(tmp_path: Path) -> None:
    """Start-up is most of a cold lint: no Alembic, SQLAlchemy, sqlparse or rich, and without
    a cache no pickle or tempfile; the catalog is read without importlib's zipfile reader."""
    folder = history(tmp_path / "m", ("c3", "b2", BAD_INDEX))
    probe = (
        "import contextlib, io, json, sys\n"
        "from devtools.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main(['migrations', 'lint', {str(folder)!r}, '--format', 'json'])\n"
        "unused = ('alembic', 'sqlalchemy', 'sqlparse', 'rich', 'pickle', 'tempfile', 'zipfile')\n"
        "print(json.dumps([code, [m for m in unused if m in sys.modules]]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={**os.environ, "OMC_NO_CACHE": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(proc.stdout) == [1, []]  # exit 1: the index was judged
