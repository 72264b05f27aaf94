"""From a request and what we know of the service to the exact exec: pure functions.

`ServiceInfo` is everything `run` needs about a service: its running container, its bind mounts
(from the resolved compose config), its working directory and the configured default user. It
comes from compose on the full path and from the cache on the fast path.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Mapping, Sequence

from devtools.compose.paths import container_path
from devtools.container.request import RunRequest
from devtools.developer import developer_ids
from devtools.errors import UnusableInput

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

RUN_ID = "OMC_RUN_ID"  # set for every command omc-dev run starts; how signals find its processes


class ServiceInfo:
    __slots__ = ("container", "default_user", "mounts", "name", "working_dir")

    def __init__(
        self,
        name: str,
        container: str,
        mounts: Sequence[tuple[str, str]],
        working_dir: str | None = None,
        default_user: str | None = None,
    ) -> None:
        self.name = name
        self.container = container
        self.mounts = tuple((str(s), str(t)) for s, t in mounts)
        self.working_dir = working_dir
        self.default_user = default_user

    def to_json(self) -> dict[str, Any]:
        return {
            "container": self.container,
            "mounts": [list(m) for m in self.mounts],
            "working_dir": self.working_dir,
            "default_user": self.default_user,
        }

    @classmethod
    def from_json(cls, name: str, doc: Mapping[str, Any]) -> ServiceInfo:
        return cls(
            name,
            str(doc["container"]),
            [(s, t) for s, t in doc["mounts"]],
            doc.get("working_dir"),
            doc.get("default_user"),
        )


class ExecSpec:
    """One exec into one container, ready for the Engine API."""

    __slots__ = ("argv", "container", "env", "run_id", "service", "tty", "user", "workdir")

    def __init__(
        self,
        *,
        service: str,
        container: str,
        argv: Sequence[str],
        user: str | None,
        workdir: str | None,
        env: Sequence[str],
        tty: bool,
        run_id: str,
    ) -> None:
        self.service = service
        self.container = container
        self.argv = list(argv)
        self.user = user
        self.workdir = workdir
        self.env = list(env)
        self.tty = tty
        self.run_id = run_id

    def exec_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "Cmd": self.argv,
            "AttachStdin": True,
            "AttachStdout": True,
            "AttachStderr": True,
            "Tty": self.tty,
            "Env": [*self.env, f"{RUN_ID}={self.run_id}"],
        }
        if self.user:
            config["User"] = self.user
        if self.workdir:
            config["WorkingDir"] = self.workdir
        return config


def resolve_user(value: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """`--user` as the engine wants it: host -> "uid:gid", root -> "0:0", UID[:GID] as given."""
    if value is None:
        return None
    if value == "host":
        uid, gid = developer_ids(environ)
        return f"{uid}:{gid}"
    if value == "root":
        return "0:0"
    user, sep, group = value.partition(":")
    if user.isdigit() and (not sep or group.isdigit()):
        return value
    raise UnusableInput(f"--user {value!r}: use host, root, UID or UID:GID")


def environment(pairs: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """`-e KEY=VAL` as given; `-e KEY` takes the host's value, or is dropped when unset (as docker does)."""
    out = []
    for pair in pairs:
        key, sep, _ = pair.partition("=")
        if not key:
            raise UnusableInput(f"-e {pair!r}: expected KEY=VALUE or KEY")
        if sep:
            out.append(pair)
        elif key in environ:
            out.append(f"{key}={environ[key]}")
    return out


def container_workdir(
    requested: str | None,
    host_cwd: str,
    info: ServiceInfo,
    exists: Callable[[str], bool] = os.path.isdir,
) -> str | None:
    """`-w` (a host folder under a mount, or a container path), else the translated host cwd,
    else the service's own working directory."""
    if requested:
        host = os.path.normpath(os.path.join(host_cwd, requested))
        mapped = container_path(host, info.mounts) if exists(host) else None
        if mapped:
            return mapped
        if requested.startswith("/"):
            return requested
        raise UnusableInput(
            f"-w {requested}: neither a host folder under a bind mount of {info.name} "
            "nor an absolute path in the container"
        )
    return container_path(host_cwd, info.mounts) or info.working_dir


def translate_args(
    argv: Sequence[str],
    host_cwd: str,
    workdir: str | None,
    mounts: Sequence[tuple[str, str]],
    exists: Callable[[str], bool] = os.path.lexists,
) -> list[str]:
    """Arguments naming an existing host path under a bind mount, rewritten to the container path.

    Options (`-x`, `--cov=src`) are left alone, and so is a relative path that already means the
    same file from the container's working directory: the argv changes only where it must.
    The command itself is a path only when it contains a slash (otherwise it is looked up on PATH).
    """
    out = []
    for index, arg in enumerate(argv):
        out.append(
            _translate_arg(
                arg, index, host_cwd=host_cwd, workdir=workdir, mounts=mounts, exists=exists
            )
        )
    return out


def _translate_arg(
    arg: str,
    index: int,
    *,
    host_cwd: str,
    workdir: str | None,
    mounts: Sequence[tuple[str, str]],
    exists: Callable[[str], bool],
) -> str:
    if not arg or arg.startswith("-") or (index == 0 and "/" not in arg):
        return arg
    path, sep, node = arg.partition("::")
    if sep and path:
        # A pytest node id (`tests/x.py::TestY::test_z[param]`): the path part is translated.
        mapped_path = _translate_arg(
            path, index, host_cwd=host_cwd, workdir=workdir, mounts=mounts, exists=exists
        )
        return f"{mapped_path}{sep}{node}"
    host = os.path.normpath(os.path.join(host_cwd, arg))
    if not exists(host):
        return arg
    mapped = container_path(host, mounts)
    if mapped is None:
        return arg
    if (
        not arg.startswith("/")
        and workdir
        and posixpath.normpath(posixpath.join(workdir, arg)) == mapped
    ):
        return arg
    return mapped


def check_text(argv: Sequence[str]) -> None:
    """The Engine API carries argv as JSON text: bytes that are not UTF-8 cannot pass through."""
    for index, arg in enumerate(argv):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            raise UnusableInput(
                f"argument {index} ({arg.encode('utf-8', 'surrogateescape')!r}) is not valid UTF-8: "
                "the engine's exec API carries text only"
            ) from None


def build_spec(
    request: RunRequest,
    info: ServiceInfo,
    *,
    host_cwd: str,
    environ: Mapping[str, str],
    tty: bool,
    run_id: str,
) -> ExecSpec:
    check_text(request.cmd)
    workdir = container_workdir(request.workdir, host_cwd, info)
    return ExecSpec(
        service=info.name,
        container=info.container,
        argv=translate_args(request.cmd, host_cwd, workdir, info.mounts),
        user=resolve_user(request.user or info.default_user, environ),
        workdir=workdir,
        env=environment(request.env, environ),
        tty=tty,
        run_id=run_id,
    )
