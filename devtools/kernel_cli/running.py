"""`omc-dev kernel run`: plan the feed, run the paper loop under a progress bar, summarise.

Ctrl-C sets a stop flag: the loop finishes the tick in hand, commits it and returns (exit 130);
a second Ctrl-C interrupts at once (the open tick's transaction rolls back).
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from devtools.errors import EXIT_INTERRUPTED

if TYPE_CHECKING:
    from decimal import Decimal

    from kernel.alerts import ChannelReport
    from kernel.loop import RunStats


@contextmanager
def first_interrupt_sets(stop: threading.Event) -> Iterator[None]:
    def _handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, _handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_paper(
    db_url: str | None,
    *,
    symbols: list[str] | None,
    feed: Path | None,
    seed: int,
    ticks: int | None,
    duration: str | None,
    realtime: bool,
) -> int:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from devtools.kernel_cli.project import kernel_database, kernel_settings
    from kernel.alerts import Outbox, OutboxWorker
    from kernel.loop import (
        PaperLoop,
        account_equity,
        parse_duration,
        plan_replay,
        plan_synthetic,
    )
    from kernel.prices import Tick
    from kernel.schema_version import require_current

    settings = kernel_settings()
    span = parse_duration(duration) if duration is not None else None
    db = kernel_database(db_url)
    try:
        require_current(db)
        if feed is not None:
            plan = plan_replay(db, settings, path=feed, symbols=symbols, ticks=ticks, duration=span)
        else:
            plan = plan_synthetic(
                db,
                settings,
                seed=seed,
                symbols=symbols,
                ticks=ticks,
                duration=span,
                realtime=realtime,
            )
        worker = None
        outbox = Outbox(db, settings.alerts)
        alerts_before = outbox.last_id()
        if settings.alerts.channels:
            worker = OutboxWorker(outbox).start()
        loop = PaperLoop(db, settings, plan.symbols, source=plan.source, alerts=worker)
        loop.prepare()
        equity_before = account_equity(db, settings)
        stderr = Console(stderr=True, highlight=False)
        stderr.print(
            f"paper trading {', '.join(plan.symbols)} on a {plan.description} "
            f"({plan.total} ticks, {'real time' if realtime else 'simulated time'}); "
            f"database {db.display_url}"
        )
        stop = threading.Event()
        started = time.perf_counter()
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[clock]}"),
            TextColumn("{task.fields[state]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        with (
            first_interrupt_sets(stop),
            Progress(*columns, console=stderr, transient=False) as progress,
        ):
            task = progress.add_task("ticks", total=plan.total, clock="", state="")

            def on_tick(stats: RunStats, tick: Tick) -> None:
                progress.update(
                    task,
                    completed=stats.ticks,
                    clock=f"{tick.ts:%Y-%m-%d %H:%M} UTC",
                    state=f"{stats.state} {stats.mode}",
                )

            stats = loop.run(plan.ticks, stop=stop, realtime=realtime, on_tick=on_tick)
        wall = time.perf_counter() - started
        if worker is not None:
            worker.stop(flush_seconds=settings.alerts.timeout)
        alerts = outbox.report(after=alerts_before)
        equity_after = account_equity(db, settings)
    finally:
        db.dispose()

    _summary(
        stats,
        total=plan.total,
        wall=wall,
        before=equity_before,
        after=equity_after,
        quote=settings.quote,
    )
    _say_alerts(alerts)
    if stats.interrupted:
        click.echo(
            f"omc-dev: interrupted after {stats.ticks} of {plan.total} ticks; "
            "every finished tick is committed",
            err=True,
        )
        return EXIT_INTERRUPTED
    return 0


def _say_alerts(alerts: list[ChannelReport]) -> None:
    """What became of this run's alerts, when any was not delivered: failed for good, or
    still queued."""
    failed = [a for a in alerts if a.status == "failed"]
    queued = [a for a in alerts if a.status == "pending"]
    if failed:
        first = failed[0]
        click.echo(
            f"{len(failed)} alert(s) of this run FAILED and will not be retried "
            f"(first: {first.channel}, {first.error})",
            err=True,
        )
    if queued:
        click.echo(
            f"{len(queued)} alert(s) of this run are not delivered yet: they stay in the outbox "
            "and are retried by the next `omc-dev kernel run` or `kernel serve`",
            err=True,
        )


def _summary(
    stats: RunStats, *, total: int, wall: float, before: Decimal, after: Decimal, quote: str
) -> None:
    from kernel.money import plain, q8

    out = sys.stdout
    span = (
        f"{stats.first_ts:%Y-%m-%d %H:%M} -> {stats.last_ts:%Y-%m-%d %H:%M} UTC"
        if stats.first_ts and stats.last_ts
        else "no ticks"
    )
    denied = ", ".join(f"{k} {v}" for k, v in sorted(stats.denied.items())) or "none"
    rejected = ", ".join(f"{k} {v}" for k, v in sorted(stats.rejected.items())) or "none"
    rate = stats.ticks / wall if wall > 0 else 0.0
    lines = [
        f"ticks        {stats.ticks} of {total} ({span}) in {wall:.1f}s, {rate:.0f} ticks/s",
        f"signals      {stats.signals}",
        f"orders       {stats.orders} accepted, {stats.fills} fills",
        f"denied       {denied}",
        f"rejected     {rejected}",
        f"market mode  {stats.mode_changes} change(s), now {stats.mode or '-'}",
        f"trading      {stats.state or '-'}, kill switch trips {stats.trips}",
        f"equity       {plain(q8(before))} -> {plain(q8(after))} {quote} "
        f"({'+' if after >= before else ''}{plain(q8(after - before))})",
    ]
    out.write("\n".join(lines) + "\n")
