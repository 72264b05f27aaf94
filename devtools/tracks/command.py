"""`omc-dev ports`: the track's host ports, the registry, and who holds a port."""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING

import click

from devtools import config as config_mod
from devtools.options import format_option
from devtools.report.render import DATA_FORMATS
from devtools.tracks.identity import resolve_track

if TYPE_CHECKING:
    from devtools.tracks.registry import PortAssignment, TrackEntry

FORMATS = (*DATA_FORMATS, "env")  # the data formats, and shell assignments


class PortsGroup(click.Group):
    """`omc-dev ports TRACK`: a first word that is not a subcommand names the track."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "show", self.commands["show"], args
        return super().resolve_command(ctx, args)


@click.group(
    cls=PortsGroup,
    invoke_without_command=True,
    subcommand_metavar="[TRACK] | list | release TRACK | who PORT",
)
@click.option("--track", "track_opt", help="Track (default: OMC_TRACK, else the branch).")
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
    help="Output format.",
)  # fmt: skip
@click.pass_context
def ports(ctx: click.Context, track_opt: str | None, fmt: str) -> int:
    """Host ports of a track's stack: allocate, list, release, find a port's holder.

    `omc-dev ports [TRACK]` gives the track a host port for every published port of every
    service (the same ones next time), writes the compose override that `omc-dev up` uses, and
    prints them. The registry is shared by all your repos and worktrees.
    """
    if ctx.invoked_subcommand is None:
        return _show(track_opt, fmt)
    return 0


@ports.command("show", hidden=True)
@click.argument("track")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None)
@click.pass_context
def show(ctx: click.Context, track: str, fmt: str | None) -> int:
    # `omc-dev ports --format json TRACK` puts the option on the group.
    parent_fmt = ctx.parent.params["fmt"] if ctx.parent else "table"
    return _show(track, fmt or parent_fmt)


def _show(track_name: str | None, fmt: str) -> int:
    from devtools.tracks.ports import ensure_ports

    cfg = config_mod.load()
    track = resolve_track(cfg, track_name)
    result = ensure_ports(cfg, track)
    entry = result.allocation.entry
    override = str(result.override) if result.override else None
    if fmt == "json":
        payload = {
            "track": track.name,
            "track_source": track.source,
            "project": result.ref.project,
            "repo": result.ref.repo,
            "ports": [p.to_dict() for p in entry.ports],
            "override": override,
            "moved": [
                {"port": m.new.key, "from": m.old.published, "to": m.new.published, "why": m.reason}
                for m in result.allocation.moved
            ],
            "skipped": [{"port": s.port, "why": s.reason} for s in result.allocation.skipped],
            "engine_checked": result.allocation.engine_checked,
            "reclaimed": [e.track for e in result.reclaimed],
            "env": result.values,
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return 0
    if fmt == "env":
        lines = [*env_lines(result.ref.project, entry), *result.values.items()]
        sys.stdout.write("".join(f"{k}={_shell_word(v)}\n" for k, v in lines))
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    title = f"track {track.name} (compose project {result.ref.project})"
    values = "".join(f"\n  {k}={v}" for k, v in result.values.items())
    if not entry.ports:
        console.print(f"{title}: no service publishes a port", soft_wrap=True)
        if values:
            console.print(
                f"values ([tool.omc-dev.tracks.env]):{values}", soft_wrap=True, markup=False
            )
        return 0
    table = Table(title=title, title_justify="left")
    for column in ("service", "container port", "host port"):
        table.add_column(column, no_wrap=True)
    for p in entry.ports:
        where = f"{p.host_ip}:" if p.host_ip else ""
        table.add_row(p.service, f"{p.target}/{p.protocol}", f"{where}{p.published}")
    console.print(table)
    for move in result.allocation.moved:
        console.print(
            f"moved {move.new.key} from {move.old.published} to {move.new.published}: {move.reason}"
        )
    for gone in result.reclaimed:
        console.print(f"reclaimed the ports of track {gone.track} (its worktree is gone)")
    if not result.allocation.engine_checked:
        console.print("note: the Docker engine did not answer; container ports were not checked")
    if values:
        console.print(f"values ([tool.omc-dev.tracks.env]):{values}", soft_wrap=True, markup=False)
    console.print(f"override: {override}", soft_wrap=True)
    return 0


def _shell_word(value: str) -> str:
    """A value as one shell word: unquoted when it is safe (URLs, names, ports), else quoted,
    so `eval "$(omc-dev ports --format env)"` sets exactly the value."""
    import shlex

    return shlex.quote(value) if value else ""


def env_lines(project: str, entry: TrackEntry) -> list[tuple[str, str]]:
    """`COMPOSE_PROJECT_NAME`, then `OMC_PORT_<SERVICE>_<PORT>` (and `OMC_PORT_<SERVICE>` when
    the service publishes one port): host-side variables, for shells and host tools."""
    lines = [("COMPOSE_PROJECT_NAME", project)]
    per_service: dict[str, list[PortAssignment]] = {}
    for p in entry.ports:
        per_service.setdefault(p.service, []).append(p)
    for service, assignments in sorted(per_service.items()):
        name = "OMC_PORT_" + re.sub(r"[^A-Z0-9]+", "_", service.upper()).strip("_")
        if len(assignments) == 1:
            lines.append((name, str(assignments[0].published)))
        for p in assignments:
            suffix = f"_{p.target}" + ("_UDP" if p.protocol == "udp" else "")
            lines.append((name + suffix, str(p.published)))
    return lines


@ports.command("list")
@format_option(*DATA_FORMATS, default="table")
def list_(fmt: str) -> int:
    """Every track in the registry, of every repo; reclaims tracks whose worktree is gone."""
    from devtools.tracks import registry

    with registry.locked() as reg:
        reclaimed = reg.reclaim()
        entries = sorted(reg.entries.values(), key=lambda e: (e.repo_name, e.repo, e.track))
        path = reg.path
    if fmt == "json":
        payload = {
            "registry": str(path),
            "tracks": [e.to_dict() for e in entries],
            "reclaimed": [e.to_dict() for e in reclaimed],
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    if not entries:
        console.print(f"no tracks hold ports ({path})")
    else:
        table = Table(title=f"port registry {path}", title_justify="left")
        for column in ("repo", "track", "compose project", "ports", "worktree"):
            table.add_column(column, overflow="fold")
        for e in entries:
            held = "\n".join(f"{p.key} → {p.published}" for p in e.ports)
            table.add_row(e.repo_name, e.track, e.project, held, "\n".join(e.worktrees))
        console.print(table)
    for gone in reclaimed:
        console.print(f"reclaimed track {gone.track} of {gone.repo_name}: its worktree is gone")
    return 0


@ports.command("release")
@click.argument("track")
@click.option("--yes", "-y", is_flag=True, help="Do it without asking.")
def release(track: str, yes: bool) -> int:
    """Give back a track's ports (and delete its override file)."""
    from devtools.report.confirm import ask
    from devtools.tracks import ports as track_ports
    from devtools.tracks.occupancy import published_or_none

    cfg = config_mod.load()
    name = resolve_track(cfg, track).name
    entry = track_ports.registered(cfg, name)
    plan = [f"release the ports of track {name} ({entry.repo_name}):"]
    plan += [f"  {p.key} -> host port {p.published}" for p in entry.ports]
    running = [p for p in published_or_none() or () if p.project == entry.project]
    if running:
        plan.append(
            f"  its stack (compose project {entry.project}) is running and keeps publishing "
            f"them until `omc-dev down --track {name}`"
        )
    click.echo("\n".join(plan))
    refused = "not released: pass --yes to release without a terminal to confirm"
    ask("release?", yes=yes, refused=refused, declined="not released")
    track_ports.release(entry)
    click.echo(f"released track {name}")
    return 0


@ports.command("who")
@click.argument("port", type=click.IntRange(1, 65535))
@click.option("--udp", is_flag=True, help="A UDP port (default: TCP).")
@format_option(*DATA_FORMATS, default="table")
def who(port: int, udp: bool, fmt: str) -> int:
    """Which track, container or host process holds PORT, and the command that frees it."""
    from devtools.tracks.who import who as find

    report = find(port, "udp" if udp else "tcp")
    if fmt == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
        return 0
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    label = f"port {port}/{report.protocol}"
    if not report.holders:
        console.print(f"{label} is free")
    else:
        table = Table(title=f"who holds {label}", title_justify="left")
        for column in ("kind", "holder", "detail", "to free it"):
            table.add_column(column, overflow="fold")
        for h in report.holders:
            table.add_row(h.kind, Text(h.name), Text(h.detail), Text(h.fix))
        console.print(table)
    if not report.engine_checked:
        console.print("note: the Docker engine did not answer; containers were not checked")
    return 0


@click.command()
@click.option("--track", "track_opt", help="Track (default: OMC_TRACK, else the branch).")
@format_option("text", "json", default="text")
def urls(track_opt: str | None, fmt: str) -> int:
    """The track's web pages: a URL for each published HTTP port (not PostgreSQL, SMTP, ...).

    Allocates the track's host ports like `omc-dev ports` when it holds none yet. Which ports are
    HTTP: `http` / `not-http` in [tool.omc-dev.tracks], else labels and healthchecks, else
    well-known ports (see docs/commands.md).
    """
    from devtools.docker.compose import load_project
    from devtools.report.render import render
    from devtools.report.report import Report
    from devtools.tracks.ports import base_target, ensure_ports
    from devtools.tracks.urls import track_urls

    cfg = config_mod.load()
    track = resolve_track(cfg, track_opt)
    project = load_project(base_target(cfg, track))
    result = ensure_ports(cfg, track, project)
    judged = track_urls(cfg, project, result.allocation.entry.ports)
    if fmt == "json":
        data = {
            "track": track.name,
            "project": result.ref.project,
            "urls": [j.to_dict() for j in judged if j.url],
            "other_ports": [j.to_dict() for j in judged if not j.url],
        }
        return render(Report("urls", [], data=data), "json")
    out = [f"track {track.name} (compose project {result.ref.project})"]
    shown = [j for j in judged if j.url]
    width = max((len(j.port.service) for j in shown), default=0)
    out += [f"  {j.port.service:<{width}}  {j.url}" for j in shown]
    if not shown:
        out.append("  no published HTTP port")
    others = [j for j in judged if not j.url]
    if others:
        listed = ", ".join(f"{j.port.service}:{j.port.target} ({j.why})" for j in others)
        out.append(f"not listed: {listed}")
        if any(j.why == "not known as HTTP" for j in others):
            out.append('  (to list one: http = ["SERVICE:PORT"] in [tool.omc-dev.tracks])')
    # Plain lines, never wrapped: terminals make a whole URL clickable only on one line.
    sys.stdout.write("\n".join(out) + "\n")
    return 0
