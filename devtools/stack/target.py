"""Which compose project and files a track's stack is: the one target `up`, `down`, `db reset`
and `run` all act on."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from devtools.config import ProjectConfig
from devtools.docker.compose import ComposeTarget, targets_for
from devtools.tracks.identity import Track, project_name
from devtools.tracks.override import override_path

# Local CA certificates (Debian's place for them). A build behind a TLS-intercepting proxy must
# trust the same ones the host trusts, or pip cannot reach PyPI.
LOCAL_CA_DIR = Path("/usr/local/share/ca-certificates")
CA_VARIABLE = "OMC_BUILD_CA_CERTS"


def stack_target(
    config: ProjectConfig, track: Track, extra_files: Sequence[Path] = ()
) -> ComposeTarget:
    """The track's compose project (`<project>-<track>`) over the project's compose files.

    The track's generated host-port override (`omc-dev ports`) comes right after them when it
    exists, so every command sees the stack as `up` started it; other per-track override files
    are passed as `extra_files`. Later files override earlier ones. The track's values
    (`[tool.omc-dev.tracks.env]`) go into compose's environment, for `${VAR}` interpolation.
    """
    from devtools.tracks.ports import track_env

    override = override_path(config.root, track.key)
    ports = (override,) if override.is_file() else ()
    return targets_for(
        config, project_name(config, track), (*ports, *extra_files), env=track_env(config, track)
    )


def ports_target(
    config: ProjectConfig, track: Track, extra_files: Sequence[Path] = ()
) -> ComposeTarget:
    """`stack_target` for commands that start containers (`up`, `db reset`, `run --start`):
    the track's host ports are allocated (or confirmed) and its override written first, so two
    tracks never publish the same host port."""
    from devtools.tracks.ports import ensure_ports

    ensure_ports(config, track)
    return stack_target(config, track, extra_files)


def compose_env() -> dict[str, str]:
    """Variables for compose commands that may build: the host's local CA certificates, which
    compose.yaml passes to the build as EXTRA_CA_CERTS (unless already set by the user)."""
    if os.environ.get(CA_VARIABLE) is not None or not LOCAL_CA_DIR.is_dir():
        return {}
    pems = []
    for path in sorted(LOCAL_CA_DIR.rglob("*.crt")):
        try:
            pems.append(path.read_text(errors="replace").strip())
        except OSError:
            continue  # unreadable to this user: the build goes on without it
    return {CA_VARIABLE: "\n".join(pems)} if pems else {}
