"""Charts drawn on the server as SVG text: pure functions of the data, no JavaScript, no CDN.

Every piece of text that came from the database (an operator's name, a reason) goes through
`esc`, so a reason like `<script>` is drawn as those characters. The output is a complete
`<svg>` element, safe to put inline in a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from html import escape

from kernel.equity import EquityCurve
from kernel.money import plain, q8
from kernel.switchlog import Event, Period, Timeline, by_clock

COLOURS = {"HALTED": "#c62828", "REDUCING": "#ef8f00"}
EVENT_COLOURS = {"trip": "#c62828", "reset": "#2e7d32", "reduce": "#ef8f00", "resume": "#2e7d32"}


def esc(text: object) -> str:
    """Text safe in SVG/HTML content and in quoted attributes."""
    return escape(str(text), quote=True)


def _n(value: float) -> str:
    return f"{value:.1f}"


def _hhmm(moment: datetime, span: timedelta) -> str:
    if span <= timedelta(minutes=10):
        return moment.strftime("%H:%M:%S")
    if span <= timedelta(days=2):
        return moment.strftime("%H:%M")
    return moment.strftime("%m-%d %H:%M")


def _time_ticks(t0: datetime, t1: datetime, count: int = 5) -> list[datetime]:
    step = (t1 - t0) / (count - 1)
    return [t0 + step * k for k in range(count)]


def _open(width: int, height: int, label: str, css_class: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" aria-label="{esc(label)}">',
        f"<title>{esc(label)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>',
    ]


def _say(width: int, height: int, label: str, message: str, css_class: str) -> str:
    parts = _open(width, height, label, css_class)
    parts.append(
        f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" '
        f'font-size="14" fill="#555">{esc(message)}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)


# --- kill switch timeline -----------------------------------------------------------------------


def _describe(e: Event) -> str:
    words = {"trip": "tripped", "reset": "reset", "reduce": "REDUCING", "resume": "ACTIVE again"}
    text = f"#{e.sequence} {e.at.strftime('%Y-%m-%d %H:%M:%S')} UTC: {words[e.event]} by {e.by}"
    return f"{text}: {e.reason}" if e.reason else text


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def timeline_svg(t: Timeline, width: int = 900, height: int = 150) -> str:
    """Trading state over time: HALTED and REDUCING spells as bands, each change as a marker
    (hover: who, when, why), a time axis in UTC: the kernel clock when every change has one in
    order (a simulated day's hours), else when the records were written."""
    clock = by_clock(t)
    label = "Kill switch timeline: trips, resets and REDUCING spells (UTC, {})".format(
        "kernel clock" if clock else "time written"
    )
    if not t.events:
        return _say(width, height, label, "no trips or resets yet", "timeline")

    def when(e: Event) -> datetime:
        return e.clock if clock and e.clock is not None else e.at

    now = t.clock_now if clock and t.clock_now is not None else t.as_of

    def how_long(p: Period) -> float:
        seconds = p.clock_seconds(t.clock_now) if clock else None
        return seconds if seconds is not None else p.seconds(t.as_of)

    left, right, lane_top, lane_h = 20.0, width - 20.0, 28.0, 48.0
    t0 = when(t.events[0])
    t1 = max(now, when(t.events[-1]))
    span = t1 - t0
    if span.total_seconds() <= 0:
        span = timedelta(seconds=60)
        t1 = t0 + span
    # A little room either side so the first and last markers are not on the edge.
    pad = span * 0.03
    t0, t1 = t0 - pad, t1 + pad
    total = (t1 - t0).total_seconds()

    def x(moment: datetime) -> float:
        return left + (right - left) * (moment - t0).total_seconds() / total

    parts = _open(width, height, label, "timeline")
    parts.append(
        f'<rect x="{_n(left)}" y="{_n(lane_top)}" width="{_n(right - left)}" '
        f'height="{_n(lane_h)}" fill="#e8f5e9" stroke="#ccc"/>'
    )
    for p in t.periods:
        x0 = x(when(p.start))
        x1 = x(when(p.end)) if p.end is not None else x(now)
        lasted = duration(how_long(p)) + ("" if p.end is not None else ", still")
        tip = f"{p.state} for {lasted}; from {_describe(p.start)}"
        if p.end is not None:
            tip += f"; until {_describe(p.end)}"
        parts.append(
            f'<rect class="period period-{p.state.lower()}" x="{_n(x0)}" y="{_n(lane_top)}" '
            f'width="{_n(max(2.0, x1 - x0))}" height="{_n(lane_h)}" '
            f'fill="{COLOURS[p.state]}" fill-opacity="0.75"><title>{esc(tip)}</title></rect>'
        )
        if x1 - x0 > 90:
            parts.append(
                f'<text x="{_n(x0 + 4)}" y="{_n(lane_top + 18)}" font-size="12" fill="#fff">'
                f"{esc(p.state)} {esc(lasted)}</text>"
            )
            parts.append(
                f'<text x="{_n(x0 + 4)}" y="{_n(lane_top + 34)}" font-size="11" fill="#fff">'
                f"by {esc(p.start.by)}</text>"
            )
    for e in t.events:
        cx, cy = x(when(e)), lane_top + lane_h + 12
        parts.append(
            f'<g class="event event-{e.event}" data-sequence="{e.sequence}">'
            f'<line x1="{_n(cx)}" y1="{_n(lane_top)}" x2="{_n(cx)}" y2="{_n(cy)}" '
            f'stroke="{EVENT_COLOURS[e.event]}" stroke-width="1.5"/>'
            f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="5" fill="{EVENT_COLOURS[e.event]}"/>'
            f"<title>{esc(_describe(e))}</title></g>"
        )
    axis_y = height - 14
    for tick in _time_ticks(t0 + pad, t1 - pad):
        parts.append(
            f'<text x="{_n(x(tick))}" y="{axis_y}" font-size="11" fill="#555" '
            f'text-anchor="middle">{esc(_hhmm(tick, span))}</text>'
        )
    parts.append(
        f'<text x="{_n(left)}" y="18" font-size="12" fill="#333">trading now: {esc(t.state)} · '
        f"axis: {'kernel clock' if clock else 'time written'} (UTC)</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts)


# --- equity curve ---------------------------------------------------------------------------


def _amount(value: Decimal) -> str:
    return plain(q8(value).quantize(Decimal("0.01")))


def equity_svg(
    c: EquityCurve, spells: Sequence[Period] = (), width: int = 900, height: int = 300
) -> str:
    """The day's equity as a line over UTC time (kernel clock), with the day's opening equity
    and, where they fall on the chart, the REDUCING and kill-switch thresholds of the daily loss
    limit; `spells` (HALTED, REDUCING) shaded where their kernel clock puts them on the day."""
    label = f"Equity on {c.day.isoformat()} ({c.currency}, UTC)"
    if not c.points:
        return _say(width, height, label, f"no prices or fills on {c.day.isoformat()}", "equity")
    left, right, top, bottom = 90.0, width - 20.0, 24.0, height - 30.0
    values = [p.equity for p in c.points]
    low, high = min(values), max(values)
    if c.open_equity is not None:
        low, high = min(low, c.open_equity), max(high, c.open_equity)
    if high == low:
        low, high = low - 1, high + 1
    margin = (high - low) * Decimal("0.08")
    low, high = low - margin, high + margin
    t0, t1 = c.points[0].at, c.points[-1].at
    if t1 <= t0:
        t0, t1 = t0 - timedelta(minutes=1), t1 + timedelta(minutes=1)
    total = (t1 - t0).total_seconds()

    def x(moment: datetime) -> float:
        return left + (right - left) * (moment - t0).total_seconds() / total

    def y(value: Decimal) -> float:
        return bottom - (bottom - top) * float((value - low) / (high - low))

    parts = _open(width, height, label, "equity")
    parts.append(
        f'<rect x="{_n(left)}" y="{_n(top)}" width="{_n(right - left)}" '
        f'height="{_n(bottom - top)}" fill="#fafafa" stroke="#ccc"/>'
    )
    for k in range(5):
        value = low + (high - low) * k / 4
        parts.append(
            f'<line x1="{_n(left)}" x2="{_n(right)}" y1="{_n(y(value))}" y2="{_n(y(value))}" '
            f'stroke="#eee"/><text x="{_n(left - 6)}" y="{_n(y(value) + 4)}" font-size="11" '
            f'fill="#555" text-anchor="end">{esc(_amount(value))}</text>'
        )
    for p in spells:
        start, end = p.start.clock, p.end.clock if p.end is not None else t1
        if start is None or end is None or end < start or end < t0 or start > t1:
            continue  # no kernel clock to place it by, or not on this day
        x0, x1 = x(max(start, t0)), x(min(end, t1))
        tip = f"{p.state}: {_describe(p.start)}"
        parts.append(
            f'<rect class="spell spell-{p.state.lower()}" x="{_n(x0)}" y="{_n(top)}" '
            f'width="{_n(max(1.5, x1 - x0))}" height="{_n(bottom - top)}" '
            f'fill="{COLOURS[p.state]}" fill-opacity="0.15"><title>{esc(tip)}</title></rect>'
        )
    notes: list[str] = []
    lines: Sequence[tuple[str, Decimal | None, str]] = (
        ("opening equity", c.open_equity, "#1565c0"),
        ("REDUCING below", c.reduce_at, "#ef8f00"),
        ("kill switch at", c.trip_at, "#c62828"),
    )
    for name, level, colour in lines:
        if level is None:
            continue
        if low <= level <= high:
            parts.append(
                f'<line class="threshold" x1="{_n(left)}" x2="{_n(right)}" y1="{_n(y(level))}" '
                f'y2="{_n(y(level))}" stroke="{colour}" stroke-dasharray="6 4">'
                f"<title>{esc(name)} {esc(_amount(level))}</title></line>"
                f'<text x="{_n(right - 4)}" y="{_n(y(level) - 4)}" font-size="11" '
                f'fill="{colour}" text-anchor="end">{esc(name)} {esc(_amount(level))}</text>'
            )
        else:
            notes.append(f"{name} {_amount(level)}")
    path = " ".join(
        f"{'M' if k == 0 else 'L'}{_n(x(p.at))},{_n(y(p.equity))}" for k, p in enumerate(c.points)
    )
    last = c.points[-1]
    parts.append(
        f'<path class="equity-line" d="{path}" fill="none" stroke="#1b5e20" stroke-width="1.6">'
        f"<title>equity {esc(_amount(min(values)))} to {esc(_amount(max(values)))}</title>"
        "</path>"
    )
    parts.append(
        f'<circle cx="{_n(x(last.at))}" cy="{_n(y(last.equity))}" r="3" fill="#1b5e20">'
        f"<title>{esc(last.at.strftime('%H:%M:%S'))} UTC: {esc(_amount(last.equity))}</title>"
        "</circle>"
    )
    for tick in _time_ticks(t0, t1):
        parts.append(
            f'<text x="{_n(x(tick))}" y="{_n(bottom + 18)}" font-size="11" fill="#555" '
            f'text-anchor="middle">{esc(_hhmm(tick, t1 - t0))}</text>'
        )
    header = f"{c.currency} equity, {c.day.isoformat()} (UTC)"
    if notes:
        header += " · off the chart: " + ", ".join(notes)
    parts.append(f'<text x="{_n(left)}" y="16" font-size="12" fill="#333">{esc(header)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
