"""`omc-dev verify`: parse, verify, render."""

from __future__ import annotations

import os
from pathlib import Path

import click

from devtools import config as config_mod
from devtools.errors import UnusableInput
from devtools.options import format_option
from devtools.report.render import FORMATS


@click.command()
@click.option("--remote", help="Remote to verify against (default: spec, else origin).")
@click.option(
    "--branch",
    help="Branch to verify (default: GITHUB_HEAD_REF, GITHUB_REF_NAME, CI_COMMIT_REF_NAME, "
    "else the current branch).",
)
@click.option("--base", help="Base branch of the range base...branch (default: the remote's HEAD).")
@click.option(
    "--spec",
    "spec_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Deliverables spec (TOML); default: [tool.omc-dev.verify] in pyproject.toml.",
)
@format_option(*FORMATS)
@click.option(
    "--no-fetch",
    is_flag=True,
    help="Do not fetch or deepen; still asks the server for its refs (ls-remote).",
)
@click.option(
    "--pre-push",
    is_flag=True,
    help="Run as pre-commit's pre-push hook: verify the pushed commit (PRE_COMMIT_* refs).",
)
def verify(
    *,
    remote: str | None,
    branch: str | None,
    base: str | None,
    spec_file: Path | None,
    fmt: str,
    no_fetch: bool,
    pre_push: bool,
) -> int:
    """Prove the work is on the remote branch, real, and not generated padding.

    Checks: unpushed-commits, branch-missing, branch-drift, empty-branch, missing-path,
    missing-symbol, stub (in the lines the branch added), generated-only. Content is read at
    the remote ref (no checkout); diff statistics for base...branch set generated files aside. Exit 0 verified, 1 verification failed,
    2 unusable input.
    """
    from devtools.verify.checks import verify as run_verify
    from devtools.verify.model import Request
    from devtools.verify.report import render
    from devtools.verify.spec import load_spec

    for flag, value in (("--branch", branch), ("--base", base), ("--remote", remote)):
        if value is not None and not value.strip().removeprefix("refs/heads/"):
            # Empty is not "the default": a script passing "$BRANCH" unset meant something.
            raise UnusableInput(f"{flag} is empty: name one, or leave {flag} out for the default")
    if pre_push and _format_not_given():
        fmt = "concise"  # pre-commit may give the hook a terminal: hook output is one line each
    cfg = config_mod.load()
    request = Request(
        start=Path.cwd(),
        spec=load_spec(cfg, spec_file),
        remote=remote,
        branch=branch,
        base=base,
        fetch=not no_fetch and not pre_push,
        pre_push=pre_push,
        environ=dict(os.environ),
    )
    return render(run_verify(request), fmt)


def _format_not_given() -> bool:
    source = click.get_current_context().get_parameter_source("fmt")
    return source in (None, click.core.ParameterSource.DEFAULT)
