"""The keys `[tool.omc-dev]` knows: a misspelt one is one warning line, not silently ignored."""

from __future__ import annotations

import difflib
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Table -> its keys. Sub-tables whose keys are the user's own names (run.services.NAME,
# kernel, verify.deliverables items) are checked no deeper than listed here.
KNOWN: dict[str, frozenset[str]] = {
    "": frozenset(
        {
            "project",
            "compose-files",
            "run",
            "verify",
            "doctor",
            "migrations",
            "ports",
            "db",
            "clean",
            "ownership",
            "env",
            "kernel",
            "tracks",
        }
    ),
    "run": frozenset({"service", "services", "fix-ownership"}),
    "verify": frozenset(
        {"deliverables", "remote", "base", "min-handwritten-lines", "stub-min-lines", "generated"}
    ),
    "doctor": frozenset({"mount-ignore", "ignore"}),
    "migrations": frozenset({"path", "pg-version", "allowed-heads"}),
    "ports": frozenset({"range"}),
    "db": frozenset({"service", "migrate-service", "snapshot-keep", "snapshot-max-age-days"}),
    "clean": frozenset({"artifacts", "keep"}),
    "ownership": frozenset({"helper-image"}),
    "env": frozenset({"external-hosts"}),
    # tracks.env holds the user's own variable names: not checked.
    "tracks": frozenset({"env", "http", "not-http"}),
}


def unknown_keys(data: Mapping[str, Any]) -> list[tuple[str, str, str | None]]:
    """(table, key, nearest known key or None) for every key omc-dev does not know, in the
    file's order."""
    found = []
    for key, value in data.items():
        found += _check("", key)
        if key in KNOWN and isinstance(value, Mapping):
            found += [hit for sub in value for hit in _check(key, sub)]
    return found


def _check(table: str, key: str) -> list[tuple[str, str, str | None]]:
    known = KNOWN[table]
    if key in known:
        return []
    close = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.6)
    return [(table, str(key), close[0] if close else None)]


def warn_unknown(data: Mapping[str, Any], source: Path) -> None:
    """One line on stderr per unknown key, naming the nearest valid one."""
    for table, key, close in unknown_keys(data):
        where = "tool.omc-dev" + (f".{table}" if table else "")
        hint = (
            f" (did you mean {close!r}?)"
            if close
            else f" (known: {', '.join(sorted(KNOWN[table]))})"
        )
        print(
            f"omc-dev: warning: {source}: unknown key {key!r} in [{where}]{hint}",
            file=sys.stderr,
        )
