"""`omc-dev db clone|snapshot|restore|snapshots`: parse, plan, confirm, copy, migrate, report."""

from __future__ import annotations

import os
import sys
from datetime import UTC
from typing import TYPE_CHECKING

import click

from devtools import config as config_mod
from devtools.options import format_option
from devtools.report.render import DATA_FORMATS

if TYPE_CHECKING:
    from devtools.config import ProjectConfig
    from devtools.dbcopy.container import DbContainer
    from devtools.dbcopy.snapshots import Snapshot
    from devtools.docker.compose import ComposeTarget
    from devtools.tracks.identity import Track

TRACK = click.option(
    "--track",
    metavar="TRACK",
    help="Track whose database to use (default: OMC_TRACK, else the branch).",
)
YES = click.option("--yes", "-y", is_flag=True, help="Go ahead without asking.")
FORCE = click.option(
    "--force",
    is_flag=True,
    help="Go ahead even at an Alembic revision this checkout's migrations do not have.",
)


class _Stack:
    """A track's stack as these commands need it: names, services, the running db container."""

    def __init__(self, cfg: ProjectConfig, track: Track, command: str) -> None:
        from devtools.docker.compose import load_project
        from devtools.stack import ops
        from devtools.stack.target import stack_target

        self.cfg, self.track = cfg, track
        self.target: ComposeTarget = stack_target(cfg, track)
        project = load_project(self.target)  # a broken compose file: one line here
        self.db_service, self.migrate_service = ops.db_services(cfg, project, command)

    @property
    def label(self) -> str:
        return f"track {self.track.name}"

    def running_db(self) -> DbContainer | None:
        from devtools.dbcopy.container import find

        return find(self.target.name, self.db_service)

    def start_db(self) -> DbContainer:
        from devtools.errors import EnvironmentMissing
        from devtools.stack import ops
        from devtools.stack.target import ports_target

        ops.up(ports_target(self.cfg, self.track), [self.db_service])
        found = self.running_db()
        if found is None:
            raise EnvironmentMissing(
                f"{self.db_service} of {self.label} did not stay up: see `omc-dev status --track "
                f"{self.track.name}`"
            )
        return found

    def migrate(self) -> None:
        from devtools.stack import ops
        from devtools.stack.target import ports_target

        ops.migrate(ports_target(self.cfg, self.track), self.migrate_service)


def _not_running(stack: _Stack, start_hint: bool) -> str:
    hint = ", or pass --start" if start_hint else ""
    return (
        f"the {stack.db_service} of {stack.label} is not running (compose project "
        f"{stack.target.name}): start it with `omc-dev up --track {stack.track.given}`{hint}"
    )


def _check_heads(cfg: ProjectConfig, heads: tuple[str, ...], what: str, force: bool) -> None:
    from devtools.dbcopy.heads import known_revisions, refusal
    from devtools.dbcopy.snapshots import unknown_heads
    from devtools.errors import UnusableInput

    if force or not heads:
        return
    known = known_revisions(cfg)
    if known is None:
        return
    unknown = unknown_heads(heads, known)
    if unknown:
        raise UnusableInput(refusal(what, unknown, "pass --force (migrate will then fail)"))


def _replace_steps(stack: _Stack, database: str, *, start: bool) -> list[str]:
    steps = [f"start {stack.db_service} of {stack.label}"] if start else []
    return [
        *steps,
        f"create the roles the dump needs that {stack.label}'s server lacks",
        f"restore into a new database beside {database} of {stack.label}, then replace "
        f"{database} with it (every row now in it is lost; if the copy fails it stays as it was)",
        f"run {stack.migrate_service} (migrations to the newest revision)",
    ]


@click.command()
@click.option(
    "--from", "source", required=True, metavar="TRACK", help="The track to copy the database of."
)
@click.option(
    "--track", metavar="TRACK", help="The track to copy into (default: OMC_TRACK, else the branch)."
)
@click.option("--start", is_flag=True, help="Start the source track's db when it is not running.")
@FORCE
@YES
def clone(source: str, track: str | None, start: bool, force: bool, yes: bool) -> int:
    """Copy another track's database into this track's (or --track's), replacing it.

    Streams `pg_dump -Fc` from the source's db container into `pg_restore` in the target's (no
    file on the host); the source keeps running. Roles the dump needs are created; the target's
    migrations then run, as after `db reset`. A copy that fails leaves the target as it was.
    Prints the plan first; needs --yes, or a confirmation at a terminal.
    """
    from devtools.dbcopy.restore import end_dumps, restore_into
    from devtools.dbcopy.stream import human_size
    from devtools.dbcopy.take import dump_argv, dump_roles
    from devtools.errors import EnvironmentMissing, UnusableInput
    from devtools.report.confirm import confirm_plan
    from devtools.tracks.identity import resolve_track

    cfg = config_mod.load()
    dst = _Stack(cfg, resolve_track(cfg, track), "db clone")
    src = _Stack(cfg, resolve_track(cfg, source), "db clone")
    if src.target.name == dst.target.name:
        raise UnusableInput(
            f"--from {source} is the target track itself: name another track to copy from "
            "(or --track for the one to copy into)"
        )
    src_db = src.running_db()
    if src_db is None:
        if not start:
            raise EnvironmentMissing(_not_running(src, start_hint=True))
        src_db = src.start_db()
    _check_heads(cfg, src_db.alembic_heads(), f"the database of {src.label}", force)
    dumped_roles, owner = dump_roles(src_db), src_db.database_owner()  # before any change
    dst_db = dst.running_db()
    confirm_plan(
        f"omc-dev db clone (from {src.label} into {dst.label}, compose project "
        f"{dst.target.name}) will:",
        [
            f"dump database {src_db.database} of {src.label} (compose project "
            f"{src.target.name}); it keeps running: pg_dump reads one consistent snapshot",
            *_replace_steps(dst, src_db.database, start=dst_db is None),
        ],
        yes=yes,
    )
    if dst_db is None:
        dst_db = dst.start_db()
    app = f"omc-dev-clone-{os.getpid()}"
    try:
        outcome = restore_into(
            dst_db,
            dump_argv(src_db, app=app, compress=False),
            feed_env=src_db.exec_env(),
            dumped_roles=dumped_roles,
            owner=owner,
            source=src.label,
            target_label=dst.label,
        )
    except BaseException:
        end_dumps(src_db, app)  # a pg_dump whose reader is gone
        raise
    dst.migrate()
    click.echo(
        f"copied database {src_db.database} of {src.label} into {dst.label} "
        f"({human_size(outcome.streamed)} streamed) and migrated"
    )
    return 0


@click.command()
@click.argument("name", required=False)
@TRACK
def snapshot(name: str | None, track: str | None) -> int:
    """Save the track's database as snapshot NAME (default: TRACK-DATE-TIME).

    Snapshots are kept per repository (in its shared git dir), so any worktree or track can
    restore them; the oldest are pruned ([tool.omc-dev.db] snapshot-keep, snapshot-max-age-days).
    """
    from datetime import datetime

    from devtools.dbcopy.snapshots import (
        check_name,
        default_name,
        retention,
        store_for,
        to_prune,
    )
    from devtools.dbcopy.stream import human_size
    from devtools.dbcopy.take import head_commit, take
    from devtools.errors import EnvironmentMissing, UnusableInput
    from devtools.tracks.identity import resolve_track

    cfg = config_mod.load()
    rule = retention(cfg.section("db"))
    stack = _Stack(cfg, resolve_track(cfg, track), "db snapshot")
    name = check_name(name or default_name(stack.track.name, datetime.now(UTC)))
    store = store_for(cfg.root)
    if store.meta(name).exists() or store.dump(name).exists():
        raise UnusableInput(
            f"snapshot {name!r} already exists: choose another name "
            "(`omc-dev db snapshots` lists the names taken)"
        )
    source = stack.running_db()
    if source is None:
        raise EnvironmentMissing(_not_running(stack, start_hint=False))
    store.remove_stale_temp_files()
    snap = take(store, name, source, track=stack.track.name, commit=head_commit(cfg.root))
    pruned = to_prune(store.all()[0], rule, datetime.now(UTC), protect=name)
    for old in pruned:
        store.delete(old.name)
    heads = ", ".join(snap.heads) or "none"
    click.echo(
        f"snapshot {name} of {stack.label}: {human_size(snap.size)}, Alembic head {heads}"
        + (f"; pruned {', '.join(s.name for s in pruned)}" if pruned else "")
    )
    return 0


@click.command()
@click.argument("name")
@TRACK
@FORCE
@YES
def restore(name: str, track: str | None, force: bool, yes: bool) -> int:
    """Replace the track's database with snapshot NAME, then migrate.

    Refuses a snapshot at an Alembic revision this checkout does not have (unless --force), a
    damaged one, or one from a newer PostgreSQL major. A restore that fails leaves the database
    as it was. Prints the plan first; needs --yes, or a confirmation at a terminal.
    """
    from devtools.dbcopy.restore import restore_into
    from devtools.dbcopy.snapshots import store_for
    from devtools.dbcopy.stream import human_size
    from devtools.report.confirm import confirm_plan
    from devtools.tracks.identity import resolve_track

    cfg = config_mod.load()
    store = store_for(cfg.root, create=False)
    snap = store.read(name)
    _check_heads(cfg, snap.heads, f"snapshot {name}", force)
    _check_file(store.dump(name), snap)
    stack = _Stack(cfg, resolve_track(cfg, track), "db restore")
    target = stack.running_db()
    if target is not None:
        _check_major(snap, target, stack)
    confirm_plan(
        f"omc-dev db restore {name} (into {stack.label}, compose project {stack.target.name}) will:",
        _replace_steps(stack, target.database if target else snap.database, start=target is None),
        yes=yes,
    )
    if target is None:
        target = stack.start_db()
        _check_major(snap, target, stack)
    restore_into(
        target,
        store.dump(name),
        feed_env=None,
        dumped_roles=snap.roles_sql,
        owner=snap.owner,
        source=f"snapshot {name}",
        target_label=stack.label,
    )
    stack.migrate()
    click.echo(
        f"restored snapshot {name} ({human_size(snap.size)}, taken {snap.created} from track "
        f"{snap.track}) into {stack.label} and migrated"
    )
    return 0


def _check_file(path: os.PathLike[str], snap: Snapshot) -> None:
    """The dump is the one described: same size and checksum (damage shows before anything)."""
    import hashlib
    from pathlib import Path

    from devtools.errors import UnusableInput

    fix = "delete it (its .dump and .json files) and take a new one"
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    except OSError as exc:
        raise UnusableInput(
            f"snapshot {snap.name} cannot be read ({exc.strerror}): {fix}"
        ) from None
    if digest.hexdigest() != snap.sha256:
        raise UnusableInput(
            f"snapshot {snap.name} is damaged (its dump does not match its checksum): {fix}"
        )


def _check_major(snap: Snapshot, target: DbContainer, stack: _Stack) -> None:
    from devtools.errors import UnusableInput

    major = target.server_major()
    if snap.server_major > major:
        raise UnusableInput(
            f"snapshot {snap.name} was taken from PostgreSQL {snap.server_major} and "
            f"{stack.label}'s db runs {major}: restore it into a track whose db runs "
            f"{snap.server_major} or newer (nothing was changed)"
        )


@click.command()
@format_option(*DATA_FORMATS, default="table")
def snapshots(fmt: str) -> int:
    """List the repository's snapshots: size, time, track, git commit and Alembic head."""
    import json

    from devtools.dbcopy.snapshots import store_for
    from devtools.dbcopy.stream import human_size

    cfg = config_mod.load()
    store = store_for(cfg.root, create=False)
    found, damaged = store.all()
    if fmt == "json":
        doc = {
            "folder": str(store.folder),
            "snapshots": [s.summary() for s in found],
            "damaged": damaged,
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    if not found:
        click.echo(f"no snapshots in {store.folder} (take one with `omc-dev db snapshot`)")
    else:
        table = Table(title=f"snapshots in {store.folder}", title_justify="left")
        for column in ("name", "size", "taken (UTC)", "track", "commit", "Alembic head"):
            table.add_column(column, no_wrap=column in ("size", "taken (UTC)", "commit"))
        for s in found:
            table.add_row(
                s.name,
                human_size(s.size),
                s.created.replace("T", " ").removesuffix("+00:00"),
                s.track,
                (s.commit or "-")[:12],
                ", ".join(s.heads) or "-",
            )
        Console(highlight=False).print(table)
    for name in damaged:
        click.echo(
            f"note: snapshot {name} is damaged (description or dump missing or unreadable): "
            f"delete its files in {store.folder}",
            err=True,
        )
    return 0
