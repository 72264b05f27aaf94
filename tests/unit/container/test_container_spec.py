from __future__ import annotations

import os

import pytest

from devtools.container.request import RunRequest
from devtools.container.spec import (
    RUN_ID,
    ServiceInfo,
    build_spec,
    container_workdir,
    environment,
    resolve_user,
    translate_args,
)
from devtools.developer import developer_ids
from devtools.errors import UnusableInput

MOUNTS = (("/repo/tests", "/app/tests"), ("/repo/kernel", "/app/kernel"), ("/data", "/srv/data"))
INFO = ServiceInfo("backend", "c0ffee", MOUNTS, working_dir="/app", default_user=None)
HOST_FILES = {
    "/repo",
    "/repo/tests",
    "/repo/tests/unit",
    "/repo/tests/unit/test_x.py",
    "/repo/kernel/guard.py",
    "/repo/README.md",
    "/data/in.csv",
}


def exists(path: str) -> bool:
    return path in HOST_FILES


def tr(argv: list[str], cwd: str, workdir: str | None) -> list[str]:
    return translate_args(argv, cwd, workdir, MOUNTS, exists=exists)


def test_relative_paths_that_still_resolve_are_untouched() -> None:
    argv = ["pytest", "unit/test_x.py", "../kernel/guard.py"]
    assert tr(argv, "/repo/tests", "/app/tests") == argv


def test_paths_are_rewritten_where_the_container_would_miss_them() -> None:
    # From the repo root (not itself mounted) the container starts in /app.
    assert tr(["pytest", "tests/unit/test_x.py"], "/repo", "/app") == [
        "pytest",
        "tests/unit/test_x.py",  # /app/tests/unit/test_x.py: the same file
    ]
    assert tr(["cat", "/data/in.csv", "/repo/kernel/guard.py"], "/repo", "/app") == [
        "cat",
        "/srv/data/in.csv",
        "/app/kernel/guard.py",
    ]
    assert tr(["cat", "../data/in.csv"], "/repo", "/app") == ["cat", "/srv/data/in.csv"]


def test_pytest_node_ids_are_translated_like_paths() -> None:
    # From backend/-like folders: the host path part moves, the node part stays as written.
    assert tr(["pytest", "/repo/tests/unit/test_x.py::test_y[a-b::c]"], "/repo", "/app") == [
        "pytest",
        "/app/tests/unit/test_x.py::test_y[a-b::c]",
    ]
    assert tr(["pytest", "../../data/in.csv::TestZ::test_q"], "/repo/tests", "/app/tests") == [
        "pytest",
        "/srv/data/in.csv::TestZ::test_q",
    ]
    # A node id that already means the same file from the workdir stays as it is.
    argv = ["pytest", "unit/test_x.py::test_y"]
    assert tr(argv, "/repo/tests", "/app/tests") == argv
    # No such host file, or nothing before "::": passed through.
    assert tr(["pytest", "nosuch.py::t", "::t"], "/repo", "/app") == [
        "pytest",
        "nosuch.py::t",
        "::t",
    ]


def test_options_words_and_missing_or_unmounted_paths_pass_through() -> None:
    argv = ["pytest", "--cov=kernel", "-k", "a b", "$HOME", "*", "README.md", "nosuch.py", ""]
    assert tr(argv, "/repo", "/app") == argv


def test_the_command_is_a_path_only_with_a_slash() -> None:
    assert tr(["tests", "x"], "/repo", "/app") == ["tests", "x"]
    assert tr(["/repo/tests/unit/test_x.py"], "/repo", "/app") == ["/app/tests/unit/test_x.py"]


def test_workdir_translation_and_fallbacks() -> None:
    isdir = {"/repo", "/repo/tests", "/repo/tests/unit", "/tmp"}.__contains__
    assert container_workdir(None, "/repo/tests/unit", INFO, isdir) == "/app/tests/unit"
    assert container_workdir(None, "/repo", INFO, isdir) == "/app"  # the service's own
    assert container_workdir("unit", "/repo/tests", INFO, isdir) == "/app/tests/unit"
    assert container_workdir("/opt", "/repo", INFO, isdir) == "/opt"  # a container path
    assert container_workdir("/tmp", "/repo", INFO, isdir) == "/tmp"
    with pytest.raises(UnusableInput, match="-w relative"):
        container_workdir("relative", "/repo", INFO, isdir)


def test_user_forms() -> None:
    uid, gid = developer_ids({})
    assert resolve_user("host", {}) == f"{uid}:{gid}"
    assert resolve_user("root") == "0:0"
    assert resolve_user("1000") == "1000"
    assert resolve_user("1000:100") == "1000:100"
    assert resolve_user(None) is None
    for bad in ("alice", "1000:", ":1", "-1", "1000:1:1"):
        with pytest.raises(UnusableInput, match="use host, root, UID or UID:GID"):
            resolve_user(bad)


def test_host_user_under_sudo_is_the_invoking_user() -> None:
    sudo = {"SUDO_UID": "1234", "SUDO_GID": "99"}
    expected = (1234, 99) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    assert developer_ids(sudo) == expected


def test_host_user_under_sudo_without_gid_takes_the_primary_group(test_user) -> None:
    # `chown` and `run --user host` must agree on who the developer is in every sudo shape.
    from devtools.ownership.developer import current

    sudo = {"SUDO_UID": str(test_user.uid)}
    expected = (test_user.uid, test_user.gid) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    assert developer_ids(sudo) == expected
    assert resolve_user("host", sudo) == "{}:{}".format(*expected)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("SUDO_GID", raising=False)
        mp.setenv("SUDO_UID", str(test_user.uid))
        assert (current().uid, current().gid) == expected


def test_environment_pairs() -> None:
    host = {"FROM_HOST": "h v"}
    assert environment(["A=1", "B=", "C=x=y", "FROM_HOST", "UNSET"], host) == [
        "A=1",
        "B=",
        "C=x=y",
        "FROM_HOST=h v",
    ]
    with pytest.raises(UnusableInput):
        environment(["=x"], host)


def test_spec_carries_everything_the_exec_needs() -> None:
    request = RunRequest(["pytest", "-q", "unit"], user="root", env=["A=1"])
    info = ServiceInfo("backend", "c0ffee", MOUNTS, "/app", default_user="host")
    spec = build_spec(request, info, host_cwd="/repo/tests", environ={}, tty=False, run_id="42")
    config = spec.exec_config()
    assert config["Cmd"] == ["pytest", "-q", "unit"]
    assert config["User"] == "0:0"  # the flag beats the configured default
    assert config["WorkingDir"] == "/app/tests"
    assert config["Env"] == ["A=1", f"{RUN_ID}=42"]
    assert (config["Tty"], config["AttachStdin"]) == (False, True)
    default = build_spec(RunRequest(["id"]), info, host_cwd="/", environ={}, tty=True, run_id="1")
    assert default.user == "{}:{}".format(*developer_ids({}))
    assert default.workdir == "/app"


def test_argv_that_is_not_utf8_is_refused_not_mangled() -> None:
    bad = b"caf\xe9".decode("utf-8", "surrogateescape")
    with pytest.raises(UnusableInput, match="not valid UTF-8"):
        build_spec(RunRequest(["echo", bad]), INFO, host_cwd="/", environ={}, tty=False, run_id="1")
