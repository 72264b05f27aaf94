"""The `omc-dev` command: a click group whose subcommands load only when invoked.

`omc-dev --help` must stay as cheap as importing click, so this module imports nothing heavier
than click, and each subcommand's module (and docker, git, alembic, sqlalchemy, rich) is
imported only when that subcommand runs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

import click

from devtools import __version__
from devtools.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, Stopped, UserError
from devtools.lazy import LazyGroup

# name -> ("module:attribute", one-line help shown by `omc-dev --help` without importing it).
# Each landed command adds one line here; nothing is listed before it works.
COMMANDS: dict[str, tuple[str, str]] = {
    "chown": ("devtools.ownership.command:chown", "Give files containers left behind back to you."),
    "clean": (
        "devtools.ownership.command:clean",
        "Tear down a track: containers, artifacts, worktree.",
    ),
    "doctor": (
        "devtools.doctor.command:doctor",
        "Check the engine, Compose and the stack's files.",
    ),
    "env": ("devtools.envfiles.command:env", "Environment files: write a .env.example template."),
    "kernel": (
        "devtools.kernel_cli.command:kernel",
        "Run, serve and inspect the reference trading kernel.",
    ),
    "ports": (
        "devtools.tracks.command:ports",
        "Host ports per track: allocate, list, release, who.",
    ),
    "urls": ("devtools.tracks.command:urls", "The track's web pages, as clickable URLs."),
    "migrations": (
        "devtools.migrations.command:migrations",
        "Lint Alembic heads, branching and index immutability.",
    ),
    "tests": (
        "devtools.testruns.command:tests",
        "pytest per test: run, baseline, compare, find polluters.",
    ),
    "verify": ("devtools.verify.command:verify", "Prove work is on the remote branch and real."),
    "run": ("devtools.container.command:run", "Run a command in the service's container."),
    "up": ("devtools.stack.command:up", "Start the track's stack and wait until healthy."),
    "down": ("devtools.stack.command:down", "Stop the track's stack (--volumes: its data too)."),
    "db": ("devtools.stack.command:db", "The stack's database: reset, clone, snapshot, restore."),
}

# Commands that moved under a group: the old name still runs, says the new one, and is not listed.
MOVED: dict[str, tuple[str, str]] = {
    "status": ("kernel status", "devtools.kernel_cli.status:status"),
    "audit": ("kernel audit", "devtools.kernel_cli.audit:audit"),
    "killswitch": ("kernel killswitch", "devtools.kernel_cli.killswitch:killswitch"),
}


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    moved=MOVED,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="\b\nExamples:\n  omc-dev doctor\n  omc-dev run -- pytest tests/api\n"
    "  omc-dev migrations lint\n  omc-dev -q verify --base main\n  omc-dev down --volumes --yes\n\n"
    "\b\nShell completion (bash; zsh and fish alike): "
    'eval "$(_OMC_DEV_COMPLETE=bash_source omc-dev)"',
)
@click.version_option(__version__, "--version", prog_name="omc-dev", message="%(prog)s %(version)s")
@click.option(
    "--no-color",
    is_flag=True,
    help="No colour, bold or italic (as with NO_COLOR set to anything but empty).",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Findings and errors only: no summaries, passed checks or progress lines.",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="More detail: fixes in concise output, each command omc-dev starts, full lists. "
    "Before the command: `omc-dev down -v` is compose's --volumes.",
)
@click.pass_context
def cli(ctx: click.Context, no_color: bool, quiet: bool, verbose: bool) -> None:
    """Developer workflow and verification for parallel tracks on one Docker Compose stack.

    Exit codes: 0 ok, 1 findings (checks failed), 2 unusable input,
    125 environment missing (no engine, no compose file, service not running), 130 interrupted.
    `omc-dev run` returns the command's own exit code.
    """
    from devtools.report import verbosity

    if quiet and verbose:
        raise click.UsageError("-q/--quiet and -v/--verbose contradict each other: pick one")
    verbosity.set_level(verbosity.QUIET if quiet else verbosity.VERBOSE if verbose else 0)
    if no_color or os.environ.get("NO_COLOR"):
        # `run` hands the terminal to the user's command: its TERM stays the user's.
        plain_output(ctx, dumb_terminal=ctx.invoked_subcommand != "run")


def plain_output(ctx: click.Context, *, dumb_terminal: bool) -> None:
    """No styling at all: click strips it when the context says no colour; rich drops colour for
    NO_COLOR but keeps bold and italic unless the terminal is dumb, so say it is (tools omc-dev
    starts, compose and git, read the same two variables)."""
    ctx.color = False
    os.environ["NO_COLOR"] = "1"
    if dumb_terminal:
        os.environ["TERM"] = "dumb"


def _usage_line(exc: click.UsageError) -> str:
    ctx = exc.ctx
    command = ctx.command_path if ctx else "omc-dev"
    return f"{command}: {exc.format_message()} (see '{command} --help')"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; every failure a user can act on ends as one line on stderr and an exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    return guarded(
        lambda: cli.main(args=args, prog_name="omc-dev", standalone_mode=False),
        command=next((a for a in args if not a.startswith("-")), None),
    )


def guarded(action: Callable[[], object], command: str | None = None) -> int:
    """Call `action`; turn what it raises into one line on stderr and the exit code.
    `command` (the subcommand's name) says which install extra a missing module belongs to."""
    try:
        result = action()
    except ModuleNotFoundError as exc:
        from devtools.extras import missing_extra

        error = missing_extra(exc, command)
        if error is None:
            return _internal_error(exc)
        click.echo(f"omc-dev: {error}", err=True)
        return error.exit_code
    except UserError as exc:
        click.echo(f"omc-dev: {exc}", err=True)
        return exc.exit_code
    except click.UsageError as exc:
        click.echo(_usage_line(exc), err=True)
        return EXIT_USAGE
    except click.ClickException as exc:
        click.echo(f"omc-dev: {exc.format_message()}", err=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except (click.Abort, KeyboardInterrupt):
        click.echo("omc-dev: interrupted", err=True)
        return EXIT_INTERRUPTED
    except Stopped as exc:
        click.echo(f"omc-dev: interrupted ({exc.signal_name})", err=True)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`omc-dev kernel audit | head`): not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        # A kernel error can only come from a kernel that was imported: --help never imports it.
        kernel_errors = sys.modules.get("kernel.errors")
        if kernel_errors is not None and isinstance(exc, kernel_errors.KernelError):
            from devtools.kernel_cli.errors import kernel_exit_code

            click.echo(f"omc-dev: {exc}", err=True)
            return kernel_exit_code(exc)
        return _internal_error(exc)
    return result if isinstance(result, int) else 0


def _internal_error(exc: Exception) -> int:
    if os.environ.get("OMC_DEBUG"):
        raise exc
    click.echo(
        f"omc-dev: internal error: {type(exc).__name__}: {exc} "
        "(this is a bug; rerun with OMC_DEBUG=1 for the traceback)",
        err=True,
    )
    return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
