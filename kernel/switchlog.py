"""The kill switch's timeline: trips, resets and the Guard's REDUCING spells, read from the audit.

Every change of the trading state is an audit record (KILL_SWITCH_TRIPPED, KILL_SWITCH_RESET,
TRADING_STATE_CHANGED), so the timeline is as tamper-evident as the chain. Times are the records'
`created_at` (the wall clock when written, which runs with the sequence); the kernel clock the
decision used (a simulated tick's time) is kept beside it as `clock`. Periods are the spells
trading was HALTED or REDUCING: from the record that entered the state to the one that left it
(or still going at `as_of`), measured both ways: a simulated day's spells pass in seconds of wall
clock but last hours of its kernel clock, which is then also the picture's time axis.

`omc-dev kernel killswitch history --format json` and `GET /api/killswitch` both print
`timeline_json`: one shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

from sqlalchemy.orm import Session

from kernel import audit, prices
from kernel.models import AuditAction, AuditRecord, TradingState, TradingStateRow

ACTIONS = (
    AuditAction.KILL_SWITCH_TRIPPED,
    AuditAction.KILL_SWITCH_RESET,
    AuditAction.TRADING_STATE_CHANGED,
)
DEFAULT_LIMIT = 200  # events the page and the API show unless asked for more
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class Event:
    sequence: int
    at: datetime  # when the record was written (UTC)
    clock: datetime | None  # the kernel clock the decision used
    event: str  # trip | reset | reduce | resume
    by: str
    reason: str | None
    outcome: str | None
    before: str  # the trading state before and after
    after: str


@dataclass(frozen=True)
class Period:
    """A spell of HALTED or REDUCING trading."""

    state: str
    start: Event
    end: Event | None  # None: still in that state

    def seconds(self, as_of: datetime) -> float:
        """How long, by when the records were written (up to `as_of` while it lasts)."""
        until = self.end.at if self.end is not None else as_of
        return max(0.0, (until - self.start.at).total_seconds())

    def clock_seconds(self, clock_now: datetime | None) -> float | None:
        """How long by the kernel clock (a simulated day's own time); None where a clock is
        missing or runs backwards (a simulated day ahead of an operator's wall clock)."""
        start = self.start.clock
        until = self.end.clock if self.end is not None else clock_now
        if start is None or until is None or until < start:
            return None
        return (until - start).total_seconds()


@dataclass(frozen=True)
class Timeline:
    state: str  # trading now
    as_of: datetime
    clock_now: datetime | None  # the kernel clock now: its last price or decision
    events: list[Event]  # oldest first
    periods: list[Period]
    kill_switch: dict[str, Any]  # the latched switch as `kernel status` shows it


def _event(r: AuditRecord) -> Event:
    inputs = json.loads(r.inputs)
    clock = inputs.get("clock")
    when = datetime.fromisoformat(clock) if isinstance(clock, str) else None
    if r.action == AuditAction.KILL_SWITCH_TRIPPED:
        kind, before, after = "trip", str(inputs.get("previous_state", "ACTIVE")), "HALTED"
    elif r.action == AuditAction.KILL_SWITCH_RESET:
        kind, before, after = "reset", "HALTED", "ACTIVE"
    else:
        after = str(r.decision)
        kind = "reduce" if after == TradingState.REDUCING else "resume"
        before = str(inputs.get("previous_state", "ACTIVE"))
    return Event(r.sequence, r.created_at, when, kind, r.actor, r.reason, r.outcome, before, after)


def periods(events: list[Event]) -> list[Period]:
    """The HALTED and REDUCING spells `events` (oldest first) enter and leave."""
    found: list[Period] = []
    current: Period | None = None
    for e in events:
        if current is not None and e.after != current.state:
            found.append(Period(current.state, current.start, e))
            current = None
        if current is None and e.after in (TradingState.HALTED, TradingState.REDUCING):
            current = Period(e.after, e, None)
    if current is not None:
        found.append(current)
    return found


def timeline(session: Session, now: datetime, limit: int | None = DEFAULT_LIMIT) -> Timeline:
    """The last `limit` state changes (all with None) and the spells they make."""
    records = audit.query(session, limit=limit, actions=tuple(str(a) for a in ACTIONS))
    events = [_event(r) for r in records]
    row = session.get(TradingStateRow, 1)
    assert row is not None, "trading_state singleton missing (the migration seeds it)"
    switch = {
        "tripped": row.state == TradingState.HALTED,
        "tripped_at": _iso(row.tripped_at),
        "tripped_by": row.tripped_by,
        "trip_reason": row.trip_reason,
        "reset_at": _iso(row.reset_at),
        "reset_by": row.reset_by,
        "reset_reason": row.reset_reason,
    }
    clocks = [e.clock for e in events if e.clock is not None]
    last_price = prices.last_timestamp(session)
    clock_now = max([*clocks, *([last_price] if last_price else [])], default=None)
    return Timeline(row.state, now, clock_now, events, periods(events), switch)


def by_clock(t: Timeline) -> bool:
    """Whether the kernel clock can be the timeline's axis: every change carries one and they run
    with the sequence (a simulated day alone); else the times the records were written are."""
    clocks = [e.clock for e in t.events]
    return bool(clocks) and all(
        a is not None and b is not None and a <= b for a, b in pairwise([*clocks, t.clock_now])
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _rounded(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


def event_json(e: Event) -> dict[str, Any]:
    return {
        "sequence": e.sequence,
        "at": e.at.isoformat(),
        "event": e.event,
        "by": e.by,
        "reason": e.reason,
        "outcome": e.outcome,
        "clock": _iso(e.clock),
        "state_before": e.before,
        "state_after": e.after,
    }


def timeline_json(t: Timeline) -> dict[str, Any]:
    return {
        "state": t.state,
        "as_of": t.as_of.isoformat(),
        "clock_now": _iso(t.clock_now),
        "kill_switch": t.kill_switch,
        "events": [event_json(e) for e in t.events],
        "periods": [
            {
                "state": p.state,
                "start": p.start.at.isoformat(),
                "end": _iso(p.end.at) if p.end is not None else None,
                "ongoing": p.end is None,
                "seconds": round(p.seconds(t.as_of), 3),
                "clock_seconds": _rounded(p.clock_seconds(t.clock_now)),
                "by": p.start.by,
                "reason": p.start.reason,
                "start_sequence": p.start.sequence,
                "ended_by": p.end.by if p.end is not None else None,
                "end_reason": p.end.reason if p.end is not None else None,
                "end_sequence": p.end.sequence if p.end is not None else None,
            }
            for p in t.periods
        ],
    }
