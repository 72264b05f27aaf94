"""The only place omc-dev runs the compose CLI (`docker compose`, v2)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from devtools.compose.model import ComposeProject, parse_config
from devtools.config import COMPOSE_FILES, OVERRIDE_FILES, ProjectConfig
from devtools.errors import EnvironmentMissing, UnusableInput

COMPOSE_VARIABLES = ("COMPOSE_FILE", "COMPOSE_PATH_SEPARATOR")
NO_COMPOSE = "Docker Compose v2 is not installed: install the docker-compose-plugin package (or Docker Desktop)"


@dataclass(frozen=True)
class ComposeTarget:
    """Which compose files, under which project name: everything `docker compose -p -f` needs."""

    name: str
    files: tuple[Path, ...]
    # Extra `--profile`s; none means the profiles Compose applies itself (COMPOSE_PROFILES).
    profiles: tuple[str, ...] = ()
    # Variables added to compose's own environment (the track's values, for `${VAR}`
    # interpolation): they win over the shell and `.env`, which is never written.
    env: tuple[tuple[str, str], ...] = ()

    def argv(self, *args: str) -> list[str]:
        argv = [*compose_command(), "--project-name", self.name]
        for file in self.files:
            argv += ["--file", str(file)]
        for profile in self.profiles:
            argv += ["--profile", profile]
        return [*argv, *args]


def compose_command() -> list[str]:
    """`docker compose` (the v2 plugin); a standalone v2 `docker-compose` binary as fallback."""
    if shutil.which("docker"):
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise EnvironmentMissing(
        "the docker CLI is not on PATH: install Docker (docker-ce-cli and docker-compose-plugin, or Docker Desktop)"
    )


def compose_files(config: ProjectConfig) -> tuple[Path, ...]:
    """The files Compose itself would read for this project, in order.

    `compose-files` in `[tool.omc-dev]` wins; else `COMPOSE_FILE` (from the environment, else
    the project's `.env`, split on `COMPOSE_PATH_SEPARATOR`); else the first of Compose's default
    names plus its override file (`compose.override.yml`, ...), as `docker compose` does.
    """
    configured = config.get("compose-files")
    if configured:
        if isinstance(configured, str):
            configured = [configured]
        files = tuple(config.root / str(f) for f in configured)
        where = "fix compose-files in [tool.omc-dev]"
    elif (listed := _compose_file_variable(config.root)) is not None:
        value, separator = listed
        files = tuple(_relative_to(config.root, f) for f in value.split(separator) if f)
        where = "fix COMPOSE_FILE"
    else:
        found = [config.root / n for n in COMPOSE_FILES if (config.root / n).is_file()]
        if not found:
            raise EnvironmentMissing(_no_compose_file(config.root))
        overrides = [config.root / n for n in OVERRIDE_FILES if (config.root / n).is_file()]
        return (found[0], *overrides[:1])
    for file in files:
        if not file.is_file():
            raise EnvironmentMissing(f"compose file {file} does not exist: {where}")
    return files


def _no_compose_file(root: Path) -> str:
    """Say where the checkout keeps its compose file when it is not at the root (docker/, ...)."""
    looked = f"no compose file in {root} (looked for {', '.join(COMPOSE_FILES)})"
    below = _compose_files_below(root)
    if not below:
        return f"{looked}: add one, or set compose-files in [tool.omc-dev]"
    shown = below[0]
    others = f" (also {', '.join(below[1:3])}{', ...' if len(below) > 3 else ''})"
    return (
        f"{looked}; this checkout has {shown}{others if len(below) > 1 else ''}: run omc-dev "
        f'from {Path(shown).parent}/, or set compose-files = ["{shown}"] in [tool.omc-dev]'
    )


def _compose_files_below(root: Path) -> list[str]:
    """Tracked files with Compose's default names in subfolders: shallowest first, hidden
    folders (`.devcontainer/`) last."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--", *(f"*/{n}" for n in COMPOSE_FILES)],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if proc.returncode != 0:
        return []
    names = [n for n in proc.stdout.split("\0") if n and Path(n).name in COMPOSE_FILES]
    return sorted(names, key=lambda n: ("/." in f"/{n}", n.count("/"), n))


def _compose_file_variable(root: Path) -> tuple[str, str] | None:
    """(COMPOSE_FILE, its separator) from the environment, else from the project's `.env`."""
    values = {k: os.environ[k] for k in COMPOSE_VARIABLES if k in os.environ}
    if "COMPOSE_FILE" not in values and (root / ".env").is_file():
        from devtools.compose.dotenv import parse_file

        try:
            dotenv = {v.name: v.value for v in parse_file(root / ".env")}
        except UnusableInput:
            dotenv = {}  # compose names the broken line itself when it reads the file
        values = {k: v for k in COMPOSE_VARIABLES if (v := dotenv.get(k)) is not None}
    if not values.get("COMPOSE_FILE"):
        return None
    return values["COMPOSE_FILE"], values.get("COMPOSE_PATH_SEPARATOR") or os.pathsep


def _relative_to(root: Path, name: str) -> Path:
    path = Path(name).expanduser()
    return path if path.is_absolute() else root / path


def _first_error_line(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    return lines[-1] if lines else "compose failed without a message"


# Seconds a compose command may take before omc-dev stops it (and its plugin process): reading
# the files and asking the engine takes seconds; building and starting a stack can take long.
QUICK_TIMEOUT = 120.0
SLOW_TIMEOUT = 3600.0
TIMEOUT_VARIABLE = "OMC_COMPOSE_TIMEOUT"  # seconds, for every compose command
_SLOW = {"up", "down", "build", "pull", "push", "run", "rm", "create", "start", "stop", "restart"}


def compose_timeout(args: Sequence[str]) -> float:
    """`OMC_COMPOSE_TIMEOUT` when set, else by command: quick for config/ps, slow for up/build."""
    raw = os.environ.get(TIMEOUT_VARIABLE, "").strip()
    if raw:
        try:
            seconds = float(raw)
        except ValueError:
            seconds = -1.0
        if not 0 < seconds < 1e9:
            raise UnusableInput(f"{TIMEOUT_VARIABLE} must be a number of seconds, got {raw!r}")
        return seconds
    command = next((a for a in args if not a.startswith("-")), "")
    return SLOW_TIMEOUT if command in _SLOW else QUICK_TIMEOUT


def run_compose(
    target: ComposeTarget,
    *args: str,
    capture: bool = True,
    check: bool = True,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run one compose command; a failure becomes a one-line UserError when `check`.

    `env` adds variables to compose's environment (e.g. for interpolation in the compose file).
    `timeout` (default: `compose_timeout`) ends compose and its plugin process with a one-line
    error; so does omc-dev being interrupted. Compose files that would expand without bound
    (YAML alias bombs) are refused before compose reads them.
    """
    from devtools import proc as procs
    from devtools.compose.aliases import check_expansion

    for file in target.files:
        check_expansion(file)
    argv = target.argv(*args)
    seconds = compose_timeout(args) if timeout is None else timeout
    added = {**dict(target.env), **(env or {})}
    try:
        proc = procs.run(
            argv,
            capture=capture,
            text=True,
            timeout=seconds,
            env={**os.environ, **added} if added else None,
        )
    except FileNotFoundError:
        raise EnvironmentMissing(NO_COMPOSE) from None
    except subprocess.TimeoutExpired:
        raise EnvironmentMissing(
            f"docker compose {args[0] if args else ''} did not finish within {seconds:g} s and was "
            f"stopped: check the engine (docker info), or set {TIMEOUT_VARIABLE} to wait longer"
        ) from None
    if check and proc.returncode != 0:
        stderr = proc.stderr or ""
        if "is not a docker command" in stderr or (
            "unknown command" in stderr and "compose" in stderr
        ):
            raise EnvironmentMissing(NO_COMPOSE)
        raise UnusableInput(
            f"docker compose {args[0] if args else ''} failed: {_first_error_line(stderr)}"
        )
    return proc


def load_project(target: ComposeTarget) -> ComposeProject:
    """Resolve the project exactly as compose will run it."""
    proc = run_compose(target, "config", "--format", "json", check=False)
    if proc.returncode != 0:
        stderr = proc.stderr or ""
        if "is not a docker command" in stderr:
            raise EnvironmentMissing(NO_COMPOSE)
        from devtools.compose.missing_env import missing_env_file
        from devtools.compose.source import input_problem

        problem = input_problem(target.files)  # compose-go often names the wrong line
        if problem:
            raise UnusableInput(problem)
        missing = missing_env_file(stderr)
        if missing:
            raise UnusableInput(missing)
        files = ", ".join(str(f) for f in target.files)
        raise UnusableInput(f"{files}: compose cannot resolve it: {_first_error_line(stderr)}")
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise UnusableInput(f"docker compose config printed invalid JSON: {exc}") from None
    except RecursionError:
        files = ", ".join(str(f) for f in target.files)
        raise UnusableInput(f"{files}: nested too deeply to read: flatten it") from None
    return parse_config(doc, files=target.files)


def compose_version(timeout: float = 10.0) -> str | None:
    """The compose version string (e.g. "2.40.3"), or None when compose v2 is not there."""
    from devtools import proc as procs

    try:
        proc = procs.run([*compose_command(), "version", "--short"], text=True, timeout=timeout)
    except (FileNotFoundError, subprocess.TimeoutExpired, EnvironmentMissing):
        return None
    version = proc.stdout.strip().lstrip("v")
    return version if proc.returncode == 0 and version else None


def targets_for(
    config: ProjectConfig,
    name: str,
    extra_files: Sequence[Path] = (),
    profiles: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> ComposeTarget:
    return ComposeTarget(
        name=name,
        files=(*compose_files(config), *extra_files),
        profiles=tuple(profiles),
        env=tuple((env or {}).items()),
    )
