"""What every loaded command gets on top of its own definition: examples in `--help` and shell
completion of service, track and git revision names.

Kept in one table, applied when the lazy group loads a command (devtools.lazy), so each command
module stays as it is and `omc-dev --help` imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable

import click
from click.shell_completion import CompletionItem

# Command path (without "omc-dev") -> examples shown under "Examples:" in its --help.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "chown": ("omc-dev chown --dry-run", "omc-dev chown backend/app"),
    "clean": (
        "omc-dev clean --dry-run",
        "omc-dev clean --containers --volumes --yes",
        "omc-dev clean --artifacts --worktree --track feature-x",
    ),
    "db": ("omc-dev db reset --yes",),
    "db reset": ("omc-dev db reset", "omc-dev db reset --yes --track feature-x"),
    "doctor": ("omc-dev doctor", "omc-dev doctor --format github"),
    "down": ("omc-dev down", "omc-dev down --volumes --yes"),
    "env": ("omc-dev env template",),
    "env template": ("omc-dev env template", "omc-dev env template -o .env.example --yes"),
    "kernel": ("omc-dev kernel migrate", "omc-dev kernel run --seed 7 --duration 24h"),
    "kernel audit": ("omc-dev kernel audit show --limit 50", "omc-dev kernel audit verify"),
    "kernel audit show": (
        "omc-dev kernel audit show --limit 50",
        "omc-dev kernel audit show --action order_denied --format json",
    ),
    "kernel audit verify": (
        "omc-dev kernel audit verify",
        "omc-dev kernel audit verify --anchor-file /var/lib/omc/audit-anchors.jsonl",
    ),
    "kernel audit anchor": (
        "omc-dev kernel audit anchor --anchor-file /var/lib/omc/anchors.jsonl",
    ),
    "kernel killswitch": ("omc-dev kernel killswitch history",),
    "kernel killswitch history": ("omc-dev kernel killswitch history --limit 10",),
    "kernel killswitch reset": (
        'omc-dev kernel killswitch reset --by alice --reason "feed fixed"',
    ),
    "kernel killswitch trip": ('omc-dev kernel killswitch trip --by alice --reason "bad feed"',),
    "kernel migrate": ("omc-dev kernel migrate", "omc-dev kernel migrate --db postgresql://..."),
    "kernel run": ("omc-dev kernel run --seed 7 --duration 24h", "omc-dev kernel run --ticks 100"),
    "kernel serve": (
        "omc-dev kernel serve --port 8000",
        "omc-dev kernel serve --host 0.0.0.0 --port 8000",
    ),
    "kernel status": ("omc-dev kernel status", "omc-dev kernel status --format json"),
    "migrations": ("omc-dev migrations lint", "omc-dev migrations heads"),
    "migrations heads": ("omc-dev migrations heads", "omc-dev migrations heads --format json"),
    "migrations lint": (
        "omc-dev migrations lint",
        "omc-dev migrations lint backend/app/alembic --base origin/main",
        "omc-dev migrations lint --format github",
    ),
    "ports": ("omc-dev ports", "omc-dev ports --track feature-x"),
    "ports list": ("omc-dev ports list", "omc-dev ports list --format json"),
    "ports release": ("omc-dev ports release feature-x --yes",),
    "ports show": ("omc-dev ports show feature-x",),
    "ports who": ("omc-dev ports who 5432",),
    "run": (
        "omc-dev run -- pytest tests/api",
        "omc-dev run -s db -- psql -U postgres",
        "omc-dev run --fix-ownership -- alembic revision -m 'add orders'",
    ),
    "tests": ("omc-dev tests run", "omc-dev tests compare"),
    "tests run": ("omc-dev tests run", "omc-dev tests run -s backend -- -k orders"),
    "tests baseline": ("omc-dev tests baseline save", "omc-dev tests baseline show"),
    "tests baseline save": (
        "omc-dev tests baseline save",
        "omc-dev tests baseline save --from latest",
    ),
    "tests baseline show": ("omc-dev tests baseline show",),
    "tests compare": (
        "omc-dev tests compare",
        "omc-dev tests compare --baseline origin/main --format github",
        "omc-dev tests compare --max-failed 10 --max-errors 20",
    ),
    "tests polluter": (
        "omc-dev tests polluter 'tests/test_orders.py::test_total'",
        "omc-dev tests polluter --random-order 5",
    ),
    "up": ("omc-dev up", "omc-dev up --build backend"),
    "verify": (
        "omc-dev verify",
        "omc-dev verify --base main --format github",
        "omc-dev verify --branch feature-x --no-fetch",
    ),
}

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]


def _matching(names: list[str], incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(n) for n in sorted(set(names)) if n.startswith(incomplete)]


def complete_services(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Service names from the project's compose files (read as YAML: no engine, no compose)."""
    from devtools.completion import service_names

    return _matching(service_names(), incomplete)


def complete_tracks(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Tracks in the port registry, and the repository's local branches (a track's default)."""
    from devtools.completion import branch_names, track_names

    return _matching(track_names() + branch_names(), incomplete)


def complete_revisions(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Git revisions: local and remote-tracking branches, and tags."""
    from devtools.completion import revision_names

    return _matching(revision_names(), incomplete)


def complete_remotes(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    from devtools.completion import remote_names

    return _matching(remote_names(), incomplete)


# Parameter name -> completer, whichever command declares it.
COMPLETERS: dict[str, Completer] = {
    "service": complete_services,
    "services": complete_services,
    "track": complete_tracks,
    "track_opt": complete_tracks,
    "base": complete_revisions,
    "base_ref": complete_revisions,
    "branch": complete_revisions,
    "remote": complete_remotes,
}


def prepare(command: click.Command, path: str) -> None:
    """Add the examples for `path` to `command`'s help and completers to its parameters; the
    subcommands of a plain group too (a lazy group prepares its own as it loads them)."""
    if getattr(command, "_omc_prepared", False):
        return
    command._omc_prepared = True  # type: ignore[attr-defined]
    examples = EXAMPLES.get(path)
    if examples is None and f"kernel {path}" in EXAMPLES:
        # An old name of a command that moved under `kernel`: its help, under the old name.
        examples = tuple(
            e.replace("omc-dev kernel ", "omc-dev ") for e in EXAMPLES[f"kernel {path}"]
        )
    if examples:
        # \b: click prints the block as written instead of rewrapping it into one paragraph.
        block = "\b\nExamples:\n" + "\n".join(f"  {line}" for line in examples)
        command.epilog = f"{command.epilog}\n\n{block}" if command.epilog else block
    for param in command.params:
        completer = COMPLETERS.get(param.name or "")
        if completer is not None and param._custom_shell_complete is None:
            param._custom_shell_complete = completer
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            prepare(sub, f"{path} {name}")
