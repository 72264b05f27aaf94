"""What `omc-dev run` was asked to do, and the one table of its options.

Two parsers read that table: click (for `--help`, completion and every error message) and
`parse_run_args`, a small one the fast path uses without importing click. The fast parser
accepts exactly the grammar click accepts or returns None, and then click decides.
"""

from __future__ import annotations

from collections.abc import Sequence

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# dest, flags, kind ("value", "multiple", "flag" or "switch": --x/--no-x), metavar, help
OPTIONS: tuple[tuple[str, tuple[str, ...], str, str, str], ...] = (
    (
        "service",
        ("-s", "--service"),
        "value",
        "SERVICE",
        "Service to run in (default: service in [tool.omc-dev.run], else the only one with a build context).",
    ),
    (
        "user",
        ("-u", "--user"),
        "value",
        "host|root|UID[:GID]",
        "Run as the host's uid:gid (files you create stay yours), root, or a numeric id.",
    ),
    (
        "workdir",
        ("-w", "--workdir"),
        "value",
        "DIR",
        "Working directory: a host folder under a bind mount, or a container path (default: the current folder, translated).",
    ),
    ("env", ("-e", "--env"), "multiple", "KEY=VAL", "Set an environment variable (repeatable)."),
    (
        "start",
        ("--start",),
        "flag",
        "",
        "Start the service (omc-dev up SERVICE) if it is not running.",
    ),
    (
        "track",
        ("--track",),
        "value",
        "NAME",
        "Track whose stack to use (default: OMC_TRACK, else the branch).",
    ),
    (
        "fix_ownership",
        ("--fix-ownership", "--no-fix-ownership"),
        "switch",
        "",
        "After CMD, give files it created or changed under bind mounts back to you (default: fix-ownership in [tool.omc-dev.run]).",
    ),
)


class RunRequest:
    """The parsed command line of `omc-dev run`."""

    __slots__ = ("cmd", "env", "fix_ownership", "service", "start", "track", "user", "workdir")

    def __init__(
        self,
        cmd: Sequence[str],
        *,
        service: str | None = None,
        user: str | None = None,
        workdir: str | None = None,
        env: Sequence[str] = (),
        start: bool = False,
        track: str | None = None,
        fix_ownership: bool | None = None,
    ) -> None:
        self.cmd = list(cmd)
        self.service = service
        self.user = user
        self.workdir = workdir
        self.env = tuple(env)
        self.start = start
        self.track = track
        self.fix_ownership = fix_ownership  # None: as configured


_BY_FLAG = {flag: (dest, kind) for dest, flags, kind, _, _ in OPTIONS for flag in flags}


def parse_run_args(args: Sequence[str]) -> RunRequest | None:
    """`run`'s arguments as click would parse them, or None for anything click should handle
    (help, an unknown option, a missing value or command)."""
    values: dict[str, Any] = {"env": []}
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            i += 1
            break
        if not token.startswith("-") or token == "-":
            break  # the command starts here; the rest is its own
        if token.startswith("--"):
            flag, has_inline, inline = token.partition("=")
        else:
            flag, inline = token[:2], token[2:]
            has_inline = "=" if inline else ""
        spec = _BY_FLAG.get(flag)
        if spec is None:
            return None
        dest, kind = spec
        if kind in ("flag", "switch"):
            if has_inline:
                return None
            values[dest] = kind == "flag" or not flag.startswith("--no-")
        else:
            if not has_inline:
                i += 1
                if i >= len(args):
                    return None
                inline = args[i]
            if kind == "multiple":
                values[dest].append(inline)
            else:
                values[dest] = inline
        i += 1
    cmd = args[i:]
    if not cmd:
        return None
    return RunRequest(cmd, **values)
