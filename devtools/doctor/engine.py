"""Is the environment there: engine, Compose v2, a compose file that resolves."""

from __future__ import annotations

from devtools.doctor.model import DoctorCheck, DoctorContext, Outcome
from devtools.errors import UserError
from devtools.findings import Finding, Severity


def check_engine(ctx: DoctorContext) -> Outcome:
    from devtools.docker.sdk import client

    try:
        version = client().version().get("Version", "?")
    except UserError as exc:
        return Outcome("not reachable", [Finding("engine-unreachable", Severity.ERROR, str(exc))])
    return Outcome(f"Docker Engine {version}")


def check_compose(ctx: DoctorContext) -> Outcome:
    from devtools.docker.compose import compose_version

    version = compose_version()
    if version is None or not version.startswith("2."):
        message = f"Compose v2 not found (got {version})" if version else "Compose v2 not found"
        return Outcome(
            "missing",
            [
                Finding(
                    "compose-v2-missing",
                    Severity.ERROR,
                    message,
                    fix="install the docker-compose-plugin package (or Docker Desktop)",
                )
            ],
        )
    return Outcome(f"Compose {version}")


def check_compose_file(ctx: DoctorContext) -> Outcome:
    try:
        project = ctx.project
    except UserError as exc:
        from devtools.docker.compose import compose_files

        try:  # the project's first compose file: a file an annotation can point at
            path: str | None = str(compose_files(ctx.config)[0])
        except UserError:
            path = None
        return Outcome(
            "does not resolve",
            [Finding("compose-file-invalid", Severity.ERROR, str(exc), path=path)],
        )
    files = ", ".join(f.name for f in project.files)
    return Outcome(f"{files}: project {project.name}, {len(project.services)} services")


CHECKS = [
    DoctorCheck("engine", "Docker engine reachable", check_engine),
    DoctorCheck("compose", "Compose v2 installed", check_compose),
    DoctorCheck("compose-file", "Compose file resolves", check_compose_file, needs=("compose",)),
]
