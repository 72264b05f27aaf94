"""`omc-dev migrations heads|lint`: parse the flags, run the library, render."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from devtools import config as config_mod
from devtools.findings import Severity, exit_code_for
from devtools.options import format_option
from devtools.report.render import FORMATS, render
from devtools.report.report import Report

if TYPE_CHECKING:
    from devtools.migrations.lint import LintSettings


@click.group()
def migrations() -> None:
    """Lint Alembic migrations statically: heads, branching, index immutability.

    Nothing is imported: revision files are read with `ast`, so this runs on the host without
    the application's dependencies. PATH defaults to [tool.omc-dev.migrations] path, then
    alembic.ini's script_location, then [tool.alembic].
    """


@migrations.command()
@click.argument("path", required=False)
@format_option("text", "json")
def heads(path: str | None, fmt: str) -> int:
    """Print the head revisions, exactly as Alembic computes them.

    PATH is an alembic.ini, a script location (folder holding versions/) or a versions folder.

    Exit 0, or 1 when the history is broken (missing parent, cycle, duplicate id, unreadable
    value), since the heads shown may then differ from what Alembic would do.
    """
    from devtools.migrations.cache import FileCache
    from devtools.migrations.graph.read import load_history
    from devtools.migrations.graph.rules import graph_findings
    from devtools.migrations.location import locate

    cfg = config_mod.load()
    location = locate(path, cfg)
    if location.note:
        click.echo(f"note: {location.note}", err=True)
    cache = FileCache(location.describe(), "graph")
    graph = load_history(location, config_mod.repository_root(), cache=cache)
    cache.save()
    found = [f for f in graph_findings(graph) if f.id != "multiple-heads"]
    broken = [f for f in found if f.severity is not Severity.INFO]
    notes = [f for f in found if f.severity is Severity.INFO]
    head_ids = graph.distinct_heads()
    if fmt == "json":
        return render(Report("migrations heads", found, data={"heads": head_ids}), fmt)
    for head in head_ids:
        rev = graph.by_id[head]
        labels = sorted(graph.head_labels(head))
        shown = f" (branch: {', '.join(labels)})" if labels else ""
        click.echo(f"{head}{shown}  {rev.display}")
    if not head_ids:
        click.echo(f"no revisions in {location.describe()}", err=True)
    for note in notes:
        click.echo(f"note: {note.path}:{note.line}: {note.message} ({note.fix})", err=True)
    if broken:
        render(
            Report("migrations heads", broken, title="the history is broken"), "text", sys.stderr
        )
    return exit_code_for(broken)


@migrations.command()
@click.argument("path", required=False)
@format_option(*FORMATS)
@click.option(
    "--pg-version",
    type=int,
    help="PostgreSQL major version whose catalogs judge indexes (15-18; default: the stack's db image, else 15).",
)
@click.option(
    "--base",
    "base_ref",
    metavar="REF",
    help="Also report revisions added since REF that do not build on REF's head.",
)
@click.option(
    "--select",
    multiple=True,
    metavar="RULES",
    help="Comma-separated rule ids, or the groups `graph` and `index` (default: all).",
)
@click.option(
    "--against-db",
    "db_url",
    metavar="URL",
    help="Run the upgrades on a scratch database on this PostgreSQL server and report what it rejects.",
)
def lint(
    *,
    path: str | None,
    fmt: str,
    pg_version: int | None,
    base_ref: str | None,
    select: tuple[str, ...],
    db_url: str | None,
) -> int:
    """Check the revision graph and every index the migrations create.

    PATH is an alembic.ini, a script location (folder holding versions/) or a versions folder.
    Rules: multiple-heads, missing-parent, duplicate-revision, revision-cycle,
    invalid-revision-id, unresolvable-value, syntax-error, empty-down-revision (a note)
    (graph); non-immutable-index,
    invalid-index-expression, unverified-index, and with --against-db migration-failed
    (index). Indexes are judged for --pg-version, else [tool.omc-dev.migrations] pg-version,
    else the PostgreSQL the compose stack's database image names, else 15. Exit 0 clean, 1
    errors found, 2 unusable input, 125 database unreachable or the app's modules missing.
    """
    from dataclasses import replace

    from devtools.migrations.lint import (
        DB_RULES,
        INDEX_RULES,
        select_rules,
        settings_from_config,
    )
    from devtools.migrations.lint import (
        lint as run_lint,
    )
    from devtools.migrations.location import locate

    cfg = config_mod.load()
    settings = settings_from_config(cfg.section("migrations"))
    settings = replace(settings, rules=select_rules(select))
    judged_for = ""
    if pg_version is not None:
        settings = replace(settings, pg_version=pg_version)
    elif "pg-version" not in cfg.section("migrations") and settings.rules & set(INDEX_RULES):
        settings, judged_for = _pg_version_from_stack(cfg, settings)
    location = locate(path, cfg)
    if location.note:
        click.echo(f"note: {location.note}", err=True)
    # With a database, PostgreSQL itself judges the indexes; the static graph rules still run.
    static_rules = settings.rules - set(INDEX_RULES) if db_url else settings.rules
    result = run_lint(
        location,
        replace(settings, rules=static_rules),
        cwd=config_mod.repository_root(),
        base_ref=base_ref,
    )
    findings = result.findings
    if db_url and settings.rules & set(INDEX_RULES + DB_RULES):
        from devtools.migrations.againstdb import run_against_db

        rerun = " ".join(
            [
                "omc-dev run -- omc-dev migrations lint",
                *([path] if path else []),
                "--against-db",
                db_url,
            ]
        )
        findings = findings + [
            f for f in run_against_db(result.graph, db_url, rerun) if f.id in settings.rules
        ]
    revisions = len(result.graph.by_id)
    heads_text = ", ".join(result.heads) or "none"
    report = Report(
        "migrations lint",
        findings,
        data={"heads": result.heads},
        clean_message=f"{revisions} revisions, head {heads_text}{judged_for}",
    )
    return render(report, fmt)


def _pg_version_from_stack(
    cfg: config_mod.ProjectConfig, settings: LintSettings
) -> tuple[LintSettings, str]:
    """With no --pg-version and no pg-version setting, the version the compose stack's database
    image names, if omc-dev has its catalog; compose is asked only if a file names such an image."""
    from dataclasses import replace

    from devtools.docker.compose import ComposeTarget, compose_files, load_project
    from devtools.errors import EnvironmentMissing, UnusableInput
    from devtools.migrations.catalog import available_versions
    from devtools.migrations.pgversion import may_run_postgres, stack_postgres

    try:
        files = compose_files(cfg)
        if not may_run_postgres(files):
            return settings, ""
        found = stack_postgres(load_project(ComposeTarget("omc-dev-migrations", files)))
    except (EnvironmentMissing, UnusableInput, OSError):
        return settings, ""  # no stack to read: the default version, as without one
    if found is None:
        return settings, ""
    source = f"service {found.service}'s image {found.image}"
    if found.major not in available_versions():
        return settings, (
            f"; indexes judged for PostgreSQL {settings.pg_version}: {source} has no catalog "
            "here (set pg-version in [tool.omc-dev.migrations])"
        )
    return replace(settings, pg_version=found.major), (
        f"; indexes judged for PostgreSQL {found.major} ({source})"
    )


# --- the published pre-commit hooks (.pre-commit-hooks.yaml) -------------------------------------
# Each hook is `migrations lint` with its rule group chosen, so the hook and the CLI never
# disagree; arguments are lint's (PATH, --pg-version N, --base REF, --format). The whole history
# is read, so the hooks take no file names (`pass_filenames: false`). The console scripts
# omc-dev-alembic-single-head and omc-dev-alembic-immutable-index name the two functions below.

HOOKS = {"single-head": "graph", "immutable-index": "index"}  # hook id -> `--select` group


def hook_main(hook: str, argv: Sequence[str] | None = None) -> int:
    from devtools.cli import main as cli_main

    args = list(sys.argv[1:] if argv is None else argv)
    # concise: pre-commit gives hooks a terminal when it colours its own output, and hook users
    # expect `path:line: id message`; a --format in the hook's args comes later: it wins.
    return cli_main(["migrations", "lint", "--select", HOOKS[hook], "--format", "concise", *args])


def single_head_hook(argv: Sequence[str] | None = None) -> int:
    """`single-head`: the revision graph rules."""
    return hook_main("single-head", argv)


def immutable_index_hook(argv: Sequence[str] | None = None) -> int:
    """`immutable-index`: indexes PostgreSQL would reject as not IMMUTABLE."""
    return hook_main("immutable-index", argv)
