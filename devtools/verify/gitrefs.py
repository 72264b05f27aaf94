"""Git access for verify: few processes, no prompts, nothing checked out.

- GitPython is the object model (`gitmodel`: the repository, HEAD, remotes and their config,
  commit objects); it reads files itself and its objects come through the cat-file below.
  Importing it costs about half of the `git diff` verify must run, so `preload_object_model`
  imports it in a thread while the first git calls run (waiting on a process frees the GIL).
- One `git ls-remote` is the server's truth (remote-tracking refs are only a cache), one
  `git for-each-ref` reads this clone's refs, one `git diff --raw --numstat -z` describes the
  range, and one long-lived `git cat-file --batch` serves every blob by object name, so
  content is read at the remote ref without a checkout.
- A few targeted calls (`fetch`, `rev-list`, `name-rev`, `ls-tree`, `log`) run only when a
  check needs them.

Every call runs with an environment that cannot prompt (no terminal prompt, no askpass
helper, ssh in batch mode, stdin closed, no controlling terminal) and a timeout, so CI can
never hang on git.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import IO, Generic, Self, TypeVar

from devtools.errors import EXIT_ENVIRONMENT, EnvironmentMissing, UserError

LOCAL_TIMEOUT = 120.0  # seconds for a git call that only reads this clone
NETWORK_TIMEOUT = 300.0  # seconds for ls-remote and fetch
ZERO_SHA = "0" * 40


class GitFailed(UserError):
    """Git itself failed (network, credentials, a damaged clone): the environment, not the input."""

    exit_code = EXIT_ENVIRONMENT


class NoMergeBase(Exception):
    """`base...head` has no merge base in this clone (unrelated histories or a shallow clone)."""


def _decode(raw: bytes) -> str:
    # Paths are bytes in git; surrogateescape round-trips any that are not UTF-8.
    return raw.decode("utf-8", "surrogateescape")


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


# The advice git closes a failed remote call with: the cause is on a line before it.
_REMOTE_ADVICE = frozenset(
    {
        "fatal: Could not read from remote repository.",
        "Please make sure you have the correct access rights",
        "and the repository exists.",
    }
)


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in _decode(stderr).splitlines()]
    lines = [line for line in lines if line and line not in _REMOTE_ADVICE]
    return lines[-1] if lines else "no message"


def non_interactive_env(base: Mapping[str, str], ssh_command: str | None = None) -> dict[str, str]:
    """`base` with every way git could ask a person for something switched off."""
    env = dict(base)
    env["GIT_TERMINAL_PROMPT"] = "0"
    # Empty, not unset: git then skips core.askPass and SSH_ASKPASS as well.
    env["GIT_ASKPASS"] = ""
    env.pop("SSH_ASKPASS", None)
    env["SSH_ASKPASS_REQUIRE"] = "never"
    env["GCM_INTERACTIVE"] = "never"  # Git Credential Manager
    env["GIT_PAGER"] = "cat"
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["LC_ALL"] = "C"  # messages verify recognises ("no merge base") stay in English
    if "GIT_SSH" not in env or "GIT_SSH_COMMAND" in env:
        ssh = env.get("GIT_SSH_COMMAND") or ssh_command or "ssh"
        env["GIT_SSH_COMMAND"] = f"{ssh} -o BatchMode=yes -o ConnectTimeout=30"
    return env


class Running:
    """A git process whose output a thread collects while verify does other work."""

    def __init__(
        self,
        args: Sequence[str],
        proc: subprocess.Popen[bytes],
        input: bytes | None,
        timeout: float,
    ) -> None:
        self.args = args
        # the subcommand, for messages: `git -c gc.auto=0 fetch ...` is "fetch"
        self.name = next((a for i, a in enumerate(args) if i % 2 == 0 and a != "-c"), "git")
        self._proc = proc
        self._input = input
        self._timeout = timeout
        self._out = self._err = b""
        self._timed_out = False
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        try:
            self._out, self._err = self._proc.communicate(self._input, timeout=self._timeout)
        except subprocess.TimeoutExpired:
            self._timed_out = True
            _kill_group(self._proc)  # git's helpers (git-remote-https, ssh) hold the pipes too
            self._out, self._err = self._proc.communicate()
        except OSError as exc:  # reported by result(), in the caller's thread
            _kill_group(self._proc)
            self._proc.wait()
            self._err = str(exc).encode()

    def stop(self) -> None:
        """Stop git: its answer is no longer wanted."""
        if self._proc.poll() is None:
            _kill_group(self._proc)

    def result(self, *, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        self._thread.join()
        if self._timed_out:
            raise GitFailed(
                f"`git {self.name}` did not finish within {self._timeout:.0f}s: check the "
                "network and the remote, then retry"
            )
        returncode = self._proc.returncode
        if check and returncode != 0:
            raise GitFailed(f"`git {self.name}` failed: {_last_line(self._err)}")
        return subprocess.CompletedProcess(["git", *self.args], returncode, self._out, self._err)


T = TypeVar("T")


# ---- the object model, imported while git works ------------------------------------------------

_OBJECT_MODEL = "devtools.verify.gitmodel"
_preloading: list[threading.Thread] = []  # the import's thread, once started


def _import_object_model() -> None:
    # A failure is left for object_model(), which imports again and raises it in its thread.
    with contextlib.suppress(Exception):
        importlib.import_module(_OBJECT_MODEL)


def preload_object_model() -> None:
    """Start importing GitPython (through `gitmodel`) in a thread; the first git calls run
    meanwhile, and the import takes the GIL only while they are waited on."""
    if not _preloading and _OBJECT_MODEL not in sys.modules:
        thread = threading.Thread(target=_import_object_model, name="import-gitpython")
        thread.start()
        _preloading.append(thread)


def object_model() -> ModuleType:
    """`devtools.verify.gitmodel`, once its import (started or not) is complete."""
    for thread in _preloading:
        thread.join()
    try:
        return importlib.import_module(_OBJECT_MODEL)
    except ImportError as exc:  # GitPython is missing, or found no git to run
        raise EnvironmentMissing(
            f"GitPython cannot be loaded ({exc}): pip install 'omc-dev[verify]' and install git"
        ) from None


class Pending(Generic[T]):
    """A started git call and how to read its answer: verify starts the calls it will need,
    does other work while they run, and reads each answer when it needs it."""

    def __init__(self, running: Running, parse: Callable[[subprocess.CompletedProcess[bytes]], T]):
        self._running = running
        self._parse = parse
        self._parsed: list[T] = []

    def result(self) -> T:
        """The answer, parsed once however often it is asked for."""
        if not self._parsed:
            self._parsed.append(self._parse(self._running.result(check=False)))
        return self._parsed[0]

    def stop(self) -> None:
        self._running.stop()


class ClosedOnExit:
    """Closed when its `with` block ends, however it ends."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        raise NotImplementedError


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(proc.pid, signal.SIGKILL)


class Git(ClosedOnExit):
    """Runs git in one repository and counts every process it starts.

    Each git runs in a session of its own: it has no terminal to prompt on, and git with its
    helpers can be stopped as one group (on a timeout, or when verify stops early).
    """

    def __init__(self, cwd: Path, environ: Mapping[str, str]) -> None:
        self.cwd = cwd
        self._environ = dict(environ)
        self.env = non_interactive_env(environ)
        self.spawned = 0
        self._started: list[subprocess.Popen[bytes]] = []

    def close(self) -> None:
        """Stop whatever git is still running (verify failed or was interrupted)."""
        for proc in self._started:
            if proc.poll() is None:
                _kill_group(proc)

    def use_ssh_command(self, command: str | None) -> None:
        """Keep the repository's core.sshCommand (verify's environment would override it)."""
        self.env = non_interactive_env(self._environ, command)

    def _popen(self, args: Sequence[str], *, stdin: int, stderr: int) -> subprocess.Popen[bytes]:
        self.spawned += 1
        try:
            proc = subprocess.Popen(
                ["git", *args],
                cwd=self.cwd,
                env=self.env,
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=stderr,
                start_new_session=True,
            )
        except FileNotFoundError:
            raise EnvironmentMissing("git is not installed (or not on PATH): install git") from None
        self._started.append(proc)
        return proc

    def start(
        self, *args: str, input: bytes | None = None, timeout: float = LOCAL_TIMEOUT
    ) -> Running:
        """Start git now; `.result()` waits for it."""
        stdin = subprocess.DEVNULL if input is None else subprocess.PIPE
        return Running(args, self._popen(args, stdin=stdin, stderr=subprocess.PIPE), input, timeout)

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        timeout: float = LOCAL_TIMEOUT,
        check: bool = True,
    ) -> subprocess.CompletedProcess[bytes]:
        return self.start(*args, input=input, timeout=timeout).result(check=check)

    def popen(self, *args: str) -> subprocess.Popen[bytes]:
        """A long-lived git process spoken to through its stdin and stdout."""
        return self._popen(args, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)


@dataclass(frozen=True)
class GitObject:
    sha: str
    type: str  # "blob", "tree", "commit", "tag"
    data: bytes


class ObjectReader(ClosedOnExit):
    """One `git cat-file --batch` process for every object verify reads.

    Objects are named by sha or `<rev>:<path>`, so files are read at any ref without a checkout.
    """

    def __init__(self, git: Git) -> None:
        self._git = git
        self._proc: subprocess.Popen[bytes] | None = None

    def close(self) -> None:
        if self._proc is None:
            return
        proc, self._proc = self._proc, None
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=LOCAL_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()

    def read(self, names: Sequence[str]) -> list[GitObject | None]:
        """The objects named, in order; None for a name that does not resolve."""
        results: list[GitObject | None] = [None] * len(names)
        # The protocol is line-based: a path with a newline cannot be asked for.
        wanted = [(i, name) for i, name in enumerate(names) if "\n" not in name]
        if not wanted:
            return results
        if self._proc is None:
            self._proc = self._git.popen("cat-file", "--batch")
        proc = self._proc
        assert proc.stdin is not None and proc.stdout is not None
        payload = b"".join(_encode(name) + b"\n" for _, name in wanted)
        # Write from a thread: git answers while we still send, and both pipes are finite.
        writer = threading.Thread(target=_write_all, args=(proc.stdin, payload), daemon=True)
        writer.start()
        for index, _name in wanted:
            header = proc.stdout.readline()
            if not header:
                raise GitFailed("`git cat-file --batch` stopped answering: is the clone damaged?")
            parts = header.split()
            if len(parts) != 3:  # "<name> missing" or "<name> ambiguous"
                continue
            size = int(parts[2])
            data = proc.stdout.read(size)
            proc.stdout.read(1)  # the newline after the contents
            results[index] = GitObject(parts[0].decode(), parts[1].decode(), data)
        writer.join()
        return results

    def blobs(self, names: Sequence[str]) -> list[bytes | None]:
        return [obj.data if obj and obj.type == "blob" else None for obj in self.read(names)]


def _write_all(stream: IO[bytes], payload: bytes) -> None:
    with contextlib.suppress(OSError):  # git went away; the reader reports it
        stream.write(payload)
        stream.flush()


# ---- refs ------------------------------------------------------------------------------------


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
                f"cannot list the branches of remote {remote!r}: {_last_line(proc.stderr)} "
                "(verify confirms against the server and never prompts: check the URL, "
                "network and credentials)"
            )
        heads: dict[str, str] = {}
        commits: set[str] = set()
        default: str | None = None
        for line in _decode(proc.stdout).splitlines():
            left, _, ref = line.partition("\t")
            if left.startswith("ref: "):
                if ref == "HEAD":
                    default = left.removeprefix("ref: ").removeprefix("refs/heads/")
                continue
            commits.add(left)
            if ref.startswith("refs/heads/"):
                heads[ref.removeprefix("refs/heads/")] = left
        return ServerRefs(heads=heads, default_branch=default, commits=frozenset(commits))

    running = git.start("ls-remote", "--symref", remote, timeout=NETWORK_TIMEOUT)
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
            raise GitFailed(f"`git for-each-ref` failed: {_last_line(proc.stderr)}")
        heads: dict[str, str] = {}
        tracking: dict[str, str] = {}
        default: str | None = None
        current: str | None = None
        for line in _decode(proc.stdout).splitlines():
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
        timeout=NETWORK_TIMEOUT,
        check=False,
    )
    if proc.returncode != 0:
        raise GitFailed(
            f"cannot fetch from {remote!r}: {_last_line(proc.stderr)} "
            "(check the network and credentials, or pass --no-fetch to use what this clone has)"
        )


# ---- the range -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileChange:
    path: str  # the path at the head side (the old path for a deletion)
    status: str  # A added, M modified, D deleted, R renamed, C copied, T type change
    insertions: int
    deletions: int
    binary: bool
    old_path: str | None = None  # for renames and copies
    old_blob: str | None = None
    new_blob: str | None = None

    @property
    def blob(self) -> str | None:
        """The blob whose content describes the file: the new one, or the old for a deletion."""
        return self.new_blob or self.old_blob


def diff_range(git: Git, base: str, head: str) -> Pending[list[FileChange]]:
    """Every file changed in `base...head`, with line counts and blob ids, from one diff."""

    def parse(proc: subprocess.CompletedProcess[bytes]) -> list[FileChange]:
        if proc.returncode != 0:
            message = _last_line(proc.stderr)
            if "no merge base" in message:
                raise NoMergeBase(message)
            raise GitFailed(f"`git diff` failed: {message}")
        return parse_raw_numstat(proc.stdout)

    running = git.start(
        "diff",
        "--raw",
        "--numstat",
        "-z",
        "--no-abbrev",
        "-M",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        f"{base}...{head}",
        "--",
    )
    return Pending(running, parse)


def parse_raw_numstat(out: bytes) -> list[FileChange]:
    tokens = _decode(out).split("\0")  # decoded once: thousands of paths
    raws: list[tuple[str, str | None, str | None, str | None]] = []
    i = 0
    while i < len(tokens) and tokens[i].startswith(":"):
        _old_mode, _new_mode, old_sha, new_sha, status = tokens[i][1:].split(" ")
        if status[0] in "RC":
            old_path: str | None = tokens[i + 1]
            i += 3
        else:
            old_path = None
            i += 2
        raws.append(
            (
                status[0],
                old_path,
                None if old_sha == ZERO_SHA else old_sha,
                None if new_sha == ZERO_SHA else new_sha,
            )
        )
    changes: list[FileChange] = []
    for status, old_path, old_blob, new_blob in raws:
        added, deleted, path = tokens[i].split("\t", 2)
        if path:
            i += 1
        else:  # a rename or copy: the two paths follow as their own tokens
            path = tokens[i + 2]
            i += 3
        binary = added == "-"
        changes.append(
            FileChange(
                path=path,
                status=status,
                insertions=0 if binary else int(added),
                deletions=0 if binary else int(deleted),
                binary=binary,
                old_path=old_path,
                old_blob=old_blob,
                new_blob=new_blob,
            )
        )
    return changes


def list_files(git: Git, rev: str) -> dict[str, str]:
    """Every file at `rev`: path -> blob id (submodules left out)."""
    out = _decode(git.run("ls-tree", "-r", "-z", "--full-tree", rev).stdout)
    files: dict[str, str] = {}
    for entry in out.split("\0"):
        meta, _, path = entry.partition("\t")
        if meta[7:11] == "blob":  # "<mode:6> blob <sha>"
            files[path] = meta[12:]
    return files


# ---- history ---------------------------------------------------------------------------------


def commits_between(
    git: Git, tip: str, exclude: Iterable[str], *, first_parent: bool, limit: int = 500
) -> list[str]:
    """Commits reachable from `tip` and from none of `exclude`, newest first.

    Excluded commits this clone does not have are ignored rather than fatal.
    """
    stdin = b"".join(b"^" + sha.encode() + b"\n" for sha in exclude)
    proc = git.run(
        "rev-list",
        "--ignore-missing",
        f"--max-count={limit}",
        *(["--first-parent"] if first_parent else []),
        tip,
        "--stdin",
        input=stdin,
    )
    return _decode(proc.stdout).split()


_NAME_SUFFIX = re.compile(r"[~^].*$")


def remote_branches_containing(
    git: Git, shas: Sequence[str], remote: str, *, exclude_branch: str
) -> dict[str, str]:
    """For each commit that some branch of `remote` contains, one such branch (`origin/main`).

    One `git name-rev` over the remote-tracking refs answers for every commit at once.
    """
    if not shas:
        return {}
    proc = git.run(
        "name-rev",
        f"--refs=refs/remotes/{remote}/*",
        f"--exclude=refs/remotes/{remote}/HEAD",
        f"--exclude=refs/remotes/{remote}/{exclude_branch}",
        *shas,
    )
    found: dict[str, str] = {}
    for line in _decode(proc.stdout).splitlines():
        sha, _, name = line.partition(" ")
        if name and name != "undefined":
            found[sha] = _NAME_SUFFIX.sub("", name.removeprefix("remotes/"))
    return found


def is_ancestor(git: Git, commit: str, of: str) -> bool:
    proc = git.run("merge-base", "--is-ancestor", commit, of, check=False)
    if proc.returncode not in (0, 1):
        raise GitFailed(f"`git merge-base` failed: {_last_line(proc.stderr)}")
    return proc.returncode == 0


def commit_adding(git: Git, rev: str, path: str) -> str | None:
    """The newest commit at `rev` that added `path`."""
    proc = git.run(
        "-c",
        "log.showSignature=false",
        "log",
        "-1",
        "--format=%H",
        "--diff-filter=A",
        rev,
        "--",
        path,
    )
    return _decode(proc.stdout).strip() or None
