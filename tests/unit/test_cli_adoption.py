"""What a new user meets in the CLI: examples in every --help, -y on every destructive command,
NO_COLOR / --no-color with no styling at all, shell completion of service, track and revision
names, and a missing install extra named in one line."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from devtools.cli import cli
from devtools.extras import missing_extra
from devtools.tracks import registry
from devtools.tracks.registry import TrackEntry
from tests.fixtures.cli import cli_env, omc, omc_argv
from tests.fixtures.git import git, make_repo
from tests.fixtures.migrations import revision_file as rf

# Commands that delete or overwrite something: each prints its plan and needs --yes (or -y).
DESTRUCTIVE = {"clean", "down", "db reset", "ports release", "env template"}


def command_tree() -> Iterator[tuple[str, click.Command]]:
    """Every command and subcommand, loaded as the CLI loads them (path without "omc-dev")."""

    def walk(
        command: click.Command, ctx: click.Context, path: str
    ) -> Iterator[tuple[str, click.Command]]:
        yield path, command
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None
                yield from walk(
                    sub, click.Context(sub, parent=ctx, info_name=name), f"{path} {name}".strip()
                )

    yield from walk(cli, click.Context(cli, info_name="omc-dev"), "")


def test_every_help_page_shows_examples_of_its_own_command() -> None:
    paths = [path for path, _ in command_tree()]
    assert len(paths) > 25
    for path in paths:
        proc = omc(*path.split(), "--help")
        assert proc.returncode == 0, proc.stderr
        examples = proc.stdout.partition("Examples:\n")[2].splitlines()
        assert examples, f"omc-dev {path} --help has no examples"
        shown = [line.strip() for line in examples if line.startswith("    omc-dev")]
        assert shown, (path, proc.stdout)
        own = path  # a moved command (status, audit, killswitch): under its old name
        assert any(line.startswith(f"omc-dev {own}".strip()) for line in shown), (path, shown)


def test_every_destructive_command_takes_yes_and_y() -> None:
    with_yes = {}
    for path, command in command_tree():
        for param in command.params:
            if param.name == "yes":
                with_yes[path] = param.opts
    assert set(with_yes) >= DESTRUCTIVE
    for path, opts in with_yes.items():
        assert sorted(opts) == ["--yes", "-y"], path


def test_y_is_accepted_where_it_was_missing(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.omc-dev]\nproject = "shop"\n')
    (tmp_path / ".env").write_text("POSTGRES_PASSWORD=secret\n")
    (tmp_path / "compose.yaml").write_text("services:\n  db:\n    image: postgres\n")
    (tmp_path / ".env.example").write_text("OTHER=1\n")
    # Without a terminal to ask, -y is the only way to go ahead; an unknown flag would be exit 2.
    proc = omc("ports", "release", "no-such-track", "-y", cwd=tmp_path)
    assert "No such option" not in proc.stderr, proc.stderr
    proc = omc("env", "template", "-y", cwd=tmp_path)
    assert "No such option" not in proc.stderr, proc.stderr


# ---- NO_COLOR and --no-color ------------------------------------------------------------


def in_terminal(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run `argv` with a terminal as stdout (rich styles only what goes to one)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=follower, stdout=follower, stderr=follower
    )
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode(errors="replace")


@pytest.fixture
def two_heads(tmp_path: Path) -> Path:
    (tmp_path / "p").mkdir()
    repo = make_repo(
        tmp_path / "p",
        {
            "alembic.ini": "[alembic]\nscript_location = %(here)s/migrations\n",
            "migrations/versions/a1.py": rf("a1", None),
            "migrations/versions/b2.py": rf("b2", "a1"),
            "migrations/versions/c3.py": rf("c3", "a1"),
        },
    )
    return repo.path


def terminal_env(**extra: str) -> dict[str, str]:
    env = cli_env({"TERM": "xterm-256color", "COLUMNS": "200", **extra})
    for name in ("NO_COLOR", "FORCE_COLOR"):
        env.pop(name, None) if name not in extra else None
    return env


def test_no_color_means_no_styling_at_all(two_heads: Path) -> None:
    argv = omc_argv("migrations", "lint")
    styled = in_terminal(argv, two_heads, terminal_env())
    assert "multiple-heads" in styled and "\x1b[1" in styled  # bold: the check can fail
    for env, args in (
        (terminal_env(NO_COLOR="1"), argv),
        (terminal_env(), omc_argv("--no-color", "migrations", "lint")),
    ):
        plain = in_terminal(args, two_heads, env)
        assert "multiple-heads" in plain
        assert "\x1b[" not in plain, repr(plain[:400])


def test_empty_no_color_keeps_colour(two_heads: Path) -> None:
    # no-color.org: NO_COLOR counts when present and not empty.
    styled = in_terminal(omc_argv("migrations", "lint"), two_heads, terminal_env(NO_COLOR=""))
    assert "\x1b[" in styled


# ---- shell completion -------------------------------------------------------------------


def complete(words: str, cwd: Path, env: dict[str, str] | None = None) -> list[str]:
    parts = words.split()
    cword = len(parts) if words.endswith(" ") else len(parts) - 1
    proc = subprocess.run(
        [sys.executable, "-m", "devtools"],
        cwd=cwd,
        env=cli_env(
            {
                "COMP_WORDS": words,
                "COMP_CWORD": str(cword),
                "_OMC_DEV_COMPLETE": "bash_complete",
                **(env or {}),
            }
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return [item for line in proc.stdout.splitlines() if (item := line.partition(",")[2])]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "shop").mkdir()
    repo = make_repo(
        tmp_path / "shop",
        {
            "compose.yaml": "services:\n  db:\n    image: postgres\n  backend:\n    build: .\n",
            "compose.override.yml": "services:\n  mailcatcher:\n    image: mailpit\n",
            "alembic.ini": "[alembic]\nscript_location = %(here)s/migrations\n",
            "migrations/versions/a1.py": rf("a1", None),
        },
    )
    repo.git("branch", "feature-orders")
    repo.git("tag", "v0.1.0")
    return repo.path


def test_services_complete_from_the_compose_file(project: Path) -> None:
    # The override file is read by default, as Compose does.
    assert complete("omc-dev up ", project) == ["backend", "db", "mailcatcher"]
    assert complete("omc-dev run --service b", project) == ["backend"]
    only_base = {"COMPOSE_FILE": "compose.yaml"}
    assert complete("omc-dev up ", project, only_base) == ["backend", "db"]


def test_tracks_complete_from_the_registry_and_branches(project: Path, state_dir: Path) -> None:
    with registry.locked(state_dir) as reg:
        reg.put(TrackEntry("repo-id", "shop", "payments", "shop-payments", (str(project),), ()))
    env = {"OMC_STATE_DIR": str(state_dir)}
    assert complete("omc-dev ports release ", project, env) == [
        "feature-orders",
        "main",
        "payments",
    ]
    assert complete("omc-dev down --track pay", project, env) == ["payments"]


def test_revisions_complete_from_git(project: Path) -> None:
    got = complete("omc-dev migrations lint --base ", project)
    assert got == ["feature-orders", "main", "origin/main", "v0.1.0"]
    assert complete("omc-dev verify --remote ", project) == ["origin"]


def test_completion_outside_a_project_offers_nothing(tmp_path: Path) -> None:
    assert complete("omc-dev up ", tmp_path) == []
    assert complete("omc-dev verify --base ", tmp_path) == []


# ---- install extras ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "command", "extra"),
    [
        ("git", "verify", "verify"),
        ("docker", "up", "stack"),
        ("sqlalchemy", "kernel", "kernel"),
        ("alembic.config", "migrations", "kernel"),
        ("rich", "verify", "verify"),
        ("rich", "ports", "stack"),
        ("rich", "status", "kernel"),
    ],
)
def test_a_missing_extra_is_named_with_its_install_command(
    module: str, command: str, extra: str
) -> None:
    error = missing_extra(ModuleNotFoundError(f"No module named {module!r}", name=module), command)
    assert error is not None and error.exit_code == 125
    assert f"omc-dev {command} needs" in str(error)
    assert f"pip install 'omc-dev[{extra}]'" in str(error)


def test_a_missing_module_no_extra_brings_is_a_bug() -> None:
    assert missing_extra(ModuleNotFoundError("No module named 'frob'", name="frob"), "up") is None


def test_missing_extra_through_the_cli(tmp_path: Path) -> None:
    """A stand-in `git` package that is not importable, first on the path: `verify` ends with
    the one line, exit 125."""
    shadow = tmp_path / "shadow" / "git"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'git'\", name='git')\n"
    )
    (tmp_path / "r").mkdir()
    repo = make_repo(tmp_path / "r")
    env = cli_env()
    env["PYTHONPATH"] = f"{tmp_path / 'shadow'}{os.pathsep}{env['PYTHONPATH']}"
    proc = subprocess.run(
        omc_argv("verify"), cwd=repo.path, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 125, proc.stderr
    assert proc.stderr.count("\n") == 1
    assert "pip install 'omc-dev[verify]'" in proc.stderr and "Traceback" not in proc.stderr
    git(repo.path, "status")  # the repository is untouched and usable


# ---- concise off a terminal, -q and -v --------------------------------------------------

CONCISE_LINE = re.compile(
    r"^migrations/versions/c3\.py:\d+: multiple-heads the history has 2 heads"
)


def test_checks_are_concise_off_a_terminal_and_text_at_one(two_heads: Path) -> None:
    piped = omc("migrations", "lint", cwd=two_heads)
    assert piped.returncode == 1, piped.stderr
    assert len(piped.stdout.splitlines()) == 1 and CONCISE_LINE.match(piped.stdout), piped.stdout
    at_terminal = in_terminal(omc_argv("migrations", "lint"), two_heads, terminal_env())
    assert "1 error(s), 0 warning(s)" in at_terminal and "severity" in at_terminal
    # An explicit --format always wins; JSON users see no change.
    text = omc("migrations", "lint", "--format", "text", cwd=two_heads)
    assert "1 error(s), 0 warning(s)" in text.stdout
    as_json = omc("migrations", "lint", "--format", "json", cwd=two_heads)
    assert json.loads(as_json.stdout)["findings"][0]["id"] == "multiple-heads"
    concise = in_terminal(
        omc_argv("migrations", "lint", "--format", "concise"), two_heads, terminal_env()
    )
    assert CONCISE_LINE.match(concise.strip()), concise


def test_hooks_print_concise_lines_even_at_a_terminal(two_heads: Path) -> None:
    """pre-commit gives hooks a terminal when it colours its own output."""
    hook = [
        sys.executable,
        "-c",
        "import sys; from devtools.migrations.command import single_head_hook as h; sys.exit(h())",
    ]
    out = in_terminal(hook, two_heads, terminal_env())
    assert CONCISE_LINE.match(out.strip()) and "error(s)" not in out, out
    out = in_terminal([*hook, "--format", "text"], two_heads, terminal_env())
    assert "1 error(s)" in out  # the hook's own args win


def test_quiet_prints_findings_only_and_verbose_adds_the_fix(
    two_heads: Path, tmp_path: Path
) -> None:
    quiet = omc("-q", "migrations", "lint", "--format", "text", cwd=two_heads)
    assert quiet.returncode == 1 and "multiple-heads" in quiet.stdout
    assert "error(s)" not in quiet.stdout  # no counts line
    (tmp_path / "clean").mkdir()
    clean = make_repo(
        tmp_path / "clean",
        {
            "alembic.ini": "[alembic]\nscript_location = %(here)s/migrations\n",
            "migrations/versions/a1.py": rf("a1", None),
        },
    ).path
    normal = omc("migrations", "lint", "--format", "text", cwd=clean)
    assert normal.returncode == 0 and normal.stdout.startswith("✓ migrations lint:")
    silent = omc("--quiet", "migrations", "lint", "--format", "text", cwd=clean)
    assert (silent.returncode, silent.stdout, silent.stderr) == (0, "", "")
    verbose = omc("-v", "migrations", "lint", cwd=two_heads)
    assert CONCISE_LINE.match(verbose.stdout) and "(fix: alembic merge" in verbose.stdout
    assert "(fix:" not in omc("migrations", "lint", cwd=two_heads).stdout
    both = omc("-q", "-v", "migrations", "lint", cwd=two_heads)
    assert both.returncode == 2 and both.stderr.count("\n") == 1 and "contradict" in both.stderr


def test_verbose_shows_the_commands_omc_dev_starts(two_heads: Path) -> None:
    proc = omc("-v", "migrations", "lint", "--base", "HEAD", cwd=two_heads)
    assert "omc-dev: $ git " in proc.stderr, proc.stderr
    assert "omc-dev: $" not in omc("migrations", "lint", "--base", "HEAD", cwd=two_heads).stderr


def test_down_v_keeps_meaning_volumes() -> None:
    """-v before the command is verbose; after `down` it is compose's --volumes."""
    opts = {path: [p.opts for p in command.params] for path, command in command_tree()}
    assert ["-v", "--verbose"] in opts[""] and ["-q", "--quiet"] in opts[""]
    assert any("-v" in o and "--volumes" in o for o in opts["down"])
    help_text = omc("--help").stdout
    assert "`omc-dev down -v` is compose's --volumes" in " ".join(help_text.split())
