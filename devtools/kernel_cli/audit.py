"""`omc-dev audit` and `omc-dev kernel audit show|verify|anchor`: read the TradeAudit, verify its
hash chain (MACs and anchors included), or witness its head in the anchor file."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from devtools.kernel_cli.options import db_option, row_limit
from devtools.options import format_option
from devtools.report.render import DATA_FORMATS

if TYPE_CHECKING:
    from kernel.audit import Verification
    from kernel.auditkey import Keyring

ACTIONS = (
    "ALGORITHM_SIGNAL",
    "ORDER_SUBMITTED",
    "ORDER_DENIED",
    "ORDER_FILLED",
    "ORDER_CANCELLED",
    "KILL_SWITCH_TRIPPED",
    "KILL_SWITCH_RESET",
    "MARKET_MODE_CHANGED",
    "TRADING_STATE_CHANGED",
)
F = TypeVar("F", bound=Callable[..., Any])


def _anchor_file_option(func: F) -> F:
    return click.option(
        "--anchor-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="The append-only witness file of anchored heads (default: OMC_AUDIT_ANCHOR_FILE).",
    )(func)


def _accept_option(func: F) -> F:
    return click.option(
        "--accept-unauthenticated",
        is_flag=True,
        help="With a key configured, let records without a MAC pass (written without the key).",
    )(func)


def _format_option(choices: list[str]) -> Callable[[F], F]:
    return format_option(*choices, default=choices[0])


def _show_options(func: F) -> F:
    for option in reversed(
        [
            db_option,
            click.option("--limit", default=20, show_default=True, type=row_limit(1)),
            click.option(
                "--actor", help="Only records by this actor (a strategy id, guard, an operator)."
            ),
            click.option(
                "--action",
                type=click.Choice(ACTIONS, case_sensitive=False),
                help="Only this action.",
            ),
            _format_option(list(DATA_FORMATS)),
        ]
    ):
        func = option(func)
    return func


# --- the commands -------------------------------------------------------------------------------


@click.command()
@_show_options
@click.option(
    "--verify", is_flag=True, help="Replay the hash chain; exit 1 naming the first broken record."
)
@_anchor_file_option
def audit(
    *,
    db_url: str | None,
    limit: int,
    actor: str | None,
    action: str | None,
    fmt: str,
    verify: bool,
    anchor_file: Path | None,
) -> int:
    """The last records of the append-only, hash-chained audit (oldest first)."""
    if verify and (actor or action):
        raise click.UsageError("--verify checks the whole chain: it takes no --actor or --action")
    if verify:
        return _verify(db_url, fmt, anchor_file, accept_unauthenticated=False)
    return _show(db_url, limit=limit, actor=actor, action=action, fmt=fmt)


@click.group("audit")
def audit_group() -> None:
    """The TradeAudit: show it, verify it, anchor its head outside the database."""


@audit_group.command("show")
@_show_options
def show(*, db_url: str | None, limit: int, actor: str | None, action: str | None, fmt: str) -> int:
    """The last records of the append-only, hash-chained audit (oldest first)."""
    return _show(db_url, limit=limit, actor=actor, action=action, fmt=fmt)


@audit_group.command("verify")
@db_option
@_anchor_file_option
@_accept_option
@_format_option(["text", "json"])
def verify_command(
    *, db_url: str | None, anchor_file: Path | None, accept_unauthenticated: bool, fmt: str
) -> int:
    """Replay the chain, check MACs and anchors; exit 1 naming the first broken record."""
    return _verify(db_url, fmt, anchor_file, accept_unauthenticated=accept_unauthenticated)


@audit_group.command("anchor")
@db_option
@_anchor_file_option
@_accept_option
@_format_option(["text", "json"])
def anchor_command(
    *, db_url: str | None, anchor_file: Path | None, accept_unauthenticated: bool, fmt: str
) -> int:
    """Verify the chain, then append its head to the anchor file (the witness outside the
    database that `verify` checks against). Run it after every run, or from cron."""
    from kernel.anchor import ANCHOR_FILE_ENV, anchor_path, append_anchor, make_anchor

    path = anchor_path(anchor_file)
    if path is None:
        raise click.UsageError(
            f"no anchor file: pass --anchor-file PATH or set {ANCHOR_FILE_ENV} "
            "(a file outside the database, e.g. on another host or volume)"
        )
    result, keys = _verification(db_url, path, accept_unauthenticated)
    broken = result.first_break
    if broken is not None:
        _report(
            result,
            path,
            fmt,
            accept_unauthenticated=accept_unauthenticated,
            prefix="not anchored: ",
        )
        return 1
    anchor = make_anchor(result.records, result.last_hash, keys)
    append_anchor(path, anchor)
    if fmt == "json":
        doc = {"anchored": True, "anchor_file": str(path), **json.loads(anchor.as_json())}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        signed = (
            f"signed with key {anchor.key_id}"
            if anchor.key_id
            else "unsigned: no audit key configured"
        )
        click.echo(
            f"✓ anchored record {anchor.sequence} (hash {anchor.head[:16]}…) in {path}, {signed}"
        )
    return 0


# --- shared -------------------------------------------------------------------------------------


def _show(
    db_url: str | None, *, limit: int, actor: str | None, action: str | None, fmt: str
) -> int:
    from devtools.kernel_cli.project import kernel_database
    from kernel import audit as trade_audit
    from kernel.schema_version import require_current
    from kernel.status import audit_record_dict

    db = kernel_database(db_url, create=False)
    try:
        require_current(db)
        with db.read() as session:
            records = [
                audit_record_dict(r)
                for r in trade_audit.query(
                    session, limit=limit, actor=actor, action=action.upper() if action else None
                )
            ]
    finally:
        db.dispose()
    if fmt == "json":
        sys.stdout.write(json.dumps({"records": records}, indent=2) + "\n")
    else:
        from rich.console import Console

        from devtools.kernel_cli.tables import audit_table

        Console(highlight=False).print(audit_table(records, f"audit ({len(records)} shown)"))
    return 0


def _verification(
    db_url: str | None, path: Path | None, accept_unauthenticated: bool
) -> tuple[Verification, Keyring | None]:
    from devtools.kernel_cli.project import kernel_database
    from kernel import audit as trade_audit
    from kernel.anchor import read_anchors
    from kernel.schema_version import require_current

    anchors = read_anchors(path) if path is not None else []
    db = kernel_database(db_url, create=False)
    try:
        require_current(db)
        # One snapshot: the head and the records as of one moment, while the kernel appends.
        with db.snapshot() as session:
            result = trade_audit.verify(
                session, db.audit_keys, anchors, accept_unauthenticated=accept_unauthenticated
            )
    finally:
        db.dispose()
    return result, db.audit_keys


def _verify(
    db_url: str | None, fmt: str, anchor_file: Path | None, *, accept_unauthenticated: bool
) -> int:
    from kernel.anchor import anchor_path

    path = anchor_path(anchor_file)
    result, _keys = _verification(db_url, path, accept_unauthenticated)
    _report(result, path, fmt, accept_unauthenticated=accept_unauthenticated)
    return 0 if result.ok else 1


def _report(
    result: Verification,
    path: Path | None,
    fmt: str,
    *,
    accept_unauthenticated: bool = False,
    prefix: str = "",
) -> None:
    broken = result.first_break
    if fmt == "json":
        payload = result.to_json(path)
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    if broken is None:
        click.echo(f"✓ audit chain intact: {result.records} records, head {result.head_sequence}")
    else:
        click.echo(f"✗ {prefix}audit chain broken at record {broken.sequence}: {broken.detail}")
    for line in _notes(result, path, accept_unauthenticated):
        click.echo(f"  {line}")


def _notes(result: Verification, path: Path | None, accept_unauthenticated: bool) -> list[str]:
    """What the verdict rests on: the honest limits of a pass."""
    from kernel.anchor import ANCHOR_FILE_ENV
    from kernel.auditkey import KEY_ENV, KEY_FILE_ENV

    notes = []
    if result.authenticated:
        keys = ", ".join(result.key_ids) or "none yet"
        unsigned = ""
        if result.first_break is not None:  # the replay stopped there: no totals
            keys = ", ".join(result.key_ids) or "none before the break"
        elif result.unsigned:
            why = (
                "let through by --accept-unauthenticated"
                if accept_unauthenticated
                else "written before the key, witnessed by an anchor"
            )
            unsigned = f"; {result.unsigned} records carry no MAC ({why})"
        notes.append(f"authenticated: MACs checked (keys used: {keys}){unsigned}")
    else:
        unchecked = (
            f" ({result.records - result.unsigned} records carry MACs that were not checked)"
            if result.records > result.unsigned and result.first_break is None
            else ""
        )
        notes.append(
            f"not authenticated: no audit key configured ({KEY_ENV} or {KEY_FILE_ENV}), so "
            f"someone with database access could rewrite the chain unseen{unchecked}"
        )
    if path is None:
        notes.append(
            f"not anchored: no anchor file (--anchor-file or {ANCHOR_FILE_ENV}), so a cut-off "
            "tail with a moved head would pass"
        )
    elif result.last_anchor is None:
        notes.append(f"not anchored yet: {path} holds no anchor (omc-dev kernel audit anchor)")
    else:
        last = result.last_anchor
        notes.append(
            f"anchored: {result.anchors} anchors in {path} checked, the last at record "
            f"{last.sequence} ({last.time}); records after it rest on the chain alone"
        )
    return notes
