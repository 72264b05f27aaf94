"""Refs: what the server has (one `git ls-remote`), what this clone has (one
`git for-each-ref`), and bringing the server's into this clone (`git fetch`)."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

from devtools.git import runner
from devtools.git.errors import GitFailed
from devtools.git.runner import Git, Pending, decode, last_line


@dataclass(frozen=True)
class ServerRefs:
    """What the remote says, from one `git ls-remote`."""

    heads: Mapping[str, str]  # branch -> commit
    default_branch: str | None  # where the remote's HEAD points
    commits: frozenset[str]  # every ref's object: heads, tags, pull-request refs


def ls_remote(git: Git, remote: str) -> Pending[ServerRefs]:
    def parse(proc: subprocess.CompletedProcess[bytes]) -> ServerRefs:
        if proc.returncode != 0:
            raise GitFailed(
                f"cannot list the branches of remote {remote!r}: {last_line(proc.stderr)} "
                "(verify confirms against the server and never prompts: check the URL, "
                "network and credentials)"
            )
        heads: dict[str, str] = {}
        commits: set[str] = set()
        default: str | None = None
        for line in decode(proc.stdout).splitlines():
            left, _, ref = line.partition("\t")
            if left.startswith("ref: "):
                if ref == "HEAD":
                    default = left.removeprefix("ref: ").removeprefix("refs/heads/")
                continue
            commits.add(left)
            if ref.startswith("refs/heads/"):
                heads[ref.removeprefix("refs/heads/")] = left
        return ServerRefs(heads=heads, default_branch=default, commits=frozenset(commits))

    running = git.start("ls-remote", "--symref", remote, timeout=runner.NETWORK_TIMEOUT)
    return Pending(running, parse)


@dataclass(frozen=True)
class LocalRefs:
    """This clone's branches and its cache of the remote's, from one `git for-each-ref`."""

    heads: Mapping[str, str]  # refs/heads/<branch> -> commit
    tracking: Mapping[str, str]  # refs/remotes/<remote>/<branch> -> commit
    default_branch: str | None  # where refs/remotes/<remote>/HEAD points, if it exists
    current: str | None = None  # the branch HEAD is on, if any


def local_refs(git: Git, remote: str) -> Pending[LocalRefs]:
    prefix = f"refs/remotes/{remote}/"

    def parse(proc: subprocess.CompletedProcess[bytes]) -> LocalRefs:
        if proc.returncode != 0:
            raise GitFailed(f"`git for-each-ref` failed: {last_line(proc.stderr)}")
        heads: dict[str, str] = {}
        tracking: dict[str, str] = {}
        default: str | None = None
        current: str | None = None
        for line in decode(proc.stdout).splitlines():
            sha, symref, ref, head = line.split("\0")
            if head == "*":
                current = ref.removeprefix("refs/heads/")
            if symref:  # refs/remotes/origin/HEAD -> refs/remotes/origin/main
                default = symref.removeprefix(prefix)
                continue
            if ref.startswith("refs/heads/"):
                heads[ref.removeprefix("refs/heads/")] = sha
            elif ref.startswith(prefix):
                tracking[ref.removeprefix(prefix)] = sha
        return LocalRefs(heads=heads, tracking=tracking, default_branch=default, current=current)

    format_ = "--format=%(objectname)%00%(symref)%00%(refname)%00%(HEAD)"
    return Pending(git.start("for-each-ref", format_, "refs/heads", prefix), parse)


def fetch(git: Git, remote: str, *, unshallow: bool) -> None:
    """Bring every branch of `remote` into its remote-tracking refs (and the whole history)."""
    proc = git.run(
        "-c",
        "gc.auto=0",
        "-c",
        "maintenance.auto=false",
        "fetch",
        "--quiet",
        "--no-tags",
        "--prune",
        "--recurse-submodules=no",
        *(["--unshallow"] if unshallow else []),
        remote,
        f"+refs/heads/*:refs/remotes/{remote}/*",
        timeout=runner.NETWORK_TIMEOUT,
        check=False,
    )
    if proc.returncode != 0:
        raise GitFailed(
            f"cannot fetch from {remote!r}: {last_line(proc.stderr)} "
            "(check the network and credentials, or pass --no-fetch to use what this clone has)"
        )
