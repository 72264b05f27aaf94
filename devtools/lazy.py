"""A click group that lists its commands from a table and imports each only when it runs.

`omc-dev --help` must stay as cheap as importing click: the table carries each command's one-line
help, so listing them imports none.
"""

from __future__ import annotations

import importlib
from typing import Any

import click


def _load(target: str) -> click.Command:
    module_name, _, attr = target.partition(":")
    command = getattr(importlib.import_module(module_name), attr)
    assert isinstance(command, click.Command)
    return command


def _prepared(command: click.Command, ctx: click.Context, name: str) -> click.Command:
    """The command with its examples and completers (devtools.clihelp) added."""
    from devtools.clihelp import prepare

    group_path = ctx.command_path.partition(" ")[2]  # without the program name
    prepare(command, f"{group_path} {name}".strip())
    return command


class LazyGroup(click.Group):
    """A group that lists commands from a table and imports each only when it is run."""

    def __init__(
        self,
        *args: Any,
        lazy: dict[str, tuple[str, str]],
        moved: dict[str, tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy
        self.moved = moved or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            return _prepared(_load(self.lazy[cmd_name][0]), ctx, cmd_name)
        if cmd_name in self.moved:
            new_name, target = self.moved[cmd_name]
            root = ctx.find_root().info_name or "omc-dev"
            if not ctx.resilient_parsing:  # shell completion: no notice in the candidates
                click.echo(
                    f"{root}: `{cmd_name}` is now `{new_name}`; the old name still works", err=True
                )
            return _prepared(_load(target), ctx, cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's default would import every command to read its help; use the table instead.
        rows = [(name, self.lazy[name][1]) for name in sorted(self.lazy)]
        rows += [
            (name, cmd.get_short_help_str())
            for name, cmd in sorted(self.commands.items())
            if name not in self.lazy and not cmd.hidden
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(sorted(rows))
