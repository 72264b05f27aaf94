"""A short-lived root container that runs one command over many paths inside the worktree.

The worktree is the only thing bind-mounted, so even a symlink planted after the scan can only
resolve inside the tree or inside the throwaway container, never to the host. Paths travel in a
NUL-separated file read by `xargs -0` (no shell, no command-line length limit). The container is
labelled as ours and always removed, also on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from devtools.config import ProjectConfig
from devtools.errors import EnvironmentMissing, UnusableInput

DEFAULT_IMAGE = "debian:bookworm-slim"
TREE = PurePosixPath("/omc-tree")
PATH_LIST = PurePosixPath("/omc-paths")
LABEL = "dev.omc.helper"  # value: "ownership"; dev.omc.tree names the worktree


@dataclass(frozen=True)
class HelperRun:
    code: int
    last_error: str  # the last line the command wrote on stderr ("" if none)


def helper_image(config: ProjectConfig) -> str:
    image = config.section("ownership").get("helper-image", DEFAULT_IMAGE)
    if not isinstance(image, str) or not image:
        raise UnusableInput(
            f"{config.pyproject}: [tool.omc-dev.ownership] helper-image must be an image name"
        )
    return image


def container_path(root: Path, path: Path | str) -> str:
    rel = Path(path).relative_to(root)
    return str(TREE.joinpath(*rel.parts))


def run_as_root(
    root: Path,
    command: Sequence[str],
    paths: Sequence[Path | str],
    *,
    image: str = DEFAULT_IMAGE,
    timeout: float = 900,
) -> HelperRun:
    """Run `command -- PATH...` as root in a container that sees only `root` (at /omc-tree).

    Returns the command's exit code and its last stderr line; raises a one-line UserError when
    the engine or the image is not there. Callers verify the result on disk either way.
    """
    if not paths:
        return HelperRun(0, "")
    import requests.exceptions

    from devtools.docker import errors as docker_errors
    from devtools.docker.sdk import client

    try:
        engine = client()
    except EnvironmentMissing as exc:
        raise EnvironmentMissing(
            f"{len(paths)} entries are not yours and only root can change them: {exc}; "
            "or run omc-dev as root (sudo)"
        ) from None
    try:
        engine.images.get(image)
    except docker_errors.ImageNotFound:
        raise EnvironmentMissing(
            f"the helper image {image} is not available locally: `docker pull {image}`, "
            "or set helper-image in [tool.omc-dev.ownership]"
        ) from None
    listing = b"".join(os.fsencode(container_path(root, p)) + b"\0" for p in paths)
    with tempfile.TemporaryDirectory(prefix="omc-dev-paths-") as tmp:
        list_file = Path(tmp, "paths")
        list_file.write_bytes(listing)
        container = engine.containers.create(
            image,
            command=["xargs", "-0", "-r", "-a", str(PATH_LIST), *command, "--"],
            name=f"omc-dev-ownership-{uuid.uuid4().hex[:12]}",
            user="0:0",
            # Root, but only the powers chown and rm need: no network, no new privileges.
            cap_drop=["ALL"],
            cap_add=["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER"],
            security_opt=["no-new-privileges"],
            network_disabled=True,
            labels={LABEL: "ownership", "dev.omc.tree": str(root)},
            volumes={
                str(root): {"bind": str(TREE), "mode": "rw"},
                str(list_file): {"bind": str(PATH_LIST), "mode": "ro"},
            },
            working_dir=str(TREE),
        )
        try:
            container.start()
            status = container.wait(timeout=timeout)
            code = int(status.get("StatusCode", -1))
            stderr = container.logs(stdout=False, stderr=True).decode(errors="replace")
            lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
            return HelperRun(code, lines[-1] if lines else "")
        except (docker_errors.APIError, requests.exceptions.RequestException) as exc:
            raise EnvironmentMissing(
                f"the helper container failed to run: {exc}: check the Docker engine"
            ) from None
        finally:
            with contextlib.suppress(docker_errors.NotFound):
                container.remove(force=True)
