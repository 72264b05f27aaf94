"""Inside a container `omc-dev run` execs the command in place: no engine involved."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.cli import omc

INSIDE = {"OMC_IN_CONTAINER": "1", "DOCKER_HOST": "unix:///nonexistent.sock"}


def test_runs_in_place_with_workdir_env_argv_and_exit_code(tmp_path: Path) -> None:
    script = (
        'pwd; echo "$GREETING"; test -n "$OMC_RUN_ID" && echo has-id; printf "%s|" "$@"; exit 5'
    )
    proc = omc(
        "run", "-w", str(tmp_path), "-e", "GREETING=hi there", "--",
        "sh", "-c", script, "sh", "a b", "$x", "*",
        env=INSIDE,
    )  # fmt: skip
    assert proc.returncode == 5, proc.stderr
    assert proc.stdout.splitlines() == [str(tmp_path), "hi there", "has-id", "a b|$x|*|"]


def test_a_missing_command_is_127_in_one_line() -> None:
    proc = omc("run", "--", "no-such-command-here", env=INSIDE)
    assert proc.returncode == 127
    assert proc.stderr == "omc-dev: cannot run no-such-command-here: command not found\n"


def test_a_missing_workdir_is_unusable_input() -> None:
    proc = omc("run", "-w", "/no/such/dir", "--", "true", env=INSIDE)
    assert proc.returncode == 2 and "-w /no/such/dir" in proc.stderr


def test_a_container_that_is_not_the_stacks_says_so_in_one_line() -> None:
    # No marker: some other container (or a host with a stray /.dockerenv). Run, but say why.
    env = {"OMC_IN_CONTAINER": "", "container": "podman", "DOCKER_HOST": "unix:///nonexistent.sock"}
    proc = omc("run", "--", "sh", "-c", "echo ran", env=env)
    assert proc.returncode == 0 and proc.stdout == "ran\n"
    assert proc.stderr == (
        "omc-dev: running here, not in the stack: container=podman says this is a container "
        "(set OMC_IN_CONTAINER=0 if this is the host)\n"
    )
