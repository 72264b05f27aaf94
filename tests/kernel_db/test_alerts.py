"""Alerts through the durable outbox to a real HTTP server on loopback: 500, 429, slow, 4xx."""

from __future__ import annotations

import contextlib
import json
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from sqlalchemy import select

from kernel import killswitch
from kernel.alerts import Outbox, OutboxWorker, post, retry_after_seconds
from kernel.db import Database
from kernel.models import AlertOutbox
from kernel.settings import AlertSettings
from tests.fixtures.cli import omc
from tests.fixtures.webhook import Reply, WebhookServer, trickle

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


def alert_settings(server: WebhookServer, **overrides: Any) -> AlertSettings:
    base: dict[str, Any] = {
        "slack_webhook": server.url("/slack"),
        "discord_webhook": server.url("/discord"),
        "timeout": 0.5,
        "max_attempts": 5,
        "backoff": 0.05,
        "backoff_max": 1.0,
    }
    base.update(overrides)
    return AlertSettings(**base)


def trip(db: Database, settings: AlertSettings, by: str = "alice") -> str:
    with db.write() as s:
        change = killswitch.trip(
            s, by=by, reason="drill", now=NOW, channels=tuple(settings.channels)
        )
    assert change.alert_id is not None
    return change.alert_id


def rows(db: Database) -> dict[str, AlertOutbox]:
    with db.read() as s:
        return {r.channel: r for r in s.scalars(select(AlertOutbox))}


def test_trip_first_alert_after_in_native_formats_with_the_alert_id(
    db: Database, webhook_server: WebhookServer
) -> None:
    settings = alert_settings(webhook_server)
    alert_id = trip(db, settings)
    # Committed and halted, and nobody has been called yet: delivery comes after.
    assert webhook_server.requests == []
    assert {r.status for r in rows(db).values()} == {"pending"}
    assert Outbox(db, settings).drain(time.monotonic() + 10)
    by_path = {r.path: r for r in webhook_server.requests}
    slack, discord = by_path["/slack"].json(), by_path["/discord"].json()
    assert alert_id in slack["text"] and "Kill switch TRIPPED by alice" in slack["text"]
    assert slack["blocks"][0]["type"] == "section"
    assert alert_id in discord["content"]
    assert discord["embeds"][0]["footer"]["text"] == f"alert {alert_id}"
    assert discord["allowed_mentions"] == {"parse": []}
    assert by_path["/slack"].headers["Content-Type"] == "application/json"
    assert {(r.status, r.attempts) for r in rows(db).values()} == {("delivered", 1)}


def test_a_5xx_is_retried_with_backoff(db: Database, webhook_server: WebhookServer) -> None:
    settings = alert_settings(webhook_server, discord_webhook=None, backoff=0.2)
    webhook_server.script(Reply(500, body=b"oops"), Reply(503), Reply(200))
    trip(db, settings)
    assert Outbox(db, settings).drain(time.monotonic() + 10)
    times = [r.at for r in webhook_server.requests]
    assert len(times) == 3
    assert times[1] - times[0] >= 0.2 and times[2] - times[1] >= 0.4  # doubling
    row = rows(db)["slack"]
    assert (row.status, row.attempts, row.last_error) == ("delivered", 3, None)


def test_a_429_waits_for_retry_after(db: Database, webhook_server: WebhookServer) -> None:
    settings = alert_settings(webhook_server, discord_webhook=None)
    webhook_server.script(Reply(429, headers={"Retry-After": "1"}, body=b"slow down"))
    trip(db, settings)
    assert Outbox(db, settings).drain(time.monotonic() + 10)
    first, second = webhook_server.requests
    assert second.at - first.at >= 1.0  # not the 0.05 s backoff
    assert rows(db)["slack"].status == "delivered"


def test_a_slow_webhook_times_out_and_is_retried(
    db: Database, webhook_server: WebhookServer
) -> None:
    settings = alert_settings(webhook_server, discord_webhook=None, timeout=0.3)
    webhook_server.script(Reply(200, delay=1.5))
    trip(db, settings)
    assert Outbox(db, settings).drain(time.monotonic() + 10)
    row = rows(db)["slack"]
    assert (row.status, row.attempts) == ("delivered", 2)
    assert len(webhook_server.requests) == 2


def test_other_4xx_give_up_at_once(db: Database, webhook_server: WebhookServer) -> None:
    settings = alert_settings(webhook_server)
    webhook_server.script(Reply(404, body=b"no_service"), Reply(400, body=b"invalid_payload"))
    trip(db, settings)
    assert Outbox(db, settings).drain(time.monotonic() + 10)
    assert len(webhook_server.requests) == 2
    failed = rows(db)
    assert {(r.status, r.attempts) for r in failed.values()} == {("failed", 1)}
    assert {r.last_error for r in failed.values()} == {
        "HTTP 404: no_service",
        "HTTP 400: invalid_payload",
    }


def test_running_out_of_attempts_fails_the_alert(
    db: Database, webhook_server: WebhookServer
) -> None:
    settings = alert_settings(webhook_server, discord_webhook=None, max_attempts=3, backoff=0.01)
    webhook_server.default = Reply(500)
    trip(db, settings)
    assert Outbox(db, settings).drain(time.monotonic() + 10)
    row = rows(db)["slack"]
    assert (row.status, row.attempts) == ("failed", 3)
    assert len(webhook_server.requests) == 3


def test_unreachable_webhooks_keep_the_alert_pending_for_later(db: Database) -> None:
    settings = AlertSettings("http://127.0.0.1:9/none", None, 0.3, 5, 30.0, 60.0)
    trip(db, settings)
    assert not Outbox(db, settings).drain(time.monotonic() + 1)
    row = rows(db)["slack"]
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error is not None and row.last_error.startswith("no answer")


def test_delivery_is_at_least_once(db: Database, webhook_server: WebhookServer) -> None:
    """A dispatcher that dies after the POST but before recording it: the alert goes again,
    with the same id, once its lease runs out."""
    settings = alert_settings(webhook_server, discord_webhook=None)
    alert_id = trip(db, settings)
    clock = [datetime.now(UTC)]

    def crashing_sender(*args: Any, **kwargs: Any) -> Any:
        post(*args, **kwargs)
        raise SystemExit("the dispatcher died")

    with contextlib.suppress(SystemExit):
        Outbox(db, settings, clock=lambda: clock[0], sender=crashing_sender).deliver_due()
    assert rows(db)["slack"].status == "pending"
    outbox = Outbox(db, settings, clock=lambda: clock[0])
    assert outbox.deliver_due() == 0  # leased: nobody else sends it meanwhile
    clock[0] += timedelta(seconds=settings.timeout * 2 + 2)
    assert outbox.deliver_due() == 1
    assert [alert_id in r.json()["text"] for r in webhook_server.requests] == [True, True]
    assert rows(db)["slack"].status == "delivered"


def test_a_channel_removed_from_the_settings_fails_its_alerts(
    db: Database, webhook_server: WebhookServer
) -> None:
    trip(db, alert_settings(webhook_server, discord_webhook=None))
    Outbox(db, alert_settings(webhook_server, slack_webhook=None)).deliver_due()
    assert rows(db)["slack"].last_error == "channel slack is no longer configured"


def test_the_worker_delivers_in_the_background(db: Database, webhook_server: WebhookServer) -> None:
    settings = alert_settings(webhook_server)
    worker = OutboxWorker(Outbox(db, settings), idle_poll=0.2).start()
    try:
        trip(db, settings)
        worker.poke()
        deadline = time.monotonic() + 10
        while len(webhook_server.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        assert worker.stop(flush_seconds=5)
    assert {r.status for r in rows(db).values()} == {"delivered"}


def test_the_cli_trip_commits_before_a_hanging_webhook_answers(
    db: Database, webhook_server: WebhookServer
) -> None:
    webhook_server.default = Reply(200, delay=3)
    env = {
        "OMC_KERNEL_ALERTS_SLACK_WEBHOOK": webhook_server.url("/slack"),
        "OMC_KERNEL_ALERTS_TIMEOUT": "0.5",
        "OMC_KERNEL_ALERTS_BACKOFF": "30",
    }
    proc = omc(
        "kernel",
        "killswitch",
        "trip",
        "--db",
        db.url,
        "--by",
        "alice",
        "--reason",
        "x",
        "--format",
        "json",
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert (body["state"], body["alerts_delivered"]) == ("HALTED", False)
    row = rows(db)["slack"]
    assert (row.status, row.attempts) == ("pending", 1)
    assert webhook_server.requests  # it was tried, after the halt was committed


@pytest.mark.unit  # no database: runs once, in the unit tier
def test_retry_after_forms() -> None:
    assert retry_after_seconds({"Retry-After": "7"}, b"", NOW) == 7
    later = format_datetime(NOW + timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds({"retry-after": later}, b"", NOW) == 30
    assert retry_after_seconds({"Retry-After": "soon"}, b"", NOW) is None
    assert retry_after_seconds({}, b'{"retry_after": 1.5, "global": false}', NOW) == 1.5
    assert retry_after_seconds({}, b"not json", NOW) is None


def test_a_malformed_url_fails_its_own_alert_and_blocks_no_other(
    db: Database, webhook_server: WebhookServer
) -> None:
    """Settings built in code skip the configuration check: the row to the bad URL fails, with
    the reason, and the good channel is delivered (it used to raise out of every pass)."""
    settings = alert_settings(webhook_server, discord_webhook="http://127.0.0.1:bad/d")
    trip(db, settings)
    assert Outbox(db, settings).drain(time.monotonic() + 10)
    found = rows(db)
    assert (found["slack"].status, found["discord"].status) == ("delivered", "failed")
    assert "cannot be used" in (found["discord"].last_error or "")
    assert [r.path for r in webhook_server.requests] == ["/slack"]


def test_the_worker_delivers_past_a_poison_row(db: Database, webhook_server: WebhookServer) -> None:
    settings = alert_settings(webhook_server, discord_webhook="http://[::1/x")
    worker = OutboxWorker(Outbox(db, settings), idle_poll=0.1).start()
    try:
        trip(db, settings)
        worker.poke()
        deadline = time.monotonic() + 10
        while not webhook_server.requests and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        assert worker.stop(flush_seconds=5)
    assert {c: r.status for c, r in rows(db).items()} == {"slack": "delivered", "discord": "failed"}


def test_an_attempt_that_raises_fails_only_its_row(
    db: Database, webhook_server: WebhookServer
) -> None:
    settings = alert_settings(webhook_server)

    def sender(url: str, *args: Any, **kwargs: Any) -> Any:
        if url.endswith("/discord"):
            raise RuntimeError("payload unreadable")
        return post(url, *args, **kwargs)

    trip(db, settings)
    assert Outbox(db, settings, sender=sender).deliver_due() == 2
    found = rows(db)
    assert found["slack"].status == "delivered"
    assert (found["discord"].status, found["discord"].attempts) == ("failed", 1)
    assert found["discord"].last_error == "could not be sent: RuntimeError: payload unreadable"


def test_a_trickling_webhook_delays_no_other_alert(
    db: Database, webhook_server: WebhookServer
) -> None:
    """One byte every 0.1 s keeps every read inside a 0.5 s read timeout; the attempt still ends
    at 0.5 s, and the other channel does not wait for it."""
    settings = alert_settings(webhook_server, backoff=30.0)
    webhook_server.path_default["/discord"] = trickle(0.1)
    trip(db, settings)
    started = time.monotonic()
    assert Outbox(db, settings).deliver_due() == 2
    assert time.monotonic() - started < 4.0
    found = rows(db)
    assert (found["slack"].status, found["slack"].attempts) == ("delivered", 1)
    assert (found["discord"].status, found["discord"].attempts) == ("pending", 1)
    assert "no complete answer within 0.5 s" in (found["discord"].last_error or "")


def test_drain_leaves_a_retry_due_after_its_window_queued_and_returns(
    db: Database, webhook_server: WebhookServer
) -> None:
    settings = alert_settings(webhook_server, discord_webhook=None)
    webhook_server.default = Reply(429, headers={"Retry-After": "120"})
    trip(db, settings)
    started = time.monotonic()
    assert not Outbox(db, settings).drain(started + 5)
    assert time.monotonic() - started < 2.0  # not sleeping out a window it cannot use
    row = rows(db)["slack"]
    assert (row.status, row.attempts, len(webhook_server.requests)) == ("pending", 1, 1)
    assert row.next_attempt_at - datetime.now(UTC) > timedelta(seconds=100)
