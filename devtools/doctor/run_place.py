"""Where `omc-dev run` will run commands, and whether that looks right.

A machine can look like a container without being one: VMs and CI runners built from container
images often keep a stray `/.dockerenv`. Then `omc-dev run` would run every command directly on
the host. When a generic signal (not our own marker) says "inside" but the engine we reach runs no
container by our hostname (the name docker gives a container), the check warns and names the fix.
"""

from __future__ import annotations

import socket
from pathlib import Path

from devtools.container.detect import MARKER, inside_container
from devtools.docker.engine_api import Engine, EngineError
from devtools.doctor.model import DoctorCheck, DoctorContext, Outcome
from devtools.errors import UserError
from devtools.findings import Finding, Severity


def check_run_place(ctx: DoctorContext) -> Outcome:
    reason = inside_container()
    if reason is None:
        return Outcome(f"on the host: {_which_container(ctx)}")
    if reason == f"{MARKER}=1":
        return Outcome(f"inside a container ({reason}): commands run directly")
    hostname = socket.gethostname()
    try:
        running = Engine().find_containers({})
    except (UserError, EngineError):
        return Outcome(f"inside a container ({reason}): commands run directly")
    if any(str(c.get("Id", "")).startswith(hostname) for c in running):
        return Outcome(f"inside container {hostname} ({reason}): commands run directly")
    return Outcome(
        f"directly on this machine ({reason})",
        [
            Finding(
                "run-place-suspect",
                Severity.WARNING,
                f"omc-dev run will run commands directly here because {reason} says this is a "
                f"container, but the Docker engine here runs no container {hostname}",
                fix=f"if this is the host, set {MARKER}=0 (e.g. in your shell profile)",
            )
        ],
    )


def _which_container(ctx: DoctorContext) -> str:
    """Which service `omc-dev run` picks from the current folder, as `run` itself would."""
    from devtools.container.choose import candidates_label, choose_service

    try:
        project = ctx.project
    except UserError:
        return "commands run in the service's container"
    configured = ctx.config.section("run").get("service")
    here = Path.cwd()
    chosen = str(configured) if configured else None
    if chosen is None:
        service = choose_service(project, here, ctx.config.root)
        chosen = service.name if service is not None else None
    if chosen is not None:
        return f"commands run in {chosen}'s container"
    offered = candidates_label(project, here)
    if not offered:
        return (
            "no service builds the project's code or mounts this folder: run commands "
            "on the host, or pass -s SERVICE"
        )
    return f"from here commands need -s SERVICE (one of {offered})"


CHECKS = [
    DoctorCheck("run-place", "Where omc-dev run runs commands", check_run_place, needs=("engine",)),
]
