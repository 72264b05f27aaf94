"""The roles a dump needs, from `pg_dumpall --roles-only`, as SQL the target server accepts.

Roles are cluster-wide, so `pg_dump` of one database leaves them out and a restore into a fresh
server fails on the first `OWNER TO` or `GRANT` naming one (the reference stack's omc_app). The
source's role definitions (password hashes included, so the application's login keeps working)
are replayed on the target with two changes: roles the target already has are not created again,
and the role omc-dev connects as on the target is left exactly as it is (its password and rights
are the target stack's own).
"""

from __future__ import annotations

import re

_NAME = r'(?P<name>"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_CREATE = re.compile(rf"^CREATE ROLE {_NAME};$")
_ALTER = re.compile(rf"^ALTER ROLE {_NAME} ")


def unquote(name: str) -> str:
    """A role name as pg_roles holds it, from pg_dumpall's (maybe quoted) spelling."""
    if name.startswith('"') and name.endswith('"'):
        return name[1:-1].replace('""', '"')
    return name  # pg_dumpall quotes every name that is not plain lowercase


def replayable(dumped: str, existing: set[str], connected_as: str) -> str:
    """`dumped` (pg_dumpall --roles-only output) without what the target must not run."""
    kept = []
    for line in dumped.splitlines():
        created = _CREATE.match(line)
        if created and unquote(created["name"]) in existing | {connected_as}:
            continue
        altered = _ALTER.match(line)
        if altered and unquote(altered["name"]) == connected_as:
            continue
        kept.append(line)
    return "\n".join(kept) + "\n"


def created_roles(dumped: str) -> list[str]:
    """The role names `dumped` creates, in its order."""
    return [unquote(m["name"]) for m in map(_CREATE.match, dumped.splitlines()) if m]
