"""`omc-dev env`: environment files of the stack."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import click

from devtools import config as config_mod
from devtools.errors import UserError
from devtools.tracks.identity import resolve_track


@click.group()
def env() -> None:
    """Environment files of the stack (`omc-dev doctor` checks them)."""


@env.command("template")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Where to write (default: .env.example next to the compose file; - for stdout).",
)
@click.option(
    "--yes", "-y", is_flag=True, help="Overwrite a different existing file without asking."
)
def template(output: Path | None, yes: bool) -> int:
    """Write a .env.example that uses compose service names and container ports."""
    from devtools.atomic import write_atomic
    from devtools.docker.compose import load_project, targets_for
    from devtools.doctor.ignore import Ignores
    from devtools.envfiles.load import load_view
    from devtools.envfiles.model import EXAMPLE
    from devtools.envfiles.template import render
    from devtools.report.confirm import ask
    from devtools.tracks.identity import project_name

    cfg = config_mod.load()
    target = targets_for(cfg, project_name(cfg, resolve_track(cfg)))
    view = load_view(cfg, target, load_project(target))
    for env_file in view.files:
        if env_file.error is not None:
            raise env_file.error  # one line: file, line, what is wrong
    text = render(view, Ignores.from_config(cfg))
    if output is not None and str(output) == "-":
        sys.stdout.write(text)
        return 0
    path = output or view.root / EXAMPLE
    if path.is_symlink():
        raise UserError(f"{path} is a symlink: not writing through it; remove it or pass --output")
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    if current == text:
        click.echo(f"{path} is up to date")
        return 0
    if current is not None:
        diff = difflib.unified_diff(
            current.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=f"{path} (now)",
            tofile=f"{path} (template)",
        )
        click.echo("".join(diff), nl=False)
        refused = f"not written: {path} exists and differs; pass --yes to replace it"
        ask(f"replace {path}?", yes=yes, refused=refused, declined="not written")
    write_atomic(path, text)
    click.echo(f"wrote {path}")
    return 0
