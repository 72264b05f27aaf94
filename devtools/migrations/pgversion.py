"""Which PostgreSQL the stack runs, read from its database service's image tag.

`postgres:17`, `postgres:18-alpine`, `postgis/postgis:16-3.4`, `bitnami/postgresql:16.3.0`,
`pgvector/pgvector:pg17`, `timescale/timescaledb:2.17.2-pg16`: the tag names the major version
(for the images that put another product's version first, it is the `pgNN` part). The project
comes from the compose model (`docker compose config`), so overrides and `${VAR:-default}` tags
count as compose resolves them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from devtools.compose.model import ComposeProject

# Images whose tag starts with the PostgreSQL version, and images that say pgNN in the tag.
_VERSION_FIRST = re.compile(r"(?:^|/)(postgres|postgresql|postgis|supabase/postgres)$")
_PG_TAGGED = re.compile(r"(?:^|/)(pgvector|timescaledb(?:-ha)?|paradedb|postgres\w*|postgis\w*)$")
_PG_IN_TAG = re.compile(r"(?:^|[-_.])pg(\d{2})(?=$|[-_.])")
_NAMES = ("db", "postgres", "postgresql", "database", "pg")
# A cheap look before asking compose: the text of a compose file that runs PostgreSQL says so.
_MENTION = re.compile(rb"image:[^\n]*(postgres|postgis|pgvector|timescale|paradedb)", re.I)


@dataclass(frozen=True)
class StackPostgres:
    service: str
    image: str
    major: int


def image_major(image: str) -> int | None:
    """The PostgreSQL major version an image tag names, or None (no tag, `latest`, not PG)."""
    name = image.split("@", 1)[0]
    repo, _, tag = name.rpartition(":")
    if not repo or "/" in tag:
        return None  # no tag (a registry port is not one)
    repo = repo.lower()
    found = _PG_IN_TAG.search(tag.lower())
    if found and _PG_TAGGED.search(repo):
        return int(found.group(1))
    if _VERSION_FIRST.search(repo):
        leading = re.match(r"(\d+)(?:$|[.\-_])", tag)
        if leading:
            return int(leading.group(1))
    return None


def stack_postgres(project: ComposeProject) -> StackPostgres | None:
    """The database service's PostgreSQL: the one service running a PostgreSQL image, or among
    several, the one named like a database (db, postgres, ...) when their versions differ."""
    found = [
        StackPostgres(name, service.image, major)
        for name, service in project.services.items()
        if service.image and (major := image_major(service.image)) is not None
    ]
    if len({f.major for f in found}) > 1:
        found = [f for f in found if f.service in _NAMES]
    if not found or len({f.major for f in found}) > 1:
        return None
    named = [f for f in found if f.service in _NAMES]
    return (named or found)[0]


def may_run_postgres(files: Sequence[Path]) -> bool:
    """False only when no compose file names a PostgreSQL image: then compose is not asked."""
    for file in files:
        try:
            if _MENTION.search(file.read_bytes()):
                return True
        except OSError:
            continue
    return False
