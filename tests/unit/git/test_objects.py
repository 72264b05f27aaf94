"""One `git cat-file --batch` serves every object, at any ref, without a checkout."""

from __future__ import annotations

import os
import time

from devtools.git.objects import ObjectReader
from devtools.git.runner import Git
from tests.fixtures.git import GitRepo, git_env


def test_reads_files_at_refs_and_by_sha_in_one_process(git_repo: GitRepo) -> None:
    big = os.urandom(3 * 1024 * 1024)  # larger than any pipe buffer
    first = git_repo.commit({"a.txt": "one\n", "big.bin": big, "dir/b.txt": "b\n"}, "first")
    git_repo.commit({"a.txt": "two\n"}, "second")
    blob = git_repo.git("rev-parse", f"{first}:dir/b.txt")
    git = Git(git_repo.path, git_env())
    with ObjectReader(git) as objects:
        names = [f"{first}:a.txt", "HEAD:a.txt", f"{first}:big.bin", blob, "HEAD:nope", "x\ny"]
        found = objects.read(names)
        assert [o.data if o else None for o in found[:2]] == [b"one\n", b"two\n"]
        assert found[2] is not None and found[2].data == big and found[2].type == "blob"
        assert found[3] is not None and (found[3].sha, found[3].data) == (blob, b"b\n")
        assert found[4:] == [None, None]  # missing, and a name the protocol cannot carry
        # a commit and a tree come through the same process, as does a second batch
        [commit, tree] = objects.read(["HEAD", "HEAD^{tree}"])
        assert commit is not None and commit.type == "commit" and b"second" in commit.data
        assert tree is not None and tree.type == "tree"
        assert objects.blobs(["HEAD:a.txt", "HEAD"]) == [b"two\n", None]
    assert git.spawned == 1


def test_closing_mid_answer_does_not_wait_for_git(git_repo: GitRepo) -> None:
    # Large objects asked for and not read (a command interrupted mid-read): closing the
    # reader must not wait on a cat-file blocked writing to a pipe nobody reads.
    git_repo.commit({f"big{i}.bin": os.urandom(512 * 1024) for i in range(8)}, "big")
    git = Git(git_repo.path, git_env())
    objects = ObjectReader(git)
    proc = git.popen("cat-file", "--batch")
    objects._proc = proc  # the reader's own process, as read() starts it
    assert proc.stdin is not None
    proc.stdin.write(b"".join(f"HEAD:big{i}.bin\n".encode() for i in range(8)))
    proc.stdin.flush()
    started = time.monotonic()
    objects.close()
    assert time.monotonic() - started < 5
    assert proc.poll() is not None
