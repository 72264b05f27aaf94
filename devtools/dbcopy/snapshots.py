"""Snapshots of a track's database, kept per repository so every worktree and track shares them.

A snapshot is two files in the repository's shared git dir (`<common git dir>/omc/snapshots/`,
never committed, the same for every worktree): `NAME.dump` (`pg_dump -Fc`) and `NAME.json`, what
restore needs to judge it (PostgreSQL major, Alembic heads, checksum) and the roles the dump
needs. The dump is written to a temp file and renamed, then the JSON: a snapshot without its
JSON is not listed. Both are readable by their owner only (they hold data and password hashes).

The pure parts (metadata, listing, pruning, the Alembic-head rule) are here; taking and
restoring them is `devtools.dbcopy.ops`.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from devtools.errors import UnusableInput

FORMAT = 1
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DEFAULT_KEEP = 10
KEEP_KEY = "snapshot-keep"
AGE_KEY = "snapshot-max-age-days"
STALE_TEMP_SECONDS = 24 * 3600  # a snapshot takes minutes: an older temp file's writer died


@dataclass(frozen=True)
class Snapshot:
    name: str
    created: str  # ISO 8601, UTC
    track: str
    project: str  # compose project it was taken from
    commit: str | None  # the checkout's HEAD then
    heads: tuple[str, ...]  # Alembic revisions in alembic_version then
    database: str
    owner: str  # the database's owner role
    server_major: int
    size: int
    sha256: str
    roles_sql: str  # pg_dumpall --roles-only

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self), "heads": list(self.heads)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Snapshot:
        """Raises ValueError (or KeyError, TypeError) on a document that is not one."""
        if doc.get("format") != FORMAT:
            raise ValueError(f"format {doc.get('format')!r}")
        commit = doc["commit"]
        snap = cls(
            name=str(doc["name"]),
            created=str(doc["created"]),
            track=str(doc["track"]),
            project=str(doc["project"]),
            commit=None if commit is None else str(commit),
            heads=tuple(str(h) for h in doc["heads"]),
            database=str(doc["database"]),
            owner=str(doc["owner"]),
            server_major=int(doc["server_major"]),
            size=int(doc["size"]),
            sha256=str(doc["sha256"]),
            roles_sql=str(doc["roles_sql"]),
        )
        created_at(snap)  # a valid time
        return snap

    def summary(self) -> dict[str, Any]:
        """What `db snapshots --format json` shows (not the roles)."""
        doc = self.to_json()
        for key in ("format", "roles_sql", "owner"):
            doc.pop(key)
        return doc


def created_at(snap: Snapshot) -> datetime:
    moment = datetime.fromisoformat(snap.created)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise UnusableInput(
            f"snapshot name {name!r} is not usable: use letters, digits, '.', '_' or '-' "
            "(at most 64, starting with a letter or digit)"
        )
    return name


def default_name(track: str, moment: datetime) -> str:
    return f"{track[:40]}-{moment.strftime('%Y%m%d-%H%M%S')}"


@dataclass(frozen=True)
class Store:
    folder: Path

    def dump(self, name: str) -> Path:
        return self.folder / f"{name}.dump"

    def meta(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def read(self, name: str) -> Snapshot:
        """The snapshot's metadata; UnusableInput (one line) when missing or damaged."""
        path = self.meta(name)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UnusableInput(
                f"no snapshot {name!r} in {self.folder}: `omc-dev db snapshots` lists them"
            ) from None
        except OSError as exc:
            raise UnusableInput(f"cannot read snapshot {name!r} ({exc.strerror})") from None
        try:
            return Snapshot.from_json(json.loads(text))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise UnusableInput(
                f"snapshot {name!r} is damaged (its description {path.name} cannot be read): "
                "delete it and take a new one"
            ) from None

    def all(self) -> tuple[list[Snapshot], list[str]]:
        """Readable snapshots, oldest first, and the names of damaged ones."""
        found, damaged = [], []
        with contextlib.suppress(FileNotFoundError):
            for path in sorted(self.folder.glob("*.json")):
                name = path.name.removesuffix(".json")
                if not NAME.match(name):
                    continue
                try:
                    snap = self.read(name)
                except UnusableInput:
                    damaged.append(name)
                    continue
                if self.dump(name).is_file():
                    found.append(snap)
                else:
                    damaged.append(name)
        found.sort(key=lambda s: (created_at(s), s.name))
        return found, damaged

    def delete(self, name: str) -> None:
        self.meta(name).unlink(missing_ok=True)  # first: without it the dump is not listed
        self.dump(name).unlink(missing_ok=True)

    def remove_stale_temp_files(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        for stale in self.folder.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                if now - stale.lstat().st_mtime > STALE_TEMP_SECONDS:
                    stale.unlink()


def store_for(root: Path, *, create: bool = True) -> Store:
    """The repository's snapshot folder (created, owner only, when `create`): in the shared git
    dir, else in the checkout's `.omc/`."""
    from devtools.git.layout import find
    from devtools.omcdir import NAME, omc_dir

    layout = find(root)
    if layout is not None:
        folder = layout.common_dir / "omc" / "snapshots"
    else:
        folder = (omc_dir(root) if create else root / NAME) / "snapshots"
    if create:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return Store(folder)


@dataclass(frozen=True)
class Retention:
    keep: int | None  # at most this many snapshots; None: no limit
    max_age_days: float | None  # none older; None: no limit


def retention(section: Mapping[str, Any]) -> Retention:
    """[tool.omc-dev.db] snapshot-keep (default 10; 0 keeps all) and snapshot-max-age-days."""
    keep = section.get(KEEP_KEY, DEFAULT_KEEP)
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
        raise UnusableInput(
            f"[tool.omc-dev.db] {KEEP_KEY} must be a whole number of snapshots (0 keeps all), "
            f"not {keep!r}"
        )
    age = section.get(AGE_KEY)
    if age is not None and (isinstance(age, bool) or not isinstance(age, int | float) or age <= 0):
        raise UnusableInput(
            f"[tool.omc-dev.db] {AGE_KEY} must be a number of days above 0, not {age!r}"
        )
    return Retention(keep or None, None if age is None else float(age))


def to_prune(
    snapshots: Iterable[Snapshot], rule: Retention, now: datetime, protect: str = ""
) -> list[Snapshot]:
    """Snapshots beyond the newest `keep`, or older than the age limit; never `protect` (the
    one just taken)."""
    newest_first = sorted(snapshots, key=lambda s: (created_at(s), s.name), reverse=True)
    doomed = []
    kept = int(any(s.name == protect for s in newest_first))  # it counts toward the limit
    for snap in newest_first:
        if snap.name == protect:
            continue
        too_old = rule.max_age_days is not None and now - created_at(snap) > timedelta(
            days=rule.max_age_days
        )
        if too_old or (rule.keep is not None and kept >= rule.keep):
            doomed.append(snap)
        else:
            kept += 1
    return doomed


def unknown_heads(heads: Sequence[str], known: set[str]) -> list[str]:
    """The snapshot's Alembic revisions this checkout's history does not have."""
    return [h for h in heads if h not in known]
