"""chown and clean against a real engine, run as the non-root test user in the docker group.

Containers really write root-owned files into bind mounts here; the user really cannot delete
them until omc-dev gives them back.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fixtures.docker import ComposeStack
from tests.fixtures.tiers import BASE_IMAGE
from tests.fixtures.userenv import UserEnv, user_tempdir

TEST_LABEL = "dev.omc.test=ownership"


def container_writes(tree: Path, script: str) -> None:
    """A root container writes into `tree` through a bind mount, as a generator would."""
    subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--label",
            TEST_LABEL,
            "--network",
            "none",
            "-v",
            f"{tree}:/w",
            BASE_IMAGE,
            "sh",
            "-c",
            script,
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def give_to(path: Path, env: UserEnv) -> None:
    """Setup only: what root wrote for the test becomes the user's."""
    for p in (path, *path.rglob("*")):
        if os.lstat(p).st_uid == 0:
            os.chown(p, env.user.uid, env.user.gid, follow_symlinks=False)


def owners(tree: Path) -> set[int]:
    return {os.lstat(p).st_uid for p in (tree, *tree.rglob("*")) if ".git" not in p.parts}


def checked(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, f"{proc.args}: {proc.stderr}"
    return proc.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def user_base(as_test_user: UserEnv) -> Iterator[Path]:
    base = user_tempdir(as_test_user.user, prefix="omc-own-")
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def make_user_repo(env: UserEnv, base: Path, files: dict[str, str]) -> Path:
    main = base / "main"
    checked(env.run(["git", "init", "-q", "-b", "main", str(main)], base))
    for rel, text in files.items():
        (main / rel).parent.mkdir(parents=True, exist_ok=True)
        (main / rel).write_text(text)
    give_to(main, env)
    checked(env.run(["git", "add", "--all"], main))
    checked(env.run(["git", "commit", "-q", "-m", "initial"], main))
    return main


def tracked_files_intact(env: UserEnv, repo: Path) -> None:
    listed = checked(env.run(["git", "ls-files", "-z"], repo)).split("\0")
    assert all((repo / rel).is_file() for rel in listed if rel), listed
    assert checked(env.run(["git", "status", "--porcelain", "--untracked-files=no"], repo)) == ""


def no_helper_left(tree: Path) -> None:
    left = subprocess.run(
        [
            "docker",
            "ps",
            "-aq",
            "--filter",
            "label=dev.omc.helper=ownership",
            "--filter",
            f"label=dev.omc.tree={tree}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert left.stdout.strip() == ""


def test_chown_gives_root_files_back_and_then_the_user_can_delete_them(
    as_test_user: UserEnv, user_base: Path
) -> None:
    env = as_test_user
    repo = make_user_repo(env, user_base, {"src/app.py": "print()\n"})
    container_writes(
        repo,
        "mkdir -p /w/gen/deep/deeper && echo x > /w/gen/deep/f && echo y > /w/gen/deep/deeper/g"
        " && chmod 700 /w/gen/deep /w/gen/deep/deeper && echo r > /w/report.txt",
    )
    denied = env.run(["rm", "-rf", "gen"], repo)
    assert denied.returncode != 0 and "Permission denied" in denied.stderr
    assert (repo / "gen").exists()

    no_engine = env.omc("chown", cwd=repo, env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    assert no_engine.returncode == 125
    assert no_engine.stderr.count("\n") == 1 and "run omc-dev as root" in no_engine.stderr

    dry = env.omc("chown", "--dry-run", cwd=repo)
    assert dry.returncode == 0, dry.stderr
    assert (
        "would give 3 entries back" in dry.stdout and "gen/deep/ cannot be read yet" in dry.stdout
    )
    assert 0 in owners(repo)

    proc = env.omc("chown", "--format", "json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["method"] == "container"
    assert doc["developer"] == f"{env.user.uid}:{env.user.gid}"
    # Folders it could not read at first are listed once they are the user's: all 6 reported.
    assert {os.path.relpath(c["path"], repo) for c in doc["changed"]} == {
        "gen",
        "gen/deep",
        "gen/deep/f",
        "gen/deep/deeper",
        "gen/deep/deeper/g",
        "report.txt",
    }
    assert all(c["was"] == "0:0" for c in doc["changed"])
    assert owners(repo) == {env.user.uid}
    no_helper_left(repo)

    checked(env.run(["rm", "-rf", "gen"], repo))
    assert not (repo / "gen").exists()
    assert env.omc("chown", cwd=repo).stdout.startswith("✓ nothing under")


def test_a_symlink_to_outside_is_changed_itself_and_its_target_keeps_its_owner(
    as_test_user: UserEnv, user_base: Path
) -> None:
    env = as_test_user
    repo = make_user_repo(env, user_base, {"README.md": "x\n"})
    outside = Path(tempfile.mkdtemp(prefix="omc-outside-"))
    try:
        outside.chmod(0o755)
        (outside / "secret").write_text("the test's own file\n")
        (outside / "dir").mkdir()
        (outside / "dir" / "inner").write_text("also the test's\n")
        container_writes(
            repo,
            f"ln -s {outside}/secret /w/link-file && ln -s {outside}/dir /w/link-dir"
            " && mkdir /w/out && ln -s ../README.md /w/out/readme-link",
        )
        before = {
            p: os.stat(p) for p in (outside / "secret", outside / "dir", outside / "dir/inner")
        }

        one = env.omc("chown", "link-file", "--format", "json", cwd=repo)
        assert one.returncode == 0, one.stderr
        assert [c["path"] for c in json.loads(one.stdout)["changed"]] == [str(repo / "link-file")]
        assert os.lstat(repo / "link-file").st_uid == env.user.uid
        assert os.lstat(repo / "link-dir").st_uid == 0  # not named: untouched

        whole = env.omc("chown", "--format", "json", cwd=repo)
        assert whole.returncode == 0, whole.stderr
        changed = {os.path.relpath(c["path"], repo) for c in json.loads(whole.stdout)["changed"]}
        assert changed == {"link-dir", "out", "out/readme-link"}
        assert owners(repo) == {env.user.uid}
        for path, st in before.items():
            now = os.stat(path)
            assert (now.st_uid, now.st_gid, now.st_ctime_ns) == (
                st.st_uid,
                st.st_gid,
                st.st_ctime_ns,
            )

        for outside_arg in (str(outside), "link-dir/inner"):
            refused = env.omc("chown", outside_arg, cwd=repo)
            assert refused.returncode == 2
            assert refused.stderr.count("\n") == 1 and "outside the worktree" in refused.stderr
    finally:
        shutil.rmtree(outside)


def test_a_hard_link_to_a_file_outside_the_tree_is_left_alone_by_the_helper_container(
    as_test_user: UserEnv, user_base: Path
) -> None:
    env = as_test_user
    repo = make_user_repo(env, user_base, {"README.md": "x\n"})
    outside = user_base / "outside-secret"  # same filesystem as the worktree, outside it
    outside.write_text("root's own file\n")
    outside.chmod(0o644)
    os.link(outside, repo / "innocent.txt")  # a root container could do exactly this
    container_writes(repo, "echo r > /w/report.txt")
    before = os.stat(outside)

    proc = env.omc("chown", "--format", "json", cwd=repo)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # something is still not yours
    doc = json.loads(proc.stdout)
    assert doc["method"] == "container"
    assert [c["path"] for c in doc["changed"]] == [str(repo / "report.txt")]
    assert [h["path"] for h in doc["hard_links"]] == [str(repo / "innocent.txt")]
    assert "2 hard links" in doc["hard_links"][0]["reason"]
    now = os.stat(outside)
    assert (now.st_uid, now.st_gid, now.st_ctime_ns) == (0, 0, before.st_ctime_ns)
    assert os.lstat(repo / "report.txt").st_uid == env.user.uid
    no_helper_left(repo)


COMPOSE = """\
services:
  gen:
    image: debian:bookworm-slim
    init: true
    volumes: [".:/w", "cache:/cache"]
    command: ["sh", "-c", "{script} && touch /w/.written && sleep infinity"]
volumes:
  cache:
"""


def _pyproject(project: str, extra: str = "") -> str:
    return f'[tool.omc-dev]\nproject = "{project}"\n{extra}'


def _up(stack: ComposeStack, marker: Path) -> None:
    stack.compose("up", "--detach")
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert time.monotonic() < deadline, "the generator container did not write its files"
        time.sleep(0.2)


def _project_resources(project: str) -> dict[str, list[str]]:
    def names(kind: str) -> list[str]:
        argv = ["docker", kind, "ls", "-q"] if kind != "container" else ["docker", "ps", "-aq"]
        out = subprocess.run(
            [*argv, "--filter", f"label=com.docker.compose.project={project}"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.split()

    return {kind: names(kind) for kind in ("container", "network", "volume")}


def test_tracked_files_survive_every_clean_and_the_plan_needs_yes(
    as_test_user: UserEnv, user_base: Path, compose_stack: Callable[..., ComposeStack]
) -> None:
    env = as_test_user
    name = f"omc6t{uuid.uuid4().hex[:8]}"
    project = f"{name}-main"
    script = (
        "mkdir -p /w/src/__pycache__ /w/generated && echo b > /w/src/__pycache__/app.pyc"
        " && echo c > /w/generated/client.py && chmod 700 /w/src/__pycache__"
    )
    repo = make_user_repo(
        env,
        user_base,
        {
            "pyproject.toml": _pyproject(
                name, '[tool.omc-dev.clean]\nartifacts = ["__pycache__", "*.pyc", "generated"]\n'
            ),
            "compose.yaml": COMPOSE.format(script=script),
            ".gitignore": ".written\n",
            "src/app.py": "print()\n",
            "generated/README.md": "tracked, in a folder that matches a glob\n",
            "lib/legacy.pyc": "tracked, matching a glob\n",
        },
    )
    stack = compose_stack(repo, "compose.yaml", project=project)
    _up(stack, repo / ".written")

    # No --yes and no terminal: the plan, exit 2, nothing touched.
    plan_only = env.omc("clean", cwd=repo)
    assert plan_only.returncode == 2, plan_only.stderr
    assert plan_only.stderr.count("\n") == 1 and "--yes" in plan_only.stderr
    assert f"stop and remove the containers and networks of project {project}" in plan_only.stdout
    assert "src/__pycache__/ (not yours: through the helper container)" in plan_only.stdout
    assert "kept generated: holds tracked files" in plan_only.stdout
    assert "kept lib/legacy.pyc: tracked by git" in plan_only.stdout
    assert _project_resources(project)["container"] and (repo / "src/__pycache__").exists()

    artifacts = env.omc("clean", "--artifacts", "--yes", cwd=repo)
    assert artifacts.returncode == 0, artifacts.stdout + artifacts.stderr
    assert "✓ removed src/__pycache__/ (through the helper container)" in artifacts.stdout
    assert not (repo / "src/__pycache__").exists()
    assert (repo / "generated/client.py").exists()  # in a folder that holds tracked files
    tracked_files_intact(env, repo)

    default = env.omc("clean", "--yes", "--format", "json", cwd=repo)
    assert default.returncode == 0, default.stderr
    doc = json.loads(default.stdout)
    assert [r["id"] for r in doc["results"]] == ["containers"]
    assert any(f"volumes kept: {project}_cache" in n for n in doc["notes"])
    left = _project_resources(project)
    assert (left["container"], left["network"], len(left["volume"])) == ([], [], 1)
    tracked_files_intact(env, repo)

    _up(stack, repo / ".written")
    volumes = env.omc("clean", "--volumes", "--yes", "--format", "json", cwd=repo)
    assert volumes.returncode == 0, volumes.stderr
    done = json.loads(volumes.stdout)["results"][0]["done"]
    assert f"removed volume {project}_cache" in done
    assert _project_resources(project) == {"container": [], "network": [], "volume": []}
    tracked_files_intact(env, repo)

    nothing = env.omc("clean", "--containers", "--yes", cwd=repo)
    assert nothing.returncode == 0 and "nothing to clean" in nothing.stdout
    tracked_files_intact(env, repo)


def test_clean_worktree_removes_a_worktree_full_of_root_files_and_leaves_no_orphan(
    as_test_user: UserEnv, user_base: Path, compose_stack: Callable[..., ComposeStack]
) -> None:
    env = as_test_user
    name = f"omc6w{uuid.uuid4().hex[:8]}"
    project = f"{name}-feature"
    script = (
        "mkdir -p /w/out/deep/deeper /w/node_modules/pkg /w/ro && echo x > /w/out/deep/f"
        " && echo y > /w/out/deep/deeper/g && chmod 700 /w/out/deep /w/out/deep/deeper"
        " && echo z > /w/node_modules/pkg/index.js && touch /w/ro/f && chmod 555 /w/ro"
        " && ln -s /etc/passwd /w/out/link"
    )
    main = make_user_repo(
        env,
        user_base,
        {
            "pyproject.toml": _pyproject(name),
            "compose.yaml": COMPOSE.format(script=script),
            "src/app.py": "print()\n",
        },
    )
    worktree = user_base / "wt"
    checked(env.run(["git", "worktree", "add", "-q", "-b", "feature", str(worktree)], main))
    stack = compose_stack(worktree, "compose.yaml", project=project)
    _up(stack, worktree / ".written")
    # Exactly the trap: git itself cannot delete this (and would stop half-way).
    assert env.run(["rm", "-rf", "out"], worktree).returncode != 0

    plan_only = env.omc("clean", "--worktree", cwd=worktree)
    assert plan_only.returncode == 2
    assert "remove the worktree" in plan_only.stdout and worktree.is_dir()
    assert _project_resources(project)["container"]

    proc = env.omc("clean", "--worktree", "--yes", "--format", "json", cwd=worktree)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = {r["id"]: r for r in json.loads(proc.stdout)["results"]}
    assert list(results) == ["containers", "ownership", "worktree"]
    assert all(r["status"] == "ok" for r in results.values()), results
    assert "made ro writable for its owner" in results["ownership"]["done"]

    assert not worktree.exists()
    listed = checked(env.run(["git", "worktree", "list", "--porcelain"], main))
    assert str(worktree) not in listed
    assert not (main / ".git" / "worktrees").exists() or not any(
        (main / ".git" / "worktrees").iterdir()
    )
    assert _project_resources(project)["container"] == []
    # The branch and its tracked files live on in the repository.
    assert "src/app.py" in checked(
        env.run(["git", "ls-tree", "-r", "--name-only", "feature"], main)
    )
    tracked_files_intact(env, main)
    no_helper_left(worktree)


def test_clean_worktree_refuses_the_main_worktree_and_uncommitted_work(
    as_test_user: UserEnv, user_base: Path
) -> None:
    env = as_test_user
    main = make_user_repo(
        env,
        user_base,
        {"pyproject.toml": _pyproject(f"omc6r{uuid.uuid4().hex[:8]}"), "src/app.py": "1\n"},
    )
    refused = env.omc("clean", "--worktree", "--yes", cwd=main)
    assert refused.returncode == 2 and "main worktree" in refused.stderr
    assert refused.stderr.count("\n") == 1

    worktree = user_base / "wt"
    checked(env.run(["git", "worktree", "add", "-q", "-b", "feature", str(worktree)], main))
    (worktree / "src" / "app.py").write_text("2\n")
    (worktree / "notes.md").write_text("the developer's own, never added\n")
    give_to(worktree, env)
    container_writes(worktree, "mkdir /w/out && echo x > /w/out/generated.txt")
    refused = env.omc("clean", "--worktree", "--yes", cwd=worktree)
    assert refused.returncode == 2
    assert "not committed: src/app.py, notes.md:" in refused.stderr  # root's out/ may go
    assert (worktree / "src" / "app.py").read_text() == "2\n"
    assert (worktree / "out" / "generated.txt").exists()


def test_clean_worktree_stops_before_git_when_a_closed_folder_held_a_nested_repository(
    as_test_user: UserEnv, user_base: Path
) -> None:
    env = as_test_user
    main = make_user_repo(
        env,
        user_base,
        {
            "pyproject.toml": _pyproject(f"omc6n{uuid.uuid4().hex[:8]}"),
            "compose.yaml": "services:\n  app:\n    image: debian:bookworm-slim\n",
            "src/app.py": "1\n",
        },
    )
    worktree = user_base / "wt"
    checked(env.run(["git", "worktree", "add", "-q", "-b", "feature", str(worktree)], main))
    # A container cloned something into a folder the user cannot even list.
    container_writes(
        worktree,
        "mkdir -p /w/out/clone/.git && echo 'ref: refs/heads/main' > /w/out/clone/.git/HEAD"
        " && echo precious > /w/out/clone/notes.md && chmod 700 /w/out",
    )
    proc = env.omc("clean", "--worktree", "--yes", "--format", "json", cwd=worktree)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    results = {r["id"]: r for r in json.loads(proc.stdout)["results"]}
    assert results["ownership"]["status"] == "failed"
    assert any(
        "holds a nested git repository at out/clone" in f for f in results["ownership"]["failed"]
    )
    assert results["worktree"]["status"] == "not-run"
    assert (worktree / "out" / "clone" / "notes.md").read_text() == "precious\n"
    no_helper_left(worktree)


def test_clean_removes_stale_containers_of_this_repo_holding_its_ports_and_no_others(
    as_test_user: UserEnv, user_base: Path
) -> None:
    env = as_test_user
    name = f"omc6s{uuid.uuid4().hex[:8]}"
    ours, theirs = free_port(), free_port()
    compose = (
        "services:\n  web:\n    image: debian:bookworm-slim\n"
        f'    ports: ["127.0.0.1:{ours}:8000", "127.0.0.1:{theirs}:8001"]\n'
    )
    repo = make_user_repo(
        env, user_base, {"pyproject.toml": _pyproject(name), "compose.yaml": compose}
    )
    stale, foreign = f"{name}-stale", f"omc6foreign-{uuid.uuid4().hex[:8]}"
    for container, project, port in (
        (stale, f"{name}-oldtrack", ours),
        (foreign, f"{foreign}-x", theirs),
    ):
        subprocess.run(
            [
                "docker",
                "run",
                "-d",
                "--init",
                "--name",
                container,
                "--label",
                TEST_LABEL,
                "--label",
                f"com.docker.compose.project={project}",
                "-p",
                f"127.0.0.1:{port}:8000",
                BASE_IMAGE,
                "sleep",
                "infinity",
            ],
            check=True,
            capture_output=True,
        )
    try:
        proc = env.omc("clean", "--containers", "--yes", "--format", "json", cwd=repo)
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        assert doc["results"] == [
            {
                "id": "stale-containers",
                "status": "ok",
                "done": [f"removed container {stale}, freeing {ours}"],
                "failed": [],
            }
        ]
        assert any(foreign in note and "left alone" in note for note in doc["notes"])
        running = subprocess.run(
            ["docker", "ps", "-a", "--format", "{{.Names}}", "--filter", f"name={name}-stale"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert running.stdout.strip() == ""
        alive = subprocess.run(
            ["docker", "inspect", "-f", "{{.State.Running}}", foreign],
            capture_output=True,
            text=True,
            check=False,
        )
        assert alive.stdout.strip() == "true"
    finally:
        subprocess.run(["docker", "rm", "-f", stale, foreign], capture_output=True, check=False)


def test_run_fix_ownership_gives_back_only_what_the_command_wrote(
    as_test_user: UserEnv, user_base: Path, compose_stack: Callable[..., ComposeStack]
) -> None:
    env = as_test_user
    name = f"omc6f{uuid.uuid4().hex[:8]}"
    compose = (
        "services:\n  app:\n    image: debian:bookworm-slim\n    init: true\n"
        '    command: ["sleep", "infinity"]\n    working_dir: /w\n    volumes: [".:/w"]\n'
    )
    repo = make_user_repo(
        env,
        user_base,
        {
            "pyproject.toml": _pyproject(
                name, '[tool.omc-dev.run]\nservice = "app"\nfix-ownership = ["touch"]\n'
            ),
            "compose.yaml": compose,
        },
    )
    stack = compose_stack(repo, "compose.yaml", project=f"{name}-main")
    stack.compose("up", "--detach", "--wait")
    run_env = {"OMC_IN_CONTAINER": "0", "XDG_CACHE_HOME": str(user_base / "cache")}

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return env.omc("run", *args, cwd=repo, env={**run_env, **extra})

    # A configured generator (full path: no cache yet): what it wrote is the user's.
    generated = run("--", "touch", "gen.txt", OMC_RUN_CACHE="0")
    assert generated.returncode == 0, generated.stderr
    assert "gave 1 entries the command created or changed back" in generated.stderr
    assert os.lstat(repo / "gen.txt").st_uid == env.user.uid

    # Not configured: left as the container wrote it.
    plain = run("--", "mkdir", "plain")
    assert plain.returncode == 0 and plain.stderr == ""
    assert os.lstat(repo / "plain").st_uid == 0

    # Asked for on the command line; the command's exit code stands; older root files stay.
    script = "mkdir -p out/deep && echo x > out/deep/f && chmod 700 out/deep; exit 3"
    asked = run("--fix-ownership", "--", "sh", "-c", script)
    assert asked.returncode == 3, asked.stderr
    assert "gave 3 entries" in asked.stderr
    assert {os.lstat(repo / p).st_uid for p in ("out", "out/deep", "out/deep/f")} == {env.user.uid}
    assert os.lstat(repo / "plain").st_uid == 0  # it existed before this command started

    refused = run("--no-fix-ownership", "--", "touch", "root.txt")
    assert refused.returncode == 0 and os.lstat(repo / "root.txt").st_uid == 0

    as_host = run("--user", "host", "--", "touch", "host.txt")
    assert as_host.returncode == 0 and as_host.stderr == ""  # already the user's: nothing to do
    assert os.lstat(repo / "host.txt").st_uid == env.user.uid
