"""Verify's object model of the clone, through GitPython: the repository, HEAD, remotes, commits.

GitPython reads the repository layout, HEAD and the config files itself, without starting git.
Its object database is served by verify's own `git cat-file --batch` (`ObjectReader`), so
commit objects cost no process of their own. This module imports `git` at the top: import it
through `objectmodel.object_model()`, which overlaps that import with the first git calls.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from io import BytesIO
from pathlib import Path

import git
from git.db import GitCmdObjectDB
from git.exc import BadObject, InvalidGitRepositoryError, NoSuchPathError
from git.objects import Commit
from gitdb.base import OInfo, OStream  # GitPython's object headers and streams

from devtools.errors import UnusableInput
from devtools.git.objects import GitObject, ObjectReader
from devtools.git.runner import Git


class BatchedObjectDB(GitCmdObjectDB):
    """GitPython's object database, answered by verify's one `git cat-file --batch`.

    `load` reads many objects in one round trip; GitPython's own database would start a
    cat-file of its own and ask it for one object at a time.
    """

    def __init__(self, root_path: str, git_cmd: git.Git, reader: ObjectReader) -> None:
        super().__init__(root_path, git_cmd)
        self._reader = reader
        self._cache: dict[bytes, GitObject] = {}

    def load(self, hexshas: Iterable[str]) -> None:
        wanted = [sha for sha in dict.fromkeys(hexshas) if bytes.fromhex(sha) not in self._cache]
        for obj in self._reader.read(wanted):
            if obj is not None:
                self._cache[bytes.fromhex(obj.sha)] = obj

    def _object(self, binsha: bytes) -> GitObject:
        if binsha not in self._cache:
            self.load([binsha.hex()])
        if binsha not in self._cache:
            raise BadObject(binsha)
        return self._cache[binsha]

    def info(self, binsha: bytes) -> OInfo:
        obj = self._object(binsha)
        return OInfo(binsha, obj.type.encode(), len(obj.data))

    def stream(self, binsha: bytes) -> OStream:
        obj = self._object(binsha)
        return OStream(binsha, obj.type.encode(), len(obj.data), BytesIO(obj.data))


class LocalRepo:
    """The clone verify runs in: a `git.Repo` and the facts verify reads from it."""

    def __init__(self, start: Path, runner: Git, reader: ObjectReader) -> None:
        try:
            repo = git.Repo(start, search_parent_directories=True)
        except (InvalidGitRepositoryError, NoSuchPathError):
            raise UnusableInput(
                f"{start} is not inside a git repository: run verify in a clone of the project"
            ) from None
        self.repo = repo
        self.odb = BatchedObjectDB(str(Path(repo.common_dir) / "objects"), repo.git, reader)
        repo.odb = self.odb
        if not repo.head.is_valid():
            raise UnusableInput(f"{start}: the repository has no commits yet")
        # system, global and repository config files, includes followed
        self.ssh_command = str(repo.config_reader().get_value("core", "sshCommand", "")) or None
        runner.use_ssh_command(self.ssh_command)
        # Whatever GitPython itself runs gets verify's environment: it cannot prompt either.
        repo.git.update_environment(**runner.env)

    @property
    def git_dir(self) -> Path:
        return Path(self.repo.git_dir)

    @property
    def root(self) -> Path:
        """The worktree's top folder (the git dir of a bare repository)."""
        return Path(self.repo.working_tree_dir or self.repo.git_dir)

    @cached_property
    def branch(self) -> str | None:
        """The checked-out branch; None on a detached HEAD."""
        head = self.repo.head
        return None if head.is_detached else head.ref.name

    @cached_property
    def head(self) -> str:
        """HEAD's commit."""
        return self.repo.head.commit.hexsha

    @cached_property
    def shallow(self) -> bool:
        # git records a shallow clone's boundary commits in <common dir>/shallow
        shallow = Path(os.environ.get("GIT_SHALLOW_FILE") or Path(self.repo.common_dir, "shallow"))
        return shallow.is_file() and shallow.stat().st_size > 0

    @cached_property
    def remotes(self) -> Mapping[str, str]:
        """Remote name -> URL, from the config as written (no `insteadOf` rewriting)."""
        return {
            remote.name: str(remote.config_reader.get_value("url", ""))
            for remote in self.repo.remotes
        }

    def committed_on(self, branch: str, sha: str) -> bool:
        """Whether this clone's reflog of local `branch` shows `sha` made by a commit on it
        (not by creating the branch at it). Read from the reflog file: no git process."""
        try:
            entries = self.repo.heads[branch].log()
        except (IndexError, OSError, ValueError):  # no such branch, or no reflog
            return False
        return any(e.newhexsha == sha and e.message.startswith("commit") for e in entries)

    def commits(self, shas: Sequence[str]) -> list[Commit]:
        """Commit objects for `shas`, read in one batch."""
        self.odb.load(shas)
        return [Commit(self.repo, bytes.fromhex(sha)) for sha in shas]
