"""Batched git access (`devtools.git`) and verify's GitPython model, against real repositories."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from git.exc import GitCommandError

from devtools.errors import UnusableInput
from devtools.git import history, runner
from devtools.git import refs as git_refs
from devtools.git.errors import GitFailed
from devtools.git.history import FileChange
from devtools.git.objects import ObjectReader
from devtools.git.runner import Git, non_interactive_env
from devtools.verify.gitmodel import LocalRepo
from tests.fixtures.git import GitRepo, clone, git_env, make_repo
from tests.fixtures.webhook import Reply, WebhookServer


def test_environment_cannot_prompt() -> None:
    env = non_interactive_env({"SSH_ASKPASS": "/usr/bin/ksshaskpass", "PATH": "/bin"})
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert env["GIT_ASKPASS"] == ""
    assert "SSH_ASKPASS" not in env and env["SSH_ASKPASS_REQUIRE"] == "never"
    assert env["GIT_SSH_COMMAND"] == "ssh -o BatchMode=yes -o ConnectTimeout=30"
    # the user's ssh command is kept, with batch mode added
    kept = non_interactive_env({"GIT_SSH_COMMAND": "ssh -i key"})["GIT_SSH_COMMAND"]
    assert kept.startswith("ssh -i key -o BatchMode=yes")
    assert non_interactive_env({}, "ssh -F cfg")["GIT_SSH_COMMAND"].startswith("ssh -F cfg ")
    # GIT_SSH names a program that takes no options: leave it alone
    assert "GIT_SSH_COMMAND" not in non_interactive_env({"GIT_SSH": "/usr/bin/plink"})


def test_diff_range_reports_every_kind_of_change(git_repo: GitRepo) -> None:
    git_repo.commit(
        {"keep.txt": "a\nb\n", "old name.txt": "x\n" * 20, "gone.txt": "1\n2\n3\n"}, "base"
    )
    git_repo.branch("feature")
    git_repo.git("mv", "old name.txt", "new näme.txt")
    git_repo.git("rm", "--quiet", "gone.txt")
    git_repo.commit(
        {"keep.txt": "a\nB\nc\n", "img.png": b"\x89PNG\x00\x01\x02", "dir/new.py": "x = 1\n"},
        "change",
    )
    git = Git(git_repo.path, git_env())
    changes = {c.path: c for c in history.diff_range(git, "main", "feature").result()}
    assert changes["keep.txt"].status == "M"
    assert (changes["keep.txt"].insertions, changes["keep.txt"].deletions) == (2, 1)
    assert changes["gone.txt"].status == "D" and changes["gone.txt"].new_blob is None
    assert changes["gone.txt"].blob == changes["gone.txt"].old_blob
    assert changes["gone.txt"].deletions == 3
    renamed = changes["new näme.txt"]
    assert (renamed.status, renamed.old_path, renamed.insertions) == ("R", "old name.txt", 0)
    assert changes["img.png"].binary and changes["img.png"].insertions == 0
    assert changes["dir/new.py"] == FileChange(
        "dir/new.py",
        "A",
        1,
        0,
        False,
        None,
        None,
        git_repo.git("rev-parse", "feature:dir/new.py"),
    )
    assert git.spawned == 1  # one diff for all of it


def test_object_reader_streams_thousands_of_blobs_through_one_process(git_repo: GitRepo) -> None:
    files = {f"f/{i:04}.txt": f"{i}\n" * 300 for i in range(2000)}  # ~2 MB out, ~60 kB in
    sha = git_repo.commit(files, "many")
    git = Git(git_repo.path, git_env())
    names = [f"{sha}:{path}" for path in files]
    names += [f"{sha}:missing.txt", f"{sha}:f", "bad\nname"]
    with ObjectReader(git) as objects:
        found = objects.read(names)
        again = objects.blobs([f"{sha}:f/0007.txt"])
    assert [obj.data if obj else None for obj in found[:2000]] == [
        content.encode() for content in files.values()
    ]
    assert found[2000] is None and found[2002] is None
    tree = found[2001]
    assert tree is not None and tree.type == "tree"
    assert again == [b"7\n" * 300]
    assert git.spawned == 1


def test_refs_history_and_drift_lookups(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    base = repo.git("rev-parse", "HEAD")
    repo.branch("feature")
    mine = repo.commit({"a.txt": "a\n"}, "feature work")
    repo.push("feature")
    repo.git("checkout", "--quiet", "main")
    theirs = repo.commit({"b.txt": "b\n"}, "main work")
    repo.push()
    repo.git("checkout", "--quiet", "feature")
    repo.git("merge", "--quiet", "--no-edit", "main")
    merge = repo.git("rev-parse", "HEAD")
    git = Git(repo.path, git_env())
    local = LocalRepo(repo.path, git, ObjectReader(git))
    assert (local.branch, local.head, local.shallow) == ("feature", merge, False)
    assert local.remotes == {"origin": str(repo.origin)}

    server = git_refs.ls_remote(git, "origin").result()
    assert server.heads == {"main": theirs, "feature": mine}
    assert server.default_branch == "main"
    refs = git_refs.local_refs(git, "origin").result()
    assert refs.heads == {"main": theirs, "feature": merge}
    assert refs.tracking == {"main": theirs, "feature": mine}
    assert refs.current == "feature"

    # the merge brought main's commit in: first-parent history is the branch's own work
    first_parent = history.commits_between(git, merge, [mine], first_parent=True)
    assert first_parent == [merge]
    everything = history.commits_between(git, merge, [mine, "f" * 40], first_parent=False)
    assert set(everything) == {merge, theirs}
    assert history.remote_branches_containing(
        git, [theirs, merge, base], "origin", exclude_branch="feature"
    ) == {theirs: "origin/main", base: "origin/main"}
    assert history.commit_adding(git, theirs, "b.txt") == theirs
    # GitPython's commit objects, read through verify's one cat-file process
    spawned = git.spawned
    [commit] = local.commits([theirs])
    assert (commit.hexsha, commit.summary, commit.parents[0].hexsha) == (theirs, "main work", base)
    assert commit.author.name == git_env()["GIT_AUTHOR_NAME"]
    assert git.spawned == spawned
    assert history.is_ancestor(git, base, merge) and not history.is_ancestor(git, merge, base)
    assert set(history.list_files(git, merge)) == {"README.md", "a.txt", "b.txt"}


def test_open_repo_in_a_linked_worktree_with_a_detached_head(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    linked = tmp_path / "linked"
    git_repo.git("worktree", "add", "--quiet", "--detach", str(linked))
    (linked / "deep" / "er").mkdir(parents=True)
    git_repo.git("config", "core.sshCommand", "ssh -i /keys/work")
    git = Git(linked / "deep" / "er", git_env())
    repo = LocalRepo(git.cwd, git, ObjectReader(git))
    assert repo.ssh_command == "ssh -i /keys/work"
    assert git.env["GIT_SSH_COMMAND"] == "ssh -i /keys/work -o BatchMode=yes -o ConnectTimeout=30"
    assert repo.root == linked.resolve()
    assert repo.branch is None and repo.head == git_repo.git("rev-parse", "HEAD")
    assert "origin" in repo.remotes


def test_a_remote_that_never_answers_times_out(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = WebhookServer().start()
    try:
        server.default = Reply(200, body=b"", delay=30)
        git_repo.git("remote", "set-url", "origin", server.url("/slow.git"))
        monkeypatch.setattr(runner, "NETWORK_TIMEOUT", 1.0)
        git = Git(git_repo.path, git_env())
        started = time.monotonic()
        with pytest.raises(GitFailed, match=r"`git ls-remote` did not finish within 1s"):
            git_refs.ls_remote(git, "origin").result()
        assert time.monotonic() - started < 10
        with pytest.raises(GitFailed, match=r"`git fetch` did not finish within 1s"):
            git_refs.fetch(git, "origin", unshallow=False)
    finally:
        server.stop()


# ---- the GitPython object model ------------------------------------------------------------------


def test_model_sees_a_shallow_clone_until_it_is_deepened(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.commit({"more.txt": "more\n"}, "second")
    git_repo.push()
    ci = clone(git_repo.origin, tmp_path / "ci", "--depth=1")
    git = Git(ci.path, git_env())
    with ObjectReader(git) as objects:
        assert LocalRepo(ci.path, git, objects).shallow
        ci.git("fetch", "--quiet", "--unshallow", "origin")
        assert not LocalRepo(ci.path, git, objects).shallow
        assert not LocalRepo(git_repo.path, git, objects).shallow


def test_model_of_a_detached_head_and_its_commits(git_repo: GitRepo) -> None:
    git_repo.git("checkout", "--quiet", "--detach")
    sha = git_repo.commit({"x.txt": "x\n"}, "on no branch\n\nwith a body")
    git = Git(git_repo.path, git_env())
    with ObjectReader(git) as objects:
        repo = LocalRepo(git_repo.path, git, objects)
        assert (repo.branch, repo.head) == (None, sha)
        assert repo.root == git_repo.path.resolve() and repo.git_dir == repo.root / ".git"
        [commit] = repo.commits([sha])
        assert (commit.summary, commit.author.email) == ("on no branch", "author@example.test")
    assert git.spawned == 1  # the cat-file that served HEAD and the commit


def test_model_reads_remotes_from_every_config_file(git_repo: GitRepo, tmp_path: Path) -> None:
    included = tmp_path / "remotes.cfg"
    included.write_text('[remote "upstream"]\n\turl = git@example.test:team/app.git\n')
    git_repo.git("config", "include.path", str(included))
    git_repo.git("remote", "add", "mirror", "https://example.test/app.git")
    git = Git(git_repo.path, git_env())
    with ObjectReader(git) as objects:
        repo = LocalRepo(git_repo.path, git, objects)
    assert repo.remotes == {
        "origin": str(git_repo.origin),
        "mirror": "https://example.test/app.git",
        "upstream": "git@example.test:team/app.git",
    }
    assert repo.ssh_command is None
    assert git.spawned == 1  # verify's cat-file, which read HEAD: GitPython read the config itself


def test_model_refuses_a_folder_outside_git_and_an_empty_repository(tmp_path: Path) -> None:
    git = Git(tmp_path, git_env())
    with pytest.raises(UnusableInput, match="not inside a git repository"):
        LocalRepo(tmp_path, git, ObjectReader(git))
    gitrefs_git = Git(tmp_path, git_env())
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True, env=git_env())
    with pytest.raises(UnusableInput, match="no commits yet"):
        LocalRepo(tmp_path, gitrefs_git, ObjectReader(gitrefs_git))


def test_git_run_by_gitpython_cannot_prompt(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = WebhookServer().start()
    try:
        server.default = Reply(401, headers={"WWW-Authenticate": 'Basic realm="git"'}, body=b"")
        git_repo.git("remote", "set-url", "origin", server.url("/private.git"))
        monkeypatch.delenv("GIT_TERMINAL_PROMPT", raising=False)
        environ = {k: v for k, v in git_env().items() if k != "GIT_TERMINAL_PROMPT"}
        git = Git(git_repo.path, environ)
        with ObjectReader(git) as objects:
            repo = LocalRepo(git_repo.path, git, objects)
            with pytest.raises(GitCommandError, match="terminal prompts disabled"):
                repo.repo.git.ls_remote("origin")
    finally:
        server.stop()
