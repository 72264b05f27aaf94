"""Which Alembic revisions this checkout's history has: a snapshot or a source database at a
revision outside it would make the migrate step fail after the copy."""

from __future__ import annotations

from devtools.config import ProjectConfig
from devtools.errors import UserError


def known_revisions(config: ProjectConfig) -> set[str] | None:
    """Every revision id in the history (read statically), or None without migrations."""
    from devtools.migrations.graph.read import load_history
    from devtools.migrations.location import locate

    try:
        location = locate(None, config)
    except UserError:
        return None  # no Alembic here: nothing to judge
    graph = load_history(location, config.root)
    return set(graph.by_id)


def refusal(what: str, unknown: list[str], force_hint: str) -> str:
    """The one line refusing `what` whose revisions `unknown` the history lacks."""
    ids = ", ".join(unknown)
    return (
        f"{what} is at Alembic revision {ids}, which this checkout's migrations do not have "
        f"(taken on a newer branch?): check out a commit that has it, or {force_hint}"
    )
