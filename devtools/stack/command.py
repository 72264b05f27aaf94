"""`omc-dev up`, `omc-dev down`, `omc-dev db reset`: parse, act on the track's stack, report."""

from __future__ import annotations

import click

from devtools import config as config_mod
from devtools.lazy import LazyGroup
from devtools.stack import ops
from devtools.stack.target import ports_target, stack_target
from devtools.tracks.identity import resolve_track

TRACK = click.option(
    "--track", help="Track whose stack to use (default: OMC_TRACK, else the branch)."
)
YES = click.option("--yes", "-y", is_flag=True, help="Go ahead without asking.")


@click.command()
@click.argument("services", nargs=-1)
@click.option("--build", is_flag=True, help="Rebuild images first (after dependency changes).")
@TRACK
def up(services: tuple[str, ...], build: bool, track: str | None) -> int:
    """Start the track's stack (or SERVICES) and wait until it is healthy.

    Builds missing images, runs the one-off migrate service, then lists each service with its
    state and published ports.
    """
    cfg = config_mod.load()
    target = ports_target(cfg, resolve_track(cfg, track))
    ops.up(target, services, build=build)
    _print_status(ops.status(target), target.name)
    return 0


@click.command()
@click.option("--volumes", "-v", is_flag=True, help="Also delete the stack's volumes (its data).")
@YES
@TRACK
def down(volumes: bool, yes: bool, track: str | None) -> int:
    """Stop and remove the track's containers and network (and volumes with --volumes).

    Deleting volumes destroys data: the plan is printed first and needs --yes or a confirmation.
    """
    from devtools.docker.compose import load_project
    from devtools.report.confirm import confirm_plan

    cfg = config_mod.load()
    target = stack_target(cfg, resolve_track(cfg, track))
    project = load_project(target)  # a broken compose file: one line here, not compose's lines
    if volumes:
        names = sorted(project.volumes.values())
        confirm_plan(
            f"omc-dev down --volumes (compose project {target.name}) will:",
            [
                "stop and remove its containers and network",
                f"delete its volumes {', '.join(names) or '(none declared)'} (their data is lost)",
            ],
            yes=yes,
        )
    ops.down(target, volumes=volumes)
    if volumes:  # nothing of an old-named stack is left to keep: the next `up` takes the new name
        from devtools.tracks.stackname import unpin

        unpin(cfg.root, target.name)
    return 0


DB_COMMANDS = {
    "reset": (
        "devtools.stack.command:reset",
        "The clean slate: delete the db volume, start db, migrate.",
    ),
    "clone": (
        "devtools.dbcopy.command:clone",
        "Copy another track's database into this track's (pg_dump | pg_restore, then migrate).",
    ),
    "snapshot": (
        "devtools.dbcopy.command:snapshot",
        "Save the track's database as a snapshot shared by every worktree and track.",
    ),
    "restore": (
        "devtools.dbcopy.command:restore",
        "Replace the track's database with a snapshot, then migrate.",
    ),
    "snapshots": (
        "devtools.dbcopy.command:snapshots",
        "List the snapshots: size, time, track, git commit, Alembic head.",
    ),
}


@click.group(cls=LazyGroup, lazy=DB_COMMANDS)
def db() -> None:
    """The stack's database: the clean slate, copies between tracks, snapshots."""


@db.command()
@YES
@TRACK
def reset(yes: bool, track: str | None) -> int:
    """The clean slate: delete the db volume, start db, wait until healthy, migrate.

    Prints the plan first; needs --yes, or a confirmation at a terminal.
    """
    from devtools.docker.compose import load_project
    from devtools.report.confirm import confirm_plan

    cfg = config_mod.load()
    chosen = resolve_track(cfg, track)
    target = stack_target(cfg, chosen)
    plan = ops.reset_plan(cfg, load_project(target))
    confirm_plan(f"omc-dev db reset (compose project {target.name}) will:", plan.steps(), yes=yes)
    ops.reset_db(ports_target(cfg, chosen), plan)  # db starts on the track's own host port
    click.echo(f"database of {target.name} reset and migrated")
    return 0


def _print_status(rows: list[ops.ServiceState], project: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"compose project {project}", title_justify="left")
    for column in ("service", "state", "health", "ports"):
        table.add_column(column, no_wrap=column != "ports")
    for row in rows:
        table.add_row(row.service, row.state, row.health or "-", "\n".join(row.ports) or "-")
    Console(highlight=False).print(table)
