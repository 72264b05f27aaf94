"""Query parameters of the kill-switch and overview pages: each bad one is a 400 with one line."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from kernel.web.auditquery import BadQuery

_DIGITS = re.compile(r"[0-9]{1,9}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _shown(raw: str) -> str:
    return repr(raw if len(raw) <= 40 else raw[:40] + "…")


def only(items: Iterable[tuple[str, str]], allowed: tuple[str, ...]) -> dict[str, str]:
    """The query as a dict: each name at most once, and only names this page takes."""
    found: dict[str, str] = {}
    for name, value in items:
        if name not in allowed:
            takes = ", ".join(allowed) if allowed else "no parameters"
            raise BadQuery(f"unknown query parameter {_shown(name)} (this page takes: {takes})")
        if name in found:
            raise BadQuery(f"query parameter {name!r} is given more than once")
        found[name] = value
    return found


def limit(raw: str | None, *, default: int, maximum: int) -> int:
    if raw is None:
        return default
    if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= maximum:
        raise BadQuery(f"limit must be a whole number from 1 to {maximum}, got {_shown(raw)}")
    return int(raw)


FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)  # the page links the next day


def day(raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        if not _DAY.fullmatch(raw):
            raise ValueError
        found = date.fromisoformat(raw)
    except ValueError:
        raise BadQuery(f"day must be a date as YYYY-MM-DD, got {_shown(raw)}") from None
    if not FIRST_DAY <= found <= LAST_DAY:
        raise BadQuery(f"day must be from {FIRST_DAY} to {LAST_DAY}, got {_shown(raw)}")
    return found


def sequence(raw: str | None, name: str) -> int | None:
    if raw is None:
        return None
    if not _DIGITS.fullmatch(raw):
        raise BadQuery(f"{name} must be an audit sequence number, got {_shown(raw)}")
    return int(raw)
