"""Take a snapshot: `pg_dump -Fc` of a running track's database into the repository's store.

The dump goes to a temp file beside its final name (owner-only), is flushed to disk and renamed;
then its description is written atomically. A failure, an interrupt or a full disk removes the
temp file and nothing else.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import subprocess

from devtools.atomic import write_atomic
from devtools.dbcopy.container import DbContainer, last_line
from devtools.dbcopy.faults import explain
from devtools.dbcopy.snapshots import Snapshot, Store, now_iso
from devtools.dbcopy.stream import Outcome, Progress, transfer
from devtools.errors import EnvironmentMissing, UserError

ROLES_SECONDS = 120.0


def dump_argv(source: DbContainer, *, app: str, compress: bool = True) -> list[str]:
    """`pg_dump` of the source's database, custom format, as one consistent snapshot."""
    argv = ["pg_dump", "--format=custom", "--no-password", "--username", source.user]
    if not compress:
        argv.append("--compress=0")  # a stream between two containers: compressing costs time
    return source.exec_argv(*argv, "--dbname", source.database, app=app)


def dump_roles(source: DbContainer) -> str:
    """`pg_dumpall --roles-only` of the source's server (password hashes included)."""
    from devtools import proc

    argv = source.exec_argv(
        "pg_dumpall", "--roles-only", "--no-password", "--username", source.user,
        "--database", source.database,
    )  # fmt: skip
    try:
        done = proc.run(argv, timeout=ROLES_SECONDS, env=source.exec_env())
    except subprocess.TimeoutExpired:
        raise UserError(
            f"listing the roles of compose project {source.project} took over "
            f"{ROLES_SECONDS:.0f}s: check its db with `omc-dev status`",
            exit_code=1,
        ) from None
    if done.returncode != 0:
        raise UserError(
            f"cannot list the roles of compose project {source.project} "
            f"(pg_dumpall: {last_line(done.stderr)}): the role in POSTGRES_USER must be a superuser",
            exit_code=1,
        )
    return bytes(done.stdout).decode(errors="replace")


def disk_full(where: str, exc: OSError) -> EnvironmentMissing:
    return EnvironmentMissing(
        f"no space left writing {where} ({exc.strerror}): free space there, then try again; "
        "nothing else was changed"
    )


def take(
    store: Store, name: str, source: DbContainer, *, track: str, commit: str | None
) -> Snapshot:
    heads = source.alembic_heads()  # before the dump: what a migration running meanwhile wrote
    owner = source.database_owner()
    major = source.server_major()
    dumped_roles = dump_roles(source)
    final = store.dump(name)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    app = f"omc-dev-snapshot-{os.getpid()}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            outcome = transfer(
                dump_argv(source, app=app),
                fh,
                producer_env=source.exec_env(),
                progress=Progress(f"snapshot {name}"),
            )
            if outcome.ok:
                os.fsync(fh.fileno())
        if not outcome.ok:
            raise _failed(outcome, track)
        tmp.replace(final)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        _end_dump(source, app)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise disk_full(f"snapshot {name} in {store.folder}", exc) from None
        raise EnvironmentMissing(
            f"cannot write snapshot {name} in {store.folder} ({exc.strerror}): make it writable"
        ) from None
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        _end_dump(source, app)
        from devtools.dbcopy.restore import interrupted

        raise interrupted(exc, "no snapshot was written") from None
    snap = Snapshot(
        name=name,
        created=now_iso(),
        track=track,
        project=source.project,
        commit=commit,
        heads=heads,
        database=source.database,
        owner=owner,
        server_major=major,
        size=outcome.streamed,
        sha256=outcome.sha256,
        roles_sql=dumped_roles,
    )
    try:
        write_atomic(store.meta(name), json.dumps(snap.to_json(), indent=2) + "\n", mode=0o600)
    except OSError as exc:
        final.unlink(missing_ok=True)  # a dump without its description is no snapshot
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise disk_full(f"snapshot {name} in {store.folder}", exc) from None
        raise
    return snap


def _end_dump(source: DbContainer, app: str) -> None:
    from devtools.dbcopy.restore import end_dumps

    with contextlib.suppress(Exception):
        end_dumps(source, app)


def _failed(outcome: Outcome, track: str) -> UserError:
    fault = explain(
        outcome,
        source=f"track {track}",
        target="the snapshot",
        kept="no snapshot was written",
        from_file=False,
    )
    return UserError(fault.message, exit_code=fault.exit_code)


def head_commit(root: os.PathLike[str]) -> str | None:
    """The checkout's HEAD commit, or None (no git, no commit yet)."""
    from devtools import proc

    try:
        done = proc.run(
            ["git", "rev-parse", "--verify", "-q", "HEAD"], timeout=10, cwd=root, text=True
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None
