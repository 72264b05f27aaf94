"""`omc-dev chown` and `omc-dev clean`: parse, call devtools.ownership, report every action."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from devtools import config as config_mod
from devtools.errors import EXIT_FINDINGS, EXIT_OK
from devtools.options import format_option
from devtools.ownership import developer as developer_mod
from devtools.ownership.chown import HOW, ChownReport, give_back
from devtools.ownership.clean import Selection, build_plan
from devtools.ownership.container import helper_image
from devtools.ownership.names import shown
from devtools.ownership.plan import Plan, StepResult, execute
from devtools.ownership.scan import Entry
from devtools.ownership.tree import relative as _rel
from devtools.ownership.tree import resolve_all, worktree_root
from devtools.report.confirm import Declined, ask
from devtools.tracks.identity import resolve_track


def top_level(entries: Sequence[Entry]) -> list[tuple[Entry, int]]:
    """The topmost entries, each with how many listed entries lie below it."""
    tops: list[tuple[Entry, int]] = []
    for entry in sorted(entries, key=lambda e: Path(e.path).parts):
        if tops and Path(entry.path).is_relative_to(tops[-1][0].path):
            tops[-1] = (tops[-1][0], tops[-1][1] + 1)
        else:
            tops.append((entry, 0))
    return tops


def _chown_json(root: Path, report: ChownReport) -> dict[str, Any]:
    return {
        "root": str(root),
        "developer": report.developer.owner,
        "method": report.method,
        "dry_run": report.dry_run,
        "changed": [{"path": e.path, "kind": e.kind, "was": e.owner} for e in report.changed],
        "failed": [
            {"path": f.entry.path, "kind": f.entry.kind, "owner": f.entry.owner, "reason": f.reason}
            for f in report.failed
        ],
        "unreadable": report.unreadable,
        "warnings": report.warnings,
        "hard_links": [
            {"path": f.entry.path, "kind": f.entry.kind, "owner": f.entry.owner, "reason": f.reason}
            for f in report.hard_links
        ],
        "nested_checkouts": [
            {"path": str(s.nested.path), "kind": s.nested.kind, "not_yours": s.entries}
            for s in report.nested
        ],
    }


def _chown_text(root: Path, report: ChownReport) -> None:
    """Every line through `shown`: a file name can never print as a line of its own."""
    owner = report.developer.owner
    if not report.changed and not report.failed and not report.hard_links:
        click.echo(shown(f"✓ nothing under {root} needs giving back: it all belongs to {owner}"))
    elif report.changed:
        verb = "would give" if report.dry_run else "gave"
        click.echo(f"{verb} {len(report.changed)} entries back to {owner} ({HOW[report.method]}):")
        for entry, below in top_level(report.changed):
            slash = "/" if entry.kind == "dir" else ""
            inside = f", +{below} inside" if below else ""
            click.echo(
                shown(
                    f"  {_rel(root, entry.path)}{slash}  ({entry.kind}, was {entry.owner}{inside})"
                )
            )
    for failure in report.failed:
        click.secho(
            shown(f"✗ could not give back {_rel(root, failure.entry.path)}: {failure.reason}"),
            fg="red",
        )
    for held in report.hard_links:
        click.secho(shown(f"✗ {_rel(root, held.entry.path)}: {held.reason}"), fg="red")
    for folder in report.unreadable:
        if report.dry_run:
            click.echo(
                shown(
                    f"  {_rel(root, folder)}/ cannot be read yet: its content is listed once it "
                    "is yours"
                )
            )
        else:
            click.secho(
                shown(f"✗ could not look inside {_rel(root, folder)}/ (permission denied)"),
                fg="red",
            )
    for skipped in report.nested:
        rel = _rel(root, skipped.nested.path)
        click.echo(
            shown(
                f"  not entered: {rel}/ is {skipped.nested.label}, not this worktree's "
                f"({skipped.entries} entries in it are not yours): run omc-dev chown there, "
                f"or name it (omc-dev chown {rel})"
            )
        )
    for warning in report.warnings:
        click.secho(shown(f"warning: {warning}"), fg="yellow", err=True)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=False, path_type=str))
@click.option("--dry-run", is_flag=True, help="List what is not yours; change nothing.")
@format_option("text", "json")
def chown(paths: tuple[str, ...], dry_run: bool, fmt: str) -> int:
    """Give files that containers left behind back to you.

    Finds files, folders and symlinks under the worktree (or PATHs inside it) not owned by you
    (your uid, or SUDO_UID/SUDO_GID under sudo) and makes them yours: directly when running as
    root, else through a short-lived root container that sees only the worktree. Symlinks are
    changed themselves, never their targets, and never followed out of the tree. A file with
    more than one hard link is left alone and named (a name outside the tree would change too).
    Linked worktrees and nested repositories inside are not entered; submodules are.
    Exit 0 when everything is yours, 1 when something could not be changed or was left.
    """
    cfg = config_mod.load()
    root = worktree_root(cfg)
    targets = resolve_all(root, paths) if paths else [root]
    report = give_back(
        root, targets, developer_mod.current(), dry_run=dry_run, image=helper_image(cfg)
    )
    if fmt == "json":
        click.echo(json.dumps(_chown_json(root, report), indent=2))
    else:
        _chown_text(root, report)
    return EXIT_OK if report.dry_run or report.ok else EXIT_FINDINGS


def _plan_text(plan: Plan) -> None:
    """Every line through `shown`: a file name can never forge a line of the plan."""
    click.echo(shown(f"clean plan for {plan.scope}:"))
    for number, step in enumerate(plan.steps, 1):
        click.secho(shown(f"  {number}. {step.title}"), bold=True)
        for item in step.items:
            click.echo(shown(f"       {item}"))
    for note in plan.notes:
        click.echo(shown(f"  note: {note}"))
    if plan.empty:
        click.echo("  ✓ nothing to clean")


def _result_text(result: StepResult) -> None:
    if result.outcome is None:
        click.secho(f"- not run: {result.step.title} (an earlier step failed)", dim=True)
        return
    for line in result.outcome.done:
        click.secho("✓ ", fg="green", nl=False)
        click.echo(shown(line))
    for line in result.outcome.failed:
        click.secho(shown(f"✗ {line}"), fg="red")


@click.command()
@click.option("--dry-run", is_flag=True, help="Print the plan and stop.")
@click.option("--yes", "-y", is_flag=True, help="Apply the plan without asking.")
@click.option(
    "--containers",
    is_flag=True,
    help="This track's containers and networks, and stale containers holding its ports.",
)
@click.option(
    "--volumes",
    is_flag=True,
    help="Also the track's volumes: the clean slate (implies --containers).",
)
@click.option(
    "--artifacts", is_flag=True, help="Generated files matching [tool.omc-dev.clean] artifacts."
)
@click.option(
    "--worktree",
    is_flag=True,
    help="Give everything back, then remove this linked worktree with git and prune.",
)
@click.option("--track", help="Track whose stack to clean (default: OMC_TRACK, else the branch).")
@format_option("text", "json")
def clean(
    *,
    dry_run: bool,
    yes: bool,
    containers: bool,
    volumes: bool,
    artifacts: bool,
    worktree: bool,
    track: str | None,
    fmt: str,
) -> int:
    """Tear down what a track left behind; print the plan first.

    Without a flag: --containers and --artifacts. Never deletes a file any checkout tracks
    (submodules are asked; linked worktrees and nested repositories are not entered), never
    touches anything outside the worktree. Without --yes (and without a terminal to confirm)
    it prints the plan and exits 2 having changed nothing. Exit 0 when every step succeeded,
    1 when one failed (the steps after it are not run).
    """
    cfg = config_mod.load()
    root = worktree_root(cfg)
    selection = Selection.from_flags(
        containers=containers, volumes=volumes, artifacts=artifacts, worktree=worktree
    )
    plan = build_plan(cfg, root, resolve_track(cfg, track), developer_mod.current(), selection)
    as_json = fmt == "json"
    if not as_json:
        _plan_text(plan)
    if plan.empty or dry_run:
        if as_json:
            click.echo(json.dumps(_clean_json(plan, None), indent=2))
        return EXIT_OK
    refused = "plan only, nothing was changed: rerun with --yes to apply it"
    try:
        ask("Apply this plan?", yes=yes, refused=refused, declined=refused)
    except Declined:
        if as_json:
            click.echo(json.dumps(_clean_json(plan, None), indent=2))
        raise
    results = []
    for result in execute(plan):
        results.append(result)
        if not as_json:
            _result_text(result)
    if as_json:
        click.echo(json.dumps(_clean_json(plan, results), indent=2))
    ok = all(r.outcome is not None and r.outcome.ok for r in results)
    return EXIT_OK if ok else EXIT_FINDINGS


def _clean_json(plan: Plan, results: list[StepResult] | None) -> dict[str, Any]:
    return {
        "scope": plan.scope,
        "plan": [s.to_dict() for s in plan.steps],
        "notes": plan.notes,
        "applied": results is not None,
        "results": [r.to_dict() for r in results or ()],
    }
