"""One `git cat-file --batch` serves every object, at any ref, without a checkout."""

from __future__ import annotations

import os

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
