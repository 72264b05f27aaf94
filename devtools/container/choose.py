"""Which service runs a command when none is named or configured: the one whose code is here.

Full-stack projects build several services from one folder (a backend and its one-shot
`prestart` both build `./backend`; a frontend and its test runner both build `./frontend`), so
"the only buildable service" rarely exists. The current folder usually tells: the services whose
build context or bind mount holds it are the candidates, and among several, the one named like
the folder (or a parent folder) the user stands in. Only then is the user asked.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from devtools.compose.model import ComposeProject, Service


def services_here(project: ComposeProject, cwd: Path) -> tuple[Service, ...]:
    """The services whose code holds `cwd` most closely, in compose order.

    A service's code is in its bind mount sources, its Dockerfile's folder inside the build
    context (`context: .` with `dockerfile: backend/Dockerfile` is the backend's code) and the
    context itself; the services with the deepest folder holding `cwd` are the ones here.
    """
    here = _real(cwd)
    depth: dict[str, int] = {}
    for service in project.services.values():
        holding = [len(f.parts) for f in map(_real, _code_folders(service)) if _holds(f, here)]
        if holding:
            depth[service.name] = max(holding)
    closest = max(depth.values(), default=0)
    return tuple(s for s in project.services.values() if depth.get(s.name) == closest)


def _code_folders(service: Service) -> list[Path]:
    folders = [Path(source) for source, _ in service.mount_pairs]
    context = service.build_context
    if context is not None:
        folders.append(context)
        dockerfile = (context / (service.dockerfile or "Dockerfile")).parent
        if _holds(_real(context), _real(dockerfile)):  # an absolute path may point elsewhere
            folders.append(dockerfile)
    return folders


def choose_service(project: ComposeProject, cwd: Path, root: Path) -> Service | None:
    """The one service meant from `cwd`, or None when the folder does not settle it."""
    buildable = project.buildable
    if len(buildable) == 1:
        return buildable[0]
    candidates = services_here(project, cwd)
    if len(candidates) == 1:
        return candidates[0]
    return _named_like_folder(candidates, _real(cwd), _real(root))


def candidates_label(project: ComposeProject, cwd: Path) -> str:
    """The services to offer when asking: those here, else every one that builds code.

    Empty when none does: images with config files mounted (a database, a metrics stack) do not
    run the project's code, which then runs on the host.
    """
    offered = services_here(project, cwd) or project.buildable
    return ", ".join(s.name for s in offered)


def _named_like_folder(candidates: Sequence[Service], cwd: Path, root: Path) -> Service | None:
    """The nearest folder from `cwd` up to (not including) `root` that one candidate is named like.

    The root's own name is the checkout's (a worktree is named after its track): it says nothing.
    """
    if len(candidates) < 2:
        return None
    folder = cwd
    while folder != root and root in folder.parents:
        named = [s for s in candidates if _same_name(s.name, folder.name)]
        if len(named) == 1:
            return named[0]
        folder = folder.parent
    return None


def _same_name(service: str, folder: str) -> bool:
    def norm(name: str) -> str:
        return name.lower().replace("_", "-")

    return bool(folder) and norm(service) == norm(folder)


def _holds(outer: Path, inner: Path) -> bool:
    return inner == outer or outer in inner.parents


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))
