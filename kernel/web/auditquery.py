"""The audit as the dashboard reads it: filters parsed from a query string, and keyset pages.

Paging is by sequence (`before=N`: older than record N; `after=N`: newer than record N), never
OFFSET, so a page of a million-record audit costs one index range scan whatever its depth.
Plain SQLAlchemy, no web library: the benchmark and the tests call it directly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from kernel.models import AuditAction, AuditRecord

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
ACTIONS = tuple(str(a) for a in AuditAction)
# A sequence fits a signed 64-bit integer on SQLite and PostgreSQL alike; ASCII digits only
# (int() would also take other scripts' digits, and a 5000-digit string raises).
DIGITS = re.compile(r"[0-9]{1,18}")
MAX_SEQUENCE = 2**31 - 1  # the column is a 32-bit INTEGER on PostgreSQL
_TEXT_MAX = 200  # a filter value longer than any stored field matches nothing: refuse it


class BadQuery(Exception):
    """A query parameter the dashboard cannot use; `str()` is the one-line message (HTTP 400)."""


@dataclass(frozen=True)
class AuditFilter:
    """Combinable filters (all given ones must hold); empty means the whole audit."""

    actor: str | None = None
    action: str | None = None
    symbol: str | None = None
    reason: str | None = None
    since: datetime | None = None  # created_at >= since (UTC)
    until: datetime | None = None  # created_at <= until (UTC)

    def params(self) -> list[tuple[str, str]]:
        """The filter as query parameters (what `parse_filter` reads back)."""
        out: list[tuple[str, str]] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            out.append((f.name, value.isoformat() if isinstance(value, datetime) else value))
        return out

    @property
    def empty(self) -> bool:
        return not self.params()

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        if self.actor is not None:
            stmt = stmt.where(AuditRecord.actor == self.actor)
        if self.action is not None:
            stmt = stmt.where(AuditRecord.action == self.action)
        if self.symbol is not None:
            stmt = stmt.where(AuditRecord.symbol == self.symbol)
        if self.reason is not None:
            stmt = stmt.where(AuditRecord.reason == self.reason)
        if self.since is not None:
            stmt = stmt.where(AuditRecord.created_at >= self.since)
        if self.until is not None:
            stmt = stmt.where(AuditRecord.created_at <= self.until)
        return stmt


@dataclass(frozen=True)
class PageRequest:
    before: int | None = None
    after: int | None = None
    limit: int = DEFAULT_LIMIT


FILTER_PARAMS = ("actor", "action", "symbol", "reason", "since", "until")
PAGE_PARAMS = ("before", "after", "limit")


def single_values(items: Sequence[tuple[str, str]], allowed: Sequence[str]) -> dict[str, str]:
    """The query string as one value per name; an unknown or repeated name is a `BadQuery`.

    An empty value counts as absent (an HTML form sends every field, filled or not).
    """
    values: dict[str, str] = {}
    for name, value in items:
        if name not in allowed:
            raise BadQuery(
                f"unknown query parameter {name!r}: expected one of {', '.join(allowed)}"
            )
        if name in values:
            raise BadQuery(f"query parameter {name!r} is given twice: give it once")
        if value != "":
            values[name] = value
    return values


def parse_filter(values: Mapping[str, str]) -> AuditFilter:
    for name in ("actor", "symbol", "reason"):
        if len(values.get(name, "")) > _TEXT_MAX:
            raise BadQuery(f"{name} is longer than {_TEXT_MAX} characters")
    action = values.get("action")
    if action is not None:
        action = action.upper()
        if action not in ACTIONS:
            raise BadQuery(
                f"unknown action {values['action']!r}: expected one of {', '.join(ACTIONS)}"
            )
    since = _time(values, "since")
    until = _time(values, "until")
    if since is not None and until is not None and since > until:
        raise BadQuery("since is later than until: swap them")
    return AuditFilter(
        actor=values.get("actor"),
        action=action,
        symbol=values.get("symbol"),
        reason=values.get("reason"),
        since=since,
        until=until,
    )


def parse_page(values: Mapping[str, str], *, max_limit: int = MAX_LIMIT) -> PageRequest:
    before = _number(values, "before")
    after = _number(values, "after")
    if before is not None and after is not None:
        raise BadQuery("before and after are alternatives: give one")
    limit = _number(values, "limit")
    if limit is None:
        limit = min(DEFAULT_LIMIT, max_limit)
    elif not 1 <= limit <= max_limit:
        raise BadQuery(f"limit must be between 1 and {max_limit}, got {limit}")
    return PageRequest(before=before, after=after, limit=limit)


def _number(values: Mapping[str, str], name: str) -> int | None:
    raw = values.get(name)
    if raw is None:
        return None
    if not DIGITS.fullmatch(raw):
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        what = "a whole number" if name == "limit" else "a whole number (a record's sequence)"
        raise BadQuery(f"{name} must be {what}, got {shown!r}")
    value = int(raw)
    if value > MAX_SEQUENCE:
        raise BadQuery(f"{name} must be at most {MAX_SEQUENCE}, got {value}")
    return value


def _time(values: Mapping[str, str], name: str) -> datetime | None:
    raw = values.get(name)
    if raw is None:
        return None
    text = raw.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
        # A time without an offset is UTC, as every time on these pages is.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        raise BadQuery(
            f"{name} must be an ISO 8601 time such as 2026-01-31T14:00:00Z, got {shown!r}"
        ) from None


def newest_first(session: Session, flt: AuditFilter, page: PageRequest) -> list[AuditRecord]:
    """One page of matching records, newest first: below `before`, or the newest above `after`
    (the live view's new rows), or the newest of all."""
    stmt = flt.apply(select(AuditRecord))
    if page.before is not None:
        stmt = stmt.where(AuditRecord.sequence < page.before)
    if page.after is not None:
        stmt = stmt.where(AuditRecord.sequence > page.after)
    stmt = stmt.order_by(AuditRecord.sequence.desc()).limit(page.limit)
    return list(session.scalars(stmt))


def oldest_first(session: Session, flt: AuditFilter, page: PageRequest) -> list[AuditRecord]:
    """What `/api/audit` answers, oldest first as the CLI prints: with `after`, the first
    `limit` matching records after it (a consumer that tails the audit misses none); otherwise
    the newest `limit` (below `before` when given)."""
    if page.after is None:
        return list(reversed(newest_first(session, flt, page)))
    stmt = flt.apply(select(AuditRecord)).where(AuditRecord.sequence > page.after)
    stmt = stmt.order_by(AuditRecord.sequence.asc()).limit(page.limit)
    return list(session.scalars(stmt))


def record(session: Session, sequence: int) -> AuditRecord | None:
    return session.get(AuditRecord, sequence)
